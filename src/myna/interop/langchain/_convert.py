"""Message conversion between myna and langchain-core, both ways.

The two message models share their field names and shapes (tool calls, usage metadata,
standard content blocks), so conversion copies fields; what differs is named here:

- LangChain's ``ChatMessage`` with a user/assistant/system role becomes the matching myna
  message; other roles, ``FunctionMessage`` and ``RemoveMessage`` have no myna counterpart
  and are an error naming the message.
- A myna `AIMessageChunk` becomes a LangChain chunk carrying only `tool_call_chunks`:
  LangChain re-derives `tool_calls` from them on every chunk, so sending both would count
  each call twice when chunks are added.
"""

from __future__ import annotations

from typing import Any

from langchain_core import messages as lc
from pydantic import BaseModel

from ...exceptions import UserError
from ...messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    construct_message,
)

__all__ = [
    "chunk_from_langchain",
    "chunk_to_langchain",
    "message_from_langchain",
    "message_to_langchain",
    "messages_from_langchain",
    "messages_to_langchain",
]

_ROLES = {
    "user": HumanMessage,
    "human": HumanMessage,
    "assistant": AIMessage,
    "ai": AIMessage,
    "system": SystemMessage,
    "developer": SystemMessage,
}


def _content(content: Any) -> Any:
    # lists are copied (a block dict may be shared with the caller's message; never mutate it)
    return list(content) if isinstance(content, list) else content


def _common(message: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"content": _content(message.content)}
    if message.additional_kwargs:
        fields["additional_kwargs"] = dict(message.additional_kwargs)
    if message.response_metadata:
        fields["response_metadata"] = dict(message.response_metadata)
    if message.name is not None:
        fields["name"] = message.name
    if message.id is not None:
        fields["id"] = message.id
    return fields


def _tool_calls(calls: list[Any]) -> list[dict[str, Any]]:
    return [
        {"name": c["name"], "args": c["args"], "id": c.get("id"), "type": "tool_call"}
        for c in calls
    ]


def _invalid_calls(calls: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "name": c.get("name"),
            "args": c.get("args"),
            "id": c.get("id"),
            "error": c.get("error"),
            "type": "invalid_tool_call",
        }
        for c in calls
    ]


def _usage(usage: Any) -> Any:
    if usage is None:
        return None
    out = dict(usage)
    for key in ("input_token_details", "output_token_details"):
        if key in out:
            out[key] = dict(out[key])
    return out


def _built(cls: type, fields: dict[str, Any]) -> Any:
    """A LangChain message from fields that are valid already (copied from a validated
    message): pydantic validation of every reply would cost more than the rest of a call."""
    message = construct_message(cls, fields)
    _set_extra(message, {})  # LangChain messages allow extras
    return message


_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__  # a slot, set directly


# -- myna -> LangChain -----------------------------------------------------------------------


def message_to_langchain(message: BaseMessage) -> lc.BaseMessage:
    """A myna message as the LangChain message of the same kind (fields copied)."""
    fields = _common(message)
    if isinstance(message, AIMessageChunk):
        return chunk_to_langchain(message)
    if isinstance(message, AIMessage):
        if message.tool_calls:
            fields["tool_calls"] = _tool_calls(message.tool_calls)
        if message.invalid_tool_calls:
            fields["invalid_tool_calls"] = _invalid_calls(message.invalid_tool_calls)
        if message.usage_metadata is not None:
            fields["usage_metadata"] = _usage(message.usage_metadata)
        return _built(lc.AIMessage, fields)
    if isinstance(message, HumanMessage):
        return _built(lc.HumanMessage, fields)
    if isinstance(message, SystemMessage):
        return _built(lc.SystemMessage, fields)
    if isinstance(message, ToolMessage):
        fields["tool_call_id"] = message.tool_call_id
        if message.status != "success":
            fields["status"] = message.status
        if message.artifact is not None:
            fields["artifact"] = message.artifact
        return lc.ToolMessage(**fields)
    raise UserError(f"Cannot convert {type(message).__name__} to a LangChain message.")


def _tool_call_chunks(chunks: Any) -> list[dict[str, Any]]:
    """Tool-call fragments in the shape both libraries share (a plain dict each)."""
    return [
        {
            "name": c.get("name"),
            "args": c.get("args"),
            "id": c.get("id"),
            "index": c.get("index"),
            "type": "tool_call_chunk",
        }
        for c in chunks
    ]


