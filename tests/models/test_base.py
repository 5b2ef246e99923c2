"""The `ChatModel` call pipeline: parameters, config, streaming fallback, retries, rate limits."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from myna.exceptions import (
    AuthenticationError,
    ConnectionError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
    UserError,
)
from myna.messages import AIMessage, AIMessageChunk, HumanMessage
from myna.models import BaseRateLimiter, ChatModel, ChatRequest, InMemoryRateLimiter, _base


class Echo(ChatModel):
    """Implements only `_generate`: no native streaming, no native async."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.requests: list[ChatRequest] = []

    def _generate(self, request: ChatRequest) -> AIMessage:
        self.requests.append(request)
        return AIMessage(request.messages[-1].text.upper())


class Streamer(ChatModel):
    """Native sync streaming whose last chunk is NOT marked last."""

    def _stream(self, request: ChatRequest) -> Iterator[AIMessageChunk]:
        for word in ("one ", "two"):
            yield AIMessageChunk(word)


class Flaky(ChatModel):
    """Raises the scripted errors in turn, then answers "ok"."""

    def __init__(self, errors: list[BaseException], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.errors = list(errors)
        self.attempts = 0

    def _generate(self, request: ChatRequest) -> AIMessage:
        self.attempts += 1
        if self.errors:
            raise self.errors.pop(0)
        return AIMessage("ok")


class Sleeps(list):
    def sleep(self, seconds: float) -> None:
        self.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> Sleeps:
    recorded = Sleeps()
    monkeypatch.setattr(_base, "_sleep", recorded.sleep)
    monkeypatch.setattr(_base, "_async_sleep", recorded.async_sleep)
    return recorded


def rate_limited(retry_after: float | None = 3) -> RateLimitError:
    return RateLimitError("slow down", status_code=429, provider="x", retry_after=retry_after)


# -- constructor -------------------------------------------------------------------------------


def test_standard_parameters_are_accepted() -> None:
    model = Echo(
        model="m",
        temperature=0.2,
        max_tokens=10,
        timeout=5.0,
        max_retries=4,
        stop="END",
        api_key="k",
        base_url="http://x",
    )
    assert (model.model, model.model_name, model.temperature, model.max_tokens) == (
        "m",
        "m",
        0.2,
        10,
    )
    assert (model.timeout, model.max_retries, model.api_key, model.base_url) == (
        5.0,
        4,
        "k",
        "http://x",
    )
    assert model.stop == ["END"]


def test_unknown_constructor_keyword_is_an_error_with_did_you_mean() -> None:
    with pytest.raises(UserError) as exc:
        Echo(temprature=0.5)
    text = str(exc.value)
    assert text.startswith("Echo got an unknown parameter temprature=. Did you mean 'temperature'?")
    assert "Accepted: api_key, base_url" in text


def test_unknown_keyword_without_close_match() -> None:
    with pytest.raises(UserError) as exc:
        Echo(zzzzzz=1)
    assert "Did you mean" not in str(exc.value)
    assert "unknown parameter zzzzzz=" in str(exc.value)


@pytest.mark.parametrize("bad", [-1, 1.5, "2"])
def test_max_retries_must_be_a_non_negative_int(bad: Any) -> None:
    with pytest.raises(UserError, match=f"max_retries={bad!r} must be an int >= 0"):
        Echo(max_retries=bad)


def test_rate_limiter_must_be_a_rate_limiter() -> None:
    with pytest.raises(UserError) as exc:
        Echo(rate_limiter=5)
    assert "rate_limiter must be a BaseRateLimiter such as InMemoryRateLimiter(" in str(exc.value)
    assert "got int" in str(exc.value)


def test_profile_merges_overrides() -> None:
    class Profiled(Echo):
        default_profile = {"tool_calling": True, "image_inputs": False}

    assert Echo().profile == {}
    model = Profiled(profile={"image_inputs": True, "max_input_tokens": 100})
    assert model.profile == {"tool_calling": True, "image_inputs": True, "max_input_tokens": 100}


def test_missing_generate_says_what_to_implement() -> None:
    class Empty(ChatModel):
        pass

    with pytest.raises(NotImplementedError, match=r"Empty must implement _generate\(request\)"):
        Empty(max_retries=0).invoke("hi")


def test_generate_must_return_an_ai_message() -> None:
    class Wrong(ChatModel):
        def _generate(self, request: ChatRequest) -> Any:
            return "text"

    with pytest.raises(
        TypeError, match=r"Wrong\._generate returned str; it must return an AIMessage"
    ):
        Wrong().invoke("hi")


# -- per-call parameters and config --------------------------------------------------------------


def test_defaults_and_per_call_parameters_reach_the_request() -> None:
    model = Echo(model="m", temperature=0.1, stop=["x"])
    model.invoke("hi", temperature=0.9, max_tokens=5, stop="END", seed=None)
    params = model.requests[-1].params
    assert params == {"model": "m", "temperature": 0.9, "max_tokens": 5, "stop": ["END"]}
    model.invoke("hi")
    assert model.requests[-1].params == {"model": "m", "temperature": 0.1, "stop": ["x"]}


def test_underscore_keywords_are_harness_hints_not_params() -> None:
    model = Echo()
    model.invoke("hi", _structured_schema={"type": "object"})
    assert model.requests[-1].hints == {"structured_schema": {"type": "object"}}
    assert "_structured_schema" not in model.requests[-1].params
    assert model.requests[-1].schema == {"type": "object"}


def test_unknown_per_call_parameter_is_an_error() -> None:
    with pytest.raises(UserError) as exc:
        Echo().invoke("hi", max_token=3)
    text = str(exc.value)
    assert text.startswith(
        "Echo.invoke got an unknown parameter max_token=. Did you mean 'max_tokens'?"
    )
    assert "Per-call parameters:" in text


async def test_unknown_per_call_parameter_is_an_error_async() -> None:
    with pytest.raises(UserError, match="unknown parameter max_token="):
        await Echo().ainvoke("hi", max_token=3)
    with pytest.raises(UserError, match="unknown parameter max_token="):
        async for _ in Echo().astream("hi", max_token=3):
            pass


def test_constructor_only_parameters_are_not_per_call() -> None:
    with pytest.raises(UserError, match="unknown parameter api_key="):
        Echo().invoke("hi", api_key="k")


def test_config_reaches_the_request() -> None:
    model = Echo()
    config = {"tags": ["t"], "metadata": {"k": 1}, "run_name": "n", "configurable": {}}
    model.invoke("hi", config=config)
    assert model.requests[-1].config == config


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            "tags",
            "config must be a dict such as {'tags': ['eval'], 'callbacks': [handler]}, got str.",
        ),
        (
            {"tag": ["x"]},
            "Unknown config key(s) ['tag']. Did you mean 'tags'? Accepted: callbacks, "
            "configurable, max_concurrency, metadata, recursion_limit, run_id, run_name, tags. "
            "Runtime model settings go under config['configurable'].",
        ),
        (
            {"temperature": 0},
            "Unknown config key(s) ['temperature']. Accepted: callbacks, configurable, "
            "max_concurrency, metadata, recursion_limit, run_id, run_name, tags. Runtime model "
            "settings go under config['configurable'].",
        ),
    ],
)
def test_config_is_validated(config: Any, message: str) -> None:
    with pytest.raises(UserError) as exc:
        Echo().invoke("hi", config=config)
    assert str(exc.value) == message


