"""Output items <-> message content, for both sides of the OpenAI Responses codec.

`decode_item` turns one output (or assistant-side input) item into blocks and tool calls;
`build_ai_items` turns an AI message back into items, for a request's history
(``output=False``) or for a rendered response (``output=True``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ...exceptions import DecodeError
from ...messages import AIMessage, invalid_tool_call, standard_blocks
from ._shared import (
    FUNCTION_CALL_IDS,
    SERVER_TOOL_TYPES,
    SERVER_TOOLS,
    annotation_from_citation,
    block_from_part,
    cannot_send,
    excerpt,
    expect,
    short_hash,
)

__all__: list[str] = []

# ---------------------------------------------------------------------------------------------
# output items -> blocks and tool calls


@dataclass
class Decoded:
    """What a run of output items amounts to, in the message's terms."""

    blocks: list[dict[str, Any]] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    invalid_tool_calls: list[dict[str, Any]] = field(default_factory=list)
    call_ids: dict[str, str] = field(default_factory=dict)
    logprobs: list[Any] = field(default_factory=list)
    refusal: str | None = None


def parse_arguments(
    name: Any, raw: str, call_id: Any
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Function-call arguments -> (tool call, None) or (None, invalid tool call)."""
    if not raw.strip():
        return {"name": name, "args": {}, "id": call_id, "type": "tool_call"}, None
    try:
        args = json.loads(raw)
    except ValueError as exc:
        error = f"arguments are not valid JSON ({exc.msg} at position {exc.pos})"
        return None, dict(invalid_tool_call(name=name, args=raw, id=call_id, error=error))
    if not isinstance(args, dict):
        error = f"arguments must be a JSON object, got {type(args).__name__}"
        return None, dict(invalid_tool_call(name=name, args=raw, id=call_id, error=error))
    return {"name": name, "args": args, "id": call_id, "type": "tool_call"}, None


def reasoning_blocks(item: dict[str, Any], where: str) -> list[dict[str, Any]]:
    """A reasoning item -> one block per summary part (or one holder block), then one per
    raw ``reasoning_text`` part; the first block keeps the ``encrypted_content``."""
    item_id = item.get("id")
    summary = expect(item.get("summary", []), list, f"{where}.summary")
    content = item.get("content") or []
    expect(content, list, f"{where}.content")
    blocks: list[dict[str, Any]] = []
    for i, part in enumerate(summary):
        expect(part, dict, f"{where}.summary[{i}]")
        text = expect(part.get("text", ""), str, f"{where}.summary[{i}].text")
        blocks.append({"type": "reasoning", "reasoning": text})
    if not blocks:
        blocks.append({"type": "reasoning"})
    for i, part in enumerate(content):
        expect(part, dict, f"{where}.content[{i}]")
        text = expect(part.get("text", ""), str, f"{where}.content[{i}].text")
        blocks.append(
            {"type": "reasoning", "reasoning": text, "extras": {"kind": "reasoning_text"}}
        )
    if item_id is not None:
        for block in blocks:
            block["id"] = item_id
    if item.get("encrypted_content"):
        first = blocks[0]
        first["extras"] = {
            **first.get("extras", {}),
            "encrypted_content": item["encrypted_content"],
        }
    return blocks


def server_tool_blocks(item: dict[str, Any]) -> list[dict[str, Any]]:
    """A built-in tool item (web search, file search, ...) -> server_tool_call (+ result)."""
    name, arg_keys, out_keys = SERVER_TOOLS[item["type"]]
    call: dict[str, Any] = {
        "type": "server_tool_call",
        "id": item.get("id"),
        "name": name,
        "args": {k: item[k] for k in arg_keys if k in item},
    }
    extras = {k: v for k, v in item.items() if k not in ("type", "id", *arg_keys, *out_keys)}
    if extras:
        call["extras"] = extras
    status = item.get("status")
    if status not in ("completed", "failed", "incomplete") and not any(k in item for k in out_keys):
        return [call]
    failed = status in ("failed", "incomplete") or item.get("error") not in (None, "")
    result: dict[str, Any] = {
        "type": "server_tool_result",
        "tool_call_id": item.get("id"),
        "status": "error" if failed else "success",
    }
    output = {k: item[k] for k in out_keys if k in item}
    if output:
        result["output"] = output
    return [call, result]


def image_block(item: dict[str, Any]) -> dict[str, Any]:
    """An ``image_generation_call`` item -> a standard image block (base64)."""
    block: dict[str, Any] = {"type": "image", "id": item.get("id")}
    if isinstance(item.get("result"), str):
        block["base64"] = item["result"]
        block["mime_type"] = f"image/{item.get('output_format') or 'png'}"
    extras = {k: v for k, v in item.items() if k not in ("type", "id", "result")}
    if extras:
        block["extras"] = extras
    return block


def decode_item(item: Any, where: str, out: Decoded) -> None:
    """Add one output (or assistant-side input) item to `out`."""
    expect(item, dict, where)
    kind = item.get("type", "message" if "role" in item else None)
    if kind == "message":
        content = item.get("content")
        if isinstance(content, str):
            out.blocks.append({"type": "text", "text": content})
            return
        expect(content, list, f"{where}.content")
        for i, part in enumerate(content):
            block = block_from_part(part, f"{where}.content[{i}]")
            if block["type"] == "non_standard" and block["value"].get("type") == "refusal":
                out.refusal = (out.refusal or "") + block["value"]["refusal"]
            if item.get("id") is not None:
                block["id"] = item["id"]
            if item.get("phase") is not None:
                block["extras"] = {**block.get("extras", {}), "phase": item["phase"]}
            out.blocks.append(block)
            logprobs = part.get("logprobs") if isinstance(part, dict) else None
            if logprobs:
                out.logprobs.extend(expect(logprobs, list, f"{where}.content[{i}].logprobs"))
    elif kind == "reasoning":
        out.blocks.extend(reasoning_blocks(item, where))
    elif kind == "function_call":
        name = expect(item.get("name"), str, f"{where}.name")
        raw = expect(item.get("arguments", ""), str, f"{where}.arguments")
        call_id = item.get("call_id")
        ok, bad = parse_arguments(name, raw, call_id)
        if ok:
            out.tool_calls.append(ok)
        if bad:
            out.invalid_tool_calls.append(bad)
        if isinstance(item.get("id"), str) and isinstance(call_id, str):
            out.call_ids[call_id] = item["id"]
    elif kind in SERVER_TOOLS:
        out.blocks.extend(server_tool_blocks(item))
    elif kind == "image_generation_call":
        out.blocks.append(image_block(item))
    elif isinstance(kind, str):
        out.blocks.append({"type": "non_standard", "value": dict(item)})
    else:
        raise DecodeError(f"{where} has no 'type': {excerpt(item)}")


# ---------------------------------------------------------------------------------------------
# AI message -> output / input items


@dataclass
class PlannedItem:
    """One wire item built from an AI message, and which blocks it came from."""

    wire: dict[str, Any]
    kind: str
    """``message``, ``reasoning``, ``function_call`` or ``whole`` (sent in one piece)."""
    parts: dict[int, tuple[str, int]] = field(default_factory=dict)
    """block position -> (part kind, part index); kinds: ``text``, ``refusal``, ``summary``,
    ``content`` (raw reasoning text), ``holder`` (reasoning without text) and whole items."""
    key: Any = None
    """The block id that groups blocks into this item."""


@dataclass
class Plan:
    items: list[PlannedItem]
    by_position: dict[int, int]
    """content block position -> index into `items`."""
    by_tool: dict[int, int]
    """tool-call index (tool_calls, then invalid_tool_calls) -> index into `items`."""


def _content_blocks(content: Any) -> list[tuple[int, dict[str, Any]]]:
    if isinstance(content, str):
        return [(0, {"type": "text", "text": content})] if content else []
    out = []
    for position, item in enumerate(content):
        for block in standard_blocks([item]):
            out.append((position, block))
    return out


class _Ids:
    def __init__(self, seed: str | None) -> None:
        self.seed = seed
        self.count = 0

    def make(self, prefix: str) -> str | None:
        if self.seed is None:
            return None
        self.count += 1
        return f"{prefix}_{short_hash(self.seed, prefix, self.count)}"


def _summary_part(block: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    if not isinstance(block.get("reasoning"), str):
        return None
    extras = block.get("extras") if isinstance(block.get("extras"), dict) else {}
    if extras.get("kind") == "reasoning_text":
        return "content", {"type": "reasoning_text", "text": block["reasoning"]}
    return "summary", {"type": "summary_text", "text": block["reasoning"]}


def _is_refusal(block: dict[str, Any]) -> bool:
    value = block.get("value")
    return (
        block.get("type") == "non_standard"
        and isinstance(value, dict)
        and (value.get("type") == "refusal")
    )


_WHERE = "AIMessage content"


class _Builder:
    """Groups an AI message's blocks into items, one `add_*` method per block kind."""

    def __init__(self, message: AIMessage, output: bool, seed: str | None) -> None:
        self.message = message
        self.output = output
        self.seed = seed
        self.ids = _Ids(seed if output else None)
        self.items: list[PlannedItem] = []
        self.by_position: dict[int, int] = {}
        self.calls_by_id: dict[Any, PlannedItem] = {}

    def current(self, kind: str, key: Any) -> PlannedItem | None:
        item = self.items[-1] if self.items else None
        return item if item is not None and item.kind == kind and item.key == key else None

    def new(self, wire: dict[str, Any], kind: str, key: Any = None) -> PlannedItem:
        item = PlannedItem(wire, kind, key=key)
        self.items.append(item)
        return item

    def add(self, position: int, block: dict[str, Any]) -> None:
        kind = block.get("type")
        extras = block.get("extras") if isinstance(block.get("extras"), dict) else {}
        if kind == "text" or _is_refusal(block):
            item = self.add_message_part(position, block, extras)
        elif kind == "reasoning":
            item = self.add_reasoning(position, block, extras)
        elif kind == "server_tool_call":
            item = self.add_server_call(position, block, extras)
        elif kind == "server_tool_result":
            item = self.add_server_result(position, block)
        elif kind == "image":
            item = self.add_image(position, block, extras)
        elif kind == "non_standard":
            value = block.get("value")
            if not (isinstance(value, dict) and isinstance(value.get("type"), str)):
                raise cannot_send(block, _WHERE, f"its value {excerpt(value)} is not an item.")
            item = self.new(dict(value), "whole")
            item.parts[position] = ("item", 0)
        elif kind in ("tool_call", "tool_call_chunk", "invalid_tool_call"):
            return  # the message's tool_calls are authoritative
        else:
            raise cannot_send(
                block,
                _WHERE,
                "AI output here is text, reasoning, refusals, server tool calls and generated "
                "images.",
            )
        if item is not None:
            self.by_position[position] = self.items.index(item)

    def add_message_part(
        self, position: int, block: dict[str, Any], extras: dict[str, Any]
    ) -> PlannedItem:
        key = block.get("id")
        item = self.current("message", key)
        phase = extras.get("phase")
        if item is not None and item.wire.get("phase") != phase:
            item = None  # decoding gives every part its item's phase
        if item is None:
            wire: dict[str, Any] = {"type": "message", "role": "assistant", "content": []}
            if key is not None:
                wire["id"] = key
            elif self.output:
                wire["id"] = self.ids.make("msg")
            if phase is not None:
                wire["phase"] = phase
            item = self.new(wire, "message", key)
        if block["type"] == "text":
            part: dict[str, Any] = {"type": "output_text", "text": block.get("text", "")}
            annotations = [annotation_from_citation(a) for a in block.get("annotations") or []]
            if self.output or annotations:
                part["annotations"] = annotations
            item.parts[position] = ("text", len(item.wire["content"]))
        else:
            part = {"type": "refusal", "refusal": block["value"].get("refusal", "")}
            item.parts[position] = ("refusal", len(item.wire["content"]))
        item.wire["content"].append(part)
        return item

    def add_reasoning(
        self, position: int, block: dict[str, Any], extras: dict[str, Any]
    ) -> PlannedItem:
        key = block.get("id")
        # blocks of one reasoning item share its id; id-less blocks are separate items
        item = self.current("reasoning", key) if key is not None else None
        if item is None:
            wire: dict[str, Any] = {"type": "reasoning", "summary": []}
            if key is not None:
                wire["id"] = key
            elif self.output:
                wire["id"] = self.ids.make("rs")
            item = self.new(wire, "reasoning", key)
        if extras.get("encrypted_content"):
            item.wire["encrypted_content"] = extras["encrypted_content"]
        found = _summary_part(block)
        if found is None:
            item.parts[position] = ("holder", 0)
        else:
            bucket = item.wire.setdefault(found[0], [])
            item.parts[position] = (found[0], len(bucket))
            bucket.append(found[1])
        return item

    def add_server_call(
        self, position: int, block: dict[str, Any], extras: dict[str, Any]
    ) -> PlannedItem | None:
        name = block.get("name")
        args = block.get("args") if isinstance(block.get("args"), dict) else {}
        item_type = SERVER_TOOL_TYPES.get(name) if isinstance(name, str) else None
        if not self.output and (
            item_type is None or not set(args) <= set(SERVER_TOOLS[item_type][1])
        ):
            return None  # another provider's server tool: the Responses API cannot replay it
        wire = {"type": item_type or f"{name}_call", "id": block.get("id") or self.ids.make("tc")}
        wire.update(args)
        wire.update(extras)
        if self.output:
            wire.setdefault("status", "completed")
        item = self.new(wire, "whole")
        item.parts[position] = ("call", 0)
        self.calls_by_id[wire["id"]] = item
        return item

    def add_server_result(self, position: int, block: dict[str, Any]) -> PlannedItem | None:
        item = self.calls_by_id.get(block.get("tool_call_id"))
        if item is None:
            if self.output:
                raise cannot_send(block, _WHERE, "it answers no server_tool_call block before it.")
            return None
        if isinstance(block.get("output"), dict):
            item.wire.update(block["output"])
        if block.get("status") == "error" and self.output:
            item.wire["status"] = "failed"
        item.parts[position] = ("result", 0)
        return item

    def add_image(
        self, position: int, block: dict[str, Any], extras: dict[str, Any]
    ) -> PlannedItem:
        if block.get("id") is None and not self.output:
            raise cannot_send(
                block,
                _WHERE,
                "an image in an AI message can only go back as the image_generation_call "
                "it came from (with its 'ig_' id). Move it to a HumanMessage instead.",
            )
        wire = {"type": "image_generation_call", "id": block.get("id") or self.ids.make("ig")}
        if self.output:
            wire["status"] = "completed"
        wire.update(extras)
        if block.get("base64") is not None:
            wire["result"] = block["base64"]
        item = self.new(wire, "whole")
        item.parts[position] = ("image", 0)
        return item

    def add_function_calls(self) -> dict[int, int]:
        call_ids = self.message.additional_kwargs.get(FUNCTION_CALL_IDS)
        call_ids = call_ids if isinstance(call_ids, dict) else {}
        calls = [
            (c["name"], c["id"], json.dumps(c["args"]) if c["args"] else "{}")
            for c in self.message.tool_calls
        ]
        calls += [
            (c.get("name"), c.get("id"), c.get("args") or "")
            for c in self.message.invalid_tool_calls
        ]
        by_tool: dict[int, int] = {}
        for index, (name, call_id, arguments) in enumerate(calls):
            wire = {"type": "function_call", "call_id": call_id, "name": name or ""}
            wire["arguments"] = arguments
            if self.output:
                wire["id"] = call_ids.get(call_id) or self.ids.make("fc")
                wire["call_id"] = call_id or f"call_{short_hash(self.seed, 'call', index)}"
                wire["status"] = "completed"
            elif call_id in call_ids:
                wire["id"] = call_ids[call_id]
            by_tool[index] = len(self.items)
            self.new(wire, "function_call")
        return by_tool

    def plan(self) -> Plan:
        by_tool = self.add_function_calls()
        if self.output:
            for item in self.items:
                if item.kind == "message":
                    item.wire["status"] = "completed"
            return Plan(self.items, self.by_position, by_tool)
        kept = [
            item
            for item in self.items
            if item.kind != "reasoning" or "id" in item.wire or "encrypted_content" in item.wire
        ]
        pairs = any(item.kind == "reasoning" for item in kept)
        merged: list[PlannedItem] = []
        for item in kept:
            if item.kind in ("message", "function_call") and not pairs:
                item.wire.pop("id", None)
                previous = merged[-1] if merged else None
                if (
                    item.kind == "message"
                    and previous is not None
                    and previous.kind == "message"
                    and previous.wire.get("phase") == item.wire.get("phase")
                ):
                    # without their ids two messages in a row read back as one
                    previous.wire["content"] += item.wire["content"]
                    continue
            elif item.kind == "message" and "id" in item.wire:
                item.wire["status"] = "completed"
            merged.append(item)
        return Plan(merged, {}, {})


def build_ai_items(message: AIMessage, *, output: bool, seed: str | None = None) -> Plan:
    """The Responses items for an AI message.

    With ``output=True`` (server side) every item gets an id and a status, as the API
    returns them; ids myna must make up derive from `seed`. With ``output=False`` (history
    sent back by the client) reasoning the API cannot verify (no id and no encrypted content,
    e.g. from another provider) and other providers' server-tool calls are left out, and
    message / function-call item ids are sent only when a reasoning item is sent too, since
    that is what pairs them.
    """
    builder = _Builder(message, output, seed)
    for position, block in _content_blocks(message.content):
        builder.add(position, block)
    return builder.plan()
