"""Measure the assistant on SQuAD-format data (v1.1 and v2.0): retrieval, quoted sentences, EM/F1, abstention.

    squad.py    SQuAD files and the official scorer (normalisation, EM, F1)
    runner.py   ``run_eval``: index the articles with the normal pipeline, ask, record each reply
    metrics.py  records -> figures (hit rates, EM/F1, abstention, latency, calibration)
    report.py   the terminal table, the JSON file and the HTML page
    plots.py    the HTML page's SVG plots

Stdlib only at import time; the pipeline is imported inside ``run_eval``.
"""

from qa.evaluate.metrics import calibration_bins, calibration_error, compute_metrics
from qa.evaluate.report import format_table, render_html, write_html, write_json
from qa.evaluate.runner import run_eval
from qa.evaluate.squad import (DatasetError, EvalError, SquadArticle, SquadDataset, SquadQuestion, contains_answer,
                               exact_match, f1_score, load_squad, normalize_answer, parse_article_range,
                               score_prediction, score_predictions)

__all__ = [
    "DatasetError", "EvalError", "SquadArticle", "SquadDataset", "SquadQuestion", "calibration_bins",
    "calibration_error", "compute_metrics", "contains_answer", "exact_match", "f1_score", "format_table",
    "load_squad", "normalize_answer", "parse_article_range", "render_html", "run_eval", "score_prediction",
    "score_predictions", "write_html", "write_json",
]
