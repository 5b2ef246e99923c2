"""Gemini streams: the push decoder for ``streamGenerateContent?alt=sse`` events."""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any

from ...messages import (
    AIMessageChunk,
    tool_call_chunk,
)
from .._stream_driver import PushDecoder
from .._stream_driver import adecode_stream as adrive
from .._stream_driver import decode_stream as drive
from ._client import (
    as_object,
    blocked,
    body_metadata,
    candidate_metadata,
    first_candidate,
    parts,
    raise_if_error,
)
from ._parts import PartReader
from ._shared import (
    CALL_SIGNATURES,
    PROTOCOL,
    TEXT_SIGNATURE,
    decode_error_at,
    decode_usage,
    with_signature,
)

__all__ = ["StreamDecoder", "adecode_stream", "decode_stream"]


class _StreamContent:
    """Turns each event's parts into chunk content that merges back into one reply.

    Plain text streams as strings, so a text reply merges to a string as it does without
    streaming. The first thought, media or other part switches to indexed blocks: runs of
    text (or of thoughts) share a block index until a signature closes the run, since Gemini
    attaches the signature to the last part of what it signs.
    """

    def __init__(self) -> None:
        self.blocks = False
        self.next_index = 0
        self.open: tuple[str, int] | None = None

    def _index(self, kind: str) -> int:
        if self.open is not None and self.open[0] == kind:
            return self.open[1]
        index = self.next_index
        self.next_index += 1
        self.open = (kind, index)
        return index

    def render(self, items: list[tuple[str, Any, str | None]], extra: dict[str, Any]) -> Any:
        text = ""
        out: list[dict[str, Any]] = []
        for kind, value, sig in items:
            if kind == "call":
                self.open = None  # text after a function call is a new block
                continue
            if not self.blocks and kind == "text":
                text += value
                if sig is not None:
                    extra[TEXT_SIGNATURE] = sig
                continue
            if not self.blocks:
                self.blocks = True
                if text:
                    out.append({"type": "text", "text": text, "index": self._index("text")})
                    text = ""
            if kind in ("text", "thought"):
                if value == "" and sig is None:
                    continue
                block_kind = "text" if kind == "text" else "reasoning"
                block = {"type": block_kind, block_kind: value, "index": self._index(kind)}
                out.append(with_signature(block, sig))
                if sig is not None:
                    self.open = None
            else:
                out.append({**value, "index": self.next_index})
                self.next_index += 1
                self.open = None
        return out if self.blocks else text


class StreamDecoder(PushDecoder):
    """The state of one ``streamGenerateContent`` stream, fed one event at a time.

    An event may also be a whole JSON-array stream (a list of responses); ``[DONE]`` is
    skipped. Gemini has no end event: the stream is complete when an event carried a
    ``finishReason``, and `close` then gives the last chunk (usage, metadata).
    """

    PROTOCOL = PROTOCOL

    def __init__(self) -> None:
        super().__init__()
        self.reader = PartReader()
        self.content = _StreamContent()
        self.meta: dict[str, Any] = {}
        self.usage: Any = None
        self.finished = False
        self.has_calls = False
        self.response_id: str | None = None
        self.responses = 0
        """How many responses were read (a list event counts each of its items)."""

    def _feed(self, index: int, event: Any) -> list[AIMessageChunk]:
        if isinstance(event, list):  # a whole JSON-array stream handed over as one event
            return [chunk for item in event for chunk in self._response(item)]
        if isinstance(event, str) and event.strip() == "[DONE]":
            return []
        return self._response(event)

    def _response(self, raw: Any) -> list[AIMessageChunk]:
        where = f"stream event {self.responses}"
        self.responses += 1
        reader, content, meta = self.reader, self.content, self.meta
        try:
            event = as_object(raw, where)
            raise_if_error(event, where, in_stream=True)
            if event.get("usageMetadata") is not None:
                self.usage = decode_usage(event["usageMetadata"], where)
            body_meta = body_metadata(event)
            self.response_id = body_meta.get("id", self.response_id)
            meta.update(body_meta)
            candidate, _ = first_candidate(event, where)
            if candidate is None:
                self.finished = blocked(event, meta) or self.finished
                return []
            items = [
                reader.read(p, f"{where} part {k}") for k, p in enumerate(parts(candidate, where))
            ]
        except (KeyError, TypeError, AttributeError, IndexError) as exc:  # belt and braces
            raise decode_error_at(where, f"malformed event ({exc!r})", raw) from None
        extra: dict[str, Any] = {}
        calls = []
        for item in items:
            if item[0] != "call":
                continue
            call, sig = item[1], item[2]
            calls.append(
                tool_call_chunk(
                    name=call["name"],
                    args=json.dumps(call["args"], ensure_ascii=False),
                    id=call["id"],
                    index=call["index"],
                )
            )
            if sig is not None:
                extra.setdefault(CALL_SIGNATURES, {})[call["id"]] = sig
        self.has_calls = self.has_calls or bool(calls)
        chunk_content = content.render(items, extra)
        chunk_meta: dict[str, Any] = {}
        if candidate.get("logprobsResult") is not None:
            chunk_meta["logprobs"] = candidate["logprobsResult"]
        self.finished = self.finished or candidate.get("finishReason") is not None
        meta.update(candidate_metadata(candidate, self.has_calls, where))
        if not (chunk_content or calls or extra or chunk_meta):
            return []
        return [
            AIMessageChunk(
                content=chunk_content,
                tool_call_chunks=calls,
                additional_kwargs=extra,
                response_metadata=chunk_meta,
                id=self.response_id,
            )
        ]

    def _close(self) -> list[AIMessageChunk]:
        if not self.finished:
            raise self.interrupted(
                f"Gemini stream ended after {self.responses} events without a finishReason; "
                "the connection was probably cut."
            )
        self.done = True
        meta = self.meta
        if meta.get("finishReason") == "STOP" and self.has_calls:
            meta["finish_reason"] = "tool_calls"
        return [
            AIMessageChunk(
                content=[] if self.content.blocks else "",
                usage_metadata=self.usage,
                response_metadata=meta,
                id=self.response_id,
                chunk_position="last",
            )
        ]


def adecode_stream(events: AsyncIterable[Any]) -> AsyncIterator[AIMessageChunk]:
    """`decode_stream` for an async iterable of events, decoded on the event loop."""
    return adrive(StreamDecoder(), events)


def decode_stream(events: Iterable[Any]) -> Iterator[AIMessageChunk]:
    """`AIMessageChunk`s for the events of ``streamGenerateContent``.

    Each event is a whole GenerateContentResponse holding the next parts. Function calls
    arrive whole, as one tool-call chunk each. ``usageMetadata`` repeats in every event with
    running counts, so it is taken once, from the last event, on the final chunk
    (``chunk_position="last"``), together with the finish reason and response metadata.

    Raises:
        ProviderError: an event is an error object.
        DecodeError: an event is malformed (its index is in the message).
        StreamInterruptedError: the stream ended before an event with a ``finishReason``;
            ``partial`` holds the merged chunks received so far.
    """
    return drive(StreamDecoder(), events)
