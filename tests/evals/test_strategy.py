"""Property-based datasets: draws from hypothesis strategies, reproducible for a seed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myna.evals import Dataset, aevaluate, evaluate
from myna.evals import evaluators as ev
from myna.evals._strategy import draw_values
from myna.exceptions import UserError

SRC = Path(__file__).parents[2] / "src"

_DRAW_SCRIPT = """
import json, sys
from hypothesis import strategies as st
from myna.evals._strategy import draw_values
strategies = [
    st.text(),
    st.integers(),
    st.dictionaries(st.text(max_size=5), st.lists(st.floats(allow_nan=False), max_size=3)),
    st.fixed_dictionaries({"city": st.sampled_from(["Paris", "Oslo", "Lima"]), "days": st.integers(1, 9)}),
]
print(json.dumps([draw_values(s, 25, int(sys.argv[1])) for s in strategies]))
"""


def _draw_in_a_new_process(
    seed: int, hash_seed: str, script: str = _DRAW_SCRIPT, path: str = ""
) -> Any:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": f"{SRC}{os.pathsep}{path}"}
    env.pop("CI", None)
    done = subprocess.run(
        [sys.executable, "-c", script, str(seed)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)


def test_the_same_seed_gives_the_same_values_in_other_processes() -> None:
    first = _draw_in_a_new_process(7, "1")
    second = _draw_in_a_new_process(7, "4242")
    assert first == second
    assert all(len(values) == 25 for values in first)
    # and in this process, whatever hypothesis profile the test suite loaded
    here = draw_values(st.integers(), 25, 7)
    assert here == first[1]
    assert _draw_in_a_new_process(8, "1") != first


def test_the_values_do_not_depend_on_the_callers_imported_code(tmp_path: Path) -> None:
    # hypothesis mixes in constants from the source of the caller's own modules; two
    # programs (pytest, `myna eval run`) import different ones and must get the same cases
    lines = [f"VALUE_{i} = {i * 7919 + 12345}" for i in range(300)]
    lines += [f"TEXT_{i} = 'weather-app-constant-{i}'" for i in range(300)]
    (tmp_path / "weather_app_constants.py").write_text("\n".join(lines) + "\n")
    script = """
