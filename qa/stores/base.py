"""What every store shares: the errors, one version's data, and the interface the retriever searches.

A store answers passage search (``dense_candidates``, ``lexical_candidates``, ``passage_similarity``,
``passage_vectors``); the documents (articles, passages, sentences and their vectors) are the same
for every store and live here. ``qa.stores.local`` answers search with FAISS and BM25,
``qa.stores.milvus`` with Milvus; neither imports the other.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa.chunk import embedding_text, section_title
from qa.stores.vectors import VectorIndexSpec, VectorSearch
from qa.text import terms
from qa.tokens import SentenceTokens
from qa.types import Article, Passage

TITLED = "embedding_text"  # manifest key: texts were embedded with their title (qa.chunk.embedding_text)
SECTIONED = "section_titles"  # manifest key: ... with their Markdown section path after the title (qa.blocks)


class IndexProblem(RuntimeError):
    """Base for index problems that a user can fix; the message says how."""


class IndexMissing(IndexProblem):
    pass


class IndexMismatch(IndexProblem):
    pass


class IndexCorrupt(IndexProblem):
    pass


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


def embedding_texts(data: IndexData) -> list[str]:
    articles = {a.id: a for a in data.articles}
    return [embedding_text(section_title(articles[p.article_id], p.start), p.text) for p in data.passages]



class IndexStore:
    """One loaded index version: immutable once built, so it can be swapped whole.

    The documents (articles, passages, sentences and their vectors) are read from the version
    folder; passage search goes through ``dense_candidates``, ``lexical_candidates`` and
    ``passage_similarity``, which ``qa.stores.local.FaissStore`` answers with FAISS and bm25s and
    ``qa.stores.milvus.MilvusStore`` with Milvus.
    """

    native_hybrid = False  # True where the engine fuses dense and BM25 itself (rrf)

    def __init__(self, data: IndexData, manifest: dict, path: Path | None = None):
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

    # -- passage search: the interface the retriever uses; each store answers it -------------

    def dense_candidates(self, query_vector: np.ndarray, k: int, article_id: str | None = None) -> list[tuple[int, float]]:
        """Up to k (passage row, cosine) pairs, best first; within one article the search is exact."""
        raise NotImplementedError

    def lexical_candidates(self, query: str, k: int, article_id: str | None = None) -> dict[int, float]:
        """Up to k passage rows with a positive BM25 score for the query: row -> score."""
        raise NotImplementedError

    def passage_similarity(self, query_vector: np.ndarray, rows: list[int]) -> np.ndarray:
        """Cosine of the query with each of the given passages."""
        raise NotImplementedError

    def passage_vectors(self) -> np.ndarray:
        raise NotImplementedError

    def _exact_within(self, query_vector: np.ndarray, k: int, article_id: str) -> list[tuple[int, float]]:
        rows = self.passages_by_article.get(article_id, [])
        scores = self.passage_similarity(query_vector, rows)
        return sorted(zip(rows, scores.tolist()), key=lambda item: (-item[1], item[0]))[:k]

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
