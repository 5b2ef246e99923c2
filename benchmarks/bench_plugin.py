"""The pytest plugin's cost, in two parts.

Run:

    python benchmarks/bench_plugin.py              # both parts
    python benchmarks/bench_plugin.py overhead     # or: fixtures

**fixtures** (issue 14): what a test pays for each fixture, as the slope of the whole
session's wall time from 100 to 1,000 tests (start-up and collection of the module cancel
out), against a plain test, for: calling `FakeChatModel` directly, the ``fake_model``
fixture, `emulate()` directly, and the ``emulator`` fixture (each test makes one call to the
model it gets; the emulator ones through our OpenAI provider over httpx). Targets:
``fake_model`` at most +0.3 ms and ``emulator`` at most +1 ms per test over a plain test.
Set ``MYNA_BENCH_SRC`` to another checkout's ``src`` to measure that code the same way.

**overhead**: 500 tests calling a fake model through the plugin's fixtures, against the same
500 tests with a hand-made stub and the plugin switched off.

Both sessions run in fresh interpreters, taking turns, several rounds each. Two numbers per
session: the CPU time of its test loop alone (collection done, start-up excluded; measured
with `time.process_time` by a tiny timing plugin, so load on the machine does not skew it),
and the wall time of the whole ``pytest`` process.

Both sessions run the same test module: ``fake_model`` answering from a ``myna_script``
marker, and ``model_calls``. In the "plugin" session these are the plugin's fixtures (so the
call observer, the report and the strict teardown check all run); in the "stub" session they
are two hand-made conftest fixtures (a `FakeChatModel` from the marker, and its ``calls``)
and the plugin is off (``-p no:myna``). Target: the plugin adds under 10% to the test loop.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TESTS = 500
ROUNDS = 9
TARGET = 0.10

# One test module for both sessions: the same body, the same fixture names. It imports myna at
# the top, as real test modules do, so imports happen at collection and the loop times compare
# the per-test work only.
TESTS_MODULE = f"""
import pytest
from myna.fakes import FakeChatModel  # noqa: F401

@pytest.mark.parametrize("n", range({TESTS}))
@pytest.mark.myna_script(["Sunny in Paris."])
def test_call(fake_model, model_calls, n):
    assert fake_model.invoke("Weather in Paris?").text == "Sunny in Paris."
    assert len(model_calls) == 1
"""

# The hand-made stub: what a project would write without the plugin.
STUB_CONFTEST = """
import pytest
from myna.fakes import FakeChatModel

def pytest_configure(config):
    config.addinivalue_line("markers", "myna_script(replies): replies of the fake model")

@pytest.fixture
def fake_model(request):
    return FakeChatModel(request.node.get_closest_marker("myna_script").args[0])

@pytest.fixture
def model_calls(fake_model):
    return fake_model.calls
"""

TIMING_PLUGIN = """
import json, os, time
import pytest

@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session):
    start = time.process_time()
    try:
        return (yield)
    finally:
        with open(os.environ["BENCH_TIMING"], "w") as out:
            json.dump({"loop": time.process_time() - start, "tests": session.testscollected}, out)
