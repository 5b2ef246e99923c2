"""`to_langchain(FakeChatModel)` against langchain-core's `GenericFakeChatModel`, through
LangChain's own `invoke` / `stream` (and async twins, and `batch`).

Run in the LangChain environment (langchain-core is not in myna's dev extra):

    bash tests_langchain/run --co -q   # builds .venv/langchain once
    .venv/langchain/bin/python benchmarks/bench_langchain.py

Both models sit behind the same `BaseChatModel` pipeline (callbacks, ids, chunk merging), so
the difference is what each does per call: myna converts messages both ways and runs its
own call pipeline (call log, usage estimate), the LangChain fake splits its reply with a
regular expression. The cases take turns round by round (CPU time, best round), so load
on the machine skews neither. Prints a table with ratios (LangChain fake / myna; at least
1.0 means myna is no slower) and exits 1 when a ratio is below 1.0.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time
from collections.abc import Callable

REPLY = " ".join(f"word{i}" for i in range(50))


def cases() -> dict[str, tuple[Callable[[], object], Callable[[], object]]]:
    from langchain_core.language_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    from myna.fakes import FakeChatModel
    from myna.interop.langchain import to_langchain

    ours = to_langchain(FakeChatModel([REPLY], cycle=True))
    theirs = GenericFakeChatModel(messages=iter([AIMessage(REPLY)] * 1_000_000))
    prompts = [f"question {i}" for i in range(20)]

    async def astream(model) -> None:
        async for _ in model.astream("hello"):
            pass

    return {
        "invoke": (lambda: ours.invoke("hello"), lambda: theirs.invoke("hello")),
        "ainvoke": (
            lambda: asyncio.run(ours.ainvoke("hello")),
            lambda: asyncio.run(theirs.ainvoke("hello")),
        ),
        "stream, all chunks": (
            lambda: list(ours.stream("hello")),
            lambda: list(theirs.stream("hello")),
        ),
        "astream, all chunks": (
            lambda: asyncio.run(astream(ours)),
            lambda: asyncio.run(astream(theirs)),
        ),
        "batch of 20": (lambda: ours.batch(prompts), lambda: theirs.batch(prompts)),
    }


def per_call(fn: Callable[[], object], number: int) -> float:
    start = time.process_time()
    for _ in range(number):
        fn()
    return (time.process_time() - start) / number


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=100, help="calls per round")
    parser.add_argument("--repeat", type=int, default=7, help="rounds (best one counts)")
    args = parser.parse_args()
    table = cases()
    for ours, theirs in table.values():  # warm up both
        ours()
        theirs()
    gc.collect()
    gc.freeze()  # the import-time heap: full collections would re-scan it on both sides
    best: dict[str, list[float]] = {name: [float("inf"), float("inf")] for name in table}
    for _ in range(args.repeat):
        for name, pair in table.items():
            number = max(1, args.number // (10 if "batch" in name else 1))
            for side, fn in enumerate(pair):
                best[name][side] = min(best[name][side], per_call(fn, number))
    rows = [["case", "to_langchain(FakeChatModel)", "GenericFakeChatModel", "ratio"]]
    slower = []
    for name, (ours, theirs) in best.items():
        ratio = theirs / ours
        rows.append([name, f"{ours * 1e3:.3f} ms", f"{theirs * 1e3:.3f} ms", f"{ratio:.2f}x"])
        if ratio < 1.0:
            slower.append(name)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    if slower:
        print(f"\nslower than GenericFakeChatModel: {', '.join(slower)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
