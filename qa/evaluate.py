"""Measure the assistant on SQuAD-format data (v1.1 and v2.0): retrieval, quoted sentences, EM/F1, abstention.

Two parts:

- the official SQuAD scorer (``normalize_answer``, ``exact_match``, ``f1_score``, ``score_predictions``),
  which reproduces the official evaluate-v1.1 / evaluate-v2.0 figures for a ``{question_id: answer}`` dict;
- ``run_eval``: every SQuAD article becomes one corpus article, the normal pipeline indexes it, every
  (or a sample of) question is asked, and the replies are scored. ``format_table``, ``write_json`` and
  ``write_html`` report the results (the HTML is self-contained, with inline SVG plots drawn here).

Stdlib only at import time; the pipeline is imported inside ``run_eval``.
"""

from __future__ import annotations

import collections
import html
import json
import math
import random
import re
import string
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "DatasetError", "EvalError", "SquadDataset", "SquadQuestion", "exact_match", "f1_score", "format_table",
    "load_squad", "normalize_answer", "parse_article_range", "run_eval", "score_predictions",
    "write_html", "write_json",
]


class EvalError(ValueError):
    """A bad evaluation request (sample size, article range, top-k): the message is for the user."""


class DatasetError(EvalError):
    """The dataset file is missing, is not JSON, or is not in the SQuAD format."""


