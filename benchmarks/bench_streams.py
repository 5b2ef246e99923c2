"""1,000 concurrent `astream` calls per protocol against the loopback emulator, old vs new code.

Run (nothing beyond myna's dev extra is needed):

    python benchmarks/bench_streams.py                  # --streams 200 for a quicker run
    python benchmarks/bench_streams.py --baseline /path/to/old/checkout/src

The emulator (`myna.emulators.serve(..., event_delay=0.005)`: 5 ms between stream events)
runs in its own process, so its per-connection threads are not counted. Each client run is a
fresh subprocess with ``PYTHONPATH`` set to one source tree, so today's code and the baseline
(by default a ``git worktree`` of the commit before the push decoders, ``d23aa6a~1``) are
measured in the same run on the same server. Per protocol it starts ``--streams`` `astream`
calls at once (one shared ``httpx.AsyncClient`` without a connection limit) and reports:

- threads: the peak of ``threading.active_count()``, sampled every 2 ms while they run;
- peak memory: ``tracemalloc``'s peak of Python allocations during the run;
- time per stream: wall time of the whole batch divided by the number of streams.

Prints a table with new/old ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPLY = " ".join(f"word{i}" for i in range(30))  # about 30 events per stream
BASE_COMMIT = "d23aa6a~1"
"""The last commit whose async streams went through a thread and two queues."""

PROTOCOLS = {
    "openai-chat": ("openai:gpt-4.1-mini", {}),
    "openai-responses": ("openai:gpt-4.1-mini", {"use_responses_api": True}),
    "anthropic-messages": ("anthropic:claude-haiku-4-5", {"max_tokens": 256}),
    "gemini": ("google_genai:gemini-2.5-flash", {}),
    "ollama": ("ollama:llama3.2", {}),
    "bedrock-converse": (
        "bedrock:anthropic.claude-3-5-haiku-20241022-v1:0",
        {"region_name": "us-east-1"},
    ),
}


def serve(streams: int) -> None:
    """Server process: print the base URL, serve until stdin closes."""
    socketserver.TCPServer.request_queue_size = max(streams * 2, 128)  # accept 1,000 at once
    from myna.emulators import serve as serve_emulator

    with serve_emulator(script=[REPLY], cycle=True, event_delay=0.005) as server:
        print(server.base_url, flush=True)
        sys.stdin.read()


async def run_protocol(protocol: str, base_url: str, streams: int) -> dict[str, float]:
    import httpx

    from myna import init_chat_model

    spec, extra = PROTOCOLS[protocol]
    client = httpx.AsyncClient(limits=httpx.Limits(max_connections=None), timeout=120)
    url = base_url + ("/v1" if protocol.startswith("openai") else "")
    model = init_chat_model(
        spec, api_key="bench-key", base_url=url, http_async_client=client, **extra
    )

    async def one() -> int:
        count = 0
        async for _ in model.astream("Say thirty words."):
            count += 1
        return count

    await one()  # warm up: imports, codec, connection set-up
    peak_threads = threading.active_count()
    done = False

    def sample() -> None:
        nonlocal peak_threads
        while not done:
            peak_threads = max(peak_threads, threading.active_count())
            time.sleep(0.002)

    # the sampler is itself a thread: subtract it from what it sees
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    tracemalloc.start()
    start = time.perf_counter()
    counts = await asyncio.gather(*(one() for _ in range(streams)))
    elapsed = time.perf_counter() - start
    _, peak_memory = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    done = True
    sampler.join()
    await client.aclose()
    assert all(c > 10 for c in counts), counts[:5]
    return {
        "threads": peak_threads - 1,
        "memory_mb": peak_memory / 1e6,
        "ms_per_stream": elapsed / streams * 1000,
        "chunks": sum(counts) / streams,
    }


def client(base_url: str, streams: int, protocols: list[str]) -> None:
    """Client process: one JSON line of results per protocol."""
    for protocol in protocols:
        try:
            result = asyncio.run(run_protocol(protocol, base_url, streams))
        except Exception as exc:  # a protocol the old code cannot stream shows as a gap
            result = {"error": f"{type(exc).__name__}: {exc}"[:200]}
        print(json.dumps({"protocol": protocol, **result}), flush=True)


def measure(src: Path, base_url: str, streams: int, protocols: list[str]) -> dict[str, dict]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--client",
            base_url,
            "--streams",
            str(streams),
            "--protocols",
            ",".join(protocols),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return {row.pop("protocol"): row for row in rows}


def baseline_src(path: str | None) -> tuple[Path, tempfile.TemporaryDirectory | None]:
    if path:
        return Path(path), None
    tmp = tempfile.TemporaryDirectory(prefix="myna-bench-base-")
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", tmp.name, BASE_COMMIT],
        check=True,
        capture_output=True,
    )
    return Path(tmp.name) / "src", tmp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--baseline", help="src/ of the old code (default: a git worktree)")
    parser.add_argument("--protocols", default=",".join(PROTOCOLS))
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    args = parser.parse_args()
    protocols = args.protocols.split(",")
    if args.serve:
        return serve(args.streams)
    if args.client:
        return client(args.client, args.streams, protocols)

    old_src, tmp = baseline_src(args.baseline)
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--streams", str(args.streams)],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        base_url = server.stdout.readline().strip()
        old = measure(old_src, base_url, args.streams, protocols)
        new = measure(ROOT / "src", base_url, args.streams, protocols)
    finally:
        server.stdin.close()
        server.wait(timeout=30)
        if tmp is not None:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", tmp.name],
                capture_output=True,
            )
            tmp.cleanup()

    print(f"{args.streams} concurrent astream calls per protocol, 5 ms between events")
    head = f"{'protocol':<20}{'threads old/new':>17}{'peak MB old/new':>20}{'ratio':>7}"
    head += f"{'ms/stream old/new':>20}{'ratio':>7}"
    print(head)
    for protocol in protocols:
        o, n = old.get(protocol, {}), new.get(protocol, {})
        if "error" in o or "error" in n:
            print(f"{protocol:<20} old: {o.get('error', 'ok')} | new: {n.get('error', 'ok')}")
            continue
        print(
            f"{protocol:<20}{o['threads']:>8} / {n['threads']:<6}"
            f"{o['memory_mb']:>10.1f} / {n['memory_mb']:<7.1f}"
            f"{n['memory_mb'] / o['memory_mb']:>6.2f}x"
            f"{o['ms_per_stream']:>10.2f} / {n['ms_per_stream']:<7.2f}"
            f"{n['ms_per_stream'] / o['ms_per_stream']:>6.2f}x"
        )


if __name__ == "__main__":
    main()