import json, sys
from hypothesis import strategies as st
{extra}
from myna.evals._strategy import draw_values
print(json.dumps([draw_values(st.integers(), 300, 3), draw_values(st.text(), 300, 3)]))
"""
    plain = _draw_in_a_new_process(3, "0", script.format(extra=""), str(tmp_path))
    with_app = _draw_in_a_new_process(
        3, "0", script.format(extra="import weather_app_constants"), str(tmp_path)
    )
    assert plain == with_app
    assert not {v for v in with_app[0]} & {i * 7919 + 12345 for i in range(300)}


def test_values_are_reproducible_and_seed_dependent() -> None:
    strategy = st.lists(st.integers(0, 100), max_size=4)
    assert draw_values(strategy, 30, 3) == draw_values(strategy, 30, 3)
    assert draw_values(strategy, 30, 3) != draw_values(strategy, 30, 4)


def test_values_are_distinct_when_the_strategy_has_enough() -> None:
    values = draw_values(st.integers(0, 1000), 200, 0)
    assert len(values) == 200
    assert len(set(values)) == 200
    small = draw_values(st.integers(0, 9), 10, 0)
    assert sorted(small) == list(range(10))


def test_a_small_strategy_repeats_its_values_in_order() -> None:
    values = draw_values(st.booleans(), 5, 0)
    assert len(values) == 5
    assert set(values) == {False, True}
    assert values[2:] == [values[0], values[1], values[0]]


def test_the_first_values_are_the_simplest() -> None:
    assert draw_values(st.text(), 3, 11)[0] == ""
    assert draw_values(st.lists(st.integers()), 3, 11)[0] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((st.text(), 0, 0), "n=0 must be a whole number >= 1"),
        ((st.text(), True, 0), "n=True must be a whole number >= 1"),
        ((st.text(), 3, "x"), "seed='x' must be a whole number"),
        (("abc", 3, 0), "needs a hypothesis strategy, got str"),
        ((st.nothing(), 3, 0), "gave no values: Cannot generate test cases from empty strategy"),
        ((st.integers().filter(lambda x: False), 3, 0), "gave no values: Unable to satisfy"),
    ],
)
def test_bad_arguments(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(UserError) as exc:
        draw_values(*args)
    assert message in str(exc.value)


def test_without_hypothesis_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "hypothesis", None)
    with pytest.raises(UserError) as exc:
        Dataset.from_strategy(object(), n=3)
    assert str(exc.value) == (
        "Dataset.from_strategy needs hypothesis: pip install 'myna[hypothesis]'."
    )


@settings(max_examples=1)
@given(st.integers())
def test_inside_a_hypothesis_test_the_error_says_where_to_build_it(_: int) -> None:
    with pytest.raises(UserError, match="cannot run inside a hypothesis test"):
        draw_values(st.text(), 3, 0)


def test_an_exception_in_the_strategy_propagates() -> None:
    def boom(value: int) -> int:
        raise ValueError(f"cannot build from {value}")

    with pytest.raises(ValueError, match="cannot build from"):
        draw_values(st.builds(boom, st.integers()), 3, 0)


# --------------------------------------------------------------- Dataset.from_strategy


def _buggy_shout(text: str) -> str:
    """Upper-cases ASCII only: the bug a property-based eval should find."""
    return text.upper() if text.isascii() else text


async def _buggy_shout_async(text: str) -> str:
    return _buggy_shout(text)


def test_from_strategy_names_cases_and_records_the_draw() -> None:
    dataset = Dataset.from_strategy(st.integers(0, 50), n=4, seed=9, name="ints", expected=abs)
    assert [case.name for case in dataset] == ["ints-0", "ints-1", "ints-2", "ints-3"]
    assert [case.inputs for case in dataset] == draw_values(st.integers(0, 50), 4, 9)
    assert all(case.expected == abs(case.inputs) for case in dataset)
    assert [case.metadata for case in dataset] == [{"seed": 9, "draw": i} for i in range(4)]
    assert dataset.name == "ints"
    assert [c.name for c in Dataset.from_strategy(st.integers(), n=2)] == ["case-0", "case-1"]


@pytest.mark.parametrize("target", [_buggy_shout, _buggy_shout_async], ids=["sync", "async"])
def test_an_eval_over_drawn_cases_reports_the_failing_case_names(target: Any) -> None:
    dataset = Dataset.from_strategy(
        st.text(max_size=8), n=60, seed=5, expected=str.upper, evaluators=[ev.equals(strip=False)]
    )
    report = evaluate(target, dataset)
    should_fail = {
        c.name for c in dataset if not c.inputs.isascii() and c.inputs.upper() != c.inputs
    }
    assert should_fail, "the draws should include text whose upper case differs outside ASCII"
    failed = {case.name for case in report.cases if case.status == "fail"}
    assert failed == should_fail
    assert not report.passed
    summary = report.summary(top=100)
    for name in should_fail:
        assert f"{name}: fail" in summary


async def test_aevaluate_over_drawn_cases() -> None:
    dataset = Dataset.from_strategy(
        st.text(alphabet="abc", max_size=5), n=20, seed=1, expected=str.upper
    )
    report = await aevaluate(_buggy_shout_async, dataset, evaluators=[ev.equals()])
    assert report.passed and report.total == 20


def test_saving_freezes_the_draws(tmp_path: Path) -> None:
    dataset = Dataset.from_strategy(
        st.fixed_dictionaries({"city": st.text(min_size=1), "days": st.integers(1, 7)}),
        n=15,
        seed=2,
        name="weather-props",
    )
    back = Dataset.load(dataset.save(tmp_path / "props.yaml"))
    assert [(c.name, c.inputs, c.metadata) for c in back] == [
        (c.name, c.inputs, c.metadata) for c in dataset
    ]
