"""myna.evals against pydantic-evals: per-case overhead, peak memory, summary time, async.

Run (pydantic-evals lives in its own venv, not in myna's dev extra):

    python -m venv .bench && .bench/bin/pip install -e . -r benchmarks/requirements.txt
    .bench/bin/python benchmarks/bench_evals.py            # --sizes 1000: a quicker run

The workload is the one the issue measured pydantic-evals on: cases ``inputs=f"hello {i}"``,
``expected=f"HELLO {i}"``, the trivial target `str.upper`, and three cheap evaluators (equals
expected, contains "HELLO", is a str); every run is checked to pass 100%. Configurations,
measured in the same process, taking turns round by round so load on the machine skews
neither times nor ratios:

- pydantic-evals ``evaluate_sync`` with its defaults (unbounded concurrency) and with
  ``max_concurrency=10``, progress bar off in both (myna's is off when not on a terminal);
- myna ``evaluate`` with its defaults (10 workers, cases kept in memory) and with
  ``results_path`` (runs streamed to JSONL, the report reads them back when asked).

Per case: the median of 3 timed runs (after a warm-up run of each configuration, a full
collection before each) divided by the number of cases, in wall time and in CPU time of the
whole process (threads included). The per-case target is checked on CPU time, which the other
tenants of a shared machine do not inflate as they do wall time, against the faster of the two
pydantic-evals configurations. Peak memory: the median ``tracemalloc`` peak of 3 extra runs, the
dataset built before tracing starts, so the peak is the run's own (its report included).
Summary: myna ``report.print()`` into a StringIO against pydantic-evals
``report.render(width=120)``, on the report of the last timed run. Async: a target sleeping
50 ms, 1,000 cases at ``max_concurrency=50``, against the 1.0 s floor (1000 / 50 x 50 ms).

Targets (from the issue): at most 100 us per case and at least 6x faster than pydantic-evals;
peak memory at 10,000 cases within 1.5x of 1,000 (the streamed configuration); the summary in
under 1 s; the async run within 1.15x of the floor. The script exits 1 when one is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import platform
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

SIZES = (1_000, 10_000)
ROUNDS = 3
ASYNC_CASES = 1_000
ASYNC_CONCURRENCY = 50
ASYNC_SLEEP = 0.05
TARGET_US = 100.0
TARGET_RATIO = 6.0
TARGET_MEMORY_GROWTH = 1.5
TARGET_SUMMARY_S = 1.0
TARGET_ASYNC = 1.15


# -- the two libraries, behind the same three calls: build, run, summarise ----------------------


class Config:
    """One library configuration: builds its dataset, runs it, summarises its report."""

    label = ""

    def build(self, n: int) -> Any:
        raise NotImplementedError

    def run(self, dataset: Any) -> Any:
        raise NotImplementedError

    def passed(self, report: Any, n: int) -> bool:
        raise NotImplementedError

    def summary(self, report: Any) -> str:
        raise NotImplementedError

    def run_async(self, dataset: Any) -> Any:
        raise NotImplementedError


def is_str(ctx: Any) -> bool:
    """myna's is-a-str evaluator: a plain function (no built-in needed)."""
    return isinstance(ctx.output, str)


async def asleepy_upper(text: str) -> str:
    await asyncio.sleep(ASYNC_SLEEP)
    return text.upper()


class Myna(Config):
    def __init__(self, *, streamed: bool, workdir: Path) -> None:
        from myna.evals import Case, Dataset, evaluate
        from myna.evals import evaluators as ev

        self.Case, self.Dataset, self.evaluate, self.ev = Case, Dataset, evaluate, ev
        self.streamed = streamed
        self.workdir = workdir
        self.label = "myna streamed" if streamed else "myna"
        self._runs = 0

    def build(self, n: int) -> Any:
        cases = [self.Case(f"case {i}", f"hello {i}", expected=f"HELLO {i}") for i in range(n)]
        evaluators = [self.ev.equals(), self.ev.contains("HELLO"), is_str]
        return self.Dataset(cases, evaluators=evaluators, name="shout")

    def _options(self) -> dict[str, Any]:
        if not self.streamed:
            return {}
        self._runs += 1  # a fresh file per run, as a real run would write
        return {"results_path": self.workdir / f"run{self._runs}.jsonl"}

    def run(self, dataset: Any) -> Any:
        return self.evaluate(str.upper, dataset, progress=False, **self._options())

    def run_async(self, dataset: Any) -> Any:
        return self.evaluate(
            asleepy_upper,
            dataset,
            progress=False,
            max_concurrency=ASYNC_CONCURRENCY,
            **self._options(),
        )

    def passed(self, report: Any, n: int) -> bool:
        return report.passed and report.total == n

    def summary(self, report: Any) -> str:
        out = io.StringIO()
        report.print(file=out)
        return out.getvalue()


