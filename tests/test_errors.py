"""The error tree: provider errors carry the provider's own type and code, faults script them,
and every error pickles."""

from __future__ import annotations

import pickle

import pytest

from myna import init_chat_model
from myna.emulators import emulate
from myna.exceptions import (
    BadRequestError,
    ContextLengthError,
    NotFoundError,
    ProviderError,
    RateLimitError,
    UserError,
)
from myna.fakes import FakeChatModel, fault, load_script


def summarize(model: object, question: str) -> str:
    """App code under test: on a too-long prompt (OpenAI's code), retry with less of it."""
    try:
        return model.invoke(question).text  # type: ignore[attr-defined]
    except BadRequestError as error:
        if error.code != "context_length_exceeded":
            raise
        return model.invoke(question[: len(question) // 2]).text  # type: ignore[attr-defined]


def test_provider_errors_carry_type_and_code_and_pickle() -> None:
    error = ContextLengthError(
        "too long", status_code=400, provider="openai", type="invalid_request_error", code=400
    )
    assert (error.type, error.code) == ("invalid_request_error", "400")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is ContextLengthError
    assert (again.type, again.code, again.status_code, str(again)) == (
        "invalid_request_error",
        "400",
        400,
        "too long (openai 400)",
    )
    assert (ProviderError("x").type, ProviderError("x").code) == (None, None)


def test_a_fake_fault_carries_the_code_an_app_branches_on() -> None:
    model = FakeChatModel([fault.context_length(code="context_length_exceeded"), "Short."])
    assert summarize(model, "a very long document") == "Short."
    assert model.calls[1].messages[-1].text == "a very lon"


async def test_fault_type_and_code_in_async_calls_and_streams() -> None:
    model = FakeChatModel(
        [
            fault.error(400, type="invalid_request_error", code="tool_use_failed"),
            fault.error(404, code="model_not_found"),
        ]
    )
    with pytest.raises(BadRequestError) as first:
        await model.ainvoke("q")
    assert (first.value.type, first.value.code, first.value.status_code) == (
        "invalid_request_error",
        "tool_use_failed",
        400,
    )
    with pytest.raises(NotFoundError) as second:
        async for _ in model.astream("q"):
            pass
    assert second.value.code == "model_not_found"


def test_every_fault_kind_takes_type_and_code() -> None:
    model = FakeChatModel(
        [fault.rate_limit(retry_after=1, type="requests", code="rate_limit_exceeded")],
        max_retries=0,
    )
    with pytest.raises(RateLimitError) as exc:
        model.invoke("q")
    assert (exc.value.type, exc.value.code, exc.value.retry_after) == (
        "requests",
        "rate_limit_exceeded",
        1,
    )


def test_fault_error_checks_its_status() -> None:
    with pytest.raises(
        UserError, match=r"fault.error\(status=200\): status must be an int from 400 to 599"
    ):
        fault.error(200)


def test_yaml_scripts_can_script_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "script.yaml"
    path.write_text(
        "replies:\n"
        "  - fault: {kind: context_length, code: context_length_exceeded}\n"
        "  - fault: {kind: error, status: 400, code: tool_use_failed}\n"
    )
    first, second = load_script(path)
    assert first == fault.context_length(code="context_length_exceeded")
    assert second == fault.error(400, code="tool_use_failed")


@pytest.mark.parametrize(
    ("provider", "model", "type_", "code"),
    [
        ("openai", "openai:gpt-4.1-mini", "invalid_request_error", "context_length_exceeded"),
        ("anthropic", "anthropic:claude-haiku-4-5", "invalid_request_error", None),
        ("google_genai", "google_genai:gemini-2.5-flash", "INVALID_ARGUMENT", None),
        ("bedrock", "bedrock:amazon.nova-lite-v1:0", "ValidationException", "ValidationException"),
    ],
)
def test_an_emulator_answers_a_fault_in_the_providers_own_words(
    provider: str, model: str, type_: str, code: str | None
) -> None:
    with emulate(provider, script=[fault.context_length(), "Short."]):
        llm = init_chat_model(model, api_key="test-key", max_retries=0)
        with pytest.raises(ContextLengthError) as exc:
            llm.invoke("a very long document")
        assert (exc.value.type, exc.value.code) == (type_, code)
        assert llm.invoke("again").text == "Short."


def test_an_app_branching_on_the_code_is_tested_against_the_emulator() -> None:
    with emulate("openai", script=[fault.context_length(), "Short."]) as server:
        llm = init_chat_model("openai:gpt-4.1-mini", api_key="test-key", max_retries=0)
        assert summarize(llm, "a very long document") == "Short."
    assert server.requests[1].last_message.text == "a very lon"


def test_an_emulator_sends_a_scripted_code() -> None:
    with emulate("groq", script=[fault.error(400, code="tool_use_failed")]):
        llm = init_chat_model("groq:llama-3.3-70b-versatile", api_key="test-key")
        with pytest.raises(BadRequestError) as exc:
            llm.invoke("q")
    assert (exc.value.provider, exc.value.type, exc.value.code) == (
        "groq",
        "invalid_request_error",
        "tool_use_failed",
    )


# -- test failures start with "myna:" (README: "Failures start with `myna:`") ---------------

from myna.exceptions import InvalidToolCallError, ScriptExhaustedError  # noqa: E402
from myna.fakes import FunctionChatModel, tool_call  # noqa: E402
from myna.tools import tool  # noqa: E402


@tool
def add(a: int, b: int) -> int:
    """Add two numbers.

    Args:
        a: first
        b: second
    """
    return a + b


def _exhausted() -> None:
    model = FakeChatModel(["one"])
    model.invoke("a")
    model.invoke("b")


def _unbound_tool() -> None:
    FakeChatModel([tool_call("sub", a=1)]).bind_tools([add]).invoke("q")


def _bad_args() -> None:
    FakeChatModel([tool_call("add", a="x")]).bind_tools([add]).invoke("q")


def _no_tools() -> None:
    FunctionChatModel(lambda messages, info: tool_call("add", a=1, b=2)).invoke("q")


@pytest.mark.parametrize(
    ("fail", "cls", "start"),
    [
        (_exhausted, ScriptExhaustedError, "myna: FakeChatModel script exhausted: 1 reply was "),
        (_unbound_tool, InvalidToolCallError, "myna: FakeChatModel reply #1 calls tool 'sub'"),
        (_bad_args, InvalidToolCallError, "myna: FakeChatModel reply #1 calls tool 'add' with"),
        (_no_tools, InvalidToolCallError, "myna: FunctionChatModel call #1 calls tool 'add'"),
    ],
    ids=["script-exhausted", "unbound-tool", "bad-args", "no-tools-bound"],
)
def test_a_fakes_test_failure_starts_with_myna_and_says_how_to_relax(
    fail: object, cls: type, start: str
) -> None:
    with pytest.raises(cls) as exc:
        fail()  # type: ignore[operator]
    assert isinstance(exc.value, AssertionError)  # pytest shows a failure, not a crash
    assert str(exc.value).startswith(start)
    assert "cycle=True" in str(exc.value) or "validate_tool_calls=False" in str(exc.value)


async def test_async_failures_read_the_same() -> None:
    model = FakeChatModel([])
    with pytest.raises(ScriptExhaustedError) as exc:
        await model.ainvoke("a")
    assert str(exc.value) == (
        "myna: FakeChatModel script exhausted: 0 replies were scripted and this is call #1. "
        "Add replies to the script, or pass cycle=True to repeat it."
    )
