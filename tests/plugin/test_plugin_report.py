"""The terminal summary, --myna-report JSON, the price table, xdist, --lf/--sw, assertrepr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CALLS = """
import pytest
from myna import init_chat_model

@pytest.mark.parametrize("n", range(6))
def test_fake(fake_model, n):
    for _ in range(n):
        fake_model(["word " * 10]).invoke("question " * (n + 1))

def test_priced(emulator):
    emulator("openai", script=["x " * 200])
    init_chat_model("openai:gpt-4.1", api_key="k").invoke("hello " * 400)

def test_unpriced(emulator):
    emulator("openai", script=["y"])
    init_chat_model("openai:acme-secret-model", api_key="k").invoke("hi")

def test_failed_call(fake_model):
    from myna.fakes import fault
    with pytest.raises(Exception):
        fake_model([fault.server_error()], max_retries=0).invoke("x")

def test_no_calls():
    pass
"""


def test_terminal_summary(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_calls=CALLS)
    result = pytester.runpytest("--myna-report-top=2")
    result.assert_outcomes(passed=10)
    result.stdout.fnmatch_lines(
        [
            "*= myna =*",
            "model calls: 18 in 8 tests (1 raised) | tokens in * / out * | estimated cost $0.00*",
            "top 2 tests by estimated cost:",
            "*$0.00* 1 call   in *603 / out *100  test_calls.py::test_priced",
            "*$0    5 calls  in *test_calls.py::test_fake[[]5]",
            "no price for: openai:acme-secret-model (add them under [[]tool.myna.prices] in pyproject.toml)",
        ]
    )
    assert "test_no_calls" not in result.stdout.str().split("= myna =")[1]


def test_no_section_without_model_use(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_ok(): pass")
    result = pytester.runpytest()
    assert "= myna =" not in result.stdout.str()


def test_json_report_and_pyproject_prices(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        """
        [tool.pytest.ini_options]
        asyncio_mode = "auto"
        asyncio_default_fixture_loop_scope = "function"
        addopts = "-p no:benchmark"

        [tool.myna.prices]
        "openai:acme-secret-model" = { input = 1000000, output = 0 }
        """
    )
    (pytester.path / "tox.ini").unlink()
    pytester.makepyfile(test_calls=CALLS)
    result = pytester.runpytest("--myna-report=report.json")
    result.stdout.fnmatch_lines(["report written to *report.json"])
    data = json.loads((pytester.path / "report.json").read_text())
    totals = data["totals"]
    assert totals["calls"] == 18 and totals["failed_calls"] == 1 and totals["unpriced_models"] == []
    by_test = {t["nodeid"]: t for t in data["tests"]}
    unpriced = by_test["test_calls.py::test_unpriced"]
    assert unpriced["cost"] == pytest.approx(unpriced["input_tokens"] * 1.0)
    priced = by_test["test_calls.py::test_priced"]
    assert priced["cost"] == pytest.approx(
        (priced["input_tokens"] * 2 + priced["output_tokens"] * 8) / 1e6
    )
    assert totals["input_tokens"] == sum(t["input_tokens"] for t in data["tests"])


def test_bad_price_table_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml('[tool.myna.prices]\n"gpt-x" = { input = "cheap", output = 1 }\n')
    (pytester.path / "tox.ini").unlink()
    pytester.makepyfile("def test_ok(): pass")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*[[]tool.myna.prices] in *pyproject.toml: 'gpt-x' input='cheap' must be a number >= 0."]
    )


def _totals(report: Path) -> dict:
    return json.loads(report.read_text())["totals"]


def test_xdist_aggregates_the_same_totals(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_calls=CALLS)
    serial = pytester.runpytest_subprocess("--myna-report=serial.json")
    serial.assert_outcomes(passed=10)
    split = pytester.runpytest_subprocess("-n", "3", "--myna-report=split.json")
    split.assert_outcomes(passed=10)
    assert _totals(pytester.path / "split.json") == _totals(pytester.path / "serial.json")
    line = [ln for ln in serial.stdout.lines if ln.startswith("model calls:")]
    assert line and line[0] in split.stdout.lines


def test_last_failed_and_stepwise(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        """
        import os, pytest

        @pytest.mark.myna_script(["a"])
        def test_ok(fake_model):
            fake_model.invoke("x")

        @pytest.mark.myna_script(["b"])
        def test_flaky(fake_model):
            fake_model.invoke("x")
            assert os.environ.get("FIXED") == "1"
        """
    )
    pytester.runpytest("-p", "cacheprovider").assert_outcomes(passed=1, failed=1)
    result = pytester.runpytest("-p", "cacheprovider", "--lf")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["model calls: 1 in 1 test |*"])
    result = pytester.runpytest("-p", "cacheprovider", "--sw")  # stops at the failure
    result.assert_outcomes(passed=1, failed=1)
    monkeypatch.setenv("FIXED", "1")
    result = pytester.runpytest("-p", "cacheprovider", "--sw")  # resumes from it
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["model calls: 1 in 1 test |*"])


def test_assertrepr_compare_for_messages(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from myna.messages import AIMessage, HumanMessage

        def test_single():
            got = AIMessage("Sunny in Paris.", tool_calls=[{"name": "w", "args": {"city": "Paris"}, "id": "1"}])
            want = AIMessage("Sunny in Oslo.", tool_calls=[{"name": "w", "args": {"city": "Oslo"}, "id": "1"}])
            assert got == want

        def test_lists():
            assert [HumanMessage("hi"), AIMessage("a")] == [HumanMessage("hi"), AIMessage("b")]

        def test_other_values_untouched():
            assert {"a": 1} == {"a": 2}
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(
        [
            "E       AssertionError: assert AIMessage(...) == AIMessage(...)",
            "E         myna: AIMessage differs in 2 fields (left != right):",
            "E           content: 'Sunny in Paris.' != 'Sunny in Oslo.'",
            "E           tool_calls[[]0].args.city: 'Paris' != 'Oslo'",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "E       AssertionError: assert [[]2 messages] == [[]2 messages]",
            "E         myna: message lists differ in 1 field (left != right):",
            "E           [[]1].content: 'a' != 'b'",
        ]
    )
    assert "E         Differing items:" in result.stdout.str()  # pytest's own diff for dicts


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_example_suite_reports_the_same_totals_with_xdist(tmp_path: Path) -> None:
    def run(*extra: str) -> dict:
        report = tmp_path / f"report{len(extra)}.json"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                str(EXAMPLES),
                "-p",
                "no:cacheprovider",
                "--myna-record-mode=none",
                f"--myna-report={report}",
                *extra,
            ],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=EXAMPLES,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return _totals(report)

    serial = run()
    split = run("-n", "2")
    assert split == serial
    assert serial["calls"] > 10 and serial["cost"] > 0
    assert serial["cassettes"]["replayed"] >= 2 and serial["cassettes"]["missing"] == 0
