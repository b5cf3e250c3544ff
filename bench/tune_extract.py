"""Fit the sentence scorer and its confidence calibration on SQuAD v1.1 dev articles 1–24.

    python bench/tune_extract.py [--workdir /tmp/qa-squad] [--data ../shared/bench/data/squad/dev-v1.1.json]

Builds (or reuses) an index of all 48 articles with the real model, retrieves the passages the
assistant reads for every question (QA_RERANK_POOL, 12), computes each candidate sentence's features
(qa.extract.FEATURES; the token features from the question's token vectors unless --lexical), fits a
listwise logistic model on the tuning split (articles 1–24; whole articles, never single questions),
Platt-scales the best sentence's logit into P(hit@1), and prints the coefficients to paste into
``ExtractWeights`` (``LEXICAL_WEIGHTS`` with --lexical) with sentence hit@1/hit@3 and the
answer-recall@1/5 of the reranked passages on both splits. No test depends on this script.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.config import Settings  # noqa: E402
from qa.embed import SentenceTransformerEmbedder  # noqa: E402
from qa.evaluate import contains_answer  # noqa: E402
from qa.extract import FEATURES, features  # noqa: E402
from qa.index import load  # noqa: E402
from qa.pipeline import build_index  # noqa: E402
from qa.retrieve import Retriever  # noqa: E402

def squad_corpus(data_path: Path, workdir: Path) -> list[dict]:
    data = json.loads(data_path.read_text(encoding="utf-8"))["data"]
    (workdir / "corpus").mkdir(parents=True, exist_ok=True)
    questions = []
    with open(workdir / "corpus" / "squad.jsonl", "w", encoding="utf-8") as f:
        for article_number, article in enumerate(data, 1):
            text = "\n\n".join(p["context"] for p in article["paragraphs"])
            f.write(json.dumps({"id": article["title"], "title": article["title"].replace("_", " "), "text": text}) + "\n")
            for paragraph in article["paragraphs"]:
                for qa in paragraph["qas"]:
                    questions.append({"question": qa["question"], "article": article_number,
                                      "answers": [a["text"] for a in qa["answers"]]})
    return questions


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, iterations: int = 50) -> np.ndarray:
    """Newton's method (IRLS) with a little L2; the first column is the bias."""
    w = np.zeros(x.shape[1])
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-(x @ w)))
        gradient = x.T @ (p - y) + l2 * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + l2 * np.eye(x.shape[1])
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def fit_conditional_logit(groups, l2: float = 1e-3) -> np.ndarray:
    """Weights maximising, per question, the softmax probability of its answer-bearing sentences.

    A listwise objective: it learns to rank the sentences of one question against each other,
    which is what choosing the first quoted sentence needs (a pointwise fit scored lower here).
    """
    from scipy.optimize import minimize

    usable = [(x, y) for x, y, *_ in groups if len(y) and y.max() > 0]
    x = np.vstack([g[0] for g in usable])
    # Standardised columns make the problem well conditioned; the weights are scaled back at the end.
    mean, spread = x.mean(0), x.std(0)
    mean[0], spread[0] = 0.0, 1.0
    spread[spread == 0] = 1.0
    x = (x - mean) / spread
    y = np.concatenate([g[1] for g in usable])
    owner = np.concatenate([[i] * len(g[1]) for i, g in enumerate(usable)])
    count = len(usable)

    def objective(w):
        scores = x @ w
        top = np.full(count, -np.inf)
        np.maximum.at(top, owner, scores)
        e = np.exp(scores - top[owner])
        total = np.bincount(owner, e, count)
        positive = np.bincount(owner, e * y, count)
        loss = -(np.log(positive) - np.log(total)).mean() + l2 * w @ w
        p_all = e / total[owner]
        p_pos = e * y / positive[owner]
        gradient = -((p_pos - p_all)[:, None] * x).sum(0) / count + 2 * l2 * w
        return loss, gradient

    fitted = minimize(objective, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B", options={"maxiter": 2000}).x
    weights = fitted / spread
    weights[0] = fitted[0] - (fitted[1:] * mean[1:] / spread[1:]).sum()
    return weights


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/bench/data/squad/dev-v1.1.json")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/qa-squad"))
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--pool", type=int, default=Settings.rerank_pool, help="passages whose sentences are scored")
    parser.add_argument("--fusion", default="weighted")
    parser.add_argument("--dense-weight", type=float, default=Settings.dense_weight)
    parser.add_argument("--dump", type=Path, help="also save the feature matrix (npz) for experiments")
    parser.add_argument("--lexical", action="store_true",
                        help="fit without the token features (qa.extract.LEXICAL_WEIGHTS, for indexes without tokens)")
    args = parser.parse_args()
    questions = squad_corpus(args.data, args.workdir)
    embedder = SentenceTransformerEmbedder()
    settings = Settings.from_env({}, corpus=args.workdir / "corpus", index=args.workdir / "index")
    print(build_index(settings, embedder).summary(), flush=True)
    store = load(settings.index)
    vectors, question_tokens = embedder.encode_with_tokens([q["question"] for q in questions], progress=True,
                                                           desc="Embedding questions")
    if args.lexical:
        question_tokens = [None] * len(questions)
    retriever = Retriever(store, fusion=args.fusion, dense_weight=args.dense_weight)

    started = time.perf_counter()
    pool = max(args.pool, args.top_k)
    groups = []  # per question: (feature matrix, labels, article number, passage rank of each row, gold passages)
    for q, vector, tokens in zip(questions, vectors, question_tokens):
        hits = retriever.retrieve(q["question"], vector, pool)
        _, row_hits, matrix, texts = features(q["question"], vector, hits, store, tokens)
        # the same test as `qa eval`: a gold answer on word boundaries ("5" is not in "50")
        labels = np.array([contains_answer(t, q["answers"]) for t in texts], dtype=float)
        gold = np.array([contains_answer(h.passage.text, q["answers"]) for h in hits], dtype=bool)
        groups.append((matrix.astype(np.float64), labels, q["article"], np.array([h.rank for h in row_hits]), gold))
    print(f"features for {len(groups)} questions in {time.perf_counter() - started:.0f} s", flush=True)

    if args.dump:
        np.savez(args.dump, x=np.vstack([g[0] for g in groups]), y=np.concatenate([g[1] for g in groups]),
                 group=np.concatenate([[i] * len(g[1]) for i, g in enumerate(groups)]),
                 article=np.array([g[2] for g in groups]))
    tune = [g for g in groups if g[2] <= 24]
    k = args.top_k
    weights = fit_conditional_logit(tune)
    weights[0] = 0.0  # a constant does not change a ranking; Platt scaling below sets the offset

    def top1(group_list):
        logits, hits1, hits3, recall1, recall5, before5 = [], [], [], [], [], []
        for matrix, labels, _, ranks, gold in group_list:
            before5.append(gold[:k].any())
            if not len(labels):
                logits.append(-20.0), hits1.append(0.0), hits3.append(0.0), recall1.append(False), recall5.append(False)
                continue
            scores = matrix @ weights
            order = np.argsort(-scores)
            logits.append(scores[order[0]])
            hits1.append(labels[order[0]])
            hits3.append(labels[order[:3]].max())
            passage_best = np.full(len(gold), -np.inf)  # as qa.extract.rerank: passages by their best sentence
            np.maximum.at(passage_best, ranks, scores)
            reranked = np.argsort(-passage_best, kind="stable")
            recall1.append(gold[reranked[0]]), recall5.append(gold[reranked[:k]].any())
        return np.array(logits), np.array(hits1), np.array(hits3), np.array(recall1), np.array(recall5), np.array(before5)

    logits, hits1, *_ = top1(tune)
    platt = fit_logistic(np.column_stack([np.ones_like(logits), logits]), hits1)
    for name, part in (("tune 1-24", tune), ("test 25-48", [g for g in groups if g[2] > 24]), ("all 48", groups)):
        _, h1, h3, r1, r5, b5 = top1(part)
        print(f"{name:11s} ranking hit@1 {h1.mean():.4f}  hit@3 {h3.mean():.4f}  passages R@1 {r1.mean():.4f}"
              f"  R@{k} {r5.mean():.4f} (retrieval order {b5.mean():.4f})  ({len(part)} questions)")
    print("coefficients = (" + ", ".join(f"{w:.4f}" for w in weights) + ")  # " + ", ".join(FEATURES))
    print(f"calibration = ({platt[1]:.4f}, {platt[0]:.4f})  # scale, shift of the best sentence's logit")

    # Out-of-corpus questions: index articles 1–24 only and ask the questions of 25–48.
    half = args.workdir / "half"
    (half / "corpus").mkdir(parents=True, exist_ok=True)
    lines = (args.workdir / "corpus" / "squad.jsonl").read_text(encoding="utf-8").splitlines()
    (half / "corpus" / "squad.jsonl").write_text("\n".join(lines[:24]) + "\n", encoding="utf-8")
    half_settings = Settings.from_env({}, corpus=half / "corpus", index=half / "index")
    build_index(half_settings, embedder)
    half_store = load(half_settings.index)
    half_retriever = Retriever(half_store, fusion=args.fusion, dense_weight=args.dense_weight)

    def confidence(matrix):
        if not len(matrix):
            return 0.0
        return float(1 / (1 + np.exp(-(platt[1] * (matrix @ weights).max() + platt[0]))))

    inside = np.array([confidence(g[0]) for g in tune])
    inside_hit = top1(tune)[1]
    outside = []
    for q, vector, tokens in zip(questions, vectors, question_tokens):
        if q["article"] > 24:
            hits = half_retriever.retrieve(q["question"], vector, pool)
            outside.append(confidence(features(q["question"], vector, hits, half_store, tokens)[2]))
    outside = np.array(outside)
    print("threshold  in-corpus answered  hit@1 (abstain = miss)  out-of-corpus abstained")
    for threshold in (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5):
        answered = inside >= threshold
        print(f"  {threshold:.2f}      {answered.mean():7.3f}          {(inside_hit * answered).mean():.3f}"
              f"                  {(outside < threshold).mean():.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
