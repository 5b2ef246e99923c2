"""Evals as pytest tests (`myna.evals.cases`), run through pytester as users run them: one test
per case, failure messages, the "myna evals" terminal section, xdist, report files, baselines."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from myna.evals import Report, evaluate

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _inner_defaults(inner_pytest_defaults: None) -> None:
    """Every test here gets the inner-run defaults of tests/conftest.py."""


# A seeded coin: each run of a case gets its own seed (the case name and the repeat index),
# so which repeats come up "right" is the same in every run, serial or split over workers.
# steady: 3/3, nickel: 2/3 (passes at 2/3), coin-2: 1/3 (flaky), dime: 0/3 (fail).
COINS = """
import random
from myna.evals import Case, Dataset, cases, evaluators as ev
from myna.fakes import FunctionChatModel

coin = FunctionChatModel(
    lambda messages, info: "right" if random.Random(info.seed).random() < 0.5 else "wrong"
)
dataset = Dataset(
    [
        Case("steady", "same", expected="same", metadata={"kind": "echo"}),
        Case("nickel", "toss", expected="right"),
        Case("coin-2", "toss", expected="right"),
        Case("dime", "toss", expected="right"),
    ],
    evaluators=[ev.equals()],
    name="coins",
)

def target(question):
    return question if question == "same" else coin.invoke(question).text

@cases(dataset, repeat=3, min_pass_rate=2 / 3)
def test_coins(case):
    case.check(target)
"""


def _load_module(path: Path) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "coins_module"}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return namespace


# -- one test per case, failure messages ------------------------------------------------------


def test_one_test_per_case_named_by_the_case(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_coins=COINS)
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(
        [
            "test_coins.py::test_coins[[]steady] PASSED*",
            "test_coins.py::test_coins[[]nickel] PASSED*",
            "test_coins.py::test_coins[[]coin-2] FAILED*",
            "test_coins.py::test_coins[[]dime] FAILED*",
        ]
    )


def test_a_flaky_case_fails_with_the_repeats_that_failed_and_why(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_coins=COINS)
    result = pytester.runpytest("-k", "coin-2 or dime")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*___ test_coins[[]coin-2] ___*",
            ">       case.check(target)",
            "E       AssertionError: coin-2: flaky (1/3 runs passed, 2 needed)",
            "E         repeat 0: equals: expected 'right', got 'wrong'",
            "E         repeat 1: equals: expected 'right', got 'wrong'",
            "",
            "test_coins.py:*: AssertionError",
            "*___ test_coins[[]dime] ___*",
            "*",
            "E       AssertionError: dime: fail (0/3 runs passed, 2 needed)",
            "E         repeat 0: *",
            "E         repeat 1: *",
            "E         repeat 2: *",
        ]
    )
    # the traceback stops at the test's line: check's own frames are hidden
    assert "_pytest.py" not in result.stdout.str()


def test_an_erroring_target_fails_showing_the_exception(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from myna.evals import Case, cases

        def lookup(city):
            raise KeyError(f"no forecast for {city}")

        @cases([Case("paris", {"city": "Paris"})], repeat=2)
        def test_lookup(case):
            case.check(lookup)
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E       AssertionError: paris: error (0/2 runs passed, 2 needed)",
            "E         repeat 0: target: KeyError: 'no forecast for Paris' (at *.py:4 in lookup)",
            "E         repeat 1: target: KeyError: 'no forecast for Paris' (at *.py:4 in lookup)",
        ]
    )


WEATHER_YAML = """\
name: weather
evaluators:
  - contains: {ignore_case: true}
cases:
  - name: paris
    inputs: {city: Paris}
    expected: sunny
  - name: oslo
    inputs: {city: Oslo}
    expected: snow
    repeat: 2
