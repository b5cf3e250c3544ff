"""The only package that knows the order of the stages; the web and CLI adapters call only this.

build:  ingest -> chunk -> embed -> index (a new version, made live atomically)    build.py
ask:    expand query -> embed -> retrieve -> read -> extract -> cite               assistant.py

    components.py  the configured embedder (local or on Ray), reader and store target, from ``Settings``
    library.py     changing the library while it serves: queued rebuilds, uploads, removals, exports
"""

from qa.distributed import DistributedError
from qa.embed import ModelNotFound
from qa.ingest import CorpusError
from qa.pipeline.assistant import Assistant, as_turns, example_questions
from qa.pipeline.build import BuildReport, RebuildRunning, build_index, index_exists, rebuild_lock
from qa.pipeline.components import make_embedder, make_ray_embedder, make_reader, milvus_target, reader_identity
from qa.pipeline.library import (LibraryRefused, Reindexer, ReindexJob, add_files, check_upload, export_feedback,
                                 library_folder, remove_article, safe_file_name)
from qa.read import ReaderUnavailable
from qa.retrieve import Turn
from qa.stores import IndexMismatch, IndexMissing, IndexProblem

__all__ = [
    "Assistant", "BuildReport", "CorpusError", "DistributedError", "IndexMismatch", "IndexMissing", "IndexProblem",
    "LibraryRefused", "ModelNotFound", "ReaderUnavailable", "RebuildRunning", "ReindexJob", "Reindexer", "Turn",
    "add_files", "as_turns", "build_index", "check_upload", "example_questions", "export_feedback", "index_exists",
    "library_folder", "make_embedder", "make_ray_embedder", "make_reader", "milvus_target", "reader_identity",
    "rebuild_lock", "remove_article", "safe_file_name",
]
