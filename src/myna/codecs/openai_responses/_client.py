"""Client side of the OpenAI Responses codec: request bodies out, replies and errors in."""

from __future__ import annotations

import json
import re
from typing import Any

from ...exceptions import (
    ContextLengthError,
    DecodeError,
    OverloadedError,
    ProviderError,
    UserError,
    error_for_status,
)
from ...messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    coerce_messages,
    standard_blocks,
)
from ._items import Decoded, build_ai_items, decode_item
from ._shared import (
    ENCRYPTED,
    FUNCTION_CALL_IDS,
    INCOMPLETE_REASON,
    LOGPROBS,
    PROVIDER,
    excerpt,
    expect,
    format_to_wire,
    input_part,
    tool_choice_to_wire,
    tool_to_wire,
    usage_from_wire,
)

__all__ = ["decode_error", "decode_response", "encode_request"]

_UNSUPPORTED = {
    "stop": "the Responses API has no stop sequences; use the openai-chat protocol for them",
    "seed": "the Responses API takes no seed",
    "reasoning_budget": "the Responses API takes an effort, not a token budget; "
    "pass reasoning_effort='low'|'medium'|'high' instead",
}
_DROPPED = frozenset({"stream_usage", "cache_control"})
"""Neutral keys with no Responses equivalent that carry no data (usage always streams; the
prompt cache is automatic or set with prompt_cache_key)."""


def _content_parts(content: Any, where: str) -> Any:
    if isinstance(content, str):
        return content
    return [input_part(b, f"{where} block {i}") for i, b in enumerate(standard_blocks(content))]


def _system_role(message: BaseMessage) -> str:
    return "developer" if message.additional_kwargs.get("openai_role") == "developer" else "system"


def _encode_messages(
    messages: list[BaseMessage], *, use_instructions: bool
) -> tuple[str | None, list[Any]]:
    instructions = None
    items: list[Any] = []
    for index, message in enumerate(messages):
        where = f"messages[{index}] ({type(message).__name__})"
        if isinstance(message, SystemMessage):
            if (
                index == 0
                and use_instructions
                and isinstance(message.content, str)
                and _system_role(message) == "system"
            ):
                instructions = message.content
                continue
            content = _content_parts(message.content, where)
            items.append({"role": _system_role(message), "content": content})
        elif isinstance(message, HumanMessage):
            items.append({"role": "user", "content": _content_parts(message.content, where)})
        elif isinstance(message, AIMessage):
            plan = build_ai_items(message, output=False)
            if not plan.items:
                # an empty turn still takes its place in the conversation
                items.append({"role": "assistant", "content": ""})
            for item in plan.items:
                wire = item.wire
                if isinstance(message.content, str) and wire.get("type") == "message":
                    wire = {"role": "assistant", "content": message.content}
                items.append(wire)
        elif isinstance(message, ToolMessage):
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": message.tool_call_id,
                    "output": _content_parts(message.content, where),
                }
            )
        else:
            raise UserError(
                f"{where} cannot be sent over openai-responses; use SystemMessage, HumanMessage, "
                "AIMessage or ToolMessage."
            )
    return instructions, items


def _merge_include(body: dict[str, Any], value: str) -> None:
    include = body.setdefault("include", [])
    if value not in include:
        include.append(value)


def _encode_params(params: dict[str, Any], body: dict[str, Any]) -> None:
    for key, why in _UNSUPPORTED.items():
        if params.get(key) is not None:
            raise UserError(f"{key}={params[key]!r} cannot be sent: {why}.")
    extra_body = params.pop("extra_body", None)
    tools = [tool_to_wire(t, f"tools[{i}]") for i, t in enumerate(params.pop("tools", None) or [])]
    reasoning = dict(params.pop("reasoning", None) or {})
    text = dict(params.pop("text", None) or {})
    for key, value in params.items():
        if value is None or key in _DROPPED or key in _UNSUPPORTED:
            continue
        if key == "max_tokens":
            body["max_output_tokens"] = value
        elif key == "tool_choice":
            body["tool_choice"] = tool_choice_to_wire(value, tools)
        elif key == "response_format":
            fmt = format_to_wire(value)
            if fmt != {"type": "text"}:
                text["format"] = fmt
        elif key == "reasoning_effort":
            reasoning["effort"] = value
        elif key == "include_reasoning":
            if value:
                reasoning.setdefault("summary", "auto")
        elif key == "logprobs":
            if value:
                _merge_include(body, LOGPROBS)
        elif key == "include":
            for entry in value:
                _merge_include(body, entry)
        else:
            body[key] = value
    if tools:
        body["tools"] = tools
    if reasoning:
        body["reasoning"] = reasoning
    if text:
        body["text"] = text
    if body.get("store") is False:
        # stateless: reasoning only survives the turn as encrypted content sent back verbatim
        _merge_include(body, ENCRYPTED)
    if extra_body:
        if not isinstance(extra_body, dict):
            raise UserError(f"extra_body must be a dict, got {type(extra_body).__name__}.")
        body.update(extra_body)


