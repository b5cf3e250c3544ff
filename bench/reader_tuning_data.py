"""The project's own questions about the mixed documents as reader tuning data (SQuAD 2.0 format).

    python bench/reader_tuning_data.py --out /tmp/mixed-tuning.json [--leave-out 04,08,12,16,20,24]

Each question of ``bench/mixed_docs_questions.json`` is asked as ``bench/mixed_docs.py`` asks it, and every
window the reader reads for it (the best ranked sentences with a neighbour either side, as the reader sees them
at run time: the table header before a row, the follow-up's expanded question) becomes one example: with the
first of the question's answer strings that the window holds as its span, else "no answer". So an answerable
question teaches the span in its own window and "no answer" in the on-topic windows beside it, an unanswerable
one "no answer" in the windows it would have been answered from. ``--leave-out`` keeps the questions of the
documents whose file names start with those prefixes out, so that what the tuning carries over to documents it
never read can be measured. The file feeds ``python -m qa.reader_training --tune-data``. Measured on 2026-12-01
(``bench/RESULTS.md``, "Measured and not made"): the tuned reader did better on the documents it read and no better
on the six it did not, so the shipped reader was not tuned this way.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT  # noqa: E402

sys.path.insert(0, str(ROOT))

from mixed_docs import CORPUS, QUESTIONS  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/qa-bench-mixed"))
    parser.add_argument("--leave-out", default="", help="comma-separated prefixes of documents to leave out")
    parser.add_argument("--spans-only", action="store_true",
                        help="an answerable question's windows without its answer strings are left out, not 'no "
                             "answer' (another sentence may answer it in other words)")
    args = parser.parse_args()
    if not CORPUS.is_dir():
        sys.exit(f"benchmark data not found: {CORPUS} (expected ../shared/bench/data beside the repository)")

    from qa.config import Settings
    from qa.pipeline import Assistant, Turn, build_index

    settings = Settings.from_env(corpus=CORPUS, index=args.workdir / "index")
    build_index(settings)
    assistant = Assistant.load(settings)
    if assistant.reader is None:
        sys.exit("the reader is off (QA_READER): there are no windows to collect")
    left_out = tuple(p for p in args.leave_out.split(",") if p)
    read = assistant.reader.read
    seen: list[tuple[str, list]] = []

    def recording(question, windows, enough=None):
        seen.append((question, list(windows)))
        return read(question, windows, enough=None)  # every window, also those a sure span would skip

    assistant.reader.read = recording
    articles: dict[str, list[dict]] = {}
    counts = {"span": 0, "no answer": 0, "questions": 0}
    for q in json.loads(args.questions.read_text(encoding="utf-8")):
        if q["doc"].startswith(left_out):
            continue
        seen.clear()
        assistant.ask(q["question"], history=[Turn(t["question"], t.get("answer")) for t in q.get("history", [])],
                      top_k=5)
        counts["questions"] += 1
        for number, (question, windows) in enumerate(seen):
            for index, window in enumerate(windows):
                prefix = window.context + "\n" if window.context else ""
                context = prefix + window.text
                gold = next((g for g in q["answer"] or [] if g in window.text), None)
                answers = ([] if gold is None else
                           [{"text": gold, "answer_start": len(prefix) + window.text.index(gold)}])
                if args.spans_only and q["answer"] and not answers:
                    continue
                counts["span" if answers else "no answer"] += 1
                articles.setdefault(q["doc"], []).append({"context": context, "qas": [{
                    "id": f"{q['id']}-{number}-{index}", "question": question, "is_impossible": not answers,
                    "answers": answers}]})
    data = {"version": "v2.0", "data": [{"title": f"mixed-docs/{doc}", "paragraphs": paragraphs}
                                        for doc, paragraphs in sorted(articles.items())]}
    args.out.write_text(json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{counts['questions']} questions, {len(articles)} documents: {counts['span']} windows with a span, "
          f"{counts['no answer']} without -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
