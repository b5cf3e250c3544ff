"""build: ingest -> chunk -> embed -> index (a new version, made live atomically); unchanged text is reused."""

from __future__ import annotations

import fcntl
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa import stores
from qa.chunk import Chunker, content_hash, embedding_text, section_title
from qa.config import Settings
from qa.embed import Embedder, has_tokens, progress_bar
from qa.ingest import CorpusError, Ingestor
from qa.pipeline import components
from qa.stores import IndexData, IndexProblem, IndexStore
from qa.tokens import DIMENSIONS, SAMPLE_TOKENS, SentenceTokens, TokenBasis
from qa.types import Article


class RebuildRunning(RuntimeError):
    pass


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
    embedder = embedder or components.make_embedder(settings)
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
        reader = components.reader_identity(settings)  # hashes the weights: once per build
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
                and live.manifest.get("reader") == reader  # the manifest names the reader serving it
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
                         passage_vectors, sentence_vectors, embedder.name, extra_manifest={"chunker": signature, "reader": reader,
                                         "skipped_files": [list(problem) for problem in ingested.problems]},
                         index_spec=stores.VectorIndexSpec(
                             kind=settings.index_type, flat_max=settings.flat_max, hnsw_m=settings.hnsw_m,
                             ef_search=settings.ef_search, ivf_lists=settings.ivf_lists, nprobe=settings.nprobe,
                             pq_refine=settings.pq_refine),
                         tokens=tokens)
        report.version = stores.write_version(index_dir, data, milvus=components.milvus_target(settings))
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


def index_exists(settings: Settings) -> bool:
    """A live version exists and searches where the settings say (faiss or milvus)."""
    return stores.store_type(Path(settings.index)) == settings.store


