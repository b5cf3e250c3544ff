"""Fit how the reader's spans join the sentence ranking (``qa.extract.ReadWeights``) on SQuAD dev articles 1–24.

    python bench/tune_reader.py [--workdir /tmp/qa-bench-squad] [--collect] [--limit N]

Uses the index ``bench/http_quality.py`` builds (the 48 SQuAD v1.1 dev articles as Markdown files;
built here if missing). For every v1.1 question of articles 1–24 and every unanswerable SQuAD v2.0
question of the same articles (v2.0's articles are v1.1's, numbered as in v1.1), it ranks the
sentences, reads the windows ``qa`` reads, and records per candidate sentence the ranking's
probability, the reader's best span and its scores (``--collect``; saved to ``reader-tuning.json``
in the workdir). Then it fits:

- ``ranking``: the weight of the ranking's logit against the span score when choosing the first
  sentence (a grid; sentence hit@1 and short-answer EM/F1 printed for each value);
- ``read_further_below``: below which best "no answer" margin in the first windows the reader also
  reads the windows of the next ``QA_READ_FURTHER`` sentences (a grid, "never" included; the further
  windows are read for every question here, so each threshold is a choice among recorded readings).
  Among near-ties it takes the pair that abstains most on the unanswerable questions; the values are
  so close that the shipped threshold (-2, ``--read-further-below -2``) is the near-tie that does best on
  the mixed documents' own questions (``bench/mixed_docs.py``);
- the confidence model (logistic; answerable questions labelled by whether the first sentence
  holds an answer, the unanswerable ones 0), with hit@1 and "no answer" on the unanswerable per
  threshold.

It prints the ``ReadWeights`` to paste into ``qa/extract.py``. No test depends on this script.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, SQUAD, require, write_markdown_corpus  # noqa: E402
from tune_extract import fit_logistic  # noqa: E402

sys.path.insert(0, str(ROOT))
from qa.evaluate import contains_answer, exact_match, f1_score  # noqa: E402


def questions_of(dataset: Path, numbers: dict[str, int], unanswerable_only: bool) -> list[dict]:
    out = []
    for article in json.loads(dataset.read_text(encoding="utf-8"))["data"]:
        number = numbers.get(article["title"])
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                answers = [a["text"] for a in qa.get("answers", [])]
                if unanswerable_only and (answers or not qa.get("is_impossible", not answers)):
                    continue
                out.append({"question": qa["question"], "article": number, "answers": answers})
    return out


def collect(workdir: Path, limit: int | None, windows: int) -> list[dict]:
    from qa.config import Settings
    from qa.pipeline import Assistant, build_index
    from qa.read import windows_around
    from qa.shortanswer import answers_kind

    dataset = require(SQUAD / "dev-v1.1.json")
    corpus, index = workdir / "corpus", workdir / "index"
    write_markdown_corpus(corpus, dataset)
    settings = Settings.from_env(corpus=corpus, index=index, read_windows=windows)
    print(build_index(settings, progress=True).summary(), file=sys.stderr)  # incremental: a no-op when up to date
    assistant = Assistant.load(settings)
    numbers = {a["title"]: n for n, a in enumerate(json.loads(dataset.read_text(encoding="utf-8"))["data"], 1)}
    asked = [q for q in questions_of(dataset, numbers, False) if q["article"] <= 24]
    v2 = [q for q in questions_of(require(SQUAD / "dev-v2.0.reconstructed.json"), numbers, True) if q["article"] <= 24]
    rng = np.random.default_rng(0)
    if limit:
        asked = [asked[i] for i in sorted(rng.choice(len(asked), min(limit, len(asked)), replace=False))]
        v2 = [v2[i] for i in sorted(rng.choice(len(v2), min(limit // 2, len(v2)), replace=False))]
    records = []
    started = time.perf_counter()
    engine = assistant._engine
    for n, q in enumerate([*asked, *v2]):
        vector, tokens = assistant._embed_query(q["question"])
        hits = engine.retriever.retrieve(q["question"], vector, settings.rerank_pool, None)
        ranking = engine.extractor.rank(q["question"], vector, hits, 5, tokens)
        first = windows_around(ranking.sentences, windows, context=engine.reading_context)
        readings = assistant.reader.read(q["question"], first, enough=engine.extractor.read_enough)
        further = assistant.reader.read(q["question"], windows_around(ranking.sentences[windows:],
                                                                      settings.read_further,
                                                                      context=engine.reading_context,
                                                                      already_read=first))
        records.append({"question": q["question"], "article": q["article"], "answers": q["answers"],
                        "confidence": ranking.confidence,
                        "top_margin": max((r.margin for r in readings if math.isfinite(r.span_score)), default=None),
                        "sentences": _candidates(q, ranking.sentences, readings, answers_kind),
                        "sentences_further": _candidates(q, ranking.sentences, [*readings, *further], answers_kind)})
        if (n + 1) % 500 == 0:
            print(f"{n + 1} questions, {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return records


def _candidates(q: dict, ranked, readings, answers_kind) -> list[dict]:
    """The best 10 ranked sentences, each with its best span among ``readings`` (None when not read)."""
    sentences = []
    for rank, s in enumerate(ranked[:10]):
        passage = s.hit.passage
        best = None
        for r in readings:
            if r.article_id == s.article_id and s.start <= r.start < s.end and math.isfinite(r.span_score):
                if best is None or r.span_score > best.span_score:
                    best = r
        span = passage.text[best.start - passage.start: best.end - passage.start] if best else None
        sentences.append({
            "rank": rank, "probability": s.score, "right": contains_answer(s.text, q["answers"]),
            "span": span, "span_score": best.span_score if best else None,
            "margin": best.margin if best else None,
            "typed": bool(answers_kind(s.text, q["question"])),
            "span_typed": bool(span and answers_kind(span, q["question"])),
        })
    return sentences


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def choose(record: dict, weight: float, further_below: float | None = None) -> dict | None:
    """The first quoted sentence, reading further when the first windows' best margin is below ``further_below``."""
    candidates = record["sentences_further" if _reads_further(record, further_below) else "sentences"]
    read = [s for s in candidates if s["span_score"] is not None]
    if not read:
        return candidates[0] if candidates else None
    return max(read, key=lambda s: weight * _logit(s["probability"]) + s["span_score"])


