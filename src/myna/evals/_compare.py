"""`compare(report, baseline)`: what changed case by case, and whether it is more than noise.

Cases are matched by name. Each matched case is `regressed`, `flaky` (passed in the baseline,
flaky now), `improved` or `unchanged`; the others are `new` or `removed`. A comparison is not
`ok` when one of three things holds (the gate):

1. **Pass/fail flips are significant.** McNemar's exact test on the matched cases, a case
   counting as passed when its status is ``pass`` (so ``repeat=n`` runs are judged by the same
   `min_pass_rate` as the report's own gate): more cases went pass -> not pass than the other
   way, with p < `alpha`. One flip in 40 cases is noise (p = 1); 6 flips one way are not
   (p = 0.03), whatever the dataset's size.
2. **An evaluator's mean score dropped significantly.** The seeded bootstrap 95% interval of
   the mean paired score difference lies entirely below 0, AND more cases went down than up
   with sign-test p < `alpha`. The bootstrap alone is overconfident when only a handful of
   cases changed (5 drops in 10,000 cases give an interval below 0, though a fair coin gives
   5 of 5 one way 6% of the time), so the exact sign test must agree.
3. **A stable pass became a stable fail.** A case that passed every one of its runs in the
   baseline and passed none now, with at least `stable_repeats` (3) runs on both sides. If
   the case's pass probability had not changed, this would happen at most
   ``max_p p^3 (1-p)^3 = 1/64`` of the time (1.6% < 5%): one such case is evidence on its
   own, where McNemar would need six. With fewer runs it only counts as a flip.

Score deltas use each case's mean score per evaluator (errors are never scores), paired over
the cases that have a score for that evaluator on both sides.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..exceptions import UserError
from ._report import Report
from ._results import CaseResult
from ._stats import bootstrap_mean_diff, mcnemar_p

__all__ = ["KINDS", "CaseChange", "Comparison", "ScoreDelta", "compare"]

KINDS = ("regressed", "flaky", "improved", "new", "removed", "unchanged")
"""What can happen to a case, in the order the report lists them."""

COMPARISON_FORMAT = "myna-eval-comparison"
_RANK = {"error": 0, "fail": 1, "flaky": 2, "pass": 3}  # worse to better, as report.worst()
_STYLE = {
    "regressed": "bold red",
    "flaky": "yellow",
    "improved": "green",
    "new": "cyan",
    "removed": "magenta",
    "unchanged": "dim",
}
_EPS = 1e-12


@dataclass(frozen=True)
class CaseChange:
    """One case in both runs (or one of them): its status, runs and scores before and after."""

    name: str
    kind: str
    """One of `KINDS`: regressed, flaky, improved, new, removed, unchanged."""
    before: str | None = None
    """The baseline's status (``pass``/``flaky``/``fail``/``error``); None for a new case."""
    after: str | None = None
    """The report's status; None for a removed case."""
    before_runs: tuple[int, int] | None = None
    """(passes, repeats) in the baseline."""
    after_runs: tuple[int, int] | None = None
    """(passes, repeats) in the report."""
    scores: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    """Mean score per evaluator: (baseline, report); None where it gave none."""
    stable_flip: bool = False
    """Passed every baseline run and no run now, with enough runs on both sides to gate."""
    why: str = ""
    """The first reason or error of the report's runs, when it did not pass."""

    @property
    def deltas(self) -> dict[str, float]:
        """Score change per evaluator scored on both sides (report minus baseline)."""
        return {
            name: after - before
            for name, (before, after) in self.scores.items()
            if before is not None and after is not None
        }

    def describe(self) -> str:
        """One line: ``name: pass -> fail (3/3 -> 0/3 runs); equals 1.00 -> 0.00; why``."""
        if self.kind == "new":
            text = f"{self.name}: new, {self.after} ({_runs(self.after_runs)} runs)"
        elif self.kind == "removed":
            text = f"{self.name}: removed, was {self.before} ({_runs(self.before_runs)} runs)"
        else:
            runs = f"{_runs(self.before_runs)} -> {_runs(self.after_runs)} runs"
            text = f"{self.name}: {self.before} -> {self.after} ({runs})"
            if self.stable_flip:
                text += ", stable flip"
        moved = [
            f"{name} {self.scores[name][0]:.2f} -> {self.scores[name][1]:.2f}"
            for name, delta in self.deltas.items()
            if abs(delta) > _EPS
        ]
        if moved:
            text += "; " + ", ".join(moved)
        if self.why:
            text += f"; {self.why}"
        return text

    def to_dict(self) -> dict[str, Any]:
        """The change as plain JSON data."""
        data: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.before is not None:
            data["before"] = {"status": self.before, "runs": list(self.before_runs or (0, 0))}
        if self.after is not None:
            data["after"] = {"status": self.after, "runs": list(self.after_runs or (0, 0))}
        if self.scores:
            data["scores"] = {name: list(pair) for name, pair in self.scores.items()}
        if self.stable_flip:
            data["stable_flip"] = True
        if self.why:
            data["why"] = self.why
        return data


