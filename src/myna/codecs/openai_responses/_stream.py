"""Streaming for the OpenAI Responses codec: SSE events in (client) and out (server).

Stream events are the parsed ``data:`` payloads; each carries its ``type`` (also the SSE
``event:`` name). A stream ends with ``response.completed`` or ``response.incomplete``;
``response.failed`` and ``error`` events raise the matching `ProviderError`.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any

from ...exceptions import DecodeError, MynaError, StreamInterruptedError
from ...messages import AIMessage, AIMessageChunk, split_message, tool_call_chunk
from .._stream_driver import PushDecoder
from .._stream_driver import adecode_stream as adrive
from .._stream_driver import decode_stream as drive
from ._client import in_stream_error, response_metadata
from ._items import Decoded, Plan, decode_item, reasoning_blocks
from ._shared import (
    FUNCTION_CALL_IDS,
    PROTOCOL,
    annotation_from_citation,
    citation_from_annotation,
    excerpt,
    expect,
    usage_from_wire,
)

__all__ = ["StreamDecoder", "adecode_stream", "decode_stream", "render_stream"]

_TERMINAL = ("response.completed", "response.incomplete")
_STARTED = ("response.created", "response.in_progress", "response.queued")


class StreamDecoder(PushDecoder):
    """State of one stream: which block and tool-call index each output part maps to."""

    PROTOCOL = PROTOCOL

    def __init__(self) -> None:
        super().__init__()
        self.resp_id: str | None = None
        self.blocks: dict[tuple[Any, ...], int] = {}
        self.tools: dict[int, int] = {}
        self.tool_items: dict[Any, int] = {}
        self.tool_args: dict[int, bool] = {}
        self.kinds: dict[int, str] = {}
        self.item_ids: dict[int, Any] = {}
        self.phases: dict[int, Any] = {}
        self.streamed: set[int] = set()
        self.logprob_parts: set[tuple[int, int]] = set()
        self.has_tool_calls = False
        self.refusal: str | None = None
        """All refusal text so far: sent whole each time, as later metadata values win."""
        self.emitted = False

    # -- helpers -------------------------------------------------------------------------------

    def chunk(self, **fields: Any) -> AIMessageChunk:
        fields.setdefault("content", "")
        if fields.get("content") or fields.get("tool_call_chunks"):
            self.emitted = True
        return AIMessageChunk(id=self.resp_id, **fields)

    def block(self, key: tuple[Any, ...], base: dict[str, Any]) -> dict[str, Any]:
        """The block piece for `key`; the first piece of a block also carries `base`."""
        index = self.blocks.get(key)
        if index is None:
            index = self.blocks[key] = len(self.blocks)
            return {**base, "index": index}
        return {"type": base["type"], "index": index}

    def text_base(self, oi: int) -> dict[str, Any]:
        base: dict[str, Any] = {"type": "text", "text": ""}
        if self.item_ids.get(oi) is not None:
            base["id"] = self.item_ids[oi]
        if self.phases.get(oi) is not None:
            base["extras"] = {"phase": self.phases[oi]}
        return base

    def reasoning_base(self, oi: int, raw: bool = False) -> dict[str, Any]:
        base: dict[str, Any] = {"type": "reasoning"}
        if self.item_ids.get(oi) is not None:
            base["id"] = self.item_ids[oi]
        if raw:
            base["extras"] = {"kind": "reasoning_text"}
        return base

    def whole_blocks(self, oi: int, blocks: list[dict[str, Any]]) -> list[AIMessageChunk]:
        out = []
        for j, block in enumerate(blocks):
            out.append(self.chunk(content=[self.block((oi, "whole", j), block)]))
        return out

    def tool_chunk(self, oi: int, item: dict[str, Any], where: str) -> list[AIMessageChunk]:
        name = expect(item.get("name"), str, f"{where}.name")
        args = expect(item.get("arguments") or "", str, f"{where}.arguments")
        call_id = item.get("call_id")
        if call_id is not None:
            expect(call_id, str, f"{where}.call_id")
        index = self.tools[oi] = len(self.tool_args)
        self.tool_args[index] = bool(args)
        self.has_tool_calls = True
        extra: dict[str, Any] = {}
        if isinstance(item.get("id"), str):
            self.tool_items[item["id"]] = index
            if call_id is not None:
                extra[FUNCTION_CALL_IDS] = {call_id: item["id"]}
        tc = tool_call_chunk(name=name, args=args, id=call_id, index=index)
        return [self.chunk(tool_call_chunks=[tc], additional_kwargs=extra)]

    # -- events --------------------------------------------------------------------------------

    def _feed(self, index: int, event: Any) -> list[AIMessageChunk]:
        where = f"stream event {index}"
        if event == "[DONE]":
            raise self._ended_early()
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise DecodeError(
                f"{where} is not a Responses API event (a JSON object with a 'type'): "
                f"{excerpt(event)}"
            )
        try:
            return self.handle(event, where)
        except MynaError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise DecodeError(f"{where} ({event['type']}) is malformed: {excerpt(event)}") from exc

    def _close(self) -> list[AIMessageChunk]:
        raise self._ended_early()

    def _ended_early(self) -> StreamInterruptedError:
        return self.interrupted(
            "The Responses API stream ended before response.completed / response.incomplete "
            f"({len(self.chunks)} chunks received); the reply is incomplete."
        )

    def handle(self, event: dict[str, Any], where: str) -> list[AIMessageChunk]:
        kind = event["type"]
        if kind in _STARTED:
            response = expect(event.get("response"), dict, f"{where}.response")
            if isinstance(response.get("id"), str):
                self.resp_id = response["id"]
            return []
        if kind in _TERMINAL:
            return self.finish(expect(event.get("response"), dict, f"{where}.response"), where)
        if kind == "response.failed":
            response = expect(event.get("response"), dict, f"{where}.response")
            raise in_stream_error(response.get("error"), event)
        if kind == "error":
            raise in_stream_error(event.get("error", event), event)
        handler = _HANDLERS.get(kind)
        if handler is None:
            return []  # progress events of built-in tools, keep-alives, audio, ...
        oi = expect(event.get("output_index"), int, f"{where}.output_index")
        return handler(self, event, oi, where)

    def item_added(self, event: dict[str, Any], oi: int, where: str) -> list[AIMessageChunk]:
        item = expect(event.get("item"), dict, f"{where}.item")
        kind = expect(item.get("type"), str, f"{where}.item.type")
        self.kinds[oi] = kind
        self.item_ids[oi] = item.get("id")
        self.phases[oi] = item.get("phase")
        if kind == "reasoning":
            return [self.chunk(content=[self.block((oi, "summary", 0), self.reasoning_base(oi))])]
        if kind == "function_call":
            return self.tool_chunk(oi, item, f"{where}.item")
        return []

    def part_added(self, event: dict[str, Any], oi: int, where: str) -> list[AIMessageChunk]:
        ci = expect(event.get("content_index"), int, f"{where}.content_index")
        part = expect(event.get("part"), dict, f"{where}.part")
        if part.get("type") == "output_text" and (oi, "text", ci) not in self.blocks:
            self.streamed.add(oi)
            return [self.chunk(content=[self.block((oi, "text", ci), self.text_base(oi))])]
        return []

    def text_delta(self, event: dict[str, Any], oi: int, where: str) -> list[AIMessageChunk]:
        ci = expect(event.get("content_index"), int, f"{where}.content_index")
        delta = expect(event.get("delta"), str, f"{where}.delta")
        self.streamed.add(oi)
        piece = self.block((oi, "text", ci), self.text_base(oi))
        piece["text"] = delta
        meta = {}
        logprobs = event.get("logprobs")
        if logprobs:
            meta["logprobs"] = expect(logprobs, list, f"{where}.logprobs")
            self.logprob_parts.add((oi, ci))
        return [self.chunk(content=[piece], response_metadata=meta)]

    def text_done(self, event: dict[str, Any], oi: int, where: str) -> list[AIMessageChunk]:
        ci = expect(event.get("content_index"), int, f"{where}.content_index")
        logprobs = event.get("logprobs")
        if not logprobs or (oi, ci) in self.logprob_parts:
            return []  # the deltas carried them already
        self.logprob_parts.add((oi, ci))
        logprobs = expect(logprobs, list, f"{where}.logprobs")
        return [self.chunk(response_metadata={"logprobs": logprobs})]

    def annotation(self, event: dict[str, Any], oi: int, where: str) -> list[AIMessageChunk]:
        ci = expect(event.get("content_index"), int, f"{where}.content_index")
        citation = citation_from_annotation(event.get("annotation"), f"{where}.annotation")
        piece = self.block((oi, "text", ci), self.text_base(oi))
        piece["annotations"] = [citation]
        return [self.chunk(content=[piece])]

    def refusal_done(self, event: dict[str, Any], oi: int, where: str) -> list[AIMessageChunk]:
        ci = expect(event.get("content_index"), int, f"{where}.content_index")
        text = expect(event.get("refusal"), str, f"{where}.refusal")
        self.streamed.add(oi)
        self.refusal = (self.refusal or "") + text
        base: dict[str, Any] = {
            "type": "non_standard",
            "value": {"type": "refusal", "refusal": text},
        }
        if self.item_ids.get(oi) is not None:
            base["id"] = self.item_ids[oi]
        if self.phases.get(oi) is not None:
            base["extras"] = {"phase": self.phases[oi]}
        piece = self.block((oi, "refusal", ci), base)
        extra = {"refusal": self.refusal}
        return [self.chunk(content=[{**base, **piece}], additional_kwargs=extra)]

    def summary_added(self, event: dict[str, Any], oi: int, where: str) -> list[AIMessageChunk]:
        si = expect(event.get("summary_index"), int, f"{where}.summary_index")
        self.streamed.add(oi)
        piece = self.block((oi, "summary", si), self.reasoning_base(oi))
        piece["reasoning"] = ""
        return [self.chunk(content=[piece])]

    def summary_delta(self, event: dict[str, Any], oi: int, where: str) -> list[AIMessageChunk]:
        si = expect(event.get("summary_index"), int, f"{where}.summary_index")
        delta = expect(event.get("delta"), str, f"{where}.delta")
        self.streamed.add(oi)
        piece = self.block((oi, "summary", si), self.reasoning_base(oi))
        piece["reasoning"] = delta
        return [self.chunk(content=[piece])]

    def raw_reasoning(self, event: dict[str, Any], oi: int, where: str) -> list[AIMessageChunk]:
        ci = expect(event.get("content_index"), int, f"{where}.content_index")
        delta = expect(event.get("delta"), str, f"{where}.delta")
        self.streamed.add(oi)
        piece = self.block((oi, "raw", ci), self.reasoning_base(oi, raw=True))
        piece["reasoning"] = delta
        return [self.chunk(content=[piece])]

    def _tool_index(self, event: dict[str, Any], oi: int, where: str) -> int:
        index = self.tools.get(oi, self.tool_items.get(event.get("item_id")))
        if index is None:
            raise DecodeError(
                f"{where} streams arguments for output_index {oi}, which no "
                f"response.output_item.added announced as a function call: {excerpt(event)}"
            )
        return index

    def args_delta(self, event: dict[str, Any], oi: int, where: str) -> list[AIMessageChunk]:
        delta = expect(event.get("delta"), str, f"{where}.delta")
        index = self._tool_index(event, oi, where)
        if not delta:
            return []
        self.tool_args[index] = True
        return [self.chunk(tool_call_chunks=[tool_call_chunk(args=delta, index=index)])]

    def args_done(self, event: dict[str, Any], oi: int, where: str) -> list[AIMessageChunk]:
        args = expect(event.get("arguments", ""), str, f"{where}.arguments")
        index = self._tool_index(event, oi, where)
        if self.tool_args[index] or not args:
            return []
        self.tool_args[index] = True  # the server sent no deltas: take the whole arguments
        return [self.chunk(tool_call_chunks=[tool_call_chunk(args=args, index=index)])]

    def item_done(self, event: dict[str, Any], oi: int, where: str) -> list[AIMessageChunk]:
        item = expect(event.get("item"), dict, f"{where}.item")
        kind = expect(item.get("type"), str, f"{where}.item.type")
        if kind == "function_call":
            if oi not in self.tools:
                return self.tool_chunk(oi, item, f"{where}.item")
            return self.args_done({"arguments": item.get("arguments", "")}, oi, where)
        if kind == "reasoning" and self.kinds.get(oi) == "reasoning" and oi in self.streamed:
            encrypted = item.get("encrypted_content")
            if not encrypted:
                return []
            # the encrypted content of output_item.added may be incomplete; done has it whole
            piece = self.block((oi, "summary", 0), self.reasoning_base(oi))
            piece["extras"] = {"encrypted_content": expect(encrypted, str, f"{where}.item")}
            return [self.chunk(content=[piece])]
        if kind == "reasoning":
            out = []
            self.item_ids.setdefault(oi, item.get("id"))
            blocks = reasoning_blocks(item, f"{where}.item")
            summary = raw = 0
            for block in blocks:
                if (block.get("extras") or {}).get("kind") == "reasoning_text":
                    key, raw = (oi, "raw", raw), raw + 1
                else:
                    key, summary = (oi, "summary", summary), summary + 1
                piece = self.block(key, {"type": "reasoning"})
                out.append(self.chunk(content=[{**block, **piece}]))
            return out
        if kind == "message" and oi in self.streamed:
            return []
        decoded = Decoded()
        decode_item(item, f"{where}.item", decoded)
        out = self.whole_blocks(oi, decoded.blocks)
        if decoded.refusal is not None:
            self.refusal = (self.refusal or "") + decoded.refusal
            out.append(self.chunk(additional_kwargs={"refusal": self.refusal}))
        if decoded.logprobs:
            out.append(self.chunk(response_metadata={"logprobs": decoded.logprobs}))
        return out

    def finish(self, response: dict[str, Any], where: str) -> list[AIMessageChunk]:
        self.done = True
        if isinstance(response.get("id"), str):
            self.resp_id = response["id"]
        out: list[AIMessageChunk] = []
        output = response.get("output")
        if not self.emitted and isinstance(output, list) and output:
            # a server that sent no item events: the final response holds everything
            for oi, item in enumerate(output):
                out.extend(self.item_done({"item": item}, oi, f"{where}.response.output[{oi}]"))
        usage = usage_from_wire(response.get("usage"), f"{where}.response.usage")
        refusal = self.refusal is not None
        meta = response_metadata(response, tool_calls=self.has_tool_calls, refusal=refusal)
        content: Any = [] if self.blocks else ""
        out.append(
            self.chunk(
                content=content, usage_metadata=usage, response_metadata=meta, chunk_position="last"
            )
        )
        return out


_HANDLERS = {
    "response.output_item.added": StreamDecoder.item_added,
    "response.content_part.added": StreamDecoder.part_added,
    "response.output_text.delta": StreamDecoder.text_delta,
    "response.output_text.done": StreamDecoder.text_done,
    "response.output_text.annotation.added": StreamDecoder.annotation,
    "response.refusal.done": StreamDecoder.refusal_done,
    "response.reasoning_summary_part.added": StreamDecoder.summary_added,
    "response.reasoning_summary_text.delta": StreamDecoder.summary_delta,
    "response.reasoning_text.delta": StreamDecoder.raw_reasoning,
    "response.function_call_arguments.delta": StreamDecoder.args_delta,
    "response.function_call_arguments.done": StreamDecoder.args_done,
    "response.output_item.done": StreamDecoder.item_done,
}


def adecode_stream(events: AsyncIterable[Any]) -> AsyncIterator[AIMessageChunk]:
    """`decode_stream` for an async iterable of events, decoded on the event loop."""
    return adrive(StreamDecoder(), events)


def decode_stream(events: Iterable[Any]) -> Iterator[AIMessageChunk]:
    """`AIMessageChunk` s from Responses API stream events, as they arrive.

    Text, reasoning summaries and function-call arguments stream as deltas (blocks keep their
    place through ``index``); encrypted reasoning, built-in tool calls and generated images
    arrive with ``response.output_item.done``; the last chunk carries usage, the finish reason
    and ``chunk_position="last"``.

    Raises:
        DecodeError: a malformed event (names its index and shows an excerpt).
        ProviderError: a ``response.failed`` or ``error`` event.
        StreamInterruptedError: the events ended before ``response.completed`` /
            ``response.incomplete``; ``partial`` holds what arrived.
    """
    return drive(StreamDecoder(), events)


# ---------------------------------------------------------------------------------------------
# rendering


class _Renderer:
    """Turns `split_message` chunks into the event sequence the API sends."""

    def __init__(self, response: dict[str, Any], plan: Plan) -> None:
        self.response = response
        self.plan = plan
        self.events: list[dict[str, Any]] = []
        self.open_item: int | None = None
        self.open_part: tuple[str, int] | None = None
        self.texts: dict[tuple[int, str, int], str] = {}
        self.args: dict[int, str] = {}
        self.done: set[int] = set()
        self.logprobs_sent: set[tuple[int, int]] = set()

    def emit(self, kind: str, **fields: Any) -> None:
        self.events.append({"type": kind, **fields, "sequence_number": len(self.events)})

    def _ids(self, oi: int) -> dict[str, Any]:
        return {"item_id": self.plan.items[oi].wire.get("id"), "output_index": oi}

    def open(self, oi: int) -> None:
        if self.open_item == oi or oi in self.done:
            return
        self.close_item()
        planned = self.plan.items[oi]
        wire = planned.wire
        if planned.kind == "whole":
            added = {k: v for k, v in wire.items() if k != "result"}
            if "status" in added:
                added["status"] = "in_progress"
            self.emit("response.output_item.added", output_index=oi, item=added)
            self.emit("response.output_item.done", output_index=oi, item=wire)
            self.done.add(oi)
            return
        if planned.kind == "message":
            skeleton = {**wire, "status": "in_progress", "content": []}
        elif planned.kind == "reasoning":
            skeleton = {"id": wire.get("id"), "type": "reasoning", "summary": []}
        else:
            skeleton = {**wire, "status": "in_progress", "arguments": ""}
            self.args[oi] = ""
        self.emit("response.output_item.added", output_index=oi, item=skeleton)
        self.open_item = oi

    def open_part_of(self, oi: int, kind: str, index: int) -> None:
        if self.open_part == (kind, index):
            return
        self.close_part()
        ids = self._ids(oi)
        if kind == "text":
            part = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
            self.emit("response.content_part.added", **ids, content_index=index, part=part)
        elif kind == "summary":
            part = {"type": "summary_text", "text": ""}
            self.emit(
                "response.reasoning_summary_part.added", **ids, summary_index=index, part=part
            )
        elif kind == "content":
            part = {"type": "reasoning_text", "text": ""}
            self.emit("response.content_part.added", **ids, content_index=index, part=part)
        self.open_part = (kind, index)
        self.texts[(oi, kind, index)] = ""

    def close_part(self) -> None:
        if self.open_part is None or self.open_item is None:
            return
        oi, (kind, index) = self.open_item, self.open_part
        text = self.texts.get((oi, kind, index), "")
        ids = self._ids(oi)
        if kind == "text":
            part = self.plan.items[oi].wire["content"][index]
            lp = part.get("logprobs", [])
            self.emit(
                "response.output_text.done", **ids, content_index=index, text=text, logprobs=lp
            )
            self.emit("response.content_part.done", **ids, content_index=index, part=part)
        elif kind == "summary":
            part = {"type": "summary_text", "text": text}
            self.emit("response.reasoning_summary_text.done", **ids, summary_index=index, text=text)
            self.emit("response.reasoning_summary_part.done", **ids, summary_index=index, part=part)
        elif kind == "content":
            part = {"type": "reasoning_text", "text": text}
            self.emit("response.reasoning_text.done", **ids, content_index=index, text=text)
            self.emit("response.content_part.done", **ids, content_index=index, part=part)
        self.open_part = None

    def close_item(self) -> None:
        if self.open_item is None:
            return
        self.close_part()
        oi = self.open_item
        planned = self.plan.items[oi]
        wire = planned.wire
        if planned.kind == "function_call":
            args = self.args.get(oi) or wire.get("arguments", "")
            wire = {**wire, "arguments": args}
            self.emit("response.function_call_arguments.done", **self._ids(oi), arguments=args)
        self.emit("response.output_item.done", output_index=oi, item=wire)
        self.done.add(oi)
        self.open_item = None

    def piece(self, position: int, block: dict[str, Any]) -> None:
        oi = self.plan.by_position.get(position)
        if oi is None:
            return  # e.g. a tool_call block: the tool calls render from message.tool_calls
        self.open(oi)
        if oi in self.done:
            return
        kind, index = self.plan.items[oi].parts.get(position, ("holder", 0))
        ids = self._ids(oi)
        if kind == "refusal":
            self.close_part()
            text = block.get("value", {}).get("refusal", "")
            empty = {"type": "refusal", "refusal": ""}
            self.emit("response.content_part.added", **ids, content_index=index, part=empty)
            self.emit("response.refusal.delta", **ids, content_index=index, delta=text)
            self.emit("response.refusal.done", **ids, content_index=index, refusal=text)
            part = {"type": "refusal", "refusal": text}
            self.emit("response.content_part.done", **ids, content_index=index, part=part)
            return
        if kind == "holder":
            return
        self.open_part_of(oi, kind, index)
        delta = block.get("text" if kind == "text" else "reasoning") or ""
        if delta:
            self.texts[(oi, kind, index)] += delta
            if kind == "text":
                lp = []
                if (oi, index) not in self.logprobs_sent:
                    # the part's logprobs ride on its first delta (its done event repeats them)
                    self.logprobs_sent.add((oi, index))
                    lp = self.plan.items[oi].wire["content"][index].get("logprobs") or []
                self.emit(
                    "response.output_text.delta",
                    **ids,
                    content_index=index,
                    delta=delta,
                    logprobs=lp,
                )
            elif kind == "summary":
                self.emit(
                    "response.reasoning_summary_text.delta", **ids, summary_index=index, delta=delta
                )
            else:
                self.emit("response.reasoning_text.delta", **ids, content_index=index, delta=delta)
        for j, ann in enumerate(block.get("annotations") or []):
            self.emit(
                "response.output_text.annotation.added",
                **ids,
                content_index=index,
                annotation_index=j,
                annotation=annotation_from_citation(ann),
            )

    def tool_piece(self, tc: dict[str, Any]) -> None:
        oi = self.plan.by_tool.get(tc.get("index"))  # type: ignore[arg-type]
        if oi is None:
            return
        self.open(oi)
        if tc.get("args"):
            self.args[oi] = self.args.get(oi, "") + tc["args"]
            self.emit("response.function_call_arguments.delta", **self._ids(oi), delta=tc["args"])


def render_stream(
    message: AIMessage, params: dict[str, Any] | None = None, *, chunking: Any = "words"
) -> Iterator[dict[str, Any]]:
    """The SSE event payloads the API streams for `message`.

    Built on `myna.messages.split_message`: each chunk becomes the matching delta events,
    wrapped in the item and part open / done events, between ``response.created`` and
    ``response.completed`` (``response.incomplete`` for a cut-off reply). The SSE ``event:``
    name of each payload is its ``type``.
    """
    from ._server import render_with_plan

    response, plan = render_with_plan(message, params)
    renderer = _Renderer(response, plan)
    skeleton = {
        **response,
        "status": "in_progress",
        "completed_at": None,
        "incomplete_details": None,
        "output": [],
        "usage": None,
    }
    renderer.emit("response.created", response=skeleton)
    renderer.emit("response.in_progress", response=skeleton)
    for chunk in split_message(message, chunking):
        content = chunk.content
        if isinstance(content, str):
            if content:
                renderer.piece(0, {"type": "text", "text": content})
        else:
            for block in content:
                if isinstance(block, dict) and isinstance(block.get("index"), int):
                    renderer.piece(block["index"], block)
        for tc in chunk.tool_call_chunks:
            renderer.tool_piece(tc)  # type: ignore[arg-type]
    renderer.close_item()
    terminal = "response.incomplete" if response["status"] == "incomplete" else "response.completed"
    renderer.emit(terminal, response=response)
    yield from renderer.events
