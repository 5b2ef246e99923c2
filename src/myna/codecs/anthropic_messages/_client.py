"""Client side of the Anthropic Messages codec: requests out, replies and errors in."""

from __future__ import annotations

import json
from typing import Any

from ...exceptions import DecodeError, ProviderError, UserError
from ...messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    coerce_messages,
    standard_blocks,
)
from ._shared import (
    DEFAULT_MAX_TOKENS,
    cache_control_of,
    decode_assistant_content,
    decode_failure,
    encode_assistant_content,
    error_from_payload,
    excerpt,
    reply_metadata,
    usage_from_wire,
    user_block_to_wire,
)

__all__ = ["decode_error", "decode_response", "encode_request"]

# Params with a neutral meaning that the body never carries under their own name.
_DROPPED = ("seed", "stream_usage", "include_reasoning", "top_logprobs")


# ---------------------------------------------------------------------------- encode_request


def _with_cache_marker(content: Any, marker: Any) -> Any:
    """Put a message-level ``cache_control`` on the last block of its wire content."""
    if marker is None:
        return content
    blocks = [{"type": "text", "text": content}] if isinstance(content, str) else list(content)
    if blocks:
        blocks[-1] = {**blocks[-1], "cache_control": marker}
    return blocks


def _system_blocks(message: SystemMessage, where: str) -> list[dict[str, Any]]:
    out = []
    for j, block in enumerate(standard_blocks(message.content)):
        if block.get("type") != "text":
            raise UserError(
                f"{where}.content[{j}]: the Anthropic system prompt takes only text blocks, "
                f"got a {block.get('type')!r} block; put images and files in a HumanMessage."
            )
        wire: dict[str, Any] = {"type": "text", "text": block.get("text", "")}
        marker = cache_control_of(block)
        if marker is not None:
            wire["cache_control"] = marker
        out.append(wire)
    return _with_cache_marker(out, message.additional_kwargs.get("cache_control"))


def _user_content(message: BaseMessage, where: str) -> Any:
    if isinstance(message.content, str):
        content: Any = message.content
    else:
        content = [
            user_block_to_wire(block, f"{where}.content[{j}]")
            for j, block in enumerate(standard_blocks(message.content))
        ]
    return _with_cache_marker(content, message.additional_kwargs.get("cache_control"))


def _tool_result(message: ToolMessage, where: str) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": message.tool_call_id}
    if isinstance(message.content, str):
        block["content"] = message.content
    else:
        block["content"] = [
            user_block_to_wire(b, f"{where}.content[{j}]")
            for j, b in enumerate(standard_blocks(message.content))
        ]
    if message.status == "error":
        block["is_error"] = True
    marker = message.additional_kwargs.get("cache_control")
    if marker is not None:
        block["cache_control"] = marker
    return block


def _assistant_content(message: AIMessage, where: str) -> Any:
    marker = message.additional_kwargs.get("cache_control")
    if isinstance(message.content, str) and not (message.tool_calls or message.invalid_tool_calls):
        return _with_cache_marker(message.content, marker)
    return _with_cache_marker(encode_assistant_content(message, where, for_request=True), marker)


def _encode_messages(messages: list[BaseMessage]) -> tuple[Any, list[dict[str, Any]]]:
    system: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    results_turn: dict[str, Any] | None = None  # the user turn collecting tool results
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if isinstance(message, SystemMessage):
            if turns:
                raise UserError(
                    f"{where}: a SystemMessage after the conversation started. Anthropic "
                    "Messages has one top-level system prompt; put system messages first."
                )
            system += _system_blocks(message, where)
            continue
        if isinstance(message, ToolMessage):
            if results_turn is None:
                results_turn = {"role": "user", "content": []}
                turns.append(results_turn)
            results_turn["content"].append(_tool_result(message, where))
            continue
        results_turn = None
        if isinstance(message, AIMessage):
            turns.append({"role": "assistant", "content": _assistant_content(message, where)})
        elif isinstance(message, HumanMessage):
            turns.append({"role": "user", "content": _user_content(message, where)})
        else:
            raise UserError(f"{where}: cannot send a {type(message).__name__} to Anthropic.")
    if system and all(set(block) == {"type", "text"} for block in system):
        return "\n\n".join(block["text"] for block in system), turns
    return system or None, turns


