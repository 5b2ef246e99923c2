"""`Report.to_html`: one self-contained HTML file (no network) with charts, a table and details.

The page is built from three parts, all inline: the headline and the two charts rendered here
as HTML and SVG (every user string through `html.escape`), and the case table, which a small
script draws from compact JSON embedded in the page. The script only ever sets user strings
with `textContent`, so an output such as ``<script>...</script>`` stays text. Big reports keep
the file small: the details (runs, outputs, model calls) are embedded for the worst
`DETAILED` cases and for every case that did not pass, up to `DETAILED_MAX` cases.
"""

from __future__ import annotations

import functools
import html
import json
import math
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._results import _STATUS_ORDER, jsonable, required_passes

if TYPE_CHECKING:
    from ._report import Report
    from ._results import CaseResult, RunResult

__all__ = ["DETAILED", "DETAILED_MAX", "HISTOGRAM_ABOVE", "write_html"]

DETAILED = 500
"""Cases (worst first) whose details are always embedded."""
DETAILED_MAX = 2000
"""Cases with embedded details at most: past `DETAILED`, only cases that did not pass."""
HISTOGRAM_ABOVE = 30
"""Above this many cases the pass-rate chart is a histogram instead of one bar per case."""
_CLIP = 4000  # characters kept of one string (an output, an input) in the details
_STATUSES = ("pass", "flaky", "fail", "error")
_PAGE_ROWS = 200  # table rows drawn at first and per "Show more"
_LABEL = {"pass": "Pass", "flaky": "Flaky", "fail": "Fail", "error": "Error"}


