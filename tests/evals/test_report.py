"""Reports: verdicts, statistics, fingerprints, JSON round trips, JUnit and the terminal table."""

from __future__ import annotations

import io
import json
import math
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from myna.evals import Case, CaseResult, Dataset, EvalResult, Report, RunResult, evaluate
from myna.evals import evaluators as ev
from myna.evals._stats import (
    bootstrap_mean_diff,
    mcnemar_p,
    pass_at_k,
    pass_pow_k,
    wilson_interval,
)
from myna.exceptions import UserError


def mixed_report(**options) -> Report:
    """pass, fail, flaky and error cases from a deterministic target."""
    outcomes = {"good": [True] * 3, "bad": [False] * 3, "wobbly": [True, False, True]}

    def target(name):
        if name == "broken":
            raise RuntimeError("boom <b>")
        return name

    def check(ctx):
        return outcomes[ctx.output][ctx.repeat_index]

    dataset = Dataset([Case(n, n) for n in ("good", "bad", "wobbly", "broken")], name="mixed")
    return evaluate(target, dataset, evaluators=[check], repeat=3, **options)


# -- statistics -------------------------------------------------------------------------------


def test_wilson_interval_known_values():
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-3) and high == pytest.approx(0.9433, abs=1e-3)
    assert wilson_interval(0, 5)[0] == 0.0 and wilson_interval(5, 5)[1] == 1.0
    assert wilson_interval(0, 0) == (0.0, 1.0)


@given(
    st.integers(1, 30).flatmap(
        lambda n: st.tuples(st.integers(0, n), st.just(n), st.integers(1, n))
    )
)
def test_pass_at_k_properties(args):
    passes, n, k = args
    at = pass_at_k(passes, n, k)
    power = pass_pow_k(passes, n, k)
    assert 0.0 <= power <= at <= 1.0
    assert pass_at_k(passes, n, 1) == pytest.approx(passes / n)
    assert pass_pow_k(passes, n, 1) == pytest.approx(passes / n)
    low, high = wilson_interval(passes, n)
    assert low <= passes / n <= high


def test_pass_at_k_rejects_k_out_of_range():
    with pytest.raises(ValueError, match="1 <= k <= n"):
        pass_at_k(1, 3, 4)


def test_mcnemar_exact_values():
    assert mcnemar_p(0, 0) == 1.0
    assert mcnemar_p(5, 5) == 1.0
    assert mcnemar_p(10, 0) == pytest.approx(2 / 1024)
    assert mcnemar_p(1, 0) == 1.0


def test_bootstrap_is_seeded_and_brackets_the_mean():
    deltas = [-0.2, -0.1, 0.0, -0.3, -0.15, -0.05]
    mean, low, high = bootstrap_mean_diff(deltas, seed=3)
    assert (mean, low, high) == bootstrap_mean_diff(deltas, seed=3)
    assert low <= mean <= high < 0
    assert bootstrap_mean_diff([]) == (0.0, 0.0, 0.0)


# -- verdicts ----------------------------------------------------------------------------------


def test_statuses_and_gate():
    report = mixed_report()
    assert {c.name: c.status for c in report.cases} == {
        "good": "pass",
        "bad": "fail",
        "wobbly": "flaky",
        "broken": "error",
    }
    assert report.counts == {"pass": 1, "flaky": 1, "fail": 1, "error": 1}
    assert not report.passed and report.pass_rate == 0.25
    assert [c.name for c in report.worst(4)] == ["broken", "bad", "wobbly", "good"]
    lenient = mixed_report(min_pass_rate=0.6, max_error_rate=0.25)
    assert lenient.case("wobbly").status == "pass"  # 2 of 3 >= 0.6
    assert not lenient.passed  # 2 of 4 cases < 0.6
    assert lenient.pass_rate == 0.5


def test_summary_lists_which_repeats_failed_and_why():
    report = mixed_report()
    text = report.summary()
    assert text.splitlines()[0].startswith("mixed: FAILED · 1/4 cases passed")
    assert "wobbly: flaky (2/3 runs passed, 3 needed)" in text
    assert "repeat 1: check: failed" in text
    assert "broken: error (0/3 runs passed, 3 needed)" in text
    assert "repeat 0: target: RuntimeError: boom <b>" in text


