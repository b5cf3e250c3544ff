"""Index versions on disk: write one beside the live one, switch atomically, load with a fallback.

Layout of the index folder (no pickle anywhere; every file's sha256 is in the manifest)::

    index/CURRENT                      name of the live version (replaced atomically)
    index/versions/<name>/manifest.json
                          articles.jsonl   one article a line, with its full text
                          passages.jsonl   id, article, offsets, sentence rows, content hash
                          sentences.npy    int64 rows: article row, start, end
                          passages.faiss   passage vectors (inner product on unit vectors)
                          sentence_vectors.npy  sentence vectors (float32)
                          bm25/            the BM25 index of the passages (bm25s, numpy + json)
                          tokens/          sentences' token vectors for token matching (qa.tokens):
                                           basis.npy, vectors.npy (int8), offsets.npy, ids.npy
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np

from qa.stores.base import (SECTIONED, TITLED, IndexCorrupt, IndexData, IndexMismatch, IndexMissing, IndexStore,
                            embedding_texts)
from qa.stores.local import FaissStore, LexicalIndex
from qa.stores.vectors import VectorSearch, faiss_version
from qa.tokens import SentenceTokens, TokenBasis
from qa.types import Article, Passage, Span

FORMAT_VERSION = 2  # 2: BM25 stored with each version
POINTER = "CURRENT"
VERSIONS = "versions"


def corpus_fingerprint(articles) -> str:
    digest = hashlib.sha256()
    for article in sorted(articles, key=lambda a: a.id):
        digest.update(article.id.encode())
        digest.update(b"\0")
        digest.update(hashlib.sha256(article.text.encode("utf-8", "surrogatepass")).digest())
    return digest.hexdigest()[:32]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8", errors="surrogatepass") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False))
            f.write("\n")


def write_version(root: Path, data: IndexData, milvus=None) -> str:
    """Write a new version beside the live one, then make it live atomically. Returns its name.

    ``milvus`` (a ``qa.stores.milvus.MilvusTarget``) puts the passage search in Milvus instead of FAISS
    and bm25s files.
    """
    root = Path(root)
    versions = root / VERSIONS
    versions.mkdir(parents=True, exist_ok=True)
    name = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"-{os.getpid()}-{os.urandom(3).hex()}"
    staging = versions / f".tmp-{name}"
    staging.mkdir()
    try:
        _write_jsonl(
            staging / "articles.jsonl",
            ({"id": a.id, "title": a.title, "source": a.source, "url": a.url, "date": a.date, "text": a.text,
              **({"pages": list(a.pages)} if a.pages else {})}
             for a in data.articles),
        )
        _write_jsonl(
            staging / "passages.jsonl",
            ({"id": p.id, "article_id": p.article_id, "start": p.start, "end": p.end, "rows": list(rows), "hash": p.hash}
             for p, rows in zip(data.passages, data.passage_rows)),
        )
        np.save(staging / "sentences.npy", np.asarray(data.sentence_table, dtype=np.int64), allow_pickle=False)
        np.save(staging / "sentence_vectors.npy", np.asarray(data.sentence_vectors, dtype=np.float32), allow_pickle=False)
        if data.tokens is not None:
            _write_tokens(staging / "tokens", data.tokens)
        if milvus is None:
            passage_search = VectorSearch.build(data.passage_vectors, data.index_spec)
            passage_search.write(staging / "passages.faiss")
            (staging / "bm25").mkdir()
            LexicalIndex.build(embedding_texts(data)).write(staging / "bm25")
            store_info, index_params = {"type": "faiss"}, passage_search.params
        else:
            from qa.stores.milvus import write_collection

            np.save(staging / "passage_vectors.npy", np.asarray(data.passage_vectors, dtype=np.float32),
                    allow_pickle=False)
            store_info = write_collection(milvus, data, _live_collection(root, milvus.prefix))
            index_params = {"type": "milvus", "index": store_info["index_type"]}
        files = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())
        for file in files:
            _fsync_file(staging / file)
        manifest = {
            "format_version": FORMAT_VERSION,
            "version": name,
            "model": data.model,
            "dimension": int(data.passage_vectors.shape[1]),
            "index_type": index_params,
            TITLED: "article title, newline, text: embedded for passages and sentences, BM25 for passages",
            SECTIONED: "in Markdown articles the title is followed by the headings above the text (qa.blocks.section_title)",
            "store": store_info,
            "articles": len(data.articles),
            "passages": len(data.passages),
            "sentences": int(len(data.sentence_table)),
            "corpus_fingerprint": corpus_fingerprint(data.articles),
            "faiss_version": faiss_version(),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "files": {file: _sha256(staging / file) for file in files},
            **data.extra_manifest,
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        _fsync_file(staging / "manifest.json")
        for folder in ("bm25", "tokens"):
            if (staging / folder).is_dir():
                _fsync_dir(staging / folder)
        _fsync_dir(staging)
        os.replace(staging, versions / name)
        _fsync_dir(versions)
        _set_pointer(root, name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _prune(root, keep={name, *_previous(root, name)})
    if milvus is not None:
        from qa.stores.milvus import point_alias

        point_alias(milvus, store_info["collection"])
    return name


def _pointed_manifest(root: Path, pointer: str = POINTER) -> dict | None:
    """The manifest of the version a pointer names, or None."""
    name = read_pointer(root, pointer)
    if name is None:
        return None
    try:
        return json.loads((Path(root) / VERSIONS / name / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def store_type(root: Path) -> str | None:
    """faiss or milvus: where the live version's passages are searched (None: no index)."""
    manifest = _pointed_manifest(root)
    return None if manifest is None else manifest.get("store", {}).get("type", "faiss")


