"""Gemini streams: the push decoder (client side) and `render_stream` (server side) for
``streamGenerateContent?alt=sse`` events."""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any

from ...messages import (
    AIMessage,
    AIMessageChunk,
    split_message,
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
from ._parts import PartReader, block_part
from ._server import blocked_body, final_usage, finish_fields, prompt_usage, reply_envelope
from ._shared import (
    CALL_SIGNATURES,
    PROTOCOL,
    TEXT_SIGNATURE,
    decode_error_at,
    usage_from_wire,
    with_signature,
)

__all__ = ["StreamDecoder", "adecode_stream", "decode_stream", "render_stream"]


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
                self.usage = usage_from_wire(event["usageMetadata"], where)
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


def _chunk_parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"text": content}] if content else []
    parts = []
    for block in content:
        if isinstance(block, str):
            block = {"type": "text", "text": block}
        block = {k: v for k, v in block.items() if k != "index"}
        part = block_part(block, "model", "the reply")
        if part is not None:
            parts.append(part)
    return parts


def _parts_of(event: dict[str, Any]) -> list[dict[str, Any]]:
    return event["candidates"][0]["content"]["parts"]


def render_stream(
    message: AIMessage, params: dict[str, Any] | None = None, *, chunking: Any = "words"
) -> Iterator[Any]:
    """The ``streamGenerateContent?alt=sse`` events for a reply (each a full response).

    Built on `split_message`: text and thoughts arrive piece by piece, each function call
    whole in its own event (Gemini streams no argument deltas). Every event repeats
    ``usageMetadata`` with the prompt count so far, as the API does; the last one carries
    the final counts and the ``finishReason``.
    """
    blocked = blocked_body(message, params)
    if blocked is not None:
        yield blocked
        return
    envelope = reply_envelope(message, params)
    usage = final_usage(message, params)
    partial_usage = prompt_usage(usage)
    sigs = message.additional_kwargs.get("thought_signatures")
    sigs = sigs if isinstance(sigs, dict) else {}

    def event(parts: list[dict[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "candidates": [{"content": {"parts": parts, "role": "model"}, "index": 0}]
        }
        if partial_usage is not None:
            out["usageMetadata"] = dict(partial_usage)
        out.update(envelope)
        return out

    calls: dict[Any, dict[str, Any]] = {}

    def flush_calls() -> list[dict[str, Any]]:
        parts = []
        for pending in calls.values():
            args = json.loads(pending["args"]) if pending["args"] else {}
            fc: dict[str, Any] = {"name": pending["name"], "args": args}
            if pending["id"]:
                # the Gemini API sends no id (its Live API does); a scripted id is kept so
                # it survives the trip, a deliberate difference (README, Fidelity)
                fc["id"] = pending["id"]
            part: dict[str, Any] = {"functionCall": fc}
            # a thoughtSignature only when scripted: only the API can make one (deliberate,
            # README, Fidelity)
            if isinstance(sigs.get(pending["id"]), str):
                part["thoughtSignature"] = sigs[pending["id"]]
            parts.append(part)
        calls.clear()
        return parts

    previous: dict[str, Any] | None = None
    valid = message.model_copy(update={"invalid_tool_calls": []})
    for chunk in split_message(valid, chunking):
        if chunk.chunk_position == "last":
            break
        parts: list[dict[str, Any]] = []
        for piece in chunk.tool_call_chunks:
            if calls and piece.get("index") not in calls:
                parts.extend(flush_calls())
            target = calls.setdefault(
                piece.get("index"), {"name": piece.get("name"), "id": piece.get("id"), "args": ""}
            )
            target["args"] += piece.get("args") or ""
        if not chunk.tool_call_chunks:
            parts.extend(flush_calls())
            parts.extend(_chunk_parts(chunk.content))
        if not parts:
            continue
        if previous is not None:
            yield previous
        previous = event(parts)
    tail = flush_calls()
    if tail:
        if previous is not None:
            yield previous
        previous = event(tail)
    if previous is None or any("functionCall" in p for p in _parts_of(previous)):
        # after its function calls the API closes the stream with an empty text part that
        # carries the finishReason and the final counts
        if previous is not None:
            yield previous
        previous = event([{"text": ""}])
    text_sig = message.additional_kwargs.get(TEXT_SIGNATURE)
    if isinstance(message.content, str) and isinstance(text_sig, str):
        previous["candidates"][0]["content"]["parts"].append(
            {"text": "", "thoughtSignature": text_sig}
        )
    reason, extra = finish_fields(message, params)
    previous["candidates"][0].update({"finishReason": reason, **extra})
    if usage is not None:
        previous["usageMetadata"] = usage
    else:
        previous.pop("usageMetadata", None)
    if message.response_metadata.get("prompt_feedback") is not None:
        previous["promptFeedback"] = message.response_metadata["prompt_feedback"]
    yield previous
