"""The Milvus backend (Milvus Lite, the real Milvus core embedded) against the embedded FAISS + BM25 one."""

from dataclasses import replace
from pathlib import Path

import pytest

pytest.importorskip("pymilvus", reason="the Milvus backend needs pip install -e '.[milvus]'")

from qa import stores  # noqa: E402
from qa.config import Settings  # noqa: E402
from qa.pipeline import Assistant, build_index, index_exists  # noqa: E402

QUESTIONS = ["Which country is the largest coffee producer?", "What do penguins eat?", "Where do volcanoes form?"]


@pytest.fixture
def milvus_settings(tiny_settings, tmp_path):
    from qa.stores.milvus import MilvusTarget, disconnect

    settings = replace(tiny_settings, store="milvus", milvus_uri=str(tmp_path / "milvus.db"),
                       index=tmp_path / "index-milvus")
    yield settings
    disconnect(MilvusTarget.from_settings(settings))


def rows_in(settings, collection):
    from qa.stores.milvus import MilvusTarget, _all_keys, connect

    return set(_all_keys(connect(MilvusTarget.from_settings(settings)), collection))


def test_backend_setting_accepts_milvus_as_the_issue_names_it():
    assert Settings.from_env({"QA_BACKEND": "milvus"}).store == "milvus"
    assert Settings.from_env({"QA_BACKEND": "onnx-int8"}).backend == "onnx-int8"
    assert Settings.from_env({"QA_STORE": "milvus", "QA_BACKEND": "onnx-int8"}).backend == "onnx-int8"


def test_same_passages_and_answers_as_the_embedded_index(milvus_settings, tiny_settings, fake_embedder):
    build_index(tiny_settings, fake_embedder)
    build_index(milvus_settings, fake_embedder)
    faiss_side = Assistant.load(tiny_settings, fake_embedder)
    milvus_side = Assistant.load(milvus_settings, fake_embedder)
    assert milvus_side.store.manifest["store"]["type"] == "milvus"
    assert faiss_side.store.manifest["store"]["type"] == "faiss"
    for question in QUESTIONS:
        a, b = faiss_side.ask(question).to_dict(), milvus_side.ask(question).to_dict()
        assert a["answer"] == b["answer"] and a["answerable"] == b["answerable"]
        assert [p["passage_id"] for p in a["passages"]] == [p["passage_id"] for p in b["passages"]]


def test_rebuilds_write_incrementally_into_the_standby_collection(milvus_settings, fake_embedder):
    first = build_index(milvus_settings, fake_embedder)
    store = stores.load(milvus_settings.index, milvus=_target(milvus_settings))
    assert store.manifest["store"]["collection"] == "qa_a"
    before = rows_in(milvus_settings, "qa_a")
    assert len(before) == first.passages

    (milvus_settings.corpus / "bananas.txt").write_text("Bananas grow in Ecuador. Ecuador exports bananas.\n")
    build_index(milvus_settings, fake_embedder)
    assistant = Assistant.load(milvus_settings, fake_embedder)
    info = assistant.store.manifest["store"]
    assert info["collection"] == "qa_b" and info["upserted"] == first.passages + 1 and info["deleted"] == 0
    assert "Ecuador" in assistant.ask("Where do bananas grow?").answer
    assert rows_in(milvus_settings, "qa_a") == before  # the previous version's collection is untouched

    (milvus_settings.corpus / "bananas.txt").unlink()
    build_index(milvus_settings, fake_embedder)
    info = Assistant.load(milvus_settings, fake_embedder).store.manifest["store"]
    # Back on qa_a, which already held every passage: nothing written, nothing deleted.
    assert (info["collection"], info["upserted"], info["deleted"], info["kept"]) == ("qa_a", 0, 0, first.passages)


def test_removed_passages_are_deleted_by_key(milvus_settings, fake_embedder):
    build_index(milvus_settings, fake_embedder)
    build_index(milvus_settings, fake_embedder, full=True)  # fills qa_b with the same passages
    victim = next(milvus_settings.corpus.glob("*.txt"))
    victim.unlink()
    build_index(milvus_settings, fake_embedder)
    info = Assistant.load(milvus_settings, fake_embedder).store.manifest["store"]
    assert info["collection"] == "qa_a" and info["deleted"] >= 1 and info["upserted"] == 0
    assert len(rows_in(milvus_settings, "qa_a")) == info["kept"]


