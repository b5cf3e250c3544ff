"""Question -> ranked Hits; follow-up questions borrow their subject from the history."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.stores import IndexStore
from qa.text import words
from qa.types import Hit


@dataclass(frozen=True, slots=True)
class Turn:
    question: str
    answer: str | None = None


_SUBJECT_PRONOUNS = {"he": "", "she": "", "they": "", "him": "", "her": "", "them": "",
                     "his": "'s", "hers": "'s", "their": "'s", "theirs": "'s"}
_OTHER_REFERENCES = {"it", "its", "this", "that", "these", "those"}
_ELLIPSIS_STARTS = ("and ", "what about ", "how about ", "and what", "also ", "what else")
_NOT_NAMES = frozenset(
    "What When Where Which Who Whom Whose Why How Did Does Do Is Was Are Were Can Could Would Should "
    "Will Tell Give List Name And But Or The A An In On Of At For To By From With About Please I If".split()
)
_POSSESSIVE = re.compile(r"[’']s?$")
_ASKS_FOR_A_THING = re.compile(r"^\s*(?:what|which)\b", re.I)
# "Who founded …?", "Who was elected …?", "Who is the editor?"; not "Who is Nikolai Patrushev?", whom it names
_ASKS_FOR_A_PERSON = re.compile(r"^\s*(?i:who)\b(?!\s+(?i:is|are|was|were)\s+[A-Z])")  # a capital as written
_CODE_SPAN = re.compile(r"`([^`\n]{2,40})`")
_CAPITALISED = re.compile(r"[A-Z][\w’'.-]*(?:\s+(?:of|the|de|von|van|al|bin|del|la|[A-Z][\w’'.-]*))*")


def subjects(text: str) -> list[str]:
    """Capitalised name phrases in a question or answer ('Nikolai Patrushev', 'the CSTO')."""
    found = []
    for match in _CAPITALISED.finditer(text):
        tokens = match.group(0).rstrip(".").split()
        while tokens and tokens[0] in _NOT_NAMES:
            tokens = tokens[1:]
        while tokens and tokens[-1].lower() in {"of", "the", "de", "von", "van", "al", "bin", "del", "la"}:
            tokens = tokens[:-1]
        if tokens:
            phrase = _POSSESSIVE.sub("", " ".join(tokens))  # "Hyder’s" is Hyder, "Requests" stays Requests
            if phrase and phrase not in found:
                found.append(phrase)
    return found


def expand_query(question: str, history: Sequence[Turn] = ()) -> str:
    """The retrieval query: the question itself, or, for a follow-up, the question with its subject.

    "When was he born?" after "Who is Nikolai Patrushev?" becomes "When was Nikolai Patrushev born?";
    a fragment ("And the CSTO?") takes the last question along. Self-contained questions are returned
    unchanged.
    """
    if not history:
        return question
    tokens = words(question)
    lowered = question.strip().lower()
    personal = [t for t in tokens if t in _SUBJECT_PRONOUNS]
    referring = personal or [t for t in tokens if t in _OTHER_REFERENCES]
    content = [t for t in tokens if t not in _SUBJECT_PRONOUNS and t not in _OTHER_REFERENCES]
    elliptical = lowered.startswith(_ELLIPSIS_STARTS) or len(content) <= 1
    if not referring and not elliptical:
        return question
    if not referring:
        # "And on Windows?" after "How do I install rustup on Linux?": the fragment swaps one part of the
        # last question and keeps the rest, which its names alone ("Linux") would lose
        # (through at most the three last turns, so the query stays short)
        last_question = expand_query(history[-1].question, history[-3:-1])
        return swap_part(question, last_question) or f"{question} ({last_question})"
    fragment = _FRAGMENT.fullmatch(question)
    if fragment and fragment.group("part").split()[0].lower() in _POSSESSIVE_DETERMINERS:
        # "And its area?" asks what "What is its area?" asks, and the reader and the structure rules read questions
        part = fragment.group("part")
        question = f"What {'are' if _PLURAL.search(part) else 'is'} {part}?"
    names: list[str] = []
    for at in reversed(range(len(history))):
        # a turn that was itself a follow-up counts as expanded: "How do I update it?" after "How do I install
        # Rust on Linux?" and "And on Windows?" is about Rust, not about Windows alone
        turn = history[at]
        asked = expand_query(turn.question, history[max(0, at - 2) : at]) if at else turn.question
        names = subjects(asked) or _answer_subjects(turn.answer or "")[:2]
        if names:
            break
    last = history[-1]
    if personal and last.answer and _ASKS_FOR_A_PERSON.match(last.question):
        # "Where did she move the club?" after "Who was elected president of the Arts Club in 1918?": she is the
        # person the answer named, not the club; names sharing a word with the question's are its subject again
        # ("the Toronto Daily Star" of "Who founded the Toronto Star?")
        asked = {word.lower() for name in subjects(last.question) for word in name.split()}
        people = [name for name in answer_names(last.answer, last.question)
                  if not asked & {word.lower() for word in name.split()}]
        names = people[:2] or names
    if not personal and last.answer and _ASKS_FOR_A_THING.match(last.question):
        # "What is the capital of Bhutan?" then "What does its name mean?": "its" may be the capital the
        # answer named as well as Bhutan, so the answer's own names join the question's
        names = names + [n for n in answer_names(last.answer, last.question) if n not in names][:2]
    if not names:
        return f"{question} ({_last_self_contained(history)})"
    if personal and len(names) == 1:
        pronoun = re.compile(r"\b(" + "|".join(_SUBJECT_PRONOUNS) + r")\b", re.I)
        match = pronoun.search(question)
        if match:
            suffix = _SUBJECT_PRONOUNS[match.group(1).lower()]
            return question[: match.start()] + names[0] + suffix + question[match.end() :]
    return f"{question} ({', '.join(names)})"


def _last_self_contained(history: Sequence[Turn]) -> str:
    """The last question of the history that asked without borrowing: "Does it respect .gitignore?" after "What is
    fd?" and "How do I install it?" is about what the first asked, which the second only borrowed."""
    for at in reversed(range(max(0, len(history) - 3), len(history))):
        asked = history[at].question
        if expand_query(asked, history[max(0, at - 2) : at]) == asked:
            return asked
    return history[-1].question


