"""Same replies before and after a refactor: 1,000 SQuAD questions asked of one index, the replies saved as JSON.

    python bench/same_replies.py save before.jsonl [--index /tmp/qa-bench-squad/index] [--limit 1000]
    python bench/same_replies.py compare before.jsonl after.jsonl

``save`` asks a fixed, seeded sample of SQuAD v1.1 dev questions (all 48 articles) of an index built
by ``bench/http_quality.py`` (or ``qa index`` over ``write_markdown_corpus``), one at a time, and writes
each reply exactly as ``/ask`` would send it (``Reply.to_dict``), without its timings. ``compare`` says
(and with ``--record`` writes to RESULTS.md) how many replies differ and shows the first differences; it exits 1 when any does. A change meant to
leave behaviour alone (moving code between modules) must compare equal.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, SQUAD, publish, require  # noqa: E402

sys.path.insert(0, str(ROOT))


def questions(limit: int, seed: int = 20) -> list[str]:
    data = json.loads(require(SQUAD / "dev-v1.1.json").read_text(encoding="utf-8"))["data"]
    every = [qa["question"] for article in data for paragraph in article["paragraphs"] for qa in paragraph["qas"]]
    return random.Random(seed).sample(every, min(limit, len(every)))


def save(index: Path, out: Path, limit: int) -> None:
    import qa

    assistant = qa.open(index)
    with open(out, "w", encoding="utf-8") as f:
        for question in questions(limit):
            reply = assistant.ask(question)
            record = reply.to_dict()
            record.pop("timings_ms", None)
            f.write(json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n")
    print(f"{limit} replies written to {out} (index {index}, {assistant.store.manifest.get('version')})")


def compare(before: Path, after: Path, record: bool = False) -> int:
    old = before.read_text(encoding="utf-8").splitlines()
    new = after.read_text(encoding="utf-8").splitlines()
    if len(old) != len(new):
        print(f"different lengths: {len(old)} replies before, {len(new)} after")
        return 1
    differing = [i for i, (a, b) in enumerate(zip(old, new)) if a != b]
    lines = [f"`{before}` against `{after}`: **{len(old) - len(differing)} of {len(old)}** replies identical "
             f"(every field of the /ask JSON but the timings); {len(differing)} differ."]
    for i in differing[:5]:
        a, b = json.loads(old[i]), json.loads(new[i])
        keys = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
        lines.append(f"- #{i} {a.get('question')!r}: differs in {', '.join(keys)}")
    publish("Same replies before and after (bench/same_replies.py)", lines, record)
    return 1 if differing else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    saving = commands.add_parser("save", help="ask the questions and write the replies")
    saving.add_argument("out", type=Path)
    saving.add_argument("--index", type=Path, default=Path("/tmp/qa-bench-squad/index"))
    saving.add_argument("--limit", type=int, default=1000)
    comparing = commands.add_parser("compare", help="compare two saved runs")
    comparing.add_argument("before", type=Path)
    comparing.add_argument("after", type=Path)
    comparing.add_argument("--record", action="store_true", help="append the result to RESULTS.md")
    args = parser.parse_args()
    if args.command == "save":
        save(args.index, args.out, args.limit)
        return 0
    return compare(args.before, args.after, args.record)


if __name__ == "__main__":
    sys.exit(main())
