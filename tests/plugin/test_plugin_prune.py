"""``myna cassettes prune`` after pytest runs: whole runs prune, partial runs are refused."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from myna.cli import main

pytest_plugins = ["pytester"]

SUITE = """
import os
import pytest
from myna import init_chat_model

def ask(emulator, reply):
    if os.environ.get("RECORDING"):
        emulator("openai", script=[reply])
    return init_chat_model("openai:gpt-4.1-mini", api_key="k").invoke("Hi").text

@pytest.mark.myna_cassette
def test_sdk_one(emulator):
    assert ask(emulator, "one") == "one"

@pytest.mark.myna_cassette
def test_other(emulator):
    assert ask(emulator, "other") == "other"

@pytest.mark.skipif("os.environ.get('SKIP_LAST')")
@pytest.mark.myna_cassette
def test_last(emulator):
    assert ask(emulator, "last") == "last"
"""


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A recorded suite of three cassette tests, and an orphan cassette no test uses."""
    # this pytester run owns its log (not the log of the run that runs these tests)
    monkeypatch.delenv("MYNA_CASSETTE_LOG", raising=False)
    monkeypatch.delenv("MYNA_CASSETTE_LOG_OWNER", raising=False)
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "test_suite.py").write_text(SUITE)
    monkeypatch.setenv("RECORDING", "1")
    pytester.runpytest("tests", "--myna-record-mode=once").assert_outcomes(passed=3)
    monkeypatch.delenv("RECORDING")
    cassettes = pytester.path / "tests" / "cassettes" / "test_suite"
    orphan = cassettes / "test_removed.yaml"
    orphan.write_text((cassettes / "test_other.yaml").read_text())
    old = time.time() - 3600
    for path in cassettes.iterdir():
        os.utime(path, (old, old))
    return cassettes


def prune(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()  # drop what the pytester runs printed
    status = main(["cassettes", "prune", *args])
    out, err = capsys.readouterr()
    return status, out + err


def test_prune_after_the_whole_suite(pytester, suite, capsys) -> None:
    pytester.runpytest("tests").assert_outcomes(passed=3)
    log = (pytester.path / ".myna" / "cassettes-used.log").read_text()
    assert log.splitlines()[-1] == "# run: complete"
    assert "MYNA_CASSETTE_LOG" not in os.environ  # the run put the environment back
    status, out = prune(capsys, "--dry-run")
    assert status == 0, out
    assert out.splitlines() == [
        f"would remove {Path('tests/cassettes/test_suite/test_removed.yaml')}",
        "1 unused cassette(s) found",
    ]
    assert prune(capsys)[0] == 0
    assert sorted(p.name for p in suite.iterdir()) == [
        "test_last.yaml",
        "test_other.yaml",
        "test_sdk_one.yaml",
    ]


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (["-k", "sdk"], "2 test(s) deselected (-k, -m, --deselect or --sw)"),
        (["-m", "not myna_cassette"], "3 test(s) deselected (-k, -m, --deselect or --sw)"),
        (["tests/test_suite.py::test_other"], "it ran only the named files or tests"),
        (["tests/test_suite.py"], "it ran only the named files or tests (tests/test_suite.py)"),
        (["-x", "--myna-record-mode=none"], "it stopped early"),
    ],
    ids=["-k", "-m", "node-id", "file", "-x"],
)
def test_prune_refuses_after_a_partial_run(pytester, suite, capsys, args, why) -> None:
    if "-x" in args:
        (suite / "test_sdk_one.yaml").unlink()  # the first test fails: -x stops there
    if "tests" not in " ".join(args):
        args = [*args, "tests"]
    pytester.runpytest(*args)
    for dry_run in (["--dry-run"], []):
        status, out = prune(capsys, *dry_run)
        assert status == 2
        assert out.startswith(
            "myna: Refusing to prune: the last run (.myna/cassettes-used.log) did not run the "
            "whole suite: "
        )
        assert why in out
        assert "Run the whole suite (pytest with no -k, -m, --lf, --sw, -x or test paths)" in out
    assert (suite / "test_removed.yaml").exists() and (suite / "test_other.yaml").exists()


def test_prune_refuses_after_last_failed(pytester, suite, capsys) -> None:
    (suite / "test_other.yaml").unlink()
    pytester.runpytest("tests", "-p", "cacheprovider", "--myna-record-mode=none")
    pytester.runpytest("tests", "-p", "cacheprovider", "--lf", "--myna-record-mode=none")
    status, out = prune(capsys, "--dry-run")
    assert status == 2 and "--lf ran only the last failures" in out


def test_prune_refuses_an_unfinished_log(pytester, suite, capsys) -> None:
    pytester.runpytest("tests").assert_outcomes(passed=3)
    log = pytester.path / ".myna" / "cassettes-used.log"
    log.write_text("\n".join(log.read_text().splitlines()[:-1]) + "\n")  # killed before the end
    status, out = prune(capsys)
    assert status == 2 and "never finished" in out


def test_skipped_tests_keep_their_cassettes(pytester, suite, capsys, monkeypatch) -> None:
    monkeypatch.setenv("SKIP_LAST", "1")
    pytester.runpytest("tests").assert_outcomes(passed=2, skipped=1)
    assert prune(capsys, "--dry-run") == (
        0,
        f"would remove {Path('tests/cassettes/test_suite/test_removed.yaml')}\n"
        "1 unused cassette(s) found\n",
    )


def test_prune_keeps_what_the_run_did_not_cover(pytester, suite, capsys) -> None:
    elsewhere = pytester.path / "examples" / "cassettes"
    elsewhere.mkdir(parents=True)
    (elsewhere / "kept.yaml").write_text((suite / "test_other.yaml").read_text())
    os.utime(elsewhere / "kept.yaml", (time.time() - 3600,) * 2)
    pytester.runpytest("tests").assert_outcomes(passed=3)
    status, out = prune(capsys)
    assert status == 0, out
    assert f"removed {Path('tests/cassettes/test_suite/test_removed.yaml')}" in out
    assert f"kept {Path('examples/cassettes/kept.yaml')} (outside the folders" in out
    assert "1 kept: the last run covered only tests" in out
    assert (elsewhere / "kept.yaml").exists()


def test_prune_keeps_cassettes_newer_than_the_run(pytester, suite, capsys) -> None:
    pytester.runpytest("tests").assert_outcomes(passed=3)
    later = time.time() + 60
    os.utime(suite / "test_removed.yaml", (later, later))  # e.g. recorded by a run without myna
    status, out = prune(capsys)
    assert status == 0 and "(written after the last run)" in out
    assert (suite / "test_removed.yaml").exists()


def test_prune_refuses_after_a_partial_xdist_run(pytester, suite, capsys) -> None:
    pytester.runpytest_subprocess("tests", "-n", "2", "-k", "sdk").assert_outcomes(passed=1)
    status, out = prune(capsys, "--dry-run")
    assert status == 2 and "2 test(s) deselected" in out, out
    pytester.runpytest_subprocess("tests", "-n", "2").assert_outcomes(passed=3)
    status, out = prune(capsys, "--dry-run")
    assert status == 0 and "1 unused cassette(s) found" in out, out


def test_the_myna_folder_stays_out_of_git(pytester, suite) -> None:
    import shutil
    import subprocess

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    subprocess.run(["git", "init", "-q"], cwd=pytester.path, check=True)
    pytester.runpytest("tests").assert_outcomes(passed=3)
    assert (pytester.path / ".myna" / "cassettes-used.log").exists()
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=pytester.path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ".myna" not in status and "tests/test_suite.py" in status