def _tool_to_wire(tool: Any, where: str) -> dict[str, Any]:
    if not isinstance(tool, dict):
        raise UserError(
            f"{where} must be a dict: a ToolSpec {{'name', 'description', 'parameters'}} or an "
            "Anthropic tool; convert functions with myna.tools.convert_to_tool_spec."
        )
    if "input_schema" in tool or tool.get("type") not in (None, "function", "custom"):
        return dict(tool)  # already Anthropic-shaped, or a server tool such as web_search
    spec = tool["function"] if isinstance(tool.get("function"), dict) else tool
    if not isinstance(spec.get("name"), str):
        raise UserError(f"{where} has no string 'name': {excerpt(tool)}")
    out: dict[str, Any] = {"name": spec["name"]}
    if spec.get("description"):
        out["description"] = spec["description"]
    out["input_schema"] = spec.get("parameters") or {"type": "object", "properties": {}}
    if spec.get("strict") is not None:
        out["strict"] = spec["strict"]
    if tool.get("cache_control") is not None:
        out["cache_control"] = tool["cache_control"]
    return out


def _tool_choice(choice: Any, parallel: Any) -> dict[str, Any] | None:
    out: dict[str, Any] | None
    if choice is None:
        out = None
    elif choice in ("auto", "any", "none"):
        out = {"type": choice}
    elif choice == "required":
        out = {"type": "any"}
    elif isinstance(choice, str):
        out = {"type": "tool", "name": choice}
    elif isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        out = {"type": "tool", "name": choice["function"].get("name")}
    elif isinstance(choice, dict):
        out = dict(choice)
    else:
        raise UserError(
            f"tool_choice={choice!r} is not understood; use 'auto', 'any', 'none', a tool name "
            "or an Anthropic dict such as {'type': 'tool', 'name': 'get_weather'}."
        )
    if parallel is False:
        out = out or {"type": "auto"}
        if out.get("type") != "none":
            out["disable_parallel_tool_use"] = True
    return out


def _output_format(response_format: Any) -> dict[str, Any]:
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind == "json_schema":
        nested = response_format.get("json_schema")  # OpenAI's nested form
        schema = response_format.get("schema") or (nested or {}).get("schema")
        if isinstance(schema, dict):
            return {"type": "json_schema", "schema": schema}
    if kind == "json_object":
        raise UserError(
            "Anthropic Messages has no schema-less JSON mode; pass response_format="
            "{'type': 'json_schema', 'schema': {...}} or use tool calling."
        )
    raise UserError(
        f"response_format={excerpt(response_format)} is not understood; pass "
        "{'type': 'json_schema', 'name': ..., 'schema': {...}}."
    )