def test_a_failed_rebuild_leaves_the_live_collection_serving(milvus_settings, fake_embedder, monkeypatch):
    from qa.stores import milvus

    build_index(milvus_settings, fake_embedder)
    assistant = Assistant.load(milvus_settings, fake_embedder)
    expected = assistant.ask(QUESTIONS[0]).answer
    (milvus_settings.corpus / "bananas.txt").write_text("Bananas grow in Ecuador.\n")
    client = milvus.connect(_target(milvus_settings))
    monkeypatch.setattr(type(client), "upsert", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("disk full")))
    with pytest.raises(RuntimeError, match="disk full"):
        build_index(milvus_settings, fake_embedder)
    monkeypatch.undo()
    assert assistant.reload_if_changed() is False
    assert Assistant.load(milvus_settings, fake_embedder).ask(QUESTIONS[0]).answer == expected
    assert stores.load(milvus_settings.index, milvus=_target(milvus_settings)).manifest["store"]["collection"] == "qa_a"


def test_switching_backends_is_settings_only_and_reuses_vectors(milvus_settings, tiny_settings, fake_embedder):
    shared = replace(milvus_settings, index=tiny_settings.index)
    build_index(tiny_settings, fake_embedder)
    assert index_exists(tiny_settings) and not index_exists(shared)  # `qa serve` would build for Milvus
    report = build_index(shared, fake_embedder)
    assert report.embedded == 0 and report.reused > 0
    assert Assistant.load(shared, fake_embedder).store.manifest["store"]["type"] == "milvus"
    with pytest.raises(stores.IndexMismatch, match="QA_STORE=milvus"):
        Assistant.load(tiny_settings, fake_embedder)


def test_search_within_one_article_never_misses(milvus_settings, fake_embedder):
    build_index(milvus_settings, fake_embedder)
    assistant = Assistant.load(milvus_settings, fake_embedder)
    for article in assistant.store.article_list:
        rows = assistant.store.passages_by_article[article.id]
        found = assistant.retrieve("coffee volcano penguin bridge", 20, article_id=article.id)
        assert {p.article_id for p in found} == {article.id}
        assert len(found) == len(rows)  # every passage of the article is reachable
        lexical = assistant.store.lexical_candidates("Brazil coffee", 10, article.id)
        assert all(assistant.store.passages[r].article_id == article.id for r in lexical)


def test_rrf_uses_milvus_hybrid_ranker(milvus_settings, fake_embedder):
    settings = replace(milvus_settings, fusion="rrf")
    build_index(settings, fake_embedder)
    assistant = Assistant.load(settings, fake_embedder)
    passages = assistant.retrieve(QUESTIONS[0], 3)
    assert passages[0].article_id == "coffee"
    assert all(0 < p.score <= 2 / 61 + 1e-4 for p in passages)  # reciprocal-rank scores, k = 60 (rounded)


def _target(settings):
    from qa.stores.milvus import MilvusTarget

    return MilvusTarget.from_settings(settings)


def _listening_tcp() -> dict[str, str]:
    """socket inode -> local address of every listening TCP socket on this host (namespace)."""
    import ipaddress

    found = {}
    for table, width in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 16)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[3] != "0A":  # LISTEN
                continue
            raw = bytes.fromhex(parts[1].split(":")[0])
            # /proc prints each 32-bit word in host (little-endian) order
            packed = b"".join(raw[i : i + 4][::-1] for i in range(0, width, 4))
            found[parts[9]] = str(ipaddress.ip_address(packed))
    return found


def test_milvus_lite_listens_on_nothing_beyond_loopback(milvus_settings, fake_embedder):
    import os

    build_index(milvus_settings, fake_embedder)
    Assistant.load(milvus_settings, fake_embedder).ask(QUESTIONS[0])
    children = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid() and b"milvus" in cmdline:
            children.append(pid)
    assert children, "no Milvus Lite process found"
    inodes = set()
    for pid in children:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    listening = _listening_tcp()
    beyond = {listening[i] for i in inodes & set(listening)} - {"127.0.0.1", "::1"}
    assert not beyond, f"Milvus Lite listens on {beyond}"