def test_input_is_coerced() -> None:
    model = Echo()
    model.invoke([("system", "s"), {"role": "user", "content": "hi"}])
    assert [type(m).__name__ for m in model.requests[-1].messages] == [
        "SystemMessage",
        "HumanMessage",
    ]
    with pytest.raises(UserError, match="Cannot turn input of type int into a chat message"):
        model.invoke(42)


# -- ids and metadata ------------------------------------------------------------------------------


def test_invoke_fills_id_provider_and_model_name() -> None:
    reply = Echo(model="m1").invoke("hi")
    assert reply.text == "HI"
    assert reply.id.startswith("run-")
    assert reply.response_metadata == {"model_provider": "custom", "model_name": "m1"}


def test_per_call_model_wins_in_metadata() -> None:
    assert Echo(model="m1").invoke("hi", model="m2").response_metadata["model_name"] == "m2"


def test_provider_metadata_is_not_overwritten() -> None:
    class Tagged(ChatModel):
        def _generate(self, request: ChatRequest) -> AIMessage:
            return AIMessage("x", id="msg_1", response_metadata={"model_name": "real-name"})

    reply = Tagged(model="alias").invoke("hi")
    assert reply.id == "msg_1"
    assert reply.response_metadata["model_name"] == "real-name"


# -- streaming always yields chunks ------------------------------------------------------------------


