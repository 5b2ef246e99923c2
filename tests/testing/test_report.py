"""RunReport: per-test accounting, merging worker reports, terminal lines, JSON."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from myna.messages import AIMessage
from myna.testing import CassetteUse, PriceTable, RunReport


def _record(provider: str, model: str | None, tokens: tuple[int, int] | None) -> SimpleNamespace:
    output = None
    if tokens is not None:
        i, o = tokens
        output = AIMessage(
            "x", usage_metadata={"input_tokens": i, "output_tokens": o, "total_tokens": i + o}
        )
    return SimpleNamespace(provider=provider, model=model, output=output)


def _filled() -> RunReport:
    report = RunReport(PriceTable())
    report.add_call("t.py::a", _record("openai", "gpt-4.1", (1000, 100)))
    report.add_call("t.py::a", _record("fake", "fake-scripted", (10, 1)))
    report.add_call("t.py::b", _record("acme", "acme-1", (5, 5)))
    report.add_call("t.py::b", _record("openai", "gpt-4.1", None))
    report.add_cassette(CassetteUse("t.py::a", "cassettes/t/a.yaml", "none", replayed=2))
    report.add_cassette(CassetteUse("t.py::b", "cassettes/t/b.yaml", "none", missing=True))
    report.add_cassette(
        CassetteUse("t.py::c", "cassettes/t/c.yaml", "once", recorded=1, unplayed=1)
    )
    return report


def test_totals() -> None:
    totals = _filled().totals()
    assert totals["calls"] == 4 and totals["failed_calls"] == 1
    assert (totals["input_tokens"], totals["output_tokens"]) == (1015, 106)
    assert totals["cost"] == round((1000 * 2.0 + 100 * 8.0) / 1e6, 10)
    assert totals["unpriced_models"] == ["acme:acme-1"]
    assert totals["cassettes"] == {
        "used": 3,
        "replayed": 1,
        "recorded": 1,
        "missing": 1,
        "unplayed": 1,
        "interactions_replayed": 2,
        "interactions_recorded": 1,
        "interactions_unplayed": 1,
    }


def test_terminal_lines() -> None:
    lines = _filled().terminal_lines(top=1)
    assert lines[0] == (
        "model calls: 4 in 2 tests (1 raised) | tokens in 1,015 / out 106 | estimated cost $0.002800"
    )
    assert lines[1] == "top 1 test by estimated cost:"
    assert lines[2].split() == [
        "$0.002800",
        "2",
        "calls",
        "in",
        "1,010",
        "/",
        "out",
        "101",
        "t.py::a",
    ]
    assert lines[3] == "cassettes: 1 replayed, 1 recorded, 1 missing, 1 with unplayed interactions"
    assert "  missing: cassettes/t/b.yaml (t.py::b)" in lines
    assert "  1 unplayed interaction(s): cassettes/t/c.yaml (t.py::c)" in lines
    assert (
        lines[-1]
        == "no price for: acme:acme-1 (add them under [tool.myna.prices] in pyproject.toml)"
    )


def test_merge_of_split_runs_equals_one_run() -> None:
    whole = _filled()
    first, second = RunReport(), RunReport()
    first.add_call("t.py::a", _record("openai", "gpt-4.1", (1000, 100)))
    first.add_call("t.py::a", _record("fake", "fake-scripted", (10, 1)))
    first.add_cassette(CassetteUse("t.py::a", "cassettes/t/a.yaml", "none", replayed=2))
    second.add_call("t.py::b", _record("acme", "acme-1", (5, 5)))
    second.add_call("t.py::b", _record("openai", "gpt-4.1", None))
    second.add_cassette(CassetteUse("t.py::b", "cassettes/t/b.yaml", "none", missing=True))
    second.add_cassette(
        CassetteUse("t.py::c", "cassettes/t/c.yaml", "once", recorded=1, unplayed=1)
    )
    merged = RunReport()
    for part in (second, first):  # arrival order must not matter
        merged.merge(json.loads(json.dumps(part.to_json())))
    assert merged.to_json() == whole.to_json()


def test_merge_adds_up_the_same_test_from_two_processes() -> None:
    a, b = RunReport(), RunReport()
    a.add_call("t.py::a", _record("acme", "m", (1, 1)))
    b.add_call("t.py::a", _record("acme", "m", (2, 2)))
    a.merge(b.to_json())
    assert a.tests["t.py::a"].calls == 2 and a.tests["t.py::a"].input_tokens == 3
    assert a.tests["t.py::a"].unpriced == ["acme:m"]


def test_write_json(tmp_path: Path) -> None:
    target = tmp_path / "out" / "myna.json"
    _filled().write(target)
    data = json.loads(target.read_text())
    assert data["version"] == 1 and [t["nodeid"] for t in data["tests"]] == ["t.py::a", "t.py::b"]
    assert data["totals"]["calls"] == 4


def test_counts_read_right_for_one() -> None:
    report = RunReport()
    report.add_call("t.py::a", _record("openai", "gpt-4.1", (1000, 100)))
    lines = report.terminal_lines()
    assert lines[0].startswith("model calls: 1 in 1 test | tokens in 1,000 / out 100")
    assert lines[1] == "top 1 test by estimated cost:"
    assert lines[2].split()[1:3] == ["1", "call"]


def test_free_runs_are_ranked_by_tokens_not_by_zero_dollars() -> None:
    report = RunReport()
    report.add_call("t.py::small", _record("fake", "fake-scripted", (10, 2)))
    for _ in range(3):
        report.add_call("t.py::big", _record("fake", "fake-scripted", (100, 20)))
    report.add_call("t.py::calls", _record("fake", "fake-scripted", (5, 1)))
    report.add_call("t.py::calls", _record("fake", "fake-scripted", (5, 1)))
    lines = report.terminal_lines()
    assert lines[0].endswith("| estimated cost $0")
    assert lines[1:] == [
        "top 3 tests by tokens (every estimated cost is $0):",
        "    3 calls  in    300 / out     60  t.py::big",
        "    2 calls  in     10 / out      2  t.py::calls",  # same tokens: more calls first
        "    1 call   in     10 / out      2  t.py::small",
    ]
    assert not any("$0 " in line for line in lines[1:])


def test_empty() -> None:
    assert RunReport().is_empty() and not _filled().is_empty()
    assert RunReport().terminal_lines()[0].startswith("model calls: 0 in 0 tests")


def test_long_unpriced_lists_are_cut() -> None:
    report = RunReport()
    for i in range(10):
        report.add_call("t.py::a", _record("acme", f"m{i}", (1, 1)))
    assert report.terminal_lines()[-1] == (
        "no price for: acme:m0, acme:m1, acme:m2, acme:m3, acme:m4, acme:m5, acme:m6, acme:m7 "
        "and 2 more (add them under [tool.myna.prices] in pyproject.toml)"
    )
    assert len(report.totals()["unpriced_models"]) == 10  # the JSON keeps them all
