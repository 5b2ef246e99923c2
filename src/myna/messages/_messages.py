"""The message classes: system, human, AI, tool, and the streamed AI chunk."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from typing_extensions import NotRequired, TypedDict

from ._blocks import standard_blocks
from ._usage import UsageMetadata

__all__ = [
    "AIMessage",
    "AIMessageChunk",
    "AnyMessage",
    "BaseMessage",
    "HumanMessage",
    "InvalidToolCall",
    "SystemMessage",
    "ToolCall",
    "ToolCallChunk",
    "ToolMessage",
    "construct_message",
    "invalid_tool_call",
    "tool_call_chunk",
]

AUTO_ID_PREFIX = "run-"
"""Prefix of ids myna makes up for messages that have none; provider ids win over them."""


class ToolCall(TypedDict):
    """A request from the model to run a client-side tool."""

    name: str
    args: dict[str, Any]
    id: str | None
    type: NotRequired[Literal["tool_call"]]


class ToolCallChunk(TypedDict):
    """A piece of a streamed tool call: `args` is a JSON fragment; pieces merge by `index`."""

    name: str | None
    args: str | None
    id: str | None
    index: int | None
    type: NotRequired[Literal["tool_call_chunk"]]


class InvalidToolCall(TypedDict):
    """A tool call whose arguments did not parse; `error` says why."""

    name: str | None
    args: str | None
    id: str | None
    error: str | None
    type: NotRequired[Literal["invalid_tool_call"]]


def tool_call_chunk(
    *,
    name: str | None = None,
    args: str | None = None,
    id: str | None = None,
    index: int | None = None,
) -> ToolCallChunk:
    """Build a `ToolCallChunk` dict."""
    return {"name": name, "args": args, "id": id, "index": index, "type": "tool_call_chunk"}


def invalid_tool_call(
    *,
    name: str | None = None,
    args: str | None = None,
    id: str | None = None,
    error: str | None = None,
) -> InvalidToolCall:
    """Build an `InvalidToolCall` dict."""
    return {"name": name, "args": args, "id": id, "error": error, "type": "invalid_tool_call"}


Content = str | list[str | dict[str, Any]]


_DEFAULTS: dict[type, tuple[dict[str, Any], tuple[tuple[str, Any], ...]]] = {}
_setattr = object.__setattr__
_new = object.__new__  # pydantic models define no __new__ of their own
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def construct_message(cls: type[BaseModel], fields: dict[str, Any]) -> Any:
    """Build a message without validation or default factories (hot paths of streaming).

    `model_construct` resolves each missing default through `inspect.signature`, which costs
    tens of microseconds per field; callers pass data that is already valid, e.g.
    ``construct_message(AIMessage, {"content": "Hello!"})``.
    """
    defaults = _DEFAULTS.get(cls)
    if defaults is None:
        plain = {n: i.default for n, i in cls.model_fields.items() if i.default_factory is None}
        factories = tuple(
            (n, i.default_factory) for n, i in cls.model_fields.items() if i.default_factory
        )
        defaults = _DEFAULTS[cls] = (plain, factories)
    plain, factories = defaults
    values = {**plain, **fields}
    for name, factory in factories:
        if name not in fields:
            values[name] = factory()
    obj = _new(cls)
    _setattr(obj, "__dict__", values)
    # BaseModel's slots, set through their descriptors (quicker than a setattr by name)
    _set_fields_set(obj, set(fields))
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj


_fast_new = construct_message  # the short name used inside messages


class BaseMessage(BaseModel):
    """Fields every message has. Content may be given positionally: ``HumanMessage("hi")``.

    Unknown keyword arguments are an error rather than silently kept.
    """

    model_config = ConfigDict(extra="forbid", defer_build=True)

    content: Content = ""
    """A string, or a list of content blocks (dicts with a ``type``) and strings."""
    additional_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Provider payload with no standard slot."""
    response_metadata: dict[str, Any] = Field(default_factory=dict)
    """Model name, provider, finish reason, logprobs, headers and the like."""
    name: str | None = None
    id: str | None = None

    def __init__(self, content: Content | None = None, /, **kwargs: Any) -> None:
        if content is not None:
            if "content" in kwargs:
                raise TypeError(
                    "content was given both positionally and as content=; pass it once."
                )
            kwargs["content"] = content
        super().__init__(**kwargs)

    @property
    def text(self) -> str:
        """The message's text: the string content, or its text blocks and strings joined."""
        content = self.content
        if isinstance(content, str):
            return content
        parts = []
        for item in content:
            if isinstance(item, str):
                parts.append(item)
            elif item.get("type") == "text" and isinstance(item.get("text"), str):
                parts.append(item["text"])
        return "".join(parts)

    @property
    def content_blocks(self) -> list[dict[str, Any]]:
        """The content as standard blocks (see `myna.messages.standard_blocks`)."""
        return standard_blocks(self.content)

    def __add__(self, other: Any) -> Any:
        raise TypeError(
            f"Cannot add {type(self).__name__} objects: only AIMessageChunk supports '+'. "
            "To build a conversation, put the messages in a list."
        )

    def __repr__(self) -> str:
        fields = [f"{self.content!r}"]
        for key in type(self).model_fields:
            if key == "content":
                continue
            value = getattr(self, key)
            if value in (None, {}, []) or key == "type":
                continue
            fields.append(f"{key}={value!r}")
        return f"{type(self).__name__}({', '.join(fields)})"

    __str__ = __repr__


