"""Held-out questions reworded: does what works on SQuAD's wording work with little word overlap?

    python bench/paraphrases.py [--workdir DIR]

SQuAD's questions share many words with their answer sentence. This probe takes 28 questions of
SQuAD v1.1 dev articles 25–48 (the held-out half; drawn at random, seed 7) and asks each twice
against an index of all 48 articles: as written, and reworded by hand to share as few words with
the text as a natural question can. It prints sentence hit@1, answer-recall@5 and how many were
answered for both wordings, and appends them to RESULTS.md. 28 questions are a probe, not a
benchmark: one question is 3.6 points.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, SQUAD, append_results, require, write_markdown_corpus  # noqa: E402

sys.path.insert(0, str(ROOT))

# (SQuAD's question, the same question reworded, gold answers)
QUESTIONS = [
    ("Where was the Central Secretariat based?",
     "In which city did the Yuan government's main administrative office sit?", ["Khanbaliq"]),
    ("What are the three construction subsectors?",
     "Into which three parts is the building industry usually divided?",
     ["heavy and civil engineering construction", "specialty trade contractors"]),
    ("What do C4 plants need?", "What does the C4 pathway require in larger amounts?", ["more ATP than NADPH"]),
    ("Khitan had been overthrown by which dynasty that Genghis Khan later defeated?",
     "Which ruling house had toppled the Khitan before Genghis Khan beat it?", ["Jin"]),
    ("Many organizations have recently called for broader acceptance of which community?",
     "Which group have a number of Methodist bodies lately urged more acceptance for?", ["LGBT"]),
    ("Which provinces in Canada limit the rights of pharmacists in prescribing?",
     "In which Canadian provinces are chemists restricted in what medicines they may prescribe?",
     ["Alberta and British Columbia"]),
    ("How do chloroplasts reproduce?", "How does a chloroplast divide to make more of itself?", ["pinch in two"]),
    ("Which theory suggested people in the tropics were uncivilized?",
     "What idea held that hot-climate peoples lacked civilisation?", ["environmental determinism"]),
    ("What effect does trade with poorer countries have on the workers in richer countries?",
     "How does commerce with low-income nations affect employees in wealthy ones?", ["reduced wages"]),
    ("What comedy featuring stand up comedian Tim Allen debuted in 1991?",
     "Which sitcom starring Tim Allen premiered in 1991?", ["Home Improvement"]),
    ("Which of the tributaries in Germany contributes most?",
     "What is the largest German tributary feeding the Rhine?", ["Moselle"]),
    ("When was the mausoleum returned to the Lord's Enclosure in Mongolia?",
     "In what year did Genghis Khan's shrine go back to the Lord's Enclosure?", ["1954"]),
    ("In what country was the Doctor Who film not successful enough to spawn a series?",
     "Where did the Doctor Who movie fail to do well enough to lead to a series?", ["United States"]),
    ("Who gave Genghis Khan the title Khadan?", "Which ruler bestowed the name Khagan on Genghis?", ["Ögedei"]),
    ("What other reason caused poor supply of New France from a difficult winter?",
     "Besides a hard winter, what led to shortages in New France?", ["poor harvest"]),
    ("Who identified gravity as a force?", "Which scientist recognised that gravitation is a force?",
     ["Isaac Newton", "Newton"]),
    ("What mountain range did Genghis Khan cross to enter the Khwarezmian Empire?",
     "Which mountains did the Mongol army traverse to invade Khwarezmia?", ["Tien Shan"]),
    ("What geometric shape is used in equations to determine net force?",
     "What figure is drawn to add forces together?", ["parallelogram"]),
    ("Where do chloroplasts make amino acids?", "In which part of the chloroplast are amino acids produced?",
     ["stroma"]),
    ("What was Tampa's primary ABC affiliate prior to 1994?", "Before 1994, which station carried ABC in Tampa?",
     ["WTSP"]),
    ("What kind of programs can be credited for ABC's success in the late 1950s?",
     "Which TV genres made ABC popular at the end of the 1950s?", ["westerns and detective series"]),
    ("Brownlee justifies civil disobedience toward what branch of the government?",
     "Against which part of government does Brownlee find disobeying acceptable?", ["legal system"]),
    ("What is the name of the co-ed community service fraternity?",
     "Which mixed-gender volunteer fraternity is at the University of Chicago?", ["Alpha Phi Omega"]),
    ("What is the biggest ABC subchannel affiliate by the size of markets?",
     "Which ABC affiliate on a digital subchannel serves the largest market?", ["Birmingham"]),
    ("What form of death did Jamukha hope Temüjin would allow him?", "How did Jamukha ask to be executed?",
     ["breaking the back"]),
    ("Sleep hormone release supports formation of immune memory by initiating what immune response?",
     "Which kind of immune response do hormones released during sleep trigger to help form immune memory?",
     ["Th1"]),
    ("What characteristic in recent years has been strongly tied with health in developed countries?",
     "In rich nations, what has been closely linked with health lately?", ["income inequality"]),
    ("What do clinical pharmacists often participate in?",
     "What activities do hospital pharmacists commonly take part in?", ["patient care rounds"]),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=SQUAD / "dev-v1.1.json")
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out" / "paraphrases")
    args = parser.parse_args()
    require(args.dataset)

    from qa.config import Settings
    from qa.evaluate import contains_answer
    from qa.pipeline import Assistant, build_index, make_embedder

    write_markdown_corpus(args.workdir / "corpus", args.dataset)
    settings = Settings.from_env({}, corpus=args.workdir / "corpus", index=args.workdir / "index")
    embedder = make_embedder(settings, serving=True)
    print(build_index(settings, embedder).summary(), flush=True)
    assistant = Assistant.load(settings, embedder)

    rows = []
    totals = {"as written": [0, 0, 0], "reworded": [0, 0, 0]}
    for original, reworded, golds in QUESTIONS:
        marks = []
        for wording, question in (("as written", original), ("reworded", reworded)):
            reply = assistant.ask(question, top_k=5)
            hit = reply.answerable and bool(reply.sentences) and contains_answer(reply.sentences[0].text, golds)
            found = any(contains_answer(p.text, golds) for p in reply.passages)
            for i, value in enumerate((hit, found, reply.answerable)):
                totals[wording][i] += bool(value)
            marks.append(("hit" if hit else "found" if found else "missed") + ("" if reply.answerable else ", abstained"))
        rows.append(f"| {reworded} | {marks[0]} | {marks[1]} |")
        print(rows[-1], flush=True)
    n = len(QUESTIONS)
    lines = ["| wording | sentence hit@1 | answer-recall@5 | answered |", "| --- | --- | --- | --- |"]
    for wording, (hits, found, answered) in totals.items():
        lines.append(f"| {wording} | {hits}/{n} ({hits / n:.0%}) | {found}/{n} ({found / n:.0%}) | {answered}/{n} |")
    lines += ["", "<details><summary>per question (reworded question; as written; reworded)</summary>", "",
              "| question | as written | reworded |", "| --- | --- | --- |", *rows, "", "</details>"]
    append_results("Reworded held-out questions (bench/paraphrases.py)", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
