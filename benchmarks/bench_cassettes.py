"""myna cassettes against plain vcrpy (and a raw respx route), measured in the same run.

Run (vcrpy and respx are in myna's dev extra):

    python benchmarks/bench_cassettes.py

Measures:

(a) replay of one request matching the LAST interaction of cassettes of 1, 100 and 1000
    interactions (same URL for all, so the body decides: vcrpy needs ``match_on`` with
    ``body``), with playback repeats allowed so one loaded cassette serves every timed call;
    and the same request answered by a raw respx route returning the same body;
(b) loading a 1000-interaction cassette: vcrpy's ``Cassette.load`` against entering a myna
    cassette (parse + index), cold (parse cache cleared) and warm (same file content seen
    before), for JSON replies and for streamed (SSE) replies.

Prints tables with ratios (above 1 means myna is faster). Targets (issue 4): replay flat in
cassette size (1000 within 1.2x of 1), within 1.5x of the raw respx route; load at least 4x
faster than vcrpy.
"""

from __future__ import annotations

import gc
import json
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

URL = "https://api.openai.com/v1/chat/completions"
SIZES = (1, 100, 1000)


def best_of(fn: Callable[[], object], *, repeat: int = 7, number: int = 200) -> float:
    """Best mean seconds per call over `repeat` rounds of `number` calls."""
    fn()  # warm up
    rounds = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        rounds.append((time.perf_counter() - start) / number)
    return min(rounds)


def request_body(i: int) -> dict[str, Any]:
    return {
        "model": "gpt-4.1-mini",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant. Answer briefly."},
            {"role": "user", "content": f"Question {i}: what is the weather like in Paris today?"},
        ],
        "temperature": 0.2,
    }


def reply(i: int) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{i:06d}",
        "object": "chat.completion",
        "created": 1_700_000_000 + i,
        "model": "gpt-4.1-mini-2025-04-14",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": f"Answer {i}: sunny, 21 degrees."},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 31, "completion_tokens": 9, "total_tokens": 40},
    }


def sse_events(i: int) -> list[dict[str, Any]]:
    words = f"Answer {i}: it is sunny in Paris with a light breeze and 21 degrees today.".split()
    events = [
        {
            "data": {
                "id": f"chatcmpl-{i:06d}",
                "object": "chat.completion.chunk",
                "created": 1_700_000_000 + i,
                "model": "gpt-4.1-mini",
                "choices": [{"index": 0, "delta": {"content": w + " "}, "finish_reason": None}],
            }
        }
        for w in words
    ]
    return [*events, {"data": "[DONE]"}]


# ---------------------------------------------------------------- writing both formats


def write_myna(path: Path, n: int, streamed: bool = False) -> None:
    from myna.cassettes import dump_cassette, new_cassette

    interactions = []
    for i in range(n):
        response: dict[str, Any] = {"status": 200}
        if streamed:
            response["headers"] = {"content-type": "text/event-stream"}
            response["body"] = {"sse": sse_events(i)}
        else:
            response["headers"] = {"content-type": "application/json"}
            response["body"] = {"json": reply(i)}
        interactions.append(
            {
                "request": {
                    "method": "POST",
                    "url": URL,
                    "headers": {"content-type": "application/json"},
                    "body": {"json": request_body(i)},
                },
                "response": response,
            }
        )
    path.write_text(dump_cassette(new_cassette(interactions)))


def write_vcrpy(path: Path, n: int, streamed: bool = False) -> None:
    from vcr.request import Request
    from vcr.serialize import serialize
    from vcr.serializers import yamlserializer

    from myna.cassettes import sse_bytes

    requests, responses = [], []
    for i in range(n):
        requests.append(
            Request("POST", URL, json.dumps(request_body(i)), {"content-type": "application/json"})
        )
        if streamed:
            body = b"".join(sse_bytes(sse_events(i))).decode()
            ctype = "text/event-stream"
        else:
            body, ctype = json.dumps(reply(i)), "application/json"
        responses.append(
            {
                "status": {"code": 200, "message": "OK"},
                "headers": {"content-type": [ctype]},
                "body": {"string": body},
            }
        )
    text = serialize({"requests": requests, "responses": responses}, yamlserializer)
    path.write_text(text)


# ---------------------------------------------------------------- (a) replay


def replay_myna(path: Path, body: bytes, client: httpx.Client) -> float:
    from myna.cassettes import cassette

    headers = {"content-type": "application/json"}
    with cassette(path, mode="none", allow_playback_repeats=True, unplayed="ignore"):
        return best_of(lambda: client.post(URL, content=body, headers=headers), repeat=3)


