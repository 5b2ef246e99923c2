"""Cassettes used at once by threads and asyncio tasks: each request goes to its context's one.

Issue 11: with two threads (or tasks) each inside its own cassette, all traffic went to the
one opened last, process-wide. Recording goes through an in-process emulator; each request
carries its owner's tag, and every cassette must hold exactly its owner's requests.
"""

from __future__ import annotations

import asyncio
import contextvars
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from myna.cassettes import cassette, load_cassette
from myna.cassettes._transport import current_session
from myna.emulators import emulate

URL = "https://api.openai.com/v1/chat/completions"


def _body(tag: str, n: int) -> dict[str, Any]:
    return {
        "model": "gpt-4.1-mini",
        "messages": [{"role": "user", "content": f"{tag}#{n}"}],
        "stream": n % 2 == 1,  # odd requests stream: the tee records them when they close
    }


def _tags(path: Path) -> list[str]:
    return [
        item["request"]["body"]["json"]["messages"][0]["content"]
        for item in load_cassette(path)["interactions"]
    ]


@pytest.fixture
def server() -> Iterator[Any]:
    with emulate("openai", script=["ok"], cycle=True, require_auth=False) as emulator:
        yield emulator


def _run_thread(
    folder: Path, t: int, tasks: int, per: int, barrier: threading.Barrier, mode: str
) -> None:
    """One thread: its own cassette, then `tasks` asyncio tasks each with their own."""

    async def task(k: int, started: asyncio.Event, go: asyncio.Event) -> None:
        async with httpx.AsyncClient(verify=False) as client:
            with cassette(folder / f"t{t}-k{k}.yaml", mode=mode):
                started.set()
                await go.wait()  # every task's cassette is open before anyone sends
                for n in range(per):
                    (await client.post(URL, json=_body(f"t{t}-k{k}", n))).raise_for_status()
                    await asyncio.sleep(0)

    async def tasks_in_turn() -> None:
        go = asyncio.Event()
        flags = [asyncio.Event() for _ in range(tasks)]
        running = [asyncio.create_task(task(k, flags[k], go)) for k in range(tasks)]
        for flag in flags:
            await flag.wait()
        go.set()
        await asyncio.gather(*running)

    with httpx.Client(verify=False) as client, cassette(folder / f"t{t}.yaml", mode=mode):
        barrier.wait()  # every thread's cassette is open before anyone sends
        for n in range(per):
            client.post(URL, json=_body(f"t{t}", n)).raise_for_status()
        asyncio.run(tasks_in_turn())
        for n in range(per, 2 * per):  # after the tasks closed theirs: still this thread's
            client.post(URL, json=_body(f"t{t}", n)).raise_for_status()


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    threads=st.integers(1, 4),
    tasks=st.integers(0, 3),
    per=st.integers(1, 3),
)
def test_threads_and_tasks_each_record_and_replay_their_own_traffic(server, threads, tasks, per):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)

        def run_all(mode: str) -> None:
            barrier = threading.Barrier(threads)
            errors: list[BaseException] = []

            def run(t: int) -> None:
                try:
                    _run_thread(folder, t, tasks, per, barrier, mode)
                except BaseException as exc:  # reported below
                    errors.append(exc)
                    barrier.abort()

            workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            assert errors == []

        run_all("all")
        for t in range(threads):
            assert _tags(folder / f"t{t}.yaml") == [f"t{t}#{n}" for n in range(2 * per)]
            for k in range(tasks):
                assert _tags(folder / f"t{t}-k{k}.yaml") == [f"t{t}-k{k}#{n}" for n in range(per)]
        sent = len(server.requests)
        run_all("none")  # a request routed to another's cassette would be a miss
        assert len(server.requests) == sent  # every one replayed, none reached the emulator


def test_a_task_started_inside_a_cassette_uses_it_and_a_sibling_task_its_own(tmp_path, server):
    outer, inner = tmp_path / "outer.yaml", tmp_path / "inner.yaml"

    async def main() -> None:
        async with httpx.AsyncClient(verify=False) as client:
            async with cassette(outer, mode="all"):
                child = asyncio.create_task(client.post(URL, json=_body("child", 0)))
                opened, release = asyncio.Event(), asyncio.Event()

                async def sibling() -> None:
                    async with cassette(inner, mode="all"):
                        opened.set()
                        await release.wait()
                        await client.post(URL, json=_body("sibling", 0))

                other = asyncio.create_task(sibling())
                await opened.wait()  # the sibling's cassette is now the last one opened
                await client.post(URL, json=_body("parent", 0))
                await child
                release.set()
                await other

    asyncio.run(main())
    assert _tags(outer) == ["parent#0", "child#0"] or _tags(outer) == ["child#0", "parent#0"]
    assert _tags(inner) == ["sibling#0"]


def test_a_plain_thread_inside_a_cassette_records_into_it(tmp_path, server):
    """A thread started inside a cassette does not inherit the context; it gets the
    innermost cassette opened anywhere, as before (thread pools inside one cassette)."""
    path = tmp_path / "pool.yaml"
    with httpx.Client(verify=False) as client, cassette(path, mode="all") as active:
        seen: list[Any] = []

        def work(n: int) -> None:
            seen.append(current_session())
            client.post(URL, json=_body("pool", n)).raise_for_status()

        workers = [threading.Thread(target=work, args=(n,)) for n in range(3)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    assert seen == [active] * 3
    assert sorted(_tags(path)) == ["pool#0", "pool#1", "pool#2"]


def test_a_copied_context_pins_a_thread_to_its_parents_cassette(tmp_path, server):
    """With another thread's cassette opened later, a plain thread would fall back to that
    one; run in a copy of the parent's context, it stays with the parent's cassette."""
    mine, theirs = tmp_path / "mine.yaml", tmp_path / "theirs.yaml"
    opened, done = threading.Event(), threading.Event()

    def other_thread() -> None:
        with cassette(theirs, mode="all"):
            opened.set()
            done.wait(5)

    other = threading.Thread(target=other_thread)
    with httpx.Client(verify=False) as client, cassette(mine, mode="all"):
        other.start()
        opened.wait(5)
        context = contextvars.copy_context()
        pinned = threading.Thread(
            target=context.run, args=(client.post, URL), kwargs={"json": _body("pinned", 0)}
        )
        pinned.start()
        pinned.join()
        client.post(URL, json=_body("parent", 0))
        done.set()
        other.join()
    assert _tags(mine) == ["pinned#0", "parent#0"]
    assert not theirs.exists()  # nothing was recorded into the other thread's cassette


def test_a_stopped_cassette_leaves_no_claim_in_a_copied_context(tmp_path, server):
    """A context copied while a cassette was open (a task) does not send to it once stopped,
    even when the same Cassette object is started again elsewhere."""
    path = tmp_path / "again.yaml"
    session = cassette(path, mode="all")
    with session:
        copied = contextvars.copy_context()
    with session:  # started again: a new claim, not the one the copy holds
        assert copied.run(current_session) is session  # the process-wide fallback
    assert copied.run(current_session) is None
