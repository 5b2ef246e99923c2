"""Client side of the Ollama codec: request bodies out, responses, streams and errors in."""

from __future__ import annotations

import json
import re
from typing import Any

from ...exceptions import (
    OverloadedError,
    ProviderError,
    UserError,
    error_for_status,
)
from ...messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolCallChunk,
    ToolMessage,
    coerce_messages,
    parse_tool_call_chunks,
    standard_blocks,
    tool_call_chunk,
)
from ._shared import (
    EFFORT_TO_THINK,
    EXTRA_OPTIONS,
    NEUTRAL_OPTIONS,
    PROVIDER,
    check_str,
    decode_fail,
    excerpt,
    metadata_from,
    tool_call_id,
    usage_from_wire,
    wire_arguments,
    wire_content,
)

__all__ = ["decode_error", "decode_response", "encode_request"]

# params keys encode_request maps itself; any other key goes to the body top level as is.
_CONSUMED = frozenset(
    {
        *NEUTRAL_OPTIONS,
        *EXTRA_OPTIONS,
        "model",
        "options",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "stream",
        "stream_usage",
        "reasoning_effort",
        "reasoning_budget",
        "include_reasoning",
        "logprobs",
        "top_logprobs",
        "cache_control",
        "extra_body",
    }
)

_NOT_CARRIED_HINT = {
    "audio": "transcribe the audio first and send the text",
    "video": "send a few frames as base64 image blocks",
    "file": "extract the document's text and send it as a text block",
}

_MODEL_NOT_FOUND = re.compile(r"model ['\"]([^'\"]+)['\"] not found")


# --- encode_request ---------------------------------------------------------------------------


def _data_uri(url: str) -> str | None:
    head, sep, data = url.partition(",")
    if url.startswith("data:") and sep and head.endswith(";base64"):
        return data
    return None


def _encode_content(
    content: Any, where: str, *, assistant: bool
) -> tuple[str, list[str], str | None]:
    """(text, base64 images, thinking) for one message's content."""
    texts: list[str] = []
    images: list[str] = []
    thinking: list[str] = []
    for j, block in enumerate(standard_blocks(content)):
        kind = block.get("type")
        if kind == "text":
            texts.append(block.get("text") or "")
        elif kind == "text-plain" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif kind == "image":
            data = block.get("base64")
            url = block.get("url")
            if not data and isinstance(url, str):
                data = _data_uri(url)
            if data:
                images.append(data)
                continue
            what = f"an image URL ({url[:80]})" if url else "an image file_id"
            raise UserError(
                f"{where} block #{j} is {what}; Ollama's /api/chat takes images only as "
                "base64 data. Download the image and pass "
                "{'type': 'image', 'base64': '<data>', 'mime_type': 'image/png'} instead."
            )
        elif kind == "reasoning" and assistant:
            thinking.append(block.get("reasoning") or "")
        elif kind in ("tool_call", "tool_call_chunk", "invalid_tool_call") and assistant:
            continue  # carried by the message's tool_calls
        else:
            hint = _NOT_CARRIED_HINT.get(str(kind), "send text or base64 images only")
            raise UserError(
                f"{where} block #{j} is a {kind!r} block, which the Ollama protocol cannot "
                f"carry (/api/chat takes text and base64 images); {hint}."
            )
    text = ("" if assistant else "\n").join(texts)
    return text, images, ("".join(thinking) if thinking else None)


def _encode_message(message: BaseMessage, i: int, tool_names: dict[str, str]) -> dict[str, Any]:
    where = f"messages[{i}] ({type(message).__name__})"
    if isinstance(message, AIMessage):
        text, images, thinking = _encode_content(message.content, where, assistant=True)
        if thinking is None and isinstance(message.additional_kwargs.get("reasoning_content"), str):
            thinking = message.additional_kwargs["reasoning_content"]
        out: dict[str, Any] = {"role": "assistant", "content": text}
        if thinking:
            out["thinking"] = thinking
        calls = []
        for call in message.tool_calls:
            wire: dict[str, Any] = {}
            if call.get("id"):
                wire["id"] = call["id"]
                tool_names[call["id"]] = call["name"]
            wire["function"] = {"name": call["name"], "arguments": call["args"]}
            calls.append(wire)
        if calls:
            out["tool_calls"] = calls
    elif isinstance(message, (SystemMessage, HumanMessage, ToolMessage)):
        role = {SystemMessage: "system", HumanMessage: "user", ToolMessage: "tool"}[type(message)]
        text, images, _ = _encode_content(message.content, where, assistant=False)
        out = {"role": role, "content": text}
        if isinstance(message, ToolMessage):
            name = message.name or tool_names.get(message.tool_call_id)
            if name:
                out["tool_name"] = name
            out["tool_call_id"] = message.tool_call_id
    else:
        raise UserError(
            f"{where}: Ollama takes system, human, AI and tool messages, "
            f"got {type(message).__name__}."
        )
    if images:
        out["images"] = images
    return out


