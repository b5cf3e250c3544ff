"""Questions per second: ``Assistant.ask_many`` against ``ask`` in a loop, same index, same questions, same run.

    python bench/ask_many.py [--questions 1000] [--workdir /tmp/qa-bench-squad]

Opens the SQuAD v1.1 dev index that ``bench/http_quality.py`` builds (built here if missing) with
``qa.open`` and asks a seeded sample of its questions both ways, alternating which goes first, and
checks that both give the same replies.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, publish, write_markdown_corpus  # noqa: E402

sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/qa-bench-squad"))
    parser.add_argument("--no-record", action="store_true", help="print, do not append to RESULTS.md")
    args = parser.parse_args()
    import qa

    questions = [q["question"] for q in write_markdown_corpus(args.workdir / "corpus")]
    sample = random.Random(0).sample(questions, min(args.questions, len(questions)))
    assistant = qa.build(args.workdir / "corpus", index=args.workdir / "index")
    assistant.ask_many(sample[:20])  # warm up
    timings = {"ask in a loop": [], "ask_many": []}
    replies = {}
    for round_ in range(2):
        for way in (["ask in a loop", "ask_many"] if round_ == 0 else ["ask_many", "ask in a loop"]):
            started = time.perf_counter()
            got = [assistant.ask(q) for q in sample] if way == "ask in a loop" else assistant.ask_many(sample)
            timings[way].append(time.perf_counter() - started)
            replies[way] = [json.dumps({k: v for k, v in r.to_dict().items() if k != "timings_ms"}) for r in got]
    same = sum(a == b for a, b in zip(replies["ask in a loop"], replies["ask_many"]))
    rate = {way: len(sample) / min(seconds) for way, seconds in timings.items()}
    lines = [f"{len(sample)} SQuAD v1.1 dev questions (seed 0) asked of the 48-article index opened with `qa.open`, "
             "twice each way, alternating; the faster of the two runs.", "",
             "| way | questions/s |", "| --- | --- |",
             *(f"| `{way}` | {value:.1f} |" for way, value in rate.items()), "",
             f"`ask_many` is **{rate['ask_many'] / rate['ask in a loop']:.2f}×** the loop; the same replies for "
             f"{same} of {len(sample)} questions."]
    publish("Python API: ask_many against ask in a loop (bench/ask_many.py)", lines, not args.no_record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