def encode_request(messages: list[BaseMessage], params: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of a ``POST /v1/responses`` call.

    The first system message becomes ``instructions`` (unless ``params`` sets them); later
    system messages are ``system`` / ``developer`` input items. AI messages send back their
    reasoning items (id + encrypted content), text, refusals and function calls; tool
    messages become ``function_call_output`` items.

    Args:
        messages: the conversation (anything `myna.messages.coerce_messages` accepts).
        params: neutral request parameters (see `myna.codecs._protocol`).

    Returns:
        The request body as a dict.

    Raises:
        UserError: a missing model, a parameter or content block the protocol cannot carry.
    """
    messages = coerce_messages(messages)
    params = dict(params or {})
    model = params.pop("model", None)
    if not isinstance(model, str) or not model:
        raise UserError(
            "params['model'] is required for openai-responses, e.g. {'model': 'gpt-5-mini'}."
        )
    instructions, items = _encode_messages(messages, use_instructions="instructions" not in params)
    body: dict[str, Any] = {"model": model}
    if instructions is not None:
        body["instructions"] = instructions
    body["input"] = items
    _encode_params(params, body)
    return body


# ---------------------------------------------------------------------------------------------
# responses


def finish_reason(status: Any, details: Any, *, tool_calls: bool, refusal: bool) -> str | None:
    """The normalised finish reason for a response status."""
    if status == "incomplete":
        reason = details.get("reason") if isinstance(details, dict) else None
        return INCOMPLETE_REASON.get(reason, reason or "length")
    if status == "completed":
        if tool_calls:
            return "tool_calls"
        return "refusal" if refusal else "stop"
    return status if isinstance(status, str) else None


def response_metadata(
    response: dict[str, Any], *, tool_calls: bool, refusal: bool
) -> dict[str, Any]:
    """``response_metadata`` for a response object (its final state, in a stream)."""
    status = response.get("status")
    meta: dict[str, Any] = {"model_provider": PROVIDER}
    if response.get("id") is not None:
        meta["id"] = response["id"]
    if response.get("model") is not None:
        meta["model_name"] = response["model"]
    meta["finish_reason"] = finish_reason(
        status, response.get("incomplete_details"), tool_calls=tool_calls, refusal=refusal
    )
    if status is not None:
        meta["status"] = status
    if response.get("incomplete_details"):
        meta["incomplete_details"] = response["incomplete_details"]
    return meta


_CODE_STATUS = {
    "rate_limit_exceeded": 429,
    "insufficient_quota": 429,
    "server_error": 500,
    "vector_store_timeout": 500,
    "server_is_overloaded": 503,
    "invalid_api_key": 401,
    "model_not_found": 404,
    "context_length_exceeded": 400,
}


def provider_error(
    status: int,
    message: str,
    *,
    code: Any = None,
    type: Any = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> ProviderError:
    """The `ProviderError` for a status, message and OpenAI error type and code."""
    kwargs: dict[str, Any] = {
        "provider": PROVIDER,
        "body": body,
        "headers": headers,
        "type": type,
        "code": code,
    }
    if code == "context_length_exceeded":
        err: ProviderError = ContextLengthError(message, status_code=status, **kwargs)
    elif code in ("server_is_overloaded", "engine_overloaded"):
        err = OverloadedError(message, status_code=status, **kwargs)
    else:
        err = error_for_status(status, message, **kwargs)
    if err.retry_after is None:
        # "Please try again in 20s." / "in 850ms." in the message, when no header said
        match = re.search(r"try again in (\d+(?:\.\d+)?)\s*(ms|s)\b", message)
        if match:
            value = float(match.group(1))
            err.retry_after = value / 1000 if match.group(2) == "ms" else value
    if code == "insufficient_quota":
        err.retryable = False  # no credit left: retrying cannot help
    return err


def in_stream_error(error: Any, event: Any) -> ProviderError:
    """The error for a ``response.failed`` / ``error`` event or a failed response."""
    error = error if isinstance(error, dict) else {}
    code = error.get("code")
    message = error.get("message") or f"The response failed ({code or 'no error code'})."
    if not isinstance(message, str):
        message = excerpt(message)
    status = _CODE_STATUS.get(code, 400 if isinstance(code, str) and "invalid" in code else 500)
    err = provider_error(status, message, code=code, type=error.get("type"), body=event)
    err.status_code = None  # the HTTP status was 200; the failure came inside the body
    return err


def decode_response(body: dict[str, Any]) -> AIMessage:
    """An `AIMessage` from a Responses API response object.

    Text parts become ``text`` blocks (with the message item's id and citation annotations),
    reasoning items ``reasoning`` blocks (encrypted content in ``extras``), function calls
    `tool_calls`, built-in tool items ``server_tool_call`` / ``server_tool_result`` blocks and
    generated images ``image`` blocks.

    Raises:
        DecodeError: the body is not a response object.
        ProviderError: the response has ``status: "failed"`` (or is an error body).
    """
    if not isinstance(body, dict):
        raise DecodeError(f"A Responses API response must be a JSON object, got {excerpt(body)}.")
    if body.get("status") == "failed" or ("output" not in body and "error" in body):
        raise in_stream_error(body.get("error"), body)
    output = expect(body.get("output"), list, "response.output")
    decoded = Decoded()
    for i, item in enumerate(output):
        decode_item(item, f"response.output[{i}]", decoded)
    return message_from(decoded, body)


def message_from(decoded: Decoded, response: dict[str, Any]) -> AIMessage:
    """The `AIMessage` for decoded output items and the response object around them."""
    meta = response_metadata(
        response, tool_calls=bool(decoded.tool_calls), refusal=decoded.refusal is not None
    )
    if decoded.logprobs:
        meta["logprobs"] = decoded.logprobs
    additional: dict[str, Any] = {}
    if decoded.call_ids:
        additional[FUNCTION_CALL_IDS] = decoded.call_ids
    if decoded.refusal is not None:
        additional["refusal"] = decoded.refusal
    return AIMessage(
        content=decoded.blocks or "",
        id=response.get("id"),
        tool_calls=decoded.tool_calls,
        invalid_tool_calls=decoded.invalid_tool_calls,
        usage_metadata=usage_from_wire(response.get("usage"), "response.usage"),
        response_metadata=meta,
        additional_kwargs=additional,
    )


# ---------------------------------------------------------------------------------------------
# errors


def decode_error(status: int, body: Any, headers: dict[str, str] | None = None) -> ProviderError:
    """The `ProviderError` for an HTTP error answer.

    Reads OpenAI's ``{"error": {"message", "type", "param", "code"}}`` body (a dict, or its
    JSON text); ``retry_after`` comes from ``retry-after(-ms)`` headers or the message's
    "try again in 20s".
    """
    parsed = body
    if isinstance(body, (bytes, bytearray)):
        parsed = body.decode("utf-8", "replace")
    if isinstance(parsed, str):
        try:
            parsed = json.loads(parsed)
        except ValueError:
            pass
    error = parsed.get("error") if isinstance(parsed, dict) else None
    code = kind = None
    if isinstance(error, dict):
        message = error.get("message") or error.get("code") or f"HTTP {status}"
        code, kind = error.get("code"), error.get("type")
    elif isinstance(error, str):
        message = error
    elif isinstance(parsed, dict) and isinstance(parsed.get("message"), str):
        message = parsed["message"]
    elif isinstance(parsed, str) and parsed.strip():
        message = parsed.strip()[:500]
    else:
        message = f"HTTP {status} from OpenAI with no error message."
    return provider_error(status, str(message), code=code, type=kind, body=parsed, headers=headers)