_POSSESSIVE_DETERMINERS = frozenset("its their his her".split())
_PLURAL = re.compile(r"[^s]s$", re.I)  # "their languages", not "its address"
_FRAGMENT = re.compile(r"\s*(?:and|what about|how about)\s+(?P<part>[^?]+?)\s*[?.]*\s*", re.I)
_PREPOSITIONS = frozenset("on in at for with from to by under during before after into inside within".split())
_DETERMINERS = r"(?:(?:the|a|an|this|that|its|their|his|her)\s+)?"
# "if I'm on", "when we use", "if you are running": the condition a fragment states, around what it swaps in
_CONDITION = re.compile(r"^(?:if|when)\s+(?:i|you|we|they)(?:['’](?:m|re)|\s+am|\s+are)?\s+"
                        r"(?:(?:using|running|use|run|have|want)\s+)?", re.I)
_BARE_NAME = re.compile(r"[\w.+-]*[A-Z][\w.+-]*")


def swap_part(fragment: str, question: str) -> str | None:
    """The last question with the part a fragment replaces, if one can be told: "And on Windows?" swaps the
    phrase after the same preposition ("How do I install rustup on Linux?" -> "… on Windows?"), "What about the
    third level?" the phrase ending in the same noun ("What happens at the second level?"), and a bare name the
    name after the last preposition ("What about FreeBSD?" after "… on macOS?"). None otherwise."""
    match = _FRAGMENT.fullmatch(fragment)
    if match is None:
        return None
    part = _CONDITION.sub("", match.group("part").strip())  # "And if I'm on NetBSD?" swaps in what "on NetBSD" does
    if not part:
        return None
    first, last = part.split()[0].lower(), part.split()[-1].lower()
    if first in _PREPOSITIONS:
        if " " not in part:  # "And on?": no object to swap in
            return None
        spans = [m.span() for m in re.finditer(rf"\b{first}\s+[^?.!,;()]+", question, re.I)]
        bare = part.split(maxsplit=1)[1]
        if not spans and _BARE_NAME.fullmatch(bare):  # "on NetBSD" of "Can I get ripgrep from Debian?": the name
            named = _name_spans(question)
            if named:
                part, spans = bare, named
        if not spans and first in ("for", "about"):
            # "And for a class?" after "What should a function's docstring document?": what the question is
            # about is its possessor, or the object of its "of" ("What is the capital of Bhutan?")
            thing = part.split(maxsplit=1)[1]
            owner = re.search(r"\b(?:(?i:the|a|an|this|that|its|their|his|her)\s+(?:[\w-]+\s+){0,2}?[\w-]+"
                              r"|[A-Z][\w-]*(?:\s+[A-Z][\w-]*)*)(?=['’]s\b)", question)
            if owner:
                return question[: owner.start()] + thing + question[owner.end() :]
            part = f"of {thing}"
            spans = [m.span() for m in re.finditer(r"\bof\s+[^?.!,;()]+", question, re.I)]
    else:
        spans = [m.span() for m in re.finditer(rf"\b{_DETERMINERS}(?:[\w-]+\s+){{0,2}}{re.escape(last)}s?\b",
                                                question, re.I)]
        if not spans and _BARE_NAME.fullmatch(part):  # a bare name for the last preposition's object
            spans = _name_spans(question)
    if not spans:
        return None
    start, end = spans[-1]
    swapped = question[:start] + part + question[end:]
    return swapped if swapped != question else None


