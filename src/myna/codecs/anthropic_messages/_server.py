"""Server side of the Anthropic Messages codec: what an emulator needs to answer like the API."""

from __future__ import annotations

import math
import re
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
    UserError,
)
from ...messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from ._shared import (
    STATUS_ERROR_TYPE,
    bad_request,
    decode_assistant_content,
    encode_assistant_content,
    new_id,
    provider_id,
    reply_model_name,
    reply_usage,
    stop_reason_for,
    user_block_to_standard,
)

__all__ = ["decode_request", "render_error", "render_models", "render_response"]


_THINKING_DOCS = (
    "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
    "#max-tokens-and-context-window-size"
)
_TOOL_SPEC_KEYS = frozenset({"name", "description", "input_schema", "strict", "cache_control"})


def _fail(problem: str) -> Exception:
    return bad_request(problem)


# ------------------------------------------------------------------ decode_request: validate


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_int(body: dict[str, Any], key: str, minimum: int, *, required: bool) -> None:
    if key not in body:
        if required:
            raise bad_request(f"{key}: Field required")
        return
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"{key}: Input should be a valid integer")
    if value < minimum:
        raise bad_request(f"{key}: Input should be greater than or equal to {minimum}")


def _check_unit_interval(body: dict[str, Any], key: str) -> None:
    if key not in body:
        return
    value = body[key]
    if not _is_number(value):
        raise bad_request(f"{key}: Input should be a valid number")
    if value < 0:
        raise bad_request(f"{key}: Input should be greater than or equal to 0")
    if value > 1:
        raise bad_request(f"{key}: Input should be less than or equal to 1")


def _check_blocks(blocks: list[Any], where: str) -> None:
    for j, block in enumerate(blocks):
        if not isinstance(block, dict):
            raise bad_request(f"{where}.{j}: Input should be a valid dictionary")
        if not isinstance(block.get("type"), str):
            raise bad_request(f"{where}.{j}.type: Field required")
        if block["type"] == "text" and block.get("text") == "":
            raise bad_request("messages: text content blocks must be non-empty")
        for kind, key in (("tool_use", "id"), ("tool_use", "name"), ("tool_result", "tool_use_id")):
            if block["type"] == kind and not isinstance(block.get(key), str):
                raise bad_request(f"{where}.{j}.{kind}.{key}: Input should be a valid string")


def _check_message(message: Any, i: int, last: bool) -> None:
    if not isinstance(message, dict):
        raise bad_request(f"messages.{i}: Input should be a valid dictionary")
    role = message.get("role")
    if role is None:
        raise bad_request(f"messages.{i}.role: Field required")
    if role == "system":
        raise bad_request(
            'messages: Unexpected role "system". The Messages API accepts a top-level `system` '
            'parameter, not "system" as an input message role.'
        )
    if role not in ("user", "assistant"):
        raise bad_request(f"messages.{i}.role: Input should be 'user' or 'assistant'")
    if "content" not in message:
        raise bad_request(f"messages.{i}.content: Field required")
    content = message["content"]
    if not isinstance(content, (str, list)):
        raise bad_request(f"messages.{i}.content: Input should be a valid list")
    if isinstance(content, list):
        _check_blocks(content, f"messages.{i}.content")
    final_assistant = last and role == "assistant"
    if not content and not final_assistant:
        raise bad_request(
            f"messages.{i}: all messages must have non-empty content except for the optional "
            "final assistant message"
        )
    if final_assistant:
        tail = content if isinstance(content, str) else (content[-1].get("text") if content else "")
        if isinstance(tail, str) and tail and tail != tail.rstrip():
            raise bad_request(
                "messages: final assistant content cannot end with trailing whitespace"
            )


