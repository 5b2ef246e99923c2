"""Chat Completions streams: the push decoder (client side), `render_stream` and
`render_stream_error` (server side).

`StreamDecoder` is a small state machine so the same logic serves a sync iterator
(`decode_stream`) and an async one (`adecode_stream`).

What a stream may hold, across the dialects (wire-formats.md sections 1.6 and 6):

- ``delta.content`` text; ``delta.reasoning_content`` (DeepSeek, older vLLM) or
  ``delta.reasoning`` (+ ``reasoning_details``; Groq, OpenRouter, Ollama) reasoning;
  ``delta.refusal``; ``delta.audio`` pieces; ``delta.tool_calls`` fragments keyed by index;
- usage on a trailing ``choices: []`` chunk (OpenAI with ``include_usage``), on the finish chunk
  (DeepSeek), in ``x_groq.usage`` (Groq), or next to an error (OpenRouter);
- an in-stream error: a chunk with a top-level ``error`` object (OpenRouter inside a 200, Groq
  after ``event: error``);
- ``data: [DONE]`` at the end. A stream without it was cut off.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any

from ...exceptions import DecodeError, ProviderError
from ...messages import (
    AIMessage,
    AIMessageChunk,
    Chunking,
    split_message,
    split_text,
    tool_call_chunk,
)
from .._stream_driver import PushDecoder
from .._stream_driver import adecode_stream as adrive
from .._stream_driver import decode_stream as drive
from ._convert import citation, encode_assistant, encode_audio, wire_annotation
from ._server import error_object, error_shape, reply_head, wire_finish
from ._shared import (
    DEFAULT_REASONING_FIELD,
    META_KEYS,
    PROTOCOL,
    PROVIDER,
    REASONING_FIELDS,
    Malformed,
    build_error,
    decode_part,
    excerpt,
    expect,
    normalise_finish,
    sniff_mime,
    stream_error_status,
    type_phrase,
    usage_from_wire,
    usage_to_wire,
)

__all__ = [
    "StreamDecoder",
    "adecode_stream",
    "decode_stream",
    "render_stream",
    "render_stream_error",
]


class StreamDecoder(PushDecoder):
    """Feed Chat Completions stream events in order; get `AIMessageChunk`s back.

    ```python
    decoder = StreamDecoder()
    for event in events:            # parsed SSE data; "[DONE]" as a string
        for chunk in decoder.feed(event):
            ...
    decoder.close()                 # raises StreamInterruptedError if [DONE] never came
    ```
    """

    PROTOCOL = PROTOCOL

    def __init__(self) -> None:
        super().__init__()
        self._blocks: dict[str, int] = {}
        self._list_mode = False
        self._message_id: str | None = None
        self._meta: dict[str, Any] = {}
        self._finish: str | None = None
        self._native_finish: str | None = None
        self._usage: Any = None
        self._usage_raw: dict[str, Any] | None = None
        self._refusal: list[str] = []
        self._audio: dict[str, Any] | None = None
        self._reasoning_field: str | None = None
        self._tool_count = 0
        self._tool_ids: dict[int, str] = {}
        self._by_wire_index: dict[int, int] = {}
        self._by_id: dict[str, int] = {}
        self._last_tool: int | None = None
        self._custom: dict[Any, dict[str, Any]] = {}

    def _feed(self, index: int, event: Any) -> list[AIMessageChunk]:
        try:
            return self._event(event)
        except Malformed as exc:
            raise DecodeError(
                f"Malformed {PROTOCOL} stream event {index}: {exc.where}: {exc.problem}. "
                f"Event: {excerpt(event)}"
            ) from None

    def _close(self) -> list[AIMessageChunk]:
        raise self.interrupted(
            f"The {PROTOCOL} stream ended after {self.events} event(s) without "
            "'data: [DONE]'; the reply is incomplete. The connection was probably cut; "
            "retry the request (the partial reply is on the error's .partial)."
        )

    # -- one event ---------------------------------------------------------------------------

    def _chunk(self, **fields: Any) -> AIMessageChunk:
        return AIMessageChunk(id=self._message_id, **fields)

    def _block_index(self, kind: str) -> int:
        if kind not in self._blocks:
            self._blocks[kind] = len(self._blocks)
        return self._blocks[kind]

    def _event(self, event: Any) -> list[AIMessageChunk]:
        if isinstance(event, (bytes, bytearray)):
            event = event.decode("utf-8", "replace")
        if isinstance(event, str):
            text = event.strip()
            if text == "[DONE]":
                self.done = True
                return [self._final()]
            try:
                event = json.loads(text)
            except ValueError:
                raise Malformed("data", "is neither JSON nor [DONE]", text) from None
        if not isinstance(event, dict):
            raise Malformed("event", f"expected an object, got {type_phrase(event)}", event)
        if event.get("error") is not None:
            raise self._error(event)
        self._collect_meta(event)
        choices = expect(event.get("choices"), list, "choices") or []
        out: list[AIMessageChunk] = []
        for i, choice in enumerate(choices):
            where = f"choices[{i}]"
            expect(choice, dict, where, optional=False)
            if choice.get("index", 0) != 0:
                continue  # n > 1: only the first choice becomes the message
            delta = expect(choice.get("delta"), dict, f"{where}.delta") or {}
            out.extend(self._delta(delta, f"{where}.delta"))
            logprobs = expect(choice.get("logprobs"), dict, f"{where}.logprobs")
            if logprobs:
                kept = {
                    k: expect(v, list, f"{where}.logprobs.{k}")
                    for k, v in logprobs.items()
                    if v is not None
                }
                if kept:
                    out.append(self._chunk(response_metadata={"logprobs": kept}))
            finish = expect(choice.get("finish_reason"), str, f"{where}.finish_reason")
            if finish:
                self._finish = finish
            native = choice.get("native_finish_reason")
            if isinstance(native, str):
                self._native_finish = native
            if choice.get("content_filter_results"):
                self._meta["content_filter_results"] = choice["content_filter_results"]
        return out

    def _error(self, event: dict[str, Any]) -> Exception:
        error = event["error"]
        if isinstance(error, str):
            error = {"message": error}
        expect(error, dict, "error", optional=False)
        return build_error(stream_error_status(error), {"error": error}, in_stream=True)

    def _collect_meta(self, event: dict[str, Any]) -> None:
        message_id = expect(event.get("id"), str, "id")
        if self._message_id is None and message_id:
            self._message_id = message_id
        if event.get("model") is not None:
            self._meta["model_name"] = expect(event["model"], str, "model")
        for key in META_KEYS:
            if event.get(key) is not None:
                self._meta[key] = event[key]
        x_groq = expect(event.get("x_groq"), dict, "x_groq")
        if x_groq:
            self._meta["x_groq"] = {**self._meta.get("x_groq", {}), **x_groq}
        usage = event.get("usage")
        where = "usage"
        if usage is None and x_groq and x_groq.get("usage") is not None:
            usage, where = x_groq["usage"], "x_groq.usage"
        if usage is not None:
            # the last usage wins: some servers repeat a running total on every chunk
            self._usage = usage_from_wire(usage, where)
            self._usage_raw = usage

    def _delta(self, delta: dict[str, Any], where: str) -> list[AIMessageChunk]:
        out: list[AIMessageChunk] = []
        reasoning, field = "", None
        for name in REASONING_FIELDS:
            value = expect(delta.get(name), str, f"{where}.{name}")
            if value:
                reasoning, field = value, name
                break
        details = expect(delta.get("reasoning_details"), list, f"{where}.reasoning_details")
        if reasoning or details:
            self._list_mode = True
            field = field or self._reasoning_field or "reasoning"
            self._reasoning_field = field
            extras: dict[str, Any] = {"field": field}
            if details:
                extras["reasoning_details"] = details
            block = {
                "type": "reasoning",
                "reasoning": reasoning,
                "index": self._block_index("reasoning"),
                "extras": extras,
            }
            out.append(self._chunk(content=[block]))

        content = expect(delta.get("content"), (str, list), f"{where}.content")
        if isinstance(content, list):
            content = "".join(
                decode_part(p, f"{where}.content[{j}]").get("text", "")
                for j, p in enumerate(content)
            )
        annotations = expect(delta.get("annotations"), list, f"{where}.annotations")
        if content or annotations:
            if self._list_mode or annotations:
                self._list_mode = True
                block = {"type": "text", "text": content or "", "index": self._block_index("text")}
                if annotations:
                    block["annotations"] = [citation(a) for a in annotations]
                out.append(self._chunk(content=[block]))
            else:
                out.append(self._chunk(content=content))

        refusal = expect(delta.get("refusal"), str, f"{where}.refusal")
        if refusal:
            self._refusal.append(refusal)
        audio = expect(delta.get("audio"), dict, f"{where}.audio")
        if audio:
            self._buffer_audio(audio, f"{where}.audio")
        calls = expect(delta.get("tool_calls"), list, f"{where}.tool_calls")
        if calls:
            pieces = self._tool_chunks(calls, f"{where}.tool_calls")
            if pieces:
                out.append(self._chunk(tool_call_chunks=pieces))
        return out

    def _buffer_audio(self, audio: dict[str, Any], where: str) -> None:
        # base64 and transcript pieces concatenate, which block merging does not do for
        # "base64", so audio is gathered here and sent whole on the last chunk
        state = self._audio or {"data": [], "transcript": []}
        for key in ("data", "transcript"):
            piece = expect(audio.get(key), str, f"{where}.{key}")
            if piece:
                state[key].append(piece)
        for key in ("id", "expires_at"):
            if audio.get(key) is not None:
                state[key] = audio[key]
        self._audio = state

    def _tool_chunks(self, calls: list[Any], where: str) -> list[Any]:
        chunks = []
        for j, call in enumerate(calls):
            here = f"{where}[{j}]"
            expect(call, dict, here, optional=False)
            wire_index = expect(call.get("index"), int, f"{here}.index")
            call_id = expect(call.get("id"), str, f"{here}.id")
            if call.get("type") == "custom" or "custom" in call:
                self._buffer_custom(call, wire_index, call_id, here)
                continue
            fn = expect(call.get("function"), dict, f"{here}.function") or {}
            name = expect(fn.get("name"), str, f"{here}.function.name")
            args = fn.get("arguments")
            if isinstance(args, dict):
                args = json.dumps(args)
            expect(args, str, f"{here}.function.arguments")
            index = self._tool_index(wire_index, call_id)
            chunks.append(tool_call_chunk(name=name, args=args, id=call_id, index=index))
        return chunks

    def _buffer_custom(
        self, call: dict[str, Any], wire_index: int | None, call_id: str | None, where: str
    ) -> None:
        # a free-form (custom) tool call has no standard slot: gathered here, sent whole on
        # the last chunk as a non_standard block, the way decode_response keeps it
        custom = expect(call.get("custom"), dict, f"{where}.custom") or {}
        key = wire_index if wire_index is not None else call_id
        state = self._custom.setdefault(key, {"type": "custom", "custom": {}})
        if call_id:
            state.setdefault("id", call_id)
        if custom.get("name") is not None:
            state["custom"]["name"] = expect(custom["name"], str, f"{where}.custom.name")
        piece = expect(custom.get("input"), str, f"{where}.custom.input")
        if piece:
            state["custom"]["input"] = state["custom"].get("input", "") + piece

    def _tool_index(self, wire_index: int | None, call_id: str | None) -> int:
        """Our index for a fragment; fragments of one call share it (wire-formats.md 6)."""
        index: int | None = None
        if wire_index is not None:
            index = self._by_wire_index.get(wire_index)
            known = self._tool_ids.get(index) if index is not None else None
            if index is not None and call_id and known and known != call_id:
                index = None  # the server reused an index for a new call
        elif call_id and call_id in self._by_id:
            index = self._by_id[call_id]
        elif not call_id:
            index = self._last_tool
        if index is None:
            index = self._tool_count
            self._tool_count += 1
            if wire_index is not None:
                self._by_wire_index[wire_index] = index
        if call_id and index not in self._tool_ids:
            self._tool_ids[index] = call_id
            self._by_id[call_id] = index
        self._last_tool = index
        return index

    def _final(self) -> AIMessageChunk:
        content: list[dict[str, Any]] = []
        if self._audio is not None:
            block: dict[str, Any] = {"type": "audio", "index": self._block_index("audio")}
            if self._audio.get("id") is not None:
                block["id"] = self._audio["id"]
            data = "".join(self._audio["data"])
            if data:
                block["base64"] = data
                mime = sniff_mime(data)
                if mime:
                    block["mime_type"] = mime
            extras: dict[str, Any] = {}
            if self._audio["transcript"]:
                extras["transcript"] = "".join(self._audio["transcript"])
            if self._audio.get("expires_at") is not None:
                extras["expires_at"] = self._audio["expires_at"]
            if extras:
                block["extras"] = extras
            content.append(block)
        for key, value in self._custom.items():
            index = self._block_index(f"custom:{key}")
            content.append({"type": "non_standard", "value": value, "index": index})
        # servers that never send tool-call ids still need one for the ToolMessage reply
        missing = [
            tool_call_chunk(id=f"call_{i}", index=i)
            for i in range(self._tool_count)
            if i not in self._tool_ids
        ]
        metadata: dict[str, Any] = {"model_provider": PROVIDER, **self._meta}
        if self._message_id is not None:
            metadata["id"] = self._message_id
        refusal = "".join(self._refusal)
        finish = normalise_finish(self._finish, refused=bool(refusal))
        if finish is not None:
            metadata["finish_reason"] = finish
        native = self._native_finish or (self._finish if self._finish != finish else None)
        if native is not None:
            metadata["native_finish_reason"] = native
        if self._usage_raw is not None:
            metadata["token_usage"] = self._usage_raw
        fields: dict[str, Any] = {
            "content": content or "",
            "response_metadata": metadata,
            "usage_metadata": self._usage,
            "chunk_position": "last",
        }
        if missing:
            fields["tool_call_chunks"] = missing
        if refusal:
            fields["additional_kwargs"] = {"refusal": refusal}
        return self._chunk(**fields)


def decode_stream(events: Iterable[Any]) -> Iterator[AIMessageChunk]:
    """Chat Completions stream events -> `AIMessageChunk`s.

    Args:
        events: the SSE ``data`` payloads parsed as JSON, ``"[DONE]"`` kept as a string.

    Raises:
        DecodeError: an event is malformed; the message names the event index.
        ProviderError: the stream carried an error (OpenRouter error chunk, Groq
            ``event: error``); the class follows the error's status or type.
        StreamInterruptedError: the events ended before ``[DONE]``.
    """
    return drive(StreamDecoder(), events)


def adecode_stream(events: AsyncIterable[Any]) -> AsyncIterator[AIMessageChunk]:
    """`decode_stream` for an async iterable of events, decoded on the event loop."""
    return adrive(StreamDecoder(), events)


def _reasoning_field(message: AIMessage, index: Any) -> str:
    content = message.content
    if isinstance(content, list) and isinstance(index, int) and 0 <= index < len(content):
        block = content[index]
        if isinstance(block, dict):
            field = (block.get("extras") or {}).get("field")
            if field in REASONING_FIELDS:
                return field
    return DEFAULT_REASONING_FIELD


def _block_deltas(message: AIMessage, block: Any) -> list[dict[str, Any]]:
    if isinstance(block, str):
        return [{"content": block}] if block else []
    kind = block.get("type")
    if kind in ("text", "text-plain"):
        delta: dict[str, Any] = {"content": block.get("text", "")}
        if block.get("annotations"):
            delta["annotations"] = [wire_annotation(a) for a in block["annotations"]]
        return [delta]
    if kind == "reasoning":
        extras = block.get("extras") or {}
        field = _reasoning_field(message, block.get("index"))
        if "field" in extras and extras["field"] not in REASONING_FIELDS:
            return []  # reasoning from another protocol: no field for it here
        delta = {field: block.get("reasoning", "")}
        if extras.get("reasoning_details"):
            delta["reasoning_details"] = extras["reasoning_details"]
        return [delta]
    if kind == "audio":
        return [{"audio": encode_audio(block)}]
    if kind == "non_standard":
        # a custom (free-form) tool call, as decode_response keeps it; its index comes after
        # the function calls
        count = len(message.tool_calls) + len(message.invalid_tool_calls)
        return [{"tool_calls": [{"index": count + block.get("index", 0), **block["value"]}]}]
    return []  # tool calls stream from tool_call_chunks; the rest was refused up front


def _content_blocks(content: Any) -> list[Any]:
    return [content] if isinstance(content, str) else list(content)


def render_stream(
    message: AIMessage,
    params: dict[str, Any] | None = None,
    *,
    chunking: Chunking = "words",
) -> Iterator[Any]:
    """An `AIMessage` -> the ``chat.completion.chunk`` events of a real stream, then ``"[DONE]"``.

    Built on `myna.messages.split_message`, so decoding the events and merging the chunks
    gives the message back. A role chunk opens the stream; tool calls stream as argument
    fragments keyed by index; the finish chunk has an empty delta. Usage comes in a trailing
    ``choices: []`` chunk when the request asked for it (``params["stream_usage"]``), or
    whenever the message has usage and no request params are given.

    Raises:
        UserError: the message holds a block Chat Completions cannot return.
    """
    params = params or {}
    # refuse what the wire cannot carry before the first event goes out
    encode_assistant(message, "the reply", reply=True)
    chunks = split_message(message, chunking)
    head = reply_head(message, params, "chat.completion.chunk")
    usage = message.usage_metadata if params.get("stream_usage", not params) else None
    if params.get("stream_usage"):
        head["usage"] = None  # OpenAI marks every chunk before the usage chunk this way

    def event(delta: dict[str, Any], finish: str | None = None, logprobs: Any = None) -> dict:
        choice = {"index": 0, "delta": delta, "logprobs": logprobs, "finish_reason": finish}
        return {**head, "choices": [choice]}

    # OpenAI opens a text reply with content "" and a reply that starts with a tool call
    # with content null
    opens_with_call = bool(message.tool_calls or message.invalid_tool_calls) and not any(
        _block_deltas(message, block) for block in _content_blocks(message.content)
    )
    if opens_with_call:
        yield event({"role": "assistant", "content": None, "refusal": None})
    else:
        yield event({"role": "assistant", "content": "", "refusal": None})
    for chunk in chunks[:-1]:
        content = chunk.content
        for block in [content] if isinstance(content, str) else content:
            for delta in _block_deltas(message, block):
                yield event(delta)
        for piece in chunk.tool_call_chunks:
            call: dict[str, Any] = {"index": piece["index"]}
            if piece.get("id") is not None or piece.get("name") is not None:
                call["id"] = piece.get("id") or f"call_{piece['index']}"
                call["type"] = "function"
                call["function"] = {
                    "name": piece.get("name") or "",
                    "arguments": piece["args"] or "",
                }
            else:
                call["function"] = {"arguments": piece.get("args") or ""}
            yield event({"tool_calls": [call]})
    refusal = message.additional_kwargs.get("refusal")
    if isinstance(refusal, str):
        for piece in split_text(refusal, chunking):
            yield event({"refusal": piece})
    meta = message.response_metadata or {}
    yield event({}, wire_finish(message), meta.get("logprobs"))
    if usage is not None:
        yield {**head, "choices": [], "usage": usage_to_wire(usage, head["model"])}
    yield "[DONE]"


def render_stream_error(error: ProviderError) -> dict[str, Any]:
    """The event of an error inside a 200 stream (OpenRouter / Groq style): ``{"error": ...}``.

    `decode_stream` raises the matching `ProviderError` when it meets this event.
    """
    status, *_ = error_shape(error)
    obj = dict(error_object(error))
    obj.setdefault("status_code", error.status_code or status)
    return {"error": obj}
