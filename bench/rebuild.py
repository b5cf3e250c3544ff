"""Rebuilding the embeddings: incremental speed-up, and rebuilds while a server answers.

    python bench/rebuild.py [--skip-live]

1. The 48 SQuAD v1.1 dev articles as Markdown: ``qa index --full``, then one article changes and
   ``qa index`` runs again (both timed as whole commands, model loading included).
2. With ``qa serve`` answering 4 concurrent clients: the changed text is rebuilt and must be
   answered within seconds; rebuilds are killed with SIGKILL at random moments; two rebuilds
   start at once. Every failed query is counted. Figures are appended to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, append_results, write_markdown_corpus  # noqa: E402


def qa(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qa", *args], cwd=ROOT, env=env, capture_output=True, text=True)


def timed(*args: str, env: dict) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    result = qa(*args, env=env)
    if result.returncode != 0:
        sys.exit(f"qa {' '.join(args)} failed:\n{result.stderr}")
    return time.perf_counter() - started, result


def ask(port: int, question: str) -> tuple[int, dict | None]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/ask", data=json.dumps({"question": question}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, None
    except OSError:
        return 0, None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-live", action="store_true", help="only measure the incremental speed-up")
    parser.add_argument("--kills", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="qa-rebuild-"))
    corpus, index = work / "corpus", work / "index"
    questions = write_markdown_corpus(corpus)
    env = {**os.environ, "QA_CORPUS": str(corpus), "QA_INDEX": str(index), "PYTHONUNBUFFERED": "1"}

    full_seconds, full = timed("index", "--full", "-q", env=env)
    changed = corpus / "Normans.md"
    changed.write_text(changed.read_text(encoding="utf-8") + "\nThe Norman archive of 2031 lists 417 zebras.\n",
                       encoding="utf-8")
    incremental_seconds, incremental = timed("index", "-q", env=env)
    unchanged_seconds, _ = timed("index", "-q", env=env)
    lines = [
        "| rebuild of the 48-article SQuAD corpus | seconds (whole command) |",
        "| --- | --- |",
        f"| `qa index --full` | {full_seconds:.1f} |",
        f"| `qa index` after one article changed | {incremental_seconds:.1f} |",
        f"| `qa index` with nothing changed | {unchanged_seconds:.1f} |",
        "",
        f"Speed-up of the incremental rebuild: **{full_seconds / incremental_seconds:.1f}×** (target ≥ 20×).",
        "",
        "Incremental summary: " + " / ".join(line.strip() for line in incremental.stdout.splitlines()[1:3]),
    ]
    if not args.skip_live:
        lines += ["", *live(env, corpus, questions, args.kills)]
    append_results("Rebuilds (bench/rebuild.py)", lines)
    return 0


def live(env: dict, corpus: Path, questions: list[dict], kills: int) -> list[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "qa", "serve", "--port", str(port)], cwd=ROOT,
                              env={**env, "QA_RELOAD_INTERVAL": "0.5"}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while ask(port, "ready?")[0] != 200:
            if time.monotonic() > deadline or server.poll() is not None:
                sys.exit("qa serve did not start")
            time.sleep(0.5)
        stop = threading.Event()
        counts = {"ok": 0, "failed": 0}
        lock = threading.Lock()

        def client(seed: int) -> None:
            rng = random.Random(seed)
            while not stop.is_set():
                status, _ = ask(port, rng.choice(questions)["question"])
                with lock:
                    counts["ok" if status == 200 else "failed"] += 1

        clients = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(4)]
        for thread in clients:
            thread.start()

        marker = corpus / "Normans.md"
        marker.write_text(marker.read_text(encoding="utf-8") + "\nThe lighthouse keeper of Fécamp counted 9,413 gulls.\n",
                          encoding="utf-8")
        started = time.perf_counter()
        rebuilt = qa("index", "-q", env=env)
        rebuild_seconds = time.perf_counter() - started
        while True:
            status, body = ask(port, "How many gulls did the lighthouse keeper of Fécamp count?")
            if body and "9,413" in body["answer"]:
                break
            if time.perf_counter() - started > 120:
                break
            time.sleep(0.1)
        visible_after = time.perf_counter() - started

        rng = random.Random(7)
        survived = 0
        for i in range(kills):
            marker.write_text(marker.read_text(encoding="utf-8") + f"\nKill round {i} added this line.\n", encoding="utf-8")
            build = subprocess.Popen([sys.executable, "-m", "qa", "index", "--full", "-q"], cwd=ROOT, env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(1.0, 60.0))
            build.send_signal(signal.SIGKILL)
            build.wait()
            status, body = ask(port, "How many gulls did the lighthouse keeper of Fécamp count?")
            survived += status == 200 and body is not None and "9,413" in body["answer"]

        first = subprocess.Popen([sys.executable, "-m", "qa", "index", "--full", "-q"], cwd=ROOT, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(3)
        second = qa("index", "-q", env=env)
        first_err = first.communicate()[1]
        stop.set()
        for thread in clients:
            thread.join(60)
        return [
            "Live, with `qa serve` answering 4 concurrent clients throughout:",
            "",
            f"- changed text rebuilt in {rebuild_seconds:.1f} s (exit {rebuilt.returncode}) and answered "
            f"{visible_after:.1f} s after the rebuild started;",
            f"- {kills} rebuilds killed with SIGKILL at random moments: the server answered the last good "
            f"version after {survived} of {kills};",
            f"- two rebuilds at once: the second exited {second.returncode} with "
            f"“{second.stderr.strip()}”; the first exited {first.returncode}{(' ' + first_err.strip()) if first_err.strip() else ''};",
            f"- queries: {counts['ok']} answered, **{counts['failed']} failed**.",
        ]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)


if __name__ == "__main__":
    sys.exit(main())
