"""`DIR/report.html`: one self-contained page summarising an analysis run.

Headline numbers, charts (opportunities by pass, distribution of predicted
savings, savings by directory) as inline SVG, the top functions by predicted
saving, opportunities by rule code, and the per-file errors. Nothing is loaded
from outside the file (no scripts, no CDN, a Content-Security-Policy that
forbids remote loads), and every string from the corpus is HTML-escaped.

How to read the savings: a function's predicted saving is the fraction of that
function's energy its best single rewrite is predicted to save (1 - predicted
E_rewritten/E_original). Without a workload the functions' own energies are
unknown, so totals are expressed in *function-equivalents* (the sum of the
fractions: 2.5 = as much as two and a half whole functions' energy).
"""

from __future__ import annotations

import html
import json
import os
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from greenopt.batch import charts
from greenopt.batch.results import ResultStore

TOP_FUNCTIONS = 30
MAX_ERRORS_LISTED = 200
TOP_DIRECTORIES = 15

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2em auto;max-width:70em;
color:#1b1b1b;padding:0 1em;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.meta{color:#555;font-size:.9em}
.cards{display:flex;flex-wrap:wrap;gap:.8em;margin:1em 0}
.card{border:1px solid #d0d7d0;border-radius:6px;padding:.6em 1em;min-width:9em;background:#f6faf6}
.card .n{font-size:1.6em;font-weight:600;color:#2e7d32}.card .l{font-size:.85em;color:#444}
.charts{display:flex;flex-wrap:wrap;gap:1em}.chart{flex:1 1 30em;max-width:100%}
.chart svg{max-width:100%;height:auto}
table{border-collapse:collapse;width:100%;font-size:.88em;margin:.6em 0}
th,td{border-bottom:1px solid #e3e3e3;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f0f0f0}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code{font-size:.95em;word-break:break-all}.note{color:#555;font-size:.88em}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100.0 * x:.1f}%"


def _common_root(directories: Sequence[str]) -> str:
    if not directories:
        return ""
    try:
        return os.path.commonpath([os.path.abspath(d) for d in directories])
    except ValueError:
        return ""


def _relative(path: str, root: str) -> str:
    if not root:
        return path
    rel = os.path.relpath(os.path.abspath(path), root)
    return "." if rel == "." else rel


def build_report(
    files: list[dict[str, Any]],
    functions: list[dict[str, Any]],
    opportunities: list[dict[str, Any]],
    run: dict[str, Any] | None,
    notes: Sequence[str] = (),
) -> str:
    """The report's HTML from the three tables of a run (rows as in `ResultStore`)."""
    statuses = Counter(r["status"] for r in files)
    n_errors = sum(n for s, n in statuses.items() if s not in ("ok", "empty"))
    n_reused = sum(1 for r in files if r["reused"])
    real_functions = [f for f in functions if f["qualname"] != "<module>"]
    predicted = [f for f in functions if f["predicted_saving"] is not None]
    total_saving = sum(f["predicted_saving"] for f in predicted)
    root = _common_root([r["directory"] for r in files])

    best_opp: dict[tuple[str, str], dict[str, Any]] = {}
    for o in opportunities:
        key = (o["path"], o["qualname"])
        cur = best_opp.get(key)
        if o["predicted_ratio"] is not None and (
            cur is None
            or cur["predicted_ratio"] is None
            or o["predicted_ratio"] < cur["predicted_ratio"]
        ):
            best_opp[key] = o
        elif cur is None:
            best_opp[key] = o

    parts: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">",
        "<title>greenopt analysis report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>greenopt analysis report</h1>",
        _meta_line(run, root),
        _cards(
            len(files),
            len(real_functions),
            len(opportunities),
            total_saving,
            predicted,
            n_errors,
            statuses["empty"],
            n_reused,
        ),
        "<h2>Charts</h2>",
        '<div class="charts">',
        f'<div class="chart" id="chart-passes">{_passes_chart(opportunities)}</div>',
        f'<div class="chart" id="chart-savings">{_savings_chart(predicted)}</div>',
        f'<div class="chart" id="chart-directories">'
        f"{_directory_chart(functions, opportunities, files, root)}</div>",
        "</div>",
        _top_functions(functions, best_opp, root, bool(predicted)),
        _codes_table(opportunities, functions),
        _errors_table(files, statuses, root),
        _notes(predicted, functions, notes),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _meta_line(run: dict[str, Any] | None, root: str) -> str:
    bits = [f"generated {_e(time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()))}"]
    if root:
        bits.append(f"corpus root <code>{_e(root)}</code>")
    if run:
        opts = json.loads(run.get("options") or "{}")
        passes = ", ".join(opts.get("passes") or []) or "none"
        bits.append(f"passes: {_e(passes)}")
        bits.append(f"analysis fingerprint <code>{_e(run.get('fingerprint', ''))}</code>")
    bits.append("static analysis only: no analysed code was executed")
    return f'<p class="meta">{" · ".join(bits)}</p>'


def _cards(
    n_files: int,
    n_functions: int,
    n_opps: int,
    total_saving: float,
    predicted: list[dict[str, Any]],
    n_errors: int,
    n_empty: int,
    n_reused: int,
) -> str:
    if predicted:
        saving = f"{total_saving:.2f}"
        saving_label = (
            f"predicted total saving (function-equivalents, {len(predicted)} functions with "
            "predictions)"
        )
    else:
        saving, saving_label = "—", "predicted total saving (no cost-model predictions)"
    cards = [
        (str(n_files), f"files ({n_reused} reused from earlier runs, {n_empty} empty)"),
        (str(n_functions), "functions"),
        (str(n_opps), "opportunities"),
        (saving, saving_label),
        (str(n_errors), "files with errors"),
    ]
    body = "".join(
        f'<div class="card" data-metric="{i}"><div class="n">{_e(n)}</div>'
        f'<div class="l">{_e(label)}</div></div>'
        for i, (n, label) in enumerate(cards)
    )
    return f'<div class="cards" id="headline">{body}</div>'


def _passes_chart(opportunities: list[dict[str, Any]]) -> str:
    from greenopt.passes.registry import PASSES

    counts = Counter(o["pass_name"] for o in opportunities)
    names = list(PASSES) + sorted(set(counts) - set(PASSES))
    return charts.bar_chart_svg(
        "passes",
        "Opportunities by pass",
        names,
        [float(counts[n]) for n in names],
        "opportunities",
        "{:.0f}",
    )


def _savings_chart(predicted: list[dict[str, Any]]) -> str:
    title = "Distribution of predicted savings"
    if not predicted:
        return charts.message_svg(
            "savings", title, "no predicted savings: the cost model gave no predictions"
        )
    return charts.histogram_svg(
        "savings",
        title,
        [100.0 * f["predicted_saving"] for f in predicted],
        "predicted saving of the function's energy (%)",
    )


def _directory_chart(
    functions: list[dict[str, Any]],
    opportunities: list[dict[str, Any]],
    files: list[dict[str, Any]],
    root: str,
) -> str:
    savings: dict[str, float] = defaultdict(float)
    for f in functions:
        if f["predicted_saving"] is not None:
            savings[_relative(f["directory"], root)] += f["predicted_saving"]
    if savings:
        top = sorted(savings.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_DIRECTORIES]
        return charts.bar_chart_svg(
            "dirs",
            "Predicted savings by directory",
            [k for k, _ in top],
            [v for _, v in top],
            "predicted saving (function-equivalents)",
            "{:.2f}",
        )
    directory_of = {r["path"]: r["directory"] for r in files}
    counts = Counter(_relative(directory_of.get(o["path"], ""), root) for o in opportunities)
    if not counts:
        return charts.message_svg(
            "dirs", "Savings by directory", "no opportunities and no predicted savings"
        )
    top_counts = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_DIRECTORIES]
    return charts.bar_chart_svg(
        "dirs",
        "Opportunities by directory (no predicted savings available)",
        [k for k, _ in top_counts],
        [float(v) for _, v in top_counts],
        "opportunities",
        "{:.0f}",
    )


def _top_functions(
    functions: list[dict[str, Any]],
    best_opp: dict[tuple[str, str], dict[str, Any]],
    root: str,
    have_predictions: bool,
) -> str:
    with_opps = [f for f in functions if f["n_opportunities"] > 0]
    if have_predictions:
        title = "Top functions by predicted saving"
        with_opps.sort(
            key=lambda f: (
                f["predicted_saving"] is None,
                -(f["predicted_saving"] or 0.0),
                -f["n_opportunities"],
                f["path"],
                f["line"],
            )
        )
    else:
        title = "Top functions by number of opportunities (no predicted savings available)"
        with_opps.sort(key=lambda f: (-f["n_opportunities"], f["path"], f["line"]))
    rows = []
    for rank, f in enumerate(with_opps[:TOP_FUNCTIONS], start=1):
        o = best_opp.get((f["path"], f["qualname"]))
        interval = "—"
        if o is not None and o["predicted_lo"] is not None and o["predicted_hi"] is not None:
            interval = f"{_pct(1 - o['predicted_hi'])} – {_pct(1 - o['predicted_lo'])}"
        rows.append(
            "<tr>"
            f'<td class="num">{rank}</td><td><code>{_e(f["qualname"])}</code></td>'
            f"<td><code>{_e(_relative(f['path'], root))}:{f['line']}</code></td>"
            f'<td class="num">{f["n_opportunities"]}</td>'
            f"<td>{_e((f['codes'] or '').replace(',', ', '))}</td>"
            f'<td class="num">{_pct(f["predicted_saving"])}</td><td class="num">{interval}</td>'
            f"<td>{_e(f['prediction_source'])}</td>"
            "</tr>"
        )
    if not rows:
        rows.append('<tr><td colspan="8">no opportunities found</td></tr>')
    return (
        f"<h2>{_e(title)}</h2>"
        '<table id="top-functions"><thead><tr><th class="num">#</th><th>function</th>'
        '<th>location</th><th class="num">opportunities</th><th>rule codes</th>'
        '<th class="num">predicted saving</th><th class="num">interval (10–90%)</th>'
        "<th>prediction</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _codes_table(opportunities: list[dict[str, Any]], functions: list[dict[str, Any]]) -> str:
    by_code: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for o in opportunities:
        by_code[(o["code"], o["pass_name"])].append(o)
    rows = []
    for (code, pass_name), items in sorted(by_code.items()):
        ratios = [o["predicted_ratio"] for o in items if o["predicted_ratio"] is not None]
        mean = _pct(1 - sum(ratios) / len(ratios)) if ratios else "—"
        example = items[0]["message"]
        rows.append(
            f"<tr><td><code>{_e(code)}</code></td><td>{_e(pass_name)}</td>"
            f'<td class="num">{len(items)}</td><td class="num">{mean}</td>'
            f"<td>{_e(example)}</td></tr>"
        )
    if not rows:
        rows.append('<tr><td colspan="5">no opportunities found</td></tr>')
    return (
        "<h2>Opportunities by rule code</h2>"
        '<table id="rule-codes"><thead><tr><th>code</th><th>pass</th>'
        '<th class="num">count</th><th class="num">mean predicted saving</th>'
        "<th>example message</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _errors_table(files: list[dict[str, Any]], statuses: Counter[str], root: str) -> str:
    summary = "".join(
        f'<tr><td>{_e(s)}</td><td class="num">{n}</td></tr>'
        for s, n in sorted(statuses.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    errors = [r for r in files if r["status"] not in ("ok", "empty")]
    listed = (
        "".join(
            f"<tr><td><code>{_e(_relative(r['path'], root))}</code></td><td>{_e(r['status'])}</td>"
            f"<td>{_e(r['message'])}</td></tr>"
            for r in errors[:MAX_ERRORS_LISTED]
        )
        or '<tr><td colspan="3">no file errors</td></tr>'
    )
    more = (
        f'<p class="note">{len(errors) - MAX_ERRORS_LISTED} more errors are in the files table.</p>'
        if len(errors) > MAX_ERRORS_LISTED
        else ""
    )
    return (
        "<h2>Files by status</h2>"
        '<table id="statuses"><thead><tr><th>status</th><th class="num">files</th></tr></thead>'
        f"<tbody>{summary}</tbody></table>"
        "<h2>File errors</h2>"
        '<table id="errors"><thead><tr><th>file</th><th>status</th><th>message</th></tr></thead>'
        f"<tbody>{listed}</tbody></table>{more}"
    )


def _notes(
    predicted: list[dict[str, Any]], functions: list[dict[str, Any]], notes: Sequence[str]
) -> str:
    sources = Counter(f["prediction_source"] for f in functions if f["n_opportunities"] > 0)
    items = [
        "A function's predicted saving is the fraction of its own energy that its best single "
        "rewrite is predicted to save by the cost model (not measured). Totals are in "
        "function-equivalents: the sum of those fractions, since the functions' energies are "
        "unknown without a workload.",
        "Prediction sources among functions with opportunities: "
        + (", ".join(f"{k}: {v}" for k, v in sorted(sources.items())) or "none")
        + ". 'baseline' is the model's analytic fallback, 'none' means no prediction.",
    ]
    if not predicted:
        items.append("No cost-model predictions were available for this run.")
    items.extend(notes)
    return '<h2>Notes</h2><ul class="note">' + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>"


def write_report(store: ResultStore, target: Path, notes: Sequence[str] = ()) -> Path:
    """Write the report of the store's last run to `target` (atomically) and return it."""
    text = build_report(
        store.file_rows(), store.function_rows(), store.opportunity_rows(), store.last_run(), notes
    )
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
    return target