def _name_spans(question: str) -> list[tuple[int, int]]:
    """Where the question names something after a preposition: "macOS" of "… on macOS?", "Debian" of "… from the
    regular Debian stable repositories?"."""
    return [m.span(1) for m in re.finditer(rf"\b(?:{'|'.join(_PREPOSITIONS)})\s+(?:(?:the|a|an|my|our|your)\s+)?"
                                            r"(?:[a-z]+\s+){0,2}?([\w.+-]*[A-Z][\w.+-]*)", question)]


def _answer_subjects(answer: str) -> list[str]:
    """``subjects`` of an answer, less a lone capitalised word that only opens it ("According to ...") and code
    ("set the default to `None`": a value, not what the conversation is about)."""
    opening = answer.lstrip()
    prose = _CODE_SPAN.sub(" ", answer)
    return [name for name in subjects(prose) if " " in name or not opening.startswith(name)]


def answer_names(answer: str, question: str) -> list[str]:
    """Names an answer adds to its question: capitalised phrases and `code` the question lacks.

    A capitalised first word is only the sentence's ("Major urban areas …"), unless more follows it.
    """
    asked = question.lower()
    found = [name for name in _answer_subjects(answer) if name.lower() not in asked]
    code = [m.group(1) for m in _CODE_SPAN.finditer(answer) if m.group(1).lower() not in asked]
    return list(dict.fromkeys(code + found))


FUSIONS = ("weighted", "rrf", "dense", "bm25")


