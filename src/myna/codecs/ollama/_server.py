"""Server side of the Ollama codec: what an emulator needs to answer like ``ollama serve``."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from ...exceptions import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    OverloadedError,
    ProviderError,
    RateLimitError,
    ServerError,
    UserError,
)
from ...messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    standard_blocks,
)
from ._shared import (
    EXTRA_OPTIONS,
    NEUTRAL_OPTIONS,
    OPTION_TYPES,
    PROVIDER,
    tool_call_id,
    usage_to_wire,
    wire_content,
)

__all__ = ["decode_request", "render_error", "render_models", "render_response"]

DEFAULT_MODEL = "myna-emulator"
"""The model name replies carry when neither the request params nor the message name one."""

_WIRE_TO_NEUTRAL = {wire: neutral for neutral, wire in NEUTRAL_OPTIONS.items()}
_REQUEST_KEYS = frozenset(
    {"model", "messages", "stream", "options", "format", "think", "tools", "logprobs"}
    | {"top_logprobs"}
)
_ROLES = {
    "system": SystemMessage,
    "user": HumanMessage,
    "assistant": AIMessage,
    "tool": ToolMessage,
}
_THINK_LEVELS = ("high", "medium", "low")
_METADATA_KEYS = (
    "total_duration",
    "load_duration",
    "prompt_eval_duration",
    "eval_duration",
    "remote_model",
    "remote_host",
)
"""response_metadata keys that render back onto the final line as Ollama fields."""

_STATUS_BY_CLASS: tuple[tuple[type[ProviderError], int], ...] = (
    (NotFoundError, 404),
    (AuthenticationError, 401),
    (RateLimitError, 429),
    (OverloadedError, 503),
    (BadRequestError, 400),
    (ServerError, 500),
)


# --- decode_request ---------------------------------------------------------------------------


def _bad(message: str) -> BadRequestError:
    return BadRequestError(message, status_code=400, provider=PROVIDER, body={"error": message})


def _go_kind(value: Any) -> str:
    """The JSON kind as Go's encoding/json names it in its errors."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _type_error(value: Any, field: str, go_type: str) -> BadRequestError:
    struct, _, path = field.partition(".")
    return _bad(
        f"json: cannot unmarshal {_go_kind(value)} into Go struct field {struct}.{path} "
        f"of type {go_type}"
    )


def _want(value: Any, kind: type | tuple[type, ...], field: str, go_type: str) -> Any:
    """`value` if it has the JSON type the server expects (null is always fine)."""
    if value is None:
        return None
    ok = isinstance(value, kind)
    if kind is not bool and isinstance(value, bool):
        ok = False
    if not ok:
        raise _type_error(value, field, go_type)
    return value


def _check_base64(data: str, field: str) -> str:
    _want(data, str, field, "api.ImageData")
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
        pos = next((i for i, ch in enumerate(data) if ch not in alphabet), len(data))
        raise _bad(f"illegal base64 data at input byte {pos}") from None
    return data


def _decode_tool_calls(raw: Any) -> list[dict[str, Any]]:
    _want(raw, list, "Message.messages.tool_calls", "[]api.ToolCall")
    calls = []
    for k, call in enumerate(raw or []):
        _want(call, dict, "Message.messages.tool_calls", "api.ToolCall")
        if call is None:
            continue
        fn = _want(
            call.get("function"),
            dict,
            "ToolCall.messages.tool_calls.function",
            "api.ToolCallFunction",
        )
        fn = fn or {}
        name = _want(
            fn.get("name"), str, "ToolCallFunction.messages.tool_calls.function.name", "string"
        )
        args = _want(
            fn.get("arguments"),
            dict,
            "ToolCallFunction.messages.tool_calls.function.arguments",
            "api.ToolCallFunctionArguments",
        )
        calls.append({"name": name or "", "args": args or {}, "id": tool_call_id(call, k)})
    return calls


