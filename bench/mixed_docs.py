"""Real documents of other kinds: the project's own questions about ../shared/bench/data/mixed-docs.

    python bench/mixed_docs.py [--questions FILE] [--workdir /tmp/qa-bench-mixed] [--json out.json] [--no-record]

24 documents (news posts, software docs with code, how-tos, recipes, encyclopedia pages) are indexed
with ``qa index``'s pipeline and the questions in ``bench/mixed_docs_questions.json`` (written for this
project: worded close to the text, reworded, follow-ups with their history, and on-topic questions the
documents do not answer; m01–m44 first, m45–m212 written later to look for new failures, m165–m190 all
unanswerable, then m213–m433 in batches, m363–m433 checked against the documents before the assistant saw
them, m434–m450 on command-line options, how-to lead-ins, a project named in another document's title,
follow-up fragments and what a document says about a topic, most seen answered before they were fixed;
m451–m630 and m631–m810 each written by three separate passes over the documents that did not see the assistant's
replies, then used to look for failures, m811–m1050 by four more, the last two favouring yes/no, "what happens if"
and casual wording, m1051–m1146 by two more, as users type into a chat box, m1147–m1338 by four more, half
reworded and a quarter unanswerable near misses, m1339–m1530 by four more, a third casual or terse and a fifth
yes/no, m1531–m1722 by four more, some vague, with typos or in the asker's own terms, m1723–m1914 by four more, as
typed into a chat box after skimming the page: how-to, why, comparisons and conditions, m1915–m2106 by four more, short
questions for one specific fact, half in words the page does not use, m2107–m2298 by four more, a quarter close, a
third reworded, a quarter unanswerable near misses, m2299–m2490 by four more, as different people would type them:
a newcomer, an expert in a hurry, someone comparing options, m2491–m2682 by four more, as someone getting a task
done, a curious reader or a skeptic checking a claim would, m2683–m2874 by four more, as people half-remembering the
page a day later, m2875–m3066 by four more, as a busy colleague who skimmed the page and needs one fact,
m3067–m3258 by four more, as someone about to use the page for real work who needs one concrete fact, also from
lists, tables and code) are
asked with the default settings. A reply is right when its first quoted sentence holds
one of the question's answer strings; an unanswerable question is right when the assistant abstains. It
prints the figures by kind and appends them to RESULTS.md. These questions tune the reader (issue 17);
its targets are measured on other questions. ``bench/mixed_docs_probe.json``
(``--questions``) is such another set: written by a separate pass over the documents, without looking at
the assistant's replies, and never used to tune; it estimates how the tuning carries over.
``bench/mixed_docs_probe2.json`` is a second one (60 questions, 2026-12-01, facts no other set asks about),
``bench/mixed_docs_probe3.json`` a third (60 questions over all 24 documents, written after m631–m810),
``bench/mixed_docs_probe4.json`` a fourth (60, written with m811–m930), likewise never tuned on: only their totals
are read.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, publish  # noqa: E402

sys.path.insert(0, str(ROOT))

CORPUS = ROOT.parent / "shared" / "bench" / "data" / "mixed-docs" / "corpus"
QUESTIONS = ROOT / "bench" / "mixed_docs_questions.json"
KINDS = ("close", "reworded", "follow-up", "unanswerable")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=QUESTIONS, help="the questions (default: the tuning set)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/qa-bench-mixed"))
    parser.add_argument("--json", type=Path, help="write every question's reply summary here")
    parser.add_argument("--no-record", action="store_true", help="print the table, do not append to RESULTS.md")
    args = parser.parse_args()
    if not CORPUS.is_dir():
        sys.exit(f"benchmark data not found: {CORPUS} (expected ../shared/bench/data beside the repository)")

    from qa.config import Settings
    from qa.pipeline import Assistant, Turn, build_index

    settings = Settings.from_env(corpus=CORPUS, index=args.workdir / "index")
    report = build_index(settings)
    assistant = Assistant.load(settings)
    questions = json.loads(args.questions.read_text(encoding="utf-8"))
    right, asked, in_top5, records = Counter(), Counter(), Counter(), []
    for q in questions:
        history = [Turn(t["question"], t.get("answer")) for t in q.get("history", [])]
        reply = assistant.ask(q["question"], history=history, top_k=5)
        golds = q["answer"] or []
        first = reply.sentences[0].text if reply.sentences else ""
        if q["kind"] == "unanswerable":
            ok = not reply.answerable
        else:
            ok = reply.answerable and any(g in first for g in golds)
            in_top5[q["kind"]] += any(g in p.text for p in reply.passages[:5] for g in golds)
        asked[q["kind"]] += 1
        right[q["kind"]] += ok
        records.append({"id": q["id"], "kind": q["kind"], "question": q["question"], "right": bool(ok),
                        "answerable": reply.answerable, "confidence": reply.confidence, "first": first,
                        "short": reply.short_answer.text if reply.short_answer else None})
    if args.json:
        args.json.write_text(json.dumps(records, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    answerable = [k for k in KINDS if k != "unanswerable"]
    lines = [
        f"`../shared/bench/data/mixed-docs/corpus`: {report.articles} documents, {report.passages} passages, "
        f"{report.sentences} units (sentences, code blocks, list items, table rows); "
        f"{sum(asked.values())} questions from `{_shown(args.questions)}`, top_k 5, default settings "
        f"({settings.backend}, QA_MIN_CONFIDENCE {settings.min_confidence}).",
        "",
        "| kind | questions | first quoted sentence right (unanswerable: abstained) | answer in the 5 passages shown |",
        "| --- | --- | --- | --- |",
    ]
    for kind in KINDS:
        if asked[kind]:
            top5 = "" if kind == "unanswerable" else f"{in_top5[kind]}/{asked[kind]}"
            lines.append(f"| {kind} | {asked[kind]} | **{right[kind]}/{asked[kind]}** | {top5} |")
    total = sum(asked[k] for k in answerable)
    lines += ["", f"Answerable questions, first sentence right: **{sum(right[k] for k in answerable)}/{total}**; "
              f"unanswerable that abstain: **{right['unanswerable']}/{asked['unanswerable']}**."]
    wrong = [r for r in records if not r["right"]]
    if wrong:
        lines += ["", "Wrong: " + "; ".join(f"{r['id']} ({r['kind']}, {r['confidence']:.2f})" for r in wrong) + "."]
    own = args.questions.resolve() == QUESTIONS
    which = "the project's own questions" if own else f"questions of {_shown(args.questions)}"
    publish(f"Mixed documents, {which} (bench/mixed_docs.py)", lines, record=not args.no_record)
    return 0


def _shown(path: Path) -> str:
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


if __name__ == "__main__":
    sys.exit(main())
