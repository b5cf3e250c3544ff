"""Question -> ranked Hits; follow-up questions borrow their subject from the history."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.index import IndexStore
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
    "Will Tell Give List Name And But Or The A An In On Of At For To By From With About Please".split()
)
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
            phrase = " ".join(tokens).rstrip("’'s").rstrip("’'")
            if phrase and phrase not in found:
                found.append(phrase)
    return found


def expand_query(question: str, history: Sequence[Turn] = ()) -> str:
    """The retrieval query: the question itself, or, for a follow-up, the question with its subject.

    "When was he born?" after "Who is Nikolai Patrushev?" becomes "When was Nikolai Patrushev born?".
    Self-contained questions are returned unchanged.
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
    names: list[str] = []
    for turn in reversed(history):
        names = subjects(turn.question) or subjects(turn.answer or "")[:2]
        if names:
            break
    if not names:
        previous = history[-1].question
        return f"{question} ({previous})"
    if personal and len(names) == 1:
        pronoun = re.compile(r"\b(" + "|".join(_SUBJECT_PRONOUNS) + r")\b", re.I)
        match = pronoun.search(question)
        if match:
            suffix = _SUBJECT_PRONOUNS[match.group(1).lower()]
            return question[: match.start()] + names[0] + suffix + question[match.end() :]
    return f"{question} ({', '.join(names)})"


class Retriever:
    """Dense retrieval: the query vector against every passage vector (exact inner product)."""

    def __init__(self, store: IndexStore):
        self.store = store

    def retrieve(self, query_vector: np.ndarray, top_k: int) -> list[Hit]:
        results = self.store.passage_search.search(query_vector.reshape(1, -1), top_k)[0]
        hits = []
        for rank, (row, score) in enumerate(results):
            passage = self.store.passages[row]
            title = self.store.articles[passage.article_id].title
            hits.append(Hit(passage=passage, title=title, score=score, rank=rank, dense=score))
        return hits
