"""The index stage: where passages, sentences and their vectors are kept, and how passages are searched.

    base.py      the store interface (``IndexStore``), one version's data (``IndexData``), the errors
    vectors.py   FAISS vector search and the choice of index type (the only module importing faiss)
    local.py     the embedded store: FAISS + BM25 (bm25s), files in the version folder
    milvus.py    the Milvus store (the only module importing pymilvus)
    versions.py  versions on disk: written beside the live one, switched atomically, loaded with a fallback

The two stores are siblings: each builds on ``base`` and neither imports the other.
"""

from qa.stores.base import (SECTIONED, TITLED, IndexCorrupt, IndexData, IndexMismatch, IndexMissing, IndexProblem,
                            IndexStore, embedding_texts)
from qa.stores.local import FaissStore, LexicalIndex
from qa.stores.vectors import VectorIndexSpec, VectorSearch
from qa.stores.versions import (FORMAT_VERSION, POINTER, VERSIONS, corpus_fingerprint, load, load_version,
                                model_mismatch, read_pointer, rebuild_hint, store_type, write_version)

__all__ = [
    "FORMAT_VERSION", "POINTER", "SECTIONED", "TITLED", "VERSIONS", "FaissStore", "IndexCorrupt", "IndexData",
    "IndexMismatch", "IndexMissing", "IndexProblem", "IndexStore", "LexicalIndex", "VectorIndexSpec", "VectorSearch",
    "corpus_fingerprint", "embedding_texts", "load", "load_version", "model_mismatch", "read_pointer", "rebuild_hint",
    "store_type", "write_version",
]