def replay_vcrpy(path: Path, body: bytes, client: httpx.Client) -> float:
    import vcr

    recorder = vcr.VCR(
        record_mode="none", match_on=["method", "scheme", "host", "port", "path", "query", "body"]
    )
    headers = {"content-type": "application/json"}
    with recorder.use_cassette(str(path), allow_playback_repeats=True):
        number = 200 if path.stat().st_size < 1_000_000 else 5
        return best_of(
            lambda: client.post(URL, content=body, headers=headers), number=number, repeat=3
        )


def replay_respx(answer: dict[str, Any], body: bytes, client: httpx.Client) -> float:
    import respx

    headers = {"content-type": "application/json"}
    with respx.mock() as router:
        router.post(URL).respond(200, json=answer)
        return best_of(lambda: client.post(URL, content=body, headers=headers), repeat=3)


# ---------------------------------------------------------------- (b) load


def load_vcrpy(path: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of vcrpy's ``Cassette.load``."""
    from vcr.cassette import Cassette

    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    Cassette.load(path=str(path), record_mode="none")
    return time.perf_counter() - start, time.process_time() - cpu


def load_myna(path: Path, *, cold: bool) -> tuple[float, float]:
    """(wall, CPU) seconds to enter a cassette (read, parse, index); cold clears the parse
    cache first (untimed)."""
    from myna.cassettes import cassette, clear_cache

    def enter() -> None:
        with cassette(path, mode="none", unplayed="ignore"):
            pass

    if not cold:
        cpu = time.process_time()
        wall = best_of(enter, repeat=7, number=50)
        return wall, (time.process_time() - cpu) / (8 * 50)
    clear_cache()
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    enter()
    return time.perf_counter() - start, time.process_time() - cpu


def table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))


def main() -> None:
    warnings.simplefilter("ignore")
    folder = Path(tempfile.mkdtemp(prefix="myna-bench-"))
    client = httpx.Client()
    print("(a) replay of one request matching the last interaction (per call)\n")
    paths = {}
    for n in SIZES:
        paths[n] = folder / f"myna_{n}.yaml", folder / f"vcr_{n}.yaml"
        write_myna(paths[n][0], n)
        write_vcrpy(paths[n][1], n)
    bodies = {n: json.dumps(request_body(n - 1)).encode() for n in SIZES}
    # interleaved rounds, best of each: a busy machine slows whichever case runs at the time
    mine = {n: float("inf") for n in SIZES}
    raw = float("inf")
    for _ in range(5):
        for n in SIZES:
            mine[n] = min(mine[n], replay_myna(paths[n][0], bodies[n], client))
        raw = min(raw, replay_respx(reply(0), bodies[1], client))
    rows = []
    for n in SIZES:
        theirs = replay_vcrpy(paths[n][1], bodies[n], client)
        rows.append(
            [
                str(n),
                f"{mine[n] * 1e3:.3f} ms",
                f"{theirs * 1e3:.3f} ms",
                f"{theirs / mine[n]:.1f}x",
            ]
        )
    table(["interactions", "myna", "vcrpy", "vcrpy/myna"], rows)
    flat = mine[1000] / mine[1]
    vs_respx = max(mine.values()) / raw
    print(
        f"\nraw respx route: {raw * 1e3:.3f} ms;  slowest myna / respx: {vs_respx:.2f}x "
        "(target <= 1.5x)"
    )
    print(f"myna 1000 / myna 1: {flat:.2f}x (target <= 1.2x)")

    print("\n(b) loading a 1000-interaction cassette\n")
    rows = []
    for label, streamed in (("json replies", False), ("streamed replies (SSE)", True)):
        ours_path = folder / f"myna_load_{streamed}.yaml"
        theirs_path = folder / f"vcr_load_{streamed}.yaml"
        write_myna(ours_path, 1000, streamed)
        write_vcrpy(theirs_path, 1000, streamed)
        theirs = cold = (float("inf"), float("inf"))
        for _ in range(5):  # interleaved, best of each: the machine's load varies
            theirs = tuple(map(min, theirs, load_vcrpy(theirs_path)))  # type: ignore[assignment]
            cold = tuple(map(min, cold, load_myna(ours_path, cold=True)))  # type: ignore[assignment]
        warm = load_myna(ours_path, cold=False)
        for kind, i in (("wall", 0), ("CPU", 1)):
            rows.append(
                [
                    f"{label}, {kind}",
                    f"{theirs[i] * 1e3:.1f} ms",
                    f"{cold[i] * 1e3:.1f} ms",
                    f"{theirs[i] / cold[i]:.1f}x",
                    f"{warm[i] * 1e3:.2f} ms",
                    f"{theirs[i] / warm[i]:.0f}x",
                ]
            )
    table(["cassette, time", "vcrpy", "myna cold", "ratio", "myna warm (cached)", "ratio"], rows)
    print("\ntarget: load at least 4x faster than vcrpy")


if __name__ == "__main__":
    main()
