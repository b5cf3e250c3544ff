"""The only module that knows the order of the stages.

build:  ingest -> chunk -> embed -> index (a new version, made live atomically)
ask:    expand query -> embed -> retrieve -> extract -> cite
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
import re
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa import stores
from qa.chunk import Chunker, content_hash, embedding_text, section_title
from qa.cite import Citer
from qa.config import Settings
from qa.embed import Embedder, ModelNotFound, has_tokens, make_sentence_embedder, progress_bar
from qa.extract import SentenceExtractor, rerank
from qa.stores import IndexData, IndexMismatch, IndexMissing, IndexProblem, IndexStore  # noqa: F401 (re-exported)
from qa.documents import DOCUMENT_SUFFIXES, sniff
from qa.ingest import SUFFIXES as INGEST_SUFFIXES
from qa.ingest import CorpusError, Ingestor
from qa.read import READER_DIR, ReaderUnavailable, SpanReader, windows_around
from qa.retrieve import Retriever, Turn, expand_query
from qa.tokens import DIMENSIONS, SAMPLE_TOKENS, SentenceTokens, TokenBasis, TokenVectors
from qa.types import Article, Reply, RetrievedPassage

__all__ = ["Assistant", "BuildReport", "CorpusError", "IndexMismatch", "IndexMissing", "IndexProblem",
           "ModelNotFound", "ReaderUnavailable", "RebuildRunning", "Reindexer", "Turn", "build_index", "make_embedder",
           "make_reader"]


class RebuildRunning(RuntimeError):
    pass


def make_reader(settings: Settings) -> SpanReader | None:
    """The configured reader (QA_READER), or None when it is off."""
    if settings.reader == "off" or settings.read_windows == 0:
        return None
    return SpanReader(READER_DIR if settings.reader == "bundled" else Path(settings.reader))


def reader_identity(settings: Settings) -> dict | None:
    """What the index manifest records about the reader configured at build time."""
    reader = make_reader(settings)
    return reader.identity if reader is not None else None


def make_embedder(settings: Settings, serving: bool = False) -> Embedder:
    """The configured embedder; ``serving`` picks thread settings for many short queries."""
    threads = settings.torch_threads if settings.torch_threads >= 0 else (1 if serving else 0)
    return make_sentence_embedder(settings.model, batch_size=settings.batch_size, backend=settings.backend,
                                  threads=threads)


@dataclass
class BuildReport:
    version: str = ""
    articles: int = 0
    passages: int = 0
    sentences: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    embedded: int = 0
    reused: int = 0
    seconds: float = 0.0
    skipped: dict[str, int] = field(default_factory=dict)
    up_to_date: bool = False
    parsed: int = 0  # PDF and DOCX files parsed; the others' text came from the cache
    problems: list[tuple[str, str]] = field(default_factory=list)  # (file, why it was skipped) for documents

    def summary(self) -> str:
        if self.up_to_date:
            return (f"Index {self.version} is up to date: {self.articles} articles, {self.passages} passages, "
                    f"nothing changed ({self.seconds:.1f} s)")
        lines = [
            f"Index {self.version}: {self.articles} articles, {self.passages} passages, {self.sentences} sentences",
            f"  articles: {self.added} added, {self.changed} changed, {self.removed} removed, {self.unchanged} unchanged",
            f"  texts embedded: {self.embedded}, reused from the previous index: {self.reused}",
        ]
        if self.parsed:
            lines.append(f"  PDF/DOCX files parsed: {self.parsed} (unchanged ones are read from the cache)")
        if self.skipped:
            lines.append("  skipped files: " + ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items())))
        lines.append(f"  took {self.seconds:.1f} s")
        return "\n".join(lines)


@contextmanager
def rebuild_lock(index_dir: Path, wait: bool = False):
    """One rebuild at a time per index folder (an advisory lock the kernel drops if we die)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise RebuildRunning(
                f"a rebuild of {str(index_dir)!r} is already running; wait for it (or use --wait)"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_index(
    settings: Settings,
    embedder: Embedder | None = None,
    *,
    full: bool = False,
    progress: bool = False,
    wait: bool = False,
    on_stage: Callable[[str], None] = lambda message: None,
    on_progress: Callable[[str, int, int], None] = lambda stage, done, total: None,
) -> BuildReport:
    """Build a new index version from the corpus and make it live; reuse unchanged vectors.

    ``on_stage`` hears each stage as it starts; ``on_progress`` (stage, done, total) the texts embedded."""
    started = time.perf_counter()
    embedder = embedder or make_embedder(settings)
    index_dir = Path(settings.index)
    with rebuild_lock(index_dir, wait=wait):
        on_stage(f"Reading {settings.corpus}")
        # PDF and DOCX text is cached by content hash beside the versions: an unchanged document is not parsed again.
        ingested = Ingestor(max_file_bytes=settings.max_file_bytes,
                            document_cache=index_dir / "documents").read(Path(settings.corpus))
        articles = ingested.articles
        if not articles:
            skipped = f" ({ingested.skipped_total} files skipped)" if ingested.skipped_total else ""
            raise CorpusError(f"no articles found in {str(settings.corpus)!r}{skipped}: add .txt, .md, .html, .jsonl, .pdf or .docx files")
        live = _live_store(index_dir, settings)
        previous = live if live is not None and live.model == embedder.name and not full else None

        on_stage(f"Splitting {len(articles)} articles into passages")
        chunker = Chunker(max_tokens=embedder.max_tokens, count_tokens=embedder.count_tokens)
        signature = chunker.signature(embedder.name)
        # Unchanged articles keep their sentences and passages: splitting is the slow part of a rebuild.
        chunks = _previous_chunks(live) if live is not None and not full and live.manifest.get("chunker") == signature else {}
        passages, passage_rows, table = [], [], []
        for article_row, article in enumerate(articles):
            cached = chunks.get(article.id)
            if cached is not None and cached[0] == article.text:
                spans, article_passages = cached[1], cached[2]
            else:
                spans = chunker.split_sentences(article)
                article_passages = chunker.chunk(article, spans)
            first_row = len(table)
            row_of = {(s.start, s.end): first_row + i for i, s in enumerate(spans)}
            table.extend((article_row, s.start, s.end) for s in spans)
            for passage in article_passages:
                passages.append(passage)
                passage_rows.append((row_of[passage.sentences[0].start, passage.sentences[0].end],
                                     row_of[passage.sentences[-1].start, passage.sentences[-1].end] + 1))
        sentence_table = np.asarray(table, dtype=np.int64).reshape(-1, 3)
        sentence_texts = [embedding_text(section_title(articles[a], s), articles[a].text[s:e]) for a, s, e in table]

        if (previous is not None and not full and live.manifest.get("chunker") == signature
                and live.manifest.get("store", {}).get("type", "faiss") == settings.store
                and stores.TITLED in live.manifest and stores.SECTIONED in live.manifest
                and (live.tokens is not None or not has_tokens(embedder))  # an index from before token vectors
                and live.manifest.get("corpus_fingerprint") == stores.corpus_fingerprint(articles)
                and [(a.title, a.source, a.url, a.date, a.pages) for a in live.article_list]
                == [(a.title, a.source, a.url, a.date, a.pages) for a in articles]):
            # Nothing changed: keep serving the live version rather than writing an identical one.
            report = BuildReport(version=live.manifest["version"], articles=len(articles), passages=len(passages),
                                 sentences=len(table), unchanged=len(articles), reused=len(passages) + len(table),
                                 skipped=dict(ingested.skipped), up_to_date=True,
                                 parsed=ingested.parsed, problems=list(ingested.problems))
            report.seconds = time.perf_counter() - started
            return report
        cache = _VectorCache.from_store(previous)
        cache.on_progress = on_progress
        by_id = {a.id: a for a in articles}
        documents = [embedding_text(section_title(by_id[p.article_id], p.start), p.text) for p in passages]
        passage_vectors, p_new, p_reused = cache.vectors(documents, embedder, progress, "Embedding passages")
        if has_tokens(embedder):
            title_lengths = [len(embedding_text(section_title(articles[a], s), "")) for a, s, _ in table]
            sentence_vectors, tokens, s_new, s_reused = cache.vectors_and_tokens(
                sentence_texts, title_lengths, embedder, progress, "Embedding sentences")
        else:
            sentence_vectors, s_new, s_reused = cache.vectors(sentence_texts, embedder, progress, "Embedding sentences")
            tokens = None

        report = BuildReport(articles=len(articles), passages=len(passages), sentences=len(table),
                             embedded=p_new + s_new, reused=p_reused + s_reused, skipped=dict(ingested.skipped),
                             parsed=ingested.parsed, problems=list(ingested.problems))
        _diff_articles(report, live, articles)
        on_stage("Writing the index")
        data = IndexData(tuple(articles), tuple(passages), tuple(passage_rows), sentence_table,
                         passage_vectors, sentence_vectors, embedder.name, extra_manifest={"chunker": signature, "reader": reader_identity(settings),
                                         "skipped_files": [list(problem) for problem in ingested.problems]},
                         index_spec=stores.VectorIndexSpec(
                             kind=settings.index_type, flat_max=settings.flat_max, hnsw_m=settings.hnsw_m,
                             ef_search=settings.ef_search, ivf_lists=settings.ivf_lists, nprobe=settings.nprobe,
                             pq_refine=settings.pq_refine),
                         tokens=tokens)
        report.version = stores.write_version(index_dir, data, milvus=milvus_target(settings))
    report.seconds = time.perf_counter() - started
    return report


def _previous_chunks(store: IndexStore) -> dict[str, tuple[str, list, list]]:
    """article id -> (text, sentence spans, passages) from an existing index version."""
    from qa.types import Span

    spans: dict[str, list] = {}
    for article_row, start, end in store.sentence_table.tolist():
        spans.setdefault(store.article_list[article_row].id, []).append(Span(start, end))
    return {
        article.id: (article.text, spans.get(article.id, []),
                     [store.passages[row] for row in store.passages_by_article.get(article.id, [])])
        for article in store.article_list
    }


def _live_store(index_dir: Path, settings: Settings) -> IndexStore | None:
    from qa.stores.milvus import MilvusTarget

    try:
        # Whatever store the live version uses, its vectors can be reused by the new one.
        return stores.load(index_dir, milvus=MilvusTarget.from_settings(settings))
    except IndexProblem:
        return None


def milvus_target(settings: Settings):
    """Where passages go with QA_STORE=milvus; None for the embedded FAISS + BM25 index."""
    if settings.store != "milvus":
        return None
    from qa.stores.milvus import MilvusTarget

    return MilvusTarget.from_settings(settings)


class _VectorCache:
    """Vectors (and sentences' token vectors) of texts already embedded by the previous version, keyed
    by content hash."""

    def __init__(self, known: dict[str, np.ndarray], known_tokens: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
                 basis: TokenBasis | None = None):
        self.known = known
        self.previous = frozenset(known)
        self.known_tokens = known_tokens or {}  # hash -> (int8 vectors in ``basis``, ids)
        self.basis = basis
        self.on_progress: Callable[[str, int, int], None] = lambda stage, done, total: None

    @classmethod
    def from_store(cls, store: IndexStore | None) -> _VectorCache:
        if store is None:
            return cls({})
        known, known_tokens = {}, {}
        tokens = store.tokens
        titled = stores.TITLED in store.manifest  # older versions embedded the text alone
        # ... and before section paths, the article's title alone: those vectors are reused for texts
        # whose section title is the plain title (every text of a non-Markdown article).
        title_of = section_title if stores.SECTIONED in store.manifest else (lambda article, offset: article.title)
        for passage, vector in zip(store.passages, store.passage_vectors()):
            title = title_of(store.articles[passage.article_id], passage.start)
            known[content_hash(embedding_text(title, passage.text) if titled else passage.text)] = vector
        for row, vector in enumerate(store.sentence_vectors):
            article, start, end = store.sentence_text(row)
            text = article.text[start:end]
            key = content_hash(embedding_text(title_of(article, start), text) if titled else text)
            known[key] = vector
            if tokens is not None and titled:
                lo, hi = tokens.offsets[row], tokens.offsets[row + 1]
                known_tokens[key] = (tokens.vectors[lo:hi], tokens.ids[lo:hi])
        return cls(known, known_tokens, tokens.basis if tokens is not None else None)

    def vectors_and_tokens(self, texts: list[str], skip_chars: list[int], embedder, progress: bool,
                           desc: str) -> tuple[np.ndarray, SentenceTokens, int, int]:
        """As ``vectors``, with each text's token vectors (from the same forward pass), quantised in one
        basis: the previous version's, or one fitted on an even sample of the texts, embedded first."""
        hashes = [content_hash(t) for t in texts]
        missing = sorted({h: i for i, h in enumerate(hashes)
                          if h not in self.known or h not in self.known_tokens}.values())

        def embed(indices: list[int], advance, fit: bool = False) -> None:
            vectors, tokens = embedder.encode_with_tokens([texts[i] for i in indices], [skip_chars[i] for i in indices])
            if fit:
                sample = np.concatenate([t.vectors for t in tokens] or [np.zeros((0, vectors.shape[1]), np.float32)])
                self.basis = TokenBasis.fit(sample[:SAMPLE_TOKENS])
            for i, vector, found in zip(indices, vectors, tokens):
                self.known[hashes[i]] = vector
                self.known_tokens[hashes[i]] = (self.basis.quantise(found.vectors), found.ids)
            advance(len(indices))
            done[0] += len(indices)
            self.on_progress(desc, done[0], len(missing))

        done = [0]
        with progress_bar(len(missing), desc, progress) as advance:
            rest = missing
            if self.basis is None and missing:
                # About 30 tokens a sentence: enough sentences, spread over the corpus, for the sample.
                step = max(1, len(missing) * 30 // SAMPLE_TOKENS)
                sample = missing[::step]
                embed(sample, advance, fit=True)
                rest = [i for i in missing if hashes[i] not in self.known_tokens]
            for start in range(0, len(rest), 1024):  # bounded memory: float token vectors live per slice
                embed(rest[start : start + 1024], advance)
        embedded_now = {hashes[i] for i in missing}  # re-embedded for their tokens: not reused
        reused = sum(1 for h in hashes if h in self.previous and h not in embedded_now)
        dimension = embedder.dimension
        vectors = (np.vstack([self.known[h] for h in hashes]).astype(np.float32) if texts
                   else np.zeros((0, dimension), np.float32))
        token_parts = [self.known_tokens[h] for h in hashes]
        lengths = [len(ids) for _, ids in token_parts]
        basis = self.basis or TokenBasis(np.zeros(dimension, np.float32), np.zeros((dimension, DIMENSIONS), np.float32))
        tokens = SentenceTokens(
            basis,
            np.concatenate([v for v, _ in token_parts]) if token_parts else np.zeros((0, DIMENSIONS), np.int8),
            np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            np.concatenate([ids for _, ids in token_parts]).astype(np.int32) if token_parts else np.zeros(0, np.int32))
        return vectors, tokens, len(missing), reused

    def vectors(self, texts: list[str], embedder: Embedder, progress: bool, desc: str) -> tuple[np.ndarray, int, int]:
        """Vectors for ``texts``, how many were embedded now, how many came from the previous index."""
        hashes = [content_hash(t) for t in texts]
        missing = sorted({h: i for i, h in enumerate(hashes) if h not in self.known}.values())
        with progress_bar(len(missing), desc, progress) as advance:
            # in slices, to report progress (padding is masked: a text's vector does not depend on its slice)
            for start in range(0, len(missing), 1024):
                part = missing[start : start + 1024]
                for i, vector in zip(part, embedder.encode([texts[i] for i in part])):
                    self.known[hashes[i]] = vector
                advance(len(part))
                self.on_progress(desc, start + len(part), len(missing))
        if not texts:
            return np.zeros((0, embedder.dimension), np.float32), 0, 0
        reused = sum(1 for h in hashes if h in self.previous)
        return np.vstack([self.known[h] for h in hashes]).astype(np.float32), len(missing), reused


def _diff_articles(report: BuildReport, previous: IndexStore | None, articles: Sequence[Article]) -> None:
    before = {a.id: a.text for a in previous.article_list} if previous else {}
    now = {a.id: a.text for a in articles}
    report.added = sum(1 for i in now if i not in before)
    report.removed = sum(1 for i in before if i not in now)
    report.changed = sum(1 for i in now if i in before and before[i] != now[i])
    report.unchanged = sum(1 for i in now if i in before and before[i] == now[i])


@dataclass(frozen=True)
class _Engine:
    """Everything that answers from one index version; replaced whole, never mutated."""

    store: IndexStore
    retriever: Retriever
    extractor: SentenceExtractor
    citer: Citer


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
        embedder = embedder or make_embedder(settings, serving=True)
        store = stores.load(Path(settings.index), model=embedder.name, milvus=milvus_target(settings))
        reader = make_reader(settings)
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
                                   milvus=milvus_target(self.settings))
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
        query = expand_query(question, as_turns(history))
        query_vector, query_tokens = self._embed_query(query)
        return self._answer(engine, question, query, query_vector, query_tokens, top_k, article_id, started)

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
                article_id: str | None, started: float) -> Reply:
        top_k = top_k or self.settings.top_k
        hits = engine.retriever.retrieve(query, query_vector, max(top_k, self.settings.rerank_pool), article_id)
        retrieved = time.perf_counter()
        ranking = engine.extractor.rank(query, query_vector, hits, top_k, query_tokens)
        ranked = time.perf_counter()
        readings = (self.reader.read(query, windows_around(ranking.sentences, self.settings.read_windows))
                    if self.reader is not None else ())
        read = time.perf_counter()
        extraction = engine.extractor.decide(query, ranking, readings)
        timings = {"retrieve": _ms(retrieved - started), "extract": _ms(ranked - retrieved + time.perf_counter() - read)}
        if self.reader is not None:
            timings["read"] = _ms(read - ranked)
        reply = engine.citer.cite(question, query, extraction, extraction.hits, timings)
        timings["total"] = _ms(time.perf_counter() - started)
        return reply

    def retrieve(self, question: str, top_k: int, history: Sequence[Turn] = (),
                 article_id: str | None = None) -> list[RetrievedPassage]:
        """The passages ``ask`` would show, best first (retrieval and the sentence reranking, no answer)."""
        engine = self._engine
        query = expand_query(question, history)
        query_vector, query_tokens = self._embed_query(query)
        candidates = engine.retriever.retrieve(query, query_vector, max(top_k, self.settings.rerank_pool), article_id)
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
        from qa import __version__

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


