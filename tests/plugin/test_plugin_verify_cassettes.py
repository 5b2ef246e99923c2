"""``--myna-verify-cassettes``: the shape check of the run's cassettes, after the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from myna.cassettes import dump_cassette, load_cassette

pytest_plugins = ["pytester"]

SUITE = """
import os
import pytest
from myna import init_chat_model

def ask(emulator, reply, **options):
    if os.environ.get("RECORDING"):
        emulator("openai", script=[reply])
    model = init_chat_model("openai:gpt-4.1-mini", api_key="k", **options)
    return "".join(c.text for c in model.stream("Hi")) if options else model.invoke("Hi").text

@pytest.mark.myna_cassette
def test_plain(emulator):
    assert ask(emulator, "one") == "one"

@pytest.mark.myna_cassette
def test_streamed(emulator):
    assert ask(emulator, "two words", stream_usage=True) == "two words"
"""


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two recorded cassette tests (one streams); the run that made them owns its log."""
    monkeypatch.delenv("MYNA_CASSETTE_LOG", raising=False)
    monkeypatch.delenv("MYNA_CASSETTE_LOG_OWNER", raising=False)
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "test_suite.py").write_text(SUITE)
    monkeypatch.setenv("RECORDING", "1")
    pytester.runpytest("tests", "--myna-record-mode=once").assert_outcomes(passed=2)
    monkeypatch.delenv("RECORDING")
    return pytester.path / "tests" / "cassettes" / "test_suite"


def test_cassettes_of_the_emulator_pass(pytester: pytest.Pytester, suite: Path) -> None:
    result = pytester.runpytest("tests", "--myna-record-mode=none", "--myna-verify-cassettes")
    result.assert_outcomes(passed=2)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["*myna cassette drift*", "2 cassette(s) checked against myna's emulator: 0 drifted, 0*"]
    )


def test_breaking_drift_fails_the_run_and_is_reported(
    pytester: pytest.Pytester, suite: Path
) -> None:
    path = suite / "test_plain.yaml"
    data = load_cassette(path)
    body = data["interactions"][0]["response"]["body"]["json"]
    body["usage"]["reasoning_budget"] = 7  # a field the API sent that the emulator does not
    path.write_text(dump_cassette(data))

    result = pytester.runpytest("tests", "--myna-record-mode=none", "--myna-verify-cassettes")
    result.assert_outcomes(passed=2)  # the tests still pass: the drift is the cassette's
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "*test_plain.yaml: BREAKING drift (1 interaction(s) vs emulator)",
            "  #0 removed $.usage.reasoning_budget: number  BREAKING",
            "2 cassette(s) checked against myna's emulator: 1 drifted, 1 in a breaking way*",
        ]
    )
    assert "test_streamed.yaml" not in result.stdout.str()  # no drift: not listed


def test_without_the_option_nothing_is_checked(pytester: pytest.Pytester, suite: Path) -> None:
    result = pytester.runpytest("tests", "--myna-record-mode=none")
    result.assert_outcomes(passed=2)
    assert "cassette drift" not in result.stdout.str()
