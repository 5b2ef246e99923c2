"""Client side of the Anthropic Messages codec: requests out, replies and errors in."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from ...exceptions import DecodeError, ProviderError, StreamInterruptedError, UserError
from ...messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    coerce_messages,
    merge_chunks,
    standard_blocks,
    tool_call_chunk,
)
from ._shared import (
    DEFAULT_MAX_TOKENS,
    PROVIDER,
    Fail,
    assistant_block_to_standard,
    cache_control_of,
    cache_ttl_metadata,
    citation_to_annotation,
    decode_assistant_content,
    decode_failure,
    decode_usage,
    encode_assistant_content,
    error_from_payload,
    excerpt,
    server_tool_use_to_standard,
    stop_metadata,
    usage_minus,
    user_block_to_wire,
)

__all__ = ["decode_error", "decode_response", "decode_stream", "encode_request"]

_SERVER_TOOL_USES = ("server_tool_use", "mcp_tool_use")
# Params with a neutral meaning that the body never carries under their own name.
_DROPPED = ("seed", "stream_usage", "include_reasoning", "top_logprobs")


# ---------------------------------------------------------------------------- encode_request


def _with_cache_marker(content: Any, marker: Any) -> Any:
    """Put a message-level ``cache_control`` on the last block of its wire content."""
    if marker is None:
        return content
    blocks = [{"type": "text", "text": content}] if isinstance(content, str) else list(content)
    if blocks:
        blocks[-1] = {**blocks[-1], "cache_control": marker}
    return blocks


def _system_blocks(message: SystemMessage, where: str) -> list[dict[str, Any]]:
    out = []
    for j, block in enumerate(standard_blocks(message.content)):
        if block.get("type") != "text":
            raise UserError(
                f"{where}.content[{j}]: the Anthropic system prompt takes only text blocks, "
                f"got a {block.get('type')!r} block; put images and files in a HumanMessage."
            )
        wire: dict[str, Any] = {"type": "text", "text": block.get("text", "")}
        marker = cache_control_of(block)
        if marker is not None:
            wire["cache_control"] = marker
        out.append(wire)
    return _with_cache_marker(out, message.additional_kwargs.get("cache_control"))


def _user_content(message: BaseMessage, where: str) -> Any:
    if isinstance(message.content, str):
        content: Any = message.content
    else:
        content = [
            user_block_to_wire(block, f"{where}.content[{j}]")
            for j, block in enumerate(standard_blocks(message.content))
        ]
    return _with_cache_marker(content, message.additional_kwargs.get("cache_control"))


def _tool_result(message: ToolMessage, where: str) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": message.tool_call_id}
    if isinstance(message.content, str):
        block["content"] = message.content
    else:
        block["content"] = [
            user_block_to_wire(b, f"{where}.content[{j}]")
            for j, b in enumerate(standard_blocks(message.content))
        ]
    if message.status == "error":
        block["is_error"] = True
    marker = message.additional_kwargs.get("cache_control")
    if marker is not None:
        block["cache_control"] = marker
    return block


def _assistant_content(message: AIMessage, where: str) -> Any:
    marker = message.additional_kwargs.get("cache_control")
    if isinstance(message.content, str) and not (message.tool_calls or message.invalid_tool_calls):
        return _with_cache_marker(message.content, marker)
    return _with_cache_marker(encode_assistant_content(message, where, for_request=True), marker)


def _encode_messages(messages: list[BaseMessage]) -> tuple[Any, list[dict[str, Any]]]:
    system: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    results_turn: dict[str, Any] | None = None  # the user turn collecting tool results
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if isinstance(message, SystemMessage):
            if turns:
                raise UserError(
                    f"{where}: a SystemMessage after the conversation started. Anthropic "
                    "Messages has one top-level system prompt; put system messages first."
                )
            system += _system_blocks(message, where)
            continue
        if isinstance(message, ToolMessage):
            if results_turn is None:
                results_turn = {"role": "user", "content": []}
                turns.append(results_turn)
            results_turn["content"].append(_tool_result(message, where))
            continue
        results_turn = None
        if isinstance(message, AIMessage):
            turns.append({"role": "assistant", "content": _assistant_content(message, where)})
        elif isinstance(message, HumanMessage):
            turns.append({"role": "user", "content": _user_content(message, where)})
        else:
            raise UserError(f"{where}: cannot send a {type(message).__name__} to Anthropic.")
    if system and all(set(block) == {"type", "text"} for block in system):
        return "\n\n".join(block["text"] for block in system), turns
    return system or None, turns


def _tool_to_wire(tool: Any, where: str) -> dict[str, Any]:
    if not isinstance(tool, dict):
        raise UserError(
            f"{where} must be a dict: a ToolSpec {{'name', 'description', 'parameters'}} or an "
            "Anthropic tool; convert functions with myna.tools.convert_to_tool_spec."
        )
    if "input_schema" in tool or tool.get("type") not in (None, "function", "custom"):
        return dict(tool)  # already Anthropic-shaped, or a server tool such as web_search
    spec = tool["function"] if isinstance(tool.get("function"), dict) else tool
    if not isinstance(spec.get("name"), str):
        raise UserError(f"{where} has no string 'name': {excerpt(tool)}")
    out: dict[str, Any] = {"name": spec["name"]}
    if spec.get("description"):
        out["description"] = spec["description"]
    out["input_schema"] = spec.get("parameters") or {"type": "object", "properties": {}}
    if spec.get("strict") is not None:
        out["strict"] = spec["strict"]
    if tool.get("cache_control") is not None:
        out["cache_control"] = tool["cache_control"]
    return out


def _tool_choice(choice: Any, parallel: Any) -> dict[str, Any] | None:
    out: dict[str, Any] | None
    if choice is None:
        out = None
    elif choice in ("auto", "any", "none"):
        out = {"type": choice}
    elif choice == "required":
        out = {"type": "any"}
    elif isinstance(choice, str):
        out = {"type": "tool", "name": choice}
    elif isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        out = {"type": "tool", "name": choice["function"].get("name")}
    elif isinstance(choice, dict):
        out = dict(choice)
    else:
        raise UserError(
            f"tool_choice={choice!r} is not understood; use 'auto', 'any', 'none', a tool name "
            "or an Anthropic dict such as {'type': 'tool', 'name': 'get_weather'}."
        )
    if parallel is False:
        out = out or {"type": "auto"}
        if out.get("type") != "none":
            out["disable_parallel_tool_use"] = True
    return out


def _output_format(response_format: Any) -> dict[str, Any]:
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind == "json_schema":
        nested = response_format.get("json_schema")  # OpenAI's nested form
        schema = response_format.get("schema") or (nested or {}).get("schema")
        if isinstance(schema, dict):
            return {"type": "json_schema", "schema": schema}
    if kind == "json_object":
        raise UserError(
            "Anthropic Messages has no schema-less JSON mode; pass response_format="
            "{'type': 'json_schema', 'schema': {...}} or use tool calling."
        )
    raise UserError(
        f"response_format={excerpt(response_format)} is not understood; pass "
        "{'type': 'json_schema', 'name': ..., 'schema': {...}}."
    )


def encode_request(messages: list[BaseMessage], params: dict[str, Any] | None = None) -> dict:
    """Build the JSON body of ``POST /v1/messages``.

    System messages become the top-level ``system`` (a string, or text blocks when a block
    carries ``cache_control``); consecutive tool messages become one user turn of
    ``tool_result`` blocks. ``max_tokens`` defaults to `DEFAULT_MAX_TOKENS` (1024) because the
    API requires it, raised above ``reasoning_budget`` when thinking is on; ``seed`` has no
    Anthropic equivalent and is dropped.

    Args:
        messages: the conversation (anything `myna.messages.coerce_messages` accepts).
        params: the neutral request parameters (see `myna.codecs._protocol`).

    Raises:
        UserError: no model, an input Anthropic cannot carry (audio, video), a system message
            after the conversation started, or params it cannot express.
    """
    if not (isinstance(messages, list) and all(isinstance(m, BaseMessage) for m in messages)):
        messages = coerce_messages(messages)
    p = {k: v for k, v in (params or {}).items() if v is not None}
    model = p.pop("model", None)
    if not isinstance(model, str) or not model:
        raise UserError(
            "Anthropic Messages needs a model name: pass params['model'], e.g. 'claude-haiku-4-5'."
        )
    if p.pop("logprobs", False):
        raise UserError("Anthropic Messages does not return log probabilities; drop logprobs=True.")
    system, turns = _encode_messages(messages)
    if system is not None and "system" in p:
        raise UserError("Pass the system prompt once: as a SystemMessage or as params['system'].")
    thinking = p.pop("thinking", None)
    budget = p.pop("reasoning_budget", None)
    if thinking is None and budget is not None:
        thinking = (
            {"type": "disabled"} if budget == 0 else {"type": "enabled", "budget_tokens": budget}
        )
    max_tokens = p.pop("max_tokens", None)
    if max_tokens is None:
        max_tokens = DEFAULT_MAX_TOKENS
        wanted = thinking.get("budget_tokens") if isinstance(thinking, dict) else None
        if isinstance(wanted, int) and wanted >= max_tokens:
            max_tokens = wanted + DEFAULT_MAX_TOKENS
    body: dict[str, Any] = {"model": model, "max_tokens": max_tokens}
    if system is not None:
        body["system"] = system
    body["messages"] = turns
    for key in ("temperature", "top_p"):
        if key in p:
            body[key] = p.pop(key)
    stop = p.pop("stop", None)
    if stop is not None:
        body["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    tools = p.pop("tools", None)
    if tools:
        body["tools"] = [_tool_to_wire(t, f"params['tools'][{i}]") for i, t in enumerate(tools)]
    choice = _tool_choice(p.pop("tool_choice", None), p.pop("parallel_tool_calls", None))
    if choice is not None:
        body["tool_choice"] = choice
    output_config = dict(p.pop("output_config", None) or {})
    if "response_format" in p:
        output_config["format"] = _output_format(p.pop("response_format"))
    effort = p.pop("reasoning_effort", None)
    if effort is not None:
        output_config["effort"] = "low" if effort == "minimal" else effort
    if output_config:
        body["output_config"] = output_config
    if thinking is not None:
        body["thinking"] = thinking
    if "stream" in p:
        body["stream"] = bool(p.pop("stream"))
    extra_body = p.pop("extra_body", None)
    for key in _DROPPED:
        p.pop(key, None)
    body.update(p)  # cache_control, top_k, metadata, service_tier and anything else verbatim
    if extra_body is not None:
        if not isinstance(extra_body, dict):
            raise UserError(f"extra_body must be a dict, got {type(extra_body).__name__}.")
        body.update(extra_body)
    return body


# --------------------------------------------------------------------------- decode_response


def _response_metadata(body: dict[str, Any], fail: Fail) -> dict[str, Any]:
    meta: dict[str, Any] = {"model_provider": PROVIDER}
    for key, target in (("model", "model_name"), ("id", "id")):
        value = body.get(key)
        if value is not None and not isinstance(value, str):
            raise fail(f"{key} must be a string, got {excerpt(value)}")
        if value is not None:
            meta[target] = value
    stop_reason = body.get("stop_reason")
    if stop_reason is not None:
        if not isinstance(stop_reason, str):
            raise fail(f"stop_reason must be a string, got {excerpt(stop_reason)}")
        meta.update(stop_metadata(stop_reason, body.get("stop_sequence")))
    for key in ("stop_details", "container"):
        if body.get(key) is not None:
            meta[key] = body[key]
    usage = body.get("usage")
    if isinstance(usage, dict):
        for key in ("service_tier", "server_tool_use"):
            if usage.get(key) is not None:
                meta[key] = usage[key]
        meta.update(cache_ttl_metadata(usage))
    return meta


def decode_response(body: dict[str, Any]) -> AIMessage:
    """Turn a non-streaming Messages response into an `AIMessage`.

    Text becomes the content (a string for a single plain text block, else standard
    blocks: ``reasoning`` with its signature or redacted data in ``extras``, ``text`` with
    citations as ``annotations``, ``server_tool_call`` / ``server_tool_result``);
    ``tool_use`` blocks become `tool_calls`. Usage counts cached tokens as input.

    Raises:
        DecodeError: the body is not a Messages response.
        ProviderError: the body is an Anthropic error object.
    """
    fail = decode_failure("Anthropic response")
    if not isinstance(body, dict):
        raise DecodeError(f"Anthropic response must be a JSON object, got {excerpt(body)}")
    if body.get("type") == "error":
        raise error_from_payload(None, body)
    if "content" not in body:
        raise fail(f"no 'content' in {excerpt(body)}")
    content, calls, invalid = decode_assistant_content(body["content"], "content", fail)
    usage = body.get("usage")
    return AIMessage(
        content=content,
        tool_calls=calls,
        invalid_tool_calls=invalid,
        usage_metadata=decode_usage(usage, fail) if usage is not None else None,
        response_metadata=_response_metadata(body, fail),
        id=body.get("id"),
    )


# ----------------------------------------------------------------------------- decode_stream


class _StreamDecoder:
    """The state of one Anthropic SSE stream, fed one event payload at a time.

    Text streams as plain strings while the reply has had only one content block, so a
    text-only stream merges into string content like `decode_response` gives; from the
    second content block on (or any thinking, server tool or cited block) content streams
    as blocks keyed by the wire ``index``.
    """

    def __init__(self) -> None:
        self.started = False
        self.finished = False
        self.id: str | None = None
        self.blocks: dict[int, dict[str, Any]] = {}
        self.block_mode = False
        self.content_blocks = 0
        self.usage_raw: dict[str, Any] = {}
        self.usage_sent: dict[str, Any] | None = None

    def chunk(self, **fields: Any) -> AIMessageChunk:
        fields.setdefault("content", [] if self.block_mode else "")
        return AIMessageChunk(id=self.id, **fields)

    def feed(self, i: int, event: Any) -> list[AIMessageChunk]:
        if isinstance(event, (bytes, str)):
            try:
                event = json.loads(event)
            except ValueError:
                raise DecodeError(
                    f"Anthropic stream event {i} is not JSON: {excerpt(event)}"
                ) from None
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
        if self.finished:
            return []
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
        meta = _response_metadata({k: message.get(k) for k in ("id", "model")}, fail)
        self.started = True
        self.id = message.get("id")
        usage = message.get("usage")
        if usage is not None:
            decode_usage(usage, fail)  # fail early on a malformed usage
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
        if kind in _SERVER_TOOL_USES:
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
            "input_json_delta": ("partial_json", ("tool_use", *_SERVER_TOOL_USES)),
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
        if state["kind"] not in _SERVER_TOOL_USES:
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
        full = decode_usage(self.usage_raw, fail)
        step = usage_minus(dict(full), self.usage_sent)
        self.usage_sent = dict(full)
        return step

    def message_stop(self, event: dict[str, Any], fail: Fail) -> list[AIMessageChunk]:
        self.finished = True
        fields: dict[str, Any] = {"chunk_position": "last"}
        if self.usage_sent is None and self.usage_raw:
            fields["usage_metadata"] = self.usage_step(fail)
        return [self.chunk(**fields)]


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
    decoder = _StreamDecoder()
    seen: list[AIMessageChunk] = []
    try:
        iterator = iter(events)
    except TypeError:
        raise DecodeError(
            f"Anthropic stream events must be iterable, got {excerpt(events)}"
        ) from None
    count = 0
    for count, event in enumerate(iterator, start=1):
        for chunk in decoder.feed(count - 1, event):
            seen.append(chunk)
            yield chunk
        if decoder.finished:
            return
    raise StreamInterruptedError(
        f"The Anthropic stream ended after {count} events without message_stop; "
        "the reply so far is on the error's .partial.",
        partial=merge_chunks(seen) if seen else None,
    )


# ------------------------------------------------------------------------------ decode_error


def decode_error(status: int, body: Any, headers: dict[str, str] | None = None) -> ProviderError:
    """Turn an error response into the matching `myna.exceptions.ProviderError`.

    Reads ``{"type": "error", "error": {"type", "message"}, "request_id"}``; a body that is
    not JSON (a proxy's HTML page) gives its text as the message. 529 and
    ``overloaded_error`` give `OverloadedError`; ``retry-after`` headers set `retry_after`.
    """
    payload: Any = body
    if isinstance(body, (bytes, bytearray)):
        payload = bytes(body).decode("utf-8", errors="replace")
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError:
            pass
    fallback = ""
    if isinstance(payload, str) and payload.strip():
        fallback = " ".join(payload.split())[:200]
    elif not isinstance(payload, dict):
        fallback = f"HTTP {status} with no error body"
    return error_from_payload(status, payload, headers, fallback=fallback)