def _decode_message(raw: Any, i: int, pending: list[tuple[str, str]]) -> BaseMessage:
    _want(raw, dict, "ChatRequest.messages", "api.Message")
    raw = raw or {}
    role = _want(raw.get("role"), str, "Message.messages.role", "string")
    cls = _ROLES.get(role or "")
    if cls is None:
        raise _bad(
            f"messages[{i}] has role {role!r}; Ollama's /api/chat takes system, user, "
            "assistant and tool messages."
        )
    text = _want(raw.get("content"), str, "Message.messages.content", "string") or ""
    thinking = _want(raw.get("thinking"), str, "Message.messages.thinking", "string") or ""
    images = _want(raw.get("images"), list, "Message.messages.images", "[]api.ImageData") or []
    images = [_check_base64(data, "Message.messages.images") for data in images]
    tool_name = _want(raw.get("tool_name"), str, "Message.messages.tool_name", "string")
    call_id = _want(raw.get("tool_call_id"), str, "Message.messages.tool_call_id", "string")
    if cls is AIMessage:
        calls = _decode_tool_calls(raw.get("tool_calls"))
        pending[:] = [(c["id"], c["name"]) for c in calls]
        return AIMessage(content=wire_content(text, thinking, images), tool_calls=calls)
    content = wire_content(text, "", images)
    if cls is ToolMessage:
        if not call_id:
            match = next((p for p in pending if tool_name in (None, p[1])), None)
            if match is not None:
                pending.remove(match)
            call_id = match[0] if match else (tool_name or "call_unmatched")
        return ToolMessage(content, tool_call_id=call_id, name=tool_name or None)
    return cls(content)


def _decode_options(raw: Any, params: dict[str, Any]) -> None:
    _want(raw, dict, "ChatRequest.options", "map[string]interface {}")
    rest: dict[str, Any] = {}
    for key, value in (raw or {}).items():
        kind = OPTION_TYPES.get(key)
        if value is not None and kind is not None:
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            ok = {
                "integer": number,
                "float32": number,
                "boolean": isinstance(value, bool),
                "array": isinstance(value, list),
            }[kind]
            if not ok:
                raise _bad(f"option {key!r} must be of type {kind}".replace("'", '"'))
            if kind == "array" and not all(isinstance(s, str) for s in value):
                raise _bad(f'option "{key}" must be of an array of strings')
        if key in _WIRE_TO_NEUTRAL:
            params[_WIRE_TO_NEUTRAL[key]] = value
        elif key in EXTRA_OPTIONS:
            params[key] = value
        else:
            rest[key] = value
    if rest:
        params["options"] = rest


def _decode_format(fmt: Any) -> dict[str, Any] | None:
    if fmt is None or fmt == "":
        return None
    if fmt == "json":
        return {"type": "json_object"}
    if isinstance(fmt, dict):
        return {"type": "json_schema", "schema": fmt}
    raise _bad(f'invalid format: {json.dumps(fmt)}; expected "json" or a valid JSON Schema')


def _decode_think(think: Any, params: dict[str, Any]) -> None:
    if think is None:
        return
    if isinstance(think, bool):
        params["include_reasoning"] = think
    elif isinstance(think, str):
        if think not in _THINK_LEVELS:
            raise _bad(
                f'invalid think value: "{think}" (must be "high", "medium", "low", true, or false)'
            )
        params["reasoning_effort"] = think
    else:
        raise _bad('think must be a boolean or string ("high", "medium", "low", true, or false)')


def _decode_tools(raw: Any) -> list[dict[str, Any]]:
    _want(raw, list, "ChatRequest.tools", "api.Tools")
    tools = []
    for tool in raw or []:
        _want(tool, dict, "ChatRequest.tools", "api.Tool")
        fn = _want((tool or {}).get("function"), dict, "Tool.tools.function", "api.ToolFunction")
        if not tool or tool.get("type", "function") != "function" or not fn:
            tools.append(tool)  # not a function tool: handed on as the raw dict
            continue
        name = _want(fn.get("name"), str, "ToolFunction.tools.function.name", "string")
        description = _want(
            fn.get("description"), str, "ToolFunction.tools.function.description", "string"
        )
        spec: dict[str, Any] = {"name": name or "", "description": description or ""}
        spec["parameters"] = fn.get("parameters") or {"type": "object", "properties": {}}
        tools.append(spec)
    return tools


