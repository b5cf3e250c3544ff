"""Rebuilding while serving: live swaps, kill -9 mid-build, one rebuild at a time, the admin endpoint."""

import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

from fastapi.testclient import TestClient

from qa import stores
from qa.app import create_app
from qa.embed import FakeEmbedder
from qa.pipeline import Assistant, build_index

WORKER = Path(__file__).with_name("rebuild_worker.py")
ROOT = Path(__file__).resolve().parent.parent


def write_articles(folder: Path, count: int, marker: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (folder / f"article-{i:03d}.txt").write_text(
            " ".join(f"Sentence {j} of article {i} mentions {marker} and topic{i} number {j}." for j in range(30))
        )


def test_live_swap_under_concurrent_queries(tiny_settings, fake_embedder):
    build_index(tiny_settings, fake_embedder)
    assistant = Assistant.load(tiny_settings, fake_embedder)
    errors, answered, stop = [], [0], threading.Event()

    def client():
        while not stop.is_set():
            try:
                reply = assistant.ask("Which country is the largest coffee producer?")
                cited = {c.id for c in reply.citations}  # whichever version answered, it is consistent
                assert all(s.citation in cited for s in reply.sentences)
                answered[0] += 1
            except Exception as error:  # noqa: BLE001 - any failure is what this test looks for
                errors.append(repr(error))

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    for round_number in range(5):
        (tiny_settings.corpus / "coffee.txt").write_text(f"Round {round_number}: Kenya grows excellent coffee beans.")
        build_index(tiny_settings, fake_embedder)
        assert assistant.reload_if_changed()
    stop.set()
    for t in threads:
        t.join(10)
    assert errors == [] and answered[0] > 0
    assert "Round 4" in assistant.article("coffee").text
    assert not assistant.reload_if_changed()  # nothing new


def test_server_picks_up_a_new_version_without_restart(tiny_settings, fake_embedder):
    build_index(tiny_settings, fake_embedder)
    settings = replace(tiny_settings, reload_interval=0.1)
    with TestClient(create_app(settings, Assistant.load(settings, fake_embedder))) as client:
        (tiny_settings.corpus / "kites.txt").write_text("Kites were invented in China about 2,400 years ago.")
        build_index(tiny_settings, fake_embedder)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if client.get("/api/articles/kites").status_code == 200:
                break
            time.sleep(0.1)
        assert client.get("/api/articles/kites").status_code == 200


def test_server_started_without_an_index_loads_one_when_it_appears(tiny_settings, fake_embedder, monkeypatch):
    import qa.pipeline

    monkeypatch.setattr(qa.pipeline.components, "make_embedder", lambda settings, serving=False: fake_embedder)
    settings = replace(tiny_settings, reload_interval=0.1)
    with TestClient(create_app(settings)) as client:
        assert client.post("/ask", json={"question": "coffee?"}).status_code == 503
        build_index(tiny_settings, fake_embedder)
        deadline = time.monotonic() + 10
        while client.get("/health").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert client.post("/ask", json={"question": "Which country grows coffee?"}).status_code == 200


def test_damaged_new_version_is_not_switched_to(tiny_settings, fake_embedder):
    build_index(tiny_settings, fake_embedder)
    assistant = Assistant.load(tiny_settings, fake_embedder)
    serving = assistant.store.manifest["version"]
    (tiny_settings.corpus / "coffee.txt").write_text("Tea is grown in Assam.")
    newer = build_index(tiny_settings, fake_embedder).version
    damaged = tiny_settings.index / "versions" / newer / "articles.jsonl"
    damaged.write_bytes(damaged.read_bytes().replace(b"Assam", b"Assan"))
    assert not assistant.reload_if_changed()
    assert assistant.store.manifest["version"] == serving


def _run_worker(corpus: Path, index: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, str(WORKER), str(corpus), str(index)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _finish(worker: subprocess.Popen, timeout: float = 120) -> tuple[int, str]:
    _, stderr = worker.communicate(timeout=timeout)  # communicate() also closes the pipe
    return worker.returncode, stderr


def test_kill_9_at_random_moments_leaves_a_loadable_index(tmp_path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    write_articles(corpus, 40, "alpha")
    code, stderr = _finish(_run_worker(corpus, index))
    assert code == 0, stderr
    versions = {stores.read_pointer(index)}
    write_articles(corpus, 40, "beta")
    rng = random.Random(1234)
    for _ in range(8):
        worker = _run_worker(corpus, index)
        time.sleep(rng.uniform(0.2, 4.5))  # from start-up to after the build ends
        worker.send_signal(signal.SIGKILL)
        _finish(worker, 30)
        store = stores.load(index)  # never raises: the pointer only ever names a complete version
        assert store.manifest["articles"] == 40
        versions.add(store.manifest["version"])
        assert store.manifest["version"] in {p.name for p in (index / "versions").iterdir()}
        reply = Assistant(store, FakeEmbedder(), replace(_settings(corpus, index))).ask("topic7 number 3")
        assert reply.passages
    assert _finish(_run_worker(corpus, index))[0] == 0
    leftovers = [p.name for p in (index / "versions").iterdir() if p.name.startswith(".tmp-")]
    assert leftovers == []  # staging folders of killed builds are cleaned up
    assert len(list((index / "versions").iterdir())) <= 2  # the live version and the previous one


def _settings(corpus, index):
    from qa.config import Settings

    return Settings.from_env({}, corpus=corpus, index=index, model="fake-hash-embedder")


def test_two_rebuilds_at_once_one_is_refused(tmp_path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    write_articles(corpus, 60, "gamma")
    slow = _run_worker(corpus, index)
    deadline = time.monotonic() + 30
    while not (index / ".lock").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # the first worker holds the lock while it embeds
    second = subprocess.run([sys.executable, "-m", "qa", "index", "--corpus", str(corpus), "--index", str(index), "-q"],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert second.returncode == 1 and "already running" in second.stderr
    assert _finish(slow)[0] == 0


class GatedEmbedder(FakeEmbedder):
    """Blocks encoding of more than one text until released, so a rebuild stays 'running'."""

    def __init__(self):
        super().__init__()
        self.gate = threading.Event()

    def encode(self, texts, **kwargs):
        if len(texts) > 1:
            self.gate.wait(30)
        return super().encode(texts, **kwargs)


def test_admin_reindex_endpoint(tiny_settings):
    embedder = GatedEmbedder()
    embedder.gate.set()
    build_index(tiny_settings, embedder)
    embedder.gate.clear()
    settings = replace(tiny_settings, admin_token="s3cret-token", reload_interval=0)
    with TestClient(create_app(settings, Assistant.load(settings, embedder))) as client:
        assert client.post("/admin/reindex").status_code == 401
        assert client.post("/admin/reindex", headers={"Authorization": "Bearer wrong"}).status_code == 401
        auth = {"Authorization": "Bearer s3cret-token"}
        (tiny_settings.corpus / "kites.txt").write_text("Kites were invented in China. They fly on strings.")
        started = client.post("/admin/reindex", headers=auth)
        assert started.status_code == 202
        job = started.json()["id"]
        assert client.post("/admin/reindex", headers=auth).status_code == 409
        assert client.get(f"/admin/reindex/{job}", headers=auth).json()["state"] in ("queued", "running")
        embedder.gate.set()
        deadline = time.monotonic() + 20
        while client.get(f"/admin/reindex/{job}", headers=auth).json()["state"] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        status = client.get(f"/admin/reindex/{job}", headers=auth).json()
        assert status["state"] == "succeeded" and status["report"]["added"] == 1
        assert client.get("/api/articles/kites").status_code == 200  # swapped in without a restart
        assert client.get("/admin/reindex/unknown", headers=auth).status_code == 404


def test_admin_routes_are_absent_without_a_token(tiny_settings, tiny_assistant):
    with TestClient(create_app(tiny_settings, tiny_assistant)) as client:
        assert client.post("/admin/reindex", headers={"Authorization": "Bearer x"}).status_code in (404, 405)
        assert "/admin/reindex" not in client.get("/openapi.json").json()["paths"]
