"""Replies on SQuAD dev's tuning split (articles 1–24), in process, to compare a change reply by reply.

    python bench/tuning_split.py save v1.1|v2.0 OUT.json [--workdir /tmp/qa-bench-squad] [--limit N]
    python bench/tuning_split.py compare BEFORE.json AFTER.json

``save`` asks every question of articles 1–24 (v1.1: 5,696; v2.0: 5,690, of them 2,916 unanswerable) of the
48-article index ``bench/http_quality.py`` builds (built here if missing), with the default settings and top_k 5,
and writes per question whether it is right (answerable: the first quoted sentence holds a gold answer, SQuAD
normalisation; unanswerable: the reply abstains), the confidence, the first sentence (also the one shown when it
abstains) and the short answer. ``compare`` prints the totals of both files and the questions that turned right or
wrong. Articles 25–48 stay held out: measure them over HTTP with ``bench/http_quality.py``. To save the replies of
other code, run this script from a copy of the repository that holds it. No test depends on this script.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SQUAD, require, write_markdown_corpus  # noqa: E402
from http_quality import article_numbers, v2_questions  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TUNING_ARTICLES = 24


def questions(version: str, corpus: Path) -> list[dict]:
    """The tuning split's questions, each with its gold answers (empty when unanswerable) and article number."""
    v11 = write_markdown_corpus(corpus)
    for question, number in zip(v11, article_numbers(SQUAD / "dev-v1.1.json")):
        question["article"] = number
    if version == "v2.0":
        data = json.loads(require(SQUAD / "dev-v1.1.json").read_text(encoding="utf-8"))["data"]
        asked = v2_questions({article["title"]: number for number, article in enumerate(data, 1)})
    else:
        asked = v11
    return [q for q in asked if q["article"] <= TUNING_ARTICLES]


def save(version: str, out: Path, workdir: Path, limit: int | None) -> None:
    from qa.config import Settings
    from qa.evaluate import contains_answer
    from qa.pipeline import Assistant, build_index

    asked = questions(version, workdir / "corpus")[:limit]
    settings = Settings.from_env(corpus=workdir / "corpus", index=workdir / "index")
    if not (workdir / "index").exists():
        build_index(settings)
    assistant = Assistant.load(settings)
    records = []
    for q in asked:
        reply = assistant.ask(q["question"], top_k=5)
        first = reply.sentences[0].text if reply.answerable and reply.sentences else ""
        right = (bool(first) and contains_answer(first, q["answers"])) if q["answers"] else not reply.answerable
        quoted = reply.sentences[0].text if reply.sentences else ""  # shown even when it abstains
        records.append({"question": q["question"], "answers": q["answers"], "right": right,
                        "answerable": reply.answerable, "confidence": reply.confidence, "first": first,
                        "quoted": quoted, "short": reply.short_answer.text if reply.short_answer else None})
    out.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    print(f"{version} articles 1-{TUNING_ARTICLES}: {totals(records)} -> {out}")


def totals(records: list[dict]) -> str:
    answerable = [r for r in records if r["answers"]]
    unanswerable = [r for r in records if not r["answers"]]
    text = f"first sentence right {sum(r['right'] for r in answerable)} of {len(answerable)} answerable"
    if unanswerable:
        text += f", \"no answer\" {sum(r['right'] for r in unanswerable)} of {len(unanswerable)} unanswerable"
    return text


def compare(before: Path, after: Path) -> None:
    old = json.loads(before.read_text(encoding="utf-8"))
    new = json.loads(after.read_text(encoding="utf-8"))
    if [r["question"] for r in old] != [r["question"] for r in new]:
        sys.exit("the two files hold different questions")
    print(f"before: {totals(old)}\nafter:  {totals(new)}")
    for a, b in zip(old, new):
        if a["right"] != b["right"]:
            print(f"{'+' if b['right'] else '-'} {b['question']!r} (gold {b['answers'][:1]}): "
                  f"{b['first'][:100] or 'abstains'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    saving = commands.add_parser("save", help="ask the tuning split's questions and save the replies")
    saving.add_argument("version", choices=("v1.1", "v2.0"))
    saving.add_argument("out", type=Path)
    saving.add_argument("--workdir", type=Path, default=Path("/tmp/qa-bench-squad"))
    saving.add_argument("--limit", type=int, help="only the first N questions (a quick look)")
    comparing = commands.add_parser("compare", help="the questions two saved runs answer differently")
    comparing.add_argument("before", type=Path)
    comparing.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "save":
        save(args.version, args.out, args.workdir, args.limit)
    else:
        compare(args.before, args.after)


if __name__ == "__main__":
    main()
