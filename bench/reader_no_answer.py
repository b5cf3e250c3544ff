"""How well the reader's own "no answer" separates SQuAD 2.0's unanswerable questions, the gold paragraph given.

    python bench/reader_no_answer.py [--reader qa/models/reader] [--articles 1-24] [--limit 600]

For SQuAD v2.0 dev questions of the given articles (numbered as in v1.1 dev; a seeded sample), the
reader reads the question with its own paragraph in torch (float, as trained): the best span's score
minus the "no answer" score is its margin. It prints EM/F1 on the answerable questions, the AUC of the
margin as a classifier of answerable against unanswerable, and the share of each kind below a few
margins. Articles 1–24 (the tuning split) by default; 25–48 are held out for the targets. Nothing is
recorded; RESULTS.md quotes its output by hand.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, SQUAD, require  # noqa: E402

sys.path.insert(0, str(ROOT))


def auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """P(a random positive scores above a random negative), ties counted half."""
    scores = np.concatenate([positive, negative])
    ranks = np.argsort(np.argsort(scores, kind="mergesort"), kind="mergesort") + 1.0
    for value in np.unique(scores):  # average ranks over ties
        tied = scores == value
        ranks[tied] = ranks[tied].mean()
    n_pos, n_neg = len(positive), len(negative)
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reader", type=Path, default=ROOT / "qa" / "models" / "reader")
    parser.add_argument("--articles", default="1-24")
    parser.add_argument("--limit", type=int, default=600)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import torch

    from qa.reader_training import Reader, _f1, _normalize, read_span

    torch.set_num_threads(args.threads)
    first, last = (int(x) for x in args.articles.split("-"))
    numbers = {a["title"]: n for n, a in enumerate(
        json.loads(require(SQUAD / "dev-v1.1.json").read_text(encoding="utf-8"))["data"], 1)}
    data = json.loads(require(SQUAD / "dev-v2.0.reconstructed.json").read_text(encoding="utf-8"))["data"]
    items = [(qa["question"], p["context"], [a["text"] for a in qa["answers"]], bool(qa.get("is_impossible")))
             for article in data if first <= numbers.get(article["title"], 0) <= last
             for p in article["paragraphs"] for qa in p["qas"]]
    random.Random(0).shuffle(items)
    items = items[: args.limit]
    reader = Reader(args.reader)
    reader.train(False)
    margins: dict[bool, list[float]] = {True: [], False: []}
    em = f1 = 0.0
    with torch.inference_mode():
        for question, context, golds, impossible in items:
            prediction, margin = read_span(reader, question, context, 256)
            margins[impossible].append(margin)
            if not impossible:
                em += max(float(_normalize(prediction) == _normalize(g)) for g in golds)
                f1 += max(_f1(prediction, g) for g in golds)
    answerable, unanswerable = np.array(margins[False]), np.array(margins[True])
    n = max(1, len(answerable))
    print(f"{args.reader} on SQuAD v2.0 dev articles {args.articles}, gold paragraph: {len(answerable)} answerable "
          f"(EM {em / n:.3f}, F1 {f1 / n:.3f}), {len(unanswerable)} unanswerable")
    print(f"AUC of the margin, answerable against unanswerable: {auc(answerable, unanswerable):.3f}")
    print("| margin below | unanswerable | answerable |\n| --- | --- | --- |")
    for threshold in (-2, 0, 2, 4):
        print(f"| {threshold} | {np.mean(unanswerable < threshold):.3f} | {np.mean(answerable < threshold):.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
