"""Text forms of a report: the terminal table and JUnit XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ._report import Report
    from ._results import CaseResult

__all__ = ["print_report", "write_junit"]

_STYLE = {"pass": "green", "flaky": "yellow", "fail": "red", "error": "bold red"}


def _why(case: CaseResult, width: int = 90) -> str:
    lines = case.errors + case.reasons
    if not lines:
        return ""
    first = lines[0]
    more = f" (+{len(lines) - 1} more)" if len(lines) > 1 else ""
    text = first + more
    return text if len(text) <= width else text[: width - 3] + "..."


def print_report(report: Report, *, top: int | None, file: TextIO) -> None:
    """Print the cases worst first (`top` rows, all when None), then the headline."""
    rows = report.worst(top) if top is not None else report.worst(report.total)
    evaluators = sorted({name for case in rows for name in case.scores})
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        for case in rows:
            print(
                f"{case.status:6} {case.passes}/{case.repeats}  {case.name}  {_why(case)}",
                file=file,
            )
        print(report.headline(), file=file)
        return
    console = Console(file=file, highlight=False, soft_wrap=False)
    table = Table(title=f"eval {report.name or ''}".strip(), title_justify="left")
    table.add_column("case", no_wrap=True)
    table.add_column("status")
    table.add_column("runs", justify="right")
    for name in evaluators:
        table.add_column(name, justify="right", overflow="fold")
    table.add_column("latency", justify="right")
    table.add_column("why", overflow="fold")
    for case in rows:
        scores = case.scores
        table.add_row(
            case.name,
            f"[{_STYLE[case.status]}]{case.status}[/]",
            f"{case.passes}/{case.repeats}",
            *(f"{scores[n]:.2f}" if n in scores else "" for n in evaluators),
            f"{case.latency * 1000:.0f} ms",
            _why(case),
        )
    console.print(table)
    hidden = report.total - len(rows)
    if hidden > 0:
        console.print(f"... and {hidden} more cases (report.print(full=True) shows all)")
    console.print(report.headline())


def write_junit(report: Report, path: Path) -> Path:
    """One testsuite, one testcase per case; fail and flaky are failures, error is error."""
    suite = ET.Element(
        "testsuite",
        name=report.name or "eval",
        tests=str(report.total),
        failures=str(report.counts["fail"] + report.counts["flaky"]),
        errors=str(report.counts["error"]),
        time=f"{report.wall_time:.3f}",
    )
    properties = ET.SubElement(suite, "properties")
    for key, value in (("fingerprint", report.fingerprint), ("pass_rate", report.pass_rate)):
        ET.SubElement(properties, "property", name=key, value=str(value))
    for case in report.cases:
        element = ET.SubElement(
            suite,
            "testcase",
            classname=f"myna.evals.{report.name or 'eval'}",
            name=case.name,
            time=f"{case.latency * case.repeats:.3f}",
        )
        _case_children(element, case)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
    return path


def _case_children(element: Any, case: CaseResult) -> None:
    status = case.status
    if status == "pass":
        return
    tag = "error" if status == "error" else "failure"
    message = f"{status}: {case.passes}/{case.repeats} runs passed"
    child = ET.SubElement(element, tag, message=message, type=status)
    child.text = case.summary()