def _check_tool_pairs(messages: list[dict[str, Any]]) -> None:
    """Every tool_use answered in the next user turn, every tool_result answering one.

    Consecutive turns with the same role count as one, as the API merges them.
    """
    groups: list[tuple[int, str, list[tuple[int, int, dict[str, Any]]]]] = []
    for i, message in enumerate(messages):
        content = message["content"]
        blocks = [(i, j, b) for j, b in enumerate(content)] if isinstance(content, list) else []
        if groups and groups[-1][1] == message["role"]:
            groups[-1][2].extend(blocks)
        else:
            groups.append((i, message["role"], blocks))
    for g, (first, role, blocks) in enumerate(groups):
        if role == "assistant":
            used = [b.get("id") for _, _, b in blocks if b["type"] == "tool_use"]
            after = groups[g + 1][2] if g + 1 < len(groups) else []
            answered = {b.get("tool_use_id") for _, _, b in after if b["type"] == "tool_result"}
            missing = [str(call_id) for call_id in used if call_id not in answered]
            if missing:
                raise bad_request(
                    f"messages.{first}: `tool_use` ids were found without `tool_result` blocks "
                    f"immediately after: {', '.join(missing)}. Each `tool_use` block must have "
                    "a corresponding `tool_result` block in the next message."
                )
            continue
        before = groups[g - 1][2] if g > 0 else []
        known = {b.get("id") for _, _, b in before if b["type"] == "tool_use"}
        for i, j, block in blocks:
            if block["type"] == "tool_result" and block.get("tool_use_id") not in known:
                raise bad_request(
                    f"messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` "
                    f"blocks: {block.get('tool_use_id')}. Each `tool_result` block must have a "
                    "corresponding `tool_use` block in the previous message."
                )


def _check_tools(body: dict[str, Any]) -> None:
    tools = body.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise bad_request("tools: Input should be a valid list")
    for i, tool in enumerate(tools or []):
        if not isinstance(tool, dict):
            raise bad_request(f"tools.{i}: Input should be a valid dictionary")
        if tool.get("type") in (None, "custom"):
            if not isinstance(tool.get("name"), str):
                raise bad_request(f"tools.{i}.custom.name: Field required")
            if not isinstance(tool.get("input_schema"), dict):
                raise bad_request(f"tools.{i}.custom.input_schema: Field required")
    choice = body.get("tool_choice")
    if choice is None:
        return
    if not isinstance(choice, dict):
        raise bad_request("tool_choice: Input should be a valid dictionary")
    if choice.get("type") not in ("auto", "any", "tool", "none"):
        raise bad_request(
            f"tool_choice: Input tag {choice.get('type')!r} found using 'type' does not match "
            "any of the expected tags: 'auto', 'any', 'tool', 'none'"
        )
    if choice["type"] == "tool" and not isinstance(choice.get("name"), str):
        raise bad_request("tool_choice.tool.name: Field required")


def _check_options(body: dict[str, Any]) -> None:
    for key in ("output_config", "thinking", "metadata"):
        if body.get(key) is not None and not isinstance(body[key], dict):
            raise bad_request(f"{key}: Input should be a valid dictionary")
    _check_unit_interval(body, "temperature")
    _check_unit_interval(body, "top_p")
    if "stream" in body and not isinstance(body["stream"], bool):
        raise bad_request("stream: Input should be a valid boolean")
    stops = body.get("stop_sequences")
    if stops is not None and not (
        isinstance(stops, list) and all(isinstance(s, str) for s in stops)
    ):
        raise bad_request("stop_sequences: Input should be a valid list")
    system = body.get("system")
    if system is not None and not isinstance(system, str):
        if not isinstance(system, list):
            raise bad_request("system: Input should be a valid list")
        for j, block in enumerate(system):
            if not isinstance(block, dict) or block.get("type") != "text":
                raise bad_request(f"system.{j}.type: Input should be 'text'")
            if not isinstance(block.get("text"), str):
                raise bad_request(f"system.{j}.text: Field required")
    thinking = body.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") == "enabled":
        budget = thinking.get("budget_tokens")
        if isinstance(budget, bool) or not isinstance(budget, int):
            raise bad_request("thinking.enabled.budget_tokens: Field required")
        if budget < 1024:
            raise bad_request(
                "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
            )
        if body["max_tokens"] <= budget:
            raise bad_request(
                "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our "
                f"documentation at {_THINKING_DOCS}"
            )
    fmt = (body.get("output_config") or {}).get("format")
    if fmt is not None and not (
        isinstance(fmt, dict)
        and fmt.get("type") == "json_schema"
        and isinstance(fmt.get("schema"), dict)
    ):
        raise bad_request("output_config.format.schema: Field required")


