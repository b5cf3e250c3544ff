"""Fit the sentence scorer and its confidence calibration on SQuAD v1.1 dev articles 1–24.

    python bench/tune_extract.py [--workdir /tmp/qa-squad] [--data ../shared/bench/data/squad/dev-v1.1.json]

Builds (or reuses) an index of all 48 articles with the real model, retrieves the top 5 passages
for every question, computes each candidate sentence's features (qa.extract.FEATURES), fits a
logistic regression on the tuning split (articles 1–24; whole articles, never single questions),
Platt-scales the best sentence's logit into P(hit@1), and prints the coefficients to paste into
``ExtractWeights`` with sentence hit@1/hit@3 on both splits. No test depends on this script.
"""

from __future__ import annotations

import argparse
import json
import re
import string
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.config import Settings  # noqa: E402
from qa.embed import SentenceTransformerEmbedder  # noqa: E402
from qa.extract import FEATURES, features  # noqa: E402
from qa.index import load  # noqa: E402
from qa.pipeline import build_index  # noqa: E402
from qa.retrieve import Retriever  # noqa: E402

_PUNCT = set(string.punctuation)


def normalise_answer(text: str) -> str:
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


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
                                      "answers": [normalise_answer(a["text"]) for a in qa["answers"]]})
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

    usable = [(x, y) for x, y, _ in groups if len(y) and y.max() > 0]
    x = np.vstack([g[0] for g in usable])
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

    return minimize(objective, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B").x


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/bench/data/squad/dev-v1.1.json")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/qa-squad"))
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--fusion", default="weighted")
    parser.add_argument("--dense-weight", type=float, default=Settings.dense_weight)
    parser.add_argument("--dump", type=Path, help="also save the feature matrix (npz) for experiments")
    args = parser.parse_args()
    questions = squad_corpus(args.data, args.workdir)
    embedder = SentenceTransformerEmbedder()
    settings = Settings.from_env({}, corpus=args.workdir / "corpus", index=args.workdir / "index")
    print(build_index(settings, embedder).summary(), flush=True)
    store = load(settings.index)
    vectors_path = args.workdir / "question_vectors.npy"
    if vectors_path.exists() and len(np.load(vectors_path)) == len(questions):
        vectors = np.load(vectors_path)
    else:
        vectors = embedder.encode([q["question"] for q in questions], progress=True, desc="Embedding questions")
        np.save(vectors_path, vectors)
    retriever = Retriever(store, fusion=args.fusion, dense_weight=args.dense_weight)

    started = time.perf_counter()
    groups = []  # per question: (feature matrix, labels, article number)
    for q, vector in zip(questions, vectors):
        hits = retriever.retrieve(q["question"], vector, args.top_k)
        _, _, matrix, texts = features(q["question"], vector, hits, store)
        labels = np.array([any(a in normalise_answer(t) for a in q["answers"]) for t in texts], dtype=float)
        groups.append((matrix.astype(np.float64), labels, q["article"]))
    print(f"features for {len(groups)} questions in {time.perf_counter() - started:.0f} s", flush=True)

    if args.dump:
        np.savez(args.dump, x=np.vstack([g[0] for g in groups]), y=np.concatenate([g[1] for g in groups]),
                 group=np.concatenate([[i] * len(g[1]) for i, g in enumerate(groups)]),
                 article=np.array([g[2] for g in groups]))
    tune = [g for g in groups if g[2] <= 24]
    weights = fit_conditional_logit(tune)
    weights[0] = 0.0  # a constant does not change a ranking; Platt scaling below sets the offset

    def top1(group_list):
        logits, hits1, hits3 = [], [], []
        for matrix, labels, _ in group_list:
            if not len(labels):
                logits.append(-20.0), hits1.append(0.0), hits3.append(0.0)
                continue
            scores = matrix @ weights
            order = np.argsort(-scores)
            logits.append(scores[order[0]])
            hits1.append(labels[order[0]])
            hits3.append(labels[order[:3]].max())
        return np.array(logits), np.array(hits1), np.array(hits3)

    logits, hits1, _ = top1(tune)
    platt = fit_logistic(np.column_stack([np.ones_like(logits), logits]), hits1)
    for name, part in (("tune 1-24", tune), ("test 25-48", [g for g in groups if g[2] > 24]), ("all 48", groups)):
        _, h1, h3 = top1(part)
        print(f"{name:11s} ranking hit@1 {h1.mean():.3f}  hit@3 {h3.mean():.3f}  ({len(part)} questions)")
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
    for q, vector in zip(questions, vectors):
        if q["article"] > 24:
            hits = half_retriever.retrieve(q["question"], vector, args.top_k)
            outside.append(confidence(features(q["question"], vector, hits, half_store)[2]))
    outside = np.array(outside)
    print("threshold  in-corpus answered  hit@1 (abstain = miss)  out-of-corpus abstained")
    for threshold in (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5):
        answered = inside >= threshold
        print(f"  {threshold:.2f}      {answered.mean():7.3f}          {(inside_hit * answered).mean():.3f}"
              f"                  {(outside < threshold).mean():.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