"""

COMMON = ["-q", "-p", "no:cacheprovider", "-p", "bench_timing", "-p", "no:randomly"]


def _write(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    (folder / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")


def run(folder: Path, extra: list[str], timing: Path) -> tuple[float, float]:
    env = {
        **__import__("os").environ,
        "BENCH_TIMING": str(timing),
        "PYTHONPATH": str(folder.parent),
    }
    env.pop("CI", None)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *COMMON, *extra],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"benchmark session failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    data = json.loads(timing.read_text())
    assert data["tests"] == TESTS, data
    return wall, data["loop"]


# -- fixtures: the slope of wall time per test -------------------------------------------------

SIZES = (100, 1000)
SLOPE_ROUNDS = 5
FIXTURE_TARGETS = {"fake_model": 0.3, "emulator": 1.0}
"""Milliseconds per test over a plain test (issue 14)."""

_ASK = "init_chat_model('openai:gpt-4.1-mini', api_key='k', max_retries=0).invoke('Hi').text"
KINDS = {
    "plain test": "def test_x(n):\n    assert n >= 0\n",
    "FakeChatModel directly": (
        "from myna.fakes import FakeChatModel\n\n"
        "def test_x(n):\n    assert FakeChatModel(['Sunny.']).invoke('Hi').text == 'Sunny.'\n"
    ),
    "fake_model": (
        "@pytest.mark.myna_script(['Sunny.'])\n"
        "def test_x(fake_model, n):\n    assert fake_model.invoke('Hi').text == 'Sunny.'\n"
    ),
    "emulate() directly": (
        "from myna.emulators import emulate\nfrom myna.models import init_chat_model\n\n"
        "def test_x(n):\n    with emulate('openai', script=['Sunny.']):\n"
        f"        assert {_ASK} == 'Sunny.'\n"
    ),
    "emulator": (
        "from myna.models import init_chat_model\n\n"
        "def test_x(emulator, n):\n    emulator('openai', script=['Sunny.'])\n"
        f"    assert {_ASK} == 'Sunny.'\n"
    ),
}


def _module(body: str, n: int) -> str:
    lines = ["import pytest\n"]
    for line in body.splitlines(keepends=True):
        if line.startswith("def test_x") or line.startswith("@pytest.mark.myna_script"):
            if not any(x.startswith("@pytest.mark.parametrize") for x in lines):
                lines.append(f"@pytest.mark.parametrize('n', range({n}))\n")
        lines.append(line)
    return "".join(lines)


def _session(folder: Path) -> tuple[float, float]:
    """Wall time of one pytest session in a fresh interpreter, and the CPU time of its test
    loop alone (the timing plugin: collection and start-up excluded, load barely matters)."""
    timing = folder / "timing.json"
    env = dict(os.environ, BENCH_TIMING=str(timing))
    env.pop("CI", None)
    paths = [os.environ.get("MYNA_BENCH_SRC", ""), str(folder.parent)]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *COMMON],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"benchmark session failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return wall, json.loads(timing.read_text())["loop"]


def fixtures() -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "bench_timing.py").write_text(TIMING_PLUGIN)
        folders = {}
        for index, (kind, body) in enumerate(KINDS.items()):
            for n in SIZES:
                folder = folders[kind, n] = root / f"kind{index}_{n}"
                _write(folder, {"test_it.py": _module(body, n)})
                _session(folder)  # warm the caches
        runs: dict[tuple[str, int], list[tuple[float, float]]] = {key: [] for key in folders}
        for _ in range(SLOPE_ROUNDS):  # taking turns, so load on the machine hits all alike
            for key, folder in folders.items():
                runs[key].append(_session(folder))

    def slope(kind: str, which: int) -> float:
        small, large = (min(r[which] for r in runs[kind, n]) for n in SIZES)
        return (large - small) / (SIZES[1] - SIZES[0]) * 1e3

    print(
        f"per test: the slope from {SIZES[0]} to {SIZES[1]} tests, in ms (best of "
        f"{SLOPE_ROUNDS} sessions each): the whole session's wall time (the verdict, as issue "
        f"14 measures) and the CPU time of the test loop alone (steadier on a busy machine)\n"
    )
    print(f"{'':24}{'wall':>7}{'over plain':>12}{'loop cpu':>10}{'over plain':>12}  target")
    ok = True
    plain_wall, plain_cpu = slope("plain test", 0), slope("plain test", 1)
    for kind in KINDS:
        wall, cpu = slope(kind, 0), slope(kind, 1)
        extra_wall, extra_cpu = wall - plain_wall, cpu - plain_cpu
        target = FIXTURE_TARGETS.get(kind)
        mark = ""
        if target is not None:
            mark = f"<= +{target:.1f}" + (" met" if extra_wall <= target else " MISSED")
            ok = ok and extra_wall <= target
        overs = ("", "") if kind == "plain test" else (f"{extra_wall:+.2f}", f"{extra_cpu:+.2f}")
        print(f"{kind:24}{wall:7.2f}{overs[0]:>12}{cpu:10.2f}{overs[1]:>12}  {mark}")
    return ok


# -- overhead: the plugin's fixtures against a hand-made stub ----------------------------------


def overhead() -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "bench_timing.py").write_text(TIMING_PLUGIN)
        plugin_dir, stub_dir = root / "with_plugin", root / "with_stub"
        _write(plugin_dir, {"test_calls.py": TESTS_MODULE})
        _write(stub_dir, {"test_calls.py": TESTS_MODULE, "conftest.py": STUB_CONFTEST})
        timing = root / "timing.json"
        results: dict[str, list[tuple[float, float]]] = {"plugin": [], "stub": []}
        run(plugin_dir, [], timing)  # warm the file-system and bytecode caches
        run(stub_dir, ["-p", "no:myna"], timing)
        for _ in range(ROUNDS):
            results["plugin"].append(run(plugin_dir, [], timing))
            results["stub"].append(run(stub_dir, ["-p", "no:myna"], timing))

    def best(kind: str, which: int) -> float:
        return min(r[which] for r in results[kind])

    def median(kind: str, which: int) -> float:
        return statistics.median(r[which] for r in results[kind])

    print(f"{TESTS} tests, best and median of {ROUNDS} sessions each\n")
    print(f"{'':30}{'stub (no plugin)':>18}{'plugin fixtures':>18}{'overhead':>12}")
    for label, which in (("test loop CPU (s)", 1), ("whole session wall (s)", 0)):
        for stat, fn in (("best", best), ("median", median)):
            stub, plugin = fn("stub", which), fn("plugin", which)
            print(
                f"{label + ' ' + stat:30}{stub:18.3f}{plugin:18.3f}{(plugin - stub) / stub:12.1%}"
            )
    loop_overhead = (best("plugin", 1) - best("stub", 1)) / best("stub", 1)
    per_test_us = (best("plugin", 1) - best("stub", 1)) / TESTS * 1e6
    verdict = "meets" if loop_overhead < TARGET else "MISSES"
    print(
        f"\nplugin overhead on the test loop: {loop_overhead:.1%} ({per_test_us:.0f} us per "
        f"test); {verdict} the target of {TARGET:.0%}"
    )
    return loop_overhead < TARGET


def main() -> None:
    parts = sys.argv[1:] or ["fixtures", "overhead"]
    ok = True
    for index, part in enumerate(parts):
        if index:
            print()
        ok = {"fixtures": fixtures, "overhead": overhead}[part]() and ok
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