def _live_collection(root: Path, prefix: str) -> str | None:
    """The Milvus collection the live (or, with no readable live version, the previous one) searches."""
    manifest = _pointed_manifest(root) or _pointed_manifest(root, "PREVIOUS") or {}
    store = manifest.get("store", {})
    return store.get("collection") if store.get("type") == "milvus" and store.get("alias") == prefix else None


def _set_pointer(root: Path, name: str) -> None:
    previous = read_pointer(root)
    tmp = root / f".{POINTER}.tmp-{os.getpid()}"
    tmp.write_text(name + "\n", encoding="utf-8")
    _fsync_file(tmp)
    os.replace(tmp, root / POINTER)
    _fsync_dir(root)
    if previous and previous != name:
        (root / "PREVIOUS.tmp").write_text(previous + "\n", encoding="utf-8")
        os.replace(root / "PREVIOUS.tmp", root / "PREVIOUS")


def read_pointer(root: Path, name: str = POINTER) -> str | None:
    try:
        value = (Path(root) / name).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return value or None


def _previous(root: Path, current: str) -> list[str]:
    prev = read_pointer(root, "PREVIOUS")
    return [prev] if prev and prev != current else []


def _prune(root: Path, keep: set[str]) -> None:
    """Drop versions other than the live and the previous one, and staging left by killed builds."""
    versions = Path(root) / VERSIONS
    for entry in versions.iterdir():
        if entry.name not in keep:
            shutil.rmtree(entry, ignore_errors=True)


def rebuild_hint(index: Path) -> str:
    return f"qa index --full --index {index}"


def model_mismatch(root: Path, built: str, configured: str) -> str:
    """Why an index cannot serve the configured model, and the command that fixes it."""
    built_base, _, built_backend = built.partition("+")
    base, _, backend = configured.partition("+")
    if built_base == base:  # same model, other backend: say which, and both ways out
        built_backend, backend = built_backend or "torch", backend or "torch"
        return (f"the index in {str(root)!r} was built with QA_BACKEND={built_backend}, but this qa runs "
                f"QA_BACKEND={backend}: rebuild it with `{rebuild_hint(root)}`, or serve it with "
                f"QA_BACKEND={built_backend}")
    return (f"the index in {str(root)!r} was built with model {built!r}, "
            f"but the configured model is {configured!r}: rebuild it with `{rebuild_hint(root)}`")


def load(root: Path, *, model: str | None = None, verify: bool = True, milvus=None) -> IndexStore:
    """Load the live version, falling back to the previous one if the live one is damaged."""
    root = Path(root)
    name = read_pointer(root)
    if name is None:
        raise IndexMissing(f"no index in {str(root)!r}: build one with `qa index --index {root}`")
    errors = []
    for candidate in [name, *_previous(root, name)]:
        try:
            store = load_version(root / VERSIONS / candidate, verify=verify, milvus=milvus)
        except IndexCorrupt as error:
            errors.append(str(error))
            continue
        if model is not None and store.model != model:
            raise IndexMismatch(model_mismatch(root, store.model, model))
        return store
    raise IndexCorrupt("; ".join(errors) + f". Rebuild it with `{rebuild_hint(root)}`")