def _validate(body: Any) -> None:
    if not isinstance(body, dict):
        raise bad_request("The request body is not valid JSON: expected an object.")
    if "model" not in body:
        raise bad_request("model: Field required")
    if not isinstance(body["model"], str):
        raise bad_request("model: Input should be a valid string")
    _check_int(body, "max_tokens", 1, required=True)
    if "messages" not in body:
        raise bad_request("messages: Field required")
    messages = body["messages"]
    if not isinstance(messages, list):
        raise bad_request("messages: Input should be a valid list")
    if not messages:
        raise bad_request("messages: at least one message is required")
    for i, message in enumerate(messages):
        _check_message(message, i, i == len(messages) - 1)
    _check_tool_pairs(messages)
    _check_tools(body)
    _check_options(body)


# -------------------------------------------------------------------- decode_request: convert


def _system_message(system: Any) -> SystemMessage:
    if isinstance(system, str):
        return SystemMessage(system)
    blocks = []
    for block in system:
        out: dict[str, Any] = {"type": "text", "text": block["text"]}
        extras = {k: v for k, v in block.items() if k not in ("type", "text")}
        if extras:
            out["extras"] = extras
        blocks.append(out)
    return SystemMessage(blocks)


def _tool_message(block: dict[str, Any], where: str, names: dict[str, str]) -> ToolMessage:
    raw = block.get("content", "")
    if isinstance(raw, list):
        _check_blocks(raw, f"{where}.content")
        content: Any = [
            user_block_to_standard(b, f"{where}.content.{k}", _fail) for k, b in enumerate(raw)
        ]
    elif isinstance(raw, str):
        content = raw
    else:
        raise bad_request(f"{where}.content: Input should be a valid string")
    extra: dict[str, Any] = {}
    if block.get("cache_control") is not None:
        extra["additional_kwargs"] = {"cache_control": block["cache_control"]}
    call_id = block["tool_use_id"]
    return ToolMessage(
        content,
        tool_call_id=call_id,
        status="error" if block.get("is_error") else "success",
        name=names.get(call_id),
        **extra,
    )


def _user_messages(message: dict[str, Any], i: int, names: dict[str, str]) -> list[BaseMessage]:
    content = message["content"]
    if isinstance(content, str):
        return [HumanMessage(content)]
    out: list[BaseMessage] = []
    pending: list[dict[str, Any]] = []
    for j, block in enumerate(content):
        where = f"messages.{i}.content.{j}"
        if block["type"] == "tool_result":
            if pending:
                out.append(HumanMessage(pending))
                pending = []
            out.append(_tool_message(block, where, names))
        else:
            pending.append(user_block_to_standard(block, where, _fail))
    if pending:
        out.append(HumanMessage(pending))
    return out


def _tool_spec(tool: dict[str, Any]) -> dict[str, Any]:
    if tool.get("type") not in (None, "custom") or set(tool) - _TOOL_SPEC_KEYS - {"type"}:
        return dict(tool)  # server tools and tools with Anthropic-only options stay raw
    spec: dict[str, Any] = {
        "name": tool["name"],
        "description": tool.get("description", ""),
        "parameters": tool["input_schema"],
    }
    for key in ("strict", "cache_control"):
        if key in tool:
            spec[key] = tool[key]
    return spec