class Retriever:
    """Hybrid retrieval over passages: dense similarity and BM25, fused into one ranking.

    Candidates come from three searches (passage vectors, sentence vectors, BM25); each candidate
    then gets exact scores: the cosine of its passage vector, the cosine of its best sentence, and
    its BM25 score divided by the query's best. ``weighted`` (default) mixes them, the dense weight
    split ``1 - sentence_share`` : ``sentence_share`` between passage and best sentence; ``rrf`` is reciprocal-rank fusion of the dense
    and BM25 rankings; ``dense`` and ``bm25`` use one side alone.
    """

    # Weights chosen on SQuAD v1.1 dev articles 1–24 (bench/RESULTS.md): passage .21, sentence .49, BM25 .30.
    def __init__(self, store: IndexStore, fusion: str = "weighted", dense_weight: float = 0.7,
                 sentence_share: float = 0.7, candidates: int = 100, rrf_k: int = 60):
        if fusion not in FUSIONS:
            raise ValueError(f"unknown fusion {fusion!r}: choose one of {', '.join(FUSIONS)}")
        self.store = store
        self.fusion = fusion
        self.dense_weight = dense_weight
        self.sentence_share = sentence_share
        self.candidates = candidates
        self.rrf_k = rrf_k
        self._sentence_ranges: np.ndarray | None = None  # (start, end) sentence rows per passage, built on first use

    def retrieve(self, query: str, query_vector: np.ndarray, top_k: int, article_id: str | None = None,
                 include: Sequence[int] = ()) -> list[Hit]:
        """The top_k passages for the query, optionally only within one article; the passage rows ``include``
        are scored too and follow them when they did not rank among them."""
        store = self.store
        pool = max(self.candidates, top_k)
        query_vector = np.asarray(query_vector, dtype=np.float32)
        rows: set[int] = set()
        native: dict[int, float] = {}
        engine_fuses = self.fusion == "rrf" and store.native_hybrid
        if engine_fuses:
            native = dict(store.hybrid_candidates(query, query_vector, pool, article_id))
            rows.update(native)
        elif self.fusion != "bm25":
            rows.update(r for r, _ in store.dense_candidates(query_vector, pool, article_id))
            if store.sentence_search is not None and article_id is None:
                found = store.sentence_search.search(query_vector.reshape(1, -1), pool)[0]
                rows.update(int(store.sentence_passage[r]) for r, _ in found)
        rows.update(include)
        lexical: dict[int, float] = {}
        if self.fusion != "dense" and not engine_fuses:
            raw = store.lexical_candidates(query, pool, article_id)
            best = max(raw.values(), default=0.0)
            lexical = {r: score / best for r, score in raw.items()} if best > 0 else {}
            rows.update(lexical)
        ordered = sorted(rows)
        passage_cosine = dict(zip(ordered, store.passage_similarity(query_vector, ordered).tolist()))
        sentence_cosine = dict(zip(ordered, self._best_sentence_cosines(ordered, query_vector).tolist()))
        share = self.sentence_share
        dense = {r: (1 - share) * passage_cosine[r] + share * sentence_cosine[r] for r in ordered}
        fused = native or self._fuse(dense, lexical, ordered)
        ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:top_k]
        shown = {row for row, _ in ranked}
        ranked += [(row, fused.get(row, 0.0)) for row in dict.fromkeys(include) if row not in shown]
        return [
            Hit(passage=store.passages[row], title=store.articles[store.passages[row].article_id].title,
                score=score, rank=rank, dense=dense[row], lexical=lexical.get(row, 0.0))
            for rank, (row, score) in enumerate(ranked)
        ]

    def _best_sentence_cosines(self, rows: list[int], query_vector: np.ndarray) -> np.ndarray:
        """For each passage row, the cosine of its best sentence: one gather and one matmul for all."""
        if not rows:
            return np.zeros(0, dtype=np.float32)
        if self._sentence_ranges is None:
            self._sentence_ranges = np.asarray(self.store.passage_rows, dtype=np.int64).reshape(-1, 2)
        ranges = self._sentence_ranges[np.asarray(rows, dtype=np.int64)]
        lengths = ranges[:, 1] - ranges[:, 0]
        starts = np.cumsum(lengths) - lengths
        sentence_rows = np.repeat(ranges[:, 0] - starts, lengths) + np.arange(int(lengths.sum()))
        return np.maximum.reduceat(self.store.sentence_vectors[sentence_rows] @ query_vector, starts)

    def _fuse(self, dense: dict[int, float], lexical: dict[int, float], rows: list[int]) -> dict[int, float]:
        if self.fusion == "dense":
            return dense
        if self.fusion == "bm25":
            return lexical
        if self.fusion == "rrf":
            dense_rank = {r: i for i, r in enumerate(sorted(rows, key=lambda r: -dense[r]))}
            lexical_rank = {r: i for i, r in enumerate(sorted(lexical, key=lambda r: -lexical[r]))}
            return {r: 1 / (self.rrf_k + dense_rank[r])
                    + (1 / (self.rrf_k + lexical_rank[r]) if r in lexical_rank else 0.0) for r in rows}
        w = self.dense_weight
        return {r: w * dense[r] + (1 - w) * lexical.get(r, 0.0) for r in rows}
