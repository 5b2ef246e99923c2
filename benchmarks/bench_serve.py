"""`myna serve` under 50 concurrent streaming clients for a bounded time: errors, latency, memory.

Run (nothing beyond myna's dev extra is needed; not run in CI):

    python benchmarks/bench_serve.py                 # 50 clients for 20 s
    python benchmarks/bench_serve.py --seconds 5     # a quicker run
    python benchmarks/bench_serve.py --clients 100 --fresh-connections

The server is the real command, ``python -m myna serve openai --cycle --no-auth`` with a
30-word reply, in its own process, so its memory is its own. The clients are asyncio tasks in
this process, each with its own ``httpx.AsyncClient``, each sending streamed Chat Completions
requests one after another until the time is up, and reading every event to ``[DONE]``.

Reported:

- errors: requests that raised (refused or reset connections, timeouts), answered other than
  200, or whose stream ended before ``[DONE]``;
- latency: p50 / p99 / max of the time from sending a request to its last event, and p50 of
  the time to its first event;
- requests/s over the measured part (after the warm-up);
- memory: the server's resident set size (RSS, from ``/proc``) after the warm-up and at the
  end, its peak, and the growth per 1,000 requests after the warm-up (flat is the target: the
  request log keeps only the newest 1,000 requests).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPLY = " ".join(f"word{i}" for i in range(30))  # about 30 events per stream


@dataclass
class Tally:
    """What the clients saw, split at the end of the warm-up."""

    pid: int
    warm_requests: int
    warm_at: float | None = None
    warm_rss: float | None = None
    latencies: list[float] = field(default_factory=list)
    first_event: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    completed: int = 0
    measured_requests: int = 0

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def done(self, started: float, ended: float, first: float) -> None:
        self.completed += 1
        if self.warm_at is None:
            if self.completed >= self.warm_requests:  # the server's request log is full
                self.warm_at, self.warm_rss = ended, rss_mib(self.pid)
            return
        if started >= self.warm_at:
            self.measured_requests += 1
            self.latencies.append(ended - started)
            self.first_event.append(first)


def rss_mib(pid: int) -> float:
    """Resident set size of process `pid` in MiB (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def start_server(folder: Path) -> tuple[subprocess.Popen[str], str]:
    script = folder / "script.yaml"
    script.write_text(f"replies:\n  - {REPLY}\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    command = ["myna", "serve", "openai", "--cycle", "--no-auth", "--script", str(script)]
    proc = subprocess.Popen(
        [sys.executable, "-m", *command],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    base_url = proc.stdout.readline().strip()
    if not base_url.startswith("http"):
        proc.kill()
        raise SystemExit(f"myna serve did not start: {base_url!r}")
    return proc, base_url


async def client(base_url: str, deadline: float, tally: Tally, fresh: bool) -> None:
    import httpx

    body = {
        "model": "gpt-4.1-mini",
        "messages": [{"role": "user", "content": "Tell me something."}],
        "stream": True,
    }
    headers = {"connection": "close"} if fresh else {}
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=0 if fresh else 1)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as http:
        while time.monotonic() < deadline:
            started = time.monotonic()
            first = None
            done = False
            try:
                async with http.stream(
                    "POST", "/v1/chat/completions", json=body, headers=headers
                ) as response:
                    if response.status_code != 200:
                        await response.aread()
                        tally.error(f"status {response.status_code}")
                        continue
                    async for line in response.aiter_lines():
                        if first is None and line.startswith("data:"):
                            first = time.monotonic() - started
                        if line.strip() == "data: [DONE]":
                            done = True
            except Exception as exc:  # every failure is counted by kind, none stops the run
                tally.error(type(exc).__name__)
                continue
            if not done:
                tally.error("stream cut before [DONE]")
                continue
            tally.done(started, time.monotonic(), first or 0.0)


async def run(base_url: str, pid: int, args: argparse.Namespace) -> dict[str, object]:
    tally = Tally(pid, args.warmup_requests)
    deadline = time.monotonic() + args.seconds
    tasks = [
        asyncio.create_task(client(base_url, deadline, tally, args.fresh_connections))
        for _ in range(args.clients)
    ]
    samples: list[float] = []
    while not all(task.done() for task in tasks):
        await asyncio.sleep(0.5)
        samples.append(rss_mib(pid))
    await asyncio.gather(*tasks)
    end_rss = rss_mib(pid)
    if tally.warm_at is None or tally.warm_rss is None:
        raise SystemExit(
            f"only {tally.completed} requests in {args.seconds:g} s, fewer than the warm-up's "
            f"{args.warmup_requests}: run longer (--seconds) or warm up less (--warmup-requests)"
        )
    measured_seconds = max(deadline - tally.warm_at, 1e-9)
    grown = end_rss - tally.warm_rss
    per_1000 = grown / (tally.measured_requests / 1000) if tally.measured_requests else 0.0
    lat = sorted(tally.latencies)

    def pct(values: list[float], q: float) -> float:
        if not values:
            return float("nan")
        return values[min(len(values) - 1, int(q * len(values)))] * 1000

    return {
        "clients": args.clients,
        "seconds": args.seconds,
        "warm-up (requests, seconds)": f"{args.warmup_requests:,}, "
        f"{args.seconds - measured_seconds:.1f}",
        "requests (measured)": tally.measured_requests,
        "errors": sum(tally.errors.values()),
        "error kinds": ", ".join(f"{k}: {v}" for k, v in sorted(tally.errors.items())) or "-",
        "requests/s": tally.measured_requests / measured_seconds,
        "latency p50 (ms)": pct(lat, 0.50),
        "latency p99 (ms)": pct(lat, 0.99),
        "latency max (ms)": lat[-1] * 1000 if lat else float("nan"),
        "first event p50 (ms)": (
            statistics.median(tally.first_event) * 1000 if tally.first_event else float("nan")
        ),
        "server RSS after warm-up (MiB)": tally.warm_rss,
        "server RSS at end (MiB)": end_rss,
        "server RSS peak (MiB)": max([*samples, end_rss]),
        "MiB per 1,000 requests": per_1000,
    }


def print_table(result: dict[str, object]) -> None:
    print("| measure | value |")
    print("|---|---|")
    for name, value in result.items():
        if isinstance(value, float):
            shown = f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
        elif isinstance(value, int):
            shown = f"{value:,}"
        else:
            shown = str(value)
        print(f"| {name} | {shown} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (50)")
    parser.add_argument("--seconds", type=float, default=20.0, help="run time (20 s)")
    parser.add_argument(
        "--warmup-requests",
        type=int,
        default=1500,
        help="requests not measured (1,500: past the 1,000 the server's request log keeps)",
    )
    parser.add_argument(
        "--fresh-connections",
        action="store_true",
        help="a new connection per request (Connection: close), to load accept() too",
    )
    args = parser.parse_args(argv)
    if args.clients < 1 or args.seconds <= 0:
        parser.error("--clients and --seconds must be positive")
    if args.warmup_requests < 1:
        parser.error("--warmup-requests must be at least 1")
    if not Path("/proc/self/status").exists():
        parser.error("the server's memory is read from /proc: run this on Linux")
    with tempfile.TemporaryDirectory() as tmp:
        proc, base_url = start_server(Path(tmp))
        try:
            result = asyncio.run(run(base_url, proc.pid, args))
        finally:
            proc.send_signal(signal.SIGINT)  # myna serve stops cleanly on Ctrl-C
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(f"myna serve, {args.clients} streaming clients, {args.seconds:g} s")
    print_table(result)
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