def _reads_further(record: dict, further_below: float | None) -> bool:
    margin = record["top_margin"] if record["top_margin"] is not None else -20.0
    return further_below is not None and margin < further_below and "sentences_further" in record


def _answer_scores(answerable: list[dict], weight: float, further_below: float | None) -> tuple[float, float, float]:
    """Sentence hit@1, short-answer EM and F1 over the answerable questions."""
    hit = em = f1 = 0.0
    for r in answerable:
        chosen = choose(r, weight, further_below)
        if chosen is None:
            continue
        hit += chosen["right"]
        if chosen["span"]:
            em += max(exact_match(chosen["span"], g) for g in r["answers"])
            f1 += max(f1_score(chosen["span"], g) for g in r["answers"])
    n = len(answerable)
    return hit / n, em / n, f1 / n


def confidence_row(record: dict, chosen: dict) -> list[float]:
    top = record["top_margin"] if record["top_margin"] is not None else -20.0
    return [1.0, _logit(record["confidence"]), min(top, 20.0), float(chosen["rank"] == 0), float(chosen["typed"]),
            float(chosen["span_typed"])]


def _confidence_fit(records: list[dict], weight: float, further: float | None):
    """The confidence weights for this choice of first sentence (with the fit's rows), and the share of
    unanswerable questions that abstain at 0.3."""
    chosen = [choose(r, weight, further) for r in records]
    usable = [(r, c) for r, c in zip(records, chosen) if c is not None]
    x = np.array([confidence_row(r, c) for r, c in usable])
    y = np.array([float(bool(r["answers"]) and c["right"]) for r, c in usable])
    w = fit_logistic(x, y)
    is_answerable = np.array([bool(r["answers"]) for r, _ in usable])
    # Platt scaling on the answerable questions alone, so that a confidence of 0.3 means the first sentence
    # is right 30% of the time on questions the articles answer (what `qa eval`'s calibration plot shows).
    scale, shift = fit_logistic(np.column_stack([np.ones(is_answerable.sum()), x[is_answerable] @ w]),
                                y[is_answerable])[::-1]
    w = w * scale
    w[0] += shift
    abstained = float((x[~is_answerable] @ w < _logit(0.3)).mean()) if (~is_answerable).any() else 0.0
    return (w, x, y, is_answerable, usable), abstained


