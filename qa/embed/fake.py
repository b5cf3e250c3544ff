"""A deterministic, model-free embedder (hashed bag of words) for fast unit tests."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from qa.tokens import TokenVectors


class FakeEmbedder:
    """Deterministic hashed bag-of-words vectors: fast, model-free, for unit tests."""

    _token = re.compile(r"\w+")

    def __init__(self, dimension: int = 64, name: str = "fake-hash-embedder"):
        self.name = name
        self._dimension = dimension
        self.calls = 0  # texts encoded, so tests can check what a cache saved

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def max_tokens(self) -> int:
        return 256

    def count_tokens(self, text: str) -> int:
        return len(self._token.findall(text)) + 2

    def encode_with_tokens(self, texts: Sequence[str], skip_chars: Sequence[int] | None = None, *,
                           progress: bool = False, desc: str = "") -> tuple[np.ndarray, list[TokenVectors]]:
        """``encode``'s vectors; each word a token with its own random vector."""
        vectors = self.encode(texts)
        tokens = []
        for i, text in enumerate(texts):
            found = [m for m in self._token.finditer(text) if m.start() >= (skip_chars[i] if skip_chars else 0)]
            words = [m.group().lower() for m in found]
            tokens.append(TokenVectors(
                ids=np.array([int.from_bytes(hashlib.md5(w.encode()).digest()[:2], "big") for w in words], np.int32),
                vectors=self._encode_words(words), starts=np.array([m.start() for m in found], np.int32)))
        return vectors, tokens

    def _encode_words(self, words: list[str]) -> np.ndarray:
        """A random unit vector per word, seeded by the word: one word matches itself, others barely."""
        out = np.zeros((len(words), self._dimension), dtype=np.float32)
        for row, word in enumerate(words):
            seed = int.from_bytes(hashlib.md5(word.encode()).digest()[:8], "big")
            vector = np.random.default_rng(seed).standard_normal(self._dimension)
            out[row] = vector / np.linalg.norm(vector)
        return out

    def encode(self, texts: Sequence[str], *, progress: bool = False, desc: str = "") -> np.ndarray:
        self.calls += len(texts)
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in self._token.findall(text.lower()):
                digest = hashlib.md5(token.encode()).digest()
                out[row, digest[0] % self._dimension] += 1.0 if digest[1] % 2 else -1.0
            norm = np.linalg.norm(out[row])
            if norm == 0:
                out[row, 0] = 1.0
            else:
                out[row] /= norm
        return out
