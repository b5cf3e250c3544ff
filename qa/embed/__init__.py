"""The embed stage: text -> unit vectors (and token vectors), on one of two backends.

    base.py           the ``Embedder`` interface, model lookup (never a download), the progress bar
    torch_backend.py  sentence-transformers on torch (the only module importing sentence_transformers)
    onnx_backend.py   the same model on ONNX Runtime with int8 weights (the default)
    export.py         ONNX export and int8 quantisation, once per model, cached (the reader uses it too)
    fake.py           a deterministic hashed bag of words for unit tests

Importing this package is cheap: torch, sentence_transformers and onnxruntime load when a model does.
"""

from __future__ import annotations

from qa.config import DEFAULT_MODEL
from qa.embed.base import (BACKENDS, BackendUnavailable, Embedder, ModelNotFound, TokenEmbedder, has_tokens,
                           progress_bar, resolve_model)
from qa.embed.export import export_once, onnx_cache_root, quantization_config, quantize_int8
from qa.embed.fake import FakeEmbedder
from qa.embed.onnx_backend import OnnxInt8Embedder
from qa.embed.torch_backend import SentenceTransformerEmbedder

__all__ = [
    "BACKENDS", "BackendUnavailable", "Embedder", "FakeEmbedder", "ModelNotFound", "OnnxInt8Embedder",
    "SentenceTransformerEmbedder", "TokenEmbedder", "export_once", "has_tokens", "make_sentence_embedder",
    "onnx_cache_root", "progress_bar", "quantization_config", "quantize_int8", "resolve_model",
]


def make_sentence_embedder(model: str = DEFAULT_MODEL, batch_size: int = 32, backend: str = "onnx-int8",
                           threads: int = 0) -> Embedder:
    if backend == "torch":
        return SentenceTransformerEmbedder(model, batch_size=batch_size, threads=threads)
    if backend == "onnx-int8":
        return OnnxInt8Embedder(model, batch_size=batch_size, threads=threads)
    raise ModelNotFound(f"unknown embedding backend {backend!r}: use one of {', '.join(BACKENDS)}")
