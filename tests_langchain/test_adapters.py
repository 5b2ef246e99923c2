"""`to_langchain` and `from_langchain`: behaviour the standard suites do not pin down."""

from __future__ import annotations

import asyncio
import inspect
import threading

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import FakeMessagesListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage as LCAIMessage
from langchain_core.messages import AIMessageChunk as LCAIMessageChunk
from langchain_core.tools import tool
from pydantic import ValidationError
from typing_extensions import TypedDict

from myna.exceptions import UserError
from myna.fakes import FakeChatModel, FunctionChatModel, tool_call
from myna.interop.langchain import MynaChatModel, from_langchain, to_langchain
from myna.testing import assert_tool_call, assert_usage, record_calls


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return "Sunny."


class Tokens(BaseCallbackHandler):
    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.starts: list[dict] = []

    def on_chat_model_start(self, serialized, messages, **kwargs) -> None:
        self.starts.append(kwargs)

    def on_llm_new_token(self, token, **kwargs) -> None:
        self.tokens.append(token)


# -- to_langchain ------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v0", "v1"])
def test_streamed_chunks_add_up_to_the_invoked_reply(version: str) -> None:
    reply = [tool_call("get_weather", city="Paris"), "Checking the weather in Paris."]
    model = to_langchain(FakeChatModel([reply, reply]))
    model.output_version = version
    bound = model.bind_tools([get_weather])
    invoked = bound.invoke("Weather?")
    chunks = list(bound.stream("Weather?"))
    assert all(isinstance(c, LCAIMessageChunk) for c in chunks)
    assert chunks[-1].chunk_position == "last"
    merged = chunks[0] + chunks[1:]
    assert [(c["name"], c["args"]) for c in merged.tool_calls] == [
        (c["name"], c["args"]) for c in invoked.tool_calls
    ]
    assert merged.text == invoked.text == "Checking the weather in Paris."
    assert merged.usage_metadata == invoked.usage_metadata
    assert merged.response_metadata["model_name"] == "fake-scripted"
    if version == "v1":
        kinds = [b["type"] for b in merged.content]
        assert kinds.count("tool_call") == 1 and kinds.count("text") == 1


async def test_async_twins_match_sync() -> None:
    llm = to_langchain(FakeChatModel(["Hello big world", "Hello big world"]))
    reply = await llm.ainvoke("Hi")
    chunks = [c async for c in llm.astream("Hi")]
    assert reply.content == (chunks[0] + chunks[1:]).content == "Hello big world"
    assert len(chunks) > 2


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ("any", "any"),
        ("required", "any"),
        (True, "any"),
        ("auto", "auto"),
        ("get_weather", "get_weather"),
        ({"type": "function", "function": {"name": "get_weather"}}, "get_weather"),
        ({"type": "tool", "name": "get_weather"}, "get_weather"),
    ],
)
def test_tool_choice_spellings_reach_the_myna_model(given, sent) -> None:
    fake = FakeChatModel([tool_call("get_weather", city="Oslo")])
    to_langchain(fake).bind_tools([get_weather], tool_choice=given).invoke("Weather?")
    assert fake.calls[0].params["tool_choice"] == sent
    assert fake.calls[0].tools[0]["name"] == "get_weather"


def test_bad_tool_choice_and_unknown_parameters_are_errors() -> None:
    llm = to_langchain(FakeChatModel(["x"]))
    with pytest.raises(ValueError, match="tool_choice=42"):
        llm.bind_tools([get_weather], tool_choice=42)
    with pytest.raises(ValueError, match="Did you mean 'get_weather'"):
        llm.bind_tools([get_weather], tool_choice="get_wether")
    with pytest.raises(UserError, match="temprature"):
        llm.invoke("x", temprature=0.2)
    with pytest.raises(ValidationError, match="temprature"):
        MynaChatModel(myna_model=FakeChatModel(["x"]), temprature=0.2)
    with pytest.raises(ValidationError, match="myna_model="):
        MynaChatModel()
    with pytest.raises(UserError, match="already"):
        to_langchain(GenericFakeChatModel(messages=iter(["x"])))


class Person(TypedDict):
    name: str
    age: int


@pytest.mark.parametrize("method", ["function_calling", "json_schema", "json_mode"])
def test_structured_dicts_are_validated(method: str) -> None:
    good, bad = {"name": "Ada", "age": 36}, {"name": "Ada", "age": "old"}
    llm = to_langchain(FakeChatModel([good, bad, bad, bad]))
    structured = llm.with_structured_output(Person, method=method)
    assert structured.invoke("Who?") == good
    with pytest.raises(OutputParserException, match="age"):
        structured.invoke("Who?")
    raw = llm.with_structured_output(Person, method=method, include_raw=True).invoke("Who?")
    assert raw["parsed"] is None and isinstance(raw["parsing_error"], OutputParserException)
    with pytest.raises(OutputParserException, match="age"):
        list(structured.stream("Who?"))  # the streamed value is checked once complete


