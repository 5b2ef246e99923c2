"""Callbacks (on_start / on_token / on_end / on_error) and call observers."""

from __future__ import annotations

from typing import Any

import pytest

from myna.exceptions import AuthenticationError, RateLimitError, UserError
from myna.fakes import FakeChatModel, fault
from myna.messages import AIMessage, AIMessageChunk, BaseMessage
from myna.models import (
    CallbackHandler,
    CallRecord,
    ChatModel,
    ChatRequest,
    RunInfo,
    add_call_observer,
    remove_call_observer,
)


class Recorder(CallbackHandler):
    def __init__(self) -> None:
        self.events: list[tuple] = []
        self.runs: list[RunInfo] = []

    def on_start(self, run: RunInfo, messages: list[BaseMessage], params: dict[str, Any]) -> None:
        self.runs.append(run)
        self.events.append(("start", [m.text for m in messages], dict(params)))

    def on_token(self, run: RunInfo, chunk: AIMessageChunk) -> None:
        assert isinstance(chunk, AIMessageChunk)
        self.events.append(("token", chunk.text))

    def on_end(self, run: RunInfo, message: AIMessage) -> None:
        assert type(message) is AIMessage
        self.events.append(("end", message.text))

    def on_error(self, run: RunInfo, error: BaseException) -> None:
        self.events.append(("error", type(error).__name__))


class AsyncRecorder(CallbackHandler):
    def __init__(self) -> None:
        self.events: list[str] = []

    async def on_start(self, run: RunInfo, messages: list[BaseMessage], params: dict) -> None:
        self.events.append("start")

    async def on_token(self, run: RunInfo, chunk: AIMessageChunk) -> None:
        self.events.append(f"token:{chunk.text}")

    async def on_end(self, run: RunInfo, message: AIMessage) -> None:
        self.events.append(f"end:{message.text}")

    async def on_error(self, run: RunInfo, error: BaseException) -> None:
        self.events.append(f"error:{type(error).__name__}")


def fake(*script: Any, **kwargs: Any) -> FakeChatModel:
    return FakeChatModel(list(script), model="fake-m", temperature=0.5, **kwargs)


START = ("start", ["hi"], {"model": "fake-m", "temperature": 0.5})


def test_invoke_calls_start_then_end() -> None:
    handler = Recorder()
    fake("hello world").invoke("hi", config={"callbacks": [handler]})
    assert handler.events == [START, ("end", "hello world")]


async def test_ainvoke_calls_start_then_end() -> None:
    handler = Recorder()
    await fake("hello world").ainvoke("hi", config={"callbacks": [handler]})
    assert handler.events == [START, ("end", "hello world")]


def test_stream_reports_each_chunk_then_the_merged_message() -> None:
    handler = Recorder()
    list(fake("hello world").stream("hi", config={"callbacks": [handler]}))
    assert handler.events == [
        START,
        ("token", "hello "),
        ("token", "world"),
        ("token", ""),
        ("end", "hello world"),
    ]


async def test_astream_reports_each_chunk_then_the_merged_message() -> None:
    handler = Recorder()
    [c async for c in fake("hello world").astream("hi", config={"callbacks": [handler]})]
    assert handler.events == [
        START,
        ("token", "hello "),
        ("token", "world"),
        ("token", ""),
        ("end", "hello world"),
    ]


def test_error_is_reported_once_after_retries() -> None:
    handler = Recorder()
    model = fake(fault.timeout(), fault.timeout(), fault.timeout(), max_retries=2)
    with pytest.raises(TimeoutError):
        model.invoke("hi", config={"callbacks": [handler]})
    assert handler.events == [START, ("error", "TimeoutError")]
    assert model.waits and len(model.waits) == 2


async def test_error_is_reported_async() -> None:
    handler = Recorder()
    model = fake(AuthenticationError("bad key", status_code=401))
    with pytest.raises(AuthenticationError):
        await model.ainvoke("hi", config={"callbacks": [handler]})
    assert handler.events == [START, ("error", "AuthenticationError")]


def test_stream_error_is_reported() -> None:
    handler = Recorder()
    model = fake(fault.disconnect(after_chunks=1), "one two three")
    with pytest.raises(Exception, match="connection dropped"):
        list(model.stream("hi", config={"callbacks": [handler]}))
    assert handler.events == [START, ("token", "one "), ("error", "StreamInterruptedError")]


def test_retried_call_reports_success_only() -> None:
    handler = Recorder()
    model = fake(fault.rate_limit(retry_after=1), "fine")
    model.invoke("hi", config={"callbacks": [handler]})
    assert handler.events == [START, ("end", "fine")]


async def test_async_handler_in_async_calls() -> None:
    handler = AsyncRecorder()
    model = fake("a b", "c", RateLimitError("no", status_code=429), max_retries=0)
    await model.ainvoke("hi", config={"callbacks": [handler]})
    [c async for c in model.astream("hi", config={"callbacks": [handler]})]
    with pytest.raises(RateLimitError):
        await model.ainvoke("hi", config={"callbacks": [handler]})
    assert handler.events == [
        "start",
        "end:a b",
        "start",
        "token:c",
        "token:",
        "end:c",
        "start",
        "error:RateLimitError",
    ]