def write_html(report: Report, path: Path) -> Path:
    """Write `report` as one HTML file at `path` (parents created); returns the path."""
    verdicts: dict[str, dict[str, int]] = {}
    rows, evaluators, details_left_out = _rows(report, verdicts)
    page = _PAGE.format(
        title=_e(f"{report.name or 'eval'} · myna eval report"),
        csp=_CSP,
        css=_asset("_html.css"),
        header=_header(report),
        charts=_charts(report, rows, evaluators, verdicts),
        table=_table_shell(report, details_left_out),
        data=_script_json(
            {
                "evaluators": evaluators,
                "cases": rows,
                "page": _PAGE_ROWS,
                "omitted": details_left_out,
            }
        ),
        js=_asset("_html.js"),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    # errors="replace": a lone surrogate in some output must not lose the whole report
    path.write_text(page, encoding="utf-8", errors="replace")
    return path


@functools.cache
def _asset(name: str) -> str:
    """The page's stylesheet or script, shipped next to this module."""
    return (resources.files(__package__) / name).read_text("utf-8")


# -- data ---------------------------------------------------------------------------------------


def _rows(
    report: Report, verdicts: dict[str, dict[str, int]]
) -> tuple[list[dict[str, Any]], list[str], int]:
    """One compact row per case, worst first; the evaluator names; how many lack details.

    `verdicts` is filled with each evaluator's results counted by status over all runs.
    """
    keyed = []
    for case in report.cases:
        status = case.status
        keyed.append(((_STATUS_ORDER[status], case.pass_rate, case.name), status, case))
    keyed.sort(key=lambda item: item[0])
    evaluators: dict[str, None] = dict.fromkeys(report.scores)
    rows = []
    detailed = 0
    for index, (_, status, case) in enumerate(keyed):
        scores = case.scores
        for name in scores:
            evaluators.setdefault(name, None)
        for run in case.runs:
            for result in run.results:
                counts = verdicts.get(result.name)
                if counts is None:
                    counts = verdicts[result.name] = dict.fromkeys((*_STATUSES, "info"), 0)
                counts[result.status] += 1
        low, high = case.interval
        lines = case.errors + case.reasons
        row: dict[str, Any] = {
            "n": case.name,
            "s": status,
            "p": case.passes,
            "r": case.repeats,
            "q": required_passes(case.repeats, case.min_pass_rate),
            "lo": round(low, 4),
            "hi": round(high, 4),
            "sc": scores,
            "l": round(case.latency, 6),
            "t": case.usage.get("total_tokens", 0),
            "jt": case.judge_usage.get("total_tokens", 0),
            "c": case.cost,
            "jc": case.judge_cost,
            "k": index,
        }
        if lines:
            row["w"] = _clip(lines[0], 300)
            if len(lines) > 1:
                row["wm"] = len(lines) - 1
        if index < DETAILED or (status != "pass" and detailed < DETAILED_MAX):
            row["d"] = _details(case)
            detailed += 1
        rows.append(row)
    names = list(evaluators)
    for row in rows:
        scores = row["sc"]
        row["sc"] = [_round(scores.get(name)) for name in names]
    return rows, names, len(rows) - detailed


def _details(case: CaseResult) -> dict[str, Any]:
    data: dict[str, Any] = {"runs": [_run(run) for run in case.runs]}
    if case.inputs is not None:
        data["inputs"] = _clip(jsonable(case.inputs))
    if case.expected is not None:
        data["expected"] = _clip(jsonable(case.expected))
    if case.metadata:
        data["metadata"] = _clip(jsonable(case.metadata))
    return data


def _run(run: RunResult) -> dict[str, Any]:
    data: dict[str, Any] = {
        "i": run.repeat,
        "s": run.status,
        "o": _clip(_output(run.output)),
        "l": round(run.latency, 6),
        "seed": run.seed,
        "res": [result.to_dict() for result in run.results],
        "c": run.cost,
        "jc": run.judge_cost,
    }
    if run.error is not None:
        data["e"] = _clip(run.error)
    if run.usage:
        data["u"] = run.usage
    if run.judge_usage:
        data["ju"] = run.judge_usage
    if run.calls:
        data["calls"] = _clip(run.calls)
    return data


def _output(output: Any) -> Any:
    """A message as its text when that is all it says, anything else as JSON data."""
    text = getattr(output, "text", None)
    if isinstance(text, str) and not getattr(output, "tool_calls", None):
        return text
    return jsonable(output)


def _clip(value: Any, limit: int = _CLIP) -> Any:
    """`value` with long strings cut (and saying how much was cut) and long lists shortened."""
    if isinstance(value, str):
        if len(value) <= limit:
            return value
        return f"{value[:limit]}… ({len(value) - limit:,} more characters)"
    if isinstance(value, Mapping):
        return {key: _clip(item, limit) for key, item in value.items()}
    if isinstance(value, list):
        kept = [_clip(item, limit) for item in value[:200]]
        if len(value) > 200:
            kept.append(f"… ({len(value) - 200:,} more items)")
        return kept
    return value


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _script_json(data: Any) -> str:
    """JSON safe inside a ``<script>`` element: no ``</script>`` or ``<!--`` can appear."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=repr)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


# -- headline -------------------------------------------------------------------------------------


def _header(report: Report) -> str:
    verdict = "passed" if report.passed else "failed"
    total = report.total
    counts = report.counts
    chips = "".join(
        f'<span class="chip {s}"><i></i>{counts[s]:,} {s}</span>' for s in _STATUSES if counts[s]
    )
    bar = "".join(
        f'<span class="seg {s}" style="flex-grow:{counts[s]}" title="{counts[s]:,} {s}"></span>'
        for s in _STATUSES
        if counts[s]
    )
    run_rate = report.run_passes / report.runs if report.runs else 0.0
    per_run = report.latency / report.runs if report.runs else 0.0
    judge = report.judge_usage.get("total_tokens", 0) or report.judge_cost
    cards = [
        _card(
            "Pass rate",
            f"{report.pass_rate:.1%}",
            f"{counts['pass']:,} of {total:,} cases · {report.min_pass_rate:.0%} required",
            "good" if report.pass_rate >= report.min_pass_rate - 1e-12 else "bad",
        ),
        _card("Cases", f"{total:,}", chips or "none"),
        _card("Runs", f"{report.runs:,}", f"{run_rate:.1%} of runs passed"),
        _card(
            "Target",
            _money(report.cost),
            f"{_tokens(report.usage)} · {_duration(per_run)} per run",
        ),
        _card(
            "Judge",
            _money(report.judge_cost) if judge else "—",
            _tokens(report.judge_usage) if judge else "no judge calls",
        ),
        _card(
            "Errors",
            f"{counts['error']:,}",
            f"{report.error_rate:.1%} of cases · {report.max_error_rate:.0%} allowed",
            "bad" if report.error_rate > report.max_error_rate + 1e-12 else "",
        ),
    ]
    settings = "".join(
        f"<span><b>{_e(str(key))}</b> {_e(_setting(value))}</span>"
        for key, value in report.settings.items()
        if value is not None and value != [] and value != ""
    )
    wall = (
        f"<span><b>wall time</b> {_duration(report.wall_time)}</span>" if report.wall_time else ""
    )
    from .._version import __version__

    return f"""<header class="top">
 <div class="title">
  <div><div class="eyebrow">myna eval report</div><h1>{_e(report.name or "eval")}</h1></div>
  <div class="verdict {verdict}">{verdict.upper()}</div>
 </div>
 <div class="statusbar" role="img" aria-label="{_e(_counts_text(counts))}">{bar}</div>
 <div class="cards">{"".join(cards)}</div>
 <div class="meta"><span><b>fingerprint</b> <code>{_e(report.fingerprint)}</code></span>{wall}
  {settings}<span><b>myna</b> {_e(__version__)}</span></div>
</header>"""


def _card(label: str, value: str, sub: str, tone: str = "") -> str:
    # `sub` may hold markup built here (chips); every user string in it is escaped already
    return (
        f'<div class="card {tone}"><div class="label">{_e(label)}</div>'
        f'<div class="value">{_e(value)}</div><div class="sub">{sub}</div></div>'
    )


def _counts_text(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{counts[s]} {s}" for s in _STATUSES if counts[s]) or "no cases"


def _setting(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    return json.dumps(jsonable(value), ensure_ascii=False)


# -- charts ---------------------------------------------------------------------------------------


def _charts(
    report: Report,
    rows: list[dict[str, Any]],
    evaluators: list[str],
    verdicts: Mapping[str, Mapping[str, int]],
) -> str:
    scores = report.scores
    if len(rows) > HISTOGRAM_ABOVE:
        title, note, chart = (
            "Pass rates",
            f"How many cases passed what share of their runs ({len(rows):,} cases)",
            _histogram(rows),
        )
    else:
        title, note, chart = (
            "Pass rate per case",
            "Bar: runs passed · whisker: 95% interval · tick: required",
            _case_bars(rows),
        )
    return f"""<section class="charts">
 <div class="panel stack">
  <figure>{_caption("Score per evaluator", "Mean score over the cases it scored")}
   {_score_bars(evaluators, scores, rows)}</figure>
  <figure>{_caption("Verdicts per evaluator", "Runs each evaluator passed, failed or errored on")}
   {_verdict_bars(verdicts)}</figure>
 </div>
 <figure class="panel">{_caption(title, note)}{chart}</figure>
</section>"""


def _caption(title: str, note: str) -> str:
    return f"<figcaption><h2>{_e(title)}</h2><p>{_e(note)}</p></figcaption>"


def _score_bars(evaluators: list[str], scores: Mapping[str, float], rows: list[dict]) -> str:
    if not evaluators:
        return '<p class="empty">No evaluator gave a score.</p>'
    label_w, bar_w, row_h, top = 170, 300, 30, 22
    width = label_w + bar_w + 90
    height = top + row_h * len(evaluators) + 6
    parts = [_axis(label_w, bar_w, top, height)]
    for i, name in enumerate(evaluators):
        mean = scores.get(name)
        if mean is None:  # scored only in cases the report does not count; average the rows
            values = [row["sc"][i] for row in rows if row["sc"][i] is not None]
            mean = sum(values) / len(values) if values else 0.0
        scored = sum(1 for row in rows if row["sc"][i] is not None)
        y = top + i * row_h
        tone = "good" if mean >= 0.8 else "ok" if mean >= 0.5 else "bad"
        parts.append(
            f'<g class="score-bar" data-evaluator="{_e(name)}"><title>{_e(name)}: mean score '
            f"{mean:.3f} over {scored:,} cases</title>"
            f'<text class="lbl" x="{label_w - 10}" y="{y + 19}">{_e(_short(name, 22))}</text>'
            f'<rect class="track" x="{label_w}" y="{y + 6}" width="{bar_w}" height="18" rx="3"/>'
            f'<rect class="bar {tone}" x="{label_w}" y="{y + 6}" width="{_w(mean, bar_w)}" '
            f'height="18" rx="3"/><text class="val" x="{label_w + bar_w + 10}" y="{y + 19}">'
            f"{mean:.2f}</text></g>"
        )
    return _svg(width, height, "Mean score per evaluator", parts)


def _verdict_bars(verdicts: Mapping[str, Mapping[str, int]]) -> str:
    if not verdicts:
        return '<p class="empty">No evaluator ran.</p>'
    label_w, bar_w, row_h, top = 170, 300, 30, 4
    width = label_w + bar_w + 90
    height = top + row_h * len(verdicts) + 24
    parts = []
    for i, (name, counts) in enumerate(verdicts.items()):
        y = top + i * row_h
        total = sum(counts.values()) or 1
        title = f"{name}: " + ", ".join(f"{counts[s]:,} {s}" for s in counts if counts[s])
        parts.append(
            f'<g class="verdict-bar" data-evaluator="{_e(name)}"><title>{_e(title)}</title>'
            f'<text class="lbl" x="{label_w - 10}" y="{y + 19}">{_e(_short(name, 22))}</text>'
            f'<rect class="track" x="{label_w}" y="{y + 6}" width="{bar_w}" height="18" rx="3"/>'
        )
        x = float(label_w)
        for status in ("pass", "info", "fail", "error"):
            if counts[status]:
                w = bar_w * counts[status] / total
                parts.append(
                    f'<rect class="bar {status}" x="{x:.1f}" y="{y + 6}" width="{w:.1f}" '
                    f'height="18"/>'
                )
                x += w
        parts.append(
            f'<text class="val" x="{label_w + bar_w + 10}" y="{y + 19}">'
            f"{counts['pass']:,}/{sum(counts.values()):,}</text></g>"
        )
    legend_y = top + row_h * len(verdicts) + 16
    x = label_w
    for status, label in (("pass", "passed"), ("fail", "failed"), ("error", "errored")):
        parts.append(
            f'<rect class="bar {status}" x="{x}" y="{legend_y - 9}" width="10" height="10" rx="2"/>'
            f'<text class="tick" x="{x + 15}" y="{legend_y}">{label}</text>'
        )
        x += 80
    return _svg(width, height, "Verdicts per evaluator", parts)


def _case_bars(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return '<p class="empty">No cases.</p>'
    label_w, bar_w, row_h, top = 170, 300, 24, 22
    width = label_w + bar_w + 90
    height = top + row_h * len(rows) + 6
    parts = [_axis(label_w, bar_w, top, height)]
    for i, row in enumerate(rows):
        y = top + i * row_h
        rate = row["p"] / row["r"] if row["r"] else 0.0
        needed = row["q"] / row["r"] if row["r"] else 0.0
        lo, hi = label_w + bar_w * row["lo"], label_w + bar_w * row["hi"]
        mid = y + row_h / 2
        parts.append(
            f'<g class="case-bar {row["s"]}" data-case="{_e(row["n"])}"><title>{_e(row["n"])}: '
            f"{row['s']}, {row['p']}/{row['r']} runs passed ({rate:.0%}), 95% interval "
            f"{row['lo']:.0%}\u2013{row['hi']:.0%}, {row['q']} needed</title>"
            f'<text class="lbl" x="{label_w - 10}" y="{y + 16}">{_e(_short(row["n"], 22))}</text>'
            f'<rect class="track" x="{label_w}" y="{y + 5}" width="{bar_w}" height="14" rx="3"/>'
            f'<rect class="bar {row["s"]}" x="{label_w}" y="{y + 5}" width="{_w(rate, bar_w)}" '
            f'height="14" rx="3"/>'
        )
        if row["r"] > 1:
            parts.append(
                f'<path class="whisker" d="M{lo:.1f} {mid:.1f}H{hi:.1f}M{lo:.1f} {mid - 4:.1f}'
                f'V{mid + 4:.1f}M{hi:.1f} {mid - 4:.1f}V{mid + 4:.1f}"/>'
            )
        tick = label_w + bar_w * needed
        parts.append(
            f'<path class="need" d="M{tick:.1f} {y + 2}V{y + row_h - 2}"/>'
            f'<text class="val" x="{label_w + bar_w + 10}" y="{y + 16}">{row["p"]}/{row["r"]}'
            "</text></g>"
        )
    return _svg(width, height, "Pass rate per case", parts)


def _histogram(rows: list[dict[str, Any]]) -> str:
    bins = [dict.fromkeys(_STATUSES, 0) for _ in range(11)]  # 0-9%, ..., 90-99%, 100%
    for row in rows:
        rate = row["p"] / row["r"] if row["r"] else 0.0
        bins[min(10, math.floor(rate * 10 + 1e-9))][row["s"]] += 1
    step = _nice_step(max(sum(b.values()) for b in bins) / 4)
    most = step * max(1, math.ceil(max(sum(b.values()) for b in bins) / step))
    left, top, plot_w, plot_h = 48, 14, 500, 210
    width, height = left + plot_w + 12, top + plot_h + 40
    slot = plot_w / 11
    parts = []
    for k in range(round(most / step) + 1):  # grid lines at round counts
        y = top + plot_h - plot_h * k * step / most
        parts.append(
            f'<path class="grid" d="M{left} {y:.1f}H{left + plot_w}"/><text class="tick" '
            f'x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{k * step:,}</text>'
        )
    for i, counts in enumerate(bins):
        x = left + i * slot + 5
        label = "100" if i == 10 else f"{i * 10}\u2013{i * 10 + 9}"
        total = sum(counts.values())
        y = top + plot_h
        title = f"{label}%: {total:,} cases" + "".join(
            f", {counts[s]:,} {s}" for s in _STATUSES if counts[s]
        )
        parts.append(f'<g class="hist-bin" data-bin="{i}"><title>{_e(title)}</title>')
        for status in ("error", "fail", "flaky", "pass"):
            if counts[status]:
                h = plot_h * counts[status] / most
                y -= h
                parts.append(
                    f'<rect class="bar {status}" x="{x:.1f}" y="{y:.1f}" '
                    f'width="{slot - 10:.1f}" height="{h:.1f}"/>'
                )
        if total:
            parts.append(
                f'<text class="val" x="{x + (slot - 10) / 2:.1f}" y="{y - 5:.1f}" '
                f'text-anchor="middle">{total:,}</text>'
            )
        parts.append(
            f'<text class="tick" x="{x + (slot - 10) / 2:.1f}" y="{top + plot_h + 16}" '
            f'text-anchor="middle">{label}</text></g>'
        )
    parts.append(
        f'<text class="tick" x="{left + plot_w / 2}" y="{height - 4}" text-anchor="middle">'
        "% of runs passed</text>"
    )
    return _svg(width, height, "Histogram of pass rates per case", parts)


def _axis(left: int, width: int, top: int, height: int) -> str:
    parts = []
    for k in range(5):
        x = left + width * k / 4
        parts.append(
            f'<path class="grid" d="M{x:.1f} {top}V{height}"/><text class="tick" x="{x:.1f}" '
            f'y="{top - 8}" text-anchor="middle">{k / 4:g}</text>'
        )
    return "".join(parts)


def _svg(width: float, height: float, label: str, parts: list[str]) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
        f'height="{height:.0f}" role="img" aria-label="{_e(label)}">{"".join(parts)}</svg>'
    )


def _w(fraction: float, width: int) -> str:
    # a sliver stays visible for a score of exactly 0 next to its track
    return f"{max(0.0, min(1.0, fraction)) * width:.1f}"


def _nice_step(raw: float) -> int:
    """The smallest 1, 2 or 5 times a power of ten (at least 1) not below `raw`."""
    power = 1
    while True:
        for factor in (1, 2, 5):
            if factor * power >= raw:
                return factor * power
        power *= 10


# -- table (drawn by the script) ------------------------------------------------------------------


def _table_shell(report: Report, details_left_out: int) -> str:
    buttons = "".join(
        f'<button type="button" class="toggle {s}" data-status="{s}" aria-pressed="true">'
        f"<i></i>{_LABEL[s]} <span>{report.counts[s]:,}</span></button>"
        for s in _STATUSES
    )
    note = (
        f'<p class="note">Details (runs, outputs, model calls) are embedded for the worst '
        f"{DETAILED:,} cases and for cases that did not pass, up to {DETAILED_MAX:,}; "
        f"{details_left_out:,} cases have only their summary here. The JSON report "
        "(report.to_json) has everything.</p>"
        if details_left_out
        else ""
    )
    return f"""<section class="panel cases">
 <div class="toolbar">
  <h2>Cases</h2>
  <input type="search" id="filter" placeholder="Filter by name or reason" aria-label="Filter cases">
  <div class="toggles" role="group" aria-label="Show statuses">{buttons}</div>
  <span id="shown" class="shown"></span>
 </div>{note}
 <div class="scroll"><table id="cases"><thead></thead><tbody></tbody></table></div>
 <div class="more"><button type="button" id="more" hidden>Show more</button></div>
 <noscript><p class="empty">The case table needs JavaScript; the charts above do not.</p></noscript>
</section>"""


# -- formatting -----------------------------------------------------------------------------------


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tokens(usage: Mapping[str, int]) -> str:
    total = usage.get("total_tokens", 0)
    return f"{total:,} tokens"


def _money(amount: float | None) -> str:
    if amount is None:
        return "cost unknown"
    if amount == 0:
        return "$0"
    return f"${amount:.4f}" if amount < 1 else f"${amount:,.2f}"


def _duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.2f} s"
    return f"{seconds / 60:.1f} min"


_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
"""Nothing is fetched: no script, style, font or image from anywhere but the page itself."""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<main>
{header}
{charts}
{table}
</main>
<script type="application/json" id="myna-data">{data}</script>
<script>{js}</script>
</body>
</html>
"""
