"""The persisted index: passages, sentences and their vectors. The only module that imports faiss.

Layout of the index folder (no pickle anywhere; every file's sha256 is in the manifest)::

    index/CURRENT                      name of the live version (replaced atomically)
    index/versions/<name>/manifest.json
                          articles.jsonl   one article a line, with its full text
                          passages.jsonl   id, article, offsets, sentence rows, content hash
                          sentences.npy    int64 rows: article row, start, end
                          passages.faiss   passage vectors (inner product on unit vectors)
                          sentence_vectors.npy  sentence vectors (float32)
                          bm25/            the BM25 index of the passages (bm25s, numpy + json)
                          tokens/          sentences' token vectors for token matching (qa.tokens):
                                           basis.npy, vectors.npy (int8), offsets.npy, ids.npy
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa.chunk import embedding_text, section_title
from qa.text import terms
from qa.tokens import SentenceTokens, TokenBasis
from qa.types import Article, Passage, Span

FORMAT_VERSION = 2  # 2: BM25 stored with each version
POINTER = "CURRENT"
TITLED = "embedding_text"  # manifest key: texts were embedded with their title (qa.chunk.embedding_text)
SECTIONED = "section_titles"  # manifest key: ... with their Markdown section path after the title (qa.blocks)
VERSIONS = "versions"


class IndexProblem(RuntimeError):
    """Base for index problems that a user can fix; the message says how."""


class IndexMissing(IndexProblem):
    pass


class IndexMismatch(IndexProblem):
    pass


class IndexCorrupt(IndexProblem):
    pass


def _faiss():
    import faiss  # heavy: loaded only when an index is built or opened

    return faiss


@dataclass(frozen=True)
class IndexData:
    """Everything one index version holds, before it is written or after it is read."""

    articles: tuple[Article, ...]
    passages: tuple[Passage, ...]
    passage_rows: tuple[tuple[int, int], ...]  # sentence rows [lo, hi) of each passage
    sentence_table: np.ndarray  # (n, 3) int64: article row, start, end
    passage_vectors: np.ndarray  # (p, d) float32, unit length
    sentence_vectors: np.ndarray  # (n, d) float32, unit length
    model: str
    extra_manifest: dict = field(default_factory=dict)
    index_spec: VectorIndexSpec | None = None
    tokens: SentenceTokens | None = None  # None where the embedder gives no token vectors


TRAINED_MIN = 1000


@dataclass(frozen=True)
class VectorIndexSpec:
    """Which FAISS index holds the passage vectors; ``auto`` follows the collection's size.

    flat: exact search (the default up to ``flat_max`` vectors); pq: every vector scanned as a
    4-bit product-quantised code (fast-scan SIMD), the best ``pq_refine`` re-scored from
    float16 copies (the default past ``flat_max``: about 9× less memory than flat, recall@10 .98
    at a million vectors); hnsw: HNSW graph over 8-bit scalar-quantised vectors; ivf: inverted
    lists over 8-bit scalar-quantised vectors (both fast, but their recall depends on the
    vectors having neighbourhood structure).
    """

    kind: str = "auto"  # auto, flat, pq, hnsw, ivf
    flat_max: int = 200_000
    hnsw_m: int = 32
    ef_construction: int = 80
    ef_search: int = 128
    ivf_lists: int = 0  # 0: about 4·sqrt(n)
    nprobe: int = 32
    pq_refine: int = 0  # candidates re-scored per query (pq); 0: 1% of the vectors, at least 4,000

    def resolve(self, n: int) -> str:
        if self.kind in ("pq", "ivf") and n < TRAINED_MIN:
            return "flat"  # too few vectors to train codebooks; exact search is instant at this size
        if self.kind != "auto":
            return self.kind
        return "flat" if n <= self.flat_max else "pq"

    @staticmethod
    def pq_m(dimension: int) -> int:
        return next(m for m in range(max(1, math.ceil(dimension / 4)), dimension + 1) if dimension % m == 0)

    def factory(self, n: int, dimension: int = 384) -> tuple[str, dict]:
        """The faiss index_factory string and the parameters recorded in the manifest."""
        kind = self.resolve(n)
        if kind == "flat":
            return "Flat", {"type": "flat"}
        if kind == "pq":
            # Four dimensions per sub-quantiser keeps the code error small enough that re-scoring
            # re-scoring the best 1% of codes finds the exact top k almost always.
            m = self.pq_m(dimension)
            refine = self.pq_refine or max(4000, n // 100)
            return f"PQ{m}x4fs,Refine(SQfp16)", {"type": "pq", "m": m, "refine": refine}
        if kind == "hnsw":
            return f"HNSW{self.hnsw_m},SQ8", {"type": "hnsw", "m": self.hnsw_m, "ef_construction": self.ef_construction,
                                              "ef_search": self.ef_search}
        if kind == "ivf":
            lists = self.ivf_lists or max(1, min(65536, int(4 * n ** 0.5)))
            return f"IVF{lists},SQ8", {"type": "ivf", "lists": lists, "nprobe": self.nprobe}
        raise ValueError(f"unknown index type {kind!r}: choose auto, flat, pq, hnsw or ivf")


class VectorSearch:
    """Inner-product search over unit vectors (cosine similarity): exact or approximate."""

    def __init__(self, index, params: dict | None = None):
        self._index = index
        self.params = params or {"type": "flat"}
        self._apply_search_params()

    @classmethod
    def build(cls, vectors: np.ndarray, spec: VectorIndexSpec | None = None) -> VectorSearch:
        faiss = _faiss()
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        factory, params = (spec or VectorIndexSpec(kind="flat")).factory(len(vectors), vectors.shape[1])
        index = faiss.index_factory(vectors.shape[1], factory, faiss.METRIC_INNER_PRODUCT)
        if params["type"] == "hnsw":
            index.hnsw.efConstruction = params["ef_construction"]
        if not index.is_trained:
            sample = vectors[np.random.default_rng(0).permutation(len(vectors))[: max(50_000, 64 * params.get("lists", 1))]]
            index.train(sample)
        index.add(vectors)
        return cls(index, params)

    def _apply_search_params(self) -> None:
        faiss = _faiss()
        if self.params.get("type") == "hnsw":
            faiss.ParameterSpace().set_index_parameter(self._index, "efSearch", self.params["ef_search"])
        elif self.params.get("type") == "ivf":
            faiss.ParameterSpace().set_index_parameter(self._index, "nprobe", self.params["nprobe"])

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    def search(self, queries: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """For each query, up to k (row, score) pairs, best first; never a -1 row."""
        k = min(k, self.size)
        if k <= 0:
            return [[] for _ in range(len(queries))]
        extra = {}
        if self.params.get("type") == "pq":
            extra["params"] = _faiss().IndexRefineSearchParameters(k_factor=max(1.0, self.params["refine"] / k))
        scores, rows = self._index.search(np.ascontiguousarray(queries, dtype=np.float32), k, **extra)
        return [
            [(int(r), float(s)) for r, s in zip(row_ids, row_scores) if r >= 0]
            for row_ids, row_scores in zip(rows, scores)
        ]

    def similarity(self, query: np.ndarray, rows: list[int]) -> np.ndarray:
        """Inner products of one query with the given rows (as stored: SQ8 indexes are approximate)."""
        if not rows:
            return np.zeros(0, np.float32)
        if self.params.get("type") == "ivf":
            self._index.make_direct_map()
        stored = self._index.reconstruct_batch(np.asarray(rows, dtype=np.int64))
        return stored @ np.asarray(query, dtype=np.float32)

    def vectors(self) -> np.ndarray:
        return self._index.reconstruct_n(0, self.size) if self.size else np.zeros((0, self.dimension), np.float32)

    def write(self, path: Path) -> None:
        _faiss().write_index(self._index, str(path))

    @classmethod
    def read(cls, path: Path, params: dict | None = None) -> VectorSearch:
        return cls(_faiss().read_index(str(path)), params)


class LexicalIndex:
    """BM25 over passages (bm25s), built once per index version and stored with it."""

    def __init__(self, bm25):
        self._bm25 = bm25

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        import bm25s

        bm25 = bm25s.BM25(k1=0.9, b=0.4)  # Anserini's defaults; better than 1.2/0.75 on SQuAD 1–24
        # An empty token list would make bm25s drop the document; a placeholder keeps rows aligned.
        bm25.index([terms(t) or ["\u2205"] for t in texts], show_progress=False)
        return cls(bm25)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for the query (zeros when no query term is known)."""
        vocab = self._bm25.vocab_dict
        tokens = [t for t in terms(query) if t in vocab]
        if not tokens:
            return np.zeros(self._bm25.scores["num_docs"], dtype=np.float32)
        return self._bm25.get_scores(tokens)

    def write(self, folder: Path) -> None:
        self._bm25.save(str(folder), allow_pickle=False, show_progress=False)

    @classmethod
    def read(cls, folder: Path) -> LexicalIndex:
        import bm25s

        return cls(bm25s.BM25.load(str(folder), allow_pickle=False, show_progress=False))


