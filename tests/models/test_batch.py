"""batch / abatch / batch_as_completed / abatch_as_completed: order, limits, errors."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from myna.exceptions import UserError
from myna.fakes import FakeChatModel
from myna.messages import AIMessage
from myna.models import ChatModel, ChatRequest


class Gauge:
    """Counts calls in flight and remembers the most seen at once."""

    def __init__(self) -> None:
        self.active = 0
        self.peak = 0
        self.lock = threading.Lock()

    def enter(self) -> None:
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)

    def leave(self) -> None:
        with self.lock:
            self.active -= 1


class Blocking(ChatModel):
    """A blocking model: each call waits until `width` calls are in flight (or a timeout).

    The wait makes concurrency observable without timing: with a limit of N, calls pile up
    to exactly N and no further (a limit below `width` would time the barrier out).
    """

    def __init__(self, width: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gauge = Gauge()
        self.width = width
        self.barrier = threading.Barrier(width) if width > 1 else None
        self.configs: list[dict] = []

    def _generate(self, request: ChatRequest) -> AIMessage:
        self.gauge.enter()
        try:
            if self.barrier is not None:
                # tests use input counts that are multiples of the width, so every wave
                # fills the barrier and the timeout is only a safety net
                self.barrier.wait(timeout=5)
            text = request.messages[-1].text
            self.configs.append(dict(request.config))
            if text == "boom":
                raise ValueError(f"boom for {text}")
            return AIMessage(text.upper())
        finally:
            self.gauge.leave()

    async def _agenerate(self, request: ChatRequest) -> AIMessage:
        self.gauge.enter()
        try:
            # yield to the loop a few times so other calls can start if they are allowed to
            for _ in range(5):
                await asyncio.sleep(0)
            text = request.messages[-1].text
            self.configs.append(dict(request.config))
            if text == "boom":
                raise ValueError("boom")
            return AIMessage(text.upper())
        finally:
            self.gauge.leave()


INPUTS = [f"q{i}" for i in range(12)]  # a multiple of every barrier width used below
EXPECTED = [f"Q{i}" for i in range(12)]


def texts(results: list[Any]) -> list[Any]:
    return [r.text if isinstance(r, AIMessage) else r for r in results]


# -- batch --------------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_batch_respects_max_concurrency(limit: int) -> None:
    model = Blocking(width=limit)
    assert texts(model.batch(INPUTS, max_concurrency=limit)) == EXPECTED
    assert model.gauge.peak == limit


def test_batch_reads_max_concurrency_from_config() -> None:
    model = Blocking(width=2)
    assert texts(model.batch(INPUTS, config={"max_concurrency": 2})) == EXPECTED
    assert model.gauge.peak == 2


def test_batch_runs_in_parallel_by_default() -> None:
    model = Blocking(width=4)
    model.batch(INPUTS[:4])
    assert model.gauge.peak == 4


@pytest.mark.parametrize("limit", [1, 3])
async def test_abatch_respects_max_concurrency(limit: int) -> None:
    model = Blocking()
    assert texts(await model.abatch(INPUTS, max_concurrency=limit)) == EXPECTED
    assert model.gauge.peak == limit


async def test_abatch_reads_max_concurrency_from_config() -> None:
    model = Blocking()
    await model.abatch(INPUTS, config={"max_concurrency": 2})
    assert model.gauge.peak == 2


async def test_abatch_is_concurrent_by_default() -> None:
    model = Blocking()
    await model.abatch(INPUTS)
    assert model.gauge.peak == len(INPUTS)


def test_return_exceptions_puts_errors_in_place() -> None:
    results = Blocking().batch(["a", "boom", "c"], return_exceptions=True)
    assert texts(results[::2]) == ["A", "C"]
    assert isinstance(results[1], ValueError)


async def test_return_exceptions_puts_errors_in_place_async() -> None:
    results = await Blocking().abatch(["a", "boom", "c"], return_exceptions=True)
    assert texts(results[::2]) == ["A", "C"]
    assert isinstance(results[1], ValueError)


def test_first_error_propagates_without_return_exceptions() -> None:
    with pytest.raises(ValueError, match="boom"):
        Blocking().batch(["a", "boom", "c"])


async def test_first_error_propagates_without_return_exceptions_async() -> None:
    with pytest.raises(ValueError, match="boom"):
        await Blocking().abatch(["a", "boom", "c"])


def test_empty_batch() -> None:
    assert Blocking().batch([]) == []
    assert list(Blocking().batch_as_completed([])) == []


async def test_empty_abatch() -> None:
    assert await Blocking().abatch([]) == []
    assert [x async for x in Blocking().abatch_as_completed([])] == []


# -- configs ------------------------------------------------------------------------------------

MISMATCH = (
    "batch got 1 configs for 2 inputs; pass one config dict for all inputs, or a list with "
    "exactly one config per input."
)


@pytest.mark.parametrize("method", ["batch", "batch_as_completed"])
def test_config_list_length_mismatch(method: str) -> None:
    with pytest.raises(UserError) as exc:
        list(getattr(Blocking(), method)(["a", "b"], config=[{}]))
    assert str(exc.value) == MISMATCH


@pytest.mark.parametrize("method", ["abatch", "abatch_as_completed"])
async def test_config_list_length_mismatch_async(method: str) -> None:
    with pytest.raises(UserError) as exc:
        result = getattr(Blocking(), method)(["a", "b"], config=[{}])
        if method == "abatch":
            await result
        else:
            [x async for x in result]
    assert str(exc.value) == MISMATCH


def test_config_must_be_a_dict_or_a_list() -> None:
    with pytest.raises(UserError, match="config must be a dict or a list of dicts, got str"):
        Blocking().batch(["a"], config="tags")


@pytest.mark.parametrize("bad", [0, -1, 1.5])
def test_max_concurrency_must_be_positive(bad: Any) -> None:
    with pytest.raises(UserError, match=f"max_concurrency={bad!r} must be a positive int or None"):
        Blocking().batch(["a", "b"], max_concurrency=bad)


async def test_max_concurrency_must_be_positive_async() -> None:
    with pytest.raises(UserError, match="max_concurrency=0 must be a positive int or None"):
        await Blocking().abatch(["a", "b"], max_concurrency=0)


def test_one_config_per_input() -> None:
    model = Blocking()
    model.batch(["a", "b"], config=[{"tags": ["first"]}, {"tags": ["second"]}], max_concurrency=1)
    assert [c["tags"] for c in model.configs] == [["first"], ["second"]]


def test_a_shared_config_gives_run_id_to_the_first_input_only() -> None:
    model = Blocking()
    model.batch(["a", "b"], config={"run_id": "r1", "tags": ["t"]}, max_concurrency=1)
    assert model.configs == [{"run_id": "r1", "tags": ["t"]}, {"tags": ["t"]}]


def test_per_call_parameters_reach_every_input() -> None:
    model = FakeChatModel(["a", "b"])
    model.batch(["x", "y"], temperature=0.3)
    assert [c.params["temperature"] for c in model.calls] == [0.3, 0.3]


# -- as completed -------------------------------------------------------------------------------


class Ordered(ChatModel):
    """Input "late" blocks until the test releases it, so completion order is known."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.release = threading.Event()
        self.async_release: asyncio.Event | None = None

    def _generate(self, request: ChatRequest) -> AIMessage:
        text = request.messages[-1].text
        if text == "late":
            assert self.release.wait(timeout=5), "the test never released 'late'"
        if text == "boom":
            raise ValueError("boom")
        return AIMessage(text)

    async def _agenerate(self, request: ChatRequest) -> AIMessage:
        if self.async_release is None:
            self.async_release = asyncio.Event()
        text = request.messages[-1].text
        if text == "late":
            await asyncio.wait_for(self.async_release.wait(), timeout=5)
        if text == "boom":
            raise ValueError("boom")
        return AIMessage(text)


