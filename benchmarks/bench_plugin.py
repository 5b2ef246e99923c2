"""The pytest plugin's overhead: 500 tests calling a fake model through the plugin's fixtures,
against the same 500 tests with a hand-made stub and the plugin switched off.

Run:

    python benchmarks/bench_plugin.py

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


def main() -> None:
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
    if loop_overhead >= TARGET:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