@dataclass(frozen=True)
class ScoreDelta:
    """One evaluator's mean score before and after, over the cases scored on both sides."""

    name: str
    cases: int
    """Cases with a score from this evaluator in both runs."""
    before: float
    """Mean score over those cases in the baseline."""
    after: float
    """Mean score over those cases in the report."""
    delta: float
    """Mean paired difference (report minus baseline)."""
    low: float
    """Lower end of the bootstrap 95% interval of `delta`."""
    high: float
    """Upper end of that interval."""
    down: int
    """Cases whose score went down."""
    up: int
    """Cases whose score went up."""
    p_value: float
    """Two-sided exact sign test on `down` vs `up`."""
    alpha: float = 0.05

    @property
    def regressed(self) -> bool:
        """The interval lies below 0 and the sign test agrees (more down than up, p < alpha)."""
        return self.high < 0 and self.down > self.up and self.p_value < self.alpha

    @property
    def improved(self) -> bool:
        """The interval lies above 0 and the sign test agrees."""
        return self.low > 0 and self.up > self.down and self.p_value < self.alpha

    def describe(self) -> str:
        """One line: ``equals 1.000 -> 0.700 (-0.300, 95% CI [...]; 12 down, 0 up, p=...)``."""
        verdict = " REGRESSED" if self.regressed else " improved" if self.improved else ""
        return (
            f"{self.name} {self.before:.3f} -> {self.after:.3f} ({self.delta:+.3f}, 95% CI "
            f"[{self.low:+.3f}, {self.high:+.3f}]; {self.down} down, {self.up} up, "
            f"p={_p(self.p_value)}; {self.cases} cases){verdict}"
        )

    def to_dict(self) -> dict[str, Any]:
        """The delta as plain JSON data."""
        return {
            "cases": self.cases,
            "before": self.before,
            "after": self.after,
            "delta": self.delta,
            "interval": [self.low, self.high],
            "down": self.down,
            "up": self.up,
            "p_value": self.p_value,
            "regressed": self.regressed,
            "improved": self.improved,
        }


