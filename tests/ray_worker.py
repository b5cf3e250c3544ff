"""Run by tests/test_distributed.py inside a fresh network namespace (``unshare -n``), where only the
loopback interface exists: Ray must never listen beyond it in tests.

    python tests/ray_worker.py OUT_DIR TEXTS_JSON CORPUS

1. ``RayEmbedder`` on a private local cluster (2 workers): the vectors of the texts in TEXTS_JSON
   (-> OUT_DIR/vectors.npy) and of no texts, with the listening sockets seen while the cluster runs; then,
   on the same cluster, with QA_BACKEND=onnx-int8 (-> onnx_ray.npy, and onnx_local.npy without Ray);
2. ``qa index --ray --ray-workers 2`` of CORPUS into OUT_DIR/index, with the listening sockets seen just
   before the command stops its cluster; then the same command again (nothing changed: no cluster).

Everything measured goes to OUT_DIR/report.json; the test checks it.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import io
import ipaddress
import json
import os
import socket
import struct
import sys
import time
from pathlib import Path

SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


def bring_loopback_up() -> None:
    """``ip link set lo up`` without needing iproute2: a fresh namespace starts with ``lo`` down."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        if not flags & IFF_UP:
            fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH22x", b"lo", flags | IFF_UP))


def _address(hex_address: str) -> str:
    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw[::-1]))
    # /proc/net/tcp6: four 32-bit words, each in host (little-endian) byte order
    return str(ipaddress.IPv6Address(b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))))


def listening_sockets() -> list[dict]:
    """Every TCP socket listening and every bound UDP socket in this network namespace."""
    found = []
    for kind, wanted in (("tcp", "0A"), ("tcp6", "0A"), ("udp", "07"), ("udp6", "07")):
        try:
            lines = Path(f"/proc/net/{kind}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] != wanted:
                continue
            address, port = fields[1].split(":")
            found.append({"proto": kind, "address": _address(address), "port": int(port, 16)})
    return found


def interfaces() -> list[str]:
    return sorted(name for _, name in socket.if_nameindex())


def _onnx_int8(out_dir: Path, texts: list[str]) -> bool:
    """QA_BACKEND=onnx-int8: the local vectors (exporting the model first) and the Ray ones, if installed."""
    import importlib.util

    if importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("onnx") is None:
        return False
    import numpy as np

    from qa.config import Settings
    from qa.pipeline import make_ray_embedder
    from qa.embed import make_sentence_embedder

    np.save(out_dir / "onnx_local.npy", make_sentence_embedder(backend="onnx-int8").encode(texts))
    embedder = make_ray_embedder(Settings.from_env(backend="onnx-int8"), workers=2)
    np.save(out_dir / "onnx_ray.npy", embedder.encode(texts))
    embedder.close()  # it joined the running cluster: it must leave it running
    return True


def main(out_dir: Path, texts_file: Path, corpus: Path) -> dict:
    from qa import distributed
    from qa.cli import main as qa_main
    from qa.config import Settings
    from qa.pipeline import make_ray_embedder

    report: dict = {"netns": os.readlink("/proc/self/netns") if os.path.exists("/proc/self/netns")
                    else os.readlink("/proc/self/ns/net"), "interfaces": interfaces()}
    texts = json.loads(texts_file.read_text(encoding="utf-8"))

    started = time.perf_counter()
    with make_ray_embedder(Settings.from_env(), workers=2) as embedder:
        import numpy as np

        vectors = embedder.encode(texts)
        report["encode_seconds"] = round(time.perf_counter() - started, 1)
        np.save(out_dir / "vectors.npy", vectors)
        report["empty_shape"] = list(embedder.encode([]).shape)
        import ray

        report["node_ip"] = ray.util.get_node_ip_address()
        report["cluster_cpus"] = ray.cluster_resources().get("CPU")
        report["listening_encode"] = listening_sockets()
        started = time.perf_counter()
        report["onnx"] = _onnx_int8(out_dir, texts)  # on the cluster already running
        report["onnx_seconds"] = round(time.perf_counter() - started, 1)
        report["joined_cluster_left_running"] = ray.is_initialized()
    report["ray_stopped"] = not ray.is_initialized()

    # qa index --ray: snapshot the listeners just before the command stops its cluster
    snapshots = []
    close = distributed.RayEmbedder.close

    def close_and_record(self):
        if self._ray is not None:
            snapshots.append(listening_sockets())
        close(self)

    distributed.RayEmbedder.close = close_and_record
    started = time.perf_counter()
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        report["cli_status"] = qa_main(["index", "--ray", "--ray-workers", "2", "--corpus", str(corpus),
                                        "--index", str(out_dir / "index"), "-q"])
    report["cli_seconds"] = round(time.perf_counter() - started, 1)
    report["cli_stdout"], report["cli_stderr"] = out.getvalue(), err.getvalue()
    report["listening_cli"] = snapshots[-1] if snapshots else None

    # again, with nothing changed: no cluster is started at all
    starts = []
    start = distributed.RayEmbedder.start

    def count_start(self):
        starts.append(1)
        return start(self)

    distributed.RayEmbedder.start = count_start
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        report["second_status"] = qa_main(["index", "--ray", "--corpus", str(corpus), "--index", str(out_dir / "index"),
                                           "-q"])
    report["second_stdout"], report["second_starts"] = out.getvalue(), len(starts)
    distributed.RayEmbedder.start = start

    # qa index --ray into Milvus (Milvus Lite, the real Milvus core): the same command, other settings
    report["milvus"] = importlib.util.find_spec("pymilvus") is not None
    if report["milvus"]:
        os.environ.update({"QA_STORE": "milvus", "QA_MILVUS_URI": str(out_dir / "milvus.db")})
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            report["milvus_status"] = qa_main(["index", "--ray", "--ray-workers", "2", "--corpus", str(corpus),
                                               "--index", str(out_dir / "index-milvus"), "-q"])
        report["milvus_stdout"], report["milvus_stderr"] = out.getvalue(), err.getvalue()
        from qa.stores.milvus import disconnect

        disconnect()  # Milvus Lite: one process per file; the test opens it next
    return report


if __name__ == "__main__":
    bring_loopback_up()
    out_dir = Path(sys.argv[1])
    result = main(out_dir, Path(sys.argv[2]), Path(sys.argv[3]))
    (out_dir / "report.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
