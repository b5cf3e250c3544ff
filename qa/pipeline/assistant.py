"""ask: expand query -> embed -> retrieve -> read -> extract -> cite, over one loaded index version."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa import stores
from qa.blocks import asked_next, ordinal, place_at, reading_context
from qa.cite import Citer
from qa.config import Settings
from qa.embed import Embedder, has_tokens
from qa.extract import SentenceExtractor, near_last_answer, rerank, without_repeats
from qa.pipeline import components
from qa.pipeline.build import BuildReport
from qa.read import SpanReader, windows_around
from qa.retrieve import Retriever, Turn, expand_query, subjects
from qa.stores import IndexMismatch, IndexProblem, IndexStore
from qa.tokens import TokenVectors
from qa.types import Article, Ranking, Reply, RetrievedPassage


@dataclass(frozen=True)
class _Engine:
    """Everything that answers from one index version; replaced whole, never mutated."""

    store: IndexStore
    retriever: Retriever
    extractor: SentenceExtractor
    citer: Citer

    def reading_context(self, article_id: str, offset: int) -> str:
        return reading_context(self.store.articles[article_id], offset)


class Assistant:
    """Answers questions from a built index. Thread-safe: ``ask`` reads one immutable engine."""

    def __init__(self, store: IndexStore, embedder: Embedder, settings: Settings, reader: SpanReader | None = None):
        if store.manifest.get("dimension") != embedder.dimension:
            raise IndexMismatch(
                f"the index has {store.manifest.get('dimension')}-dimensional vectors but the model "
                f"{embedder.name!r} makes {embedder.dimension}: rebuild with `{stores.rebuild_hint(settings.index)}`"
            )
        self.settings = settings
        self.embedder = embedder
        self.reader = reader
        self.last_build: BuildReport | None = None  # set by qa.build
        self._engine = self._make_engine(store)

    def _make_engine(self, store: IndexStore) -> _Engine:
        return _Engine(
            store=store,
            retriever=Retriever(store, fusion=self.settings.fusion, dense_weight=self.settings.dense_weight),
            extractor=SentenceExtractor(store, min_confidence=self.settings.min_confidence),
            citer=Citer({a.id: a.source for a in store.article_list},
                        {a.id: a.pages for a in store.article_list if a.pages}),
        )

    @classmethod
    def load(cls, settings: Settings, embedder: Embedder | None = None) -> Assistant:
        embedder = embedder or components.make_embedder(settings, serving=True)
        store = stores.load(Path(settings.index), model=embedder.name, milvus=components.milvus_target(settings))
        reader = components.make_reader(settings)
        if reader is not None:
            reader.load()  # export once per machine, and open it now rather than on the first question
        return cls(store, embedder, settings, reader)

    @property
    def store(self) -> IndexStore:
        return self._engine.store

    def reload_if_changed(self) -> bool:
        """Swap in the live index version if it changed on disk; requests in flight keep the old one.

        A version that fails to load (damaged, other model) is logged and ignored: the current
        engine keeps answering.
        """
        import logging

        live = stores.read_pointer(Path(self.settings.index))
        if live is None or live == self._engine.store.manifest.get("version"):
            return False
        try:
            store = stores.load(Path(self.settings.index), model=self.embedder.name,
                                   milvus=components.milvus_target(self.settings))
        except IndexProblem as error:
            logging.getLogger(__name__).error("not switching to index version %s: %s", live, error)
            return False
        if store.manifest.get("version") == self._engine.store.manifest.get("version"):
            return False  # the new version was damaged and load() fell back to the one we serve
        if store.manifest.get("dimension") != self.embedder.dimension:
            logging.getLogger(__name__).error("not switching to index version %s: wrong dimension", live)
            return False
        self._engine = self._make_engine(store)  # one reference assignment: atomic for readers
        logging.getLogger(__name__).warning("now serving index version %s", store.manifest["version"])
        return True

    def ask(self, question: str, history: Sequence[Turn | str | dict | tuple] = (), top_k: int | None = None,
            article_id: str | None = None) -> Reply:
        """Answer from the whole collection, or only from one article.

        ``history``: the earlier turns, oldest first, each a ``Turn``, a question string, a
        ``{"question", "answer"}`` dict or a ``(question, answer)`` pair; a follow-up such as "When was he
        born?" borrows its subject from them."""
        engine = self._engine  # one reference for the whole request, even if a swap happens meanwhile
        started = time.perf_counter()
        turns = as_turns(history)
        query = _next_place(engine, question, turns) or expand_query(question, turns)
        query_vector, query_tokens = self._embed_query(query)
        within = None if article_id else _conversation_article(engine, question, query, turns)
        if within is not None:
            # a follow-up is most likely about the document the conversation is on ("What is the last step?"
            # after a question about the hummus recipe); when that document does not say, the whole collection
            reply = self._answer(engine, question, query, query_vector, query_tokens, top_k, within, started, turns)
            if reply.answerable:
                return reply
        return self._answer(engine, question, query, query_vector, query_tokens, top_k, article_id, started, turns)

    def ask_many(self, questions: Sequence[str], top_k: int | None = None, workers: int | None = None) -> list[Reply]:
        """``ask`` for many questions (no history), faster: the questions are encoded in one batch, then
        answered on ``workers`` threads (default: one per core). Replies come in the questions' order."""
        from concurrent.futures import ThreadPoolExecutor

        engine = self._engine
        started = time.perf_counter()
        queries = [expand_query(q, ()) for q in questions]
        if has_tokens(self.embedder):
            vectors, tokens = self.embedder.encode_with_tokens(queries)
        else:
            vectors, tokens = self.embedder.encode(queries), [None] * len(queries)
        encoded = time.perf_counter()
        share = (encoded - started) / max(1, len(queries))  # each reply's total counts its share of the batch

        def one(i: int) -> Reply:
            return self._answer(engine, questions[i], queries[i], vectors[i], tokens[i], top_k, None,
                                time.perf_counter() - share)

        count = workers or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
        with ThreadPoolExecutor(max(1, count)) as pool:
            return list(pool.map(one, range(len(questions))))

    def _answer(self, engine: _Engine, question: str, query: str, query_vector, query_tokens, top_k: int | None,
                article_id: str | None, started: float, turns: Sequence[Turn] = ()) -> Reply:
        top_k = top_k or self.settings.top_k
        hits = engine.retriever.retrieve(query, query_vector, max(top_k, self.settings.rerank_pool), article_id,
                                         include=engine.extractor.lead_passages(query, article_id))
        retrieved = time.perf_counter()
        ranking = engine.extractor.rank(query, query_vector, hits, top_k, query_tokens)
        if turns:  # a follow-up asks for more than the last answer showed
            ranking = without_repeats(near_last_answer(ranking, question, turns[-1].answer), question,
                                      turns[-1].question, turns[-1].answer)
        ranked = time.perf_counter()
        readings, further = self._read(engine, query, ranking)
        read = time.perf_counter()
        extraction = engine.extractor.decide(query, ranking, readings, further)
        timings = {"retrieve": _ms(retrieved - started), "extract": _ms(ranked - retrieved + time.perf_counter() - read)}
        if self.reader is not None:
            timings["read"] = _ms(read - ranked)
        reply = engine.citer.cite(question, query, extraction, extraction.hits, timings)
        timings["total"] = _ms(time.perf_counter() - started)
        return reply

    def _read(self, engine: _Engine, query: str, ranking: Ranking) -> tuple[list, list]:
        """The reader's spans in the windows of the best sentences, and, when those hold no likely answer,
        in the windows of the next ``read_further`` sentences."""
        if self.reader is None:
            return [], []
        first, sentences = self.settings.read_windows, ranking.sentences
        windows = windows_around(sentences, first, context=engine.reading_context)
        readings = self.reader.read(query, windows, enough=engine.extractor.read_enough)
        further = []  # never after reading stopped early: a sure span is no reason to read further
        if (self.settings.read_further and len(sentences) > first
                and engine.extractor.reads_further(readings, ranking.confidence)):
            further = self.reader.read(query, windows_around(sentences[first:], self.settings.read_further,
                                                             context=engine.reading_context, already_read=windows))
        return readings, further

    def retrieve(self, question: str, top_k: int, history: Sequence[Turn] = (),
                 article_id: str | None = None) -> list[RetrievedPassage]:
        """The passages ``ask`` would show, best first (retrieval and the sentence reranking, no answer)."""
        engine = self._engine
        query = expand_query(question, history)
        query_vector, query_tokens = self._embed_query(query)
        candidates = engine.retriever.retrieve(query, query_vector, max(top_k, self.settings.rerank_pool), article_id,
                                               include=engine.extractor.lead_passages(query, article_id))
        hits = rerank(candidates, engine.extractor.score(query, query_vector, candidates, query_tokens), top_k)
        return [
            RetrievedPassage(passage_id=h.passage.id, article_id=h.passage.article_id, title=h.title,
                             start=h.passage.start, end=h.passage.end, text=h.passage.text, score=round(h.score, 4),
                             page=engine.citer.page(h.passage.article_id, h.passage.start))
            for h in hits
        ]

    def _embed_query(self, query: str) -> tuple[np.ndarray, TokenVectors | None]:
        """The query's vector, and its token vectors from the same forward pass where the embedder gives them."""
        if has_tokens(self.embedder):
            vectors, tokens = self.embedder.encode_with_tokens([query])
            return vectors[0], tokens[0]
        return self.embedder.encode([query])[0], None

    def article(self, article_id: str) -> Article | None:
        return self._engine.store.articles.get(article_id)

    def articles(self) -> list[dict]:
        store = self._engine.store
        return [
            {"id": a.id, "title": a.title, "source": a.source, "passages": len(store.passages_by_article.get(a.id, ()))}
            for a in store.article_list
        ]

    def library(self) -> dict:
        """What the library page shows: every article with its kind, pages, passages and file time, and the
        documents the last build skipped with their reasons."""
        import datetime

        store = self._engine.store
        corpus = Path(self.settings.corpus)
        rows = []
        for article in store.article_list:
            path = corpus / article.source.split("#", 1)[0]
            try:
                added = datetime.datetime.fromtimestamp(path.stat().st_mtime, datetime.timezone.utc)
            except OSError:
                added = None
            rows.append({"id": article.id, "title": article.title, "source": article.source,
                         "kind": Path(article.source.split("#", 1)[0]).suffix.lstrip(".").lower() or "text",
                         "pages": len(article.pages) if article.pages else None,
                         "passages": len(store.passages_by_article.get(article.id, ())),
                         "added": added.strftime("%Y-%m-%d %H:%M UTC") if added else None,
                         "removable": "#" not in article.source})
        return {"articles": rows, "skipped": [tuple(p) for p in store.manifest.get("skipped_files", [])],
                "index_version": store.manifest.get("version")}

    def health(self) -> dict:
        manifest = self._engine.store.manifest
        from qa._version import __version__

        return {
            "status": "ok",
            "version": __version__,
            "articles": manifest["articles"],
            "passages": manifest["passages"],
            "sentences": manifest["sentences"],
            "model": manifest["model"],
            "index_version": manifest["version"],
            "built_at": manifest["built_at"],
            "reader": self.reader.identity if self.reader is not None else None,
        }


