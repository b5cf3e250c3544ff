"""``run_eval``: every SQuAD article becomes one corpus article, the normal pipeline indexes it, every
(or a sample of) question is asked, and each reply becomes a record to score. The pipeline is imported
inside ``run_eval``, so importing this module stays cheap."""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from qa.evaluate.metrics import compute_metrics
from qa.evaluate.squad import (DatasetError, EvalError, SquadArticle, SquadDataset, SquadQuestion, contains_answer,
                               load_squad, normalize_answer, parse_article_range, score_prediction)


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
    from qa.pipeline import Assistant, build_index
    from qa.pipeline.components import make_embedder

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