def embedding_texts(data: IndexData) -> list[str]:
    articles = {a.id: a for a in data.articles}
    return [embedding_text(section_title(articles[p.article_id], p.start), p.text) for p in data.passages]


class IndexStore:
    """One loaded index version: immutable once built, so it can be swapped whole.

    The documents (articles, passages, sentences and their vectors) are read from the version
    folder; passage search goes through ``dense_candidates``, ``lexical_candidates`` and
    ``passage_similarity``, which this class answers with FAISS and bm25s and ``qa.milvus.MilvusStore``
    answers with Milvus.
    """

    native_hybrid = False  # True where the engine fuses dense and BM25 itself (rrf)

    def __init__(self, data: IndexData, search: VectorSearch, manifest: dict, path: Path | None = None,
                 lexical: LexicalIndex | None = None):
        self._init_documents(data, manifest, path)
        self.lexical = lexical or LexicalIndex.build(embedding_texts(data))
        self.passage_search = search

    def _init_documents(self, data: IndexData, manifest: dict, path: Path | None) -> None:
        self.manifest = manifest
        self.path = path
        self.articles = {a.id: a for a in data.articles}
        self.article_list = data.articles
        self.passages = data.passages
        self.passage_rows = data.passage_rows
        self.sentence_table = data.sentence_table
        self.sentence_vectors = data.sentence_vectors
        self.tokens = data.tokens
        self.passage_row = {p.id: row for row, p in enumerate(self.passages)}
        # Sentence-level search finds passages whose best sentence matches even when the passage
        # as a whole does not; the vectors are already at hand, so the flat index is cheap.
        # Past the flat limit it is skipped: BM25 and the passage index still find candidates, and
        # their best-sentence similarity is computed exactly anyway.
        self.sentence_search = (VectorSearch.build(self.sentence_vectors)
                                if 0 < len(self.sentence_vectors) <= VectorIndexSpec().flat_max else None)
        self.sentence_passage = np.zeros(len(self.sentence_table), dtype=np.int64)  # the first passage holding it
        for row in reversed(range(len(self.passage_rows))):
            lo, hi = self.passage_rows[row]
            self.sentence_passage[lo:hi] = row
        self.passages_by_article: dict[str, list[int]] = {}
        for row, passage in enumerate(self.passages):
            self.passages_by_article.setdefault(passage.article_id, []).append(row)
        df = Counter()
        for passage in self.passages:
            df.update(set(terms(passage.text)))
        n = max(1, len(self.passages))
        self.idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self.default_idf = math.log(1 + (n + 0.5) / 0.5)

    # -- passage search: the interface the retriever uses ------------------------------------

    def dense_candidates(self, query_vector: np.ndarray, k: int, article_id: str | None = None) -> list[tuple[int, float]]:
        """Up to k (passage row, cosine) pairs, best first; within one article the search is exact."""
        if article_id is not None:
            return self._exact_within(query_vector, k, article_id)
        return self.passage_search.search(np.asarray(query_vector, np.float32).reshape(1, -1), k)[0]

    def _exact_within(self, query_vector: np.ndarray, k: int, article_id: str) -> list[tuple[int, float]]:
        rows = self.passages_by_article.get(article_id, [])
        scores = self.passage_similarity(query_vector, rows)
        return sorted(zip(rows, scores.tolist()), key=lambda item: (-item[1], item[0]))[:k]

    def lexical_candidates(self, query: str, k: int, article_id: str | None = None) -> dict[int, float]:
        """Up to k passage rows with a positive BM25 score for the query: row -> score."""
        scores = self.lexical.scores(query)
        if article_id is not None:
            rows = np.asarray(self.passages_by_article.get(article_id, []), dtype=np.int64)
            mask = np.zeros(len(scores), dtype=bool)
            mask[rows] = True
            scores = np.where(mask, scores, 0.0)
        if not len(scores) or float(scores.max()) <= 0:
            return {}
        top = np.argpartition(-scores, min(k, len(scores) - 1))[:k]
        return {int(r): float(scores[r]) for r in top if scores[r] > 0}

    def passage_similarity(self, query_vector: np.ndarray, rows: list[int]) -> np.ndarray:
        """Cosine of the query with each of the given passages."""
        return self.passage_search.similarity(np.asarray(query_vector, np.float32), rows)

    def passage_vectors(self) -> np.ndarray:
        return self.passage_search.vectors()

    @property
    def model(self) -> str:
        return self.manifest["model"]

    def sentence_text(self, row: int) -> tuple[Article, int, int]:
        article_row, start, end = (int(x) for x in self.sentence_table[row])
        return self.article_list[article_row], start, end

    def data(self) -> IndexData:
        return IndexData(
            articles=self.article_list,
            passages=self.passages,
            passage_rows=self.passage_rows,
            sentence_table=self.sentence_table,
            passage_vectors=self.passage_vectors(),
            sentence_vectors=self.sentence_vectors,
            model=self.model,
            tokens=self.tokens,
        )