def _encode_tool(tool: Any, i: int) -> dict[str, Any]:
    if not isinstance(tool, dict):
        raise UserError(
            f"tools[{i}] must be a dict like {{'name': 'get_weather', 'description': ..., "
            f"'parameters': {{...}}}}, got {type(tool).__name__}. "
            "Convert functions and models with myna.tools first."
        )
    if "name" not in tool:  # a raw provider tool dict, passed through
        return tool
    function: dict[str, Any] = {"name": tool["name"], "description": tool.get("description") or ""}
    function["parameters"] = tool.get("parameters") or {"type": "object", "properties": {}}
    return {"type": "function", "function": function}


def _encode_format(response_format: Any) -> Any:
    if not isinstance(response_format, dict):
        raise UserError(
            f"response_format must be a dict such as {{'type': 'json_schema', 'schema': {{...}}}} "
            f"or {{'type': 'json_object'}}, got {response_format!r}."
        )
    kind = response_format.get("type")
    if kind == "json_object":
        return "json"
    if kind == "json_schema":
        schema = response_format.get("schema")
        if schema is None and isinstance(response_format.get("json_schema"), dict):
            schema = response_format["json_schema"].get("schema")
        if not isinstance(schema, dict):
            raise UserError(
                "response_format {'type': 'json_schema'} needs a 'schema' dict (the JSON Schema "
                "Ollama will constrain the reply to)."
            )
        return schema
    if kind == "text":
        return None
    raise UserError(
        f"response_format type {kind!r} is unknown; use 'json_schema', 'json_object' or 'text'."
    )


def _encode_think(params: dict[str, Any]) -> Any:
    effort = params.get("reasoning_effort")
    include = params.get("include_reasoning")
    budget = params.get("reasoning_budget")
    if include is False or budget == 0:
        return False
    if effort is not None:
        if effort not in EFFORT_TO_THINK:
            raise UserError(
                f"reasoning_effort={effort!r} is not a level; use 'minimal', 'low', 'medium' "
                "or 'high'."
            )
        return EFFORT_TO_THINK[effort]
    if include is True or (isinstance(budget, int) and budget > 0):
        return True
    return None


def _encode_options(params: dict[str, Any]) -> dict[str, Any]:
    given = params.get("options") or {}
    if not isinstance(given, dict):
        raise UserError(f"options must be a dict of Ollama options, got {type(given).__name__}.")
    options = dict(given)
    for key in sorted(EXTRA_OPTIONS):
        if params.get(key) is not None:
            options[key] = params[key]
    for neutral, wire in NEUTRAL_OPTIONS.items():
        value = params.get(neutral)
        if value is None:
            continue
        if neutral == "stop":
            value = [value] if isinstance(value, str) else value
            if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
                raise UserError(f"stop must be a string or a list of strings, got {value!r}.")
        options[wire] = value
    return options


def encode_request(messages: list[BaseMessage], params: dict[str, Any]) -> dict[str, Any]:
    """The ``POST /api/chat`` body for `messages` and the neutral `params`.

    Sampling goes into ``options`` (``max_tokens`` -> ``num_predict``), ``response_format``
    into ``format``, reasoning settings into ``think``, and ``stream`` is always sent because
    Ollama streams when it is missing. Ollama has no ``tool_choice``: ``"none"`` leaves the
    tools out, any other value is ignored.

    Raises:
        UserError: for a missing model, or content Ollama cannot carry (image URLs, audio,
            files): the message names the block and what to send instead.
    """
    model = params.get("model")
    if not isinstance(model, str) or not model:
        raise UserError("params['model'] is required for Ollama, e.g. {'model': 'llama3.2'}.")
    tool_names: dict[str, str] = {}
    wire_messages = [
        _encode_message(m, i, tool_names) for i, m in enumerate(coerce_messages(messages))
    ]
    body: dict[str, Any] = {"model": model, "messages": wire_messages}
    tools = params.get("tools")
    if tools and params.get("tool_choice") != "none":
        body["tools"] = [_encode_tool(t, i) for i, t in enumerate(tools)]
    if params.get("response_format") is not None:
        fmt = _encode_format(params["response_format"])
        if fmt is not None:
            body["format"] = fmt
    options = _encode_options(params)
    if options:
        body["options"] = options
    think = _encode_think(params)
    if think is not None:
        body["think"] = think
    body["stream"] = bool(params.get("stream", False))
    if params.get("logprobs") is not None:
        body["logprobs"] = bool(params["logprobs"])
    if params.get("top_logprobs") is not None:
        body.setdefault("logprobs", True)
        body["top_logprobs"] = params["top_logprobs"]
    for key, value in params.items():
        if key not in _CONSUMED:
            body[key] = value
    extra = params.get("extra_body")
    if extra:
        body.update(extra)
    return body


# --- decode_response / decode_stream ----------------------------------------------------------


def wire_images(raw: Any, fail: Any) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise fail("has message.images that are not a list of base64 strings")
    return raw


