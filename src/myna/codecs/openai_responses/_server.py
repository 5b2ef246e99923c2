"""Server side of the OpenAI Responses codec: what an emulator needs to answer like the API."""

from __future__ import annotations

import base64
import copy
import json
import re
import time
import uuid
from collections.abc import Sequence
from typing import Any

from ...exceptions import (
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    DecodeError,
    NotFoundError,
    OverloadedError,
    ProviderError,
    RateLimitError,
)
from ...messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from .._common import type_phrase
from ..openai_chat import render_models as _chat_render_models
from ._items import Decoded, Plan, build_ai_items, decode_item
from ._shared import (
    ENCRYPTED,
    FUNCTION_CALL_IDS,
    INCOMPLETE_REASON_BACK,
    LOGPROBS,
    PROVIDER,
    block_from_part,
    format_to_wire,
    tool_choice_from_wire,
    tool_choice_to_wire,
    tool_from_wire,
    tool_to_wire,
    usage_to_wire,
)

__all__ = ["decode_request", "render_error", "render_models", "render_response"]

# ---------------------------------------------------------------------------------------------
# request validation, in the API's own words


def _bad(message: str, param: str | None = None, code: str | None = None) -> BadRequestError:
    error = {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    return BadRequestError(message, status_code=400, provider=PROVIDER, body={"error": error})


def _invalid_type(param: str, expected: str, value: Any) -> BadRequestError:
    return _bad(
        f"Invalid type for '{param}': expected {expected}, but got {type_phrase(value)} instead.",
        param,
        "invalid_type",
    )


def _missing(param: str) -> BadRequestError:
    return _bad(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")


def _listing(values: list[str]) -> str:
    quoted = [f"'{v}'" for v in values]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def _invalid_value(param: str, value: Any, supported: list[str]) -> BadRequestError:
    return _bad(
        f"Invalid value: '{value}'. Supported values are: {_listing(supported)}.",
        param,
        "invalid_value",
    )


def _number(body: dict[str, Any], key: str, low: float, high: float | None, integer: bool) -> None:
    value = body.get(key)
    if value is None:
        return
    kind = "integer" if integer else "decimal"
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok:
        raise _invalid_type(key, f"an {kind}" if integer else "a decimal", value)
    shown = json.dumps(value)
    if value < low:
        raise _bad(
            f"Invalid '{key}': {kind} below minimum value. Expected a value >= {low:g}, "
            f"but got {shown} instead.",
            key,
            f"{kind}_below_min_value",
        )
    if high is not None and value > high:
        raise _bad(
            f"Invalid '{key}': {kind} above maximum value. Expected a value <= {high:g}, "
            f"but got {shown} instead.",
            key,
            f"{kind}_above_max_value",
        )


def _bool(body: dict[str, Any], key: str) -> None:
    if body.get(key) is not None and not isinstance(body[key], bool):
        raise _invalid_type(key, "a boolean", body[key])


_ROLES = ["assistant", "system", "developer", "user"]
_USER_PARTS = ["input_text", "input_image", "input_file", "input_audio"]
_ASSISTANT_PARTS = ["output_text", "refusal"]
_EFFORTS = ["none", "minimal", "low", "medium", "high", "xhigh", "max"]
_INCLUDES = [
    "file_search_call.results",
    "web_search_call.results",
    "web_search_call.action.sources",
    "message.input_image.image_url",
    "computer_call_output.output.image_url",
    "code_interpreter_call.outputs",
    ENCRYPTED,
    LOGPROBS,
]
_ITEM_TYPES = [
    "message",
    "function_call",
    "function_call_output",
    "reasoning",
    "web_search_call",
    "file_search_call",
    "code_interpreter_call",
    "image_generation_call",
    "mcp_call",
    "mcp_list_tools",
    "mcp_approval_request",
    "mcp_approval_response",
    "computer_call",
    "computer_call_output",
    "local_shell_call",
    "local_shell_call_output",
    "shell_call",
    "shell_call_output",
    "apply_patch_call",
    "apply_patch_call_output",
    "custom_tool_call",
    "custom_tool_call_output",
    "item_reference",
]


def _check_params(body: dict[str, Any]) -> None:
    model = body.get("model")
    if model is None:
        raise _missing("model")
    if not isinstance(model, str):
        raise _invalid_type("model", "a string", model)
    _number(body, "temperature", 0, 2, integer=False)
    _number(body, "top_p", 0, 1, integer=False)
    _number(body, "max_output_tokens", 16, None, integer=True)
    _number(body, "top_logprobs", 0, 20, integer=True)
    for key in ("stream", "store", "parallel_tool_calls", "background"):
        _bool(body, key)
    if body.get("instructions") is not None and not isinstance(body["instructions"], str):
        raise _invalid_type("instructions", "a string", body["instructions"])
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise _invalid_type("tools", "an array", tools)
        for i, tool in enumerate(tools):
            if not isinstance(tool, dict):
                raise _invalid_type(f"tools[{i}]", "an object", tool)
            if not isinstance(tool.get("type"), str):
                raise _missing(f"tools[{i}].type")
            if tool["type"] == "function":
                if not isinstance(tool.get("name"), str):
                    raise _missing(f"tools[{i}].name")
                params = tool.get("parameters")
                if params is not None and not isinstance(params, dict):
                    raise _invalid_type(f"tools[{i}].parameters", "an object", params)
    choice = body.get("tool_choice")
    if isinstance(choice, str) and choice not in ("none", "auto", "required"):
        raise _invalid_value("tool_choice", choice, ["none", "auto", "required"])
    if choice is not None and not isinstance(choice, (str, dict)):
        raise _invalid_type("tool_choice", "a string or an object", choice)
    text = body.get("text")
    if text is not None:
        if not isinstance(text, dict):
            raise _invalid_type("text", "an object", text)
        fmt = text.get("format")
        if fmt is not None:
            if not isinstance(fmt, dict):
                raise _invalid_type("text.format", "an object", fmt)
            kinds = ["text", "json_schema", "json_object"]
            if fmt.get("type") not in kinds:
                raise _invalid_value("text.format.type", fmt.get("type"), kinds)
            if fmt["type"] == "json_schema":
                if not isinstance(fmt.get("name"), str):
                    raise _missing("text.format.name")
                if not isinstance(fmt.get("schema"), dict):
                    raise _missing("text.format.schema")
    reasoning = body.get("reasoning")
    if reasoning is not None:
        if not isinstance(reasoning, dict):
            raise _invalid_type("reasoning", "an object", reasoning)
        effort = reasoning.get("effort")
        if effort is not None and effort not in _EFFORTS:
            raise _invalid_value("reasoning.effort", effort, _EFFORTS)
    include = body.get("include")
    if include is not None:
        if not isinstance(include, list):
            raise _invalid_type("include", "an array", include)
        for i, entry in enumerate(include):
            if entry not in _INCLUDES:
                raise _invalid_value(f"include[{i}]", entry, _INCLUDES)


def _check_parts(content: Any, where: str, supported: list[str]) -> None:
    if isinstance(content, str):
        return
    if not isinstance(content, list):
        raise _invalid_type(where, "one of a string or array of input content", content)
    for j, part in enumerate(content):
        param = f"{where}[{j}]"
        if not isinstance(part, dict):
            raise _invalid_type(param, "an object", part)
        if part.get("type") not in supported:
            raise _invalid_value(f"{param}.type", part.get("type"), supported)
        kind = part["type"]
        if kind in ("input_text", "output_text") and not isinstance(part.get("text"), str):
            raise _missing(f"{param}.text")
        if kind == "refusal" and not isinstance(part.get("refusal"), str):
            raise _missing(f"{param}.refusal")
        if kind == "input_image" and not (part.get("image_url") or part.get("file_id")):
            raise _missing(f"{param}.image_url")
        if kind == "input_file" and not any(
            part.get(k) for k in ("file_data", "file_id", "file_url")
        ):
            raise _missing(f"{param}.file_data")
        if kind == "input_audio" and not isinstance(part.get("input_audio"), dict):
            raise _missing(f"{param}.input_audio")


def _check_item(item: Any, i: int, call_ids: set[str], stateful: bool) -> str:
    where = f"input[{i}]"
    if not isinstance(item, dict):
        raise _invalid_type(where, "an object", item)
    kind = item.get("type", "message" if "role" in item else None)
    if kind is None:
        raise _missing(f"{where}.type")
    if kind not in _ITEM_TYPES:
        raise _invalid_value(f"{where}.type", kind, _ITEM_TYPES)
    if kind == "message":
        role = item.get("role")
        if role is None:
            raise _missing(f"{where}.role")
        if role not in _ROLES:
            raise _invalid_value(f"{where}.role", role, _ROLES)
        if "content" not in item:
            raise _missing(f"{where}.content")
        parts = _ASSISTANT_PARTS if role == "assistant" else _USER_PARTS
        _check_parts(item["content"], f"{where}.content", parts)
    elif kind == "function_call":
        for key in ("call_id", "name", "arguments"):
            if not isinstance(item.get(key), str):
                raise _missing(f"{where}.{key}")
        call_ids.add(item["call_id"])
    elif kind == "function_call_output":
        if not isinstance(item.get("call_id"), str):
            raise _missing(f"{where}.call_id")
        if "output" not in item:
            raise _missing(f"{where}.output")
        _check_parts(item["output"], f"{where}.output", _USER_PARTS)
        if not stateful and item["call_id"] not in call_ids:
            raise _bad(
                f"No tool call found for function call output with call_id {item['call_id']}.",
                "input",
            )
    elif kind == "reasoning":
        if not isinstance(item.get("summary"), list):
            raise _missing(f"{where}.summary")
    return kind


# ---------------------------------------------------------------------------------------------
# request -> messages and params


class _Assistant:
    """Collects consecutive assistant-side items into one `AIMessage`."""

    def __init__(self) -> None:
        self.decoded = Decoded()
        self.text: str | None = None

    def starts_new(self, item: dict[str, Any], kind: str) -> bool:
        """Whether `item` begins the next AI message (encode_request puts each message's
        content items first and its function calls last)."""
        if self.decoded.tool_calls or self.decoded.invalid_tool_calls or self.text is not None:
            return kind != "function_call"
        if kind != "message":
            return False
        # a string-content message is a whole reply; list-content ones may continue this one
        return isinstance(item.get("content"), str) and bool(self.decoded.blocks)

    def add(self, item: dict[str, Any], kind: str, where: str) -> None:
        if kind == "message" and isinstance(item.get("content"), str):
            self.text = item["content"]
        else:
            decode_item(item, where, self.decoded)

    def message(self) -> AIMessage:
        d = self.decoded
        content: Any = self.text if self.text is not None else (d.blocks or "")
        additional: dict[str, Any] = {}
        if d.call_ids:
            additional[FUNCTION_CALL_IDS] = d.call_ids
        if d.refusal is not None:
            additional["refusal"] = d.refusal
        return AIMessage(
            content=content,
            tool_calls=d.tool_calls,
            invalid_tool_calls=d.invalid_tool_calls,
            additional_kwargs=additional,
        )


def _content(content: Any, where: str) -> Any:
    if isinstance(content, str):
        return content
    return [block_from_part(p, f"{where}[{j}]") for j, p in enumerate(content)]


def _messages(body: dict[str, Any]) -> list[BaseMessage]:
    messages: list[BaseMessage] = []
    if isinstance(body.get("instructions"), str):
        messages.append(SystemMessage(body["instructions"]))
    raw = body.get("input")
    if raw is None:
        if body.get("previous_response_id") or body.get("conversation") or body.get("prompt"):
            return messages
        raise _missing("input")
    if isinstance(raw, str):
        return [*messages, HumanMessage(raw)]
    if not isinstance(raw, list):
        raise _invalid_type("input", "one of a string or array of input items", raw)
    if not raw:
        raise _bad(
            "Invalid 'input': empty array. Expected an array with minimum length 1, but got an "
            "empty array instead.",
            "input",
            "empty_array",
        )
    stateful = bool(body.get("previous_response_id") or body.get("conversation"))
    call_ids: set[str] = set()
    assistant: _Assistant | None = None
    for i, item in enumerate(raw):
        kind = _check_item(item, i, call_ids, stateful)
        where = f"input[{i}]"
        role = item.get("role")
        if kind == "message" and role != "assistant":
            if assistant is not None:
                messages.append(assistant.message())
                assistant = None
            content = _content(item["content"], f"{where}.content")
            if role == "user":
                messages.append(HumanMessage(content))
            else:
                extra = {"openai_role": "developer"} if role == "developer" else {}
                messages.append(SystemMessage(content, additional_kwargs=extra))
        elif kind == "function_call_output":
            if assistant is not None:
                messages.append(assistant.message())
                assistant = None
            output = _content(item["output"], f"{where}.output")
            messages.append(ToolMessage(output, tool_call_id=item["call_id"]))
        else:
            if assistant is not None and assistant.starts_new(item, kind):
                messages.append(assistant.message())
                assistant = None
            assistant = assistant or _Assistant()
            assistant.add(item, kind, where)
    if assistant is not None:
        messages.append(assistant.message())
    return messages


_HANDLED = frozenset(
    {"model", "input", "instructions", "max_output_tokens", "tools", "tool_choice", "text"}
    | {"reasoning", "include", "top_logprobs"}
)


def _params(body: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {"model": body["model"]}
    for key, value in body.items():
        if key not in _HANDLED:
            params[key] = value
    if body.get("max_output_tokens") is not None:
        params["max_tokens"] = body["max_output_tokens"]
    if body.get("tools"):
        params["tools"] = [tool_from_wire(t) for t in body["tools"]]
    if body.get("tool_choice") is not None:
        params["tool_choice"] = tool_choice_from_wire(body["tool_choice"])
    text = dict(body.get("text") or {})
    fmt = text.pop("format", None)
    if fmt and fmt.get("type") != "text":
        params["response_format"] = dict(fmt)
    if text:
        params["text"] = text
    reasoning = {k: v for k, v in (body.get("reasoning") or {}).items() if v is not None}
    if "effort" in reasoning:
        params["reasoning_effort"] = reasoning.pop("effort")
    if reasoning.get("summary") == "auto":
        params["include_reasoning"] = True
        del reasoning["summary"]
    if reasoning:
        params["reasoning"] = reasoning
    include = list(body.get("include") or [])
    if LOGPROBS in include:
        params["logprobs"] = True
        include.remove(LOGPROBS)
    if ENCRYPTED in include and body.get("store") is False:
        include.remove(ENCRYPTED)  # implied by store=False; encode_request adds it back
    if include:
        params["include"] = include
    if body.get("top_logprobs") is not None:
        params["top_logprobs"] = body["top_logprobs"]
    return params


def decode_request(
    body: dict[str, Any], *, model: str | None = None
) -> tuple[list[BaseMessage], dict[str, Any]]:
    """The messages and neutral params of a ``POST /v1/responses`` body.

    Validates like the real API: a body the API would reject raises `BadRequestError` with
    the API's message, ``param`` and ``code`` in its body (so `render_error` answers alike).
    ``instructions`` become a leading `SystemMessage`; consecutive assistant-side items
    (reasoning, messages, function calls, built-in tool calls) become one `AIMessage`.

    `model` is the model named outside the body (Gemini and Bedrock put it in the URL); every
    codec takes it so a server calls them alike. When given, it replaces the body's model in
    the params.
    """
    if not isinstance(body, dict):
        raise _invalid_type("body", "an object", body)
    _check_params(body)
    try:
        messages = _messages(body)
    except DecodeError as exc:
        raise _bad(f"Invalid 'input': {exc}", "input", "invalid_value") from None
    params = _params(body)
    if model is not None:
        params["model"] = model
    return messages, params


# ---------------------------------------------------------------------------------------------
# rendering


def _status(meta: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    status = meta.get("status")
    details = meta.get("incomplete_details")
    if status == "incomplete" or meta.get("finish_reason") in INCOMPLETE_REASON_BACK:
        if not isinstance(details, dict):
            reason = INCOMPLETE_REASON_BACK.get(meta.get("finish_reason"), "max_output_tokens")
            details = {"reason": reason}
        return "incomplete", details
    return "completed", None


_REASONING_MODELS = ("o1", "o3", "o4", "gpt-5", "codex", "computer-use")
"""Name prefixes of the models that reason: the API reports a default effort, a cache
retention and the reasoning context for them, and nulls for the others (gpt-4o, gpt-4.1)."""

_TOOL_USAGE = {
    "image_gen": {
        "input_tokens": 0,
        "input_tokens_details": {"image_tokens": 0, "text_tokens": 0},
        "output_tokens": 0,
        "output_tokens_details": {"image_tokens": 0, "text_tokens": 0},
        "total_tokens": 0,
    },
    "web_search": {"num_requests": 0},
}
"""The built-in tools' usage: the emulator runs none of them."""


def _echo_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """A function tool as the API echoes it: strict unless the request said otherwise, and a
    strict tool's object schema closed (``additionalProperties: false``)."""
    if tool.get("type") != "function":
        return tool
    out = {**tool, "output_schema": tool.get("output_schema")}
    out.setdefault("strict", True)
    schema = out.get("parameters")
    if out["strict"] and isinstance(schema, dict) and schema.get("type") == "object":
        out["parameters"] = {"additionalProperties": False, **schema}
    return out


_PHASED = re.compile(r"^gpt-5\.(\d+)")


def _label_phases(output: list[dict[str, Any]], model: str) -> None:
    """gpt-5.3 and later label each assistant message: ``commentary`` before a tool call,
    ``final_answer`` otherwise (a message whose text already has a phase keeps it)."""
    match = _PHASED.match(model)
    if match is None or int(match.group(1)) < 3:
        return
    for i, item in enumerate(output):
        if item.get("type") == "message" and "phase" not in item:
            later = {o.get("type") for o in output[i + 1 :]}
            item["phase"] = "commentary" if "function_call" in later else "final_answer"


def _encrypted(item_id: str) -> str:
    """A stand-in for the encrypted reasoning only the API can make: opaque, stable per item,
    and accepted back as input by the emulator (which reads no reasoning it is sent)."""
    return base64.urlsafe_b64encode(f"myna-emulator:{item_id}".encode()).decode()


def _reasoning(params: dict[str, Any], reasons: bool) -> dict[str, Any]:
    reasoning = dict(params.get("reasoning") or {})
    effort = params.get("reasoning_effort")
    if reasons:
        reasoning.setdefault("context", "current_turn")
        reasoning.setdefault("mode", "standard")
    reasoning["effort"] = effort if effort is not None else ("medium" if reasons else None)
    reasoning.setdefault("summary", "auto" if params.get("include_reasoning") else None)
    return dict(sorted(reasoning.items()))


def render_with_plan(message: AIMessage, params: dict[str, Any] | None) -> tuple[dict, Plan]:
    """`render_response` plus the item plan `render_stream` walks."""
    params = params or {}
    meta = message.response_metadata or {}
    resp_id = message.id if isinstance(message.id, str) and message.id.startswith("resp_") else None
    resp_id = resp_id or f"resp_{uuid.uuid4().hex}"
    plan = build_ai_items(message, output=True, seed=resp_id)
    output = [item.wire for item in plan.items]
    logprobs = meta.get("logprobs")
    if logprobs:
        for item in output:
            parts = [p for p in item.get("content") or [] if p.get("type") == "output_text"]
            if item.get("type") == "message" and parts:
                parts[0]["logprobs"] = list(logprobs)
                break
    for item in output:
        if item.get("type") == "message":
            for part in item["content"]:
                if part.get("type") == "output_text":
                    part.setdefault("logprobs", [])
    if ENCRYPTED in (params.get("include") or ()) or params.get("store") is False:
        # asked for (or implied by store=false): the API sends every reasoning item's
        # encrypted content, so a stateless client can hand it back next turn
        for item in output:
            if item.get("type") == "reasoning" and "encrypted_content" not in item:
                item["encrypted_content"] = _encrypted(str(item.get("id", "")))
    status, details = _status(meta)
    now = int(time.time())
    tools = [tool_to_wire(t, f"tools[{i}]") for i, t in enumerate(params.get("tools") or [])]
    model = params.get("model") or meta.get("model_name") or "gpt-5-mini"
    reasons = model.startswith(_REASONING_MODELS)
    _label_phases(output, model)
    text = {**(params.get("text") or {})}
    fmt = params.get("response_format")
    text["format"] = format_to_wire(fmt) if fmt else {"type": "text"}
    if text["format"].get("type") == "json_schema":
        text["format"] = {"description": None, **text["format"]}
    text.setdefault("verbosity", "medium")
    choice = params.get("tool_choice")
    tier = params.get("service_tier")
    # the request's settings echoed, with the API's defaults for those it did not send
    response = {
        "id": resp_id,
        "object": "response",
        "created_at": now,
        "status": status,
        "background": params.get("background", False),
        "billing": {"payer": "developer"},
        "completed_at": now,
        "error": None,
        "frequency_penalty": params.get("frequency_penalty", 0.0),
        "incomplete_details": details,
        # the instructions became the leading system message, which a reply does not see
        "instructions": None,
        "max_output_tokens": params.get("max_tokens"),
        "max_tool_calls": params.get("max_tool_calls"),
        "model": model,
        "moderation": None,
        "output": output,
        "parallel_tool_calls": params.get("parallel_tool_calls", True),
        "presence_penalty": params.get("presence_penalty", 0.0),
        "previous_response_id": params.get("previous_response_id"),
        "prompt_cache_key": params.get("prompt_cache_key"),
        "prompt_cache_retention": params.get(
            "prompt_cache_retention", "in_memory" if reasons else None
        ),
        "reasoning": _reasoning(params, reasons),
        "safety_identifier": params.get("safety_identifier"),
        "service_tier": tier if isinstance(tier, str) and tier != "auto" else "default",
        "store": params.get("store", True),
        "temperature": params.get("temperature", 1.0),
        "text": text,
        "tool_choice": tool_choice_to_wire(choice, tools) if choice is not None else "auto",
        "tool_usage": copy.deepcopy(_TOOL_USAGE),
        "tools": [_echo_tool(t) for t in tools],
        "top_logprobs": params.get("top_logprobs", 0),
        "top_p": params.get("top_p", 1.0),
        "truncation": params.get("truncation", "disabled"),
        "usage": usage_to_wire(message.usage_metadata),
        "user": params.get("user"),
        "metadata": params.get("metadata") or {},
    }
    if isinstance(params.get("prompt_cache_options"), dict):
        response["prompt_cache_options"] = params["prompt_cache_options"]
    return response, plan


def render_response(message: AIMessage, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Responses API response object for `message`, echoing the request `params`.

    Items get the ids and statuses the API gives them (made up from the response id when the
    message has none); ``finish_reason: "length"`` renders as ``status: "incomplete"``.
    """
    return render_with_plan(message, params)[0]


_ERROR_SHAPE: list[tuple[type[ProviderError], int, str, str | None]] = [
    (ContextLengthError, 400, "invalid_request_error", "context_length_exceeded"),
    (BadRequestError, 400, "invalid_request_error", None),
    (AuthenticationError, 401, "invalid_request_error", "invalid_api_key"),
    (NotFoundError, 404, "invalid_request_error", "model_not_found"),
    (RateLimitError, 429, "requests", "rate_limit_exceeded"),
    (OverloadedError, 503, "server_error", "server_is_overloaded"),
]


_NAMED_PARAM = re.compile(
    r"^(?:Invalid (?:type for |value for )?|Unsupported (?:value|parameter): |"
    r"Missing required parameter: )'([^']+)'"
)
"""The parameter OpenAI's wording quotes (as in the Chat Completions codec's ``param_in``)."""


def _error_param(error: ProviderError) -> str | None:
    """The ``param`` OpenAI names: ``input`` for a context overflow, the parameter its own
    wording quotes ("Invalid 'temperature': ..."), else null (a key, a rate limit)."""
    if isinstance(error, ContextLengthError):
        return "input"
    match = _NAMED_PARAM.match(getattr(error, "message", None) or "")
    return match.group(1) if match else None


def render_error(error: ProviderError) -> tuple[int, dict[str, str], Any]:
    """The HTTP status, headers and JSON body the API sends for `error`.

    A body that already has OpenAI's ``{"error": {...}}`` shape is sent as it is; rate limits
    carry ``retry-after``, authentication errors ``www-authenticate``.
    """
    status, kind, code = 500, "server_error", None
    for cls, cls_status, cls_kind, cls_code in _ERROR_SHAPE:
        if isinstance(error, cls):
            status, kind, code = cls_status, cls_kind, cls_code
            break
    kind, code = error.type or kind, error.code or code  # a scripted fault's own words
    status = error.status_code or status
    body = error.body
    if not (isinstance(body, dict) and isinstance(body.get("error"), dict)):
        message = getattr(error, "message", None) or str(error)
        param = _error_param(error)
        body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    headers = {"content-type": "application/json"}
    if error.retry_after is not None:
        seconds = error.retry_after
        headers["retry-after"] = str(int(seconds)) if seconds == int(seconds) else f"{seconds:g}"
        headers["retry-after-ms"] = str(int(seconds * 1000))
    if status == 401:
        headers["www-authenticate"] = 'Bearer realm="OpenAI API"'
    return status, headers, body


def render_models(
    method: str, path: str, body: Any, models: Sequence[str], *, strict: bool = False
) -> tuple[int, dict[str, str], Any] | None:
    """OpenAI's ``GET /v1/models`` and ``GET /v1/models/{id}``: the same endpoints as for
    Chat Completions (see ``myna.codecs.openai_chat.render_models``)."""
    return _chat_render_models(method, path, body, models, strict=strict)
