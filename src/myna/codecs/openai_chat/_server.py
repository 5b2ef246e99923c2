"""Server side of the Chat Completions codec: read requests like the API, answer like it.

Streams are rendered in `._stream` (`render_stream`, `render_stream_error`).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote

from ...exceptions import (
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    NotFoundError,
    OverloadedError,
    ProviderError,
    RateLimitError,
    ServerError,
)
from ...messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from ._convert import (
    decode_assistant,
    decode_content,
    encode_assistant,
)
from ._shared import (
    FINISH_REASON_BACK,
    Malformed,
    usage_to_wire,
)
from ._validate import NOT_JSON, bad, check_messages, check_params

__all__ = ["decode_request", "render_error", "render_models", "render_response"]

DEFAULT_MODEL = "gpt-4o-mini"
"""The model a rendered reply names when neither the message nor the request says."""

FINGERPRINT = "fp_myna"
"""The ``system_fingerprint`` of a rendered reply (stable, so tests may compare replies)."""


# ---------------------------------------------------------------------------------------------
# decode_request


def _decode_tool(tool: dict[str, Any]) -> dict[str, Any]:
    if tool.get("type") != "function" or not isinstance(tool.get("function"), dict):
        return tool  # a provider tool (custom, web search ...) passes through as is
    fn = tool["function"]
    spec: dict[str, Any] = {"name": fn["name"]}
    for key in ("description", "parameters", "strict"):
        if key in fn:
            spec[key] = fn[key]
    return spec


def _decode_tool_choice(choice: Any) -> Any:
    if choice == "required":
        return "any"
    if isinstance(choice, dict) and choice.get("type") == "function" and len(choice) == 2:
        fn = choice.get("function")
        if isinstance(fn, dict) and set(fn) == {"name"}:
            return fn["name"]
    return choice


def _decode_response_format(value: dict[str, Any]) -> dict[str, Any]:
    if value.get("type") != "json_schema" or len(value) != 2:
        return value
    inner = value["json_schema"]
    out: dict[str, Any] = {"type": "json_schema", "name": inner.get("name")}
    for key in ("description", "schema", "strict"):
        if key in inner:
            out[key] = inner[key]
    return out


def _decode_params(body: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {"model": body["model"]}
    for key, value in body.items():
        if key in ("model", "messages", "max_completion_tokens"):
            continue
        if key == "max_tokens":
            params.setdefault("max_tokens", value)
        elif key == "stop":
            params["stop"] = [value] if isinstance(value, str) else value
        elif key == "tools":
            params["tools"] = [_decode_tool(t) for t in value]
        elif key == "tool_choice":
            params["tool_choice"] = _decode_tool_choice(value)
        elif key == "response_format":
            params["response_format"] = _decode_response_format(value)
        elif key == "stream_options" and isinstance(value, dict):
            rest = {k: v for k, v in value.items() if k != "include_usage"}
            if "include_usage" in value:
                params["stream_usage"] = bool(value["include_usage"])
            if rest:
                params["stream_options"] = rest
        else:
            params[key] = value
    # max_completion_tokens is the current name; it wins over the legacy max_tokens
    if body.get("max_completion_tokens") is not None:
        params["max_tokens"] = body["max_completion_tokens"]
    return params


def _decode_message(message: dict[str, Any], where: str) -> BaseMessage:
    role = message["role"]
    name = message.get("name")
    extra = {"name": name} if isinstance(name, str) and name else {}
    if role in ("system", "developer"):
        kwargs: dict[str, Any] = dict(extra)
        if role == "developer":
            kwargs["additional_kwargs"] = {"openai_role": "developer"}
        return SystemMessage(decode_content(message["content"], f"{where}.content"), **kwargs)
    if role == "user":
        return HumanMessage(decode_content(message["content"], f"{where}.content"), **extra)
    if role == "assistant":
        return AIMessage(**decode_assistant(message, where))
    if role == "tool":
        return ToolMessage(
            decode_content(message["content"], f"{where}.content"),
            tool_call_id=str(message["tool_call_id"]),
        )
    # the legacy "function" role answers a function_call by name
    return ToolMessage(
        decode_content(message.get("content"), f"{where}.content"),
        tool_call_id=str(message["name"]),
        name=str(message["name"]),
        additional_kwargs={"openai_role": "function"},
    )


def decode_request(
    body: dict[str, Any], *, model: str | None = None
) -> tuple[list[BaseMessage], dict[str, Any]]:
    """A ``/v1/chat/completions`` request body -> (messages, neutral params).

    Validates like the real API: a body it would reject raises `BadRequestError` carrying
    OpenAI's wording and error JSON (``exc.body``), ready for `render_error`. Both
    ``max_tokens`` and ``max_completion_tokens`` become ``params["max_tokens"]``;
    ``stream_options.include_usage`` becomes ``params["stream_usage"]``; a ``developer``
    message becomes a `SystemMessage` with ``additional_kwargs["openai_role"]``.

    `model` is the model named outside the body (Gemini and Bedrock put it in the URL); every
    codec takes it so a server calls them alike. When given, it replaces the body's model in
    the params.
    """
    if not isinstance(body, dict):
        raise bad(NOT_JSON)
    check_params(body)
    check_messages(body.get("messages"))
    try:
        messages = [_decode_message(m, f"messages[{i}]") for i, m in enumerate(body["messages"])]
    except Malformed as exc:
        raise bad(
            f"Invalid type for '{exc.where}': {exc.problem}.", exc.where, "invalid_type"
        ) from None
    params = _decode_params(body)
    if model is not None:
        params["model"] = model
    return messages, params


# ---------------------------------------------------------------------------------------------
# render_response / render_stream


def reply_head(message: AIMessage, params: dict[str, Any], kind: str) -> dict[str, Any]:
    meta = message.response_metadata or {}
    head: dict[str, Any] = {
        "id": message.id or meta.get("id") or f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": kind,
        "created": meta.get("created") or int(time.time()),
        "model": meta.get("model_name") or params.get("model") or DEFAULT_MODEL,
    }
    # OpenAI names the tier that served the request ("auto" asks it to choose) and the
    # backend configuration; a gpt-5 model's fingerprint is null. A reply that recorded its
    # own values keeps them.
    tier = params.get("service_tier")
    head["service_tier"] = meta.get("service_tier") or (
        tier if isinstance(tier, str) and tier != "auto" else "default"
    )
    if meta.get("system_fingerprint") is not None:
        head["system_fingerprint"] = meta["system_fingerprint"]
    else:
        head["system_fingerprint"] = None if head["model"].startswith("gpt-5") else FINGERPRINT
    return head


def wire_finish(message: AIMessage) -> str:
    meta = message.response_metadata or {}
    finish = meta.get("finish_reason")
    if finish is None:
        finish = "tool_calls" if (message.tool_calls or message.invalid_tool_calls) else "stop"
    return FINISH_REASON_BACK.get(finish, finish)


def render_response(message: AIMessage, params: dict[str, Any] | None = None) -> dict:
    """An `AIMessage` -> a ``chat.completion`` body, as the real API would answer.

    Text blocks join into ``message.content``; reasoning goes into the field its block names
    (``extras["field"]``, default ``reasoning_content``); audio into ``message.audio``;
    ``additional_kwargs["refusal"]`` into ``message.refusal``. The model is the message's
    ``model_name``, else the request's model.

    Raises:
        UserError: the message holds a block Chat Completions cannot return (an image, a
            file, a server-tool block).
    """
    params = params or {}
    wire = encode_assistant(message, "the reply", reply=True)
    wire.setdefault("refusal", None)
    wire.setdefault("annotations", [])
    meta = message.response_metadata or {}
    body = reply_head(message, params, "chat.completion")
    body["choices"] = [
        {
            "index": 0,
            "message": wire,
            "logprobs": meta.get("logprobs"),
            "finish_reason": wire_finish(message),
        }
    ]
    if message.usage_metadata is not None:
        body["usage"] = usage_to_wire(message.usage_metadata, body["model"])
    return body


# ---------------------------------------------------------------------------------------------
# render_error

# (status, type, code, param) OpenAI answers with, most specific class first
_ERROR_SHAPES: list[tuple[type[ProviderError], int, str, str | None, str | None]] = [
    (ContextLengthError, 400, "invalid_request_error", "context_length_exceeded", "messages"),
    (BadRequestError, 400, "invalid_request_error", None, None),
    (AuthenticationError, 401, "invalid_request_error", "invalid_api_key", None),
    (NotFoundError, 404, "invalid_request_error", "model_not_found", None),
    (RateLimitError, 429, "requests", "rate_limit_exceeded", None),
    (OverloadedError, 503, "server_error", None, None),
    (ServerError, 500, "server_error", None, None),
]


def error_shape(error: ProviderError) -> tuple[int, str, str | None, str | None]:
    for cls, status, kind, code, param in _ERROR_SHAPES:
        if isinstance(error, cls):
            return status, kind, code, param
    return 500, "api_error", None, None


_NAMED_PARAM = re.compile(
    r"^(?:Invalid (?:type for |value for )?|Unsupported (?:value|parameter): |"
    r"Missing required parameter: )'([^']+)'"
)
"""OpenAI's own wording quotes the parameter it rejects ("Invalid 'temperature': ...",
"Unsupported value: 'messages[0].role' ..."): a scripted error in those words names it."""


def param_in(message: str) -> str | None:
    """The request parameter an OpenAI error message names, else None (the API's ``param``
    is null for errors about no one parameter: a key, a rate limit, a missing model)."""
    match = _NAMED_PARAM.match(message or "")
    return match.group(1) if match else None


def error_object(error: ProviderError) -> dict[str, Any]:
    body = error.body
    if (
        isinstance(body, dict)
        and isinstance(body.get("error"), dict)
        and isinstance(body["error"].get("message"), str)
    ):
        return body["error"]
    _, kind, code, param = error_shape(error)
    # an error that names its own type or code (a scripted fault) keeps them on the wire
    return {
        "message": error.message,
        "type": error.type or kind,
        "param": param or param_in(error.message),
        "code": error.code or code,
    }


def render_error(error: ProviderError) -> tuple[int, dict[str, str], Any]:
    """A `ProviderError` -> (status, headers, body) as OpenAI sends it.

    An error that already carries an OpenAI-shaped body (``{"error": {"message": ...}}``)
    is sent as it is; otherwise the body is built from the error class (429
    ``rate_limit_exceeded``, 400 ``context_length_exceeded``, 401 ``invalid_api_key`` ...).
    A known ``retry_after`` becomes a ``retry-after`` header.
    """
    default_status, *_ = error_shape(error)
    status = error.status_code if isinstance(error.status_code, int) else default_status
    if status < 400:
        status = default_status
    headers = {"content-type": "application/json"}
    if error.retry_after is not None:
        seconds = error.retry_after
        headers["retry-after"] = str(int(seconds)) if seconds == int(seconds) else f"{seconds:g}"
    if status == 401:
        headers["www-authenticate"] = 'Bearer realm="OpenAI API"'
    body = error.body
    if not (isinstance(body, dict) and error_object(error) is body.get("error")):
        body = {"error": error_object(error)}
    return status, headers, body


# ---------------------------------------------------------------------------------------------
# the model endpoints: GET /v1/models and GET /v1/models/{id}

MODELS_PATH = re.compile(r"(?:^|/)(?:v1|openai)/models(?:/(?P<id>.+))?$")
"""``/v1/models`` under any prefix (``/openai/v1``, ``/api/v1``, Gemini's ``/v1beta/openai``);
an id may hold slashes (``meta-llama/Llama-3.3-70B``). Not Gemini's own ``/v1beta/models``."""

MODEL_CREATED = 1735689600
"""The ``created`` time of every listed model (2025-01-01)."""


def _model_object(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": MODEL_CREATED, "owned_by": "myna-emulator"}


def render_models(
    method: str, path: str, body: Any, models: Sequence[str], *, strict: bool = False
) -> tuple[int, dict[str, str], Any] | None:
    """OpenAI's answer to ``GET /v1/models`` (``{"object": "list", "data": [...]}``) and
    ``GET /v1/models/{id}`` (one model object), from the names in `models`; None for any
    other request. With `strict`, an id not in `models` is OpenAI's 404 ``model_not_found``;
    otherwise any id is described."""
    match = MODELS_PATH.search(path)
    if method != "GET" or match is None:
        return None
    headers = {"content-type": "application/json"}
    model_id = match.group("id")
    if model_id is None:
        return 200, headers, {"object": "list", "data": [_model_object(m) for m in models]}
    model_id = unquote(model_id)
    if strict and model_id not in models:
        message = f"The model '{model_id}' does not exist or you do not have access to it."
        return render_error(
            NotFoundError(
                message, status_code=404, type="invalid_request_error", code="model_not_found"
            )
        )
    return 200, headers, _model_object(model_id)
