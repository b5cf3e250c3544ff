"""The configured parts: the embedder, the reader and where passages are stored, from the settings."""

from __future__ import annotations

from pathlib import Path

from qa.config import Settings
from qa.embed import Embedder, make_sentence_embedder
from qa.read import READER_DIR, SpanReader


def make_reader(settings: Settings) -> SpanReader | None:
    """The configured reader (QA_READER), or None when it is off."""
    if settings.reader == "off" or settings.read_windows == 0:
        return None
    return SpanReader(READER_DIR if settings.reader == "bundled" else Path(settings.reader),
                      threads=settings.reader_threads)


def reader_identity(settings: Settings) -> dict | None:
    """What the index manifest records about the reader configured at build time."""
    reader = make_reader(settings)
    return reader.identity if reader is not None else None


def make_embedder(settings: Settings, serving: bool = False) -> Embedder:
    """The configured embedder; ``serving`` picks thread settings for many short queries."""
    threads = settings.torch_threads if settings.torch_threads >= 0 else (1 if serving else 0)
    return make_sentence_embedder(settings.model, batch_size=settings.batch_size, backend=settings.backend,
                                  threads=threads)


def milvus_target(settings: Settings):
    """Where passages go with QA_STORE=milvus; None for the embedded FAISS + BM25 index."""
    if settings.store != "milvus":
        return None
    from qa.stores.milvus import MilvusTarget

    return MilvusTarget.from_settings(settings)


def make_ray_embedder(settings: Settings, *, address: str | None = None, workers: int | None = None):
    """The configured embedder spread over a Ray cluster (``qa index --ray``); ray loads when it is used."""
    from qa.distributed import RayEmbedder

    return RayEmbedder(make_embedder(settings), model=settings.model, backend=settings.backend,
                       batch_size=settings.batch_size, address=address, workers=workers)