def decode_request(
    body: dict[str, Any], *, model: str | None = None
) -> tuple[list[BaseMessage], dict[str, Any]]:
    """The messages and neutral params of a ``POST /api/chat`` body, validated like Ollama.

    A missing ``stream`` means streaming (Ollama's default). ``options`` map back to the
    neutral keys (``num_predict`` -> ``max_tokens``), other known options to top-level keys
    of their own name and unknown ones to ``params["options"]``; ``format`` becomes
    ``response_format`` and ``think`` becomes ``reasoning_effort`` / ``include_reasoning``.
    An empty ``messages`` list is valid for Ollama (it only loads the model and answers
    ``done_reason: "load"``) and decodes to ``[]``.

    `model` is the model named outside the body (Gemini and Bedrock put it in the URL); every
    codec takes it so a server calls them alike. When given, it replaces the body's model in
    the params.

    Raises:
        BadRequestError: with Ollama's own wording, for what the real server rejects
            ("model is required", wrong JSON types, a bad ``think`` value, bad base64 images,
            option types, ``top_logprobs`` outside 0..20).
    """
    if not isinstance(body, dict):
        raise _bad(f"json: cannot unmarshal {_go_kind(body)} into Go value of type api.ChatRequest")
    body_model = _want(body.get("model"), str, "ChatRequest.model", "string")
    if not body_model:
        raise _bad("model is required")
    raw_messages = _want(body.get("messages"), list, "ChatRequest.messages", "[]api.Message")
    stream = _want(body.get("stream"), bool, "ChatRequest.stream", "bool")
    logprobs = _want(body.get("logprobs"), bool, "ChatRequest.logprobs", "bool")
    top = body.get("top_logprobs")
    if isinstance(top, float) and not top.is_integer():
        raise _bad(
            f"json: cannot unmarshal number {top} into Go struct field "
            "ChatRequest.top_logprobs of type int"
        )
    top = _want(top, (int, float), "ChatRequest.top_logprobs", "int")
    if top is not None and not 0 <= top <= 20:
        raise _bad("top_logprobs must be between 0 and 20")
    pending: list[tuple[str, str]] = []
    messages = [_decode_message(m, i, pending) for i, m in enumerate(raw_messages or [])]
    params: dict[str, Any] = {
        "model": model or body_model,
        "stream": True if stream is None else stream,
    }
    _decode_options(body.get("options"), params)
    tools = _decode_tools(body.get("tools"))
    if tools:
        params["tools"] = tools
    response_format = _decode_format(body.get("format"))
    if response_format:
        params["response_format"] = response_format
    _decode_think(body.get("think"), params)
    if logprobs is not None:
        params["logprobs"] = logprobs
    if top is not None:
        params["top_logprobs"] = int(top)
    for key, value in body.items():
        if key not in _REQUEST_KEYS:
            params[key] = value
    return messages, params


# --- render_response / render_stream ----------------------------------------------------------


def render_content(content: Any, additional: dict[str, Any] | None = None) -> tuple[str, str]:
    """(content, thinking) strings for an AI message's content."""
    texts: list[str] = []
    thinking: list[str] = []
    for j, block in enumerate(standard_blocks(content)):
        kind = block.get("type")
        if kind == "text":
            texts.append(block.get("text") or "")
        elif kind == "reasoning":
            thinking.append(block.get("reasoning") or "")
        elif kind in ("tool_call", "tool_call_chunk", "invalid_tool_call"):
            continue  # rendered from the message's tool calls
        else:
            raise UserError(
                f"Reply content block #{j} is a {kind!r} block; Ollama /api/chat replies carry "
                "only text, thinking and tool calls. Script a text reply for the ollama emulator."
            )
    if not thinking and additional and isinstance(additional.get("reasoning_content"), str):
        thinking.append(additional["reasoning_content"])
    return "".join(texts), "".join(thinking)