class Comparison:
    """A report against its baseline: case-by-case changes, paired tests, and the gate `ok`.

    ```python
    comparison = compare(report, "baseline.json")
    assert comparison.ok, comparison.summary()
    ```
    """

    def __init__(
        self,
        cases: list[CaseChange],
        scores: dict[str, ScoreDelta],
        *,
        alpha: float,
        stable_repeats: int | None,
        report: Mapping[str, Any],
        baseline: Mapping[str, Any],
        notes: list[str],
    ) -> None:
        self.cases = cases
        """Every case: the report's in its order, then the removed ones."""
        self.scores = scores
        """Per evaluator, the paired score change."""
        self.alpha = alpha
        self.stable_repeats = stable_repeats
        self.report = dict(report)
        """Name, fingerprint and number of cases of the report."""
        self.baseline = dict(baseline)
        """The same for the baseline."""
        self.notes = notes
        """Caveats on what was compared (repeat counts or gates that differ, ...)."""
        matched = [c for c in cases if c.before is not None and c.after is not None]
        self.flips_down = sum(1 for c in matched if c.before == "pass" and c.after != "pass")
        """Matched cases that passed in the baseline and do not now."""
        self.flips_up = sum(1 for c in matched if c.before != "pass" and c.after == "pass")
        """Matched cases that did not pass in the baseline and do now."""
        self.p_value = mcnemar_p(self.flips_down, self.flips_up)
        """McNemar's exact p-value for the pass/fail flips."""

    def __repr__(self) -> str:
        verdict = "ok" if self.ok else "regressed"
        counts = ", ".join(f"{n} {kind}" for kind, n in self.counts.items() if n)
        return f"Comparison({self.report.get('name')!r} vs baseline: {verdict}; {counts})"

    # -- the cases ------------------------------------------------------------------------

    def _kind(self, *kinds: str) -> list[CaseChange]:
        return [case for case in self.cases if case.kind in kinds]

    @property
    def counts(self) -> dict[str, int]:
        """Number of cases of each kind."""
        counts = dict.fromkeys(KINDS, 0)
        for case in self.cases:
            counts[case.kind] += 1
        return counts

    @property
    def regressions(self) -> list[CaseChange]:
        """Cases that got worse (including pass -> flaky), stable flips first."""
        found = self._kind("regressed", "flaky")
        return sorted(found, key=lambda case: not case.stable_flip)

    @property
    def improvements(self) -> list[CaseChange]:
        """Cases that got better."""
        return self._kind("improved")

    @property
    def flaky(self) -> list[CaseChange]:
        """Cases that passed in the baseline and are flaky now."""
        return self._kind("flaky")

    @property
    def new(self) -> list[CaseChange]:
        """Cases only in the report."""
        return self._kind("new")

    @property
    def removed(self) -> list[CaseChange]:
        """Cases only in the baseline."""
        return self._kind("removed")

    @property
    def stable_flips(self) -> list[CaseChange]:
        """Stable pass -> stable fail (see `compare`): each one alone makes `ok` False."""
        return [case for case in self.cases if case.stable_flip]

    # -- the verdict ----------------------------------------------------------------------

    @property
    def significant(self) -> bool:
        """More pass -> not-pass flips than the reverse, with McNemar p < alpha."""
        return self.flips_down > self.flips_up and self.p_value < self.alpha

    @property
    def reasons(self) -> list[str]:
        """Why `ok` is False (empty when it is True)."""
        found = []
        if self.significant:
            found.append(
                f"{self.flips_down} cases stopped passing and {self.flips_up} started "
                f"(McNemar p={_p(self.p_value)} < alpha {self.alpha:g})"
            )
        for delta in self.scores.values():
            if delta.regressed:
                found.append(
                    f"{delta.name} mean score fell {delta.before:.3f} -> {delta.after:.3f} "
                    f"(95% CI [{delta.low:+.3f}, {delta.high:+.3f}], {delta.down} down, "
                    f"{delta.up} up, p={_p(delta.p_value)})"
                )
        flips = self.stable_flips
        if flips:
            names = ", ".join(case.name for case in flips[:5])
            more = f" and {len(flips) - 5} more" if len(flips) > 5 else ""
            found.append(
                f"{len(flips)} stable pass -> stable fail ({names}{more}; every run passed "
                f"before and none now, >= {self.stable_repeats} runs each)"
            )
        return found

    @property
    def ok(self) -> bool:
        """False on a significant regression (see `compare` for the three rules)."""
        return not self.reasons

    # -- text -------------------------------------------------------------------------------

    def headline(self) -> str:
        """One line: the verdict and the counts."""
        verdict = "OK" if self.ok else "REGRESSED"
        counts = self.counts
        matched = sum(counts[k] for k in ("regressed", "flaky", "improved", "unchanged"))
        parts = [
            f"{self.report.get('name') or 'eval'} vs baseline: {verdict}",
            f"{matched} cases matched: {counts['regressed']} regressed, {counts['flaky']} "
            f"flipped to flaky, {counts['improved']} improved, {counts['unchanged']} unchanged",
        ]
        if counts["new"] or counts["removed"]:
            parts.append(f"{counts['new']} new, {counts['removed']} removed")
        parts.append(
            f"pass/fail flips {self.flips_down} down {self.flips_up} up, McNemar "
            f"p={_p(self.p_value)} (alpha {self.alpha:g})"
        )
        return " · ".join(parts)

    def summary(self, top: int = 10) -> str:
        """The headline, why it is not ok, score changes, then the changed cases (plain text)."""
        lines = [self.headline()]
        lines += [f"  not ok: {reason}" for reason in self.reasons]
        lines += [f"  note: {note}" for note in self.notes]
        if self.scores:
            lines.append("scores:")
            lines += [f"  {delta.describe()}" for delta in self.scores.values()]
        for title, group in (
            ("regressed", self.regressions),
            ("improved", self.improvements),
            ("new", self.new),
            ("removed", self.removed),
        ):
            if not group:
                continue
            lines.append(f"{title} ({len(group)}):")
            lines += [f"  {case.describe()}" for case in group[:top]]
            if len(group) > top:
                lines.append(f"  ... and {len(group) - top} more")
        return "\n".join(lines)

    def print(self, *, top: int = 20, file: TextIO | None = None) -> None:
        """Print the changed cases (`top` per kind), the score changes and the verdict."""
        file = file or sys.stdout
        try:
            from rich.console import Console
            from rich.table import Table
        except ImportError:
            print(self.summary(top), file=file)
            return
        console = Console(file=file, highlight=False, soft_wrap=False)
        rows: list[CaseChange] = []
        hidden = 0
        for group in (self.regressions, self.improvements, self.new, self.removed):
            rows += group[:top]
            hidden += max(0, len(group) - top)
        if rows:
            evaluators = sorted({name for case in rows for name in case.scores})
            title = f"{self.report.get('name') or 'eval'} vs baseline"
            table = Table(title=title, title_justify="left")
            table.add_column("case", overflow="fold")
            table.add_column("change")
            table.add_column("baseline")
            table.add_column("now")
            for name in evaluators:
                table.add_column(name, justify="right", overflow="fold")
            table.add_column("why", overflow="fold")
            for case in rows:
                kind = "stable flip" if case.stable_flip else case.kind
                table.add_row(
                    case.name,
                    f"[{_STYLE[case.kind]}]{kind}[/]",
                    _status(case.before, case.before_runs),
                    _status(case.after, case.after_runs),
                    *(_score_cell(case.scores.get(name)) for name in evaluators),
                    case.why[:90],
                )
            console.print(table)
            if hidden:
                console.print(f"... and {hidden} more changed cases (comparison.to_dict() has all)")
        if self.scores:
            table = Table(title="scores", title_justify="left")
            for column in ("evaluator", "baseline", "now", "delta", "95% CI", "down/up", "p"):
                table.add_column(column, justify="left" if column == "evaluator" else "right")
            for delta in self.scores.values():
                style = "red" if delta.regressed else "green" if delta.improved else ""
                table.add_row(
                    delta.name,
                    f"{delta.before:.3f}",
                    f"{delta.after:.3f}",
                    f"[{style}]{delta.delta:+.3f}[/]" if style else f"{delta.delta:+.3f}",
                    f"[{delta.low:+.3f}, {delta.high:+.3f}]",
                    f"{delta.down}/{delta.up}",
                    _p(delta.p_value),
                )
            console.print(table)
        for note in self.notes:
            console.print(f"note: {note}")
        for reason in self.reasons:
            console.print(f"[bold red]not ok:[/] {reason}")
        console.print(self.headline())

    def to_dict(self) -> dict[str, Any]:
        """The comparison as plain JSON data (every case, the tests and the verdict)."""
        return {
            "format": COMPARISON_FORMAT,
            "version": 1,
            "ok": self.ok,
            "reasons": self.reasons,
            "notes": list(self.notes),
            "alpha": self.alpha,
            "stable_repeats": self.stable_repeats,
            "report": dict(self.report),
            "baseline": dict(self.baseline),
            "counts": self.counts,
            "flips": {
                "down": self.flips_down,
                "up": self.flips_up,
                "p_value": self.p_value,
                "significant": self.significant,
            },
            "stable_flips": [case.name for case in self.stable_flips],
            "scores": {name: delta.to_dict() for name, delta in self.scores.items()},
            "cases": [case.to_dict() for case in self.cases],
        }