"""


def test_a_dataset_file_beside_the_test_module(pytester: pytest.Pytester) -> None:
    (pytester.path / "tests" / "evals").mkdir(parents=True)
    (pytester.path / "tests" / "evals" / "weather.yaml").write_text(WEATHER_YAML)
    (pytester.path / "tests" / "test_weather.py").write_text(
        "from myna.evals import cases\n\n"
        "FORECAST = {'Paris': 'Sunny all day', 'Oslo': 'Rain'}\n\n"
        "@cases('evals/weather.yaml', repeat=3)\n"
        "def test_weather(case):\n"
        "    case.check(lambda city: FORECAST[city])\n"
    )
    result = pytester.runpytest("-v")  # run from the rootdir: the path is the module's
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "tests/test_weather.py::test_weather[[]paris] PASSED*",
            "tests/test_weather.py::test_weather[[]oslo] FAILED*",
            "E       AssertionError: oslo: fail (0/2 runs passed, 2 needed)",
            "E         repeat 0: contains: missing ['snow'] in 'Rain'",
            "weather: FAILED · 1/2 cases passed (50.0%, 100% required) · 1 fail · 5 runs*",
        ]
    )
    # a path relative to the current directory works too, and a bad file fails collection
    (pytester.path / "tests" / "test_weather.py").write_text(
        "from myna.evals import cases\n\n"
        "@cases('tests/evals/weather.yaml')\n"
        "def test_weather(case):\n"
        "    case.check(lambda city: 'sunny or snow')\n"
    )
    pytester.runpytest().assert_outcomes(passed=2)
    (pytester.path / "tests" / "evals" / "weather.yaml").write_text(
        WEATHER_YAML.replace("repeat: 2", "repeat: many")
    )
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["E   myna.exceptions.UserError: *weather.yaml:*repeat*"])


def test_the_case_argument_and_the_returned_result(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from myna.evals import Case, CaseResult, Dataset, EvalCase, cases, evaluators as ev

        dataset = Dataset(
            [Case("hi", {"text": "hi"}, expected="HI", metadata={"lang": "en"})],
            evaluators=[ev.equals()],
            name="shout",
        )

        def shout(text):
            return text.upper()

        @cases(dataset, repeat=2)
        def test_shout(case: EvalCase):
            assert isinstance(case, EvalCase)
            assert repr(case) == "EvalCase('hi' of 'shout')"
            assert (case.name, case.inputs, case.expected) == ("hi", {"text": "hi"}, "HI")
            assert case.metadata == {"lang": "en"} and case.case is dataset["hi"]
            result = case.check(shout)
            assert isinstance(result, CaseResult)
            assert (result.status, result.passes, result.repeats) == ("pass", 2, 2)
            assert [r.name for r in result.runs[0].results] == ["equals"]
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_every_layer_of_evaluators_applies(pytester: pytest.Pytester) -> None:
    # the dataset's, the case's, the decorator's and check's own, in that order
    pytester.makepyfile(
        """
        from myna.evals import Case, Dataset, cases, evaluators as ev

        dataset = Dataset(
            [Case("a", "x", expected="x!", evaluators=[ev.contains("?")])],
            evaluators=[ev.equals()],
        )

        @cases(dataset, evaluators=[ev.regex("^y")])
        def test_layers(case):
            case.check(lambda text: text + "!", evaluators=[ev.max_latency(10)])
        """
    )
    result = pytester.runpytest("-p", "no:myna")  # and check works without the plugin
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    assert "E       AssertionError: a: fail (0/1 runs passed)" in text
    reasons = [line.split(": ")[1] for line in result.stdout.lines if "repeat 0:" in line]
    assert reasons == ["regex('^y')", "contains('?')"]  # equals and max_latency passed
    assert "myna evals" not in text


# -- async tests ----------------------------------------------------------------------------


def test_async_tests_await_acheck_or_call_check(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio, contextvars
        from myna.evals import Case, Dataset, cases, evaluators as ev

        dataset = Dataset([Case("a", "x", expected="X"), Case("b", "y", expected="Y")],
                          evaluators=[ev.equals()], name="upper")
        suffix = contextvars.ContextVar("suffix", default="")

        async def shout(text):
            await asyncio.sleep(0)
            return text.upper() + suffix.get()

        def shout_sync(text):
            return text.upper() + suffix.get()

        @cases(dataset, repeat=2)
        async def test_acheck(case):
            result = await case.acheck(shout)
            assert result.passes == 2

        @cases(dataset, name="upper-sync")
        async def test_sync_check_in_async_test(case):
            suffix.set("?")  # the target sees the test's context
            case.check(shout_sync)
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(
        [
            "E       AssertionError: a: fail (0/1 runs passed)",
            "E         repeat 0: equals: expected 'X', got 'X?'",
        ]
    )
    result.stdout.fnmatch_lines(
        ["upper: PASSED · 2/2 cases passed*4 runs*", "upper-sync: FAILED · 0/2 cases passed*"]
    )


# -- the terminal section ---------------------------------------------------------------------


def test_terminal_section_without_s(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_coins=COINS)
    result = pytester.runpytest()  # output captured, as in any run without -s
    result.stdout.fnmatch_lines(
        [
            "*= myna evals =*",
            "coins: FAILED · 2/4 cases passed (50.0%, 67% required) · 1 fail, 1 flaky · 12 runs"
            " · target * tokens $0 · fingerprint *",
            "  dime: fail (0/3 runs passed, 2 needed)",
            "    repeat 0: equals: expected 'right', got 'wrong'",
            "    repeat 1: equals: expected 'right', got 'wrong'",
            "    repeat 2: equals: expected 'right', got 'wrong'",
            "  coin-2: flaky (1/3 runs passed, 2 needed)",
            "    repeat 0: equals: *",
            "    repeat 1: equals: *",
            "*= myna =*",
        ]
    )
    section = result.stdout.str().split("myna evals")[1].split("= myna =")[0]
    assert "steady" not in section and "nickel" not in section  # passing cases stay quiet


def test_long_failures_are_cut_in_the_section(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from myna.evals import Case, cases, evaluators as ev

        @cases([Case(f"c{i:02}", i, expected=-1) for i in range(14)], evaluators=[ev.equals()],
               repeat=5, name="many")
        def test_many(case):
            case.check(lambda n: n)
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=14)
    result.stdout.fnmatch_lines(
        [
            "many: FAILED · 0/14 cases passed*",
            "  c00: fail (0/5 runs passed, 5 needed)",
            "    repeat 0: *",
            "    repeat 1: *",
            "    repeat 2: *",
            "    ... and 2 more",
            "  c01: fail*",
        ]
    )
    result.stdout.fnmatch_lines(["  c09: fail*", "*", "*", "*", "*", "  ... and 4 more cases*"])
    assert "c10: fail" not in result.stdout.str().split("= myna evals =")[1]


def test_no_section_without_evals(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_ok(): pass")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert "myna evals" not in result.stdout.str()


# -- xdist --------------------------------------------------------------------------------------


def _without_timings(data: dict[str, Any]) -> dict[str, Any]:
    data = json.loads(json.dumps(data))
    data["summary"].pop("latency")
    data["summary"].pop("wall_time")
    for case in data["cases"]:
        case.pop("latency")
        for run in case["runs"]:
            run.pop("latency")
    return data


def test_xdist_gives_the_same_report_as_a_serial_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_coins=COINS)
    serial = pytester.runpytest("--myna-eval-report=serial")
    serial.assert_outcomes(passed=2, failed=2)
    split = pytester.runpytest_subprocess("-p", "xdist", "-n", "2", "--myna-eval-report=split")
    split.assert_outcomes(passed=2, failed=2)
    one = json.loads((pytester.path / "serial" / "coins.json").read_text())
    two = json.loads((pytester.path / "split" / "coins.json").read_text())
    assert one["summary"]["counts"] == {"pass": 2, "flaky": 1, "fail": 1, "error": 0}
    assert one["fingerprint"] == two["fingerprint"]
    assert _without_timings(one) == _without_timings(two)
    headline = [line for line in serial.stdout.lines if line.startswith("coins: ")]
    assert headline and headline[0].split(" · target")[0] in split.stdout.str()
    # and the same fingerprint as evaluate() over the whole dataset in one call
    module = _load_module(pytester.path / "test_coins.py")
    direct = evaluate(module["target"], module["dataset"], repeat=3, min_pass_rate=2 / 3)
    assert direct.fingerprint == one["fingerprint"]


# -- report files and baselines -----------------------------------------------------------------


def test_report_files(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_coins=COINS)
    result = pytester.runpytest("--myna-eval-report=out/evals")
    result.stdout.fnmatch_lines(["eval reports written to *evals: coins (.json .html .junit.xml)"])
    out = pytester.path / "out" / "evals"
    report = Report.load(out / "coins.json")
    assert report.counts == {"pass": 2, "flaky": 1, "fail": 1, "error": 0}
    assert [case.name for case in report.cases] == ["steady", "nickel", "coin-2", "dime"]
    assert report.case("steady").metadata == {"kind": "echo"}
    assert report.case("nickel").passes == 2 and report.runs == 12
    assert report.settings["repeat"] == 3 and report.settings["dataset"] == "coins"
    suite = ET.parse(out / "coins.junit.xml").getroot()
    assert [c.get("name") for c in suite.iter("testcase")] == ["steady", "nickel", "coin-2", "dime"]
    assert suite.get("failures") == "2" and suite.get("errors") == "0"
    html = (out / "coins.html").read_text()
    assert "coin-2" in html and report.fingerprint in html


QUALITY = """
import os
from myna.evals import Case, Dataset, cases

