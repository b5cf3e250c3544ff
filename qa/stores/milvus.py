"""Passage search on Milvus: the same interface as the embedded FAISS + BM25 index.

The only module that imports pymilvus. A Milvus index version keeps its documents (articles,
passages, sentences and their vectors) in the version folder like any other, and its passages in
a Milvus collection: the dense vector, BM25 through Milvus's own full-text function on an
analysed field (title and text), and the metadata (article id, title, offsets, text) as fields.

Two collections, ``<prefix>_a`` and ``<prefix>_b``, take turns: a rebuild brings the one that is
not live up to date in place (rows keyed by a content hash: unchanged passages are left alone,
new ones upserted, gone ones deleted, in batches of at most 1,000), then the new version goes
live by the index folder's atomic pointer and the alias ``<prefix>`` is switched to it. A killed
rebuild never touches the live collection.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import warnings
from dataclasses import dataclass

import numpy as np

from qa.chunk import embedding_text, section_title
from qa.stores.base import IndexCorrupt, IndexData, IndexProblem, IndexStore

BATCH = 1000  # rows per insert, upsert, delete or query: Milvus's advice for request sizes
STRONG = "Strong"  # every read must see the writes just made
TEXT_MAX = 65_535  # Milvus's VARCHAR limit, in bytes


class MilvusUnavailable(IndexProblem):
    pass


@dataclass(frozen=True)
class MilvusTarget:
    """Where a Milvus index version lives: from QA_MILVUS_* settings (the token is never stored)."""

    uri: str
    token: str = ""
    prefix: str = "qa"
    index_type: str = "FLAT"

    @classmethod
    def from_settings(cls, settings) -> MilvusTarget:
        return cls(settings.milvus_uri, settings.milvus_token, settings.milvus_collection, settings.milvus_index_type)


_clients: dict[tuple[str, str], object] = {}


def connect(target: MilvusTarget):
    """A client for the target, shared within the process (Milvus Lite opens a file only once)."""
    key = (target.uri, target.token)
    if key not in _clients:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # milvus_lite imports the deprecated pkg_resources
            try:
                from pymilvus import MilvusClient
            except ImportError:
                raise MilvusUnavailable("QA_STORE=milvus needs pymilvus: pip install -e '.[milvus]'") from None
            try:
                _clients[key] = MilvusClient(uri=target.uri, token=target.token)
            except Exception as error:  # pymilvus raises several types for the same problem
                hint = (" (a Milvus Lite file can be open in one process at a time: stop the other `qa` "
                        "using it, or run a Milvus server and set QA_MILVUS_URI to its address)"
                        if not target.uri.startswith(("http://", "https://", "tcp://")) else "")
                raise MilvusUnavailable(f"cannot open Milvus at {target.uri!r}: {error}{hint}") from None
    return _clients[key]


@contextlib.contextmanager
def _quiet_pymilvus():
    """pymilvus logs expected failures (no aliases in Milvus Lite, its iterator's fallback) as errors."""
    logger = logging.getLogger("pymilvus")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def disconnect(target: MilvusTarget | None = None) -> None:
    """Close the shared client of ``target`` (all clients when None); Milvus Lite then stops its server."""
    for key in [k for k in _clients if target is None or k == (target.uri, target.token)]:
        with contextlib.suppress(Exception):
            _clients.pop(key).close()


def passage_key(passage, title: str) -> str:
    """A row's primary key: changes whenever anything stored in the row would."""
    digest = hashlib.sha256()
    for part in (passage.article_id, str(passage.start), str(passage.end), title, passage.text):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()[:32]


def _quote(value: str) -> str:
    """A Milvus filter string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _clip(text: str, limit: int) -> str:
    raw = text.encode("utf-8", "surrogatepass")
    return text if len(raw) <= limit else raw[:limit].decode("utf-8", "ignore")


def _schema(client, dimension: int):
    from pymilvus import DataType, Function, FunctionType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=64)
    schema.add_field("article_id", DataType.VARCHAR, max_length=TEXT_MAX)
    schema.add_field("title", DataType.VARCHAR, max_length=TEXT_MAX)
    schema.add_field("start", DataType.INT64)
    schema.add_field("end", DataType.INT64)
    schema.add_field("text", DataType.VARCHAR, max_length=TEXT_MAX)
    # Title and text (qa.chunk.embedding_text), analysed for Milvus's BM25, as bm25s indexes it.
    schema.add_field("document", DataType.VARCHAR, max_length=TEXT_MAX, enable_analyzer=True,
                     analyzer_params={"type": "english"})
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(Function(name="text_bm25", function_type=FunctionType.BM25,
                                 input_field_names=["document"], output_field_names=["sparse"]))
    return schema


def _index_params(client, index_type: str):
    params = client.prepare_index_params()
    extra = {"M": 32, "efConstruction": 200} if index_type == "HNSW" else {}
    params.add_index("vector", index_type=index_type, metric_type="IP", params=extra)
    params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    return params


FIELDS = {"key", "article_id", "title", "start", "end", "text", "document", "vector", "sparse"}


def _compatible(client, name: str, dimension: int) -> bool:
    """Whether an existing collection has this module's fields and the vectors' dimension."""
    fields = {f.get("name"): f for f in client.describe_collection(name).get("fields", [])}
    return set(fields) == FIELDS and int(fields["vector"].get("params", {}).get("dim", 0)) == dimension


def write_collection(target: MilvusTarget, data: IndexData, live_collection: str | None) -> dict:
    """Bring the collection that is not live up to date with ``data``; returns what the manifest records."""
    client = connect(target)
    names = [f"{target.prefix}_a", f"{target.prefix}_b"]
    name = names[1] if live_collection == names[0] else names[0]
    dimension = int(data.passage_vectors.shape[1])
    if client.has_collection(name) and not _compatible(client, name, dimension):
        client.drop_collection(name)
    if not client.has_collection(name):
        client.create_collection(name, schema=_schema(client, dimension),
                                 index_params=_index_params(client, target.index_type), consistency_level=STRONG)
    articles = {a.id: a for a in data.articles}
    titles = [section_title(articles[p.article_id], p.start) for p in data.passages]
    keys = [passage_key(p, title) for p, title in zip(data.passages, titles)]
    present = set(_all_keys(client, name))
    wanted = set(keys)
    gone = sorted(present - wanted)
    for start in range(0, len(gone), BATCH):
        client.delete(name, ids=gone[start : start + BATCH])
    fresh = [i for i, key in enumerate(keys) if key not in present]
    for start in range(0, len(fresh), BATCH):
        rows = []
        for i in fresh[start : start + BATCH]:
            p = data.passages[i]
            rows.append({"key": keys[i], "article_id": p.article_id, "title": _clip(titles[i], TEXT_MAX),
                         "start": p.start, "end": p.end, "text": _clip(p.text, TEXT_MAX),
                         "document": _clip(embedding_text(titles[i], p.text), TEXT_MAX),
                         "vector": np.asarray(data.passage_vectors[i], np.float32).tolist()})
        client.upsert(name, rows)
    client.flush(name)
    client.load_collection(name)
    count = _count(client, name)
    if count != len(keys):
        raise IndexCorrupt(f"Milvus collection {name!r} holds {count} rows after the rebuild, expected {len(keys)}")
    return {"type": "milvus", "collection": name, "alias": target.prefix, "index_type": target.index_type,
            "upserted": len(fresh), "deleted": len(gone), "kept": len(keys) - len(fresh)}


def point_alias(target: MilvusTarget, collection: str) -> bool:
    """Point the alias ``<prefix>`` at the collection now live. Milvus Lite has no aliases: False there."""
    client = connect(target)
    try:
        with _quiet_pymilvus():
            try:
                client.alter_alias(collection, target.prefix)
            except Exception:
                client.create_alias(collection, target.prefix)
    except Exception as error:
        if "UNIMPLEMENTED" in str(error):
            return False  # Milvus Lite: the index folder's pointer is the switch
        logging.getLogger(__name__).warning("could not point alias %r at %r: %s", target.prefix, collection, error)
        return False
    return True


def _all_keys(client, name: str) -> list[str]:
    with _quiet_pymilvus():
        iterator = client.query_iterator(name, batch_size=BATCH, filter="", output_fields=["key"],
                                         consistency_level=STRONG)
    keys = []
    while True:
        rows = iterator.next()
        if not rows:
            iterator.close()
            return keys
        keys.extend(r["key"] for r in rows)


def _count(client, name: str) -> int:
    return int(client.query(name, filter="", output_fields=["count(*)"], consistency_level=STRONG)[0]["count(*)"])


class MilvusStore(IndexStore):
    """An index version whose passages are searched in Milvus."""

    native_hybrid = True

    def __init__(self, data: IndexData, manifest: dict, path, target: MilvusTarget, passage_vectors: np.ndarray):
        super().__init__(data, manifest, path)
        self.target = target
        self.client = connect(target)
        self.collection = manifest["store"]["collection"]
        self._vectors = passage_vectors
        articles = {a.id: a for a in data.articles}
        self.keys = [passage_key(p, section_title(articles[p.article_id], p.start)) for p in data.passages]
        self.key_row = {key: row for row, key in enumerate(self.keys)}
        try:
            count = _count(self.client, self.collection)
        except Exception as error:
            raise IndexCorrupt(f"Milvus collection {self.collection!r} cannot be read ({error})") from None
        if count != len(self.keys):
            raise IndexCorrupt(f"Milvus collection {self.collection!r} holds {count} rows, "
                               f"the index version {manifest['version']!r} has {len(self.keys)} passages")

    def _search(self, data, field: str, metric: str, k: int, article_id: str | None) -> list[tuple[int, float]]:
        params = {"metric_type": metric}
        if self.target.index_type == "HNSW" and field == "vector":
            params["params"] = {"ef": max(128, k)}
        found = self.client.search(self.collection, data=[data], anns_field=field, limit=k, search_params=params,
                                   filter=f"article_id == {_quote(article_id)}" if article_id is not None else "",
                                   output_fields=[], consistency_level=STRONG)[0]
        return [(self.key_row[h["id"]], float(h["distance"])) for h in found if h["id"] in self.key_row]

    def dense_candidates(self, query_vector, k, article_id=None):
        if article_id is not None:
            return self._exact_within(query_vector, k, article_id)  # a filtered ANN search may miss
        return self._search(np.asarray(query_vector, np.float32).tolist(), "vector", "IP", k, None)

    def lexical_candidates(self, query, k, article_id=None):
        if not query.strip():
            return {}
        return {row: score for row, score in self._search(query, "sparse", "BM25", k, article_id) if score > 0}

    def hybrid_candidates(self, query: str, query_vector: np.ndarray, k: int, article_id: str | None = None):
        """Milvus's own fusion: reciprocal-rank fusion of its dense and BM25 searches."""
        from pymilvus import AnnSearchRequest, RRFRanker

        expr = f"article_id == {_quote(article_id)}" if article_id is not None else ""
        requests = [AnnSearchRequest([np.asarray(query_vector, np.float32).tolist()], "vector", {"metric_type": "IP"}, k,
                                     expr=expr)]
        if query.strip():
            requests.append(AnnSearchRequest([query], "sparse", {"metric_type": "BM25"}, k, expr=expr))
        found = self.client.hybrid_search(self.collection, requests, RRFRanker(60), limit=k, output_fields=[],
                                          consistency_level=STRONG)[0]
        return [(self.key_row[h["id"]], float(h["distance"])) for h in found if h["id"] in self.key_row]

    def passage_similarity(self, query_vector, rows):
        if not len(rows):
            return np.zeros(0, np.float32)
        return np.asarray(self._vectors[np.asarray(rows, dtype=np.int64)], np.float32) @ np.asarray(query_vector, np.float32)

    def passage_vectors(self) -> np.ndarray:
        return np.asarray(self._vectors, np.float32)