def test_structured_output_arguments_are_checked() -> None:
    llm = to_langchain(FakeChatModel(["x"]))
    with pytest.raises(ValueError, match="method='xml'"):
        llm.with_structured_output(Person, method="xml")
    with pytest.raises(ValueError, match="unsupported arguments"):
        llm.with_structured_output(Person, tools=[])
    with pytest.raises(ValueError, match="strict=True"):
        llm.with_structured_output(Person, method="json_mode", strict=True)
    assert llm.with_structured_output(None, method="json_mode") is not None


def test_config_and_callbacks_pass_through_both_sides() -> None:
    seen: list = []

    class MynaHandler:
        def on_start(self, run, messages, params) -> None:
            seen.append(run)

    fake = FakeChatModel(["Hello big world"] * 2, callbacks=[MynaHandler()])
    llm = to_langchain(fake)
    handler = Tokens()
    config = {"tags": ["t1"], "metadata": {"user": "ada"}, "run_name": "greet"}
    with record_calls() as calls:
        llm.invoke("Hi", config={**config, "callbacks": [handler]})
        list(llm.stream("Hi", config={**config, "callbacks": [handler]}))
    for call in calls:
        assert call.config["tags"] == ["t1"]
        assert call.config["metadata"] == {"user": "ada"}
        assert call.config["run_name"] == "greet"
    assert [r.run_name for r in seen] == ["greet", "greet"]
    assert len(handler.starts) == 2 and handler.starts[0]["name"] == "greet"
    assert "".join(handler.tokens) == "Hello big world"


def test_standard_params_go_with_every_call_and_profile_is_the_models() -> None:
    fake = FakeChatModel(["x"] * 3, model="fake-1")
    llm = MynaChatModel(myna_model=fake, temperature=0.3, max_tokens=9, stop=["END"], timeout=5)
    llm.invoke("a")
    llm.invoke("a", stop=["STOP"], model="fake-2")
    assert fake.calls[0].params == {
        "model": "fake-1",
        "temperature": 0.3,
        "max_tokens": 9,
        "stop": ["END"],
    }
    assert fake.calls[1].params["stop"] == ["STOP"] and fake.calls[1].params["model"] == "fake-2"
    assert fake.timeout == 5  # constructor-level settings are the wrapped model's
    assert llm.profile["tool_calling"] is True
    assert llm._get_ls_params()["ls_provider"] == "fake"
    with pytest.raises(ValidationError, match="max_retries=5 differs"):
        MynaChatModel(myna_model=fake, max_retries=5)
    built = MynaChatModel(model="fake:scripted", max_retries=4)
    assert built.myna_model.max_retries == 4
    assert isinstance(built.myna_model, FakeChatModel)


# -- from_langchain ---------------------------------------------------------------------------


def test_a_langchain_model_is_logged_and_asserted_like_a_myna_model() -> None:
    reply = LCAIMessage(
        "",
        tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "c1"}],
        usage_metadata={"input_tokens": 5, "output_tokens": 2, "total_tokens": 7},
    )
    model = from_langchain(FakeMessagesListChatModel(responses=[reply]))
    with record_calls() as calls:
        message = model.invoke("Weather in Paris?")
    assert_tool_call(message, "get_weather", {"city": "Paris"})
    assert assert_usage(calls, max_total=7)["input_tokens"] == 5
    assert calls[0].provider == "langchain"


async def test_from_langchain_streams_sync_and_async() -> None:
    model = from_langchain(GenericFakeChatModel(messages=iter(["Hello big world"] * 2)))
    chunks = list(model.stream("Hi"))
    assert "".join(c.text for c in chunks) == "Hello big world"
    assert chunks[-1].chunk_position == "last"
    reply = await model.ainvoke("Hi")
    assert reply.text == "Hello big world"


def test_from_langchain_binds_tools_and_refuses_models_that_cannot() -> None:
    inner = FakeChatModel([tool_call("get_weather", city="Oslo")])
    model = from_langchain(to_langchain(inner))
    reply = model.bind_tools([get_weather], tool_choice="any").invoke("Weather?")
    assert_tool_call(reply, "get_weather", {"city": "Oslo"})
    assert inner.calls[0].params["tool_choice"] == "any"
    plain = from_langchain(GenericFakeChatModel(messages=iter(["x"])))
    assert plain.profile["tool_calling"] is False
    with pytest.raises(UserError, match="tool calling"):
        plain.bind_tools([get_weather])
    with pytest.raises(UserError, match="BaseChatModel"):
        from_langchain(FakeChatModel(["x"]))