def quality(ctx):
    return float(ctx.output)  # a score; 0.5 or more passes

dataset = Dataset([Case(f"q{i}", i) for i in range(8)], evaluators=[quality], name="quality")

@cases(dataset)
def test_quality(case):
    case.check(lambda i: os.environ.get("QUALITY", "1.0"))
"""


def test_a_baseline_regression_fails_the_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_quality=QUALITY)
    pytester.runpytest("--myna-eval-report=base").assert_outcomes(passed=8)
    baseline = pytester.path / "base" / "quality.json"

    same = pytester.runpytest(f"--myna-eval-baseline={baseline}")
    same.assert_outcomes(passed=8)
    assert same.ret == pytest.ExitCode.OK
    same.stdout.fnmatch_lines(
        ["compared with baseline *quality.json:", "quality vs baseline: OK · 8 cases matched*"]
    )
    assert "significant regression" not in same.stdout.str()

    # every case still passes (score 0.6 >= 0.5) but every score dropped: a regression
    monkeypatch.setenv("QUALITY", "0.6")
    worse = pytester.runpytest(f"--myna-eval-baseline={baseline}")
    worse.assert_outcomes(passed=8)
    assert worse.ret == pytest.ExitCode.TESTS_FAILED
    worse.stdout.fnmatch_lines(
        [
            "*= myna evals =*",
            "quality: PASSED*",
            "compared with baseline *quality.json:",
            "quality vs baseline: REGRESSED*",
            "*",
            "quality: significant regression against the baseline: the run fails",
        ]
    )
    # a --myna-eval-report directory is a baseline too (each report against its own file)
    folder = pytester.runpytest("--myna-eval-baseline=base")
    assert folder.ret == pytest.ExitCode.TESTS_FAILED
    folder.stdout.fnmatch_lines(
        ["compared with baseline *base:", "quality: significant regression against the *"]
    )


def test_a_baseline_of_another_dataset_is_not_compared(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_quality=QUALITY)
    pytester.runpytest("--myna-eval-report=base").assert_outcomes(passed=8)
    pytester.makepyfile(test_quality=QUALITY.replace('name="quality"', 'name="other"'))
    pytester.makepyfile(test_coins=COINS.replace('name="coins"', 'name="more"'))
    result = pytester.runpytest("--myna-eval-baseline=base/quality.json")
    result.stdout.fnmatch_lines(
        ["baseline *quality.json is report 'quality'; this run has 'more', 'other': not compared"]
    )
    result = pytester.runpytest("--myna-eval-baseline=base")
    result.stdout.fnmatch_lines(["more: no baseline at *more.json", "other: no baseline at *"])


def test_report_and_baseline_options_when_no_eval_runs(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_quality=QUALITY)
    pytester.runpytest("--myna-eval-report=base").assert_outcomes(passed=8)
    pytester.makepyfile(test_quality="def test_plain(): pass")
    result = pytester.runpytest("--myna-eval-report=out", "--myna-eval-baseline=base")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        ["*= myna evals =*", "no eval case ran: no eval report written or compared"]
    )
    assert not (pytester.path / "out").exists()


def test_bad_options_are_usage_errors(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_quality=QUALITY)
    result = pytester.runpytest("--myna-eval-repeat=0")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--myna-eval-repeat=0 must be a whole number >= 1*"])
    result = pytester.runpytest("--myna-eval-baseline=nowhere.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--myna-eval-baseline: no file or directory at *nowhere.json; write one with*"]
    )
    (pytester.path / "junk.json").write_text('{"cases": []}')
    result = pytester.runpytest("--myna-eval-baseline=junk.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--myna-eval-baseline: *junk.json is not a myna eval report*"])


# -- options, names, variants -------------------------------------------------------------------


def test_eval_repeat_option_overrides_every_repeat(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_coins=COINS.replace('"same", expected="same"', '"same", expected="same", repeat=4')
    )
    result = pytester.runpytest("--myna-eval-repeat=5", "--myna-eval-report=out")
    report = Report.load(pytester.path / "out" / "coins.json")
    assert [case.repeats for case in report.cases] == [5, 5, 5, 5]
    assert report.runs == 20
    result.stdout.fnmatch_lines(["coins: * · 20 runs · *"])
    # the ini key does the same
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
        "addopts = -p no:benchmark -p no:randomly\nmyna_eval_repeat = 2\n"
    )
    pytester.runpytest().stdout.fnmatch_lines(["coins: * · 8 runs · *"])


def test_parametrized_eval_tests_get_a_report_per_variant(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from myna.evals import Case, Dataset, cases, evaluators as ev

        dataset = Dataset([Case("a", "x", expected="X"), Case("b", "Y", expected="Y")],
                          evaluators=[ev.equals()], name="shout")

        @pytest.mark.parametrize("style", ["upper", "same"])
        @cases(dataset)
        def test_style(case, style):
            case.check(str.upper if style == "upper" else str)

        @cases(dataset)
        def test_other(case):
            case.check(str.lower)
        """
    )
    result = pytester.runpytest("--myna-eval-report=out")
    result.assert_outcomes(passed=3, failed=3)
    result.stdout.fnmatch_lines(
        [
            "shout::test_other: FAILED · 0/2 cases passed*",
            "*",
            "*",
            "*",
            "*",
            "shout::test_style[[]style=same]: FAILED · 1/2 cases passed*",
            "*",
            "*",
            "shout::test_style[[]style=upper]: PASSED · 2/2 cases passed*",
        ]
    )
    files = sorted(p.name for p in (pytester.path / "out").glob("*.json"))
    assert files == [
        "shout_test_other.json",
        "shout_test_style_style=same.json",
        "shout_test_style_style=upper.json",
    ]


