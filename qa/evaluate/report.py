"""Reporting an evaluation: the terminal table, the JSON file and the self-contained HTML page."""

from __future__ import annotations

import html
import json
from pathlib import Path

from qa.evaluate.plots import svg_calibration, svg_confidence_histogram, svg_recall_curve


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