class SystemMessage(BaseMessage):
    """Instructions for the model."""

    type: Literal["system"] = "system"


class HumanMessage(BaseMessage):
    """A message from the user."""

    type: Literal["human"] = "human"


def _normalize_tool_calls(calls: Any) -> Any:
    if not isinstance(calls, list):
        return calls
    out = []
    for i, call in enumerate(calls):
        if not isinstance(call, dict):
            raise ValueError(
                f"tool_calls[{i}] must be a dict like "
                "{'name': 'get_weather', 'args': {'city': 'Paris'}, 'id': 'call_1'}, "
                f"got {type(call).__name__}. Build one with myna.fakes.tool_call(name, **args)."
            )
        if "name" not in call:
            raise ValueError(f"tool_calls[{i}] has no 'name': {call!r}")
        args = call.get("args", {})
        if isinstance(args, str):
            raise ValueError(
                f"tool_calls[{i}]['args'] is a string ({args[:60]!r}); it must be a dict. "
                "Parse the JSON first, or put unparsable calls in invalid_tool_calls."
            )
        fixed = {"name": call["name"], "args": args, "id": call.get("id"), "type": "tool_call"}
        out.append(fixed)
    return out


class AIMessage(BaseMessage):
    """A reply from the model: content, tool calls, usage and response metadata."""

    type: Literal["ai"] = "ai"
    tool_calls: list[ToolCall] = Field(default_factory=list)
    """Client-side tool calls: ``{"name", "args", "id", "type": "tool_call"}``."""
    invalid_tool_calls: list[InvalidToolCall] = Field(default_factory=list)
    """Tool calls whose arguments did not parse, each with an `error`."""
    usage_metadata: UsageMetadata | None = None
    """Token counts; None when the provider reported none."""

    @model_validator(mode="before")
    @classmethod
    def _fill_tool_call_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("tool_calls"):
            data = dict(data)
            data["tool_calls"] = _normalize_tool_calls(data["tool_calls"])
        return data

    @property
    def content_blocks(self) -> list[dict[str, Any]]:
        """Standard blocks for the content, then one block per tool call and invalid tool call."""
        blocks = standard_blocks(self.content)
        present = {b.get("id") for b in blocks if b.get("type") == "tool_call"}
        for call in self.tool_calls:
            if call["id"] is None or call["id"] not in present:
                blocks.append(
                    {
                        "type": "tool_call",
                        "id": call["id"],
                        "name": call["name"],
                        "args": call["args"],
                    }
                )
        for bad in self.invalid_tool_calls:
            blocks.append({**bad, "type": "invalid_tool_call"})
        reasoning = self.additional_kwargs.get("reasoning_content")
        if isinstance(reasoning, str) and not any(b.get("type") == "reasoning" for b in blocks):
            blocks.insert(0, {"type": "reasoning", "reasoning": reasoning})
        return blocks


def parse_tool_call_chunks(
    chunks: list[ToolCallChunk],
) -> tuple[list[ToolCall], list[InvalidToolCall]]:
    """Parse merged tool-call chunks: complete JSON objects become tool calls, the rest invalid.

    Empty arguments mean ``{}``. Arguments that are not a JSON object (bad JSON, a list, or
    JSON cut off mid-stream) give an `InvalidToolCall` whose `error` says what is wrong.
    """
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    for chunk in chunks:
        raw = chunk.get("args")
        name = chunk.get("name")
        call_id = chunk.get("id")
        if raw is None or not raw.strip():
            calls.append({"name": name or "", "args": {}, "id": call_id, "type": "tool_call"})
            continue
        try:
            args = json.loads(raw)
        except ValueError as exc:
            error = f"arguments are not valid JSON ({exc.msg} at position {exc.pos})"
            invalid.append(invalid_tool_call(name=name, args=raw, id=call_id, error=error))
            continue
        if not isinstance(args, dict):
            error = f"arguments must be a JSON object, got {type(args).__name__}"
            invalid.append(invalid_tool_call(name=name, args=raw, id=call_id, error=error))
            continue
        calls.append({"name": name or "", "args": args, "id": call_id, "type": "tool_call"})
    return calls, invalid