def compare(
    report: Report | str | os.PathLike[str],
    baseline: Report | str | os.PathLike[str],
    *,
    alpha: float = 0.05,
    stable_repeats: int | None = 3,
    seed: int = 0,
    resamples: int = 2000,
) -> Comparison:
    """Compare `report` with `baseline` case by case, with paired tests against noise.

    ```python
    comparison = compare(evaluate(app, dataset, repeat=3), "evals/baseline.json")
    comparison.print()
    assert comparison.ok, comparison.summary()
    ```

    Args:
        report: the new run: a `Report`, or the path of a JSON report (`report.to_json`).
        baseline: the run to compare against, in the same forms.
        alpha: the significance level of the paired tests (McNemar on pass/fail flips, the
            sign test that backs the bootstrap on scores).
        stable_repeats: runs needed on both sides for a stable pass -> stable fail to fail
            the comparison on its own; None turns that rule off.
        seed: seed of the score bootstrap (same inputs, same intervals).
        resamples: bootstrap resamples per evaluator.

    Returns:
        A `Comparison`; its `ok` is False on a significant regression (the module docstring
        gives the three rules).

    Raises:
        UserError: an argument that is not a report, a path with no report, a bad `alpha`.
    """
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise UserError(f"compare(): alpha={alpha!r} must be a probability in (0, 1), e.g. 0.05.")
    if stable_repeats is not None and (
        isinstance(stable_repeats, bool)
        or not isinstance(stable_repeats, int)
        or stable_repeats < 1
    ):
        raise UserError(
            f"compare(): stable_repeats={stable_repeats!r} must be a whole number >= 1, or None "
            "to turn the stable-flip rule off."
        )
    if isinstance(resamples, bool) or not isinstance(resamples, int) or resamples < 100:
        raise UserError(f"compare(): resamples={resamples!r} must be a whole number >= 100.")
    new = _as_report(report, "report")
    old = _as_report(baseline, "baseline")
    new_cases = new.cases
    old_cases = {case.name: case for case in old.cases}
    changes: list[CaseChange] = []
    seen: set[str] = set()
    for case in new_cases:
        seen.add(case.name)
        before = old_cases.get(case.name)
        if before is None:
            changes.append(_one_side(case, "new"))
        else:
            changes.append(_change(before, case, stable_repeats))
    changes += [_one_side(case, "removed") for name, case in old_cases.items() if name not in seen]
    scores = _score_deltas(changes, alpha=float(alpha), seed=seed, resamples=resamples)
    return Comparison(
        changes,
        scores,
        alpha=float(alpha),
        stable_repeats=stable_repeats,
        report=_identity(new),
        baseline=_identity(old),
        notes=_notes(new, old, changes),
    )


