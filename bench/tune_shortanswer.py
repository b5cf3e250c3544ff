"""Fit the short-answer span chooser (qa.shortanswer.SPAN_WEIGHTS) on SQuAD v1.1 dev articles 1–24.

    python bench/tune_shortanswer.py [--workdir /tmp/qa-squad] [--data ../shared/bench/data/squad/dev-v1.1.json]

For every question the assistant cuts a short answer for (``qa.shortanswer.answer_kind``: when, who,
where, how many, what/which + noun, "what is the <noun> ..."), takes
the sentence it would quote first (the index and scorer of ``bench/tune_extract.py``), and, where that
sentence holds a gold answer, lists the candidate spans ``qa.shortanswer.candidates`` offers with
their ``span_features``. A listwise logistic model per question type, fitted on whole articles 1–24
with exact-match labels (kept where it beats the nearest-span rule in 4-fold cross-validation on 1–24),
is printed to paste into ``SPAN_WEIGHTS``, with exact match and F1 of the
chosen span on articles 25–48 for the shipped weights, the nearest-span rule and the new fit.
No test depends on this script.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tune_extract import fit_conditional_logit, squad_corpus  # noqa: E402

from qa.config import Settings  # noqa: E402
from qa.embed import SentenceTransformerEmbedder  # noqa: E402
from qa.evaluate import contains_answer, exact_match, f1_score  # noqa: E402
from qa.extract import ExtractWeights, features  # noqa: E402
from qa.stores import load  # noqa: E402
from qa.pipeline import build_index  # noqa: E402
from qa.retrieve import Retriever  # noqa: E402
from qa.shortanswer import SPAN_FEATURES, SPAN_WEIGHTS, answer_kind, candidates, span_features  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/bench/data/squad/dev-v1.1.json")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/qa-squad"))
    parser.add_argument("--l2", type=float, default=1e-2)
    args = parser.parse_args()
    questions = squad_corpus(args.data, args.workdir)
    embedder = SentenceTransformerEmbedder()
    settings = Settings.from_env({}, corpus=args.workdir / "corpus", index=args.workdir / "index")
    build_index(settings, embedder)
    store = load(settings.index)
    retriever = Retriever(store, fusion=settings.fusion, dense_weight=settings.dense_weight)
    weights = np.asarray(ExtractWeights().coefficients)
    typed = [q for q in questions if answer_kind(q["question"]) is not None]
    vectors, question_tokens = embedder.encode_with_tokens([q["question"] for q in typed], progress=True,
                                                           desc="Embedding questions")

    # per kind: (span features, exact match, F1, article) for questions whose first sentence is right
    groups: dict[str, list] = defaultdict(list)
    for q, vector, tokens in zip(typed, vectors, question_tokens):
        hits = retriever.retrieve(q["question"], vector, max(settings.rerank_pool, 5))
        _, _, matrix, texts = features(q["question"], vector, hits, store, tokens)
        if not texts:
            continue
        sentence = texts[int(np.argmax(matrix @ weights))]
        if not contains_answer(sentence, q["answers"]):
            continue  # the span cannot be right when the sentence is not
        kind = answer_kind(q["question"])
        spans = candidates(sentence, kind, q["question"])
        if not spans:
            continue
        x = np.array(span_features(sentence, spans, q["question"]), dtype=np.float64)
        em = np.array([max(exact_match(sentence[s:e], g) for g in q["answers"]) for s, e in spans])
        f1 = np.array([max(f1_score(sentence[s:e], g) for g in q["answers"]) for s, e in spans])
        start = np.array([s for s, _ in spans])
        groups[kind].append((x, em, f1, q["article"], start))

    def choose(w, x, start):
        scores = x @ w
        return int(np.lexsort((start, -scores))[0])  # best score, then the earliest span

    nearest = np.zeros(len(SPAN_FEATURES))
    nearest[SPAN_FEATURES.index("log_distance")] = -1.0
    print(f"{'type':9s} {'questions':>9s}   exact match / F1 on articles 25-48: nearest span | shipped | new fit")
    fitted, totals = {}, defaultdict(float)
    def fit(rows):
        # fit_conditional_logit expects a bias column first; it is constant within a question
        return fit_conditional_logit([(np.hstack([np.ones((len(x), 1)), x]), em, a) for x, em, f1, a, s in rows],
                                     l2=args.l2)[1:]

    def exact(w, rows):
        return np.mean([r[1][choose(w, r[0], r[4])] for r in rows]) if rows else 0.0

    for kind, rows in sorted(groups.items()):
        tune = [r for r in rows if r[3] <= 24]
        # Keep the fit only if it beats the nearest-span rule in 4-fold cross-validation over the tuning
        # articles (folds of 6 whole articles); held-out articles never choose.
        folds = [[r for r in tune if (r[3] - 1) // 6 == f] for f in range(4)]
        fit_score = np.mean([exact(fit([r for g, fold in enumerate(folds) if g != f for r in fold]), folds[f])
                             for f in range(4)])
        rule_score = np.mean([exact(nearest, fold) for fold in folds])
        fitted[kind] = fit(tune) if fit_score > rule_score else nearest.copy()
        print(f"  {kind}: cross-validated exact match, fit {fit_score:.3f} / nearest rule {rule_score:.3f}")
        test = [r for r in rows if r[3] > 24]
        line = []
        for name, w in (("nearest", nearest), ("shipped", np.asarray(SPAN_WEIGHTS[kind])), ("new", fitted[kind])):
            picks = [choose(w, x, s) for x, em, f1, a, s in test]
            em_mean = np.mean([r[1][i] for r, i in zip(test, picks)])
            f1_mean = np.mean([r[2][i] for r, i in zip(test, picks)])
            totals[name + " em"] += em_mean * len(test)
            totals[name + " f1"] += f1_mean * len(test)
            line.append(f"{em_mean:.3f} / {f1_mean:.3f}")
        totals["n"] += len(test)
        print(f"{kind:9s} {len(test):9d}   " + " | ".join(line))
    n = totals["n"]
    print(f"{'all':9s} {int(n):9d}   " + " | ".join(f"{totals[k + ' em'] / n:.3f} / {totals[k + ' f1'] / n:.3f}"
                                            for k in ("nearest", "shipped", "new")))
    print("SPAN_WEIGHTS = {")
    for kind, w in fitted.items():
        print(f'    "{kind}": (' + ", ".join(f"{v:.4f}" for v in w) + "),")
    print("}  # " + ", ".join(SPAN_FEATURES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