def test_stream_without_native_streaming_yields_one_last_chunk() -> None:
    chunks = list(Echo(model="m").stream("hi"))
    assert len(chunks) == 1
    (chunk,) = chunks
    assert type(chunk) is AIMessageChunk  # not an AIMessage (LangChain gotcha 1)
    assert chunk.text == "HI"
    assert chunk.chunk_position == "last"
    assert chunk.id.startswith("run-")
    assert chunk.response_metadata == {"model_provider": "custom", "model_name": "m"}


async def test_astream_without_native_streaming_yields_one_last_chunk() -> None:
    chunks = [c async for c in Echo(model="m").astream("hi")]
    assert len(chunks) == 1
    assert type(chunks[0]) is AIMessageChunk
    assert chunks[0].text == "HI"
    assert chunks[0].chunk_position == "last"


def test_stream_keeps_tool_calls_and_usage_without_native_streaming() -> None:
    usage = {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}

    class Caller(ChatModel):
        def _generate(self, request: ChatRequest) -> AIMessage:
            call = {"name": "f", "args": {"a": 1}, "id": "c1"}
            return AIMessage("", tool_calls=[call], usage_metadata=usage)

    (chunk,) = Caller().stream("hi")
    assert chunk.tool_calls == [{"name": "f", "args": {"a": 1}, "id": "c1", "type": "tool_call"}]
    assert chunk.usage_metadata == usage


def test_stream_adds_a_last_chunk_when_the_model_did_not_mark_one() -> None:
    chunks = list(Streamer(model="s").stream("hi"))
    assert [c.content for c in chunks] == ["one ", "two", ""]
    assert [c.chunk_position for c in chunks] == [None, None, "last"]
    assert len({c.id for c in chunks}) == 1
    assert chunks[-1].response_metadata == {"model_provider": "custom", "model_name": "s"}


async def test_astream_drives_a_sync_native_stream() -> None:
    chunks = [c async for c in Streamer().astream("hi")]
    assert [c.content for c in chunks] == ["one ", "two", ""]
    assert chunks[-1].chunk_position == "last"


async def test_ainvoke_runs_sync_generate() -> None:
    assert (await Echo().ainvoke("hi")).text == "HI"


# -- retries --------------------------------------------------------------------------------------


def test_retry_after_is_honoured(sleeps: Sleeps) -> None:
    model = Flaky([rate_limited(3), rate_limited(1.5)])
    assert model.invoke("hi").text == "ok"
    assert model.attempts == 3
    assert sleeps == [3.0, 1.5]


async def test_retry_after_is_honoured_async(sleeps: Sleeps) -> None:
    model = Flaky([rate_limited(3), rate_limited(1.5)])
    assert (await model.ainvoke("hi")).text == "ok"
    assert model.attempts == 3
    assert sleeps == [3.0, 1.5]


def test_backoff_without_retry_after_grows(sleeps: Sleeps) -> None:
    model = Flaky([ServerError("boom", status_code=500), ConnectionError("reset")], max_retries=3)
    assert model.invoke("hi").text == "ok"
    assert len(sleeps) == 2
    assert 0 < sleeps[0] < sleeps[1]  # 0.5 s and 1.0 s, with at most 25 % jitter


def test_retries_stop_at_max_retries(sleeps: Sleeps) -> None:
    model = Flaky([rate_limited(1)] * 5, max_retries=2)
    with pytest.raises(RateLimitError) as exc:
        model.invoke("hi")
    assert model.attempts == 3
    assert sleeps == [1.0, 1.0]
    assert "myna: gave up after 3 attempts (max_retries=2)" in "".join(exc.value.__notes__)


def test_max_retries_zero_does_not_retry(sleeps: Sleeps) -> None:
    model = Flaky([rate_limited(1)], max_retries=0)
    with pytest.raises(RateLimitError):
        model.invoke("hi")
    assert model.attempts == 1
    assert sleeps == []


@pytest.mark.parametrize(
    "error",
    [
        AuthenticationError("bad key", status_code=401),
        ValueError("a bug"),
        StreamInterruptedError("cut", partial=None),
    ],
    ids=["auth", "plain-exception", "stream-interrupted"],
)
def test_non_retryable_errors_are_not_retried(sleeps: Sleeps, error: Exception) -> None:
    model = Flaky([error])
    with pytest.raises(type(error)):
        model.invoke("hi")
    assert model.attempts == 1
    assert sleeps == []