def test_check_name_option_sets_the_report(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from myna.evals import Case, cases

        @cases([Case("a", 1, expected=1)], name="first")
        def test_named(case):
            case.check(lambda n: n, evaluators=[lambda ctx: ctx.output == ctx.expected])
            case.check(lambda n: n + 1, name="second", evaluators=[lambda ctx: True])
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["first: PASSED · 1/1*", "second: PASSED · 1/1*"])


def test_select_evals_with_the_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_coins=COINS + "\ndef test_plain():\n    pass\n")
    pytester.runpytest("-m", "myna_eval").assert_outcomes(passed=2, failed=2, deselected=1)
    skipped = pytester.runpytest("-m", "not myna_eval", "--strict-markers")
    skipped.assert_outcomes(passed=1, deselected=4)
    assert "myna evals" not in skipped.stdout.str()


# -- the plugin's fixtures inside eval tests -----------------------------------------------------


FIXTURES = """
import pytest
from myna import init_chat_model
from myna.evals import Case, Dataset, cases, evaluators as ev

dataset = Dataset(
    [Case("paris", "Weather in Paris?", expected="sun"), Case("oslo", "And Oslo?", expected="snow")],
    evaluators=[ev.contains()],
    name="weather",
)

@cases(dataset, repeat=2)
def test_fake_model(case, fake_model, model_calls):
    model = fake_model([case.expected, "no idea"])
    case.check(lambda question: model.invoke(question).text, name="fake", min_pass_rate=0.5)
    assert model_calls.count == 2

@cases(dataset, repeat=2)
def test_emulator(case, emulator):
    emulator("openai", script=[case.expected] * 2)
    model = init_chat_model("openai:gpt-4.1-mini", api_key="k")
    result = case.check(lambda question: model.invoke(question).text, name="emulated")
    assert result.usage["total_tokens"] > 0

@pytest.mark.myna_model("openai:gpt-4.1-mini")
@pytest.mark.myna_script(["sun and snow"] * 2)
@cases(dataset, repeat=2)
async def test_chat_model(case, chat_model):
    async def ask(question):
        return (await chat_model.ainvoke(question)).text
    await case.acheck(ask, name="chat")
"""


