"""Question + Hits -> the sentences to quote verbatim, a confidence, and whether to answer."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.index import IndexStore
from qa.text import terms
from qa.types import Extraction, Hit, ScoredSentence


@dataclass(frozen=True)
class ExtractWeights:
    """How a sentence's score is made; tuned on held-out data, never on single questions."""

    similarity: float = 0.55  # cosine between question and sentence vectors
    overlap: float = 0.30  # share of the question's IDF mass found in the sentence
    passage: float = 0.15  # the retrieval score of the passage it came from
    midpoint: float = 0.35  # sentence score at which confidence is 0.5
    steepness: float = 10.0
    keep_margin: float = 0.08  # more sentences are quoted while within this of the best
    max_sentences: int = 3
    duplicate_jaccard: float = 0.7


class SentenceExtractor:
    def __init__(self, store: IndexStore, min_confidence: float = 0.5, weights: ExtractWeights | None = None):
        self.store = store
        self.min_confidence = min_confidence
        self.weights = weights or ExtractWeights()

    def extract(self, query: str, query_vector: np.ndarray, hits: Sequence[Hit]) -> Extraction:
        w = self.weights
        candidates = self.score(query, query_vector, hits)
        if not candidates:
            return Extraction(sentences=(), confidence=0.0, answerable=False)
        best = candidates[0]
        confidence = 1.0 / (1.0 + math.exp(-w.steepness * (best.score - w.midpoint)))
        chosen: list[ScoredSentence] = [best]
        chosen_terms = [set(terms(best.text))]
        for candidate in candidates[1:]:
            if len(chosen) >= w.max_sentences or candidate.score < best.score - w.keep_margin:
                break
            candidate_terms = set(terms(candidate.text))
            if any(_jaccard(candidate_terms, t) >= w.duplicate_jaccard for t in chosen_terms):
                continue
            chosen.append(candidate)
            chosen_terms.append(candidate_terms)
        return Extraction(
            sentences=tuple(chosen),
            confidence=round(confidence, 4),
            answerable=confidence >= self.min_confidence,
        )

    def score(self, query: str, query_vector: np.ndarray, hits: Sequence[Hit]) -> list[ScoredSentence]:
        """Every sentence of the retrieved passages, scored, best first (each sentence once)."""
        w = self.weights
        store = self.store
        best_hit: dict[int, Hit] = {}
        for hit in hits:
            lo, hi = store.passage_rows[store.passage_row[hit.passage.id]]
            for sentence_row in range(lo, hi):
                if sentence_row not in best_hit:  # hits arrive best first
                    best_hit[sentence_row] = hit
        if not best_hit:
            return []
        rows = np.fromiter(best_hit, dtype=np.int64)
        similarity = store.sentence_vectors[rows] @ query_vector.astype(np.float32)
        query_terms = set(terms(query))
        query_mass = sum(store.idf.get(t, store.default_idf) for t in query_terms) or 1.0
        scored = []
        for row, sim in zip(rows.tolist(), similarity.tolist()):
            article, start, end = store.sentence_text(row)
            text = article.text[start:end]
            overlap = sum(store.idf.get(t, store.default_idf) for t in query_terms & set(terms(text))) / query_mass
            hit = best_hit[row]
            score = w.similarity * sim + w.overlap * overlap + w.passage * hit.score
            scored.append(ScoredSentence(text=text, article_id=article.id, start=start, end=end, score=score, hit=hit))
        scored.sort(key=lambda s: (-s.score, s.article_id, s.start))
        return scored


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0