async def test_non_retryable_errors_are_not_retried_async(sleeps: Sleeps) -> None:
    model = Flaky([AuthenticationError("bad key", status_code=401)])
    with pytest.raises(AuthenticationError):
        await model.ainvoke("hi")
    assert model.attempts == 1
    assert sleeps == []


def test_stream_retries_errors_before_the_first_chunk(sleeps: Sleeps) -> None:
    model = Flaky([rate_limited(2)])
    assert [c.text for c in model.stream("hi")] == ["ok"]
    assert model.attempts == 2
    assert sleeps == [2.0]


async def test_astream_retries_errors_before_the_first_chunk(sleeps: Sleeps) -> None:
    model = Flaky([rate_limited(2)])
    assert [c.text async for c in model.astream("hi")] == ["ok"]
    assert model.attempts == 2
    assert sleeps == [2.0]


class CutStream(ChatModel):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.attempts = 0

    def _stream(self, request: ChatRequest) -> Iterator[AIMessageChunk]:
        self.attempts += 1
        yield AIMessageChunk("par")
        yield AIMessageChunk("tial")
        raise StreamInterruptedError("cut", partial=AIMessageChunk("partial"))


def test_an_interrupted_stream_is_not_retried(sleeps: Sleeps) -> None:
    model = CutStream()
    got: list[str] = []
    with pytest.raises(StreamInterruptedError) as exc:
        for chunk in model.stream("hi"):
            got.append(chunk.text)
    assert got == ["par", "tial"]
    assert exc.value.partial.text == "partial"
    assert model.attempts == 1
    assert sleeps == []


async def test_an_interrupted_astream_is_not_retried(sleeps: Sleeps) -> None:
    model = CutStream()
    got: list[str] = []
    with pytest.raises(StreamInterruptedError):
        async for chunk in model.astream("hi"):
            got.append(chunk.text)
    assert got == ["par", "tial"]
    assert model.attempts == 1
    assert sleeps == []


# -- rate limiter ---------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)
        await asyncio.sleep(0)


def limiter(clock: FakeClock, rps: float = 2.0) -> InMemoryRateLimiter:
    return InMemoryRateLimiter(
        requests_per_second=rps,
        check_every_n_seconds=10,
        max_bucket_size=1,
        clock=clock,
        sleep=clock.sleep,
        async_sleep=clock.async_sleep,
    )


def test_rate_limiter_spaces_out_calls() -> None:
    clock = FakeClock()
    model = Echo(rate_limiter=limiter(clock, rps=2.0))
    for _ in range(3):
        model.invoke("hi")
    # the bucket starts full: the first call goes at once, then one every 0.5 s
    assert clock.sleeps == pytest.approx([0.5, 0.5])
    assert clock.now - 100.0 == pytest.approx(1.0)


async def test_rate_limiter_spaces_out_calls_async() -> None:
    clock = FakeClock()
    model = Echo(rate_limiter=limiter(clock, rps=2.0))
    for _ in range(3):
        await model.ainvoke("hi")
    assert clock.sleeps == pytest.approx([0.5, 0.5])


def test_rate_limiter_applies_to_streams() -> None:
    clock = FakeClock()
    model = Echo(rate_limiter=limiter(clock, rps=4.0))
    list(model.stream("a"))
    list(model.stream("b"))
    assert clock.sleeps == pytest.approx([0.25])


class CountingLimiter(BaseRateLimiter):
    def __init__(self) -> None:
        self.sync = 0
        self.async_ = 0

    def acquire(self, *, blocking: bool = True) -> bool:
        self.sync += 1
        return True

    async def aacquire(self, *, blocking: bool = True) -> bool:
        self.async_ += 1
        return True


def test_every_attempt_takes_a_token(sleeps: Sleeps) -> None:
    counting = CountingLimiter()
    model = Flaky([rate_limited(1)], rate_limiter=counting)
    model.invoke("hi")
    assert (counting.sync, counting.async_) == (2, 0)


async def test_every_attempt_takes_a_token_async(sleeps: Sleeps) -> None:
    counting = CountingLimiter()
    model = Flaky([rate_limited(1)], rate_limiter=counting)
    await model.ainvoke("hi")
    [c async for c in model.astream("hi")]
    assert (counting.sync, counting.async_) == (0, 3)


def test_messages_are_not_mutated_by_the_pipeline() -> None:
    question = HumanMessage("hi")
    Echo().invoke([question])
    assert question == HumanMessage("hi")
