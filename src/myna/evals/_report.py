"""`Report`: the verdict of an evaluation run, its totals, and its files (JSON, JUnit, HTML).

Totals are kept as cases arrive, so a run streamed to a results file need not hold its cases
in memory: `report.cases` then reads them back from that file when asked.
"""

from __future__ import annotations

import heapq
import json
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from ..exceptions import UserError
from ._results import CaseResult, RunResult, _add_cost, _add_usage, worst_key

__all__ = ["REPORT_FORMAT", "REPORT_VERSION", "Report"]

REPORT_FORMAT = "myna-eval-report"
REPORT_VERSION = 1
_WORST_KEPT = 50
_STATUSES = ("pass", "flaky", "fail", "error")


class _Worst:
    """Heap entry ordering cases so that the best of the kept worst ones is popped first."""

    __slots__ = ("case", "key")

    def __init__(self, case: CaseResult) -> None:
        self.case = case
        self.key = worst_key(case)

    def __lt__(self, other: _Worst) -> bool:
        return self.key > other.key


class Report:
    """The result of `evaluate`: per-case verdicts, totals, the gate, and output files.

    ```python
    report = evaluate(shout, dataset, repeat=5, min_pass_rate=0.8)
    assert report.passed, report.summary()
    report.to_html("eval.html")
    ```
    """

    def __init__(
        self,
        cases: Iterable[CaseResult] = (),
        *,
        name: str | None = None,
        min_pass_rate: float = 1.0,
        max_error_rate: float = 0.0,
        settings: Mapping[str, Any] | None = None,
        results_path: str | Path | None = None,
        keep_cases: bool = True,
        dataset_cases: Sequence[Any] | None = None,
    ) -> None:
        self.name = name
        self.min_pass_rate = min_pass_rate
        self.max_error_rate = max_error_rate
        self.settings: dict[str, Any] = dict(settings or {})
        self.results_path = Path(results_path) if results_path is not None else None
        self.counts: dict[str, int] = dict.fromkeys(_STATUSES, 0)
        """Number of cases per status."""
        self.runs = 0
        """Runs over all cases (cases x repeats)."""
        self.run_passes = 0
        self.usage: dict[str, int] = {}
        """The target's tokens over the whole run."""
        self.judge_usage: dict[str, int] = {}
        """The judges' tokens over the whole run."""
        self.cost: float | None = 0.0
        """The target's estimated US dollars; None if some model has no price."""
        self.judge_cost: float | None = 0.0
        """The judges' estimated US dollars; None if some judge model has no price."""
        self.latency = 0.0
        """Seconds the target took, summed over runs."""
        self.wall_time = 0.0
        """Seconds the whole run took."""
        self._score_sums: dict[str, list[float]] = {}
        self._digest = 0
        self._worst: list[_Worst] = []
        self._errors: list[CaseResult] = []
        self._kept: list[CaseResult] | None = [] if keep_cases else None
        self._dataset_cases = dataset_cases
        for case in cases:
            self.add(case)

    def __repr__(self) -> str:
        verdict = "passed" if self.passed else "failed"
        return f"Report({self.name or 'eval'!r}, {self.total} cases, {verdict})"

    # -- filling ------------------------------------------------------------------------

    def add(self, case: CaseResult) -> None:
        """Count one finished case."""
        status = case.status
        self.counts[status] += 1
        self.runs += case.repeats
        self.run_passes += case.passes
        for run in case.runs:
            _add_usage(self.usage, run.usage)
            _add_usage(self.judge_usage, run.judge_usage)
            self.cost = _add_cost(self.cost, run.cost)
            self.judge_cost = _add_cost(self.judge_cost, run.judge_cost)
            self.latency += run.latency
        for evaluator, score in case.scores.items():
            entry = self._score_sums.setdefault(evaluator, [0.0, 0])
            entry[0] += score
            entry[1] += 1
        self._digest = (self._digest + case.digest()) % (1 << 256)
        if status == "error":
            self._errors.append(case)
        entry_ = _Worst(case)
        if len(self._worst) < _WORST_KEPT:
            heapq.heappush(self._worst, entry_)
        elif entry_.key < self._worst[0].key:
            heapq.heapreplace(self._worst, entry_)
        if self._kept is not None:
            self._kept.append(case)

    # -- the verdict ----------------------------------------------------------------------

    @property
    def total(self) -> int:
        """Number of cases."""
        return sum(self.counts.values())

    @property
    def pass_rate(self) -> float:
        """Passing cases over all cases (0.0 for an empty report)."""
        return self.counts["pass"] / self.total if self.total else 0.0

    @property
    def error_rate(self) -> float:
        """Cases that errored over all cases."""
        return self.counts["error"] / self.total if self.total else 0.0

    @property
    def passed(self) -> bool:
        """The gate: enough cases passed and no more errored than allowed."""
        return (
            self.total > 0
            and self.pass_rate >= self.min_pass_rate - 1e-12
            and self.error_rate <= self.max_error_rate + 1e-12
        )

    @property
    def errors(self) -> list[CaseResult]:
        """The cases that errored (the target or an evaluator raised)."""
        return list(self._errors)

    @property
    def scores(self) -> dict[str, float]:
        """Mean score per evaluator over the cases where it gave one."""
        return {name: total / n for name, (total, n) in self._score_sums.items() if n}

    @property
    def fingerprint(self) -> str:
        """A short hash of every deterministic part of the results (timings left out).

        The same dataset, target and cassettes give the same fingerprint: a changed output,
        verdict, score, reason or token count changes it.
        """
        return f"{self._digest:064x}"[:16]

    @property
    def cases(self) -> list[CaseResult]:
        """Every case, in dataset order (read back from the results file when not kept)."""
        if self._kept is not None:
            cases = list(self._kept)
        elif self.results_path is not None:
            cases = list(_cases_from_results(self.results_path, self.min_pass_rate))
        else:
            cases = []
        if self._dataset_cases is not None:
            # dataset order; cases read back from the file get their inputs etc. again
            by_name = {case.name: case for case in cases}
            ordered = []
            for source in self._dataset_cases:
                case = by_name.pop(source.name, None)
                if case is not None:
                    if self._kept is None:
                        case.inputs, case.expected = source.inputs, source.expected
                        case.metadata = dict(source.metadata or {})
                    ordered.append(case)
            cases = ordered  # runs of cases no longer in the dataset (a resume) are left out
        return cases

    def case(self, name: str) -> CaseResult:
        """One case's result by name."""
        for case in self.cases:
            if case.name == name:
                return case
        raise KeyError(f"myna: no case named {name!r} in {self!r}.")

    def worst(self, n: int = 20) -> list[CaseResult]:
        """Up to `n` cases, worst first (errors, fails, flaky, then the lowest pass rates)."""
        if n <= _WORST_KEPT:
            return sorted((entry.case for entry in self._worst), key=worst_key)[:n]
        return sorted(self.cases, key=worst_key)[:n]

    # -- text -------------------------------------------------------------------------------

    def headline(self) -> str:
        """One line: the verdict, the counts and the totals."""
        verdict = "PASSED" if self.passed else "FAILED"
        required = f"{self.min_pass_rate:.0%} required"
        parts = [
            f"{self.name or 'eval'}: {verdict}",
            f"{self.counts['pass']}/{self.total} cases passed ({self.pass_rate:.1%}, {required})",
        ]
        others = [f"{self.counts[s]} {s}" for s in ("fail", "flaky", "error") if self.counts[s]]
        if others:
            parts.append(", ".join(others))
        parts.append(f"{self.runs} runs")
        parts.append(f"target {_tokens(self.usage)} {_money(self.cost)}")
        if self.judge_usage or self.judge_cost:
            parts.append(f"judge {_tokens(self.judge_usage)} {_money(self.judge_cost)}")
        parts.append(f"fingerprint {self.fingerprint}")
        return " · ".join(parts)

    def summary(self, top: int = 10) -> str:
        """The headline, then the worst cases with why they did not pass (plain text)."""
        lines = [self.headline()]
        for case in self.worst(top):
            if case.status == "pass":
                break
            lines.append(case.summary())
        return "\n".join(lines)

    def print(self, *, top: int = 20, full: bool = False, file: TextIO | None = None) -> None:
        """Print a table of the cases, worst first (`top` rows unless `full`), and totals."""
        from ._render import print_report

        print_report(self, top=None if full else top, file=file or sys.stdout)

    # -- files ------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The whole report as JSON data (the format `Report.load` reads)."""
        return {
            "format": REPORT_FORMAT,
            "version": REPORT_VERSION,
            "name": self.name,
            "passed": self.passed,
            "fingerprint": self.fingerprint,
            "min_pass_rate": self.min_pass_rate,
            "max_error_rate": self.max_error_rate,
            "settings": self.settings,
            "summary": {
                "cases": self.total,
                "counts": dict(self.counts),
                "pass_rate": self.pass_rate,
                "runs": self.runs,
                "run_passes": self.run_passes,
                "scores": self.scores,
                "usage": self.usage,
                "judge_usage": self.judge_usage,
                "cost": self.cost,
                "judge_cost": self.judge_cost,
                "latency": round(self.latency, 6),
                "wall_time": round(self.wall_time, 6),
            },
            "cases": [case.to_dict() for case in self.cases],
        }

    def to_json(self, path: str | Path) -> Path:
        """Write the report as JSON (see `Report.schema()`); returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n", "utf-8")
        return path

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "report") -> Report:
        """Rebuild a report from `to_dict` data."""
        if not isinstance(data, Mapping) or data.get("format") != REPORT_FORMAT:
            raise UserError(
                f'{source} is not a myna eval report (no "format": "{REPORT_FORMAT}"); write '
                "one with report.to_json(path) or `myna eval run ... --json PATH`."
            )
        if data.get("version") != REPORT_VERSION:
            raise UserError(
                f"{source} is a version {data.get('version')!r} eval report; this myna reads "
                f"version {REPORT_VERSION}. Re-run the eval to write it again."
            )
        try:
            cases = [CaseResult.from_dict(row) for row in data.get("cases", ())]
        except (KeyError, TypeError, ValueError) as exc:
            raise UserError(f"{source}: a case row is malformed ({exc!r}).") from None
        report = cls(
            cases,
            name=data.get("name"),
            min_pass_rate=float(data.get("min_pass_rate", 1.0)),
            max_error_rate=float(data.get("max_error_rate", 0.0)),
            settings=data.get("settings") or {},
        )
        report.wall_time = float((data.get("summary") or {}).get("wall_time", 0.0))
        return report

    @classmethod
    def load(cls, path: str | Path) -> Report:
        """Read a report written by `to_json`."""
        path = Path(path)
        try:
            data = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            raise UserError(f"No eval report at {path}.") from None
        except json.JSONDecodeError as exc:
            raise UserError(
                f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})."
            ) from None
        return cls.from_dict(data, source=str(path))

    @staticmethod
    def schema() -> dict[str, Any]:
        """The JSON Schema of the JSON report."""
        from ._schema import report_schema

        return report_schema()

    def to_junit(self, path: str | Path) -> Path:
        """Write JUnit XML (one testcase per case), which CI systems show natively."""
        from ._render import write_junit

        return write_junit(self, Path(path))

    def to_html(self, path: str | Path) -> Path:
        """Write one self-contained HTML file (no network): table, charts, per-case details."""
        from ._html import write_html

        return write_html(self, Path(path))


def _cases_from_results(path: Path, min_pass_rate: float) -> Iterator[CaseResult]:
    runs: dict[str, dict[int, RunResult]] = {}
    for data in read_results(path):
        run = RunResult.from_dict(data)
        runs.setdefault(run.case, {})[run.repeat] = run
    for name, by_repeat in runs.items():
        yield CaseResult(name, list(by_repeat.values()), min_pass_rate)


def read_results(path: Path) -> Iterator[dict[str, Any]]:
    """The run lines of a results file; a torn last line (a killed run) is skipped."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.endswith("\n"):
                return  # the writer died mid-line: that run has no result
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(data, dict) and "case" in data and "repeat" in data:
                yield data


def _tokens(usage: Mapping[str, int]) -> str:
    return f"{usage.get('total_tokens', 0):,} tokens"


def _money(amount: float | None) -> str:
    if amount is None:
        return "cost unknown"
    if amount == 0:
        return "$0"
    return f"${amount:.4f}" if amount < 1 else f"${amount:,.2f}"