def chunk_to_langchain(chunk: AIMessageChunk) -> lc.AIMessageChunk:
    """A myna `AIMessageChunk` as a LangChain one (tool calls travel as `tool_call_chunks`)."""
    fields = _common(chunk)
    if chunk.tool_call_chunks:
        fields["tool_call_chunks"] = _tool_call_chunks(chunk.tool_call_chunks)
    elif chunk.tool_calls or chunk.invalid_tool_calls:
        fields["tool_calls"] = _tool_calls(chunk.tool_calls)
        fields["invalid_tool_calls"] = _invalid_calls(chunk.invalid_tool_calls)
    if chunk.usage_metadata is not None:
        fields["usage_metadata"] = _usage(chunk.usage_metadata)
    if chunk.chunk_position is not None:
        fields["chunk_position"] = chunk.chunk_position
    if "tool_call_chunks" in fields or "tool_calls" in fields or "chunk_position" in fields:
        return lc.AIMessageChunk(**fields)  # LangChain derives tool calls and blocks here
    return _built(lc.AIMessageChunk, fields)


def messages_to_langchain(messages: list[BaseMessage]) -> list[lc.BaseMessage]:
    """`message_to_langchain` over a list."""
    return [message_to_langchain(m) for m in messages]


# -- LangChain -> myna -----------------------------------------------------------------------


_PLAIN_FROM: dict[type, type] = {lc.HumanMessage: HumanMessage, lc.SystemMessage: SystemMessage}
"""Exact LangChain classes whose fields copy over as they are (subclasses take the long way)."""


def message_from_langchain(message: Any) -> BaseMessage:
    """A LangChain message as the myna message of the same kind (fields copied).

    Raises `UserError` for messages myna has no counterpart of (``FunctionMessage``,
    ``RemoveMessage``, a ``ChatMessage`` with an unknown role).
    """
    plain = _PLAIN_FROM.get(type(message))
    if plain is not None:  # LangChain validated these fields already: no second validation
        return construct_message(plain, _common(message))
    if isinstance(message, lc.AIMessageChunk):
        return chunk_from_langchain(message)
    fields = _common(message)
    if isinstance(message, lc.AIMessage):
        return construct_message(AIMessage, _ai_fields(message, fields))
    # LangChain validated these fields already, to the same shapes: no second validation
    if isinstance(message, lc.HumanMessage):
        return construct_message(HumanMessage, fields)
    if isinstance(message, lc.SystemMessage):
        return construct_message(SystemMessage, fields)
    if isinstance(message, lc.ToolMessage):
        fields["tool_call_id"] = message.tool_call_id
        fields["status"] = message.status
        if message.artifact is not None:
            fields["artifact"] = message.artifact
        return ToolMessage(**fields)
    if isinstance(message, lc.ChatMessage):
        cls = _ROLES.get(message.role)
        if cls is not None:
            if message.role == "developer":
                fields.setdefault("additional_kwargs", {})["__openai_role__"] = "developer"
            return cls(**fields)
    raise UserError(
        f"myna has no message like LangChain's {type(message).__name__}"
        f"{f' (role {message.role!r})' if isinstance(message, lc.ChatMessage) else ''}; "
        "use SystemMessage, HumanMessage, AIMessage or ToolMessage."
    )


def _ai_fields(message: Any, fields: dict[str, Any]) -> dict[str, Any]:
    if message.tool_calls:
        fields["tool_calls"] = _tool_calls(message.tool_calls)
    if message.invalid_tool_calls:
        fields["invalid_tool_calls"] = _invalid_calls(message.invalid_tool_calls)
    if message.usage_metadata is not None:
        fields["usage_metadata"] = _usage(message.usage_metadata)
    return fields


def chunk_from_langchain(chunk: Any) -> AIMessageChunk:
    """A LangChain ``AIMessageChunk`` (or a whole ``AIMessage``) as a myna chunk."""
    fields = _common(chunk)
    if isinstance(chunk, lc.AIMessageChunk):
        if chunk.tool_call_chunks:
            fields["tool_call_chunks"] = _tool_call_chunks(chunk.tool_call_chunks)
        if chunk.usage_metadata is not None:
            fields["usage_metadata"] = _usage(chunk.usage_metadata)
        if chunk.chunk_position is not None:
            fields["chunk_position"] = chunk.chunk_position
        return AIMessageChunk(**fields)
    # a model without native streaming yields one whole AIMessage from stream()
    fields = _ai_fields(chunk, fields)
    return AIMessageChunk(**fields, chunk_position="last")


def messages_from_langchain(messages: list[Any]) -> list[BaseMessage]:
    """`message_from_langchain` over a list."""
    return [message_from_langchain(m) for m in messages]