class AIMessageChunk(AIMessage):
    """A piece of a streamed AI reply. Chunks merge with ``+`` and ``sum(chunks)``.

    `tool_call_chunks` hold the streamed argument fragments; `tool_calls` and
    `invalid_tool_calls` are parsed from them. `to_message()` gives the `AIMessage` that the
    merged stream amounts to.
    """

    type: Literal["AIMessageChunk"] = "AIMessageChunk"  # type: ignore[assignment]
    tool_call_chunks: list[ToolCallChunk] = Field(default_factory=list)
    chunk_position: Literal["last"] | None = None
    """``"last"`` on the final chunk of a stream."""

    @model_validator(mode="after")
    def _sync_tool_calls(self) -> AIMessageChunk:
        given = self.model_fields_set
        if (
            self.tool_call_chunks
            and "tool_calls" not in given
            and "invalid_tool_calls" not in given
        ):
            for chunk in self.tool_call_chunks:
                chunk.setdefault("type", "tool_call_chunk")
            self.tool_calls, self.invalid_tool_calls = parse_tool_call_chunks(self.tool_call_chunks)
        elif not self.tool_call_chunks and (self.tool_calls or self.invalid_tool_calls):
            chunks: list[ToolCallChunk] = []
            for i, call in enumerate(self.tool_calls):
                args = json.dumps(call["args"])
                chunks.append(tool_call_chunk(name=call["name"], args=args, id=call["id"], index=i))
            for j, bad in enumerate(self.invalid_tool_calls, start=len(chunks)):
                chunks.append(
                    tool_call_chunk(name=bad["name"], args=bad["args"], id=bad["id"], index=j)
                )
            self.tool_call_chunks = chunks
        return self

    def __add__(self, other: Any) -> AIMessageChunk:
        from ._merge import merge_chunks

        if isinstance(other, AIMessageChunk):
            return merge_chunks([self, other])
        if isinstance(other, (list, tuple)) and all(isinstance(o, AIMessageChunk) for o in other):
            return merge_chunks([self, *other])
        raise TypeError(
            f"Cannot add {type(other).__name__} to AIMessageChunk: only chunks merge. "
            "Convert a full AIMessage with AIMessageChunk(**msg.model_dump(exclude={'type'}))."
        )

    def __radd__(self, other: Any) -> AIMessageChunk:
        # sum(chunks) starts from 0
        if other == 0 or other is None:
            return self
        return NotImplemented

    def to_message(self) -> AIMessage:
        """The `AIMessage` this (merged) chunk amounts to: streaming-only fields dropped."""
        content = self.content
        if isinstance(content, list):
            content = [
                {k: v for k, v in b.items() if k != "index"} if isinstance(b, dict) else b
                for b in content
            ]
        return _fast_new(
            AIMessage,
            {
                "content": content,
                "additional_kwargs": self.additional_kwargs,
                "response_metadata": self.response_metadata,
                "name": self.name,
                "id": self.id,
                "tool_calls": self.tool_calls,
                "invalid_tool_calls": self.invalid_tool_calls,
                "usage_metadata": self.usage_metadata,
            },
        )


class ToolMessage(BaseMessage):
    """The result of running a tool, answering the tool call with id `tool_call_id`."""

    type: Literal["tool"] = "tool"
    tool_call_id: str
    """The `id` of the tool call this answers."""
    status: Literal["success", "error"] = "success"
    artifact: Any = None
    """Full tool output kept for the application, not sent to the model."""

    def __init__(self, content: Any = None, /, **kwargs: Any) -> None:
        if content is None:
            content = kwargs.pop("content", None)
        if content is not None and not isinstance(content, (str, list)):
            try:
                content = json.dumps(content, default=str)
            except (TypeError, ValueError):
                content = str(content)
        if "tool_call_id" not in kwargs:
            raise TypeError(
                "ToolMessage needs tool_call_id=, the id of the AIMessage tool call it answers, "
                "e.g. ToolMessage('22C', tool_call_id=msg.tool_calls[0]['id'])."
            )
        tool_call_id = kwargs["tool_call_id"]
        if tool_call_id is not None and not isinstance(tool_call_id, str):
            kwargs["tool_call_id"] = str(tool_call_id)
        super().__init__(content, **kwargs)


AnyMessage = SystemMessage | HumanMessage | AIMessage | AIMessageChunk | ToolMessage
"""Any message class."""