def test_function_chat_model_reads_langchain_prompts() -> None:
    llm = to_langchain(FunctionChatModel(lambda messages, info: messages[-1].text.upper()))
    assert llm.invoke([("system", "Shout."), ("user", "hi")]).content == "HI"


def test_from_langchain_passes_myna_config_to_the_langchain_call() -> None:
    handler = Tokens()
    lc_model = GenericFakeChatModel(messages=iter(["Hello big world"] * 2), callbacks=[handler])
    model = from_langchain(lc_model)
    config = {"tags": ["eval"], "metadata": {"case": "c1"}, "run_name": "greet"}
    model.invoke("Hi", config)
    assert handler.tokens == []  # invoke does not stream
    chunks = list(model.stream("Hi", config))
    assert "".join(c.text for c in chunks) == "Hello big world"
    assert [s["name"] for s in handler.starts] == ["greet", "greet"]
    assert all("eval" in s["tags"] and s["metadata"]["case"] == "c1" for s in handler.starts)
    assert "".join(handler.tokens) == "Hello big world"


class Recording(FakeMessagesListChatModel):
    """A LangChain fake that keeps the keyword arguments of each call."""

    seen: list = []

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen.append(kwargs)
        return super()._generate(messages, stop, run_manager, **kwargs)


def test_response_format_travels_in_openai_shape_between_the_two() -> None:
    fake = FakeChatModel(['{"name": "Ada", "age": 36}'])
    openai_style = {
        "type": "json_schema",
        "json_schema": {"name": "Person", "schema": {"type": "object"}, "strict": True},
    }
    to_langchain(fake).invoke("Who?", response_format=openai_style)
    assert fake.calls[0].params["response_format"] == {
        "type": "json_schema",
        "name": "Person",
        "schema": {"type": "object"},
        "strict": True,
    }
    lc_model = Recording(responses=[LCAIMessage('{"name": "Ada", "age": 36}')])
    person = from_langchain(lc_model).with_structured_output(Person).invoke("Who?")
    assert person == {"name": "Ada", "age": 36}
    assert lc_model.seen[0]["response_format"]["json_schema"]["name"] == "Person"


def test_batch_over_a_fake_runs_in_this_thread_in_input_order() -> None:
    threads: list[int] = []

    class Where:
        def on_start(self, run, messages, params) -> None:
            threads.append(threading.get_ident())

    fake = FakeChatModel(["one", "two", "three"], callbacks=[Where()])
    replies = to_langchain(fake).batch(
        ["a", "b", "c"], config=[{"tags": ["x"]}, {"tags": ["y"]}, {"tags": ["z"]}]
    )
    assert [r.content for r in replies] == ["one", "two", "three"]
    assert [c.last_message.content for c in fake.calls] == ["a", "b", "c"]
    assert [c.config["tags"] for c in fake.calls] == [["x"], ["y"], ["z"]]
    assert threads == [threading.get_ident()] * 3


def test_batch_return_exceptions_over_a_fake() -> None:
    script = ["ok", ValueError("boom"), "fine"]
    llm = to_langchain(FakeChatModel(script))
    out = llm.batch(["a", "b", "c"], return_exceptions=True)
    assert out[0].content == "ok" and isinstance(out[1], ValueError) and out[2].content == "fine"
    with pytest.raises(ValueError, match="boom"):
        to_langchain(FakeChatModel(script)).batch(["a", "b", "c"])


def test_batch_over_a_fake_that_may_block_still_uses_threads() -> None:
    threads: list[int] = []

    def reply(request) -> str:  # a callable in the script may block: LangChain's threads
        threads.append(threading.get_ident())
        return "done"

    llm = to_langchain(FakeChatModel([reply] * 3))
    assert [r.content for r in llm.batch(["a", "b", "c"])] == ["done"] * 3
    assert threading.get_ident() not in threads


@pytest.mark.parametrize("method", ["_generate", "_agenerate"])
def test_langchain_sees_run_manager_in_the_ready_made_signature(method: str) -> None:
    llm = to_langchain(FakeChatModel(["Hi"]))
    params = inspect.signature(getattr(llm, method)).parameters
    assert list(params)[:3] == ["messages", "stop", "run_manager"]  # no self: bound
    assert getattr(MynaChatModel, method).__name__ == method  # a plain function on the class


def test_langchain_run_id_reaches_the_myna_call_sync_and_async() -> None:
    handler = Tokens()
    fake = FakeChatModel(["Hi"], cycle=True)
    llm = to_langchain(fake)
    llm.invoke("Hi", config={"callbacks": [handler]})
    asyncio.run(llm.ainvoke("Hi", config={"callbacks": [handler]}))
    assert [c.config["run_id"] for c in fake.calls] == [str(s["run_id"]) for s in handler.starts]
