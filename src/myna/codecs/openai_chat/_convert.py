"""Messages <-> Chat Completions message dicts, both directions, without validation.

The assistant side is shared by `decode_response` (a reply) and `decode_request` (history),
and by `encode_request` and `render_response`, so a reply and the same reply sent back as
history look alike on the wire.
"""

from __future__ import annotations

import json
from typing import Any

from ...exceptions import UserError
from ...messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    parse_tool_call_chunks,
    standard_blocks,
    tool_call_chunk,
)
from ._shared import (
    DEFAULT_REASONING_FIELD,
    PROTOCOL,
    REASONING_FIELDS,
    Malformed,
    cannot_carry,
    decode_part,
    encode_part,
    expect,
    sniff_mime,
)

__all__: list[str] = []

# Blocks a model produced on another protocol that Chat Completions has no slot for: they are
# left out of history rather than rejected, so a conversation can move between providers.
_FOREIGN_OUTPUT = frozenset(
    {"server_tool_call", "server_tool_call_chunk", "server_tool_result", "tool_call_chunk"}
)


# ---------------------------------------------------------------------------------------------
# Reasoning details (OpenRouter): streamed fragments of one detail share a type and index.


def consolidate_details(details: list[Any]) -> list[Any]:
    """Join streamed ``reasoning_details`` fragments that belong to the same entry."""
    out: list[Any] = []
    for item in details:
        if not isinstance(item, dict):
            out.append(item)
            continue
        last = out[-1] if out else None
        if (
            isinstance(last, dict)
            and last.get("type") == item.get("type")
            and last.get("index") == item.get("index")
            and item.get("index") is not None
        ):
            for key, value in item.items():
                if key in ("text", "summary", "data") and isinstance(value, str):
                    last[key] = (last.get(key) or "") + value
                elif last.get(key) is None and value is not None:
                    last[key] = value
            continue
        out.append(dict(item))
    return out


def reasoning_block(text: str, field: str, details: list[Any] | None) -> dict[str, Any]:
    """A standard reasoning block remembering which wire field it came from."""
    extras: dict[str, Any] = {"field": field}
    if details:
        extras["reasoning_details"] = details
    return {"type": "reasoning", "reasoning": text, "extras": extras}


# ---------------------------------------------------------------------------------------------
# Decoding an assistant message dict


def citation(annotation: Any) -> Any:
    if isinstance(annotation, dict) and annotation.get("type") == "url_citation":
        inner = annotation.get("url_citation")
        if isinstance(inner, dict):
            out = {"type": "citation"}
            for key in ("url", "title", "start_index", "end_index"):
                if inner.get(key) is not None:
                    out[key] = inner[key]
            return out
    return annotation


def wire_annotation(annotation: Any) -> Any:
    if isinstance(annotation, dict) and annotation.get("type") == "citation":
        keys = ("url", "title", "start_index", "end_index")
        return {
            "type": "url_citation",
            "url_citation": {k: annotation[k] for k in keys if k in annotation},
        }
    return annotation