def _as_report(value: Any, role: str) -> Report:
    if isinstance(value, Report):
        return value
    if isinstance(value, (str, os.PathLike)):
        return Report.load(Path(value))
    raise UserError(
        f"compare(): the {role} must be a Report or the path of a JSON report "
        f"(report.to_json(path)); got {type(value).__name__}."
    )


def _identity(report: Report) -> dict[str, Any]:
    return {"name": report.name, "fingerprint": report.fingerprint, "cases": report.total}


def _one_side(case: CaseResult, kind: str) -> CaseChange:
    status, runs = case.status, (case.passes, case.repeats)
    scores = case.scores
    if kind == "new":
        return CaseChange(
            case.name,
            kind,
            after=status,
            after_runs=runs,
            scores={name: (None, score) for name, score in scores.items()},
            why=_why(case),
        )
    return CaseChange(
        case.name,
        kind,
        before=status,
        before_runs=runs,
        scores={name: (score, None) for name, score in scores.items()},
    )


def _change(before: CaseResult, after: CaseResult, stable_repeats: int | None) -> CaseChange:
    old, new = before.status, after.status
    if _RANK[new] < _RANK[old]:
        kind = "flaky" if old == "pass" and new == "flaky" else "regressed"
    elif _RANK[new] > _RANK[old]:
        kind = "improved"
    elif after.pass_rate < before.pass_rate - _EPS:
        kind = "regressed"  # the same verdict with fewer passing runs (5/5 -> 4/5)
    elif after.pass_rate > before.pass_rate + _EPS:
        kind = "improved"
    else:
        kind = "unchanged"
    stable = (
        stable_repeats is not None
        and before.repeats >= stable_repeats
        and after.repeats >= stable_repeats
        and before.passes == before.repeats
        and after.passes == 0
    )
    old_scores, new_scores = before.scores, after.scores
    scores = {
        name: (old_scores.get(name), new_scores.get(name))
        for name in [*new_scores, *(n for n in old_scores if n not in new_scores)]
    }
    return CaseChange(
        after.name,
        kind,
        before=old,
        after=new,
        before_runs=(before.passes, before.repeats),
        after_runs=(after.passes, after.repeats),
        scores=scores,
        stable_flip=stable,
        why=_why(after) if kind in ("regressed", "flaky") else "",
    )