@pytest.mark.parametrize("call", ["invoke", "stream"])
def test_async_handler_in_sync_calls_is_an_error(call: str) -> None:
    handler = AsyncRecorder()
    model = fake("x")
    with pytest.raises(UserError) as exc:
        result = getattr(model, call)("hi", config={"callbacks": [handler]})
        list(result) if call == "stream" else None
    assert str(exc.value) == (
        "Callback AsyncRecorder.on_start is async; sync calls cannot await it. "
        "Use ainvoke/astream, or make the method a plain def."
    )
    assert handler.events == []
    assert model.calls == []  # the request was never sent


def test_run_info_carries_config_and_model_defaults() -> None:
    handler = Recorder()
    model = fake("x", tags=["model-tag"], metadata={"team": "a"})
    model.invoke(
        "hi",
        config={
            "callbacks": [handler],
            "run_name": "my-run",
            "run_id": "abc",
            "tags": ["call-tag"],
            "metadata": {"case": 1},
        },
    )
    (run,) = handler.runs
    assert run.run_id == "abc"
    assert run.run_name == "my-run"
    assert run.provider == "fake"
    assert run.model == "fake-m"
    assert run.tags == ["model-tag", "call-tag"]
    assert run.metadata == {"team": "a", "case": 1}


def test_run_defaults() -> None:
    handler = Recorder()
    fake("x").invoke("hi", config={"callbacks": [handler]})
    (run,) = handler.runs
    assert run.run_id.startswith("run-")
    assert run.run_name == "FakeChatModel"


def test_model_level_and_call_level_handlers_both_hear() -> None:
    model_handler, call_handler = Recorder(), Recorder()
    model = fake("x", "y", callbacks=[model_handler])
    model.invoke("hi")
    model.invoke("hi", config={"callbacks": [call_handler]})
    assert [e[0] for e in model_handler.events] == ["start", "end", "start", "end"]
    assert [e[0] for e in call_handler.events] == ["start", "end"]


def test_partial_handler_overrides_only_what_it_needs() -> None:
    class EndsOnly(CallbackHandler):
        def __init__(self) -> None:
            self.ends: list[str] = []

        def on_end(self, run: RunInfo, message: AIMessage) -> None:
            self.ends.append(message.text)

    handler = EndsOnly()
    list(fake("a b").stream("hi", config={"callbacks": [handler]}))
    assert handler.ends == ["a b"]


# -- duck-typed handlers ---------------------------------------------------------------------------


class TokensOnly:  # not a CallbackHandler subclass: the methods it lacks are skipped
    def __init__(self) -> None:
        self.seen: list[str] = []

    def on_token(self, run: RunInfo, chunk: AIMessageChunk) -> None:
        self.seen.append(chunk.text)


class AsyncEndsOnly:
    def __init__(self) -> None:
        self.ends: list[str] = []

    async def on_end(self, run: RunInfo, message: AIMessage) -> None:
        self.ends.append(message.text)


def test_a_duck_typed_handler_hears_what_it_defines_sync() -> None:
    handler = TokensOnly()
    model = fake("a b", "c", fault.rate_limit(), callbacks=[handler])
    list(model.stream("hi"))
    model.invoke("hi", config={"callbacks": [TokensOnly()]})  # on_start/on_end: skipped
    with pytest.raises(RateLimitError):
        fake(fault.rate_limit(), callbacks=[handler], max_retries=0).invoke("hi")  # on_error
    assert handler.seen == ["a ", "b", ""]


async def test_a_duck_typed_handler_hears_what_it_defines_async() -> None:
    tokens, ends = TokensOnly(), AsyncEndsOnly()
    model = fake("a b", "c", callbacks=[tokens])
    assert [c.text async for c in model.astream("hi", config={"callbacks": [ends]})] == [
        "a ",
        "b",
        "",
    ]
    await model.ainvoke("hi", config={"callbacks": [ends]})
    assert tokens.seen == ["a ", "b", ""]
    assert ends.ends == ["a b", "c"]


def test_a_namespace_of_functions_is_a_handler_too() -> None:
    from types import SimpleNamespace

    seen: list[str] = []
    handler = SimpleNamespace(on_end=lambda run, message: seen.append(message.text))
    fake("x").invoke("hi", config={"callbacks": [handler]})
    assert seen == ["x"]


class Typo:
    def on_tokens(self, run: RunInfo, chunk: AIMessageChunk) -> None:
        pass


class TypoInASubclass(CallbackHandler):
    def on_eror(self, run: RunInfo, error: BaseException) -> None:
        pass


class LangChainStyle:  # a handler for another library: nothing myna would call
    def on_llm_start(self, *args: Any) -> None:
        pass


def _given_at_init(handler: Any) -> None:
    fake("x", callbacks=[handler])