def _decode_params(body: dict[str, Any]) -> dict[str, Any]:
    rest = {k: v for k, v in body.items() if k not in ("messages", "system")}
    params: dict[str, Any] = {"model": rest.pop("model"), "max_tokens": rest.pop("max_tokens")}
    if "stop_sequences" in rest:
        params["stop"] = rest.pop("stop_sequences")
    if rest.get("tools") is not None:
        params["tools"] = [_tool_spec(t) for t in rest.pop("tools")]
    choice = rest.pop("tool_choice", None)
    if choice is not None:
        choice = dict(choice)
        if choice.pop("disable_parallel_tool_use", None) is True:
            params["parallel_tool_calls"] = False
        kind = choice["type"]
        if set(choice) == {"type"}:
            params["tool_choice"] = kind
        elif kind == "tool" and set(choice) == {"type", "name"}:
            params["tool_choice"] = choice["name"]
        else:
            params["tool_choice"] = choice
    config = dict(rest.pop("output_config", None) or {})
    if config.get("format") is not None:
        params["response_format"] = {
            "type": "json_schema",
            "schema": config.pop("format")["schema"],
        }
    if config.get("effort") is not None:
        params["reasoning_effort"] = config.pop("effort")
    if config:
        params["output_config"] = config
    thinking = rest.pop("thinking", None)
    if (
        isinstance(thinking, dict)
        and set(thinking) == {"type", "budget_tokens"}
        and thinking["type"] == "enabled"
    ):
        params["reasoning_budget"] = thinking["budget_tokens"]
    elif thinking == {"type": "disabled"}:
        params["reasoning_budget"] = 0
    elif thinking is not None:
        params["thinking"] = thinking
    params.update(rest)  # temperature, top_p, stream, cache_control, top_k, metadata, ...
    return params


def decode_request(
    body: dict[str, Any], *, model: str | None = None
) -> tuple[list[BaseMessage], dict[str, Any]]:
    """Read a ``POST /v1/messages`` body back into messages and neutral params.

    Validates the way the real API does and raises its 400 for what it rejects: missing
    ``model`` / ``max_tokens`` / ``messages``, no messages, a ``system`` role, empty
    content, unanswered ``tool_use`` or stray ``tool_result`` blocks, bad types or ranges.
    Consecutive turns with the same role are accepted, as the API merges them.

    `model` is the model named outside the body (Gemini and Bedrock put it in the URL); every
    codec takes it so a server calls them alike. When given, it replaces the body's model in
    the params.

    Raises:
        BadRequestError: with the real API's message and error body.
    """
    _validate(body)
    messages: list[BaseMessage] = []
    if body.get("system") not in (None, "", []):
        messages.append(_system_message(body["system"]))
    names: dict[str, str] = {}
    for i, message in enumerate(body["messages"]):
        if message["role"] == "user":
            messages.extend(_user_messages(message, i, names))
            continue
        content, calls, invalid = decode_assistant_content(
            message["content"], f"messages.{i}.content", _fail
        )
        names.update({c["id"]: c["name"] for c in calls if c["id"]})
        messages.append(AIMessage(content, tool_calls=calls, invalid_tool_calls=invalid))
    params = _decode_params(body)
    if model is not None:
        params["model"] = model
    return messages, params


# --------------------------------------------------------------------------- render_response


def render_response(message: AIMessage, params: dict[str, Any] | None = None) -> dict:
    """The Messages response body the real API would send for `message`.

    Content blocks come first, then one ``tool_use`` per tool call (invalid tool calls keep
    their unparsable arguments as a string ``input``, so a client sees the fault). Missing
    usage renders as zeros, since the API always reports it.

    Raises:
        UserError: the message holds blocks an assistant turn cannot carry (image, audio).
    """
    meta = message.response_metadata
    return {
        "id": provider_id(message.id or meta.get("id"), "msg_"),
        "type": "message",
        "role": "assistant",
        "model": reply_model_name(message, params),
        "content": encode_assistant_content(message, "message", for_request=False),
        "stop_reason": stop_reason_for(message),
        "stop_sequence": meta.get("stop_sequence"),
        # the API sends it on every reply, null unless a refusal explains itself
        "stop_details": meta.get("stop_details"),
        "usage": reply_usage(message),
    }


# ----------------------------------------------------------------------------- render_stream


