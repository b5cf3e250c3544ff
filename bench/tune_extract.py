"""Fit the sentence scorer and its confidence calibration on SQuAD v1.1 dev articles 1–24.

    python bench/tune_extract.py [--workdir /tmp/qa-squad] [--data ../shared/bench/data/squad/dev-v1.1.json]

Builds (or reuses) an index of all 48 articles with the real model, retrieves the passages the
assistant reads for every question (QA_RERANK_POOL, 12), computes each candidate sentence's features
(qa.extract.FEATURES; the token features from the question's token vectors unless --lexical), fits a
listwise logistic model on the tuning split (articles 1–24; whole articles, never single questions),
Platt-scales a sentence's logit into a probability, and fits the confidence model over the best
sentence (``qa.extract.CONFIDENCE_FEATURES``) with unanswerable questions among its negatives: the
questions of articles 13–24 asked of an index of articles 1–12. It prints the coefficients to paste
into ``ExtractWeights`` (``LEXICAL_WEIGHTS`` with --lexical) with sentence hit@1/hit@3 and the
answer-recall@1/5 of the reranked passages on both splits, and, per threshold, hit@1 and the share
of out-of-corpus questions (articles 25–48 asked of an index of 1–24) that abstain, for the Platt
confidence and the confidence model. No test depends on this script.
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
from qa.extract import CONFIDENCE_FEATURES, FEATURES, confidence_features, features  # noqa: E402
from qa.stores import load  # noqa: E402
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


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, iterations: int = 50,
                 sample_weight: np.ndarray | None = None) -> np.ndarray:
    """Newton's method (IRLS) with a little L2; the first column is the bias."""
    w = np.zeros(x.shape[1])
    s = np.ones(len(y)) if sample_weight is None else sample_weight
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-(x @ w)))
        gradient = x.T @ (s * (p - y)) + l2 * w
        hessian = (x * (s * p * (1 - p))[:, None]).T @ x + l2 * np.eye(x.shape[1])
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

    # Questions the corpus does not answer: ask the questions of later articles of an index of earlier
    # ones. Articles 13–24 asked of 1–12 teach the confidence model (tuning split only); 25–48 asked
    # of 1–24 measure it.
    lines = (args.workdir / "corpus" / "squad.jsonl").read_text(encoding="utf-8").splitlines()

    def outside_features(name: str, indexed: int, asked: range) -> list[np.ndarray]:
        folder = args.workdir / name
        (folder / "corpus").mkdir(parents=True, exist_ok=True)
        (folder / "corpus" / "squad.jsonl").write_text("\n".join(lines[:indexed]) + "\n", encoding="utf-8")
        part_settings = Settings.from_env({}, corpus=folder / "corpus", index=folder / "index")
        build_index(part_settings, embedder)
        part_store = load(part_settings.index)
        part_retriever = Retriever(part_store, fusion=args.fusion, dense_weight=args.dense_weight)
        out = []
        for q, vector, tokens in zip(questions, vectors, question_tokens):
            if q["article"] in asked:
                hits = part_retriever.retrieve(q["question"], vector, pool)
                out.append(features(q["question"], vector, hits, part_store, tokens)[2].astype(np.float64))
        return out

    def rows(matrices: list[np.ndarray]) -> np.ndarray:
        return np.array([confidence_features(m, m @ weights) if len(m) else np.zeros(len(CONFIDENCE_FEATURES))
                         for m in matrices])

    held = [g for g in groups if g[2] > 24]
    inside_x, inside_hit = rows([g[0] for g in tune]), top1(tune)[1]
    held_x, held_hit = rows([g[0] for g in held]), top1(held)[1]
    negatives = rows(outside_features("quarter", 12, range(13, 25)))
    outside_x = rows(outside_features("half", 24, range(25, 49)))
    if args.dump:
        np.savez(args.dump.with_name(args.dump.stem + "-confidence.npz"), inside=inside_x, inside_hit=inside_hit,
                 held=held_x, held_hit=held_hit, negatives=negatives, outside=outside_x)
    # First a logistic model that tells answered from unanswerable questions (the negatives weigh 4×
    # the answerable ones, so the off-topic cases shape it), then Platt scaling on the answerable
    # questions alone, so a confidence of 0.3 still means "right 30% of the time" on questions the
    # corpus answers; the two fold into one coefficient vector.
    x = np.vstack([inside_x, negatives])
    y = np.concatenate([inside_hit, np.zeros(len(negatives))])
    sample_weight = np.concatenate([np.ones(len(inside_x)), np.full(len(negatives), 4.0 * len(inside_x) / len(negatives))])
    spread = x.std(0)
    spread[0] = spread[spread == 0] = 1.0
    separating = fit_logistic(x / spread, y, l2=1.0, sample_weight=sample_weight) / spread
    shift, scale = fit_logistic(np.column_stack([np.ones(len(inside_x)), inside_x @ separating]), inside_hit)
    fitted = scale * separating
    fitted[0] += shift
    print("confidence = (" + ", ".join(f"{w:.4f}" for w in fitted) + ")  # " + ", ".join(CONFIDENCE_FEATURES))

    def platt_confidence(matrix_rows: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-(platt[1] * matrix_rows[:, 1] + platt[0])))

    def model_confidence(matrix_rows: np.ndarray) -> np.ndarray:
        return np.where(matrix_rows[:, 0] > 0, 1 / (1 + np.exp(-(matrix_rows @ fitted))), 0.0)  # no sentence: 0

    print("threshold  | Platt on the best logit: tune answered, hit@1; held-out hit@1; out-of-corpus abstained"
          " | confidence model: the same")
    for threshold in (0.1, 0.2, 0.3, 0.4, 0.5):
        cells = []
        for confidence in (platt_confidence, model_confidence):
            answered, held_answered = confidence(inside_x) >= threshold, confidence(held_x) >= threshold
            cells.append(f"{answered.mean():.3f} {(inside_hit * answered).mean():.4f}  "
                         f"{(held_hit * held_answered).mean():.4f}  {(confidence(outside_x) < threshold).mean():.3f}")
        print(f"  {threshold:.2f}     | " + "   |   ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