def fit(records: list[dict], further_below: float | None = None) -> None:
    answerable = [r for r in records if r["answers"]]
    unanswerable = [r for r in records if not r["answers"]]
    print(f"{len(answerable)} answerable, {len(unanswerable)} unanswerable questions (articles 1–24)")
    further_grid = (None, -6.0, -4.0, -3.0, -2.0, -1.0, 0.0)
    print("sentence hit@1 (short EM) by ranking weight and the margin below which the reader reads further:")
    print("| ranking weight | " + " | ".join("never" if f is None else str(f) for f in further_grid) + " |")
    scores = {}
    for weight in (0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 7.0, 10.0, 15.0, 100.0):
        cells = []
        for further in further_grid:
            hit, em, _ = _answer_scores(answerable, weight, further)
            cells.append(f"{hit:.4f} ({em:.4f})")
            scores[weight, further] = hit + em
        print(f"| {weight} | " + " | ".join(cells) + " |")
    # Near-ties on the answerable questions (within 0.2 points of hit@1 + EM): the one that abstains on
    # most unanswerable questions at the 0.3 threshold, since "no answer" is where the reader is weakest.
    if further_below is not None:  # fixed by the caller: the best ranking weight for it
        scores = {pair: score for pair, score in scores.items() if pair[1] == further_below}
    best = max(scores.values())
    near = [pair for pair, score in scores.items() if score >= best - 0.002]
    abstains = {pair: _confidence_fit(records, *pair)[1] for pair in near}
    best_weight, best_further = max(near, key=lambda pair: (abstains[pair], scores[pair]))
    print("near-ties (ranking weight, read further below: unanswerable abstained at 0.3): "
          + ", ".join(f"{w}, {f}: {abstains[w, f]:.4f}" for w, f in near))
    hit, em, f1 = _answer_scores(answerable, best_weight, best_further)
    print(f"chosen: ranking weight {best_weight}, read further below {best_further}: hit@1 {hit:.4f}, "
          f"short EM {em:.4f}, F1 {f1:.4f}; reads further on "
          f"{np.mean([_reads_further(r, best_further) for r in records]):.1%} of the questions")
    (w, x, y, is_answerable, usable), _ = _confidence_fit(records, best_weight, best_further)
    p = 1 / (1 + np.exp(-(x @ w)))
    print(f"\nranking weight {best_weight}; confidence weights (bias, confidence logit, margin, agreement, typed, "
          "span typed): "
          f"{np.round(w, 4).tolist()}")
    print("| threshold | answerable: first sentence right and answered | unanswerable: abstained |")
    for threshold in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6):
        answered = p >= threshold
        print(f"| {threshold} | {(answered & (y == 1))[is_answerable].mean():.4f} | "
              f"{(~answered)[~is_answerable].mean():.4f} |")
    # The reader's own "no answer" as the only rule: what a threshold on its best margin would trade.
    print("\n| reader's best margin at least | answerable: first sentence right and answered | unanswerable: abstained |")
    right = y == 1
    margins = np.array([r["top_margin"] if r["top_margin"] is not None else -20.0 for r, _ in usable])
    for threshold in (None, -2, -1, 0, 1, 2):
        kept = margins >= threshold if threshold is not None else np.ones(len(margins), bool)
        print(f"| {'none' if threshold is None else threshold} | {(kept & right)[is_answerable].mean():.4f} | "
              f"{(~kept)[~is_answerable].mean():.4f} |")
    print("\ncalibration on the answerable questions (confidence bin: share right):")
    for lo in np.arange(0, 1, 0.1):
        inside = is_answerable & (p >= lo) & (p < lo + 0.1)
        if inside.sum():
            print(f"  {lo:.1f}–{lo + 0.1:.1f}: {y[inside].mean():.3f} of {int(inside.sum())}")
    further = "float('-inf')" if best_further is None else best_further
    print(f"\nReadWeights(read_further_below={further}, ranking={best_weight}, bias={w[0]:.4f}, "
          f"confidence={w[1]:.4f}, margin={w[2]:.4f}, agreement={w[3]:.4f}, typed={w[4]:.4f}, "
          f"span_typed={w[5]:.4f})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/qa-bench-squad"))
    parser.add_argument("--collect", action="store_true", help="read the questions again (else reuse the saved file)")
    parser.add_argument("--limit", type=int, help="a random sample of N answerable (and N/2 unanswerable) questions")
    parser.add_argument("--windows", type=int, default=3, help="candidate sentences read per question")
    parser.add_argument("--read-further-below", type=float, help="fix the margin below which the reader reads "
                        "further (else the grid's choice); shipped: -2, the near-tie that does best on "
                        "bench/mixed_docs.py's own questions")
    args = parser.parse_args()
    saved = args.workdir / "reader-tuning.json"
    if args.collect or not saved.exists():
        records = collect(args.workdir, args.limit, args.windows)
        saved.write_text(json.dumps(records), encoding="utf-8")
    records = json.loads(saved.read_text(encoding="utf-8"))
    fit(records, args.read_further_below)
    return 0


if __name__ == "__main__":
    sys.exit(main())