def _quoted_at(engine: _Engine, answer: str, probe: str) -> tuple[Article, int] | None:
    """The article an answer quoted and where ``probe`` (its opening, at least 12 characters) stands in it, among
    the articles of the passages most like the answer; None if none holds it."""
    if len(probe) < 12:
        return None
    store = engine.store
    for row, _ in sorted(store.lexical_candidates(answer, 5).items(), key=lambda item: -item[1]):
        article = store.articles[store.passages[row].article_id]
        at = article.text.find(probe)
        if at >= 0:
            return article, at
    return None


def _conversation_article(engine: _Engine, question: str, query: str, turns: Sequence[Turn]) -> str | None:
    """The article the last answer quoted, when the follow-up ``question`` may be about it: it names nothing that
    article lacks, and no other document by its title ("What is fd?" after a question about ripgrep)."""
    answer = (turns[-1].answer or "").strip() if turns else ""
    found = _quoted_at(engine, answer, answer.split("\n", 1)[0][:80])
    if found is None:
        return None
    article, store = found[0], engine.store
    if any(store.article_list[row].id != article.id for row in engine.extractor.leads(query)):
        return None
    text = article.text.lower()
    return article.id if all(name.lower() in text for name in subjects(question)) else None


def _next_place(engine: _Engine, question: str, turns: Sequence[Turn]) -> str | None:
    """For "And the step after that?" (``qa.blocks.asked_next``), the question for the unit next to the one the last
    answer quoted, by its place: after "5. Wet hands and begin to stretch …", "What is the sixth step? (What do I do
    after adding the salt?)"; None when the last answer is not found at a numbered place of a document."""
    asked = asked_next(question)
    answer = (turns[-1].answer or "").strip() if turns else ""
    if asked is None or not answer:
        return None
    quoted = _CITATION.split(answer.split("\n", 1)[0], maxsplit=1)[0]
    quoted = _LIST_MARKER.sub("", quoted, count=1).strip()[:80]  # a client may show "5. Wet hands …" with its number
    found = _quoted_at(engine, answer, quoted)
    place = place_at(*found) if found else None
    if place is None or place[0] + asked[0] < 1:
        return None
    noun = asked[1] or place[1] or "step"
    return f"What is the {ordinal(place[0] + asked[0])} {noun}? ({turns[-1].question})"