def load_version(path: Path, *, verify: bool = True, milvus=None) -> IndexStore:
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise IndexCorrupt(f"index version {path.name!r} has no readable manifest ({error})") from None
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatch(
            f"the index in {str(path.parent.parent)!r} has format {manifest.get('format_version')!r}, "
            f"this qa reads format {FORMAT_VERSION}: rebuild it with `{rebuild_hint(path.parent.parent)}`"
        )
    if verify:
        for file, expected in manifest.get("files", {}).items():
            try:
                actual = _sha256(path / file)
            except OSError:
                actual = None
            if actual != expected:
                raise IndexCorrupt(f"index file {path.name}/{file} is missing or damaged (checksum mismatch)")
    try:
        articles = tuple(
            Article(id=r["id"], title=r["title"], text=r["text"], source=r["source"], url=r.get("url"), date=r.get("date"),
                    pages=tuple(r["pages"]) if r.get("pages") else None)
            for r in _read_jsonl(path / "articles.jsonl")
        )
        by_id = {a.id: a for a in articles}
        sentence_table = np.load(path / "sentences.npy", allow_pickle=False)
        passages, rows = [], []
        for r in _read_jsonl(path / "passages.jsonl"):
            text = by_id[r["article_id"]].text
            lo, hi = r["rows"]
            spans = tuple(Span(int(s), int(e)) for _, s, e in sentence_table[lo:hi])
            passages.append(Passage(r["id"], r["article_id"], r["start"], r["end"], text[r["start"] : r["end"]], spans, r["hash"]))
            rows.append((lo, hi))
        # Memory-mapped: only the rows a question touches are paged in, so serving RSS stays small.
        sentence_vectors = np.load(path / "sentence_vectors.npy", mmap_mode="r", allow_pickle=False)
        tokens = _read_tokens(path / "tokens", len(sentence_table)) if (path / "tokens").is_dir() else None
        if manifest.get("store", {}).get("type") == "milvus":
            passage_vectors = np.load(path / "passage_vectors.npy", mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        raise IndexCorrupt(f"index version {path.name!r} could not be read ({error})") from None
    if manifest.get("store", {}).get("type") == "milvus":
        if milvus is None:
            raise IndexMismatch(f"the index in {str(path.parent.parent)!r} searches its passages in Milvus: "
                                "set QA_STORE=milvus and QA_MILVUS_URI, or rebuild it with QA_STORE=faiss")
        from qa.stores.milvus import MilvusStore

        data = IndexData(articles, tuple(passages), tuple(rows), sentence_table, np.zeros((0, 0), np.float32),
                         sentence_vectors, manifest["model"], tokens=tokens)
        return MilvusStore(data, manifest, path, milvus, passage_vectors)
    try:
        params = manifest.get("index_type")
        search = VectorSearch.read(path / "passages.faiss", params if isinstance(params, dict) else None)
        lexical = LexicalIndex.read(path / "bm25")
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        raise IndexCorrupt(f"index version {path.name!r} could not be read ({error})") from None
    if search.size != len(passages) or search.dimension != manifest["dimension"]:
        raise IndexCorrupt(f"index version {path.name!r} is inconsistent with its manifest")
    data = IndexData(articles, tuple(passages), tuple(rows), sentence_table, np.zeros((0, 0), np.float32),
                     sentence_vectors, manifest["model"], tokens=tokens)
    return FaissStore(data, search, manifest, path, lexical)


def _write_tokens(folder: Path, tokens: SentenceTokens) -> None:
    folder.mkdir()
    np.save(folder / "basis.npy", tokens.basis.to_array(), allow_pickle=False)
    np.save(folder / "vectors.npy", np.asarray(tokens.vectors, np.int8), allow_pickle=False)
    np.save(folder / "offsets.npy", np.asarray(tokens.offsets, np.int64), allow_pickle=False)
    np.save(folder / "ids.npy", np.asarray(tokens.ids, np.int32), allow_pickle=False)


def _read_tokens(folder: Path, sentences: int) -> SentenceTokens:
    tokens = SentenceTokens(TokenBasis.from_array(np.load(folder / "basis.npy", allow_pickle=False)),
                            np.load(folder / "vectors.npy", mmap_mode="r", allow_pickle=False),
                            np.load(folder / "offsets.npy", allow_pickle=False),
                            np.load(folder / "ids.npy", allow_pickle=False))
    if (len(tokens.offsets) != sentences + 1 or tokens.offsets[-1] != len(tokens.vectors)
            or len(tokens.ids) != len(tokens.vectors)):
        raise ValueError("token files disagree in length")
    return tokens


def _read_jsonl(path: Path):
    with open(path, encoding="utf-8", errors="surrogatepass") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)
