"""Answer quality black-box over HTTP: SQuAD v1.1 dev as a folder of articles, every question POSTed to /ask.

    python bench/http_quality.py [--workdir /tmp/qa-bench-squad] [--clients 2] [--limit N]

What a user would do, with none of ``qa eval``'s shortcuts: each article written as ``<title>.md``
(a '# ' title, then its paragraphs), ``qa index``, ``qa serve``, then ``POST /ask`` with top_k 5 for
every question. It reports sentence hit@1 / hit@3 (the first, or any of the first three, quoted
sentences of an answered reply contain a gold answer, SQuAD normalisation), answer-recall@5 (a
returned passage contains one), how many were answered, and the same for articles 1–24 (where the
weights were fitted) and 25–48 (held out); figures are appended to RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, SQUAD, append_results, require, write_markdown_corpus  # noqa: E402

sys.path.insert(0, str(ROOT))
from qa.evaluate import contains_answer  # noqa: E402

_local = threading.local()


def ask(port: int, question: str) -> dict | None:
    """The /ask reply as JSON (None on an error), on a kept-alive connection per client thread."""
    import http.client

    try:
        connection = getattr(_local, "connection", None)
        if connection is None:
            connection = _local.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("POST", "/ask", body=json.dumps({"question": question, "top_k": 5}).encode(),
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        body = response.read()
        return json.loads(body) if response.status == 200 else {"status": response.status}
    except (OSError, http.client.HTTPException, ValueError):
        _local.connection = None
        return None


def article_numbers(dataset: Path) -> list[int]:
    """The 1-based article number of each question, in write_markdown_corpus's order."""
    numbers = []
    for number, article in enumerate(json.loads(dataset.read_text(encoding="utf-8"))["data"], 1):
        numbers += [number] * sum(len(p["qas"]) for p in article["paragraphs"])
    return numbers


def score(questions: list[dict], replies: list[dict | None]) -> dict:
    rows = []
    for q, reply in zip(questions, replies):
        answered = bool(reply and reply.get("answerable"))
        quoted = [s["text"] for s in reply["sentences"]] if answered else []
        passages = [p["text"] for p in reply.get("passages", [])] if reply else []
        rows.append((bool(quoted) and contains_answer(quoted[0], q["answers"]),
                     any(contains_answer(t, q["answers"]) for t in quoted[:3]),
                     any(contains_answer(t, q["answers"]) for t in passages[:5]), answered))
    n = len(rows) or 1
    return {"questions": len(rows), "hit@1": sum(r[0] for r in rows) / n, "hit@3": sum(r[1] for r in rows) / n,
            "recall@5": sum(r[2] for r in rows) / n, "answered": sum(r[3] for r in rows) / n,
            "right": sum(r[0] for r in rows)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/qa-bench-squad"))
    parser.add_argument("--clients", type=int, default=2, help="concurrent HTTP clients")
    parser.add_argument("--limit", type=int, help="a random sample of N questions (seed 0) instead of all")
    args = parser.parse_args()
    dataset = require(SQUAD / "dev-v1.1.json")
    corpus, index = args.workdir / "corpus", args.workdir / "index"
    questions = write_markdown_corpus(corpus, dataset)
    for q, number in zip(questions, article_numbers(dataset)):
        q["article"] = number
    if args.limit:
        questions = random.Random(0).sample(questions, min(args.limit, len(questions)))
    env = {**os.environ, "QA_CORPUS": str(corpus), "QA_INDEX": str(index)}
    built = subprocess.run([sys.executable, "-m", "qa", "index", "-q"], cwd=ROOT, env=env, capture_output=True, text=True)
    if built.returncode:
        sys.exit(built.stderr)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "qa", "serve", "--port", str(port)], cwd=ROOT,
                              env={**env, "QA_RELOAD_INTERVAL": "0"}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    replies: list[dict | None] = [None] * len(questions)
    started = time.perf_counter()
    try:
        deadline = time.monotonic() + 180
        while (ask(port, "warm up") or {}).get("question") is None:
            if time.monotonic() > deadline or server.poll() is not None:
                sys.exit("qa serve did not start: " + (server.stderr.read().decode() if server.poll() is not None else ""))
            time.sleep(0.5)
        positions = iter(range(len(questions)))
        lock = threading.Lock()

        def client() -> None:
            while True:
                with lock:
                    i = next(positions, None)
                if i is None:
                    return
                replies[i] = ask(port, questions[i]["question"])

        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        server.terminate()
        server.wait(30)
    elapsed = time.perf_counter() - started
    errors = sum(1 for r in replies if r is None or "status" in r)
    parts = [("all 48", questions), ("tuning 1–24", [q for q in questions if q["article"] <= 24]),
             ("held-out 25–48", [q for q in questions if q["article"] > 24])]
    index_of = {id(q): i for i, q in enumerate(questions)}
    lines = [f"SQuAD v1.1 dev as 48 Markdown articles, `qa index` then `qa serve`, `POST /ask` top_k 5 for "
             f"{len(questions)} questions from {args.clients} clients in {elapsed:.0f} s, {errors} errors.", "",
             "| articles | questions | sentence hit@1 | hit@3 | answer recall@5 | answered |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name, part in parts:
        m = score(part, [replies[index_of[id(q)]] for q in part])
        lines.append(f"| {name} | {m['questions']} | **{m['hit@1']:.4f}** ({m['right']}) | {m['hit@3']:.4f} | "
                     f"{m['recall@5']:.4f} | {m['answered']:.2%} |")
    append_results("Answer quality over HTTP (bench/http_quality.py)", lines)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