def test_fixtures_inside_eval_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_fixtures=FIXTURES)
    result = pytester.runpytest()
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(
        [
            "chat: PASSED · 2/2 cases passed*4 runs*",
            "emulated: PASSED · 2/2 cases passed*4 runs · target * tokens*",
            "fake: PASSED · 2/2 cases passed (100.0%, 50% required) · 4 runs*",
            "*= myna =*",
            "model calls: 12 in 6 tests*",
        ]
    )


CASSETTES = """
import pytest
from myna import init_chat_model
from myna.evals import Case, Dataset, cases, evaluators as ev

dataset = Dataset([Case("paris", "Weather in Paris?", expected="Sunny")],
                  evaluators=[ev.contains()], name="replayed")

@pytest.mark.myna_cassette
@pytest.mark.myna_model("openai:gpt-4.1-mini")
@pytest.mark.myna_script(["Sunny.", "Sunny again."])
@cases(dataset, repeat=2)
def test_chat_model(case, chat_model):
    case.check(lambda question: chat_model.invoke(question).text)

@cases(dataset, repeat=2, name="plain")
def test_cassette(case, cassette, emulator):
    if not cassette.interactions:  # recording: the emulator plays the provider
        emulator("anthropic", script=["Sunny.", "Sunny again."])
    model = init_chat_model("anthropic:claude-haiku-4-5", api_key="k")
    case.check(lambda question: model.invoke(question).text)
"""