def index_exists(settings: Settings) -> bool:
    """A live version exists and searches where the settings say (faiss or milvus)."""
    return stores.store_type(Path(settings.index)) == settings.store


def example_questions(store: IndexStore, limit: int = 4) -> list[str]:
    """A few questions a newcomer could ask, drawn from the corpus itself.

    "Who is X?" where a sentence introduces a person ("X (born ...)", "X is a ..."), "What is the Y?"
    for an acronym the text spells out, then "What is said about Z?" for the names mentioned most.
    """
    import re
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


@dataclass
class ReindexJob:
    id: str
    state: str = "queued"  # queued, running, succeeded, failed
    stage: str = ""
    started_at: float = 0.0
    finished_at: float | None = None
    report: dict | None = None
    error: str | None = None
    done: int = 0  # texts embedded so far in the current stage
    total: int = 0
    stage_started: float = 0.0

    def progress(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.stage, self.stage_started = stage, time.time()
        self.done, self.total = done, total

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left in the current stage at its rate so far (None before there is a rate)."""
        elapsed = time.time() - self.stage_started
        if not self.total or not self.done or self.done >= self.total or elapsed <= 0:
            return None
        return round((self.total - self.done) * elapsed / self.done, 1)

    def public(self) -> dict:
        return {"id": self.id, "state": self.state, "stage": self.stage, "done": self.done, "total": self.total,
                "eta_seconds": self.eta_seconds, "started_at": self.started_at, "finished_at": self.finished_at,
                "report": self.report, "error": self.error}


class Reindexer:
    """Runs one rebuild at a time in a background thread and swaps the result in when it is done."""

    def __init__(self, assistant: Assistant, keep: int = 20,
                 on_finish: Callable[[ReindexJob], None] = lambda job: None):
        import threading

        self.assistant = assistant
        self.on_finish = on_finish  # hears every job that ends, succeeded or failed (metrics)
        self.jobs: dict[str, ReindexJob] = {}
        self.keep = keep
        self._lock = threading.Lock()
        self._running: str | None = None
        self._queued: ReindexJob | None = None

    def start(self) -> ReindexJob | None:
        """A new job, or None while one is already running."""
        with self._lock:
            if self._running is not None:
                return None
            job = self._new_job()
            self._running = job.id
        self._launch(job)
        return job

    def request(self) -> ReindexJob:
        """A rebuild that sees the corpus as it is now: started at once, or queued behind the running one
        (one queued job at most: every change made meanwhile is picked up by it)."""
        with self._lock:
            if self._running is None:
                job = self._new_job()
                self._running = job.id
            elif self._queued is not None:
                return self._queued
            else:
                self._queued = job = self._new_job()
                return job
        self._launch(job)
        return job

    def _new_job(self) -> ReindexJob:
        import uuid

        job = ReindexJob(id=uuid.uuid4().hex, started_at=time.time())
        self.jobs[job.id] = job
        for old in list(self.jobs)[: max(0, len(self.jobs) - self.keep)]:
            if old not in (self._running, self._queued.id if self._queued else None, job.id):
                del self.jobs[old]
        return job

    def _launch(self, job: ReindexJob) -> None:
        import threading

        threading.Thread(target=self._run, args=(job,), name=f"reindex-{job.id[:8]}", daemon=True).start()

    def _run(self, job: ReindexJob) -> None:
        job.state = "running"

        def on_stage(message: str) -> None:
            job.stage, job.stage_started, job.done, job.total = message, time.time(), 0, 0

        try:
            report = build_index(self.assistant.settings, self.assistant.embedder, on_stage=on_stage,
                                 on_progress=job.progress)
            job.report = dataclasses.asdict(report)
            job.stage = "switching to the new version"
            self.assistant.reload_if_changed()
            job.state, job.stage = "succeeded", "done"
        except Exception as error:  # reported to the caller through the job, never raised into the server
            job.state, job.error = "failed", str(error)
        finally:
            job.finished_at = time.time()
            try:
                self.on_finish(job)
            except Exception:  # a listener's failure must not stop the queue
                import logging

                logging.getLogger(__name__).exception("on_finish failed")
            with self._lock:
                self._running = None
                queued, self._queued = self._queued, None
                if queued is not None:
                    queued.started_at = time.time()
                    self._running = queued.id
            if queued is not None:
                self._launch(queued)

    def get(self, job_id: str) -> ReindexJob | None:
        return self.jobs.get(job_id)


# -- the library: files added and removed through the admin API ------------------------------------------------

class LibraryRefused(ValueError):
    """A change the library refuses; ``status`` is the HTTP status the API answers with, the message says why."""

    def __init__(self, message: str, status: int = 415):
        super().__init__(message)
        self.status = status


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_file_name(name: str | None) -> str:
    """The upload's base name, with path parts and unusual characters dropped; refused if nothing usable is left."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _SAFE_NAME.sub("_", base).strip(" .")[:150]
    suffix = Path(cleaned).suffix.lower()
    if not cleaned or cleaned.startswith(".") or not Path(cleaned).stem:
        raise LibraryRefused(f"{name!r} is not a usable file name", 400)
    if suffix not in INGEST_SUFFIXES:
        raise LibraryRefused(f"{base!r}: only {', '.join(sorted(INGEST_SUFFIXES))} files can be added")
    return cleaned


def check_upload(name: str | None, raw: bytes, max_file_bytes: int) -> str:
    """The safe name of an acceptable upload: a supported type by its content, within the size limit."""
    safe = safe_file_name(name)
    if len(raw) > max_file_bytes:
        raise LibraryRefused(f"{safe!r} is larger than {max_file_bytes} bytes (QA_MAX_FILE_BYTES)", 413)
    if not raw.strip():
        raise LibraryRefused(f"{safe!r} is empty", 400)
    suffix = Path(safe).suffix.lower()
    kind = sniff(raw)
    if suffix in DOCUMENT_SUFFIXES:
        if kind != suffix.lstrip("."):
            raise LibraryRefused(f"{safe!r} is not a {suffix.lstrip('.').upper()} file (checked by its content)")
    elif kind is not None or b"\x00" in raw:
        raise LibraryRefused(f"{safe!r} is not a text file (checked by its content)")
    return safe


def library_folder(settings: Settings) -> Path:
    """The corpus folder that uploads go into; the sample bundled in the package is never written to."""
    from qa.config import SAMPLE_CORPUS

    corpus = Path(settings.corpus)
    if corpus.resolve() == SAMPLE_CORPUS.resolve():
        raise LibraryRefused("qa is serving the bundled sample: start it with `qa serve --corpus DIR` to keep a "
                             "library of your own", 409)
    return corpus


def add_files(settings: Settings, files: Sequence[tuple[str | None, bytes]]) -> list[str]:
    """Check every file, then write them all into the corpus folder atomically (all or none refused).

    A file with the name of one already there replaces it (a new version of the same article)."""
    import os
    import tempfile

    corpus = library_folder(settings)
    checked = [(check_upload(name, raw, settings.max_file_bytes), raw) for name, raw in files]
    if not checked:
        raise LibraryRefused("no files were sent (multipart form fields named 'file')", 400)
    names = [name for name, _ in checked]
    if len(set(names)) != len(names):
        raise LibraryRefused("two files have the same name", 400)
    corpus.mkdir(parents=True, exist_ok=True)
    for name, raw in checked:
        handle, temporary = tempfile.mkstemp(prefix=".upload-", dir=corpus)  # hidden: ingest skips it
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(raw)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, corpus / name)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return names