def corpus_fingerprint(articles) -> str:
    digest = hashlib.sha256()
    for article in sorted(articles, key=lambda a: a.id):
        digest.update(article.id.encode())
        digest.update(b"\0")
        digest.update(hashlib.sha256(article.text.encode("utf-8", "surrogatepass")).digest())
    return digest.hexdigest()[:32]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8", errors="surrogatepass") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False))
            f.write("\n")


def write_version(root: Path, data: IndexData, milvus=None) -> str:
    """Write a new version beside the live one, then make it live atomically. Returns its name.

    ``milvus`` (a ``qa.milvus.MilvusTarget``) puts the passage search in Milvus instead of FAISS
    and bm25s files.
    """
    root = Path(root)
    versions = root / VERSIONS
    versions.mkdir(parents=True, exist_ok=True)
    name = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"-{os.getpid()}-{os.urandom(3).hex()}"
    staging = versions / f".tmp-{name}"
    staging.mkdir()
    try:
        _write_jsonl(
            staging / "articles.jsonl",
            ({"id": a.id, "title": a.title, "source": a.source, "url": a.url, "date": a.date, "text": a.text,
              **({"pages": list(a.pages)} if a.pages else {})}
             for a in data.articles),
        )
        _write_jsonl(
            staging / "passages.jsonl",
            ({"id": p.id, "article_id": p.article_id, "start": p.start, "end": p.end, "rows": list(rows), "hash": p.hash}
             for p, rows in zip(data.passages, data.passage_rows)),
        )
        np.save(staging / "sentences.npy", np.asarray(data.sentence_table, dtype=np.int64), allow_pickle=False)
        np.save(staging / "sentence_vectors.npy", np.asarray(data.sentence_vectors, dtype=np.float32), allow_pickle=False)
        if data.tokens is not None:
            _write_tokens(staging / "tokens", data.tokens)
        if milvus is None:
            passage_search = VectorSearch.build(data.passage_vectors, data.index_spec)
            passage_search.write(staging / "passages.faiss")
            (staging / "bm25").mkdir()
            LexicalIndex.build(embedding_texts(data)).write(staging / "bm25")
            store_info, index_params = {"type": "faiss"}, passage_search.params
        else:
            from qa.milvus import write_collection

            np.save(staging / "passage_vectors.npy", np.asarray(data.passage_vectors, dtype=np.float32),
                    allow_pickle=False)
            store_info = write_collection(milvus, data, _live_collection(root, milvus.prefix))
            index_params = {"type": "milvus", "index": store_info["index_type"]}
        files = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())
        for file in files:
            _fsync_file(staging / file)
        manifest = {
            "format_version": FORMAT_VERSION,
            "version": name,
            "model": data.model,
            "dimension": int(data.passage_vectors.shape[1]),
            "index_type": index_params,
            TITLED: "article title, newline, text: embedded for passages and sentences, BM25 for passages",
            SECTIONED: "in Markdown articles the title is followed by the headings above the text (qa.blocks.section_title)",
            "store": store_info,
            "articles": len(data.articles),
            "passages": len(data.passages),
            "sentences": int(len(data.sentence_table)),
            "corpus_fingerprint": corpus_fingerprint(data.articles),
            "faiss_version": _faiss().__version__,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "files": {file: _sha256(staging / file) for file in files},
            **data.extra_manifest,
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        _fsync_file(staging / "manifest.json")
        for folder in ("bm25", "tokens"):
            if (staging / folder).is_dir():
                _fsync_dir(staging / folder)
        _fsync_dir(staging)
        os.replace(staging, versions / name)
        _fsync_dir(versions)
        _set_pointer(root, name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _prune(root, keep={name, *_previous(root, name)})
    if milvus is not None:
        from qa.milvus import point_alias

        point_alias(milvus, store_info["collection"])
    return name


def _pointed_manifest(root: Path, pointer: str = POINTER) -> dict | None:
    """The manifest of the version a pointer names, or None."""
    name = read_pointer(root, pointer)
    if name is None:
        return None
    try:
        return json.loads((Path(root) / VERSIONS / name / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def store_type(root: Path) -> str | None:
    """faiss or milvus: where the live version's passages are searched (None: no index)."""
    manifest = _pointed_manifest(root)
    return None if manifest is None else manifest.get("store", {}).get("type", "faiss")


def _live_collection(root: Path, prefix: str) -> str | None:
    """The Milvus collection the live (or, with no readable live version, the previous one) searches."""
    manifest = _pointed_manifest(root) or _pointed_manifest(root, "PREVIOUS") or {}
    store = manifest.get("store", {})
    return store.get("collection") if store.get("type") == "milvus" and store.get("alias") == prefix else None


def _set_pointer(root: Path, name: str) -> None:
    previous = read_pointer(root)
    tmp = root / f".{POINTER}.tmp-{os.getpid()}"
    tmp.write_text(name + "\n", encoding="utf-8")
    _fsync_file(tmp)
    os.replace(tmp, root / POINTER)
    _fsync_dir(root)
    if previous and previous != name:
        (root / "PREVIOUS.tmp").write_text(previous + "\n", encoding="utf-8")
        os.replace(root / "PREVIOUS.tmp", root / "PREVIOUS")


def read_pointer(root: Path, name: str = POINTER) -> str | None:
    try:
        value = (Path(root) / name).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return value or None


def _previous(root: Path, current: str) -> list[str]:
    prev = read_pointer(root, "PREVIOUS")
    return [prev] if prev and prev != current else []


def _prune(root: Path, keep: set[str]) -> None:
    """Drop versions other than the live and the previous one, and staging left by killed builds."""
    versions = Path(root) / VERSIONS
    for entry in versions.iterdir():
        if entry.name not in keep:
            shutil.rmtree(entry, ignore_errors=True)


def rebuild_hint(index: Path) -> str:
    return f"qa index --full --index {index}"


def model_mismatch(root: Path, built: str, configured: str) -> str:
    """Why an index cannot serve the configured model, and the command that fixes it."""
    built_base, _, built_backend = built.partition("+")
    base, _, backend = configured.partition("+")
    if built_base == base:  # same model, other backend: say which, and both ways out
        built_backend, backend = built_backend or "torch", backend or "torch"
        return (f"the index in {str(root)!r} was built with QA_BACKEND={built_backend}, but this qa runs "
                f"QA_BACKEND={backend}: rebuild it with `{rebuild_hint(root)}`, or serve it with "
                f"QA_BACKEND={built_backend}")
    return (f"the index in {str(root)!r} was built with model {built!r}, "
            f"but the configured model is {configured!r}: rebuild it with `{rebuild_hint(root)}`")


def load(root: Path, *, model: str | None = None, verify: bool = True, milvus=None) -> IndexStore:
    """Load the live version, falling back to the previous one if the live one is damaged."""
    root = Path(root)
    name = read_pointer(root)
    if name is None:
        raise IndexMissing(f"no index in {str(root)!r}: build one with `qa index --index {root}`")
    errors = []
    for candidate in [name, *_previous(root, name)]:
        try:
            store = load_version(root / VERSIONS / candidate, verify=verify, milvus=milvus)
        except IndexCorrupt as error:
            errors.append(str(error))
            continue
        if model is not None and store.model != model:
            raise IndexMismatch(model_mismatch(root, store.model, model))
        return store
    raise IndexCorrupt("; ".join(errors) + f". Rebuild it with `{rebuild_hint(root)}`")


def load_version(path: Path, *, verify: bool = True, milvus=None) -> IndexStore:
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise IndexCorrupt(f"index version {path.name!r} has no readable manifest ({error})") from None
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatch(
            f"the index in {str(path.parent.parent)!r} has format {manifest.get('format_version')!r}, "
            f"this qa reads format {FORMAT_VERSION}: rebuild it with `{rebuild_hint(path.parent.parent)}`"
        )
    if verify:
        for file, expected in manifest.get("files", {}).items():
            try:
                actual = _sha256(path / file)
            except OSError:
                actual = None
            if actual != expected:
                raise IndexCorrupt(f"index file {path.name}/{file} is missing or damaged (checksum mismatch)")
    try:
        articles = tuple(
            Article(id=r["id"], title=r["title"], text=r["text"], source=r["source"], url=r.get("url"), date=r.get("date"),
                    pages=tuple(r["pages"]) if r.get("pages") else None)
            for r in _read_jsonl(path / "articles.jsonl")
        )
        by_id = {a.id: a for a in articles}
        sentence_table = np.load(path / "sentences.npy", allow_pickle=False)
        passages, rows = [], []
        for r in _read_jsonl(path / "passages.jsonl"):
            text = by_id[r["article_id"]].text
            lo, hi = r["rows"]
            spans = tuple(Span(int(s), int(e)) for _, s, e in sentence_table[lo:hi])
            passages.append(Passage(r["id"], r["article_id"], r["start"], r["end"], text[r["start"] : r["end"]], spans, r["hash"]))
            rows.append((lo, hi))
        # Memory-mapped: only the rows a question touches are paged in, so serving RSS stays small.
        sentence_vectors = np.load(path / "sentence_vectors.npy", mmap_mode="r", allow_pickle=False)
        tokens = _read_tokens(path / "tokens", len(sentence_table)) if (path / "tokens").is_dir() else None
        if manifest.get("store", {}).get("type") == "milvus":
            passage_vectors = np.load(path / "passage_vectors.npy", mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        raise IndexCorrupt(f"index version {path.name!r} could not be read ({error})") from None
    if manifest.get("store", {}).get("type") == "milvus":
        if milvus is None:
            raise IndexMismatch(f"the index in {str(path.parent.parent)!r} searches its passages in Milvus: "
                                "set QA_STORE=milvus and QA_MILVUS_URI, or rebuild it with QA_STORE=faiss")
        from qa.milvus import MilvusStore

        data = IndexData(articles, tuple(passages), tuple(rows), sentence_table, np.zeros((0, 0), np.float32),
                         sentence_vectors, manifest["model"], tokens=tokens)
        return MilvusStore(data, manifest, path, milvus, passage_vectors)
    try:
        params = manifest.get("index_type")
        search = VectorSearch.read(path / "passages.faiss", params if isinstance(params, dict) else None)
        lexical = LexicalIndex.read(path / "bm25")
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        raise IndexCorrupt(f"index version {path.name!r} could not be read ({error})") from None
    if search.size != len(passages) or search.dimension != manifest["dimension"]:
        raise IndexCorrupt(f"index version {path.name!r} is inconsistent with its manifest")
    data = IndexData(articles, tuple(passages), tuple(rows), sentence_table, np.zeros((0, 0), np.float32),
                     sentence_vectors, manifest["model"], tokens=tokens)
    return IndexStore(data, search, manifest, path, lexical)


def _write_tokens(folder: Path, tokens: SentenceTokens) -> None:
    folder.mkdir()
    np.save(folder / "basis.npy", tokens.basis.to_array(), allow_pickle=False)
    np.save(folder / "vectors.npy", np.asarray(tokens.vectors, np.int8), allow_pickle=False)
    np.save(folder / "offsets.npy", np.asarray(tokens.offsets, np.int64), allow_pickle=False)
    np.save(folder / "ids.npy", np.asarray(tokens.ids, np.int32), allow_pickle=False)


def _read_tokens(folder: Path, sentences: int) -> SentenceTokens:
    tokens = SentenceTokens(TokenBasis.from_array(np.load(folder / "basis.npy", allow_pickle=False)),
                            np.load(folder / "vectors.npy", mmap_mode="r", allow_pickle=False),
                            np.load(folder / "offsets.npy", allow_pickle=False),
                            np.load(folder / "ids.npy", allow_pickle=False))
    if (len(tokens.offsets) != sentences + 1 or tokens.offsets[-1] != len(tokens.vectors)
            or len(tokens.ids) != len(tokens.vectors)):
        raise ValueError("token files disagree in length")
    return tokens


def _read_jsonl(path: Path):
    with open(path, encoding="utf-8", errors="surrogatepass") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)
