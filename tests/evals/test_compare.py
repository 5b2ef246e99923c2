"""compare(report, baseline): case-by-case changes, paired tests against noise, the ok gate."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Sequence

import pytest

from myna.evals import (
    Case,
    CaseResult,
    Comparison,
    Dataset,
    EvalResult,
    Report,
    RunResult,
    aevaluate,
    compare,
    evaluate,
)
from myna.evals import evaluators as ev
from myna.evals._stats import mcnemar_p
from myna.exceptions import UserError


def run(name: str, index: int, status: str, score: float | None = None) -> RunResult:
    """One run: ``pass``/``fail`` from an `equals`-like check, ``error`` from the target."""
    if status == "error":
        return RunResult(name, index, error="RuntimeError: boom")
    passed = status == "pass"
    reason = None if passed else "expected 'C', got 'c'"
    results = [EvalResult(passed, 1.0 if passed else 0.0, reason, name="equals")]
    if score is not None:
        results.append(EvalResult(passed=None, score=score, name="quality"))
    return RunResult(name, index, output=name.upper(), results=results)


def case(
    name: str, statuses: Sequence[str], *, score: float | None = None, min_pass_rate: float = 1.0
) -> CaseResult:
    return CaseResult(name, [run(name, i, s, score) for i, s in enumerate(statuses)], min_pass_rate)


def report(cases: Sequence[CaseResult], *, min_pass_rate: float = 1.0) -> Report:
    return Report(cases, name="shout", min_pass_rate=min_pass_rate)


def flipped(n: int, flips: int, *, repeats: int = 1, back: int = 0) -> tuple[Report, Report]:
    """(report, baseline) of `n` cases, all passing in the baseline but `flips` failing now;
    `back` more cases failing in the baseline pass now."""
    base, now = [], []
    for i in range(n):
        name = f"c{i}"
        before = "fail" if i >= n - back else "pass"
        after = "fail" if i < flips else "pass" if i >= n - back else before
        base.append(case(name, [before] * repeats))
        now.append(case(name, [after] * repeats))
    return report(now), report(base)


# -- noise or not --------------------------------------------------------------------------


def test_identical_reports_are_ok_and_unchanged():
    now, base = flipped(40, 0)
    comparison = compare(now, base)
    assert isinstance(comparison, Comparison)
    assert comparison.ok and comparison.reasons == []
    assert comparison.counts["unchanged"] == 40
    assert comparison.regressions == [] and comparison.improvements == []
    assert comparison.p_value == 1.0
    assert comparison.scores["equals"].delta == 0.0
    assert comparison.summary().startswith("shout vs baseline: OK · 40 cases matched")


def test_one_flip_in_forty_is_noise_but_listed():
    now, base = flipped(40, 1)
    comparison = compare(now, base)
    assert comparison.ok
    assert [c.name for c in comparison.regressions] == ["c0"]
    change = comparison.regressions[0]
    assert (change.kind, change.before, change.after) == ("regressed", "pass", "fail")
    assert change.describe() == (
        "c0: pass -> fail (1/1 -> 0/1 runs); equals 1.00 -> 0.00; "
        "repeat 0: equals: expected 'C', got 'c'"
    )
    assert (comparison.flips_down, comparison.flips_up, comparison.p_value) == (1, 0, 1.0)
    assert "regressed (1):\n  c0: pass -> fail" in comparison.summary()


def test_twelve_flips_in_forty_are_a_significant_regression():
    now, base = flipped(40, 12)
    comparison = compare(now, base)
    assert not comparison.ok and comparison.significant
    assert comparison.p_value == pytest.approx(2 / 2**12)
    assert len(comparison.regressions) == 12
    assert comparison.reasons[0] == (
        "12 cases stopped passing and 0 started (McNemar p=0.00049 < alpha 0.05)"
    )
    # the same drop in the equals score is flagged by the bootstrap and the sign test too
    assert comparison.scores["equals"].regressed
    assert "REGRESSED" in comparison.summary()


def test_flips_both_ways_are_noise():
    now, base = flipped(40, 12, back=10)
    comparison = compare(now, base)
    assert (comparison.flips_down, comparison.flips_up) == (12, 10)
    assert len(comparison.improvements) == 10
    assert comparison.ok, comparison.summary()


@pytest.mark.parametrize(("flips", "ok"), [(5, True), (6, False)], ids=["5-flips", "6-flips"])
def test_mcnemar_needs_six_one_way_flips_at_alpha_five_percent(flips, ok):
    now, base = flipped(1000, flips)
    assert compare(now, base).ok is ok


def test_alpha_is_configurable():
    now, base = flipped(40, 5)
    assert compare(now, base).ok
    loose = compare(now, base, alpha=0.1)
    assert not loose.ok and loose.alpha == 0.1
    assert compare(*flipped(40, 6), alpha=0.01).ok  # p = 0.031 is not below 0.01


def test_more_regressions_than_improvements_is_needed():
    # p < alpha but the flips go the good way: an improvement is never a regression
    now, base = flipped(40, 0, back=12)
    comparison = compare(now, base)
    assert comparison.p_value < 0.05 and comparison.ok
    assert len(comparison.improvements) == 12


# -- scores --------------------------------------------------------------------------------


def test_a_score_drop_on_every_case_is_a_regression_without_any_flip():
    base = report([case(f"c{i}", ["pass"], score=0.9) for i in range(40)])
    now = report([case(f"c{i}", ["pass"], score=0.7) for i in range(40)])
    comparison = compare(now, base)
    assert comparison.flips_down == 0 and comparison.regressions == []
    delta = comparison.scores["quality"]
    assert (delta.cases, delta.down, delta.up) == (40, 40, 0)
    assert delta.delta == pytest.approx(-0.2)
    assert delta.high == pytest.approx(-0.2) and delta.regressed
    assert not comparison.ok
    assert comparison.reasons == [
        "quality mean score fell 0.900 -> 0.700 (95% CI [-0.200, -0.200], 40 down, 0 up, p=1.8e-12)"
    ]
    assert not comparison.scores["equals"].regressed


def test_a_few_large_score_drops_do_not_gate_when_the_sign_test_disagrees():
    # 5 drops in 400 cases: the bootstrap interval lies below 0, but 5 of 5 one way is
    # p = 0.0625 for a fair coin, so the comparison stays ok
    base = report([case(f"c{i}", ["pass"], score=0.8) for i in range(400)])
    now = report([case(f"c{i}", ["pass"], score=0.5 if i < 5 else 0.8) for i in range(400)])
    comparison = compare(now, base)
    delta = comparison.scores["quality"]
    assert delta.high < 0, "the construction must put the bootstrap interval below 0"
    assert delta.p_value == pytest.approx(0.0625)
    assert not delta.regressed and comparison.ok


def test_score_improvement_is_reported_not_gated():
    base = report([case(f"c{i}", ["pass"], score=0.5) for i in range(30)])
    now = report([case(f"c{i}", ["pass"], score=0.8) for i in range(30)])
    comparison = compare(now, base)
    assert comparison.ok and comparison.scores["quality"].improved
    assert "improved" in comparison.scores["quality"].describe()


def test_bootstrap_is_seeded():
    base = report([case(f"c{i}", ["pass"], score=0.5) for i in range(50)])
    now = report([case(f"c{i}", ["pass"], score=(i % 7) / 7) for i in range(50)])
    first = compare(now, base).scores["quality"]
    assert compare(now, base).scores["quality"] == first
    other = compare(now, base, seed=1).scores["quality"]
    assert (other.low, other.high) != (first.low, first.high)
    assert other.delta == first.delta


# -- repeats and stable flips ----------------------------------------------------------------


def test_a_stable_pass_turned_stable_fail_is_not_ok_on_its_own():
    now, base = flipped(40, 1, repeats=3)
    comparison = compare(now, base)
    assert comparison.p_value == 1.0 and not comparison.significant
    assert [c.name for c in comparison.stable_flips] == ["c0"]
    assert not comparison.ok
    assert comparison.reasons == [
        "1 stable pass -> stable fail (c0; every run passed before and none now, >= 3 runs each)"
    ]
    assert (
        comparison.regressions[0]
        .describe()
        .startswith("c0: pass -> fail (3/3 -> 0/3 runs), stable flip")
    )


def test_two_repeats_are_too_few_for_a_stable_flip():
    now, base = flipped(40, 1, repeats=2)
    comparison = compare(now, base)
    assert comparison.stable_flips == [] and comparison.ok


def test_stable_flip_rule_is_configurable():
    now, base = flipped(40, 1, repeats=3)
    assert compare(now, base, stable_repeats=None).ok
    assert compare(now, base, stable_repeats=4).ok
    assert not compare(*flipped(40, 1, repeats=2), stable_repeats=2).ok


def test_a_stable_pass_that_errors_every_run_is_a_stable_flip():
    base = report([case(f"c{i}", ["pass"] * 3) for i in range(10)])
    now = report([case("c0", ["error"] * 3), *(case(f"c{i}", ["pass"] * 3) for i in range(1, 10))])
    comparison = compare(now, base)
    change = comparison.regressions[0]
    assert (change.kind, change.after, change.stable_flip) == ("regressed", "error", True)
    assert change.why == "repeat 0: target: RuntimeError: boom"
    assert not comparison.ok


def test_pass_to_flaky_is_flipped_to_flaky_and_counts_as_a_regression():
    base = report([case("a", ["pass"] * 5), case("b", ["pass"] * 5)], min_pass_rate=0.8)
    now_cases = [
        case("a", ["pass", "fail", "pass", "fail", "pass"], min_pass_rate=0.8),
        case("b", ["pass", "pass", "pass", "pass", "fail"], min_pass_rate=0.8),
    ]
    comparison = compare(report(now_cases, min_pass_rate=0.8), base)
    a, b = comparison.cases
    assert (a.kind, a.before, a.after, a.after_runs) == ("flaky", "pass", "flaky", (3, 5))
    assert comparison.flaky == [a]
    # b still passes (4 of 5 needed) but its pass rate dropped: listed, not a McNemar flip
    assert (b.kind, b.before, b.after) == ("regressed", "pass", "pass")
    assert comparison.regressions == [a, b]
    assert (comparison.flips_down, comparison.flips_up) == (1, 0)
    assert comparison.ok


def test_repeat_counts_that_differ_are_noted():
    base = report([case("a", ["pass"])])
    now = report([case("a", ["pass"] * 3)])
    comparison = compare(now, base)
    assert comparison.notes == [
        "1 matched cases ran a different number of repeats than in the baseline; their pass "
        "rates and statuses are compared as they are, so rerun both with the same repeat for "
        "a like-for-like comparison"
    ]


# -- new and removed ---------------------------------------------------------------------------


def test_new_and_removed_cases_are_listed_and_do_not_gate():
    base = report([case("kept", ["pass"]), case("gone", ["pass"])])
    now = report([case("fresh", ["fail"]), case("kept", ["pass"])])
    comparison = compare(now, base)
    assert [(c.name, c.kind) for c in comparison.cases] == [
        ("fresh", "new"),
        ("kept", "unchanged"),
        ("gone", "removed"),
    ]
    assert comparison.ok
    assert comparison.new[0].describe() == (
        "fresh: new, fail (0/1 runs); repeat 0: equals: expected 'C', got 'c'"
    )
    assert comparison.removed[0].describe() == "gone: removed, was pass (1/1 runs)"
    assert comparison.scores["equals"].cases == 1  # only the pair counts
    assert "1 new, 1 removed" in comparison.headline()
    data = comparison.to_dict()
    assert data["counts"] == {
        "regressed": 0,
        "flaky": 0,
        "improved": 0,
        "new": 1,
        "removed": 1,
        "unchanged": 1,
    }
    assert data["cases"][0] == {
        "name": "fresh",
        "kind": "new",
        "after": {"status": "fail", "runs": [0, 1]},
        "scores": {"equals": [None, 0.0]},
        "why": "repeat 0: equals: expected 'C', got 'c'",
    }


# -- inputs, outputs ---------------------------------------------------------------------------


def test_reports_load_from_paths(tmp_path):
    now, base = flipped(40, 12)
    now_path = now.to_json(tmp_path / "now.json")
    base_path = base.to_json(tmp_path / "base.json")
    from_paths = compare(str(now_path), base_path)
    assert not from_paths.ok
    expected = compare(now, base).to_dict()
    assert from_paths.to_dict() == expected
    assert json.loads(json.dumps(expected)) == expected


def test_a_missing_path_or_a_wrong_type_is_a_user_error(tmp_path):
    now, _ = flipped(3, 0)
    with pytest.raises(UserError, match=r"No eval report at .*missing\.json"):
        compare(now, tmp_path / "missing.json")
    with pytest.raises(UserError) as caught:
        compare({"cases": []}, now)
    assert str(caught.value) == (
        "compare(): the report must be a Report or the path of a JSON report "
        "(report.to_json(path)); got dict."
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alpha": 0}, "compare(): alpha=0 must be a probability in (0, 1), e.g. 0.05."),
        ({"alpha": 1.5}, "compare(): alpha=1.5 must be a probability in (0, 1), e.g. 0.05."),
        ({"stable_repeats": 0}, "compare(): stable_repeats=0 must be a whole number >= 1"),
        ({"resamples": 10}, "compare(): resamples=10 must be a whole number >= 100."),
    ],
    ids=["alpha-0", "alpha-1.5", "stable-0", "resamples-10"],
)
def test_bad_arguments_are_named(kwargs, message):
    now, base = flipped(3, 0)
    with pytest.raises(UserError) as caught:
        compare(now, base, **kwargs)
    assert str(caught.value).startswith(message)


def test_print_shows_the_changed_cases_and_the_verdict():
    now, base = flipped(40, 12)
    out = io.StringIO()
    compare(now, base).print(file=out, top=5)
    text = out.getvalue()
    assert "shout vs baseline" in text
    assert "c0" in text and "c4" in text and "c5" not in text.split("scores")[0]
    assert "... and 7 more changed cases" in text
    assert "not ok: 12 cases stopped passing" in text
    flat = " ".join(text.split())  # the terminal width wraps long lines
    assert "shout vs baseline: REGRESSED · 40 cases matched: 12 regressed" in flat


def test_print_of_an_ok_comparison_has_no_case_table():
    now, base = flipped(10, 0)
    out = io.StringIO()
    compare(now, base).print(file=out)
    assert "case" not in out.getvalue().split("scores")[0]
    assert "shout vs baseline: OK" in out.getvalue()


# -- end to end: evaluate / aevaluate, streamed reports ---------------------------------------


def shout_dataset(n: int) -> Dataset:
    cases = [Case(f"c{i}", f"hello {i}", expected=f"HELLO {i}") for i in range(n)]
    return Dataset(cases, evaluators=[ev.equals()], name="shout")


def broken_upper(text: str) -> str:
    index = int(text.split()[1])
    return text if index < 12 else text.upper()


async def abroken_upper(text: str) -> str:
    await asyncio.sleep(0)
    return broken_upper(text)


@pytest.mark.parametrize("target", [broken_upper, abroken_upper], ids=["sync", "async"])
def test_compare_runs_of_evaluate(target):
    dataset = shout_dataset(40)
    baseline = evaluate(str.upper, dataset)
    comparison = compare(evaluate(target, dataset), baseline)
    assert not comparison.ok
    assert [c.name for c in comparison.regressions] == [f"c{i}" for i in range(12)]
    assert comparison.regressions[0].why == "repeat 0: equals: expected 'HELLO 0', got 'hello 0'"


async def test_compare_a_streamed_aevaluate_report_with_a_saved_baseline(tmp_path):
    dataset = shout_dataset(40)
    baseline = (await aevaluate(str.upper, dataset)).to_json(tmp_path / "baseline.json")
    streamed = await aevaluate(
        abroken_upper, dataset, repeat=3, results_path=tmp_path / "runs.jsonl"
    )
    comparison = compare(streamed, baseline)
    assert comparison.significant and not comparison.ok
    assert comparison.p_value == mcnemar_p(12, 0)
    assert comparison.stable_flips == []  # the baseline ran each case once
    assert comparison.notes[0].startswith("40 matched cases ran a different number of repeats")