# ---------------------------------------------------------------------------------------------------------------
# The official scorer
# ---------------------------------------------------------------------------------------------------------------

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = frozenset(string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower-case, drop punctuation, drop the articles a/an/the, collapse white space (official SQuAD)."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1_score(prediction: str, gold: str) -> float:
    """Token F1 after normalisation; two empty answers agree (1.0), one empty answer scores 0."""
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    if not pred_tokens or not gold_tokens:
        return float(pred_tokens == gold_tokens)
    common = collections.Counter(pred_tokens) & collections.Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def best_over_gold(metric: Callable[[str, str], float], prediction: str, golds: Sequence[str]) -> float:
    """The best score over the gold answers; a question without one (SQuAD v2.0) has the gold answer ""."""
    return max(metric(prediction, gold) for gold in (list(golds) or [""]))


def _scoring_golds(answers: Sequence[str], v2: bool) -> list[str]:
    # evaluate-v2.0 drops gold answers that normalise to nothing; evaluate-v1.1 keeps every one.
    if v2:
        return [a for a in answers if normalize_answer(a)]
    return list(answers)


def score_prediction(prediction: str, question: SquadQuestion, v2: bool) -> tuple[float, float]:
    """(EM, F1) of one prediction, each 0 or 1 / 0..1, by the official rules of the dataset's version."""
    golds = _scoring_golds(question.answers, v2)
    return best_over_gold(exact_match, prediction, golds), best_over_gold(f1_score, prediction, golds)


def score_predictions(dataset: SquadDataset | str | Path, predictions: dict[str, str]) -> dict:
    """Score ``{question_id: answer_text}`` like the official script: percentages, plus the has/no-answer split.

    A question missing from ``predictions`` scores 0 (as in evaluate-v1.1) and is counted in ``missing``.
    """
    if not isinstance(dataset, SquadDataset):
        dataset = load_squad(dataset)
    v2 = dataset.is_v2
    exact, f1 = {}, {}
    missing = 0
    for q in dataset.questions():
        if q.id not in predictions:
            missing += 1
            exact[q.id] = f1[q.id] = 0.0
            continue
        exact[q.id], f1[q.id] = score_prediction(str(predictions[q.id]), q, v2)
    result = _percentages(exact, f1, [q.id for q in dataset.questions()])
    if v2:
        has = [q.id for q in dataset.questions() if q.answers]
        no = [q.id for q in dataset.questions() if not q.answers]
        for prefix, ids in (("HasAns", has), ("NoAns", no)):
            if ids:
                part = _percentages(exact, f1, ids)
                result.update({f"{prefix}_exact": part["exact"], f"{prefix}_f1": part["f1"],
                               f"{prefix}_total": part["total"]})
    result["missing"] = missing
    return result


def _percentages(exact: dict[str, float], f1: dict[str, float], ids: list[str]) -> dict:
    total = len(ids)
    if not total:
        return {"exact": 0.0, "f1": 0.0, "total": 0}
    return {"exact": 100.0 * sum(exact[i] for i in ids) / total,
            "f1": 100.0 * sum(f1[i] for i in ids) / total, "total": total}


# ---------------------------------------------------------------------------------------------------------------
# The dataset
# ---------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SquadQuestion:
    id: str
    question: str
    answers: tuple[str, ...]  # gold answer texts; empty for an unanswerable question (v2.0)
    is_impossible: bool
    article: int  # 1-based, in file order
    title: str


@dataclass(frozen=True)
class SquadArticle:
    number: int  # 1-based, in file order
    title: str
    contexts: tuple[str, ...]
    questions: tuple[SquadQuestion, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(self.contexts)

    @property
    def display_title(self) -> str:
        return self.title.replace("_", " ")


@dataclass(frozen=True)
class SquadDataset:
    path: str
    version: str
    articles: tuple[SquadArticle, ...]
    is_v2: bool = field(default=False)

    def questions(self) -> list[SquadQuestion]:
        return [q for a in self.articles for q in a.questions]


def load_squad(path: str | Path) -> SquadDataset:
    """Read an official SQuAD JSON file; raise DatasetError with one readable line when it is not one."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"no such dataset file: {str(path)!r}") from None
    except IsADirectoryError:
        raise DatasetError(f"{str(path)!r} is a folder, not a SQuAD JSON file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"cannot read {str(path)!r}: {error}") from None
    except json.JSONDecodeError as error:
        raise DatasetError(f"{str(path)!r} is not valid JSON (line {error.lineno}, column {error.colno}: "
                           f"{error.msg})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("data"), list):
        raise DatasetError(f"{str(path)!r} is not SQuAD JSON: expected an object with a \"data\" list")
    articles = []
    v2 = False
    try:
        for number, article in enumerate(raw["data"], 1):
            title = str(article.get("title") or f"Article {number}")
            contexts, questions = [], []
            for paragraph in article["paragraphs"]:
                contexts.append(str(paragraph["context"]))
                for qa in paragraph["qas"]:
                    impossible = bool(qa.get("is_impossible", False))
                    v2 = v2 or "is_impossible" in qa
                    answers = () if impossible else tuple(str(a["text"]) for a in qa.get("answers", ()))
                    questions.append(SquadQuestion(id=str(qa["id"]), question=str(qa["question"]),
                                                   answers=answers, is_impossible=impossible,
                                                   article=number, title=title))
            articles.append(SquadArticle(number, title, tuple(contexts), tuple(questions)))
    except (KeyError, TypeError, AttributeError) as error:
        raise DatasetError(f"{str(path)!r} is not SQuAD JSON: article {len(articles) + 1} is malformed "
                           f"({type(error).__name__}: {error})") from None
    version = str(raw.get("version", "")) or ("v2.0" if v2 else "1.1")
    return SquadDataset(path=str(path), version=version, articles=tuple(articles), is_v2=v2)


def parse_article_range(value: str | Sequence[int] | None) -> tuple[int, int] | None:
    """"1-24" -> (1, 24), "7" -> (7, 7); 1-based and inclusive."""
    if value is None:
        return None
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+)\s*(?:[-–:]\s*(\d+)\s*)?", value)
        if not match:
            raise EvalError(f"articles must look like 1-24 or 7, not {value!r}")
        start, end = int(match.group(1)), int(match.group(2) or match.group(1))
    else:
        start, end = (int(v) for v in value)
    if start < 1 or end < start:
        raise EvalError(f"articles must be a range like 1-24 with 1 <= start <= end, not {start}-{end}")
    return start, end


# ---------------------------------------------------------------------------------------------------------------
# The evaluation run
# ---------------------------------------------------------------------------------------------------------------

def contains_answer(text: str, golds: Iterable[str]) -> bool:
    """Whether a normalised gold answer occurs in the normalised text, on word boundaries ("5" is not in "50")."""
    haystack = f" {normalize_answer(text)} "
    for gold in golds:
        needle = normalize_answer(gold)
        if needle and f" {needle} " in haystack:
            return True
    return False


def run_eval(
    dataset_path: str | Path,
    *,
    limit: int | None = None,
    seed: int = 0,
    articles: tuple[int, int] | str | None = None,
    top_k: int = 5,
    workdir: str | Path | None = None,
    embedder=None,
    settings=None,
    progress: bool = False,
    on_stage: Callable[[str], None] = lambda message: None,
) -> dict:
    """Index the dataset's articles with the normal pipeline, ask its questions, and score the replies.

    Returns ``{"config", "counts", "build", "metrics", "questions"}`` (rates as fractions 0..1).
    """
    dataset = load_squad(dataset_path)
    selected = _select_articles(dataset, parse_article_range(articles))
    questions = [q for a in selected for q in a.questions]
    if not questions:
        raise DatasetError(f"{dataset.path!r}: the selected articles hold no questions")
    if limit is not None:
        if limit < 1:
            raise EvalError("limit must be at least 1")
        if limit < len(questions):
            picked = sorted(random.Random(seed).sample(range(len(questions)), limit))
            questions = [questions[i] for i in picked]
    if not 1 <= top_k <= 20:
        raise EvalError("top_k must be between 1 and 20")

    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="qa-eval-") as temporary:
            return _run(dataset, selected, questions, Path(temporary), top_k, seed, limit, articles,
                        embedder, settings, progress, on_stage, keep=False)
    return _run(dataset, selected, questions, Path(workdir), top_k, seed, limit, articles,
                embedder, settings, progress, on_stage, keep=True)


def _select_articles(dataset: SquadDataset, span: tuple[int, int] | None) -> list[SquadArticle]:
    if span is None:
        return list(dataset.articles)
    start, end = span
    if start > len(dataset.articles):
        raise EvalError(f"articles {start}-{end}: the dataset has only {len(dataset.articles)} articles")
    return list(dataset.articles[start - 1:end])


def _write_corpus(selected: Sequence[SquadArticle], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "squad.jsonl"
    lines = [json.dumps({"id": f"squad-{a.number:03d}-{a.title}", "title": a.display_title, "text": a.text},
                        ensure_ascii=False) for a in selected]
    content = "\n".join(lines) + "\n"
    if not target.exists() or target.read_text(encoding="utf-8") != content:
        tmp = target.with_suffix(".jsonl.tmp")
        tmp.write_text(content, encoding="utf-8")
        tmp.replace(target)
    return target


def _run(dataset, selected, questions, workdir: Path, top_k, seed, limit, articles, embedder, settings,
         progress, on_stage, keep: bool) -> dict:
    from dataclasses import replace

    from qa.config import Settings
    from qa.pipeline import Assistant, build_index, make_embedder

    corpus_dir, index_dir = workdir / "corpus", workdir / "index"
    _write_corpus(selected, corpus_dir)
    if settings is None:
        settings = Settings.from_env(corpus=corpus_dir, index=index_dir)
    else:
        settings = replace(settings, corpus=corpus_dir, index=index_dir)
    embedder = embedder or make_embedder(settings)

    report = build_index(settings, embedder, progress=progress, on_stage=on_stage)
    assistant = Assistant.load(settings, embedder)
    health = assistant.health()

    records = []
    iterator = questions
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(questions, desc="Asking", unit="q", file=sys.stderr, dynamic_ncols=True)
        iterator = bar
    try:
        for q in iterator:
            records.append(_ask_one(assistant, q, top_k, dataset.is_v2))
    finally:
        if bar is not None:
            bar.close()

    span = parse_article_range(articles)
    config = {
        "dataset": str(dataset.path), "version": dataset.version, "squad_v2": dataset.is_v2,
        "articles": f"{span[0]}-{min(span[1], len(dataset.articles))}" if span else f"1-{len(dataset.articles)}",
        "limit": limit, "seed": seed, "top_k": top_k, "model": embedder.name,
        "min_confidence": settings.min_confidence, "workdir": str(workdir) if keep else None,
        "index_version": health.get("index_version"), "reader": health.get("reader"),
    }
    counts = {
        "articles": len(selected), "passages": health.get("passages"), "sentences": health.get("sentences"),
        "questions": len(records), "answerable": sum(1 for r in records if r["answers"]),
        "unanswerable": sum(1 for r in records if not r["answers"]),
        "questions_in_selection": sum(len(a.questions) for a in selected),
    }
    build = {"embedded": report.embedded, "reused": report.reused, "seconds": round(report.seconds, 2)}
    return {"config": config, "counts": counts, "build": build, "metrics": compute_metrics(records, dataset.is_v2),
            "questions": records}


def _ask_one(assistant, q: SquadQuestion, top_k: int, v2: bool) -> dict:
    started = time.perf_counter()
    reply = assistant.ask(q.question, top_k=top_k)
    latency = (time.perf_counter() - started) * 1000
    ranked = assistant.retrieve(q.question, 10)
    golds = [a for a in q.answers if normalize_answer(a)]

    rank = None
    if golds:
        for position, passage in enumerate(ranked, 1):
            if contains_answer(passage.text, golds):
                rank = position
                break
    quoted = [s.text for s in reply.sentences] if reply.answerable else []
    hits = [bool(golds) and contains_answer(text, golds) for text in quoted[:3]]
    if not reply.answerable:
        prediction = ""
    elif reply.short_answer is not None and reply.short_answer.text:
        prediction = reply.short_answer.text
    else:
        prediction = quoted[0] if quoted else ""
    em, f1 = score_prediction(prediction, q, v2)
    return {
        "id": q.id, "question": q.question, "answers": list(q.answers), "article": q.title,
        "is_impossible": not q.answers,
        "answerable": bool(reply.answerable), "confidence": float(reply.confidence),
        "prediction": prediction, "short_answer": reply.short_answer.text if reply.short_answer else None,
        "sentence": quoted[0] if quoted else None,
        "retrieval_rank": rank, "hit1": bool(hits[:1] and hits[0]), "hit3": any(hits),
        "em": em, "f1": f1, "latency_ms": round(latency, 2),
    }


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

def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


def _metric_rows(results: dict) -> list[tuple[str, str, str]]:
    """(group, metric, value) rows shared by the terminal table and the HTML report."""
    m = results["metrics"]
    rows = [
        ("retrieval", "answer recall@1", _pct(m["recall@1"])),
        ("retrieval", "answer recall@5", _pct(m["recall@5"])),
        ("retrieval", "answer recall@10", _pct(m["recall@10"])),
        ("retrieval", "MRR@10", "n/a" if m["mrr@10"] is None else f"{m['mrr@10']:.3f}"),
        ("sentences", "hit@1 (first quoted sentence)", _pct(m["sentence_hit@1"])),
        ("sentences", "hit@3 (any of the first three)", _pct(m["sentence_hit@3"])),
        ("short answer", "exact match", _pct(m["exact_match"])),
        ("short answer", "F1", _pct(m["f1"])),
        ("abstention", "answered", _pct(m["answer_rate"])),
        ("confidence", "hit@1 of the answered", _pct(m.get("answered_hit@1"))),
        ("confidence", "calibration error (ECE)", _pct(m.get("calibration_error"))),
    ]
    if "no_answer_accuracy" in m:
        rows += [
            ("abstention", "has-answer hit@1", _pct(m["has_answer_hit@1"])),
            ("abstention", "has-answer EM / F1", f"{_pct(m['has_answer_exact_match'])} / {_pct(m['has_answer_f1'])}"),
            ("abstention", "no-answer accuracy", _pct(m["no_answer_accuracy"])),
            ("abstention", "'no answer' precision", _pct(m["abstention_precision"])),
            ("abstention", "'no answer' recall", _pct(m["abstention_recall"])),
        ]
    rows += [
        ("latency", "p50 per question", _ms(m["latency_p50_ms"])),
        ("latency", "p95 per question", _ms(m["latency_p95_ms"])),
    ]
    return rows


def _headline(results: dict) -> str:
    c, k = results["config"], results["counts"]
    sample = f", sample of {c['limit']} (seed {c['seed']})" if c["limit"] else ""
    unanswerable = f" ({k['unanswerable']} unanswerable)" if c["squad_v2"] else ""
    return (f"SQuAD v{c['version'].lstrip('vV')} {Path(c['dataset']).name}, articles {c['articles']}: {k['articles']} articles, "
            f"{k['passages']} passages, {k['questions']} questions{unanswerable}{sample}; "
            f"top-k {c['top_k']}, model {c['model']}, reader {_reader_name(c.get('reader'))}")


def _reader_name(reader: dict | None) -> str:
    return "off" if not reader else f"{reader['name']} {reader['sha256']} (step {reader.get('step')})"


def format_table(results: dict) -> str:
    """A plain-text table of the metrics for the terminal."""
    rows = _metric_rows(results)
    width_group = max(len(g) for g, _, _ in rows)
    width_name = max(len(n) for _, n, _ in rows)
    width_value = max(len(v) for _, _, v in rows)
    rule = "-" * (width_group + width_name + width_value + 6)
    lines = [_headline(results), rule]
    previous = None
    for group, name, value in rows:
        shown = group if group != previous else ""
        lines.append(f"{shown:<{width_group}}   {name:<{width_name}}   {value:>{width_value}}")
        previous = group
    lines.append(rule)
    return "\n".join(lines)


def write_json(results: dict, path: str | Path) -> None:
    Path(path).write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


# --- SVG plots -------------------------------------------------------------------------------------------------

_W, _H = 420, 280
_LEFT, _RIGHT, _TOP, _BOTTOM = 52, 16, 28, 44
_COLORS = {"right": "#2e7d32", "wrong": "#c62828", "unanswerable": "#757575", "line": "#1565c0"}


def _x(value: float, lo: float, hi: float) -> float:
    return _LEFT + (value - lo) / (hi - lo) * (_W - _LEFT - _RIGHT)


def _y(value: float, lo: float, hi: float) -> float:
    return _H - _BOTTOM - (value - lo) / (hi - lo) * (_H - _TOP - _BOTTOM)


def _frame(title: str, x_label: str, y_label: str, y_max: float, y_ticks: Sequence[float],
           y_format: Callable[[float], str]) -> list[str]:
    e = html.escape
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" width="{_W}" height="{_H}" '
        f'role="img" aria-label="{e(title)}" font-family="sans-serif" font-size="11">',
        f'<title>{e(title)}</title>',
        f'<text x="{_W / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">{e(title)}</text>',
    ]
    for tick in y_ticks:
        y = _y(tick, 0, y_max)
        parts.append(f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{_W - _RIGHT}" y2="{y:.1f}" stroke="#e0e0e0"/>')
        parts.append(f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{e(y_format(tick))}</text>')
    parts.append(f'<line x1="{_LEFT}" y1="{_H - _BOTTOM}" x2="{_W - _RIGHT}" y2="{_H - _BOTTOM}" stroke="#333"/>')
    parts.append(f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{_H - _BOTTOM}" stroke="#333"/>')
    parts.append(f'<text x="{(_LEFT + _W - _RIGHT) / 2}" y="{_H - 8}" text-anchor="middle">{e(x_label)}</text>')
    parts.append(f'<text x="14" y="{(_TOP + _H - _BOTTOM) / 2}" text-anchor="middle" '
                 f'transform="rotate(-90 14 {(_TOP + _H - _BOTTOM) / 2})">{e(y_label)}</text>')
    return parts


def _percent_ticks() -> list[float]:
    return [0.0, 0.25, 0.5, 0.75, 1.0]


def svg_recall_curve(curve: Sequence[float | None]) -> str:
    parts = _frame("Answer recall@k", "k (passages retrieved)", "questions with the answer in the top k",
                   1.0, _percent_ticks(), lambda v: f"{v:.0%}")
    points = [(k, v) for k, v in enumerate(curve, 1) if v is not None]
    for k in range(1, 11):
        parts.append(f'<text x="{_x(k, 0.5, 10.5):.1f}" y="{_H - _BOTTOM + 14}" text-anchor="middle">{k}</text>')
    if points:
        path = " ".join(f"{_x(k, 0.5, 10.5):.1f},{_y(v, 0, 1):.1f}" for k, v in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{_COLORS["line"]}" stroke-width="2"/>')
        for k, v in points:
            x, y = _x(k, 0.5, 10.5), _y(v, 0, 1)
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{_COLORS["line"]}">'
                         f'<title>recall@{k}: {v:.1%}</title></circle>')
            if k in (1, 5, 10):
                parts.append(f'<text x="{x:.1f}" y="{y - 7:.1f}" text-anchor="middle">{v:.0%}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _nice_step(rough: float) -> int:
    """The smallest 1, 2 or 5 times a power of ten that is at least ``rough`` (and at least 1)."""
    power = 10 ** max(0, math.floor(math.log10(max(rough, 1))))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= rough)


def _bin(confidence: float, bins: int) -> int:
    return min(bins - 1, max(0, int(confidence * bins)))


def svg_confidence_histogram(records: Sequence[dict], bins: int = 10) -> str:
    series = [("right", lambda r: not r["is_impossible"] and r["hit1"]),
              ("wrong", lambda r: not r["is_impossible"] and not r["hit1"])]
    if any(r["is_impossible"] for r in records):
        series.append(("unanswerable", lambda r: r["is_impossible"]))
    counts = {name: [0] * bins for name, _ in series}
    for r in records:
        for name, belongs in series:
            if belongs(r):
                counts[name][_bin(r["confidence"], bins)] += 1
    tallest = max([sum(counts[name][b] for name, _ in series) for b in range(bins)] + [1])
    step = _nice_step(tallest / 4)
    ticks = math.ceil(tallest / step)
    y_max = step * ticks
    parts = _frame("Confidence of right and wrong answers", "confidence", "questions", y_max,
                   [step * i for i in range(ticks + 1)], lambda v: f"{int(v)}")
    width = (_W - _LEFT - _RIGHT) / bins
    for b in range(bins):
        base = 0
        for name, _ in series:
            n = counts[name][b]
            if n:
                top = _y(base + n, 0, y_max)
                height = _y(base, 0, y_max) - top
                parts.append(f'<rect x="{_LEFT + b * width + 1:.1f}" y="{top:.1f}" width="{width - 2:.1f}" '
                             f'height="{height:.1f}" fill="{_COLORS[name]}"><title>{b / bins:.1f}–'
                             f'{(b + 1) / bins:.1f}: {n} {name}</title></rect>')
            base += n
    for b in range(0, bins + 1, 2):
        parts.append(f'<text x="{_LEFT + b * width:.1f}" y="{_H - _BOTTOM + 14}" text-anchor="middle">'
                     f'{b / bins:.1f}</text>')
    for i, (name, _) in enumerate(series):
        x = _LEFT + 10 + i * 110
        parts.append(f'<rect x="{x}" y="{_TOP}" width="10" height="10" fill="{_COLORS[name]}"/>'
                     f'<text x="{x + 14}" y="{_TOP + 9}">{name} ({sum(counts[name])})</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def calibration_bins(records: Sequence[dict], bins: int = 10) -> list[dict]:
    """Per confidence bin, over questions with a gold answer: count, mean confidence, observed hit@1 rate."""
    grouped: list[list[dict]] = [[] for _ in range(bins)]
    for r in records:
        if not r["is_impossible"]:
            grouped[_bin(r["confidence"], bins)].append(r)
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


def svg_calibration(records: Sequence[dict], bins: int = 10) -> str:
    parts = _frame("Calibration: confidence vs. observed hit@1", "confidence",
                   "observed hit@1", 1.0, _percent_ticks(), lambda v: f"{v:.0%}")
    parts.append(f'<line x1="{_x(0, 0, 1)}" y1="{_y(0, 0, 1)}" x2="{_x(1, 0, 1)}" y2="{_y(1, 0, 1)}" '
                 f'stroke="#9e9e9e" stroke-dasharray="4 3"><title>perfect calibration</title></line>')
    table = calibration_bins(records, bins)
    largest = max([row["count"] for row in table] + [1])
    width = (_W - _LEFT - _RIGHT) / bins
    points = []
    for b, row in enumerate(table):
        if not row["count"]:
            continue
        top = _y(row["hit_rate"], 0, 1)
        parts.append(f'<rect x="{_LEFT + b * width + 2:.1f}" y="{top:.1f}" width="{width - 4:.1f}" '
                     f'height="{_y(0, 0, 1) - top:.1f}" fill="#bbdefb"><title>{row["low"]:.1f}–{row["high"]:.1f}: '
                     f'{row["hit_rate"]:.0%} of {row["count"]}</title></rect>')
        points.append((_x(row["confidence"], 0, 1), top, row))
    if points:
        parts.append('<polyline points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
                     + f'" fill="none" stroke="{_COLORS["line"]}" stroke-width="2"/>')
        for x, y, row in points:
            radius = 2.5 + 4.5 * math.sqrt(row["count"] / largest)
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}" fill="{_COLORS["line"]}">'
                         f'<title>mean confidence {row["confidence"]:.2f}: {row["hit_rate"]:.0%} right '
                         f'({row["count"]} questions)</title></circle>')
    for b in range(0, bins + 1, 2):
        parts.append(f'<text x="{_x(b / bins, 0, 1):.1f}" y="{_H - _BOTTOM + 14}" text-anchor="middle">'
                     f'{b / bins:.1f}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#212121}
h1{font-size:1.4rem} h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.9rem} td,th{border-bottom:1px solid #e0e0e0;padding:.25rem .6rem;
text-align:left;vertical-align:top} td.n{text-align:right;font-variant-numeric:tabular-nums}
.plots{display:flex;flex-wrap:wrap;gap:1rem} .plots figure{margin:0} figcaption{font-size:.8rem;color:#616161;
max-width:420px} .ok{color:#2e7d32} .bad{color:#c62828} code{font-size:.85rem}
"""


def render_html(results: dict, max_rows: int = 5000) -> str:
    """A self-contained HTML report: no scripts, no external assets; every dataset string is escaped."""
    e = html.escape
    config, counts, build, records = results["config"], results["counts"], results["build"], results["questions"]
    out = ["<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{e('qa eval: ' + Path(config['dataset']).name)}</title><style>{_CSS}</style></head><body>",
           f"<h1>qa eval: {e(Path(config['dataset']).name)}</h1>", f"<p>{e(_headline(results))}</p>",
           "<h2>Metrics</h2><table><tr><th></th><th>metric</th><th>value</th></tr>"]
    previous = None
    for group, name, value in _metric_rows(results):
        out.append(f'<tr><td>{e(group) if group != previous else ""}</td><td>{e(name)}</td>'
                   f'<td class="n">{e(value)}</td></tr>')
        previous = group
    out.append("</table>")
    out.append('<h2>Plots</h2><div class="plots">')
    out.append(f"<figure>{svg_recall_curve(results['metrics']['recall_curve'])}<figcaption>Share of questions "
               "with a gold answer whose answer text occurs in one of the first k retrieved passages.</figcaption>"
               "</figure>")
    out.append(f"<figure>{svg_confidence_histogram(records)}<figcaption>Confidence of every reply; right = the "
               "first quoted sentence holds a gold answer (an abstention is wrong).</figcaption></figure>")
    out.append(f"<figure>{svg_calibration(records)}<figcaption>Questions with a gold answer, in confidence bins: "
               "bars and line show the observed hit@1 rate, the dashed diagonal is perfect calibration, dot size "
               "is the number of questions.</figcaption></figure>")
    out.append("</div>")

    out.append("<h2>Run</h2><table>")
    for key, value in [*config.items(), *(("count: " + k, v) for k, v in counts.items()),
                       *(("build: " + k, v) for k, v in build.items())]:
        out.append(f"<tr><td>{e(str(key))}</td><td><code>{e(str(value))}</code></td></tr>")
    out.append("</table>")

    shown = records[:max_rows]
    note = f" (first {max_rows} of {len(records)})" if len(records) > max_rows else ""
    out.append(f"<h2>Questions{e(note)}</h2><details><summary>{len(shown)} questions</summary><table>"
               "<tr><th>question</th><th>gold</th><th>prediction</th><th>confidence</th><th>rank</th>"
               "<th>hit@1</th><th>F1</th></tr>")
    for r in shown:
        gold = " | ".join(r["answers"]) if r["answers"] else "(no answer)"
        prediction = r["prediction"] if r["answerable"] else "(abstained)"
        right = r["hit1"] if not r["is_impossible"] else not r["answerable"]
        out.append(
            f'<tr><td>{e(r["question"])}<br><small>{e(r["article"])} · {e(r["id"])}</small></td>'
            f'<td>{e(gold)}</td><td>{e(prediction)}</td><td class="n">{r["confidence"]:.2f}</td>'
            f'<td class="n">{e(str(r["retrieval_rank"] or "–"))}</td>'
            f'<td class="{"ok" if right else "bad"}">{"yes" if right else "no"}</td>'
            f'<td class="n">{r["f1"]:.2f}</td></tr>')
    out.append("</table></details></body></html>")
    return "\n".join(out) + "\n"


def write_html(results: dict, path: str | Path) -> None:
    Path(path).write_text(render_html(results), encoding="utf-8")