def _given_per_call(handler: Any) -> None:
    fake("x").invoke("hi", config={"callbacks": [handler]})


async def _given_per_async_call(handler: Any) -> None:
    await fake("x").ainvoke("hi", config={"callbacks": [handler]})


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        (
            Typo(),
            "Typo.on_tokens is not a callback method, so it would never be called. Did you "
            "mean 'on_token'? Callback methods: on_start, on_token, on_end, on_error.",
        ),
        (
            TypoInASubclass(),
            "TypoInASubclass.on_eror is not a callback method, so it would never be called. Did "
            "you mean 'on_error'? Callback methods: on_start, on_token, on_end, on_error.",
        ),
        (
            LangChainStyle(),
            "LangChainStyle object has none of the callback methods on_start, "
            "on_token, on_end, on_error. Subclass myna.CallbackHandler, or define any of them "
            "(the others are skipped).",
        ),
        (
            print,
            "<built-in function print> (builtin_function_or_method) has none of the callback "
            "methods on_start, on_token, on_end, on_error. Subclass myna.CallbackHandler, or "
            "define any of them (the others are skipped).",
        ),
    ],
    ids=["typo", "typo-in-subclass", "another-librarys-handler", "a-function"],
)
async def test_a_handler_that_would_hear_nothing_is_rejected_when_passed(
    handler: Any, message: str
) -> None:
    with pytest.raises(UserError) as at_init:
        _given_at_init(handler)
    assert str(at_init.value) == f"callbacks=: {message}"
    with pytest.raises(UserError) as per_call:
        _given_per_call(handler)
    assert str(per_call.value) == f"config['callbacks']: {message}"
    with pytest.raises(UserError) as per_async_call:
        await _given_per_async_call(handler)
    assert str(per_async_call.value) == f"config['callbacks']: {message}"


def test_a_class_instead_of_an_instance() -> None:
    with pytest.raises(UserError) as exc:
        fake("x", callbacks=[Recorder])
    assert str(exc.value) == (
        "callbacks= holds the class Recorder, not a handler; pass an instance: Recorder()."
    )


def test_a_single_handler_must_be_in_a_list() -> None:
    with pytest.raises(UserError) as exc:
        fake("x").invoke("hi", config={"callbacks": Recorder()})
    assert str(exc.value) == (
        "config['callbacks'] must be a list of callback handlers, got Recorder; wrap a single "
        "handler in a list: [Recorder()]."
    )


def test_a_callback_attribute_that_is_not_callable() -> None:
    from types import SimpleNamespace

    with pytest.raises(UserError, match=r"SimpleNamespace.on_end is str, not a method\."):
        fake("x", callbacks=[SimpleNamespace(on_end="print")])


# -- observers ------------------------------------------------------------------------------------


@pytest.fixture
def records() -> Any:
    seen: list[CallRecord] = []
    add_call_observer(seen.append)
    yield seen
    remove_call_observer(seen.append)


def test_observers_see_invoke_and_stream(records: list[CallRecord]) -> None:
    model = fake("hello", "there friend")
    model.invoke("first", config={"tags": ["t"]})
    list(model.stream("second"))
    assert [(r.provider, r.model, r.output.text, r.streamed) for r in records] == [
        ("fake", "fake-m", "hello", False),
        ("fake", "fake-m", "there friend", True),
    ]
    assert records[0].messages[0].text == "first"
    assert records[0].config == {"tags": ["t"]}
    assert records[0].params == {"model": "fake-m", "temperature": 0.5}
    assert records[1].usage == records[1].output.usage_metadata
    assert records[1].usage["output_tokens"] > 0


async def test_observers_see_async_calls_and_errors(records: list[CallRecord]) -> None:
    model = fake("ok", AuthenticationError("bad", status_code=401))
    await model.ainvoke("a")
    with pytest.raises(AuthenticationError):
        await model.ainvoke("b")
    assert records[0].output.text == "ok"
    assert records[1].output is None
    assert isinstance(records[1].error, AuthenticationError)
    assert records[1].usage is None


def test_observers_see_tools_and_schema(records: list[CallRecord]) -> None:
    schema = {
        "title": "Answer",
        "type": "object",
        "properties": {"x": {"type": "integer"}},
        "required": ["x"],
    }
    fake({"x": 1}).with_structured_output(schema).invoke("q")
    (record,) = records
    assert record.schema == schema
    assert record.tools == []


def test_removed_observer_hears_nothing() -> None:
    seen: list[CallRecord] = []
    add_call_observer(seen.append)
    remove_call_observer(seen.append)
    remove_call_observer(seen.append)  # unknown observers are ignored
    fake("x").invoke("hi")
    assert seen == []


def test_observers_work_for_any_chat_model(records: list[CallRecord]) -> None:
    class Plain(ChatModel):
        provider = "plain"

        def _generate(self, request: ChatRequest) -> AIMessage:
            return AIMessage("p")

    Plain(model="pm").invoke("hi")
    assert [(r.provider, r.model, r.output.text) for r in records] == [("plain", "pm", "p")]
