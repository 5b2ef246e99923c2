"""A myna provider call against its emulator, the official SDK, and a raw respx route.

Run (the SDKs are in myna's dev extra; nothing else is needed):

    python benchmarks/bench_providers.py            # add --number 100 for a quicker run

For each protocol (OpenAI Chat Completions, Anthropic Messages) it times one call, in-process
(respx, no sockets), in five ways:

- ``raw httpx + respx route``: a bare ``httpx.Client`` posting the request body to a respx
  route that answers a pre-rendered JSON reply, then ``response.json()``. The floor.
- ``myna + respx route``: the myna provider's ``invoke`` against that same route: request
  encoding, headers, the call pipeline (callbacks, retries, ids) and decoding into an
  `AIMessage`. Its ratio to the floor is myna's per-call overhead; target: at most 1.5x.
- ``SDK + respx route``: the official SDK against the same reply (through httpx2).
- ``myna + emulate()`` / ``SDK + emulate()``: the same calls answered by the emulator, which
  decodes each request, runs the script and renders the reply (its own cost is the gap
  between these rows and the route rows).

Prints a table of CPU microseconds per call with ratios to the raw client on the same mock,
and exits 1 if myna's overhead misses the target.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time
from collections.abc import Callable
from typing import Any

REPLY = "The capital of France is Paris, which is also its largest city by population."
PROMPT = "What is the capital of France?"
TARGET = 1.5


Case = tuple[str, Callable[[], Any], bool]
"""(label, function, is_async): one way of making the call."""


async def interleaved(cases: list[Case], *, number: int, repeat: int) -> dict[str, float]:
    """Best mean CPU seconds per call of each case, the cases taking turns round by round.

    CPU time of this process (`time.process_time`) rather than wall time, and alternating
    rounds, so that other load on the machine skews neither the times nor the ratios.
    """
    for _, fn, is_async in cases:  # warm up: shared clients, lazy imports, caches
        for _ in range(max(number // 10, 5)):
            result = fn()
            if is_async:
                await result
    best = {label: float("inf") for label, _, _ in cases}
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            for label, fn, is_async in cases:
                start = time.process_time()
                if is_async:
                    for _ in range(number):
                        await fn()
                else:
                    for _ in range(number):
                        fn()
                best[label] = min(best[label], (time.process_time() - start) / number)
                gc.collect()
    finally:
        if gc_was_enabled:
            gc.enable()
    return best


class Protocol:
    """What one protocol needs: its URL, body, rendered reply, myna model and SDK call."""

    def __init__(self, name: str) -> None:
        from myna import init_chat_model
        from myna.codecs import get_codec
        from myna.messages import AIMessage

        self.name = name
        usage = {"input_tokens": 12, "output_tokens": 16, "total_tokens": 28}
        message = AIMessage(REPLY, id="msg-1", usage_metadata=usage)
        if name == "openai":
            self.emulated = "openai"
            self.url = "https://api.openai.com/v1/chat/completions"
            self.codec = get_codec("openai-chat")
            self.params = {"model": "gpt-4.1-mini"}
            self.headers = {"authorization": "Bearer sk-bench"}
            self.model = init_chat_model("openai:gpt-4.1-mini", api_key="sk-bench")
        else:
            self.emulated = "anthropic"
            self.url = "https://api.anthropic.com/v1/messages"
            self.codec = get_codec("anthropic-messages")
            self.params = {"model": "claude-haiku-4-5", "max_tokens": 1024}
            self.headers = {"x-api-key": "sk-bench", "anthropic-version": "2023-06-01"}
            self.model = init_chat_model(
                "anthropic:claude-haiku-4-5", api_key="sk-bench", max_tokens=1024
            )
        from myna.messages import HumanMessage

        self.body = self.codec.encode_request([HumanMessage(PROMPT)], self.params)
        self.reply = self.codec.render_response(message, self.params)

    # -- the callers ----------------------------------------------------------------------------

    def raw(self) -> Callable[[], object]:
        import httpx

        client = httpx.Client()
        return lambda: client.post(self.url, json=self.body, headers=self.headers).json()

    def araw(self) -> Callable[[], Any]:
        import httpx

        client = httpx.AsyncClient()  # built inside the benchmark's event loop

        async def call() -> object:
            response = await client.post(self.url, json=self.body, headers=self.headers)
            return response.json()

        return call

    def myna(self) -> Callable[[], object]:
        return lambda: self.model.invoke(PROMPT)

    def amyna(self) -> Callable[[], Any]:
        return lambda: self.model.ainvoke(PROMPT)

    def sdk(self) -> Callable[[], object]:
        if self.name == "openai":
            import openai

            client = openai.OpenAI(api_key="sk-bench", max_retries=0)
            return lambda: client.chat.completions.create(
                model="gpt-4.1-mini", messages=[{"role": "user", "content": PROMPT}]
            )
        import anthropic

        client = anthropic.Anthropic(api_key="sk-bench", max_retries=0)
        return lambda: client.messages.create(
            model="claude-haiku-4-5",
            max_tokens=1024,
            messages=[{"role": "user", "content": PROMPT}],
        )


def route(protocol: Protocol) -> Any:
    """A respx route answering the pre-rendered reply, for httpx and httpx2 clients."""
    import respx

    from myna.emulators._httpcore2 import HTTPCore2Mocker

    routers = []
    for using in ("httpcore", HTTPCore2Mocker.name):
        router = respx.MockRouter(assert_all_called=False, using=using)
        router.post(protocol.url).respond(json=protocol.reply)
        routers.append(router)
    return routers


async def measure(protocol: Protocol, number: int, repeat: int) -> dict[str, float]:
    from myna.emulators import emulate

    routers = route(protocol)
    for router in routers:
        router.start()
    try:
        times = await interleaved(
            [
                ("raw httpx + respx route", protocol.raw(), False),
                ("myna invoke + respx route", protocol.myna(), False),
                ("SDK + respx route", protocol.sdk(), False),
                ("raw httpx async + respx route", protocol.araw(), True),
                ("myna ainvoke + respx route", protocol.amyna(), True),
            ],
            number=number,
            repeat=repeat,
        )
    finally:
        for router in routers:
            router.stop()
    with emulate(protocol.emulated, [REPLY], cycle=True) as server:
        times |= await interleaved(
            [
                ("raw httpx + emulate()", protocol.raw(), False),
                ("myna invoke + emulate()", protocol.myna(), False),
                ("SDK + emulate()", protocol.sdk(), False),
            ],
            number=number,
            repeat=repeat,
        )
        server.requests.clear()
    return times


def report(protocol: Protocol, times: dict[str, float]) -> list[bool]:
    """Print one protocol's table; return whether each overhead target was met."""
    sync_floor = times["raw httpx + respx route"]
    async_floor = times["raw httpx async + respx route"]
    emulated_floor = times["raw httpx + emulate()"]
    print(f"\n{protocol.name} ({protocol.url})")
    print(f"  {'case':<32} {'us/call':>9} {'vs raw':>8}")
    for case, seconds in times.items():
        if "emulate" in case:
            floor = emulated_floor
        elif "async" in case or "ainvoke" in case:
            floor = async_floor
        else:
            floor = sync_floor
        print(f"  {case:<32} {seconds * 1e6:>9.1f} {seconds / floor:>7.2f}x")
    verdicts = []
    for label, mine, floor in (
        ("sync", times["myna invoke + respx route"], sync_floor),
        ("async", times["myna ainvoke + respx route"], async_floor),
    ):
        ratio = mine / floor
        verdicts.append(ratio <= TARGET)
        print(
            f"  myna overhead ({label}): {ratio:.2f}x the raw respx route "
            f"({(mine - floor) * 1e6:+.0f} us/call; target <= {TARGET}x) "
            f"{'OK' if ratio <= TARGET else 'MISSED'}"
        )
    sdk_ratio = times["SDK + emulate()"] / times["myna invoke + emulate()"]
    print(f"  against the emulator the official SDK takes {sdk_ratio:.2f}x myna's time")
    return verdicts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=200, help="calls per timing round")
    parser.add_argument("--repeat", type=int, default=7, help="rounds per case (best is kept)")
    args = parser.parse_args(argv)

    async def run() -> list[bool]:
        verdicts: list[bool] = []
        for name in ("openai", "anthropic"):
            protocol = Protocol(name)
            times = await measure(protocol, args.number, args.repeat)
            verdicts += report(protocol, times)
        return verdicts

    return 0 if all(asyncio.run(run())) else 1


if __name__ == "__main__":
    sys.exit(main())
