"""Token-level matching of a question against sentences, from the embedding model's own token vectors.

The sentence vector is one mean over a sentence's tokens, so it cannot say *which* of the question's
words a sentence matches. The model's contextual token vectors can: each question token is matched
to its most similar token in a sentence (BERTScore's recall, ColBERT's MaxSim), and the matches are
averaged with the tokens' IDF. The vectors come from the forward passes the index and the question
make anyway, so matching costs no extra model call.

Stored compactly: token vectors are centred and projected onto the corpus's first ``DIMENSIONS``
principal components (the shared component of every token vector carries no match), then kept as
int8. On SQuAD v1.1 dev this held sentence hit@1 where the full 384-dimensional vectors had it
(bench/RESULTS.md) at 64 bytes a token.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

DIMENSIONS = 64
SAMPLE_TOKENS = 50_000  # tokens the principal components are fitted on
_SCALE = 127.0
_WH_WORD = re.compile(r"(?i)(?:what|when|where|who|whom|whose|which|why|how)\b")


@dataclass(frozen=True)
class TokenVectors:
    """One text's tokens (special tokens left out): vocabulary ids, unit vectors, character starts."""

    ids: np.ndarray  # (t,) int32
    vectors: np.ndarray  # (t, d) float32
    starts: np.ndarray  # (t,) int32, offsets into the text that was encoded


@dataclass(frozen=True)
class TokenBasis:
    """Centre and projection applied to every token vector of one index (question tokens included)."""

    mean: np.ndarray  # (d,) float32
    components: np.ndarray  # (d, k) float32

    @classmethod
    def fit(cls, vectors: np.ndarray, dimensions: int = DIMENSIONS) -> TokenBasis:
        vectors = np.asarray(vectors, np.float32)
        if not len(vectors):
            return cls(np.zeros(vectors.shape[1], np.float32), np.zeros((vectors.shape[1], dimensions), np.float32))
        mean = vectors.mean(0)
        _, _, vt = np.linalg.svd(vectors - mean, full_matrices=False)
        components = vt[:dimensions].T
        if components.shape[1] < dimensions:  # fewer tokens than dimensions: pad with zero columns
            components = np.pad(components, ((0, 0), (0, dimensions - components.shape[1])))
        return cls(mean.astype(np.float32), np.ascontiguousarray(components, np.float32))

    @classmethod
    def from_array(cls, array: np.ndarray) -> TokenBasis:
        """From ``to_array``'s layout: the mean as the first row, then the components' rows."""
        array = np.asarray(array, np.float32)
        return cls(array[0].copy(), np.ascontiguousarray(array[1:].T))

    def to_array(self) -> np.ndarray:
        return np.vstack([self.mean[None, :], self.components.T]).astype(np.float32)

    def project(self, vectors: np.ndarray) -> np.ndarray:
        """Centred, projected, unit-length float32 rows."""
        projected = (np.asarray(vectors, np.float32) - self.mean) @ self.components
        return projected / np.maximum(np.linalg.norm(projected, axis=1, keepdims=True), 1e-12)

    def quantise(self, vectors: np.ndarray) -> np.ndarray:
        return np.round(self.project(vectors) * _SCALE).astype(np.int8)


class SentenceTokens:
    """The quantised token vectors of every sentence of an index, and the token IDF they imply."""

    def __init__(self, basis: TokenBasis, vectors: np.ndarray, offsets: np.ndarray, ids: np.ndarray):
        self.basis = basis
        self.vectors = vectors  # (T, k) int8
        self.offsets = np.asarray(offsets, np.int64)  # (n + 1,): sentence row r holds tokens offsets[r]:offsets[r+1]
        self.ids = ids  # (T,) int32
        sentences = len(self.offsets) - 1
        ids64 = np.asarray(ids, np.int64)
        vocabulary = int(ids64.max()) + 1 if len(ids64) else 1
        owner = np.repeat(np.arange(sentences, dtype=np.int64), np.diff(self.offsets))
        distinct = np.unique(owner * vocabulary + ids64) % vocabulary  # each id once per sentence
        frequency = np.bincount(distinct, minlength=vocabulary)
        self.idf = np.log((sentences + 1) / (frequency + 1.0)).astype(np.float32)
        self.unseen_idf = math.log(sentences + 1)

    def weights(self, ids: np.ndarray) -> np.ndarray:
        """IDF of each token id, normalised to sum to 1 (ids never seen in a sentence weigh most)."""
        ids = np.asarray(ids, np.int64)
        known = ids < len(self.idf)
        weights = np.where(known, self.idf[np.minimum(ids, len(self.idf) - 1)], self.unseen_idf).astype(np.float32)
        weights = np.maximum(weights, 1e-6)
        return weights / weights.sum()

    def features(self, query: str, query_tokens: TokenVectors, rows: list[int],
                 pairs: list[tuple[int, int]]) -> dict[int, tuple[float, float, float]]:
        """Per row: (token match, its gain when read with the better neighbour, wh-word match).

        token match: the IDF-weighted mean, over the question's tokens, of each one's best cosine
        in the sentence. The window gain reads each question token's best match in the sentence or
        one neighbour ("He died in 1546." after "Luther fell ill."). The wh-word match is the best
        cosine of the question's "when"/"who"/... token in the sentence: contextual vectors of
        dates, people and places sit near the words that ask for them.
        """
        if not len(query_tokens.ids):
            return {}
        question = self.basis.project(query_tokens.vectors)
        weights = self.weights(query_tokens.ids)
        wanted = sorted(set(rows) | {n for _, n in pairs})
        position = {row: i for i, row in enumerate(wanted)}
        best = self._best_matches(question, wanted)  # (len(wanted), q)
        match = best @ weights
        window = match.copy()  # a row without neighbours gains nothing
        if pairs:
            owners = np.array([position[r] for r, _ in pairs])
            neighbours = np.array([position[n] for _, n in pairs])
            np.maximum.at(window, owners, np.maximum(best[owners], best[neighbours]) @ weights)
        wh = next((i for i, start in enumerate(query_tokens.starts.tolist()) if _WH_WORD.match(query, start)
                   and (start == 0 or not query[start - 1].isalnum())), None)
        wh_match = best[:, wh] if wh is not None else np.zeros(len(wanted), np.float32)
        return {row: (float(match[position[row]]), float(window[position[row]] - match[position[row]]),
                      float(wh_match[position[row]])) for row in rows}

    def _best_matches(self, question: np.ndarray, rows: list[int]) -> np.ndarray:
        """(len(rows), q): each question token's best cosine among each row's tokens (0 for a row with none)."""
        starts, ends = self.offsets[rows], self.offsets[np.asarray(rows) + 1]
        lengths = ends - starts
        present = lengths > 0
        out = np.zeros((len(rows), len(question)), np.float32)
        if present.any():
            starts, lengths = starts[present], lengths[present]
            index = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
            cosines = (question / _SCALE) @ self.vectors[index].astype(np.float32).T  # int8 back to cosines
            out[present] = np.maximum.reduceat(cosines, np.concatenate([[0], np.cumsum(lengths)[:-1]]), axis=1).T
        return out
