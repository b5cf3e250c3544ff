"""The HTML report's plots, drawn as inline SVG: the recall curve, the confidence histogram, calibration."""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence

from qa.evaluate.metrics import calibration_bins, confidence_bin

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


def svg_confidence_histogram(records: Sequence[dict], bins: int = 10) -> str:
    series = [("right", lambda r: not r["is_impossible"] and r["hit1"]),
              ("wrong", lambda r: not r["is_impossible"] and not r["hit1"])]
    if any(r["is_impossible"] for r in records):
        series.append(("unanswerable", lambda r: r["is_impossible"]))
    counts = {name: [0] * bins for name, _ in series}
    for r in records:
        for name, belongs in series:
            if belongs(r):
                counts[name][confidence_bin(r["confidence"], bins)] += 1
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


