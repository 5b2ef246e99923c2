"""FakeChatModel against langchain-core's GenericFakeChatModel and pydantic-ai's TestModel.

Run (peers live in their own venv, not in myna's dev extra):

    python -m venv .bench && .bench/bin/pip install -e . -r benchmarks/requirements.txt
    .bench/bin/python benchmarks/bench_fakes.py

Measures, in one run: invoke of a 50-word reply, stream of it (every chunk consumed), batch
of 100, and `import myna` against `import pydantic` in fresh interpreters. Prints a table
with the ratios (peer time / myna time; above 1 means myna is faster).
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

REPLY = " ".join(f"word{i}" for i in range(50))
TARGETS = {"invoke": 10.0, "stream": 5.0, "batch": 10.0}


def best_of(fn: Callable[[], object], *, repeat: int = 7, number: int = 50) -> float:
    """Best mean seconds per call over `repeat` rounds of `number` calls."""
    fn()  # warm up
    rounds = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        rounds.append((time.perf_counter() - start) / number)
    return min(rounds)


def myna_cases() -> dict[str, Callable[[], object]]:
    from myna.fakes import FakeChatModel

    model = FakeChatModel([REPLY], cycle=True)
    prompts = [f"question {i}" for i in range(100)]
    return {
        "invoke": lambda: model.invoke("hello"),
        "stream": lambda: [c for c in model.stream("hello")],
        "batch": lambda: model.batch(prompts),
    }


def langchain_cases() -> dict[str, Callable[[], object]] | None:
    try:
        from langchain_core.language_models import GenericFakeChatModel
        from langchain_core.messages import AIMessage
    except ImportError:
        return None

    def fresh() -> GenericFakeChatModel:
        return GenericFakeChatModel(messages=iter([AIMessage(REPLY)] * 10_000))

    model = fresh()
    batch_model = fresh()
    prompts = [f"question {i}" for i in range(100)]
    return {
        "invoke": lambda: model.invoke("hello"),
        "stream": lambda: [c for c in model.stream("hello")],
        "batch": lambda: batch_model.batch(prompts),
    }


def pydantic_ai_cases() -> dict[str, Callable[[], object]] | None:
    try:
        from pydantic_ai import Agent
        from pydantic_ai.models.test import TestModel
    except ImportError:
        return None

    agent = Agent(TestModel(custom_output_text=REPLY))

    async def stream_all() -> None:
        async with agent.run_stream("hello") as result:
            async for _ in result.stream_text(delta=True):
                pass

    async def batch_all() -> None:
        await asyncio.gather(*(agent.run(f"question {i}") for i in range(100)))

    return {
        "invoke": lambda: agent.run_sync("hello"),
        "stream": lambda: asyncio.run(stream_all()),
        "batch": lambda: asyncio.run(batch_all()),
    }


def import_time(module: str, runs: int = 7) -> float:
    """Median wall time of ``python -c 'import module'`` minus a bare interpreter start."""

    def run(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - start

    bare = statistics.median(run("pass") for _ in range(runs))
    return statistics.median(run(f"import {module}") for _ in range(runs)) - bare


def main() -> None:
    numbers = {"invoke": 200, "stream": 50, "batch": 5}
    peers = {
        "GenericFakeChatModel": langchain_cases(),
        "pydantic-ai TestModel": pydantic_ai_cases(),
    }
    mine = myna_cases()
    # Every library is imported by now. Freezing that heap keeps full garbage collections,
    # triggered by whichever side allocates, from re-scanning the peers' and our import-time
    # objects on every run: the same for all three, and closer to a test suite's steady state.
    gc.collect()
    gc.freeze()
    rows = []
    for case, fn in mine.items():
        ours = best_of(fn, number=numbers[case])
        row = [case, f"{ours * 1e3:.3f} ms"]
        for cases in peers.values():
            if cases is None:
                row += ["not installed", "-"]
                continue
            theirs = best_of(cases[case], number=numbers[case])
            row += [f"{theirs * 1e3:.3f} ms", f"{theirs / ours:.1f}x"]
        row.append(f">= {TARGETS[case]:.0f}x vs GenericFakeChatModel")
        rows.append(row)
    header = ["case", "myna", "GenericFake", "ratio", "TestModel", "ratio", "target"]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))

    pyd = import_time("pydantic")
    ours = import_time("myna")
    print()
    print(
        f"import pydantic: {pyd * 1e3:.1f} ms   import myna: {ours * 1e3:.1f} ms   "
        f"difference: {(ours - pyd) * 1e3:+.1f} ms (target: at most +40 ms)"
    )


if __name__ == "__main__":
    main()
