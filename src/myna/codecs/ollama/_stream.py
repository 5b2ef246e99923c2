"""Ollama streams: the push decoder (client side) and `render_stream` (server side) for
``/api/chat`` NDJSON lines."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any

from ...exceptions import (
    DecodeError,
)
from ...messages import (
    AIMessage,
    AIMessageChunk,
    split_message,
)
from .._stream_driver import PushDecoder, json_event
from .._stream_driver import adecode_stream as adrive
from .._stream_driver import decode_stream as drive
from ._client import check_logprobs, raise_error_event, wire_images, wire_tool_chunks
from ._server import final_fields, render_content, reply_head, wire_call
from ._shared import (
    PROTOCOL,
    check_str,
    decode_fail,
    excerpt,
    metadata_from,
    usage_from_wire,
)

__all__ = ["StreamDecoder", "adecode_stream", "decode_stream", "render_stream"]


class StreamDecoder(PushDecoder):
    """The state of one ``/api/chat`` NDJSON stream, fed one parsed line at a time."""

    PROTOCOL = PROTOCOL

    def __init__(self) -> None:
        super().__init__()
        self.saw_reasoning = False
        self.block_index = -1
        self.block_kind: str | None = None
        self.tool_calls = 0

    def block(self, kind: str, key: str, piece: str) -> dict[str, Any]:
        # A new index each time the stream switches between thinking and text, so the
        # pieces of one run merge into one block.
        if kind != self.block_kind:
            self.block_index += 1
            self.block_kind = kind
        return {"type": kind, key: piece, "index": self.block_index}

    def content(self, text: str, thinking: str) -> str | list[dict[str, Any]]:
        if thinking:
            self.saw_reasoning = True
        if not self.saw_reasoning:
            return text  # plain text streams merge into a plain string
        blocks = []
        if thinking:
            blocks.append(self.block("reasoning", "reasoning", thinking))
        if text:
            blocks.append(self.block("text", "text", text))
        return blocks

    def _feed(self, i: int, raw: Any) -> list[AIMessageChunk]:
        event = _event_dict(raw, i)
        fail = decode_fail(f"Ollama stream event #{i}", event)
        if event.get("error") is not None:
            raise_error_event(event, self.partial())
        message = event.get("message", {})
        if not isinstance(message, dict):
            raise fail("has a 'message' that is not an object")
        done = event.get("done", False)
        if not isinstance(done, bool):
            raise fail("has a 'done' that is not a boolean")
        text = check_str(message.get("content"), "message.content", fail)
        thinking = check_str(message.get("thinking"), "message.thinking", fail)
        if wire_images(message.get("images"), fail):
            raise fail("carries images, which Ollama chat streams never send")
        tool_chunks = wire_tool_chunks(message.get("tool_calls"), self.tool_calls, fail)
        self.tool_calls += len(tool_chunks)
        logprobs = check_logprobs(event, fail)
        fields: dict[str, Any] = {"content": self.content(text, thinking)}
        if tool_chunks:
            fields["tool_call_chunks"] = tool_chunks
        metadata: dict[str, Any] = {}
        if logprobs:
            metadata["logprobs"] = logprobs
        if done:
            metadata.update(metadata_from(event, self.tool_calls > 0, fail))
            fields["usage_metadata"] = usage_from_wire(event, fail)
            fields["chunk_position"] = "last"
            if not fields["content"]:
                fields["content"] = [] if self.saw_reasoning else ""
        if metadata:
            fields["response_metadata"] = metadata
        if not done and not fields["content"] and not tool_chunks and not metadata:
            return []  # an empty keep-going line
        self.done = done
        return [AIMessageChunk(**fields)]

    def _close(self) -> list[AIMessageChunk]:
        got = f"after {len(self.chunks)} chunks" if self.chunks else "before any content"
        raise self.interrupted(
            f"The Ollama stream ended {got} without its final 'done: true' line; "
            "the connection was probably cut. The partial message is in .partial."
        )


def _event_dict(raw: Any, index: int) -> dict[str, Any]:
    if isinstance(raw, (bytes, bytearray)):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise DecodeError(
                f"Ollama stream event #{index} is not UTF-8: {excerpt(repr(raw[:60]))}"
            ) from None
    raw = json_event(raw, f"Ollama stream event #{index}")
    if not isinstance(raw, dict):
        raise DecodeError(f"Ollama stream event #{index} is not a JSON object: {excerpt(raw)}")
    return raw


def adecode_stream(events: AsyncIterable[Any]) -> AsyncIterator[AIMessageChunk]:
    """`decode_stream` for an async iterable of events, decoded on the event loop."""
    return adrive(StreamDecoder(), events)


def decode_stream(events: Iterable[Any]) -> Iterator[AIMessageChunk]:
    """`AIMessageChunk`s for the parsed NDJSON lines of a streaming ``/api/chat`` response.

    Thinking and text fragments become indexed ``reasoning`` / ``text`` blocks once thinking
    appears (plain strings before that); each tool call, which Ollama sends whole, becomes one
    complete tool-call chunk. The ``done: true`` line gives the last chunk, with usage and
    metadata; anything after it is ignored.

    Raises:
        ProviderError: for an ``{"error": ...}`` line; `partial` holds what came before.
        StreamInterruptedError: when the events end before the ``done: true`` line.
        DecodeError: for a line that is not an Ollama chat chunk.
    """
    return drive(StreamDecoder(), events)


def render_stream(
    message: AIMessage, params: dict[str, Any] | None = None, *, chunking: Any = "words"
) -> Iterator[dict[str, Any]]:
    """The NDJSON lines of a streaming ``/api/chat`` reply of `message`, as dicts.

    Built on `split_message`: each text or thinking piece is one ``done: false`` line, each
    tool call is sent whole on its own line (as Ollama does), and a last ``done: true`` line
    carries ``done_reason``, usage and timings.
    """
    head = reply_head(message, params)
    calls: dict[int, dict[str, Any]] = {}
    for chunk in split_message(message, chunking):
        for piece in chunk.tool_call_chunks:
            index = piece.get("index") or 0
            slot = calls.setdefault(index, {"name": None, "id": None, "args": ""})
            slot["name"] = slot["name"] or piece.get("name")
            slot["id"] = slot["id"] or piece.get("id")
            slot["args"] += piece.get("args") or ""
        if chunk.chunk_position == "last":
            continue
        text, thinking = render_content(chunk.content)
        if not text and not thinking:
            continue
        wire: dict[str, Any] = {"role": "assistant", "content": text}
        if thinking:
            wire["thinking"] = thinking
        yield {**head, "message": wire, "done": False}
    for k, index in enumerate(sorted(calls)):
        slot = calls[index]
        call = wire_call(slot["name"], slot["id"], slot["args"], k)
        wire = {"role": "assistant", "content": "", "tool_calls": [call]}
        yield {**head, "message": wire, "done": False}
    final = {"role": "assistant", "content": ""}
    yield {**head, "message": final, **final_fields(message)}