def remove_article(settings: Settings, assistant: Assistant, article_id: str) -> str:
    """Delete the file an article came from (relative path returned); the next rebuild drops it."""
    corpus = library_folder(settings)
    article = assistant.article(article_id)
    if article is None:
        raise LibraryRefused(f"no article with id {article_id!r}", 404)
    if "#" in article.source:
        raise LibraryRefused(f"{article_id!r} is one record of {article.source.split('#')[0]!r}: edit that file "
                             "to remove it", 409)
    path = (corpus / article.source).resolve()
    if not path.is_relative_to(corpus.resolve()):
        raise LibraryRefused(f"{article.source!r} is outside the corpus folder", 409)
    path.unlink(missing_ok=True)
    return article.source


def export_feedback(settings: Settings, fmt: str, verdict: str | None = None) -> str:
    """The stored feedback as JSON lines, or as a SQuAD v2.0 file over the live index's articles."""
    import json

    from qa.feedback import FILE_NAME, FeedbackStore, export_jsonl, export_squad

    path = Path(settings.data_dir or settings.index) / FILE_NAME
    if not path.exists():
        raise IndexMissing(f"no feedback stored yet: {str(path)!r} does not exist")
    store = FeedbackStore(path, log_questions=False)
    try:
        rows = store.feedback(verdict)
    finally:
        store.close()
    if fmt == "jsonl":
        return export_jsonl(rows)
    live = stores.load(Path(settings.index), verify=False)
    articles = {a.id: (a.title, a.text) for a in live.article_list}
    return json.dumps(export_squad(rows, articles), ensure_ascii=False, indent=1) + "\n"