def test_fingerprint_is_stable_and_sensitive():
    first, second = mixed_report(), mixed_report(max_concurrency=1)
    assert first.fingerprint == second.fingerprint and len(first.fingerprint) == 16
    dataset = Dataset([Case("a", "x")], evaluators=[ev.is_json()])
    one = evaluate(lambda x: "1", dataset)
    other = evaluate(lambda x: "2", dataset)
    assert one.passed and other.passed and one.fingerprint != other.fingerprint


def test_report_from_cases_built_by_hand():
    runs = [
        RunResult("a", i, output="x", results=[EvalResult(passed=i != 1, name="e")])
        for i in range(3)
    ]
    report = Report([CaseResult("a", runs, min_pass_rate=0.5)], name="manual", min_pass_rate=1.0)
    assert report.passed and report.cases[0].passes == 2
    assert repr(report) == "Report('manual', 1 cases, passed)"


def test_empty_report_does_not_pass():
    assert not Report([]).passed


# -- files ------------------------------------------------------------------------------------


def test_json_round_trip(tmp_path):
    report = mixed_report()
    path = report.to_json(tmp_path / "out" / "report.json")
    again = Report.load(path)
    assert again.fingerprint == report.fingerprint
    assert again.counts == report.counts and again.passed == report.passed
    assert [c.name for c in again.cases] == [c.name for c in report.cases]
    assert again.case("wobbly").reasons == report.case("wobbly").reasons
    data = json.loads(path.read_text())
    assert data["format"] == "myna-eval-report" and data["summary"]["cases"] == 4


def test_load_rejects_what_is_not_a_report(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"cases": []}')
    with pytest.raises(UserError, match="not a myna eval report"):
        Report.load(path)
    path.write_text("{oops")
    with pytest.raises(UserError, match=r"x.json:1:2: not valid JSON"):
        Report.load(path)
    with pytest.raises(UserError, match="No eval report at"):
        Report.load(tmp_path / "missing.json")
    path.write_text('{"format": "myna-eval-report", "version": 99}')
    with pytest.raises(UserError, match="version 99"):
        Report.load(path)


def test_junit(tmp_path):
    path = mixed_report().to_junit(tmp_path / "junit.xml")
    suite = ET.parse(path).getroot()
    assert suite.tag == "testsuite" and suite.get("tests") == "4"
    assert suite.get("failures") == "2" and suite.get("errors") == "1"
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert list(cases["good"]) == []
    assert cases["wobbly"].find("failure").get("type") == "flaky"
    assert "boom <b>" in cases["broken"].find("error").text


def test_print_shows_worst_first_and_totals():
    out = io.StringIO()
    mixed_report().print(file=out)
    text = out.getvalue()
    assert text.index("broken") < text.index("bad") < text.index("wobbly") < text.index("good")
    assert "fingerprint" in text and "FAILED" in text


def test_print_of_a_big_report_shows_top_rows_only():
    dataset = Dataset([Case(f"c{i}", i) for i in range(300)])
    report = evaluate(lambda x: x, dataset, evaluators=[lambda c: c.output % 100 != 7])
    out = io.StringIO()
    report.print(top=5, file=out)
    text = out.getvalue()
    assert "c7 " in text and "c107" in text and "c207" in text
    assert "... and 295 more cases" in text
    assert math.isclose(report.pass_rate, 297 / 300)


def test_fingerprint_ignores_message_ids_so_a_reused_model_replays_the_same():
    from myna.fakes import FunctionChatModel

    model = FunctionChatModel(lambda messages, info: f"seed {info.seed % 7}")
    dataset = Dataset([Case(f"q{i}", f"question {i}") for i in range(5)])
    first = evaluate(model, dataset, evaluators=[ev.contains("seed")], repeat=2)
    second = evaluate(model, dataset, evaluators=[ev.contains("seed")], repeat=2)
    ids = {run.output.id for case in first.cases for run in case.runs}
    assert len(ids) == 10  # every call got its own id, and the second run other ones
    assert first.fingerprint == second.fingerprint
