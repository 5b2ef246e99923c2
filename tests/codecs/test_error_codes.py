"""Every codec keeps the provider's own error `type` and `code` as attributes of the error.

Real recorded error answers (cassettes/real) decode to the words the provider used; an error
rendered by a codec's server side (what an emulator sends) decodes back to the same words;
and the attributes survive pickling (pytest-xdist sends errors across processes).
"""

from __future__ import annotations

import pickle
from pathlib import Path
from types import ModuleType

import pytest

from myna.cassettes._foreign import load_interactions
from myna.codecs import (
    anthropic_messages,
    bedrock_converse,
    gemini,
    ollama,
    openai_chat,
    openai_responses,
)
from myna.exceptions import (
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    NotFoundError,
    ProviderError,
    RateLimitError,
)

REAL = Path(__file__).resolve().parents[2] / "cassettes" / "real"


def _recorded_error(name: str, codec: ModuleType, index: int = 0) -> ProviderError:
    errors = [i.response for i in load_interactions(REAL / name) if i.response.status >= 400]
    response = errors[index]
    return codec.decode_error(response.status, response.body, response.headers)


@pytest.mark.parametrize(
    ("name", "codec", "cls", "type_", "code"),
    [
        (
            "openai-responses/chat_real_error_scenarios_openai_gpt-5-nano_handles_context_length_exceeded_errors.yml",
            openai_responses,
            ContextLengthError,
            "invalid_request_error",
            "context_length_exceeded",
        ),
        (
            "openai-responses/chat_error_handling_with_openai_gpt-5-nano_raises_appropriate_auth_error.yml",
            openai_responses,
            AuthenticationError,
            "invalid_request_error",
            "invalid_api_key",
        ),
        (
            "openai-chat/test_model_name_suggestion[openai-chat].yaml",
            openai_chat,
            NotFoundError,
            "invalid_request_error",
            "model_not_found",
        ),
        (
            "openai-compatible/test_tool_use_failed_error.yaml",
            openai_chat,
            BadRequestError,
            "invalid_request_error",
            "tool_use_failed",
        ),
        (
            "openai-compatible/chat_real_error_scenarios_azure_grok-4-1-fast-non-reasoning_handles_context_length_exceeded_errors.yml",
            openai_chat,
            RateLimitError,
            None,
            "RateLimitReached",
        ),
        (
            "anthropic/chat_real_error_scenarios_anthropic_claude-haiku-4-5_handles_context_length_exceeded_errors.yml",
            anthropic_messages,
            ContextLengthError,
            "invalid_request_error",
            None,
        ),
        (
            "anthropic/test_model_name_suggestion[anthropic].yaml",
            anthropic_messages,
            NotFoundError,
            "not_found_error",
            None,
        ),
        (
            "gemini/chat_error_handling_with_gemini_gemini-2_5-flash_raises_appropriate_auth_error.yml",
            gemini,
            AuthenticationError,
            "INVALID_ARGUMENT",
            "API_KEY_INVALID",
        ),
        (
            "gemini/chat_real_error_scenarios_gemini_gemini-2_5-flash_handles_context_length_exceeded_errors.yml",
            gemini,
            RateLimitError,
            "RESOURCE_EXHAUSTED",
            None,
        ),
        (
            "gemini/test_model_name_suggestion[google].yaml",
            gemini,
            NotFoundError,
            "NOT_FOUND",
            None,
        ),
    ],
    ids=[
        "openai-responses-context-length",
        "openai-responses-auth",
        "openai-chat-model-not-found",
        "groq-tool-use-failed",
        "azure-rate-limit",
        "anthropic-context-length",
        "anthropic-not-found",
        "gemini-bad-key",
        "gemini-resource-exhausted",
        "gemini-not-found",
    ],
)
def test_recorded_errors_keep_the_providers_type_and_code(
    name: str, codec: ModuleType, cls: type, type_: str | None, code: str | None
) -> None:
    error = _recorded_error(name, codec)
    assert isinstance(error, cls)
    assert (error.type, error.code) == (type_, code)
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error)
    assert (again.type, again.code, again.status_code) == (type_, code, error.status_code)


def test_a_recorded_in_stream_error_keeps_them_too() -> None:
    name = "openai-compatible/test_tool_use_failed_error_streaming.yaml"
    errors = []
    for interaction in load_interactions(REAL / name):
        try:
            list(openai_chat.decode_stream(interaction.response.stream_payloads()))
        except BadRequestError as exc:
            errors.append(exc)
    [error] = errors  # Groq's stream carries the failure as an error event, after a 200
    assert (error.type, error.code) == ("invalid_request_error", "tool_use_failed")
    assert error.status_code is None


def test_bedrock_names_the_exception_as_type_and_code() -> None:
    error = bedrock_converse.decode_error(
        400,
        b'{"message": "Input is too long for requested model."}',
        {
            "x-amzn-errortype": "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/"
        },
    )
    assert isinstance(error, ContextLengthError)
    assert (error.type, error.code) == ("ValidationException", "ValidationException")


def test_ollama_errors_have_neither() -> None:
    error = ollama.decode_error(404, {"error": "model 'llama9' not found"})
    assert isinstance(error, NotFoundError)
    assert (error.type, error.code) == (None, None)


def test_a_numeric_code_becomes_text() -> None:
    # vLLM: {"object": "error", "message": ..., "type": "BadRequestError", "code": 400}
    body = {
        "object": "error",
        "message": "bad",
        "type": "BadRequestError",
        "param": None,
        "code": 400,
    }
    error = openai_chat.decode_error(400, body)
    assert (error.type, error.code) == ("BadRequestError", "400")


@pytest.mark.parametrize(
    ("codec", "type_", "code"),
    [
        (openai_chat, "invalid_request_error", "tool_use_failed"),
        (openai_responses, "invalid_request_error", "tool_use_failed"),
        (anthropic_messages, "invalid_request_error", None),
        (gemini, "FAILED_PRECONDITION", "BILLING_DISABLED"),
        (bedrock_converse, "ModelErrorException", "ModelErrorException"),
    ],
    ids=["openai-chat", "openai-responses", "anthropic", "gemini", "bedrock"],
)
def test_a_rendered_error_decodes_to_its_own_words(
    codec: ModuleType, type_: str, code: str | None
) -> None:
    sent = BadRequestError("scripted", status_code=400, type=type_, code=code or type_)
    status, headers, body = codec.render_error(sent)
    got = codec.decode_error(status, body, headers)
    assert (got.type, got.code) == (type_, code)


@pytest.mark.parametrize(
    ("codec", "type_", "code"),
    [
        (openai_chat, "invalid_request_error", "context_length_exceeded"),
        (openai_responses, "invalid_request_error", "context_length_exceeded"),
        (anthropic_messages, "invalid_request_error", None),
        (gemini, "INVALID_ARGUMENT", None),
        (bedrock_converse, "ValidationException", "ValidationException"),
        (ollama, None, None),
    ],
    ids=["openai-chat", "openai-responses", "anthropic", "gemini", "bedrock", "ollama"],
)
def test_an_error_without_words_gets_the_providers_usual_ones(
    codec: ModuleType, type_: str | None, code: str | None
) -> None:
    sent = ContextLengthError("prompt is too long: 300000 tokens > 200000", status_code=400)
    status, headers, body = codec.render_error(sent)
    got = codec.decode_error(status, body, headers)
    assert isinstance(got, ContextLengthError)
    assert (got.type, got.code) == (type_, code)
