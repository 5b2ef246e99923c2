"""Anthropic Messages streams: the push decoder (client side), `render_stream` and
`render_stream_error` (server side)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any

from ...exceptions import (
    DecodeError,
    ProviderError,
)
from ...messages import (
    AIMessage,
    AIMessageChunk,
    split_message,
    tool_call_chunk,
)
from .._stream_driver import PushDecoder, json_event
from .._stream_driver import adecode_stream as adrive
from .._stream_driver import decode_stream as drive
from ._server import error_payload, status_for
from ._shared import (
    PROTOCOL,
    SERVER_TOOL_USES,
    TOOL_CALLER,
    Fail,
    annotation_to_citation,
    assistant_block_to_standard,
    assistant_block_to_wire,
    cache_ttl_metadata,
    citation_to_annotation,
    error_from_payload,
    excerpt,
    new_id,
    provider_id,
    reply_metadata,
    reply_model_name,
    reply_usage,
    server_tool_use_to_standard,
    stop_metadata,
    stop_reason_for,
    usage_from_wire,
    usage_minus,
)

__all__ = [
    "StreamDecoder",
    "adecode_stream",
    "decode_stream",
    "render_stream",
    "render_stream_error",
]


class _StreamRenderer:
    """Turns the chunks of `split_message` into Anthropic SSE event payloads."""

    def __init__(self, message: AIMessage) -> None:
        self.message = message
        self.events: list[dict[str, Any]] = []
        self.open_key: Any = None
        self.next_index = 0
        self.pinged = False
        blocks = message.content if isinstance(message.content, list) else []
        self.names = {
            b.get("id"): b.get("name")
            for b in blocks
            if isinstance(b, dict) and b.get("type") == "server_tool_call"
        }
        self.call_ids = {c["id"] for c in message.tool_calls if c["id"]}

    def delta(self, delta: dict[str, Any]) -> None:
        index = self.next_index - 1
        self.events.append({"type": "content_block_delta", "index": index, "delta": delta})

    def open(self, key: Any, block: dict[str, Any]) -> None:
        self.close()
        self.open_key = key
        self.events.append(
            {"type": "content_block_start", "index": self.next_index, "content_block": block}
        )
        self.next_index += 1
        if not self.pinged:  # the real API pings right after the first block opens
            self.events.append({"type": "ping"})
            self.pinged = True

    def close(self) -> None:
        if self.open_key is not None:
            self.events.append({"type": "content_block_stop", "index": self.next_index - 1})
            self.open_key = None

    def text_piece(self, key: Any, piece: dict[str, Any]) -> None:
        if key != self.open_key:
            self.open(key, {"type": "text", "text": ""})
        for ann in piece.get("annotations") or []:
            citation = annotation_to_citation(ann)
            if citation is not None:
                self.delta({"type": "citations_delta", "citation": citation})
        if piece.get("text"):
            self.delta({"type": "text_delta", "text": piece["text"]})

    def reasoning_piece(self, key: Any, piece: dict[str, Any]) -> None:
        extras = piece.get("extras") or {}
        if extras.get("redacted"):
            self.open(key, {"type": "redacted_thinking", "data": extras["redacted"]})
            return
        if key != self.open_key:
            self.open(key, {"type": "thinking", "thinking": "", "signature": ""})
        if piece.get("reasoning"):
            self.delta({"type": "thinking_delta", "thinking": piece["reasoning"]})
        # Deliberate difference (README, Fidelity): the API closes every thinking block with
        # a signature_delta, but only it can make a signature; one goes out when scripted.
        if extras.get("signature"):
            self.delta({"type": "signature_delta", "signature": extras["signature"]})

    def whole_block(self, key: Any, block: dict[str, Any], where: str) -> None:
        kind = block.get("type")
        if kind == "tool_call":
            if block.get("id") in self.call_ids:
                return  # sent from message.tool_calls
            block = {
                "type": "tool_use",
                "id": block.get("id"),
                "name": block.get("name"),
                "input": block.get("args"),
                "caller": dict(TOOL_CALLER),
            }
        else:
            wire = assistant_block_to_wire(block, where, for_request=False, names=self.names)
            if wire is None:
                return
            block = wire
        if block["type"] in ("tool_use", "server_tool_use", "mcp_tool_use"):
            args = block.get("input") or {}
            self.open(key, {**block, "input": {}})
            self.delta(
                {"type": "input_json_delta", "partial_json": json.dumps(args) if args else ""}
            )
            return
        self.open(key, block)

    def content_piece(self, piece: dict[str, Any]) -> None:
        key = ("content", piece.get("index"))
        kind = piece.get("type")
        if kind == "text":
            self.text_piece(key, piece)
        elif kind == "reasoning":
            self.reasoning_piece(key, piece)
        else:
            block = {k: v for k, v in piece.items() if k != "index"}
            self.whole_block(key, block, f"message.content[{piece.get('index')}]")

    def tool_piece(self, piece: dict[str, Any]) -> None:
        key = ("tool", piece.get("index"))
        if key != self.open_key:
            call_id = piece.get("id") or new_id("toolu_")
            self.open(
                key,
                {
                    "type": "tool_use",
                    "id": call_id,
                    "name": piece.get("name") or "",
                    "input": {},
                    "caller": dict(TOOL_CALLER),
                },
            )
            self.delta({"type": "input_json_delta", "partial_json": ""})
        if piece.get("args"):
            self.delta({"type": "input_json_delta", "partial_json": piece["args"]})


def render_stream(
    message: AIMessage, params: dict[str, Any] | None = None, *, chunking: Any = "words"
) -> Iterator[Any]:
    """The SSE event payloads the real API would stream for `message`.

    Built on `myna.messages.split_message` (text and reasoning cut by `chunking`, tool
    arguments as JSON fragments): ``message_start``, a ``ping``, per block
    ``content_block_start`` / ``_delta`` / ``_stop``, ``message_delta`` with the stop reason
    and cumulative usage, then ``message_stop``. Each payload's ``type`` is its SSE event name.

    Raises:
        UserError: the message holds blocks an assistant turn cannot carry (image, audio).
    """
    usage = reply_usage(message)
    start_usage = {**usage, "output_tokens": min(usage["output_tokens"], 1)}
    meta = message.response_metadata
    renderer = _StreamRenderer(message)
    renderer.events.append(
        {
            "type": "message_start",
            "message": {
                "id": provider_id(message.id or meta.get("id"), "msg_"),
                "type": "message",
                "role": "assistant",
                "model": reply_model_name(message, params),
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "stop_details": None,
                "usage": start_usage,
            },
        }
    )
    for chunk in split_message(message, chunking)[:-1]:
        if isinstance(chunk.content, str):
            if chunk.content:
                renderer.text_piece(("content", 0), {"text": chunk.content})
        else:
            for piece in chunk.content:
                if isinstance(piece, str):
                    piece = {"type": "text", "text": piece, "index": 0}
                renderer.content_piece(piece)
        for piece in chunk.tool_call_chunks:
            renderer.tool_piece(dict(piece))
    renderer.close()
    # the closing counts: the API leaves the breakdown, tier and geo to message_start
    start_only = ("cache_creation", "service_tier", "inference_geo")
    final_usage = {k: v for k, v in usage.items() if k not in start_only}
    renderer.events.append(
        {
            "type": "message_delta",
            "delta": {
                "stop_reason": stop_reason_for(message),
                "stop_sequence": meta.get("stop_sequence"),
                "stop_details": meta.get("stop_details"),
            },
            "usage": final_usage,
        }
    )
    renderer.events.append({"type": "message_stop"})
    return iter(renderer.events)


class StreamDecoder(PushDecoder):
    """The state of one Anthropic SSE stream, fed one event payload at a time.

    Text streams as plain strings while the reply has had only one content block, so a
    text-only stream merges into string content like `decode_response` gives; from the
    second content block on (or any thinking, server tool or cited block) content streams
    as blocks keyed by the wire ``index``.
    """

    PROTOCOL = PROTOCOL

    def __init__(self) -> None:
        super().__init__()
        self.started = False
        self.id: str | None = None
        self.blocks: dict[int, dict[str, Any]] = {}
        self.block_mode = False
        self.content_blocks = 0
        self.usage_raw: dict[str, Any] = {}
        self.usage_sent: dict[str, Any] | None = None

    def chunk(self, **fields: Any) -> AIMessageChunk:
        fields.setdefault("content", [] if self.block_mode else "")
        return AIMessageChunk(id=self.id, **fields)

    def _close(self) -> list[AIMessageChunk]:
        raise self.interrupted(
            f"The Anthropic stream ended after {self.events} events without message_stop; "
            "the reply so far is on the error's .partial."
        )

    def _feed(self, i: int, event: Any) -> list[AIMessageChunk]:
        event = json_event(event, f"Anthropic stream event {i}")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise DecodeError(
                f"Anthropic stream event {i} must be an object with a string 'type', "
                f"got {excerpt(event)}"
            )
        kind = event["type"]
        prefix = f"Anthropic stream event {i} ({kind})"

        def fail(problem: str) -> Exception:
            return DecodeError(f"{prefix}: {problem}; event: {excerpt(event)}")

        if kind == "ping":
            return []
        if kind == "error":
            raise error_from_payload(None, event)
        if kind == "message_start":
            return self.message_start(event, fail)
        if not self.started:
            raise fail("the stream must open with message_start")
        handler = {
            "content_block_start": self.block_start,
            "content_block_delta": self.block_delta,
            "content_block_stop": self.block_stop,
            "message_delta": self.message_delta,
            "message_stop": self.message_stop,
        }.get(kind)
        return handler(event, fail) if handler else []  # unknown event types: newer API

    def message_start(self, event: dict[str, Any], fail: Fail) -> list[AIMessageChunk]:
        if self.started:
            raise fail("a second message_start")
        message = event.get("message")
        if not isinstance(message, dict):
            raise fail("'message' must be an object")
        meta = reply_metadata({k: message.get(k) for k in ("id", "model")}, fail)
        self.started = True
        self.id = message.get("id")
        usage = message.get("usage")
        if usage is not None:
            usage_from_wire(usage, fail)  # fail early on a malformed usage
            self.usage_raw = dict(usage)
            if usage.get("service_tier") is not None:
                meta["service_tier"] = usage["service_tier"]
            meta.update(cache_ttl_metadata(usage))
        return [self.chunk(response_metadata=meta)]

    def _index(self, event: dict[str, Any], fail: Fail) -> int:
        index = event.get("index")
        if isinstance(index, bool) or not isinstance(index, int):
            raise fail(f"'index' must be an integer, got {excerpt(index)}")
        return index

    def block_start(self, event: dict[str, Any], fail: Fail) -> list[AIMessageChunk]:
        index = self._index(event, fail)
        block = event.get("content_block")
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            raise fail("'content_block' must be an object with a string 'type'")
        if index in self.blocks:
            raise fail(f"content block {index} started twice")
        kind = block["type"]
        self.blocks[index] = {"kind": kind, "block": block, "json": "", "stopped": False}
        if kind == "tool_use":
            call_id, name, args = block.get("id"), block.get("name"), block.get("input") or {}
            if (
                not isinstance(call_id, str)
                or not isinstance(name, str)
                or not isinstance(args, dict)
            ):
                raise fail("a tool_use block needs string 'id', 'name' and an object 'input'")
            start = json.dumps(args) if args else ""
            piece = tool_call_chunk(name=name, id=call_id, args=start, index=index)
            return [self.chunk(tool_call_chunks=[piece])]
        if not self.block_mode and (
            self.content_blocks or kind != "text" or block.get("citations")
        ):
            self.block_mode = True
        self.content_blocks += 1
        if kind in SERVER_TOOL_USES:
            return []  # its input streams as JSON fragments; the block goes out at its stop
        if kind == "thinking":  # a streamed skeleton: empty thinking and signature
            block = {"type": "thinking", "thinking": "", **block}
        std = assistant_block_to_standard(block, f"content block {index}", fail)
        if not self.block_mode:
            return [self.chunk(content=std["text"])] if std["text"] else []
        return [self.chunk(content=[{**std, "index": index}])]

    def block_delta(self, event: dict[str, Any], fail: Fail) -> list[AIMessageChunk]:
        index = self._index(event, fail)
        state = self.blocks.get(index)
        if state is None or state["stopped"]:
            raise fail(f"a delta for content block {index}, which is not open")
        delta = event.get("delta")
        if not isinstance(delta, dict) or not isinstance(delta.get("type"), str):
            raise fail("'delta' must be an object with a string 'type'")
        dkind, bkind = delta["type"], state["kind"]
        field, wanted = {
            "text_delta": ("text", ("text",)),
            "citations_delta": ("citation", ("text",)),
            "thinking_delta": ("thinking", ("thinking",)),
            "signature_delta": ("signature", ("thinking",)),
            "input_json_delta": ("partial_json", ("tool_use", *SERVER_TOOL_USES)),
        }.get(dkind, (None, ()))
        if field is None or (bkind not in wanted and bkind in ("text", "thinking", "tool_use")):
            if field is None:
                return []  # a delta type newer than this codec
            raise fail(f"a {dkind} cannot apply to a {bkind} block")
        if bkind not in wanted:
            return []  # deltas of blocks this codec keeps whole (non_standard)
        value = delta.get(field)
        if not isinstance(value, dict if field == "citation" else str):
            raise fail(f"delta.{field} has the wrong type: {excerpt(value)}")
        if dkind == "input_json_delta":
            if bkind != "tool_use":
                state["json"] += value
                return []
            piece = tool_call_chunk(args=value, index=index)
            return [self.chunk(tool_call_chunks=[piece])] if value else []
        if dkind == "text_delta":
            if not self.block_mode:
                return [self.chunk(content=value)] if value else []
            return [self.chunk(content=[{"type": "text", "text": value, "index": index}])]
        if dkind == "citations_delta":
            self.block_mode = True
            ann = citation_to_annotation(value)
            return [
                self.chunk(
                    content=[{"type": "text", "text": "", "index": index, "annotations": [ann]}]
                )
            ]
        if dkind == "thinking_delta":
            return [self.chunk(content=[{"type": "reasoning", "reasoning": value, "index": index}])]
        sig = {"type": "reasoning", "index": index, "extras": {"signature": value}}
        return [self.chunk(content=[sig])]

    def block_stop(self, event: dict[str, Any], fail: Fail) -> list[AIMessageChunk]:
        index = self._index(event, fail)
        state = self.blocks.get(index)
        if state is None or state["stopped"]:
            raise fail(f"content block {index} is not open")
        state["stopped"] = True
        if state["kind"] not in SERVER_TOOL_USES:
            return []
        block = dict(state["block"])
        if state["json"].strip():
            try:
                block["input"] = json.loads(state["json"])
            except ValueError as exc:
                raise fail(
                    f"the server tool input is not JSON ({exc}): {state['json'][:80]!r}"
                ) from None
        std = server_tool_use_to_standard(block, f"content block {index}", fail)
        return [self.chunk(content=[{**std, "index": index}])]

    def message_delta(self, event: dict[str, Any], fail: Fail) -> list[AIMessageChunk]:
        delta = event.get("delta")
        if not isinstance(delta, dict):
            raise fail("'delta' must be an object")
        meta: dict[str, Any] = {}
        stop_reason = delta.get("stop_reason")
        if stop_reason is not None:
            if not isinstance(stop_reason, str):
                raise fail(f"stop_reason must be a string, got {excerpt(stop_reason)}")
            meta.update(stop_metadata(stop_reason, delta.get("stop_sequence")))
        if delta.get("stop_details") is not None:
            meta["stop_details"] = delta["stop_details"]
        usage = event.get("usage")
        if usage is None:
            return [self.chunk(response_metadata=meta)]
        if not isinstance(usage, dict):
            raise fail("'usage' must be an object")
        # Counts here are cumulative (newer API versions repeat the input side): keep the
        # latest value of each field and send chunks the difference, since chunks add up.
        self.usage_raw.update({k: v for k, v in usage.items() if v is not None})
        return [self.chunk(response_metadata=meta, usage_metadata=self.usage_step(fail))]

    def usage_step(self, fail: Fail) -> Any:
        full = usage_from_wire(self.usage_raw, fail)
        step = usage_minus(dict(full), self.usage_sent)
        self.usage_sent = dict(full)
        return step

    def message_stop(self, event: dict[str, Any], fail: Fail) -> list[AIMessageChunk]:
        self.done = True
        fields: dict[str, Any] = {"chunk_position": "last"}
        if self.usage_sent is None and self.usage_raw:
            fields["usage_metadata"] = self.usage_step(fail)
        return [self.chunk(**fields)]


def adecode_stream(events: AsyncIterable[Any]) -> AsyncIterator[AIMessageChunk]:
    """`decode_stream` for an async iterable of events, decoded on the event loop."""
    return adrive(StreamDecoder(), events)


def decode_stream(events: Iterable[Any]) -> Iterator[AIMessageChunk]:
    """Turn the event payloads of a streamed Messages call into `AIMessageChunk`s.

    Chunks merge (``merge_chunks(chunks).to_message()``) into what `decode_response` gives
    for the same reply. ``ping`` is ignored; the stream ends at ``message_stop``.

    Raises:
        ProviderError: an ``error`` event (``overloaded_error`` -> `OverloadedError`).
        StreamInterruptedError: the events ran out before ``message_stop``; ``partial``
            holds the merged chunks received so far (None if none).
        DecodeError: a malformed event, naming its index and an excerpt.
    """
    return drive(StreamDecoder(), events)


def render_stream_error(error: ProviderError) -> dict[str, Any]:
    """The ``error`` event payload for a failure after the stream began (HTTP 200 already sent).

    Nothing follows it on the wire: no ``message_stop``.
    """
    body = error_payload(error, status_for(error))
    return {"type": "error", "error": body["error"]}