def test_batch_as_completed_yields_in_completion_order() -> None:
    model = Ordered()
    pairs = model.batch_as_completed(["late", "early"])
    first = next(pairs)  # "late" cannot finish before this
    model.release.set()
    rest = list(pairs)
    assert [(i, r.text) for i, r in [first, *rest]] == [(1, "early"), (0, "late")]


async def test_abatch_as_completed_yields_in_completion_order() -> None:
    model = Ordered()
    pairs = model.abatch_as_completed(["late", "early"])
    first = await pairs.__anext__()
    assert model.async_release is not None
    model.async_release.set()
    rest = [p async for p in pairs]
    assert [(i, r.text) for i, r in [first, *rest]] == [(1, "early"), (0, "late")]


def test_batch_as_completed_with_exceptions() -> None:
    pairs = dict(Ordered().batch_as_completed(["early", "boom"], return_exceptions=True))
    assert pairs[0].text == "early"
    assert isinstance(pairs[1], ValueError)


async def test_abatch_as_completed_with_exceptions() -> None:
    pairs = dict(
        [p async for p in Ordered().abatch_as_completed(["early", "boom"], return_exceptions=True)]
    )
    assert pairs[0].text == "early"
    assert isinstance(pairs[1], ValueError)


def test_batch_as_completed_raises_without_return_exceptions() -> None:
    with pytest.raises(ValueError, match="boom"):
        list(Ordered().batch_as_completed(["boom", "early"]))


async def test_abatch_as_completed_raises_without_return_exceptions() -> None:
    with pytest.raises(ValueError, match="boom"):
        [p async for p in Ordered().abatch_as_completed(["boom", "early"])]


def test_batch_as_completed_respects_max_concurrency() -> None:
    model = Blocking(width=2)
    pairs = list(model.batch_as_completed(INPUTS, max_concurrency=2))
    assert sorted(i for i, _ in pairs) == list(range(12))
    assert model.gauge.peak == 2


async def test_abatch_as_completed_respects_max_concurrency() -> None:
    model = Blocking()
    pairs = [p async for p in model.abatch_as_completed(INPUTS, max_concurrency=3)]
    assert sorted(i for i, _ in pairs) == list(range(12))
    assert model.gauge.peak == 3


# -- fakes batch inline -------------------------------------------------------------------------


def test_fake_batch_keeps_input_order() -> None:
    model = FakeChatModel([lambda r: r.messages[-1].text * 2], cycle=True)
    assert texts(model.batch(["a", "b", "c"], max_concurrency=2)) == ["aa", "bb", "cc"]


async def test_fake_abatch_keeps_input_order() -> None:
    model = FakeChatModel([lambda r: r.messages[-1].text * 2], cycle=True)
    assert texts(await model.abatch(["a", "b", "c"])) == ["aa", "bb", "cc"]


def test_fake_batch_return_exceptions() -> None:
    from myna.exceptions import AuthenticationError

    model = FakeChatModel(["a", AuthenticationError("no", status_code=401), "c"])
    results = model.batch(["x", "y", "z"], return_exceptions=True)
    assert texts(results[::2]) == ["a", "c"]
    assert isinstance(results[1], AuthenticationError)


async def test_fake_abatch_return_exceptions() -> None:
    model = FakeChatModel(["a", ValueError("bad"), "c"])
    results = await model.abatch(["x", "y", "z"], return_exceptions=True, max_concurrency=1)
    assert texts(results[::2]) == ["a", "c"]
    assert isinstance(results[1], ValueError)
