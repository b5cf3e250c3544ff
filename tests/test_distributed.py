"""Embedding on Ray (qa/distributed.py, ``qa index --ray``).

Ray runs only in a subprocess inside a fresh network namespace (``unshare -n``: loopback only), never in
this process: tests/ray_worker.py starts a private local cluster twice (``RayEmbedder`` directly, then
``qa index --ray``), and these tests compare what it wrote with the local path, and check that every
socket listening in that namespace while Ray ran was on 127.0.0.1.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import write_corpus
from qa.cli import main
from qa.config import Settings

ROOT = Path(__file__).resolve().parent.parent
WORKER = Path(__file__).with_name("ray_worker.py")

# Of varied lengths, so batches pad differently than in one local encode, and more than one block per worker.
TEXTS = [
    "Iceland has about 130 volcanic mountains.",
    "Hekla is one of the most active volcanoes in the country.",
    "Eyjafjallajökull erupted in 2010 and disrupted air travel across Europe for six days, stranding "
    "millions of passengers while the ash cloud drifted south and east over the continent.",
    "Coffee was first cultivated in Yemen in the 15th century.",
    "Brazil is the largest coffee producer in the world.",
    "Vietnam is the second largest producer.",
    "The Golden Gate Bridge opened in 1937.",
    "Its main span is 1,280 metres long. It was painted International Orange, a colour chosen because it "
    "stays visible in fog and blends with the hills around the strait.",
    "Emperor penguins breed in the Antarctic winter.",
    "Males incubate the eggs for about 65 days.",
    "Who is Nikolai Patrushev?",
    "Scientists at the University of Iceland monitor seismic activity around the clock.",
    "Short.",
    "Dr. Smith of the U.S. Department of Agriculture studied coffee rust on Jan. 5, 1990.",
]


def _unshare_problem() -> str | None:
    if shutil.which("unshare") is None:
        return "the unshare command (util-linux) is missing"
    try:
        probe = subprocess.run(["unshare", "-n", sys.executable, "-c", "pass"], capture_output=True, text=True,
                               timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"unshare -n failed: {error}"
    if probe.returncode != 0:
        why = probe.stderr.strip() or f"status {probe.returncode}"
        return f"unshare -n is not permitted here ({why}): it needs root or user namespaces"
    return None


def _is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


@pytest.fixture(scope="module")
def ray_run(tmp_path_factory) -> dict:
    """Run tests/ray_worker.py once in a fresh network namespace; its report, vectors and index folder."""
    if importlib.util.find_spec("ray") is None:  # not imported here: Ray stays out of this process
        pytest.skip("Ray Data is not installed: pip install -e '.[ray]'")
    problem = _unshare_problem()
    if problem:
        pytest.skip(f"Ray must only run inside `unshare -n` in tests, and {problem}")
    folder = tmp_path_factory.mktemp("ray")
    corpus = write_corpus(folder / "corpus")
    texts = folder / "texts.json"
    texts.write_text(json.dumps(TEXTS), encoding="utf-8")
    out = folder / "out"
    out.mkdir()
    # The bundled model on torch (compared with the torch fixture; onnx-int8, the default, has its own check) and
    # FAISS, with batches of 4, so texts are batched unlike the local encode.
    env = {name: value for name, value in os.environ.items() if not name.startswith("QA_") and name != "RAY_ADDRESS"}
    env.update({"PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
                "OMP_NUM_THREADS": "1", "XDG_CACHE_HOME": str(folder / "cache"), "QA_BATCH_SIZE": "4", "QA_BACKEND": "torch"})
    started = time.perf_counter()
    result = subprocess.run(["unshare", "-n", sys.executable, str(WORKER), str(out), str(texts), str(corpus)],
                            capture_output=True, text=True, timeout=900, env=env, cwd=folder)
    assert result.returncode == 0, f"ray_worker.py failed ({result.returncode}):\n{result.stderr[-6000:]}"
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    report["seconds"] = time.perf_counter() - started
    report["stderr"] = result.stderr
    return {"report": report, "out": out, "corpus": corpus, "folder": folder}


@pytest.mark.model
def test_ray_gives_the_local_vectors_in_input_order(ray_run, real_embedder):
    report = ray_run["report"]
    vectors = np.load(ray_run["out"] / "vectors.npy")
    local = real_embedder.encode(TEXTS)
    assert vectors.dtype == np.float32 and vectors.shape == local.shape == (len(TEXTS), 384)
    assert np.allclose(vectors, local, atol=1e-5)
    # in input order: every row is nearest to its own local vector
    assert (np.argmax(vectors @ local.T, axis=1) == np.arange(len(TEXTS))).all()
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert report["empty_shape"] == [0, 384]
    assert report["ray_stopped"]


@pytest.mark.model
def test_ray_gives_the_local_onnx_int8_vectors(ray_run):
    report = ray_run["report"]
    if not report["onnx"]:
        pytest.skip("QA_BACKEND=onnx-int8 needs onnxruntime and onnx: pip install onnxruntime onnx")
    local, remote = np.load(ray_run["out"] / "onnx_local.npy"), np.load(ray_run["out"] / "onnx_ray.npy")
    assert remote.dtype == np.float32 and remote.shape == local.shape == (len(TEXTS), 384)
    assert np.allclose(remote, local, atol=1e-5)
    assert report["joined_cluster_left_running"]  # a RayEmbedder that joined a cluster does not stop it


@pytest.mark.model
def test_ray_listens_on_loopback_only(ray_run):
    report = ray_run["report"]
    own = os.readlink("/proc/self/ns/net")
    assert report["netns"] != own, "the worker did not run in its own network namespace"
    assert report["interfaces"] == ["lo"]
    assert report["node_ip"] == "127.0.0.1"
    for when in ("listening_encode", "listening_cli"):
        sockets = report[when]
        assert sockets, f"no listening socket recorded ({when}): was Ray running?"
        assert len(sockets) >= 4, sockets  # GCS, raylet (2), the driver's core worker, ...
        beyond = [s for s in sockets if not _is_loopback(s["address"])]
        assert not beyond, f"Ray listened beyond loopback ({when}): {beyond}"


@pytest.mark.model
def test_qa_index_ray_builds_the_same_index_as_a_local_build(ray_run, real_embedder, tmp_path):
    from qa import stores
    from qa.pipeline import Assistant, build_index

    report = ray_run["report"]
    assert report["cli_status"] == 0, report["cli_stderr"]
    assert "4 articles" in report["cli_stdout"] and "4 added" in report["cli_stdout"]
    assert "Traceback" not in report["cli_stderr"]
    assert report["second_status"] == 0 and "is up to date" in report["second_stdout"]
    assert report["second_starts"] == 0  # nothing to embed: no cluster started

    settings_ray = Settings.from_env({}, corpus=ray_run["corpus"], index=ray_run["out"] / "index")
    settings_local = Settings.from_env({}, corpus=ray_run["corpus"], index=tmp_path / "index")
    build_index(settings_local, real_embedder)
    ray_store = stores.load(settings_ray.index, model=real_embedder.name)
    local_store = stores.load(settings_local.index, model=real_embedder.name)
    assert ray_store.model == local_store.model == real_embedder.name
    assert [p.text for p in ray_store.passages] == [p.text for p in local_store.passages]
    assert np.allclose(ray_store.passage_vectors(), local_store.passage_vectors(), atol=1e-5)
    assert np.allclose(ray_store.sentence_vectors, local_store.sentence_vectors, atol=1e-5)

    for question in ("When did the Golden Gate Bridge open?", "How long do males incubate the eggs?"):
        from_ray = Assistant(ray_store, real_embedder, settings_ray).ask(question)
        from_local = Assistant(local_store, real_embedder, settings_local).ask(question)
        assert from_ray.answer == from_local.answer and from_ray.answerable


@pytest.mark.model
def test_qa_index_ray_fills_milvus(ray_run, real_embedder, tmp_path):
    from dataclasses import replace

    from qa.stores.milvus import MilvusTarget, disconnect
    from qa.pipeline import Assistant, build_index

    report = ray_run["report"]
    if not report["milvus"]:
        pytest.skip("the Milvus backend needs pip install -e '.[milvus]'")
    assert report["milvus_status"] == 0, report["milvus_stderr"]
    assert "4 articles" in report["milvus_stdout"]
    settings = Settings.from_env({}, corpus=ray_run["corpus"], index=ray_run["out"] / "index-milvus", store="milvus",
                                 milvus_uri=str(ray_run["out"] / "milvus.db"))
    local = replace(settings, store="faiss", index=tmp_path / "index")
    build_index(local, real_embedder)
    try:
        from_ray = Assistant.load(settings, real_embedder)
        assert from_ray.store.manifest["store"]["type"] == "milvus"
        from_local = Assistant.load(local, real_embedder)
        assert __import__("numpy").allclose(from_ray.store.passage_vectors(), from_local.store.passage_vectors(),
                                            atol=1e-5)
        for question in ("When did the Golden Gate Bridge open?", "How long do males incubate the eggs?"):
            a, b = from_ray.ask(question), from_local.ask(question)
            assert a.answerable and a.answer == b.answer
    finally:
        disconnect(MilvusTarget.from_settings(settings))


def test_ray_workers_needs_ray(tmp_path, capsys):
    assert main(["index", "--ray-workers", "2", "--corpus", str(tmp_path), "--index", str(tmp_path / "i")]) == 2
    assert "--ray-workers needs --ray" in capsys.readouterr().err
    assert main(["index", "--ray", "--ray-workers", "0", "--corpus", str(tmp_path),
                 "--index", str(tmp_path / "i")]) == 2


def test_index_help_documents_ray_and_nothing_imports_it():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    shown = subprocess.run([sys.executable, "-m", "qa", "index", "--help"], capture_output=True, text=True, env=env)
    assert shown.returncode == 0 and "--ray [ADDRESS]" in shown.stdout and "--ray-workers N" in shown.stdout
    code = "import sys, qa.cli, qa.distributed; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.strip() == "False"


def test_ray_is_imported_only_by_qa_distributed():
    import ast

    for path in (ROOT / "qa").glob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
        if any(name == "ray" or name.startswith("ray.") for name in names):
            assert path.stem == "distributed", f"{path.name} imports ray"


def test_without_ray_the_option_says_what_to_install(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    argv = ["index", "--ray", "--corpus", str(corpus), "--index", str(tmp_path / "i"), "-q"]
    code = f"import sys; sys.modules['ray'] = None; from qa.cli import main; sys.exit(main({argv!r}))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 2 and "pip install 'qa[ray]'" in result.stderr, result.stderr
    assert not (tmp_path / "i" / "CURRENT").exists()


def test_blocks_give_every_worker_work():
    from qa.distributed import _rows_per_block

    for texts, workers, batch in [(1, 2, 32), (4, 2, 32), (14, 2, 4), (1000, 2, 32), (100_000, 8, 32)]:
        rows = _rows_per_block(texts, workers, batch)
        blocks = -(-texts // rows)
        assert 1 <= rows <= batch * 16
        assert blocks >= min(texts, workers)