def test_cassettes_recorded_once_then_replayed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_replayed=CASSETTES)
    first = pytester.runpytest("--myna-record-mode=once", "--myna-eval-report=first")
    first.assert_outcomes(passed=2)
    first.stdout.fnmatch_lines(["cassettes: 0 replayed, 2 recorded*"])
    folder = pytester.path / "cassettes" / "test_replayed"
    assert sorted(p.name for p in folder.iterdir()) == [
        "test_cassette_paris.yaml",
        "test_chat_model_paris.yaml",
    ]
    second = pytester.runpytest(
        "--myna-record-mode=none", "--myna-block-network", "--myna-eval-report=second"
    )
    second.assert_outcomes(passed=2)
    second.stdout.fnmatch_lines(["cassettes: 2 replayed, 0 recorded*"])
    for name in ("replayed", "plain"):
        one = json.loads((pytester.path / "first" / f"{name}.json").read_text())
        two = json.loads((pytester.path / "second" / f"{name}.json").read_text())
        assert one["fingerprint"] == two["fingerprint"]
        assert [run["output"] for run in two["cases"][0]["runs"]] == ["Sunny.", "Sunny again."]


# -- mistakes -------------------------------------------------------------------------------------


def test_mistakes_are_named_at_collection(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_typo="""
        from myna.evals import Case, cases

        @cases([Case("a", 1)], repaet=3)
        def test_a(case):
            pass
        """,
        test_no_case="""
        from myna.evals import Case, cases

        @cases([Case("a", 1)])
        def test_a(item):
            pass
        """,
        test_no_file="""
        from myna.evals import cases

        @cases("evals/missing.yaml")
        def test_a(case):
            pass
        """,
        test_rate="""
        from myna.evals import Case, cases

        @cases([Case("a", 1)], min_pass_rate=80)
        def test_a(case):
            pass
        """,
    )
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines_random(
        [
            "E   myna.exceptions.UserError: cases() got unknown option(s) 'repaet'; it takes "
            "evaluators, max_concurrency, min_pass_rate, name, prices, rate_limiter, repeat, "
            "retry, seed, timeout.",
            "E   myna.exceptions.UserError: @cases(...) decorates a test function taking a "
            "`case` argument, got 'test_a': write `def test_x(case): case.check(target)`.",
            "E   myna.exceptions.UserError: @cases('evals/missing.yaml'): no dataset file at "
            "*evals/missing.yaml (beside test_no_file.py) nor at *evals/missing.yaml (the "
            "current directory); check the path.",
            "E   myna.exceptions.UserError: min_pass_rate=80 must be a fraction between 0 and 1*",
        ]
    )


def test_unknown_check_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from myna.evals import Case, cases

        @cases([Case("a", 1)])
        def test_a(case):
            case.check(lambda n: n, results_path="x.jsonl")
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            '>       case.check(lambda n: n, results_path="x.jsonl")',
            "E       myna.exceptions.UserError: check() got unknown option(s) 'results_path'; "
            "it takes evaluators, *",
        ]
    )


# -- start-up stays cheap ------------------------------------------------------------------------

PROBE = """
import json, sys

def pytest_unconfigure(config):
    with open("loaded.json", "w") as out:
        json.dump(sorted(m for m in sys.modules if m.startswith("myna.evals")), out)
"""


def test_the_plugin_imports_evals_only_when_needed(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(PROBE)
    pytester.makepyfile("def test_plain(): pass")
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
    assert json.loads((pytester.path / "loaded.json").read_text()) == []
    pytester.runpytest_subprocess("--myna-eval-report=out").assert_outcomes(passed=1)
    assert "myna.evals._pytest" in json.loads((pytester.path / "loaded.json").read_text())


def test_import_myna_evals_stays_light() -> None:
    code = "import sys, myna.evals; print('pytest' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