def wire_call(name: Any, call_id: Any, args: Any, index: int) -> dict[str, Any]:
    if isinstance(args, str):
        # Arguments travel as an object; text that is not one (an invalid call) stays text.
        try:
            parsed = json.loads(args) if args.strip() else {}
        except ValueError:
            parsed = None
        args = parsed if isinstance(parsed, dict) else args
    call: dict[str, Any] = {}
    if call_id:
        call["id"] = call_id
    call["function"] = {"index": index, "name": name or "", "arguments": args}
    return call


def reply_head(message: AIMessage, params: dict[str, Any] | None) -> dict[str, Any]:
    meta = message.response_metadata
    model = (params or {}).get("model") or meta.get("model_name") or DEFAULT_MODEL
    created = meta.get("created_at")
    if not isinstance(created, str):
        created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {"model": model, "created_at": created}


_LOAD_NS = 1_000_000
"""The ``load_duration`` rendered when a reply brings none: 1 ms, the model already loaded."""
_PROMPT_TOKEN_NS = 100_000
"""``prompt_eval_duration`` per prompt token rendered when a reply brings none (0.1 ms)."""
_EVAL_TOKEN_NS = 10_000_000
"""``eval_duration`` per generated token rendered when a reply brings none (10 ms)."""


_TIMING_KEYS = _METADATA_KEYS[:4]


def _timings(usage: Any) -> dict[str, int]:
    prompt = (usage or {}).get("input_tokens", 0)
    generated = (usage or {}).get("output_tokens", 0)
    prompt_ns = max(prompt, 1) * _PROMPT_TOKEN_NS
    eval_ns = max(generated, 1) * _EVAL_TOKEN_NS
    return {
        "total_duration": _LOAD_NS + prompt_ns + eval_ns,
        "load_duration": _LOAD_NS,
        "prompt_eval_duration": prompt_ns,
        "eval_duration": eval_ns,
    }


def final_fields(message: AIMessage) -> dict[str, Any]:
    meta = message.response_metadata
    done_reason = meta.get("done_reason")
    if not isinstance(done_reason, str):
        done_reason = "length" if meta.get("finish_reason") == "length" else "stop"
    out: dict[str, Any] = {"done": True, "done_reason": done_reason}
    usage = message.usage_metadata
    # Ollama's final line always carries its timings (nanoseconds); a reply that brings none
    # gets small fixed ones from its token counts, so they stay the same run after run. One
    # that brings some (a recorded reply: Ollama Cloud sends total_duration only) keeps them.
    if not any(meta.get(key) is not None for key in _TIMING_KEYS):
        out.update(_timings(usage))
    for key in _METADATA_KEYS:
        if meta.get(key) is not None:
            out[key] = meta[key]
    if usage is not None:
        out.update(usage_to_wire(usage))
    if isinstance(meta.get("logprobs"), list):
        out["logprobs"] = meta["logprobs"]
    return out


def _all_calls(message: AIMessage) -> list[tuple[Any, Any, Any]]:
    calls: list[tuple[Any, Any, Any]] = [
        (c["name"], c["id"], c["args"]) for c in message.tool_calls
    ]
    calls += [(c.get("name"), c.get("id"), c.get("args")) for c in message.invalid_tool_calls]
    return calls


