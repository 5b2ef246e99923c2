"""Turning what users pass to `invoke` into a list of messages."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..exceptions import UserError
from ._messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    _fast_new,
    invalid_tool_call,
)

__all__ = ["coerce_messages"]

_ACCEPTED = """Accepted inputs:
  "What is the weather?"                                  a string (one human message)
  HumanMessage("hi")                                      a message, or a list of messages
  ("system", "Be brief")                                  (role, content) tuples
  {"role": "user", "content": "hi"}                       OpenAI-style dicts (tool_calls too)
Roles: system, developer, user/human, assistant/ai, tool."""

_ROLES = {
    "system": SystemMessage,
    "developer": SystemMessage,
    "user": HumanMessage,
    "human": HumanMessage,
    "assistant": AIMessage,
    "ai": AIMessage,
    "tool": ToolMessage,
}

_DICT_KEYS = frozenset(
    {
        "role",
        "type",
        "content",
        "name",
        "id",
        "tool_call_id",
        "tool_calls",
        "invalid_tool_calls",
        "usage_metadata",
        "additional_kwargs",
        "response_metadata",
        "status",
        "artifact",
        "refusal",
        "audio",
        "function_call",
        "reasoning_content",
    }
)


def _bad(what: str) -> UserError:
    return UserError(f"Cannot turn {what} into a chat message.\n{_ACCEPTED}")


def _role_class(role: Any, where: str) -> type[BaseMessage]:
    cls = _ROLES.get(role) if isinstance(role, str) else None
    if cls is None:
        raise UserError(
            f"Unknown role {role!r} in {where}. Use one of: system, developer, user, human, "
            "assistant, ai, tool."
        )
    return cls


def _openai_tool_call(call: Any, where: str) -> tuple[dict | None, dict | None]:
    """An OpenAI-format or myna-format tool call -> (tool_call, invalid_tool_call)."""
    if not isinstance(call, dict):
        raise UserError(f"{where}: a tool call must be a dict, got {type(call).__name__}.")
    if "function" in call:
        fn = call["function"] or {}
        name, raw = fn.get("name"), fn.get("arguments")
        if isinstance(raw, dict):
            return {"name": name, "args": raw, "id": call.get("id"), "type": "tool_call"}, None
        try:
            args = json.loads(raw) if raw else {}
        except ValueError as exc:
            bad = invalid_tool_call(name=name, args=raw, id=call.get("id"), error=str(exc))
            return None, bad
        if not isinstance(args, dict):
            bad = invalid_tool_call(
                name=name, args=raw, id=call.get("id"), error="arguments are not a JSON object"
            )
            return None, bad
        return {"name": name, "args": args, "id": call.get("id"), "type": "tool_call"}, None
    if "name" in call:
        return {
            "name": call["name"],
            "args": call.get("args") or {},
            "id": call.get("id"),
            "type": "tool_call",
        }, None
    raise UserError(
        f"{where}: tool call {call!r} has neither 'function' (OpenAI format) nor 'name'."
    )


def _from_dict(data: dict[str, Any], where: str) -> BaseMessage:
    unknown = set(data) - _DICT_KEYS
    if unknown:
        raise UserError(
            f"{where} has unknown key(s) {sorted(unknown)}. Message dicts take: "
            f"{', '.join(sorted(_DICT_KEYS))}. Put provider-specific data in additional_kwargs."
        )
    role = data.get("role", data.get("type"))
    if role is None:
        raise UserError(f"{where} has no 'role': {data!r}.\n{_ACCEPTED}")
    if role == "AIMessageChunk":
        role = "ai"
    cls = _role_class(role, where)
    content = data.get("content")
    kwargs: dict[str, Any] = {"content": "" if content is None else content}
    for key in ("name", "id", "response_metadata"):
        if data.get(key) is not None:
            kwargs[key] = data[key]
    additional = dict(data.get("additional_kwargs") or {})
    if role == "developer":
        additional["openai_role"] = "developer"
    for key in ("refusal", "audio", "function_call", "reasoning_content"):
        if data.get(key) is not None:
            additional[key] = data[key]
    if additional:
        kwargs["additional_kwargs"] = additional
    if cls is AIMessage:
        calls, invalid = [], list(data.get("invalid_tool_calls") or [])
        for i, raw in enumerate(data.get("tool_calls") or []):
            ok, bad = _openai_tool_call(raw, f"{where}['tool_calls'][{i}]")
            if ok:
                calls.append(ok)
            if bad:
                invalid.append(bad)
        kwargs["tool_calls"] = calls
        kwargs["invalid_tool_calls"] = invalid
        if data.get("usage_metadata") is not None:
            kwargs["usage_metadata"] = data["usage_metadata"]
    elif cls is ToolMessage:
        if "tool_call_id" not in data:
            raise UserError(f"{where} is a tool message without 'tool_call_id'.")
        kwargs["tool_call_id"] = data["tool_call_id"]
        for key in ("status", "artifact"):
            if key in data:
                kwargs[key] = data[key]
    else:
        stray = [k for k in ("tool_call_id", "tool_calls", "status", "artifact") if k in data]
        if stray:
            raise UserError(f"{where}: key(s) {stray} do not apply to a {role!r} message.")
    return cls(**kwargs)


def _coerce_one(item: Any, where: str) -> BaseMessage:
    if isinstance(item, BaseMessage):
        return item
    if isinstance(item, str):
        return HumanMessage(item)
    if isinstance(item, dict):
        return _from_dict(item, where)
    if isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str):
        role, content = item
        cls = _role_class(role, where)
        if cls is ToolMessage:
            raise UserError(
                f"{where}: a ('tool', ...) tuple cannot carry a tool_call_id; use "
                "ToolMessage(content, tool_call_id=...) or a dict with 'tool_call_id'."
            )
        if cls is AIMessage:
            return AIMessage(content)
        message = cls(content)
        if role == "developer":
            message.additional_kwargs["openai_role"] = "developer"
        return message
    raise _bad(f"{where} ({type(item).__name__}: {item!r:.80})")


def coerce_messages(value: Any) -> list[BaseMessage]:
    """Turn model input into a list of messages.

    Accepts a string, a message, an OpenAI-style dict, a ``(role, content)`` tuple, or a list
    or tuple of any of these. Anything else raises `UserError` listing the accepted forms.
    """
    if isinstance(value, str):
        # the commonest input, and always valid: skip validation on this hot path
        return [_fast_new(HumanMessage, {"content": value})]
    if type(value) is list and value and all(isinstance(m, BaseMessage) for m in value):
        return list(value)  # messages already (the next commonest): nothing to coerce
    if isinstance(value, (BaseMessage, dict)):
        return [_coerce_one(value, "input")]
    if isinstance(value, tuple) and len(value) == 2 and value[0] in _ROLES:
        if isinstance(value[1], (str, list)):
            return [_coerce_one(value, "input")]
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        if not value:
            raise UserError("The input is an empty list: pass at least one message.")
        return [_coerce_one(item, f"input[{i}]") for i, item in enumerate(value)]
    raise _bad(f"input of type {type(value).__name__}")