def encode_request(messages: list[BaseMessage], params: dict[str, Any] | None = None) -> dict:
    """Build the JSON body of ``POST /v1/messages``.

    System messages become the top-level ``system`` (a string, or text blocks when a block
    carries ``cache_control``); consecutive tool messages become one user turn of
    ``tool_result`` blocks. ``max_tokens`` defaults to `DEFAULT_MAX_TOKENS` (1024) because the
    API requires it, raised above ``reasoning_budget`` when thinking is on; ``seed`` has no
    Anthropic equivalent and is dropped.

    Args:
        messages: the conversation (anything `myna.messages.coerce_messages` accepts).
        params: the neutral request parameters (see `myna.codecs._protocol`).

    Raises:
        UserError: no model, an input Anthropic cannot carry (audio, video), a system message
            after the conversation started, or params it cannot express.
    """
    if not (isinstance(messages, list) and all(isinstance(m, BaseMessage) for m in messages)):
        messages = coerce_messages(messages)
    p = {k: v for k, v in (params or {}).items() if v is not None}
    model = p.pop("model", None)
    if not isinstance(model, str) or not model:
        raise UserError(
            "Anthropic Messages needs a model name: pass params['model'], e.g. 'claude-haiku-4-5'."
        )
    if p.pop("logprobs", False):
        raise UserError("Anthropic Messages does not return log probabilities; drop logprobs=True.")
    system, turns = _encode_messages(messages)
    if system is not None and "system" in p:
        raise UserError("Pass the system prompt once: as a SystemMessage or as params['system'].")
    thinking = p.pop("thinking", None)
    budget = p.pop("reasoning_budget", None)
    if thinking is None and budget is not None:
        thinking = (
            {"type": "disabled"} if budget == 0 else {"type": "enabled", "budget_tokens": budget}
        )
    max_tokens = p.pop("max_tokens", None)
    if max_tokens is None:
        max_tokens = DEFAULT_MAX_TOKENS
        wanted = thinking.get("budget_tokens") if isinstance(thinking, dict) else None
        if isinstance(wanted, int) and wanted >= max_tokens:
            max_tokens = wanted + DEFAULT_MAX_TOKENS
    body: dict[str, Any] = {"model": model, "max_tokens": max_tokens}
    if system is not None:
        body["system"] = system
    body["messages"] = turns
    for key in ("temperature", "top_p"):
        if key in p:
            body[key] = p.pop(key)
    stop = p.pop("stop", None)
    if stop is not None:
        body["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    tools = p.pop("tools", None)
    if tools:
        body["tools"] = [_tool_to_wire(t, f"params['tools'][{i}]") for i, t in enumerate(tools)]
    choice = _tool_choice(p.pop("tool_choice", None), p.pop("parallel_tool_calls", None))
    if choice is not None:
        body["tool_choice"] = choice
    output_config = dict(p.pop("output_config", None) or {})
    if "response_format" in p:
        output_config["format"] = _output_format(p.pop("response_format"))
    effort = p.pop("reasoning_effort", None)
    if effort is not None:
        output_config["effort"] = "low" if effort == "minimal" else effort
    if output_config:
        body["output_config"] = output_config
    if thinking is not None:
        body["thinking"] = thinking
    if "stream" in p:
        body["stream"] = bool(p.pop("stream"))
    extra_body = p.pop("extra_body", None)
    for key in _DROPPED:
        p.pop(key, None)
    body.update(p)  # cache_control, top_k, metadata, service_tier and anything else verbatim
    if extra_body is not None:
        if not isinstance(extra_body, dict):
            raise UserError(f"extra_body must be a dict, got {type(extra_body).__name__}.")
        body.update(extra_body)
    return body


# --------------------------------------------------------------------------- decode_response


def decode_response(body: dict[str, Any]) -> AIMessage:
    """Turn a non-streaming Messages response into an `AIMessage`.

    Text becomes the content (a string for a single plain text block, else standard
    blocks: ``reasoning`` with its signature or redacted data in ``extras``, ``text`` with
    citations as ``annotations``, ``server_tool_call`` / ``server_tool_result``);
    ``tool_use`` blocks become `tool_calls`. Usage counts cached tokens as input.

    Raises:
        DecodeError: the body is not a Messages response.
        ProviderError: the body is an Anthropic error object.
    """
    fail = decode_failure("Anthropic response")
    if not isinstance(body, dict):
        raise DecodeError(f"Anthropic response must be a JSON object, got {excerpt(body)}")
    if body.get("type") == "error":
        raise error_from_payload(None, body)
    if "content" not in body:
        raise fail(f"no 'content' in {excerpt(body)}")
    content, calls, invalid = decode_assistant_content(body["content"], "content", fail)
    usage = body.get("usage")
    return AIMessage(
        content=content,
        tool_calls=calls,
        invalid_tool_calls=invalid,
        usage_metadata=usage_from_wire(usage, fail) if usage is not None else None,
        response_metadata=reply_metadata(body, fail),
        id=body.get("id"),
    )


# ----------------------------------------------------------------------------- decode_stream


# ------------------------------------------------------------------------------ decode_error


def decode_error(status: int, body: Any, headers: dict[str, str] | None = None) -> ProviderError:
    """Turn an error response into the matching `myna.exceptions.ProviderError`.

    Reads ``{"type": "error", "error": {"type", "message"}, "request_id"}``; a body that is
    not JSON (a proxy's HTML page) gives its text as the message. 529 and
    ``overloaded_error`` give `OverloadedError`; ``retry-after`` headers set `retry_after`.
    """
    payload: Any = body
    if isinstance(body, (bytes, bytearray)):
        payload = bytes(body).decode("utf-8", errors="replace")
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError:
            pass
    fallback = ""
    if isinstance(payload, str) and payload.strip():
        fallback = " ".join(payload.split())[:200]
    elif not isinstance(payload, dict):
        fallback = f"HTTP {status} with no error body"
    return error_from_payload(status, payload, headers, fallback=fallback)
