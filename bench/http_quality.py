"""Answer quality black-box over HTTP: SQuAD v1.1 dev as a folder of articles, every question POSTed to /ask.

    python bench/http_quality.py [--workdir /tmp/qa-bench-squad] [--clients 2] [--limit N] [--articles 25-48] [--v2]

What a user would do, with none of ``qa eval``'s shortcuts: each article written as ``<title>.md``
(a '# ' title, then its paragraphs), ``qa index``, ``qa serve``, then ``POST /ask`` with top_k 5 for
every question. It reports sentence hit@1 / hit@3 (the first, or any of the first three, quoted
sentences of an answered reply contain a gold answer, SQuAD normalisation), answer-recall@5 (a
returned passage contains one), how many were answered, the short answer's EM and F1 (SQuAD
normalisation; a reply without a short answer scores 0), and the same for articles 1–24 (where the
weights were fitted) and 25–48 (held out); figures are appended to RESULTS.md.

``--v2`` asks SQuAD v2.0 dev's questions instead (its 35 articles are v1.1's, numbered as in v1.1; the
index is the same): the unanswerable ones are right when the reply abstains, and the answerable ones
are reported apart. ``--articles 25-48`` keeps the questions of those articles (the index keeps all 48).
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
from qa.evaluate import contains_answer, exact_match, f1_score  # noqa: E402

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


def health(port: int) -> dict:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", "/health")
    return json.loads(connection.getresponse().read())


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
        short = ((reply.get("short_answer") or {}).get("text") or "") if answered else ""
        golds = q["answers"] or [""]
        rows.append((bool(quoted) and contains_answer(quoted[0], q["answers"]),
                     any(contains_answer(t, q["answers"]) for t in quoted[:3]),
                     any(contains_answer(t, q["answers"]) for t in passages[:5]), answered,
                     max(exact_match(short, g) for g in golds) if short else 0.0,
                     max(f1_score(short, g) for g in golds) if short else 0.0))
    n = len(rows) or 1
    return {"questions": len(rows), "hit@1": sum(r[0] for r in rows) / n, "hit@3": sum(r[1] for r in rows) / n,
            "recall@5": sum(r[2] for r in rows) / n, "answered": sum(r[3] for r in rows) / n,
            "right": sum(r[0] for r in rows), "em": sum(r[4] for r in rows) / n, "f1": sum(r[5] for r in rows) / n}


def v2_questions(numbers: dict[str, int]) -> list[dict]:
    """SQuAD v2.0 dev's questions, each with its v1.1 article number ("answers" empty when unanswerable)."""
    out = []
    for article in json.loads(require(SQUAD / "dev-v2.0.reconstructed.json").read_text(encoding="utf-8"))["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                answers = [] if qa.get("is_impossible") else [a["text"] for a in qa["answers"]]
                out.append({"question": qa["question"], "answers": answers, "article": numbers[article["title"]]})
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/qa-bench-squad"))
    parser.add_argument("--clients", type=int, default=2, help="concurrent HTTP clients")
    parser.add_argument("--limit", type=int, help="a random sample of N questions (seed 0) instead of all")
    parser.add_argument("--articles", default="1-48", help="ask the questions of these articles only (e.g. 25-48)")
    parser.add_argument("--v2", action="store_true", help="ask SQuAD v2.0 dev's questions (unanswerable ones too)")
    args = parser.parse_args()
    dataset = require(SQUAD / "dev-v1.1.json")
    corpus, index = args.workdir / "corpus", args.workdir / "index"
    questions = write_markdown_corpus(corpus, dataset)
    for q, number in zip(questions, article_numbers(dataset)):
        q["article"] = number
    if args.v2:
        numbers = {a["title"]: n for n, a in enumerate(json.loads(dataset.read_text(encoding="utf-8"))["data"], 1)}
        questions = v2_questions(numbers)
    first, last = (int(x) for x in args.articles.split("-"))
    questions = [q for q in questions if first <= q["article"] <= last]
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
        reader = health(port).get("reader")
        reader_line = f"{reader['name']} {reader['sha256']} (step {reader['step']})" if reader else "off"
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
    if args.articles != "1-48":  # one split asked: its own row says it all
        parts = parts[1:]
    index_of = {id(q): i for i, q in enumerate(questions)}
    which = "SQuAD v2.0 dev questions" if args.v2 else "SQuAD v1.1 dev questions"
    lines = [f"SQuAD v1.1 dev as 48 Markdown articles, `qa index` then `qa serve`, `POST /ask` top_k 5 for "
             f"{len(questions)} {which} of articles {args.articles} from {args.clients} clients in {elapsed:.0f} s, "
             f"{errors} errors. Reader: {reader_line}.", "",
             "| articles | questions | sentence hit@1 | hit@3 | answer recall@5 | answered | short answer EM | F1 |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    if args.v2:
        parts = [(f"{name}, {kind}", [q for q in part if bool(q["answers"]) == has])
                 for name, part in parts for kind, has in (("answerable", True), ("unanswerable", False))]
    for name, part in parts:
        if not part:
            continue
        m = score(part, [replies[index_of[id(q)]] for q in part])
        if not part[0]["answers"]:  # unanswerable: right when the reply abstains
            lines.append(f"| {name} | {m['questions']} | — | — | — | {m['answered']:.2%} (abstained "
                         f"**{1 - m['answered']:.2%}**) | — | — |")
            continue
        lines.append(f"| {name} | {m['questions']} | **{m['hit@1']:.4f}** ({m['right']}) | {m['hit@3']:.4f} | "
                     f"{m['recall@5']:.4f} | {m['answered']:.2%} | **{m['em']:.4f}** | **{m['f1']:.4f}** |")
    append_results("Answer quality over HTTP (bench/http_quality.py" + (", SQuAD v2.0" if args.v2 else "") + ")",
                   lines)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