def render_response(message: AIMessage, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """The non-streaming ``/api/chat`` body Ollama would send for `message`.

    Reasoning blocks become ``message.thinking``, tool calls carry their id and an object of
    arguments, usage becomes ``prompt_eval_count`` / ``eval_count``, and ``done_reason`` comes
    from the metadata (a ``tool_calls`` finish is ``stop`` on Ollama's wire).
    """
    text, thinking = render_content(message.content, message.additional_kwargs)
    wire: dict[str, Any] = {"role": "assistant", "content": text}
    if thinking:
        wire["thinking"] = thinking
    calls = [wire_call(n, i, a, k) for k, (n, i, a) in enumerate(_all_calls(message))]
    if calls:
        wire["tool_calls"] = calls
    return {**reply_head(message, params), "message": wire, **final_fields(message)}


# --- render_error -----------------------------------------------------------------------------


def render_error(error: ProviderError) -> tuple[int, dict[str, str], Any]:
    """(status, headers, body) for `error` as Ollama sends it: ``{"error": "<message>"}``.

    Extra keys of an Ollama error body (such as a 401's ``signin_url``) are kept, and rate
    limit and overload errors with a known `retry_after` get a ``retry-after`` header.
    """
    status = error.status_code
    if status is None:
        status = next((s for cls, s in _STATUS_BY_CLASS if isinstance(error, cls)), 500)
    body: dict[str, Any] = {"error": error.message}
    if isinstance(error.body, dict):
        body.update({k: v for k, v in error.body.items() if k not in ("error", "status")})
    headers = {"content-type": "application/json; charset=utf-8"}
    if error.retry_after is not None and status in (429, 503):
        headers["retry-after"] = str(math.ceil(error.retry_after))
    return status, headers, body


# ---------------------------------------------------------------------------------------------
# the model endpoints: GET /api/tags and POST /api/show

CONTEXT_LENGTH = 131072
"""The context length `/api/show` reports (``model_info["<family>.context_length"]``)."""

_FAMILY = "myna"
_MODIFIED_AT = "2025-01-01T00:00:00Z"
_TEMPLATE = (
    "{{- if .Tools }}Tools: {{ range .Tools }}{{ . }}{{ end }}{{ end }}"
    "{{- range .Messages }}{{ .Role }}: {{ .Content }}{{ end }}"
)
"""A chat template that reads ``.Tools``: litellm decides tool support from this text."""


def _tagged(name: str) -> str:
    """Ollama names carry a tag; a bare name means ``:latest``."""
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def _details() -> dict[str, Any]:
    return {
        "parent_model": "",
        "format": "gguf",
        "family": _FAMILY,
        "families": [_FAMILY],
        "parameter_size": "",
        "quantization_level": "",
    }


def _show(name: str) -> dict[str, Any]:
    return {
        "modelfile": f"# Modelfile of the myna emulator\nFROM {name}\n",
        "parameters": "",
        "template": _TEMPLATE,
        "details": _details(),
        "model_info": {
            "general.architecture": _FAMILY,
            "general.basename": name,
            f"{_FAMILY}.context_length": CONTEXT_LENGTH,
        },
        "capabilities": ["completion", "tools", "thinking", "vision"],
        "modified_at": _MODIFIED_AT,
    }


def render_models(
    method: str, path: str, body: Any, models: Sequence[str], *, strict: bool = False
) -> tuple[int, dict[str, str], Any] | None:
    """Ollama's answer to ``GET /api/tags`` (the models, as ``ollama list``) and ``POST
    /api/show`` (one model: details, ``model_info`` with its context length, ``capabilities``
    with ``tools``), from the names in `models`; None for any other request.

    `/api/show` reads ``model`` (or the older ``name``) from `body`. With `strict`, a model
    not in `models` is Ollama's 404 ``model '<name>' not found``; otherwise any name is shown.
    """
    headers = {"content-type": "application/json; charset=utf-8"}
    if method == "GET" and path.endswith("/api/tags"):
        entries = [
            {
                "name": _tagged(name),
                "model": _tagged(name),
                "modified_at": _MODIFIED_AT,
                "size": 0,
                "digest": hashlib.sha256(name.encode()).hexdigest(),
                "details": _details(),
            }
            for name in models
        ]
        return 200, headers, {"models": entries}
    if method != "POST" or not path.endswith("/api/show"):
        return None
    name = (body.get("model") or body.get("name")) if isinstance(body, dict) else None
    if not isinstance(name, str) or not name:
        return render_error(BadRequestError("model is required", status_code=400))
    if strict and _tagged(name) not in {_tagged(m) for m in models}:
        return render_error(NotFoundError(f"model '{name}' not found", status_code=404))
    return 200, headers, _show(name)
