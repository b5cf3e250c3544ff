"""Soak: `qa serve` under a steady mixed load for minutes, watching errors, latency and memory.

    python bench/soak.py [--minutes 10] [--clients 8] [--corpus DIR] [--warmup-seconds 60]

Starts `qa serve` on a free loopback port over a copy of the bundled sample (qa/seeds/) (or --corpus),
with its index in a temporary folder. N clients then ask, for the whole run, a rotating mix of
questions: plain ones, follow-ups carrying the previous answer as history, the chat fragment
(/chat/turn), the no-JavaScript page (/?q=), article and health reads, and some bad requests that
must be refused with the right 4xx (empty and control-character questions, a body over
QA_MAX_BODY_BYTES, form data, top_k 0, path traversal). The server's resident memory (VmRSS) is
sampled every few seconds. Printed and appended to bench/RESULTS.md: requests, statuses,
unexpected outcomes ("errors": a good request not answered 200, a bad one not refused with its
4xx, any 5xx, timeout or lost connection), p50/p99 latency, and RSS after warm-up, at the end and
at its maximum.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, append_results  # noqa: E402

QUESTIONS = [
    "What did Rahmon and Patrushev discuss?",
    "Who is Nikolai Patrushev?",
    "What is the position of Tajikistan on security cooperation?",
    "Who received Patrushev?",
    "What is the capital of France?",  # not in the articles: the assistant abstains (still a 200)
    "Which organization did they talk about?",
]
FOLLOW_UPS = [
    ("Who is Nikolai Patrushev?", "When was he born?"),
    ("Who is Emomali Rahmon?", "What did he discuss?"),
]
TIMEOUT = 60.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] if ordered else float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


class Client:
    """One keep-alive HTTP/1.1 connection; reconnects when the server closes it (as after a 413)."""

    def __init__(self, port: int):
        self.port = port
        self.connection: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
            try:
                self.connection.request(method, path, body=body, headers=headers or {})
                response = self.connection.getresponse()
                data = response.read()
                if response.getheader("connection", "").lower() == "close":
                    self.close()
                return response.status, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()  # a kept-alive connection the server had closed: retry once on a new one
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def ask_json(question: str, history: list[dict] | None = None, top_k: int = 5) -> bytes:
    return json.dumps({"question": question, "history": history or [], "top_k": top_k}).encode()


JSON = {"Content-Type": "application/json"}


def scenario(step: int, client: Client, state: dict) -> tuple[str, int, int]:
    """Runs request number ``step`` of a client; returns (kind, expected status, status)."""
    kind = step % 20
    if kind in (0, 3, 6, 9, 12, 15):  # plain questions
        status, _ = client.request("POST", "/ask", ask_json(QUESTIONS[(step // 3) % len(QUESTIONS)]), JSON)
        return "ask", 200, status
    if kind in (1, 10):  # a follow-up: ask, then ask again with that answer as history (cut as chat.js does)
        first, second = FOLLOW_UPS[(step // 10) % len(FOLLOW_UPS)]
        status, body = client.request("POST", "/ask", ask_json(first), JSON)
        if status != 200:
            return "follow-up", 200, status
        answer = json.loads(body)["answer"][:1000]
        history = [*state.get("history", []), {"question": first, "answer": answer}][-10:]
        state["history"] = history
        status, _ = client.request("POST", "/ask", ask_json(second, history), JSON)
        return "follow-up", 200, status
    if kind in (4, 16):
        question = QUESTIONS[step % len(QUESTIONS)]
        status, _ = client.request("POST", f"/chat/turn?index={step % 50}", ask_json(question), JSON)
        return "chat turn", 200, status
    if kind == 7:
        status, _ = client.request("GET", "/?q=Who+is+Nikolai+Patrushev%3F", headers={"Accept": "text/html"})
        return "no-JS page", 200, status
    if kind == 13:
        status, body = client.request("GET", "/api/articles")
        listed = json.loads(body) if status == 200 else []
        if listed:
            status, _ = client.request("GET", f"/api/articles/{listed[step % len(listed)]['id']}")
        return "articles", 200, status
    if kind == 19:
        status, _ = client.request("GET", "/health")
        return "health", 200, status
    # bad requests, each with the refusal it must get
    bad = {
        2: ("POST", "/ask", json.dumps({"question": "   "}).encode(), JSON, 422),
        5: ("POST", "/ask", json.dumps({"question": "bell \x07 and NUL \x00"}).encode(), JSON, 422),
        8: ("POST", "/ask", json.dumps({"question": "x" * 70_000}).encode(), JSON, 413),
        11: ("POST", "/ask", b"question=hello", {"Content-Type": "application/x-www-form-urlencoded"}, 415),
        14: ("POST", "/ask", json.dumps({"question": "ok", "top_k": 0}).encode(), JSON, 422),
        17: ("GET", "/articles/..%2F..%2Fetc%2Fpasswd", None, {"Accept": "text/html"}, 404),
        18: ("POST", "/ask", json.dumps({"question": "ok", "history": [{"question": "q", "answer": "a" * 1001}]})
             .encode(), JSON, 422),
    }
    method, path, body, headers, expected = bad[kind]
    status, _ = client.request(method, path, body, headers)
    return "bad request", expected, status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the run, 0.1–60 (default 10)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients, 1–64 (default 8)")
    parser.add_argument("--corpus", type=Path, help="folder of articles (default: a copy of seeds/)")
    parser.add_argument("--warmup-seconds", type=float, help="RSS baseline taken after this (default: 60 s, "
                        "or a tenth of a shorter run)")
    parser.add_argument("--sample-seconds", type=float, default=5.0, help="RSS sampling interval (default 5)")
    parser.add_argument("--no-results", action="store_true", help="print only; do not append to bench/RESULTS.md")
    args = parser.parse_args()
    if not 0.1 <= args.minutes <= 60:
        parser.error("--minutes must be between 0.1 and 60")
    if not 1 <= args.clients <= 64:
        parser.error("--clients must be between 1 and 64")
    duration = args.minutes * 60
    warmup = args.warmup_seconds if args.warmup_seconds is not None else min(60.0, duration / 10)

    workdir = Path(tempfile.mkdtemp(prefix="qa-soak-"))
    try:
        if args.corpus is not None:
            if not args.corpus.is_dir():
                sys.exit(f"--corpus {args.corpus}: not a folder")
            corpus = args.corpus.resolve()
        else:
            corpus = workdir / "corpus"
            shutil.copytree(ROOT / "qa" / "seeds", corpus)
        return run(args, corpus, workdir, duration, warmup)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run(args, corpus: Path, workdir: Path, duration: float, warmup: float) -> int:
    port = free_port()
    log_path = workdir / "server.log"
    env = {**os.environ, "QA_CORPUS": str(corpus), "QA_INDEX": str(workdir / "index"), "HF_HUB_OFFLINE": "1"}
    load_before = os.getloadavg()
    with open(log_path, "wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "qa", "serve", "--host", "127.0.0.1", "--port", str(port)],
                                  cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        probe = Client(port)
        deadline = time.monotonic() + 600  # the first start builds the index with the model
        while True:
            try:
                if probe.request("GET", "/health")[0] == 200:
                    break
            except OSError:
                probe.close()
            if time.monotonic() > deadline or server.poll() is not None:
                sys.exit("qa serve did not start:\n" + log_path.read_text(errors="replace")[-3000:])
            time.sleep(0.5)
        probe.close()
        print(f"qa serve is up on port {port} (pid {server.pid}); {args.clients} clients for {duration:.0f} s",
              file=sys.stderr)

        results: list[tuple[str, int, int, float]] = []  # kind, expected, status, ms
        lock = threading.Lock()
        started = time.monotonic()
        stop_at = started + duration
        samples: list[tuple[float, int]] = []

        def sampler() -> None:
            while time.monotonic() < stop_at and server.poll() is None:
                kib = rss_kib(server.pid)
                if kib is not None:
                    samples.append((time.monotonic() - started, kib))
                time.sleep(args.sample_seconds)
            kib = rss_kib(server.pid)
            if kib is not None:
                samples.append((time.monotonic() - started, kib))

        def client(n: int) -> None:
            conn = Client(port)
            state: dict = {}
            step = n * 7  # the clients start at different points of the mix
            while time.monotonic() < stop_at:
                begun = time.perf_counter()
                try:
                    kind, expected, status = scenario(step, conn, state)
                except (OSError, http.client.HTTPException) as error:
                    kind, expected, status = f"lost ({type(error).__name__})", 200, 0
                    conn.close()
                with lock:
                    results.append((kind, expected, status, (time.perf_counter() - begun) * 1000))
                step += 1
            conn.close()

        watcher = threading.Thread(target=sampler, daemon=True)
        watcher.start()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        for t in threads:
            t.start()
        last_report = started
        while any(t.is_alive() for t in threads):
            time.sleep(1)
            if time.monotonic() - last_report >= 60:
                last_report = time.monotonic()
                with lock:
                    done, bad = len(results), sum(1 for _, e, s, _ in results if s != e)
                print(f"  {last_report - started:5.0f} s: {done} requests, {bad} unexpected, "
                      f"RSS {samples[-1][1] / 1024 if samples else float('nan'):.0f} MiB", file=sys.stderr)
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        watcher.join(args.sample_seconds + 5)
        alive = server.poll() is None
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    load_after = os.getloadavg()
    log_text = log_path.read_text(errors="replace")

    statuses = Counter(status for _, _, status, _ in results)
    unexpected = Counter((kind, expected, status) for kind, expected, status, _ in results if status != expected)
    answer_ms = [ms for kind, _, status, ms in results if kind in ("ask", "chat turn", "no-JS page") and status == 200]
    follow_ms = [ms for kind, _, status, ms in results if kind == "follow-up" and status == 200]
    all_ms = [ms for _, _, _, ms in results]
    after_warmup = next((kib for t, kib in samples if t >= warmup), samples[-1][1] if samples else 0)
    end_rss = samples[-1][1] if samples else 0
    max_rss = max((kib for _, kib in samples), default=0)
    mib = lambda kib: kib / 1024  # noqa: E731

    lines = [
        f"`qa serve` (real model) over {'a copy of seeds/' if args.corpus is None else f'`{args.corpus}`'}, "
        f"{args.clients} clients for {elapsed / 60:.1f} min; mix: plain questions, follow-ups with history, "
        f"/chat/turn, /?q=, article reads, /health and 7 kinds of bad request (each must get its 4xx).",
        f"Load average (1/5/15 min) before: {load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f}, "
        f"after: {load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f} (other jobs may share the machine).",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| requests | {len(results)} ({len(results) / elapsed:.1f}/s) |",
        f"| statuses | {', '.join(f'{s}: {n}' for s, n in sorted(statuses.items()))} |",
        f"| errors (unexpected outcomes) | **{sum(unexpected.values())}**"
        + (" — " + "; ".join(f"{k} expected {e} got {s}: {n}" for (k, e, s), n in sorted(unexpected.items()))
           if unexpected else "") + " |",
        f"| answer latency (/ask, /chat/turn, /?q=) p50 / p99 | {statistics.median(answer_ms) if answer_ms else float('nan'):.1f}"
        f" / {percentile(answer_ms, 99):.1f} ms |",
        f"| follow-up pair (2 × /ask) p50 / p99 | {statistics.median(follow_ms) if follow_ms else float('nan'):.1f}"
        f" / {percentile(follow_ms, 99):.1f} ms |",
        f"| all requests p50 / p99 | {statistics.median(all_ms) if all_ms else float('nan'):.1f}"
        f" / {percentile(all_ms, 99):.1f} ms |",
        f"| server RSS after {warmup:.0f} s warm-up / at the end / max | {mib(after_warmup):.1f} / {mib(end_rss):.1f}"
        f" / {mib(max_rss):.1f} MiB ({mib(end_rss - after_warmup):+.1f} MiB over the run, {len(samples)} samples) |",
        f"| server alive at the end; tracebacks in its log | {'yes' if alive else '**no**'}; "
        f"{log_text.count('Traceback')} |",
    ]
    if args.no_results:
        print("\n".join(lines))
    else:
        append_results("Soak: mixed load on qa serve (bench/soak.py)", lines)
    return 0 if not unexpected and alive else 1


if __name__ == "__main__":
    sys.exit(main())