_CITATION = re.compile(r"\s\[\d+\](?:\s|$)")  # "… the dough. [1] Then …": the reply's citation marks
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d{1,2}[.)])\s+")


def as_turns(history: Sequence[Turn | str | dict | tuple]) -> list[Turn]:
    """Earlier turns in any of the forms ``Assistant.ask`` takes, as ``Turn``s."""
    turns = []
    for item in history:
        if isinstance(item, Turn):
            turns.append(item)
        elif isinstance(item, str):
            turns.append(Turn(item))
        elif isinstance(item, dict):
            turns.append(Turn(str(item["question"]), item.get("answer")))
        else:
            question, answer = (tuple(item) + (None,))[:2]
            turns.append(Turn(str(question), answer))
    return turns


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def example_questions(store: IndexStore, limit: int = 4) -> list[str]:
    """A few questions a newcomer could ask, drawn from the corpus itself.

    "Who is X?" where a sentence introduces a person ("X (born ...)", "X is a ..."), "What is the Y?"
    for an acronym the text spells out, then "What is said about Z?" for the names mentioned most.
    """
    from collections import Counter

    from qa.retrieve import subjects

    introduced: list[str] = []
    acronyms: list[str] = []
    counts: Counter = Counter()
    person = re.compile(r"^((?:[A-Z][\w’'-]+\s){1,3}[A-Z][\w’'-]+)\s(?:\(born\b|is an?\b|was an?\b)")
    acronym = re.compile(r"\b(?:[A-Z][a-z]+\s){1,5}[A-Z][a-z]+\s\(([A-Z]{2,6})\)")
    for row in range(len(store.sentence_table)):
        article, start, end = store.sentence_text(row)
        sentence = article.text[start:end]
        match = person.match(sentence)
        if match and match.group(1) not in introduced:
            introduced.append(match.group(1))
        for found in acronym.finditer(sentence):
            if found.group(1) not in acronyms:
                acronyms.append(found.group(1))
        for name in subjects(sentence):
            if len(name) > 2:
                counts[name] += 1
    questions = [f"Who is {name}?" for name in introduced[:2]]
    questions += [f"What is the {short}?" for short in acronyms[:1]]
    taken = set(introduced) | set(acronyms)
    for name, count in counts.most_common():
        if len(questions) >= limit:
            break
        if count >= 2 and " " in name and not any(name in t or t in name for t in taken):
            questions.append(f"What is said about {name}?")
            taken.add(name)
    return questions[:limit]