class PydanticEvals(Config):
    def __init__(self, *, max_concurrency: int | None) -> None:
        from pydantic_evals import Case, Dataset
        from pydantic_evals.evaluators import Contains, EqualsExpected, IsInstance

        self.Case, self.Dataset = Case, Dataset
        self.evaluators = (EqualsExpected, lambda: Contains(value="HELLO"), IsInstance)
        self.max_concurrency = max_concurrency
        self.label = (
            "pydantic-evals" if max_concurrency is None else f"pe max_concurrency={max_concurrency}"
        )

    def build(self, n: int) -> Any:
        cases = [
            self.Case(name=f"case {i}", inputs=f"hello {i}", expected_output=f"HELLO {i}")
            for i in range(n)
        ]
        equals, contains, instance = self.evaluators
        evaluators = [equals(), contains(), instance(type_name="str")]
        return self.Dataset(name="shout", cases=cases, evaluators=evaluators)

    def run(self, dataset: Any) -> Any:
        return dataset.evaluate_sync(
            str.upper, max_concurrency=self.max_concurrency, progress=False
        )

    def run_async(self, dataset: Any) -> Any:
        return dataset.evaluate_sync(
            asleepy_upper, max_concurrency=ASYNC_CONCURRENCY, progress=False
        )

    def passed(self, report: Any, n: int) -> bool:
        if len(report.cases) != n or report.failures:
            return False
        return all(
            result.value is True for case in report.cases for result in case.assertions.values()
        )

    def summary(self, report: Any) -> str:
        return report.render(width=120)


