"""The run report: model calls, tokens and estimated cost per test, and cassette use.

The pytest plugin fills one `RunReport` per process (each xdist worker too), merges the
workers' reports in the controller, prints `terminal_lines` at the end of the run, and
writes `to_json` for ``--myna-report=FILE.json``. Totals are computed from the per-test
entries in test-id order, so a run split across workers gives the same numbers.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ._prices import PriceTable

__all__ = ["CassetteUse", "RunReport", "TestUsage"]

REPORT_VERSION = 1


@dataclass
class TestUsage:
    """Model use of one test."""

    __test__ = False  # not a test class, whatever its name says

    nodeid: str
    calls: int = 0
    failed_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    """Estimated US dollars, over the calls whose model has a price."""
    models: dict[str, int] = field(default_factory=dict)
    """``provider:model`` -> number of calls."""
    unpriced: list[str] = field(default_factory=list)
    """Models called that have no price in the table."""


@dataclass
class CassetteUse:
    """One cassette used by one test."""

    nodeid: str
    path: str
    mode: str
    replayed: int = 0
    """Interactions answered from the cassette."""
    recorded: int = 0
    """Interactions newly written to it."""
    unplayed: int = 0
    """Recorded interactions the test never asked for."""
    missing: bool = False
    """The cassette file did not exist and could not be recorded (mode ``none``)."""


class RunReport:
    """Everything the plugin reports about one run (or one xdist worker's share of it)."""

    def __init__(self, prices: PriceTable | None = None) -> None:
        self.prices = prices or PriceTable()
        self.tests: dict[str, TestUsage] = {}
        self.cassettes: list[CassetteUse] = []
        self._models: dict[tuple[Any, Any], tuple[str, Any]] = {}

    def __repr__(self) -> str:
        return f"RunReport({len(self.tests)} tests, {len(self.cassettes)} cassettes)"

    # -- filling --------------------------------------------------------------------------

    def add_call(self, nodeid: str, record: Any) -> None:
        """Count one finished model call (a `myna.models.CallRecord`) for test `nodeid`."""
        entry = self.tests.get(nodeid)
        if entry is None:
            entry = self.tests[nodeid] = TestUsage(nodeid)
        entry.calls += 1
        found = self._models.get((record.provider, record.model))
        if found is None:  # once per model: its report key and its price
            key = f"{record.provider}:{record.model}" if record.model else str(record.provider)
            found = self._models[(record.provider, record.model)] = (
                key,
                self.prices.lookup(record.provider, record.model),
            )
        key, price = found
        entry.models[key] = entry.models.get(key, 0) + 1
        output = record.output
        if output is None:
            entry.failed_calls += 1
            return
        usage = output.usage_metadata
        if usage:
            entry.input_tokens += usage.get("input_tokens") or 0
            entry.output_tokens += usage.get("output_tokens") or 0
        if price is None:
            if key not in entry.unpriced:
                entry.unpriced.append(key)
        elif usage and (price.input or price.output):
            entry.cost += price.cost(usage)

    def add_cassette(self, use: CassetteUse) -> None:
        """Record how one test used one cassette."""
        self.cassettes.append(use)

    # -- combining ------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data: totals, one entry per test, one per cassette."""
        tests = [asdict(self.tests[k]) for k in sorted(self.tests)]
        cassettes = [asdict(c) for c in sorted(self.cassettes, key=lambda c: (c.nodeid, c.path))]
        return {
            "version": REPORT_VERSION,
            "totals": self.totals(),
            "tests": tests,
            "cassettes": cassettes,
        }

    def merge(self, data: dict[str, Any]) -> None:
        """Add another process's `to_json` output (an xdist worker's) to this report."""
        for item in data.get("tests", ()):
            entry = TestUsage(**item)
            current = self.tests.get(entry.nodeid)
            if current is None:
                self.tests[entry.nodeid] = entry
                continue
            # the same test in two processes (a rerun): add up
            current.calls += entry.calls
            current.failed_calls += entry.failed_calls
            current.input_tokens += entry.input_tokens
            current.output_tokens += entry.output_tokens
            current.cost += entry.cost
            for key, n in entry.models.items():
                current.models[key] = current.models.get(key, 0) + n
            current.unpriced += [m for m in entry.unpriced if m not in current.unpriced]
        for item in data.get("cassettes", ()):
            self.cassettes.append(CassetteUse(**item))

    def totals(self) -> dict[str, Any]:
        """Sums over every test (in test-id order, so any split gives the same floats)."""
        entries = [self.tests[k] for k in sorted(self.tests)]
        cost = 0.0
        for entry in entries:
            cost += entry.cost
        unpriced = sorted({m for e in entries for m in e.unpriced})
        cassettes = self.cassettes
        return {
            "tests_with_calls": sum(1 for e in entries if e.calls),
            "calls": sum(e.calls for e in entries),
            "failed_calls": sum(e.failed_calls for e in entries),
            "input_tokens": sum(e.input_tokens for e in entries),
            "output_tokens": sum(e.output_tokens for e in entries),
            "cost": round(cost, 10),
            "unpriced_models": unpriced,
            "cassettes": {
                "used": len(cassettes),
                "replayed": sum(1 for c in cassettes if c.replayed and not c.recorded),
                "recorded": sum(1 for c in cassettes if c.recorded),
                "missing": sum(1 for c in cassettes if c.missing),
                "unplayed": sum(1 for c in cassettes if c.unplayed),
                "interactions_replayed": sum(c.replayed for c in cassettes),
                "interactions_recorded": sum(c.recorded for c in cassettes),
                "interactions_unplayed": sum(c.unplayed for c in cassettes),
            },
        }

    def is_empty(self) -> bool:
        """True when no test called a model or used a cassette."""
        return not self.tests and not self.cassettes

    def write(self, path: str | Path) -> None:
        """Write `to_json` to `path` (parent folders are created)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n")

    # -- showing --------------------------------------------------------------------------

    def terminal_lines(self, top: int = 5) -> list[str]:
        """The terminal summary: totals, the `top` tests by cost (then tokens), cassettes.

        When no call cost anything (fakes, emulators and replays of free models), a column of
        ``$0`` says nothing: the tests are ranked by tokens, then calls, instead.
        """
        totals = self.totals()
        lines = [
            f"model calls: {totals['calls']:,} in {_count(totals['tests_with_calls'], 'test')}"
            + (f" ({totals['failed_calls']:,} raised)" if totals["failed_calls"] else "")
            + f" | tokens in {totals['input_tokens']:,} / out {totals['output_tokens']:,}"
            + f" | estimated cost {_money(totals['cost'])}"
        ]
        tested = [e for e in self.tests.values() if e.calls]
        priced = any(e.cost for e in tested)
        ranked = sorted(
            tested,
            key=lambda e: (
                -e.cost,
                -(e.input_tokens + e.output_tokens),
                -e.calls,
                e.nodeid,
            ),
        )
        if ranked and top > 0:
            shown = ranked[:top]
            which = _count(len(shown), "test")
            if priced:
                lines.append(f"top {which} by estimated cost:")
            else:
                lines.append(f"top {which} by tokens (every estimated cost is $0):")
            for entry in shown:
                cost = f"  {_money(entry.cost):>10}" if priced else ""
                calls = "call " if entry.calls == 1 else "calls"
                lines.append(
                    f"{cost}  {entry.calls:>3} {calls}  "
                    f"in {entry.input_tokens:>6,} / out {entry.output_tokens:>6,}  {entry.nodeid}"
                )
        c = totals["cassettes"]
        if c["used"]:
            lines.append(
                f"cassettes: {c['replayed']} replayed, {c['recorded']} recorded, "
                f"{c['missing']} missing, {c['unplayed']} with unplayed interactions"
            )
            for use in sorted(self.cassettes, key=lambda u: (u.nodeid, u.path)):
                if use.missing:
                    lines.append(f"  missing: {use.path} ({use.nodeid})")
                elif use.unplayed:
                    lines.append(
                        f"  {use.unplayed} unplayed interaction(s): {use.path} ({use.nodeid})"
                    )
        unpriced = totals["unpriced_models"]
        if unpriced:
            shown = ", ".join(unpriced[:8]) + (
                f" and {len(unpriced) - 8} more" if len(unpriced) > 8 else ""
            )
            lines.append(
                f"no price for: {shown} (add them under [tool.myna.prices] in pyproject.toml)"
            )
        return lines


def _count(n: int, noun: str) -> str:
    """``1 test``, ``2 tests``."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _money(amount: float) -> str:
    """Dollars with enough digits that a cheap test does not show as $0.0000."""
    if amount == 0:
        return "$0"
    if amount < 0.01:
        return f"${amount:.6f}"
    return f"${amount:.4f}"