def wire_tool_chunks(raw: Any, start: int, fail: Any) -> list[ToolCallChunk]:
    """One complete `ToolCallChunk` per wire tool call; `start` numbers them across a stream."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise fail("has message.tool_calls that is not a list")
    chunks: list[ToolCallChunk] = []
    for offset, call in enumerate(raw):
        index = start + offset
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict):
            raise fail(f"has tool_calls[{offset}] without a 'function' object")
        name = function.get("name")
        if not isinstance(name, str):
            raise fail(f"has tool_calls[{offset}].function.name that is not a string")
        args = wire_arguments(function.get("arguments"), fail)
        chunks.append(
            tool_call_chunk(name=name, args=args, id=tool_call_id(call, index), index=index)
        )
    return chunks


def check_logprobs(event: dict[str, Any], fail: Any) -> list[Any] | None:
    value = event.get("logprobs")
    if value is not None and not isinstance(value, list):
        raise fail("has logprobs that is not a list")
    return value


def raise_error_event(event: dict[str, Any], partial: AIMessageChunk | None) -> None:
    """Raise the `ProviderError` an ``{"error": ...}`` body or stream line stands for."""
    message = event["error"]
    if isinstance(message, dict):
        message = message.get("message", excerpt(message))
    message = str(message)
    status = event.get("status")
    if isinstance(status, int) and not isinstance(status, bool) and status >= 400:
        error = error_for_status(status, message, provider=PROVIDER, body=event)
    else:
        error = ProviderError(message, provider=PROVIDER, body=event)
    if partial is not None:
        error.partial = partial  # type: ignore[attr-defined]
    raise error


def decode_response(body: dict[str, Any]) -> AIMessage:
    """The `AIMessage` in a non-streaming ``/api/chat`` response body.

    ``message.thinking`` becomes a leading ``reasoning`` block, tool calls without an id get
    ``call_<index>``, ``prompt_eval_count`` / ``eval_count`` become usage, and the timing
    fields (``total_duration`` ...) stay in ``response_metadata`` under their own names.

    Raises:
        DecodeError: when the body is not an Ollama chat response.
        ProviderError: when the body is an ``{"error": ...}`` object.
    """
    fail = decode_fail("Ollama response body", body)
    if not isinstance(body, dict):
        raise fail("is not a JSON object")
    if body.get("error") is not None and "message" not in body:
        raise_error_event(body, None)
    message = body.get("message")
    if not isinstance(message, dict):
        raise fail("has no 'message' object")
    text = check_str(message.get("content"), "message.content", fail)
    thinking = check_str(message.get("thinking"), "message.thinking", fail)
    images = wire_images(message.get("images"), fail)
    chunks = wire_tool_chunks(message.get("tool_calls"), 0, fail)
    calls, invalid = parse_tool_call_chunks(chunks)
    metadata = metadata_from(body, bool(chunks), fail)
    logprobs = check_logprobs(body, fail)
    if logprobs is not None:
        metadata["logprobs"] = logprobs
    return AIMessage(
        content=wire_content(text, thinking, images),
        tool_calls=calls,
        invalid_tool_calls=invalid,
        usage_metadata=usage_from_wire(body, fail),
        response_metadata=metadata,
    )


# --- decode_error -----------------------------------------------------------------------------


def _parse_error_body(body: Any) -> Any:
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8", errors="replace")
    if isinstance(body, str):
        try:
            return json.loads(body)
        except ValueError:
            return body
    return body


def _error_message(body: Any) -> str | None:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):  # the OpenAI-compatible /v1 shape
            error = error.get("message")
        if isinstance(error, str) and error:
            return error
        if isinstance(body.get("message"), str):
            return body["message"]
        return None
    if isinstance(body, str) and body.strip():
        return body.strip()[:500]
    return None


def decode_error(status: int, body: Any, headers: dict[str, str] | None = None) -> ProviderError:
    """The `ProviderError` for an Ollama error response: ``{"error": "<message>"}``.

    A 404 "model 'x' not found" is a `NotFoundError` with ``model="x"``, a 400 such as
    "... does not support tools" a `BadRequestError`, a 503 "server busy" an
    `OverloadedError`. Bodies that are not JSON (a proxy's HTML page) keep their text.
    """
    parsed = _parse_error_body(body)
    message = _error_message(parsed) or f"Ollama answered HTTP {status} with no error message"
    found = _MODEL_NOT_FOUND.search(message)
    kwargs: dict[str, Any] = {
        "provider": PROVIDER,
        "body": parsed,
        "headers": headers,
        "model": found.group(1) if found else None,
    }
    if isinstance(parsed, dict):
        # Ollama's own errors are a bare message; a proxy in front may add a type and code
        kwargs["type"], kwargs["code"] = parsed.get("type"), parsed.get("code")
    if status == 503 and "busy" in message.lower():
        return OverloadedError(message, status_code=status, **kwargs)
    return error_for_status(status, message, **kwargs)
