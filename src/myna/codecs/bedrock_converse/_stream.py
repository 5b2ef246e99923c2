"""ConverseStream events, both directions: `decode_stream` and `render_stream`.

An event is a one-key dict naming its type, as `event_from_frame` builds it from a binary
frame: ``{"messageStart": {"role": "assistant"}}``, ``{"contentBlockDelta":
{"contentBlockIndex": 0, "delta": {"text": "Hi"}}}``, ..., ``{"metadata": {"usage": ...}}``.
Text and reasoning blocks have no ``contentBlockStart``; tool calls do. ``metadata`` ends
the stream.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any

from ...exceptions import DecodeError, ProviderError, UserError
from ...messages import AIMessage, AIMessageChunk, split_message, tool_call_chunk
from .._stream_driver import PushDecoder, json_event
from .._stream_driver import adecode_stream as adrive
from .._stream_driver import decode_stream as drive
from ._blocks import (
    annotation_from_citation,
    citation_from_annotation,
    media_to_standard,
)
from ._eventstream import encode_event, encode_exception
from ._shared import (
    ERROR_TYPES,
    EXTRA_RESPONSE_FIELDS,
    IMAGE_FORMATS,
    PROTOCOL,
    PROVIDER,
    Fail,
    error_from_payload,
    error_type_of,
    excerpt,
    is_int,
    new_tool_use_id,
    stop_metadata,
    stop_reason_for,
    usage_from_wire,
    usage_metadata_extras,
    usage_to_wire,
    wire_error_type,
)

__all__ = [
    "StreamDecoder",
    "adecode_stream",
    "decode_stream",
    "encode_stream_event",
    "render_stream",
    "render_stream_error",
]

_SERVER_TOOL = "server_tool_use"


def _is_exception(key: str) -> bool:
    return error_type_of(key) in ERROR_TYPES or key.endswith("Exception")


# ----------------------------------------------------------------------------- decode_stream


class StreamDecoder(PushDecoder):
    """The state of one ConverseStream, fed one event at a time.

    Text streams as plain strings while the reply has had only one text block, so a
    text-only stream merges into string content as `decode_response` gives; from a second
    content block (or any reasoning, citation or server block) on, content streams as
    blocks keyed by ``contentBlockIndex``.
    """

    PROTOCOL = PROTOCOL

    def __init__(self) -> None:
        super().__init__()
        self.started = False
        self.blocks: dict[int, dict[str, Any]] = {}
        self.block_mode = False
        self.content_blocks = 0

    def chunk(self, **fields: Any) -> AIMessageChunk:
        fields.setdefault("content", [] if self.block_mode else "")
        return AIMessageChunk(**fields)

    def _close(self) -> list[AIMessageChunk]:
        raise self.interrupted(
            f"The Bedrock stream ended after {self.events} events without its metadata event; "
            "the reply so far is on the error's .partial."
        )

    def _feed(self, i: int, event: Any) -> list[AIMessageChunk]:
        event = json_event(event, f"Bedrock stream event {i}")
        if not isinstance(event, dict) or len(event) != 1 or not isinstance(next(iter(event)), str):
            raise DecodeError(
                f"Bedrock stream event {i} must be an object with one key (the event type), "
                f"got {excerpt(event)}"
            )
        kind, value = next(iter(event.items()))
        prefix = f"Bedrock stream event {i} ({kind})"

        def fail(problem: str) -> Exception:
            return DecodeError(f"{prefix}: {problem}; event: {excerpt(event)}")

        if _is_exception(kind):
            raise error_from_payload(None, value, error_type_of(kind))
        handler = {
            "messageStart": self.message_start,
            "contentBlockStart": self.block_start,
            "contentBlockDelta": self.block_delta,
            "contentBlockStop": self.block_stop,
            "messageStop": self.message_stop,
            "metadata": self.metadata,
        }.get(kind)
        if handler is None:
            return []  # an event type newer than this codec
        if not isinstance(value, dict):
            raise fail(f"the payload must be an object, got {excerpt(value)}")
        if kind != "messageStart" and not self.started:
            raise fail("the stream must open with messageStart")
        return handler(value, fail)

    def message_start(self, value: dict[str, Any], fail: Fail) -> list[AIMessageChunk]:
        if self.started:
            raise fail("a second messageStart")
        if value.get("role", "assistant") != "assistant":
            raise fail(f"role must be 'assistant', got {excerpt(value.get('role'))}")
        self.started = True
        return [self.chunk(response_metadata={"model_provider": PROVIDER})]

    def _index(self, value: dict[str, Any], fail: Fail) -> int:
        index = value.get("contentBlockIndex")
        if not is_int(index) or index < 0:
            raise fail(f"contentBlockIndex must be a non-negative integer, got {excerpt(index)}")
        return index

    def _open(self, index: int, kind: str, **state: Any) -> dict[str, Any]:
        block = {"kind": kind, "json": "", "stopped": False, **state}
        self.blocks[index] = block
        if kind != "tool":
            if self.content_blocks or kind != "text":
                self.block_mode = True
            self.content_blocks += 1
        return block

    def block_start(self, value: dict[str, Any], fail: Fail) -> list[AIMessageChunk]:
        index = self._index(value, fail)
        start = value.get("start")
        if not isinstance(start, dict):
            raise fail("'start' must be an object")
        if index in self.blocks:
            raise fail(f"content block {index} started twice")
        if "toolUse" in start:
            use = start["toolUse"]
            if not isinstance(use, dict) or not all(
                isinstance(use.get(k), str) for k in ("toolUseId", "name")
            ):
                raise fail("start.toolUse needs string 'toolUseId' and 'name'")
            if use.get("type") == _SERVER_TOOL:
                self._open(index, "server_call", use=use)
                return []
            self._open(index, "tool")
            piece = tool_call_chunk(name=use["name"], id=use["toolUseId"], args="", index=index)
            return [self.chunk(tool_call_chunks=[piece])]
        if "toolResult" in start:
            result = start["toolResult"]
            if not isinstance(result, dict) or not isinstance(result.get("toolUseId"), str):
                raise fail("start.toolResult needs a string 'toolUseId'")
            self._open(index, "server_result", result=result, content=[])
            return []
        if "image" in start:
            image = start["image"]
            if not isinstance(image, dict) or not isinstance(image.get("format"), str):
                raise fail("start.image needs a string 'format'")
            self._open(index, "image", format=image["format"], data="")
            return []
        self._open(index, "other")
        return []

    def _content_state(self, index: int, kind: str, fail: Fail) -> dict[str, Any]:
        state = self.blocks.get(index)
        if state is None:
            return self._open(index, kind)  # text and reasoning blocks have no start event
        if state["stopped"]:
            raise fail(f"a delta for content block {index}, which has stopped")
        if state["kind"] != kind:
            raise fail(f"a {kind} delta cannot apply to a {state['kind']} block")
        return state

    def block_delta(self, value: dict[str, Any], fail: Fail) -> list[AIMessageChunk]:
        index = self._index(value, fail)
        delta = value.get("delta")
        if not isinstance(delta, dict):
            raise fail("'delta' must be an object")
        if "text" in delta:
            text = delta["text"]
            if not isinstance(text, str):
                raise fail(f"delta.text must be a string, got {excerpt(text)}")
            self._content_state(index, "text", fail)
            if not self.block_mode:
                return [self.chunk(content=text)] if text else []
            return [self.chunk(content=[{"type": "text", "text": text, "index": index}])]
        if "reasoningContent" in delta:
            return self.reasoning_delta(index, delta["reasoningContent"], fail)
        if "citation" in delta:
            self._content_state(index, "text", fail)
            self.block_mode = True
            ann = annotation_from_citation(delta["citation"])
            piece = {"type": "text", "text": "", "index": index, "annotations": [ann]}
            return [self.chunk(content=[piece])]
        if "toolUse" in delta:
            return self.tool_delta(index, delta["toolUse"], fail)
        if "toolResult" in delta:
            state = self.blocks.get(index)
            if state is None or state["kind"] != "server_result" or state["stopped"]:
                raise fail(f"a toolResult delta for block {index}, which is no open tool result")
            if not isinstance(delta["toolResult"], list):
                raise fail("delta.toolResult must be a list")
            state["content"].extend(delta["toolResult"])
            return []
        if "image" in delta:
            state = self.blocks.get(index)
            source = delta["image"].get("source") if isinstance(delta["image"], dict) else None
            if state is None or state["kind"] != "image" or state["stopped"]:
                raise fail(f"an image delta for block {index}, which is no open image")
            if not isinstance(source, dict) or not isinstance(source.get("bytes"), str):
                raise fail("delta.image.source.bytes must be base64 text")
            state["data"] += source["bytes"]
            return []
        return []  # a delta kind newer than this codec

    def reasoning_delta(self, index: int, value: Any, fail: Fail) -> list[AIMessageChunk]:
        if not isinstance(value, dict):
            raise fail("delta.reasoningContent must be an object")
        self._content_state(index, "reasoning", fail)
        piece: dict[str, Any] = {"type": "reasoning", "index": index}
        if "redactedContent" in value:
            if not isinstance(value["redactedContent"], str):
                raise fail("delta.reasoningContent.redactedContent must be base64 text")
            piece["extras"] = {"redacted": value["redactedContent"]}
            return [self.chunk(content=[piece])]
        text, signature = value.get("text", ""), value.get("signature")
        if not isinstance(text, str) or (signature is not None and not isinstance(signature, str)):
            raise fail("delta.reasoningContent text and signature must be strings")
        piece["reasoning"] = text
        if signature is not None:
            piece["extras"] = {"signature": signature}
        return [self.chunk(content=[piece])]

    def tool_delta(self, index: int, value: Any, fail: Fail) -> list[AIMessageChunk]:
        state = self.blocks.get(index)
        if state is None or state["kind"] not in ("tool", "server_call") or state["stopped"]:
            raise fail(f"a toolUse delta for block {index}, which is no open tool use")
        fragment = value.get("input") if isinstance(value, dict) else None
        if not isinstance(fragment, str):
            raise fail(f"delta.toolUse.input must be a string, got {excerpt(fragment)}")
        if state["kind"] == "server_call":
            state["json"] += fragment
            return []
        piece = tool_call_chunk(args=fragment, index=index)
        return [self.chunk(tool_call_chunks=[piece])] if fragment else []

    def block_stop(self, value: dict[str, Any], fail: Fail) -> list[AIMessageChunk]:
        index = self._index(value, fail)
        state = self.blocks.get(index)
        if state is None:
            self._open(index, "other")["stopped"] = True
            return []
        if state["stopped"]:
            raise fail(f"content block {index} stopped twice")
        state["stopped"] = True
        std: dict[str, Any] | None = None
        if state["kind"] == "server_call":
            use = state["use"]
            try:
                args = json.loads(state["json"]) if state["json"].strip() else {}
            except ValueError:
                raise fail(f"the server tool input is not JSON: {state['json'][:80]!r}") from None
            std = {"type": "server_tool_call", "id": use["toolUseId"], "name": use["name"]}
            std.update(args=args if isinstance(args, dict) else {"input": args})
            std["extras"] = {"type": _SERVER_TOOL}
        elif state["kind"] == "server_result":
            result = state["result"]
            std = {
                "type": "server_tool_result",
                "tool_call_id": result["toolUseId"],
                "status": "error" if result.get("status") == "error" else "success",
                "output": state["content"],
            }
            extras = {k: v for k, v in result.items() if k not in ("toolUseId", "status")}
            if extras:
                std["extras"] = extras
        elif state["kind"] == "image":
            wire = {"format": state["format"], "source": {"bytes": state["data"]}}
            std = media_to_standard("image", wire, f"content block {index}", fail)
        if std is None:
            return []
        return [self.chunk(content=[{**std, "index": index}])]

    def message_stop(self, value: dict[str, Any], fail: Fail) -> list[AIMessageChunk]:
        meta = stop_metadata(value.get("stopReason"), fail)
        extra = value.get("additionalModelResponseFields")
        if extra is not None:
            meta["additional_model_response_fields"] = extra
        return [self.chunk(response_metadata=meta)]

    def metadata(self, value: dict[str, Any], fail: Fail) -> list[AIMessageChunk]:
        meta: dict[str, Any] = {}
        metrics = value.get("metrics")
        if metrics is not None:
            if not isinstance(metrics, dict):
                raise fail(f"metrics must be an object, got {excerpt(metrics)}")
            meta["metrics"] = metrics
        for wire, key in EXTRA_RESPONSE_FIELDS.items():
            if wire != "additionalModelResponseFields" and value.get(wire) is not None:
                meta[key] = value[wire]
        usage = value.get("usage")
        meta.update(usage_metadata_extras(usage))
        fields: dict[str, Any] = {"response_metadata": meta, "chunk_position": "last"}
        if usage is not None:
            fields["usage_metadata"] = usage_from_wire(usage, fail)
        self.done = True
        return [self.chunk(**fields)]


def adecode_stream(events: AsyncIterable[Any]) -> AsyncIterator[AIMessageChunk]:
    """`decode_stream` for an async iterable of events, decoded on the event loop."""
    return adrive(StreamDecoder(), events)


def decode_stream(events: Iterable[Any]) -> Iterator[AIMessageChunk]:
    """Turn the events of a ConverseStream into `AIMessageChunk`s.

    Each event is a one-key dict (``{"contentBlockDelta": {...}}``); JSON text is parsed
    first. Chunks merge (``merge_chunks(chunks).to_message()``) into what `decode_response`
    gives for the same reply. The stream ends at ``metadata``, which carries the usage.

    Raises:
        ProviderError: an exception event (``throttlingException`` -> `RateLimitError`,
            ``serviceUnavailableException`` -> `OverloadedError`, ...).
        StreamInterruptedError: the events ran out before ``metadata``; ``partial`` holds
            the merged chunks received so far (None if none).
        DecodeError: a malformed event, naming its index and an excerpt.
    """
    return drive(StreamDecoder(), events)


# ----------------------------------------------------------------------------- render_stream


class _StreamRenderer:
    """Turns the chunks of `split_message` into ConverseStream events."""

    def __init__(self, message: AIMessage) -> None:
        self.events: list[dict[str, Any]] = [{"messageStart": {"role": "assistant"}}]
        self.open_key: Any = None
        self.next_index = 0
        self.call_ids = {c["id"] for c in message.tool_calls if c["id"]}

    @property
    def index(self) -> int:
        return self.next_index - 1

    def delta(self, delta: dict[str, Any]) -> None:
        self.events.append({"contentBlockDelta": {"contentBlockIndex": self.index, "delta": delta}})

    def open(self, key: Any, start: dict[str, Any] | None = None) -> None:
        self.close()
        self.open_key = key
        self.next_index += 1
        if start is not None:
            self.events.append(
                {"contentBlockStart": {"contentBlockIndex": self.index, "start": start}}
            )

    def close(self) -> None:
        if self.open_key is not None:
            self.events.append({"contentBlockStop": {"contentBlockIndex": self.index}})
            self.open_key = None

    def text_piece(self, key: Any, piece: dict[str, Any]) -> None:
        if key != self.open_key:
            self.open(key)
        for ann in piece.get("annotations") or []:
            citation = citation_from_annotation(ann)
            if citation is not None:
                self.delta({"citation": citation})
        if piece.get("text"):
            self.delta({"text": piece["text"]})

    def reasoning_piece(self, key: Any, piece: dict[str, Any]) -> None:
        extras = piece.get("extras") or {}
        first = key != self.open_key
        if first:
            self.open(key)
        if extras.get("redacted"):
            self.delta({"reasoningContent": {"redactedContent": extras["redacted"]}})
            return
        text = piece.get("reasoning") or ""
        if text or (first and not extras.get("signature")):
            self.delta({"reasoningContent": {"text": text}})
        if extras.get("signature"):
            self.delta({"reasoningContent": {"signature": extras["signature"]}})

    def tool_use(self, key: Any, use: dict[str, Any], args: str) -> None:
        self.open(key, {"toolUse": use})
        if args:
            self.delta({"toolUse": {"input": args}})

    def whole_block(self, key: Any, block: dict[str, Any], where: str) -> None:
        kind = block.get("type")
        if kind == "tool_call":
            if block.get("id") in self.call_ids:
                return  # sent from message.tool_calls
            use = {"toolUseId": block.get("id") or new_tool_use_id(), "name": block.get("name")}
            self.tool_use(key, use, json.dumps(block["args"]) if block.get("args") else "")
        elif kind == "server_tool_call":
            use = {"toolUseId": block.get("id") or new_tool_use_id(), "name": block.get("name")}
            args = block.get("args")
            self.tool_use(key, {**use, "type": _SERVER_TOOL}, json.dumps(args) if args else "")
        elif kind == "server_tool_result":
            extras = block.get("extras") or {}
            start = {"toolUseId": block.get("tool_call_id", ""), **extras}
            if block.get("status") == "error":
                start["status"] = "error"
            output = block.get("output")
            self.open(key, {"toolResult": start})
            self.delta({"toolResult": output if isinstance(output, list) else []})
        elif kind == "image" and isinstance(block.get("base64"), str):
            fmt = IMAGE_FORMATS.get(block.get("mime_type") or "", "png")
            self.open(key, {"image": {"format": fmt}})
            self.delta({"image": {"source": {"bytes": block["base64"]}}})
        elif kind not in ("tool_call_chunk", "invalid_tool_call", "server_tool_call_chunk"):
            raise UserError(
                f"{where}: ConverseStream cannot carry a {kind!r} block; a streamed reply may "
                "hold text, reasoning, base64 images, tool calls and server tool blocks."
            )

    def tool_piece(self, piece: dict[str, Any]) -> None:
        key = ("tool", piece.get("index"))
        if key != self.open_key:
            use = {"toolUseId": piece.get("id") or new_tool_use_id(), "name": piece.get("name")}
            self.open(key, {"toolUse": {**use, "name": use["name"] or ""}})
        if piece.get("args"):
            self.delta({"toolUse": {"input": piece["args"]}})


def render_stream(
    message: AIMessage, params: dict[str, Any] | None = None, *, chunking: Any = "words"
) -> Iterator[Any]:
    """The ConverseStream events the real API would send for `message`.

    Built on `myna.messages.split_message`: ``messageStart``; text and reasoning as
    ``contentBlockDelta`` pieces cut by `chunking`; each tool call as ``contentBlockStart``
    then JSON argument fragments; a ``contentBlockStop`` per block; ``messageStop`` with the
    stop reason; ``metadata`` with usage and metrics.

    Raises:
        UserError: the message holds blocks a stream cannot carry (documents, audio).
    """
    renderer = _StreamRenderer(message)
    for chunk in split_message(message, chunking)[:-1]:
        if isinstance(chunk.content, str):
            if chunk.content:
                renderer.text_piece(("content", 0), {"text": chunk.content})
        else:
            for piece in chunk.content:
                if isinstance(piece, str):
                    piece = {"type": "text", "text": piece, "index": 0}
                key = ("content", piece.get("index"))
                if piece.get("type") == "text":
                    renderer.text_piece(key, piece)
                elif piece.get("type") == "reasoning":
                    renderer.reasoning_piece(key, piece)
                else:
                    block = {k: v for k, v in piece.items() if k != "index"}
                    renderer.whole_block(key, block, f"message.content[{piece.get('index')}]")
        for tool_piece in chunk.tool_call_chunks:
            renderer.tool_piece(dict(tool_piece))
    renderer.close()
    meta = message.response_metadata
    stop: dict[str, Any] = {"stopReason": stop_reason_for(message)}
    if meta.get("additional_model_response_fields") is not None:
        stop["additionalModelResponseFields"] = meta["additional_model_response_fields"]
    metrics = meta.get("metrics") if isinstance(meta.get("metrics"), dict) else {"latencyMs": 0}
    final: dict[str, Any] = {
        "usage": usage_to_wire(message.usage_metadata, meta),
        "metrics": metrics,
    }
    for wire, key in EXTRA_RESPONSE_FIELDS.items():
        if wire != "additionalModelResponseFields" and meta.get(key) is not None:
            final[wire] = meta[key]
    renderer.events += [{"messageStop": stop}, {"metadata": final}]
    return iter(renderer.events)


def render_stream_error(error: ProviderError) -> dict[str, Any]:
    """The exception event for a failure after the stream began: ``{"throttlingException":
    {"message": ...}}``. Nothing follows it on the wire."""
    _, kind = wire_error_type(error)
    return {kind[:1].lower() + kind[1:]: {"message": error.message}}


def encode_stream_event(event: dict[str, Any]) -> bytes:
    """One event (``{"contentBlockDelta": {...}}``) as its binary event-stream frame.

    Exception events (``throttlingException``...) become ``exception`` messages.
    """
    if not isinstance(event, dict) or len(event) != 1:
        raise UserError(f"a ConverseStream event is a one-key dict, got {excerpt(event)}")
    kind, payload = next(iter(event.items()))
    if _is_exception(kind):
        return encode_exception(kind, payload)
    return encode_event(kind, payload)
