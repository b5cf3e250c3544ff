"""qa: an offline, extractive question-answering assistant over a folder of articles.

Use it from Python::

    import qa
    assistant = qa.build("articles/", index="index/")   # build or update the index, then open it
    assistant = qa.open("index/")                       # or open one built before
    reply = assistant.ask("What did Rahmon and Patrushev discuss?")
    reply.answer, reply.answerable, reply.confidence, reply.short_answer
    for sentence in reply.sentences: sentence.text, sentence.article_id, sentence.start, sentence.end

Importing the package is cheap: torch, faiss and fastapi load only when an assistant is built or opened.
Everything named in ``__all__`` is the public, stable API; the modules under it may change.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa._version import __version__

__all__ = [
    "Assistant", "BuildReport", "CorpusError", "IndexMismatch", "IndexMissing", "IndexProblem", "ModelNotFound",
    "ReaderUnavailable", "Reply", "Settings", "SettingsError", "__version__", "build", "open",
]

if TYPE_CHECKING:  # for type checkers and editors; at run time these load on first use (__getattr__)
    from qa.config import Settings, SettingsError
    from qa.pipeline import (Assistant, BuildReport, CorpusError, IndexMismatch, IndexMissing, IndexProblem,
                             ModelNotFound, ReaderUnavailable)
    from qa.types import Reply

_LAZY = {
    "Assistant": "qa.pipeline", "BuildReport": "qa.pipeline", "CorpusError": "qa.pipeline",
    "IndexMismatch": "qa.pipeline", "IndexMissing": "qa.pipeline", "IndexProblem": "qa.pipeline",
    "ModelNotFound": "qa.pipeline", "ReaderUnavailable": "qa.pipeline", "Reply": "qa.types",
    "Settings": "qa.config", "SettingsError": "qa.config",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'qa' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


def _settings(**values: Any) -> Settings:
    from qa.config import Settings

    return Settings.from_env(**{k: (Path(v) if k in ("corpus", "index") and v is not None else v)
                                for k, v in values.items()})


def open(index: str | Path = "index", **settings: Any) -> Assistant:  # noqa: A001 (qa.open, like io.open)
    """Open an index built by ``qa index`` or ``qa.build``. Thread-safe: share one assistant between threads.

    ``settings`` are any ``Settings`` fields (``model``, ``backend``, ``top_k``, ``reader``,
    ``min_confidence``…); the rest come from ``QA_*`` variables, then the defaults.
    Raises ``IndexMissing`` or ``IndexMismatch`` (with the command that fixes it).
    """
    from qa.pipeline import Assistant

    return Assistant.load(_settings(index=index, **settings))


def build(corpus: str | Path | None = None, index: str | Path = "index", *, full: bool = False,
          progress: Callable[[str, int, int], None] | None = None, **settings: Any) -> Assistant:
    """Build or update the index of a folder of articles (``QA_CORPUS``, else the sample bundled with qa),
    then open it. Only new or changed text is embedded unless ``full``; ``progress(stage, done, total)``
    hears the texts embedded; the build's summary is ``assistant.last_build``. Raises ``CorpusError``
    when the folder holds no articles."""
    from qa.pipeline import Assistant, build_index, make_embedder

    chosen = _settings(corpus=corpus, index=index, **settings)
    report = build_index(chosen, make_embedder(chosen), full=full,  # every core to build, one per question after
                         on_progress=progress or (lambda stage, done, total: None))
    assistant = Assistant.load(chosen)
    assistant.last_build = report
    return assistant