def decode_tool_calls(
    raw: Any, where: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(tool calls, invalid tool calls, non-function calls as non_standard blocks)."""
    expect(raw, list, where)
    chunks = []
    others: list[dict[str, Any]] = []
    for i, call in enumerate(raw or []):
        here = f"{where}[{i}]"
        expect(call, dict, here, optional=False)
        kind = call.get("type", "function")
        if kind != "function":
            others.append({"type": "non_standard", "value": call})
            continue
        fn = expect(call.get("function"), dict, f"{here}.function", optional=False)
        name = expect(fn.get("name"), str, f"{here}.function.name")
        args = fn.get("arguments")
        if isinstance(args, dict):  # a few compatible servers send an object
            args = json.dumps(args)
        expect(args, str, f"{here}.function.arguments")
        call_id = expect(call.get("id"), str, f"{here}.id") or f"call_{i}"
        chunks.append(tool_call_chunk(name=name, args=args, id=call_id, index=i))
    calls, invalid = parse_tool_call_chunks(chunks)
    return list(calls), list(invalid), others


def decode_assistant(message: dict[str, Any], where: str) -> dict[str, Any]:
    """An assistant message dict (reply or history) -> `AIMessage` keyword arguments."""
    blocks: list[dict[str, Any]] = []
    details = expect(message.get("reasoning_details"), list, f"{where}.reasoning_details")
    field, reasoning = DEFAULT_REASONING_FIELD, ""
    for name in REASONING_FIELDS:
        value = expect(message.get(name), str, f"{where}.{name}")
        if value:
            field, reasoning = name, value
            break
    else:
        if details:
            field = "reasoning"
    if reasoning or details:
        blocks.append(reasoning_block(reasoning, field, consolidate_details(details or [])))

    content = message.get("content")
    expect(content, (str, list), f"{where}.content")
    annotations = expect(message.get("annotations"), list, f"{where}.annotations")
    text = content if isinstance(content, str) else ""
    if isinstance(content, list):
        for j, part in enumerate(content):
            block = decode_part(part, f"{where}.content[{j}]")
            if block["type"] == "text" and not block.get("extras"):
                text += block["text"]
            else:
                blocks.append(block)
    if text or annotations:
        block = {"type": "text", "text": text}
        if annotations:
            block["annotations"] = [citation(a) for a in annotations]
        blocks.append(block)

    audio = expect(message.get("audio"), dict, f"{where}.audio")
    if audio:
        blocks.append(decode_audio(audio, f"{where}.audio"))

    calls, invalid, others = decode_tool_calls(message.get("tool_calls"), f"{where}.tool_calls")
    blocks.extend(others)

    kwargs: dict[str, Any] = {"tool_calls": calls, "invalid_tool_calls": invalid}
    if len(blocks) == 1 and blocks[0]["type"] == "text" and "annotations" not in blocks[0]:
        kwargs["content"] = blocks[0]["text"]
    else:
        kwargs["content"] = blocks if blocks else ""
    additional: dict[str, Any] = {}
    refusal = expect(message.get("refusal"), str, f"{where}.refusal")
    if refusal:
        additional["refusal"] = refusal
    if message.get("function_call") is not None:
        additional["function_call"] = message["function_call"]
    if additional:
        kwargs["additional_kwargs"] = additional
    name = expect(message.get("name"), str, f"{where}.name")
    if name:
        kwargs["name"] = name
    return kwargs


def decode_audio(audio: dict[str, Any], where: str) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "audio"}
    if audio.get("id") is not None:
        block["id"] = expect(audio["id"], str, f"{where}.id")
    data = expect(audio.get("data"), str, f"{where}.data")
    if data:
        block["base64"] = data
        mime = sniff_mime(data)
        if mime:
            block["mime_type"] = mime
    extras = {k: audio[k] for k in ("transcript", "expires_at") if audio.get(k) is not None}
    if extras:
        block["extras"] = extras
    return block


# ---------------------------------------------------------------------------------------------
# Encoding messages


def _text_only(content: Any, where: str, hint: str) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    parts = []
    for block in standard_blocks(content):
        if block.get("type") not in ("text", "text-plain"):
            raise cannot_carry(str(block.get("type")), where, hint)
        parts.append(encode_part(block, where))
    return parts


def _wire_args(args: Any) -> str:
    return args if isinstance(args, str) else json.dumps(args)


def encode_tool_calls(message: AIMessage) -> list[dict[str, Any]]:
    calls = [(c.get("id"), c["name"], _wire_args(c.get("args") or {})) for c in message.tool_calls]
    calls += [(c.get("id"), c.get("name"), c.get("args") or "") for c in message.invalid_tool_calls]
    return [
        {
            "id": call_id or f"call_{i}",
            "type": "function",
            "function": {"name": name or "", "arguments": args},
        }
        for i, (call_id, name, args) in enumerate(calls)
    ]


def encode_assistant(message: AIMessage, where: str, *, reply: bool = False) -> dict[str, Any]:
    """An `AIMessage` -> an assistant message dict (as history, or as a reply body).

    As history, a reasoning block goes back only when ``extras["field"]`` says which wire
    field it came from: blocks from other protocols (Anthropic thinking, Gemini thoughts) have
    no slot, and OpenAI rejects unknown message keys. As a reply (``reply=True``), reasoning
    without a field is rendered as ``reasoning_content``.
    """
    out: dict[str, Any] = {"role": "assistant"}
    texts: list[str] = []
    annotations: list[Any] = []
    reasoning: dict[str, list[str]] = {}
    details: list[Any] = []
    audio: dict[str, Any] | None = None
    raw_calls: list[dict[str, Any]] = []
    for block in standard_blocks(message.content):
        kind = block.get("type")
        extras = block.get("extras") or {}
        if kind in ("text", "text-plain"):
            texts.append(block.get("text", ""))
            annotations.extend(block.get("annotations") or [])
        elif kind == "reasoning":
            field = extras.get("field", DEFAULT_REASONING_FIELD if reply else None)
            if field not in REASONING_FIELDS:
                continue
            reasoning.setdefault(field, []).append(block.get("reasoning", ""))
            details.extend(extras.get("reasoning_details") or [])
        elif kind == "audio":
            audio = block
        elif kind == "non_standard" and isinstance(block.get("value"), dict):
            value = block["value"]
            if value.get("id") and value.get("type") in ("function", "custom"):
                raw_calls.append(value)
            else:
                raise cannot_carry("non_standard", where, f"Its value: {value!r:.80}")
        elif kind in ("tool_call", "invalid_tool_call") or kind in _FOREIGN_OUTPUT:
            continue  # tool calls come from .tool_calls; server-tool blocks have no slot here
        else:
            raise cannot_carry(
                str(kind),
                where,
                "Assistant messages on Chat Completions carry text, "
                "reasoning, audio and tool calls only.",
            )
    out["content"] = "".join(texts) if texts else None
    for field, parts in reasoning.items():
        out[field] = "".join(parts)
    if details:
        out["reasoning_details"] = consolidate_details(details)
    if annotations:
        out["annotations"] = [wire_annotation(a) for a in annotations]
    if audio is not None:
        out["audio"] = encode_audio(audio)
    calls = encode_tool_calls(message) + raw_calls
    if calls:
        out["tool_calls"] = calls
    refusal = message.additional_kwargs.get("refusal")
    if refusal:
        out["refusal"] = refusal
    if message.additional_kwargs.get("function_call") is not None:
        out["function_call"] = message.additional_kwargs["function_call"]
    if out["content"] is None and not (calls or audio is not None or refusal):
        out["content"] = ""
    if message.name:
        out["name"] = message.name
    return out


def encode_audio(block: dict[str, Any]) -> dict[str, Any]:
    extras = block.get("extras") or {}
    out: dict[str, Any] = {}
    for key, value in (
        ("id", block.get("id")),
        ("data", block.get("base64")),
        ("expires_at", extras.get("expires_at")),
        ("transcript", extras.get("transcript")),
    ):
        if value is not None:
            out[key] = value
    return out


def encode_message(message: BaseMessage, where: str) -> dict[str, Any]:
    """One myna message -> one Chat Completions message dict."""
    if isinstance(message, SystemMessage):
        role = (
            "developer" if message.additional_kwargs.get("openai_role") == "developer" else "system"
        )
        out: dict[str, Any] = {
            "role": role,
            "content": _text_only(message.content, where, "System messages carry text only."),
        }
    elif isinstance(message, HumanMessage):
        content: Any = message.content
        if not isinstance(content, str):
            content = [encode_part(b, where) for b in standard_blocks(content)]
        out = {"role": "user", "content": content}
    elif isinstance(message, AIMessage):
        out = encode_assistant(message, where)
        # history needs only the id to refer to an earlier audio reply
        if isinstance(out.get("audio"), dict) and out["audio"].get("id"):
            out["audio"] = {"id": out["audio"]["id"]}
        return out
    elif isinstance(message, ToolMessage):
        hint = (
            "Tool results on Chat Completions carry text only; send images or files in a "
            "HumanMessage after the tool messages."
        )
        out = {
            "role": "tool",
            "tool_call_id": message.tool_call_id,
            "content": _text_only(message.content, where, hint),
        }
        return out
    else:
        raise UserError(
            f"{where} is a {type(message).__name__}; {PROTOCOL} takes SystemMessage, "
            "HumanMessage, AIMessage and ToolMessage."
        )
    if message.name:
        out["name"] = message.name
    return out


def decode_content(content: Any, where: str) -> str | list[dict[str, Any]]:
    """User/system/tool content (string or parts) -> myna content."""
    if isinstance(content, str):
        return content
    if content is None:
        return ""
    if not isinstance(content, list):
        raise Malformed(where, f"expected a string or an array, got {type(content).__name__}")
    return [decode_part(part, f"{where}[{j}]") for j, part in enumerate(content)]