# -- measuring ------------------------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of the whole process, fn's result), after a full collection."""
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def peak_memory(config: Config, dataset: Any) -> int:
    """Bytes allocated at the peak of one run, above what was allocated before it started."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    report = config.run(dataset)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del report
    return peak - base


def measure(configs: list[Config], n: int) -> dict[str, dict[str, float]]:
    """Per-case wall and CPU time (medians of ROUNDS), peak memory and summary time."""
    datasets = {c.label: c.build(n) for c in configs}
    for config in configs:  # warm-up: imports, caches, first-call paths
        config.run(config.build(min(n, 100)))
    walls: dict[str, list[float]] = {c.label: [] for c in configs}
    cpus: dict[str, list[float]] = {c.label: [] for c in configs}
    reports: dict[str, Any] = {}
    for round_ in range(ROUNDS):
        for config in configs:  # taking turns: a busy moment hits every config alike
            wall, cpu, report = timed(lambda c=config: c.run(datasets[c.label]))
            if not config.passed(report, n):
                raise SystemExit(f"{config.label} at {n} cases did not pass every case")
            walls[config.label].append(wall)
            cpus[config.label].append(cpu)
            reports[config.label] = report
            print(f"  {n:>6} cases, round {round_ + 1}, {config.label:<24} {wall:7.3f} s")
    found = {}
    for config in configs:
        summary, _, text = timed(lambda c=config: c.summary(reports[c.label]))
        assert text, config.label
        del reports[config.label]  # the report goes before the memory run
        # median of 3: one run can differ by a one-off allocation (such as a thread pool)
        memory = statistics.median(peak_memory(config, datasets[config.label]) for _ in range(3))
        found[config.label] = {
            "wall": statistics.median(walls[config.label]) / n,
            "cpu": statistics.median(cpus[config.label]) / n,
            "memory": memory,
            "summary": summary,
        }
        print(f"  {n:>6} cases, {config.label:<24} summary {summary:.3f} s, peak {mib(memory)}")
    return found


def measure_async(configs: list[Config]) -> dict[str, float]:
    """Wall seconds of ASYNC_CASES cases of a target sleeping ASYNC_SLEEP, per config."""
    found = {}
    for config in configs:
        dataset = config.build(ASYNC_CASES)
        config.run_async(config.build(ASYNC_CONCURRENCY))  # warm-up
        wall, _, report = timed(lambda c=config, d=dataset: c.run_async(d))
        if not config.passed(report, ASYNC_CASES):
            raise SystemExit(f"{config.label} async did not pass every case")
        found[config.label] = wall
        print(f"  async, {ASYNC_CASES} cases, {config.label:<24} {wall:.3f} s")
    return found


# -- the table --------------------------------------------------------------------------------


def markdown(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def us(seconds: float) -> str:
    value = seconds * 1e6
    return f"{value:,.0f} us" if value >= 100 else f"{value:.1f} us"


def mib(size: float) -> str:
    return f"{size / 2**10:.0f} KiB" if size < 2**20 else f"{size / 2**20:.1f} MiB"


def secs(value: float) -> str:
    return f"{value * 1e3:.0f} ms" if value < 1 else f"{value:.2f} s"


def ratios(theirs: float, ours: list[float]) -> str:
    """Peer over each myna configuration: above 1 means myna is faster or smaller."""
    return " / ".join(f"{theirs / mine:.1f}x" if mine > 0 else "-" for mine in ours)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=list(SIZES), help="dataset sizes (1000 10000)"
    )
    args = parser.parse_args()
    sizes: list[int] = args.sizes

    workdir = Path(tempfile.mkdtemp(prefix="myna-bench-evals-"))
    mine: list[Config] = [
        Myna(streamed=False, workdir=workdir),
        Myna(streamed=True, workdir=workdir),
    ]
    try:
        peers: list[Config] = [
            PydanticEvals(max_concurrency=None),
            PydanticEvals(max_concurrency=10),
        ]
    except ImportError:
        raise SystemExit(
            "pydantic-evals is not installed here: run this script with the interpreter of a "
            "venv made with `pip install -e . -r benchmarks/requirements.txt`."
        ) from None
    configs = [*mine, *peers]
    # Every library is imported by now; freezing that heap keeps full collections from
    # re-scanning import-time objects on every run (the same for both libraries).
    gc.collect()
    gc.freeze()

    versions = ", ".join(
        f"{name} {metadata.version(name)}"
        for name in ("myna", "pydantic-evals", "pydantic", "rich")
    )
    print(f"Python {platform.python_version()} on {platform.machine()}, {versions}")
    found = {n: measure(configs, n) for n in sizes}
    waits = measure_async([*mine, peers[0]])  # both peer configs run at max_concurrency=50

    header = ["measure", mine[0].label, mine[1].label]
    for peer in peers:
        header += [peer.label, "ratio"]
    rows = [[*header, "target"]]
    missed: list[str] = []

    def row(label: str, key: str, n: int, show: Callable[[float], str], target: str) -> None:
        values = {c.label: found[n][c.label][key] for c in configs}
        ours = [values[m.label] for m in mine]
        cells = [label, *(show(v) for v in ours)]
        for peer in peers:
            cells += [show(values[peer.label]), ratios(values[peer.label], ours)]
        rows.append([*cells, target])

    for n in sizes:
        row(f"per case, wall, {n:,}", "wall", n, us, "")
    for n in sizes:
        cpu = {c.label: found[n][c.label]["cpu"] for c in configs}
        worst = max(cpu[m.label] for m in mine)
        ok = worst <= TARGET_US * 1e-6 and min(cpu[p.label] for p in peers) / worst >= TARGET_RATIO
        missed += [] if ok else [f"per case at {n:,}"]
        row(f"per case, CPU, {n:,}", "cpu", n, us, f"<= 100 us, >= 6x{'' if ok else ' (missed)'}")
    for n in sizes:
        row(f"peak memory, {n:,}", "memory", n, mib, "")
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        growth = {
            c.label: found[large][c.label]["memory"] / found[small][c.label]["memory"]
            for c in configs
        }
        ok = growth[mine[1].label] <= TARGET_MEMORY_GROWTH
        missed += [] if ok else ["memory growth"]
        cells = [f"peak memory {large:,} / {small:,}", *(f"{growth[m.label]:.2f}x" for m in mine)]
        for peer in peers:
            cells += [f"{growth[peer.label]:.2f}x", ""]
        rows.append([*cells, f"streamed <= {TARGET_MEMORY_GROWTH}x{'' if ok else ' (missed)'}"])
    for n in sizes:
        ok = max(found[n][m.label]["summary"] for m in mine) < TARGET_SUMMARY_S
        missed += [] if ok else [f"summary at {n:,}"]
        row(f"summary, {n:,}", "summary", n, secs, f"< 1 s{'' if ok else ' (missed)'}")
    floor = ASYNC_CASES / ASYNC_CONCURRENCY * ASYNC_SLEEP
    ok = max(waits[m.label] for m in mine) <= TARGET_ASYNC * floor
    missed += [] if ok else ["async"]
    cells = [f"async 50 ms, {ASYNC_CASES:,} at {ASYNC_CONCURRENCY}"]
    cells += [f"{waits[m.label]:.3f} s" for m in mine]
    cells += [
        f"{waits[peers[0].label]:.3f} s",
        ratios(waits[peers[0].label], [waits[m.label] for m in mine]),
    ]
    cells += ["(same: 50)", ""]
    rows.append([*cells, f"<= {TARGET_ASYNC}x the {floor:.1f} s floor{'' if ok else ' (missed)'}"])

    print()
    print(markdown(rows))
    print()
    print(
        "ratio: the peer over myna / over myna streamed; above 1 means myna is faster or smaller."
    )
    if missed:
        print(f"missed: {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