# ------------------------------------------------------------------------------ render_error


def status_for(error: ProviderError) -> int:
    if error.status_code:
        return error.status_code
    for cls, status in (
        (OverloadedError, 529),
        (RateLimitError, 429),
        (AuthenticationError, 401),
        (NotFoundError, 404),
        (ContextLengthError, 400),
        (BadRequestError, 400),
    ):
        if isinstance(error, cls):
            return status
    return 500


def error_payload(error: ProviderError, status: int) -> dict[str, Any]:
    body = error.body
    if (
        isinstance(body, dict)
        and isinstance(body.get("error"), dict)
        and body.get("type") == "error"
    ):
        return body  # an Anthropic error body already, e.g. replayed from a recording
    if error.type:  # a scripted fault's own type
        kind = error.type
    elif isinstance(error, OverloadedError):
        kind = "overloaded_error"
    else:
        kind = STATUS_ERROR_TYPE.get(status) or (
            "invalid_request_error" if status < 500 else "api_error"
        )
    return {
        "type": "error",
        "error": {"type": kind, "message": error.message},
        "request_id": new_id("req_"),
    }


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(math.ceil(value * 1000) / 1000)


def render_error(error: ProviderError) -> tuple[int, dict[str, str], Any]:
    """The status, headers and JSON body the real API sends for `error`.

    ``{"type": "error", "error": {"type", "message"}, "request_id"}`` with the error type of
    the status (529 ``overloaded_error``, 429 ``rate_limit_error``...), ``request-id`` and
    ``x-should-retry`` headers, and ``retry-after`` when the error knows how long to wait.
    """
    if not isinstance(error, ProviderError):
        raise UserError(f"render_error() takes a myna ProviderError, got {type(error).__name__}.")
    status = status_for(error)
    body = error_payload(error, status)
    headers = {
        "content-type": "application/json",
        "request-id": str(body.get("request_id") or new_id("req_")),
        "x-should-retry": "true" if status in (408, 409, 429) or status >= 500 else "false",
    }
    if error.retry_after is not None:
        headers["retry-after"] = _seconds(error.retry_after)
    return status, headers, body


# ---------------------------------------------------------------------------------------------
# the model endpoints: GET /v1/models and GET /v1/models/{model_id}

_MODELS_PATH = re.compile(r"/v1/models(?:/(?P<id>[^/]+))?$")
MAX_INPUT_TOKENS = 200000
"""The context window the model endpoints report (``max_input_tokens``)."""
MAX_OUTPUT_TOKENS = 64000
"""The ``max_tokens`` limit the model endpoints report."""


def _model_info(name: str) -> dict[str, Any]:
    return {
        "type": "model",
        "id": name,
        "display_name": name,
        "created_at": "2025-01-01T00:00:00Z",
        "lifecycle": "active",
        "max_input_tokens": MAX_INPUT_TOKENS,
        "max_tokens": MAX_OUTPUT_TOKENS,
    }


def render_models(
    method: str, path: str, body: Any, models: Sequence[str], *, strict: bool = False
) -> tuple[int, dict[str, str], Any] | None:
    """Anthropic's answer to ``GET /v1/models`` (a page: ``data``, ``has_more``,
    ``first_id``, ``last_id``) and ``GET /v1/models/{model_id}`` (one model), from the names
    in `models`; None for any other request. With `strict`, a model not in `models` is the
    API's 404 ``not_found_error``; otherwise any id is described."""
    match = _MODELS_PATH.search(path)
    if method != "GET" or match is None:
        return None
    headers = {"content-type": "application/json", "request-id": new_id("req_")}
    model_id = match.group("id")
    if model_id is None:
        page = {
            "data": [_model_info(m) for m in models],
            "has_more": False,
            "first_id": models[0] if models else None,
            "last_id": models[-1] if models else None,
        }
        return 200, headers, page
    model_id = unquote(model_id)
    if strict and model_id not in models:
        return render_error(NotFoundError(f"model: {model_id}", status_code=404))
    return 200, headers, _model_info(model_id)
