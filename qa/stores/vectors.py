"""Vector search over unit vectors with FAISS: which index type, and the search itself.

The only module that imports faiss (late: only when an index is built or opened).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np


def _faiss():
    import faiss  # heavy: loaded only when an index is built or opened

    return faiss


def faiss_version() -> str:
    return _faiss().__version__


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
