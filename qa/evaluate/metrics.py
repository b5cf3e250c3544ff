"""From per-question records to figures: hit rates, EM/F1, abstention, latency percentiles, calibration."""

from __future__ import annotations

import math
from collections.abc import Sequence


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def compute_metrics(records: Sequence[dict], v2: bool) -> dict:
    """Aggregate per-question records. Retrieval and sentence hits count questions with a gold answer;
    EM/F1 count every question (an unanswerable one scores 1 for an empty prediction)."""
    has = [r for r in records if not r["is_impossible"]]
    no = [r for r in records if r["is_impossible"]]
    curve = [_mean([1.0 if r["retrieval_rank"] is not None and r["retrieval_rank"] <= k else 0.0 for r in has])
             for k in range(1, 11)]
    metrics = {
        "recall@1": curve[0], "recall@5": curve[4], "recall@10": curve[9], "recall_curve": curve,
        "mrr@10": _mean([1.0 / r["retrieval_rank"] if r["retrieval_rank"] else 0.0 for r in has]),
        "sentence_hit@1": _mean([float(r["hit1"]) for r in has]),
        "sentence_hit@3": _mean([float(r["hit3"]) for r in has]),
        "exact_match": _mean([r["em"] for r in records]),
        "f1": _mean([r["f1"] for r in records]),
        "answer_rate": _mean([float(r["answerable"]) for r in records]),
        "answered_hit@1": _mean([float(r["hit1"]) for r in has if r["answerable"]]),
        "calibration_error": calibration_error(records),
        "latency_p50_ms": _percentile([r["latency_ms"] for r in records], 0.50),
        "latency_p95_ms": _percentile([r["latency_ms"] for r in records], 0.95),
    }
    if v2:
        abstained = [r for r in records if not r["answerable"]]
        true_abstentions = sum(1 for r in abstained if r["is_impossible"])
        metrics.update({
            "has_answer_hit@1": metrics["sentence_hit@1"],
            "has_answer_exact_match": _mean([r["em"] for r in has]),
            "has_answer_f1": _mean([r["f1"] for r in has]),
            "no_answer_accuracy": _mean([float(not r["answerable"]) for r in no]),
            "abstention_precision": true_abstentions / len(abstained) if abstained else None,
            "abstention_recall": true_abstentions / len(no) if no else None,
            "answerable_decision_accuracy": _mean([float(r["answerable"] != r["is_impossible"]) for r in records]),
        })
    return metrics


# ---------------------------------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------------------------------

def confidence_bin(confidence: float, bins: int) -> int:
    return min(bins - 1, max(0, int(confidence * bins)))


def calibration_bins(records: Sequence[dict], bins: int = 10) -> list[dict]:
    """Per confidence bin, over questions with a gold answer: count, mean confidence, observed hit@1 rate."""
    grouped: list[list[dict]] = [[] for _ in range(bins)]
    for r in records:
        if not r["is_impossible"]:
            grouped[confidence_bin(r["confidence"], bins)].append(r)
    return [
        {"low": b / bins, "high": (b + 1) / bins, "count": len(g),
         "confidence": _mean([r["confidence"] for r in g]), "hit_rate": _mean([float(r["hit1"]) for r in g])}
        for b, g in enumerate(grouped)
    ]


def calibration_error(records: Sequence[dict], bins: int = 10) -> float | None:
    """Expected calibration error: the count-weighted mean of |mean confidence - observed hit@1| over the bins
    (0: a confidence of 0.3 is right 30% of the time, in every bin)."""
    table = [row for row in calibration_bins(records, bins) if row["count"]]
    total = sum(row["count"] for row in table)
    if not total:
        return None
    return sum(row["count"] * abs(row["confidence"] - row["hit_rate"]) for row in table) / total