def _why(case: CaseResult) -> str:
    if case.status == "pass":
        return ""
    lines = case.errors + case.reasons
    return lines[0] if lines else ""


def _score_deltas(
    changes: list[CaseChange], *, alpha: float, seed: int, resamples: int
) -> dict[str, ScoreDelta]:
    paired: dict[str, list[tuple[float, float]]] = {}
    for case in changes:
        for name, (before, after) in case.scores.items():
            if before is not None and after is not None:
                paired.setdefault(name, []).append((before, after))
    found = {}
    for name in sorted(paired):
        pairs = paired[name]
        deltas = [after - before for before, after in pairs]
        down = sum(1 for d in deltas if d < -_EPS)
        up = sum(1 for d in deltas if d > _EPS)
        if down or up:
            mean, low, high = bootstrap_mean_diff(deltas, resamples=resamples, seed=seed)
        else:  # nothing moved: the interval is the point 0, no resampling needed
            mean = low = high = 0.0
        n = len(pairs)
        found[name] = ScoreDelta(
            name=name,
            cases=n,
            before=sum(b for b, _ in pairs) / n,
            after=sum(a for _, a in pairs) / n,
            delta=mean,
            low=low,
            high=high,
            down=down,
            up=up,
            p_value=mcnemar_p(down, up),
            alpha=alpha,
        )
    return found


def _notes(new: Report, old: Report, changes: list[CaseChange]) -> list[str]:
    notes = []
    differ = sum(
        1
        for case in changes
        if case.before_runs and case.after_runs and case.before_runs[1] != case.after_runs[1]
    )
    if differ:
        notes.append(
            f"{differ} matched cases ran a different number of repeats than in the baseline; "
            "their pass rates and statuses are compared as they are, so rerun both with the "
            "same repeat for a like-for-like comparison"
        )
    if abs(new.min_pass_rate - old.min_pass_rate) > _EPS:
        notes.append(
            f"min_pass_rate differs ({old.min_pass_rate:g} in the baseline, "
            f"{new.min_pass_rate:g} now): statuses follow each run's own gate"
        )
    old_names = {n for c in changes if c.before for n, (b, _) in c.scores.items() if b is not None}
    new_names = {n for c in changes if c.after for n, (_, a) in c.scores.items() if a is not None}
    for name in sorted(new_names - old_names):
        notes.append(f"evaluator {name!r} has no scores in the baseline")
    for name in sorted(old_names - new_names):
        notes.append(f"evaluator {name!r} has no scores in the report")
    return notes


def _runs(runs: tuple[int, int] | None) -> str:
    return f"{runs[0]}/{runs[1]}" if runs else "-"


def _status(status: str | None, runs: tuple[int, int] | None) -> str:
    return f"{status} {_runs(runs)}" if status else "-"


def _score_cell(pair: tuple[float | None, float | None] | None) -> str:
    if pair is None:
        return ""
    before, after = pair
    if before is None or after is None:
        return f"{before if before is not None else after:.2f}"
    if abs(after - before) <= _EPS:
        return f"{after:.2f}"
    return f"{before:.2f} -> {after:.2f}"


def _p(value: float) -> str:
    return f"{value:.2g}" if value < 0.001 else f"{value:.3f}"
