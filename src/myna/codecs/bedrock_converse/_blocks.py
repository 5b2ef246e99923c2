"""Content blocks of the Converse API <-> myna's standard blocks, in both directions.

A Converse content block is an object with exactly one key naming its kind: ``{"text": ...}``,
``{"image": {...}}``, ``{"toolUse": {...}}``, ``{"reasoningContent": {...}}`` and so on.
Binary data travels base64-encoded in JSON (``source.bytes``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from ...exceptions import UserError
from ...messages import (
    AIMessage,
    InvalidToolCall,
    ToolCall,
    parse_tool_call_chunks,
    standard_blocks,
    tool_call_chunk,
)
from ._shared import (
    MEDIA_FORMATS,
    MIME_FOR_FORMAT,
    WIRE_MEDIA,
    Fail,
    excerpt,
    new_tool_use_id,
)

__all__ = [
    "annotation_from_citation",
    "assistant_content_to_standard",
    "citation_from_annotation",
    "encode_assistant_content",
    "media_to_standard",
    "tool_result_content",
    "tool_result_to_standard",
    "user_block_to_standard",
    "user_blocks_to_wire",
]

_STANDARD_MEDIA = {std: wire for wire, std in WIRE_MEDIA.items()}
_MAGIC = {"iVBOR": "image/png", "/9j/": "image/jpeg", "R0lGOD": "image/gif", "UklGR": "image/webp"}
_NAME_BAD = re.compile(r"[^A-Za-z0-9\s\-()\[\]]+")
_SERVER_TOOL = "server_tool_use"
_DOCUMENT_KEYS = ("context", "citations")


# ------------------------------------------------------------------------------- helpers


def _extras(block: dict[str, Any]) -> dict[str, Any]:
    extras = block.get("extras")
    return extras if isinstance(extras, dict) else {}


def _cache_control(block: dict[str, Any]) -> Any:
    if block.get("cache_control") is not None:
        return block["cache_control"]
    return _extras(block).get("cache_control")


def cache_point(marker: Any) -> dict[str, Any]:
    """The ``cachePoint`` block for an Anthropic-style ``cache_control`` marker."""
    point: dict[str, Any] = {"type": "default"}
    ttl = marker.get("ttl") if isinstance(marker, dict) else None
    if ttl in ("5m", "1h"):
        point["ttl"] = ttl
    return {"cachePoint": point}


def cache_marker(point: Any) -> dict[str, Any]:
    """The ``cache_control`` marker for a decoded ``cachePoint``."""
    marker: dict[str, Any] = {"type": "ephemeral"}
    if isinstance(point, dict) and point.get("ttl") in ("5m", "1h"):
        marker["ttl"] = point["ttl"]
    return marker


def attach_cache_points(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fold decoded ``cachePoint`` markers into the block before them (``extras``)."""
    out: list[dict[str, Any]] = []
    for block in blocks:
        value = block.get("value") if block.get("type") == "non_standard" else None
        if isinstance(value, dict) and set(value) == {"cachePoint"} and out:
            prev = dict(out[-1])
            prev["extras"] = {**_extras(prev), "cache_control": cache_marker(value["cachePoint"])}
            out[-1] = prev
            continue
        out.append(block)
    return out


def _document_name(block: dict[str, Any], counter: list[int]) -> str:
    extras = _extras(block)
    raw = extras.get("name") or block.get("title") or extras.get("title")
    if not raw and isinstance(extras.get("filename"), str):
        raw = extras["filename"].rsplit(".", 1)[0]
    counter[0] += 1
    if isinstance(raw, str):
        # the API allows letters, digits, single spaces, hyphens, parentheses and brackets
        cleaned = " ".join(_NAME_BAD.sub("-", raw).split())[:200]
        if cleaned:
            return cleaned
    return f"document-{counter[0]}"


def _single_key(block: Any) -> str | None:
    if isinstance(block, dict) and len(block) == 1:
        key = next(iter(block))
        return key if isinstance(key, str) else None
    return None


# ------------------------------------------------------------------------ std -> wire media


def _format_of(block: dict[str, Any], kind: str) -> str | None:
    extras = _extras(block)
    mime = block.get("mime_type")
    fmt = extras.get("format") or MEDIA_FORMATS[kind].get(mime or "")
    if fmt or mime:
        return fmt
    if kind == "image" and isinstance(block.get("base64"), str):
        sniffed = next((m for p, m in _MAGIC.items() if block["base64"].startswith(p)), None)
        return MEDIA_FORMATS["image"].get(sniffed or "")
    url = block.get("url")
    if isinstance(url, str) and "." in url.rsplit("/", 1)[-1]:
        ext = url.rsplit(".", 1)[-1].lower()
        known = set(MEDIA_FORMATS[kind].values())
        ext = {"jpg": "jpeg", "3gp": "three_gp"}.get(ext, ext)
        if ext in known:
            return ext
    return "pdf" if kind == "file" else None


def media_to_wire(block: dict[str, Any], where: str, counter: list[int]) -> dict[str, Any]:
    """An image / file / audio / video standard block -> a Bedrock media block."""
    kind = block["type"]
    wire_key = _STANDARD_MEDIA[kind]
    extras = _extras(block)
    an = "an" if kind[0] in "aeiou" else "a"
    if isinstance(block.get("base64"), str) and block["base64"]:
        source: dict[str, Any] = {"bytes": block["base64"]}
    elif isinstance(block.get("url"), str) and block["url"].startswith("s3://"):
        source = {"s3Location": {"uri": block["url"]}}
        if extras.get("bucket_owner"):
            source["s3Location"]["bucketOwner"] = extras["bucket_owner"]
    elif block.get("url") or block.get("file_id"):
        what = "URL " + repr(block["url"]) if block.get("url") else "file_id"
        raise UserError(
            f"{where}: Bedrock Converse takes {an} {kind} as base64 bytes or an s3:// URI, not a "
            f"{what}; download it and pass base64 (with mime_type) instead."
        )
    else:
        raise UserError(f"{where}: the {kind} block has no base64 data and no s3:// url.")
    fmt = _format_of(block, kind)
    if not fmt:
        known = ", ".join(sorted(set(MEDIA_FORMATS[kind])))
        raise UserError(
            f"{where}: Bedrock Converse cannot take {an} {kind} of type "
            f"{block.get('mime_type')!r}; set mime_type to one of {known}."
        )
    out: dict[str, Any] = {"format": fmt, "source": source}
    if wire_key == "document":
        out = {"format": fmt, "name": _document_name(block, counter), "source": source}
        out.update({k: extras[k] for k in _DOCUMENT_KEYS if k in extras})
    return {wire_key: out}


def _text_plain_to_wire(block: dict[str, Any], counter: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "format": "txt",
        "name": _document_name(block, counter),
        "source": {"text": block.get("text", "")},
    }
    extras = _extras(block)
    if block.get("context") or extras.get("context"):
        out["context"] = block.get("context") or extras["context"]
    if "citations" in extras:
        out["citations"] = extras["citations"]
    return {"document": out}


def _non_standard_to_wire(block: dict[str, Any], where: str) -> dict[str, Any]:
    value = block.get("value")
    if _single_key(value) not in (None, "type"):
        return value  # type: ignore[return-value]
    kind = value.get("type") if isinstance(value, dict) else None
    if isinstance(kind, str):
        raise UserError(
            f"{where}: Bedrock Converse cannot carry a {kind!r} block; wrap a raw Bedrock block "
            "in a non_standard block to send it as is."
        )
    raise UserError(
        f"{where}: a non_standard block must wrap one Bedrock content block such as "
        f"{{'cachePoint': {{'type': 'default'}}}}, got {excerpt(value)}."
    )


def user_blocks_to_wire(content: Any, where: str, counter: list[int]) -> list[dict[str, Any]]:
    """The content of a user (or tool) message -> Bedrock content blocks.

    A block's ``cache_control`` (raw, or in ``extras``) adds a ``cachePoint`` after it.

    Raises:
        UserError: a block a user turn cannot carry (reasoning, tool calls), or media given
            as an http URL or provider file id.
    """
    out: list[dict[str, Any]] = []
    for j, block in enumerate(standard_blocks(content)):
        here = f"{where}.content[{j}]"
        kind = block.get("type")
        if kind == "text":
            if _extras(block).get("json") is True:
                try:
                    out.append({"json": json.loads(block.get("text", ""))})
                except ValueError:
                    out.append({"text": block.get("text", "")})
            else:
                out.append({"text": block.get("text", "")})
        elif kind in _STANDARD_MEDIA:
            out.append(media_to_wire(block, here, counter))
        elif kind == "text-plain":
            out.append(_text_plain_to_wire(block, counter))
        elif kind == "non_standard":
            out.append(_non_standard_to_wire(block, here))
        else:
            raise UserError(
                f"{here}: Bedrock Converse cannot take a {kind!r} block in a user turn; user "
                "content may hold text, image, file (document), audio, video and text-plain "
                "blocks."
            )
        marker = _cache_control(block)
        if marker is not None:
            out.append(cache_point(marker))
    return out


# ------------------------------------------------------------------------ wire -> std media


def media_to_standard(key: str, value: Any, where: str, fail: Fail) -> dict[str, Any]:
    """A Bedrock ``image`` / ``document`` / ``audio`` / ``video`` block -> a standard block."""
    if not isinstance(value, dict) or not isinstance(value.get("source"), dict):
        raise fail(f"{where}.{key}.source: Field required")
    kind = WIRE_MEDIA[key]
    source, fmt = value["source"], value.get("format")
    if fmt is not None and not isinstance(fmt, str):
        raise fail(f"{where}.{key}.format must be a string, got {excerpt(fmt)}")
    extras = {k: v for k, v in value.items() if k not in ("format", "source")}
    out: dict[str, Any] = {"type": kind}
    if isinstance(source.get("bytes"), str):
        out["base64"] = source["bytes"]
    elif isinstance(source.get("s3Location"), dict) and isinstance(
        source["s3Location"].get("uri"), str
    ):
        out["url"] = source["s3Location"]["uri"]
        if source["s3Location"].get("bucketOwner"):
            extras["bucket_owner"] = source["s3Location"]["bucketOwner"]
    elif key == "document" and isinstance(source.get("text"), str):
        out = {"type": "text-plain", "mime_type": "text/plain", "text": source["text"]}
        return {**out, "extras": extras} if extras else out
    else:
        return {"type": "non_standard", "value": {key: value}}
    mime = MIME_FOR_FORMAT[kind].get(fmt or "")
    if mime:
        out["mime_type"] = mime
    elif fmt:
        extras["format"] = fmt
    if extras:
        out["extras"] = extras
    return out


def user_block_to_standard(block: Any, where: str, fail: Fail) -> dict[str, Any]:
    """One Bedrock user content block (not ``toolResult``) -> a standard block."""
    key = _single_key(block)
    if key is None:
        raise fail(f"{where}: a content block must have exactly one member, got {excerpt(block)}")
    value = block[key]
    if key == "text":
        if not isinstance(value, str):
            raise fail(f"{where}.text must be a string, got {excerpt(value)}")
        return {"type": "text", "text": value}
    if key == "json":
        return {"type": "text", "text": json.dumps(value), "extras": {"json": True}}
    if key in WIRE_MEDIA:
        return media_to_standard(key, value, where, fail)
    return {"type": "non_standard", "value": block}


def tool_result_content(content: Any, where: str, counter: list[int]) -> list[dict[str, Any]]:
    """A ToolMessage's content -> ``toolResult.content`` blocks (a string is one text block)."""
    if isinstance(content, str):
        return [{"text": content}]
    return [b for b in user_blocks_to_wire(content, where, counter) if "cachePoint" not in b]


def tool_result_to_standard(value: Any, where: str, fail: Fail) -> tuple[Any, str]:
    """``toolResult`` -> (ToolMessage content, status); one text block gives a string."""
    content = value.get("content")
    if not isinstance(content, list):
        raise fail(f"{where}.toolResult.content must be a list, got {excerpt(content)}")
    blocks = [
        user_block_to_standard(b, f"{where}.toolResult.content.{k}", fail)
        for k, b in enumerate(content)
    ]
    status = value.get("status") or "success"
    if status not in ("success", "error"):
        raise fail(f"{where}.toolResult.status must be 'success' or 'error', got {status!r}")
    if len(blocks) == 1 and set(blocks[0]) == {"type", "text"}:
        return blocks[0]["text"], status
    if not blocks:
        return "", status
    return blocks, status


# -------------------------------------------------------------------------------- citations


def annotation_from_citation(raw: Any) -> dict[str, Any]:
    """A Bedrock citation -> a standard ``citation`` annotation (the raw citation in extras)."""
    ann: dict[str, Any] = {"type": "citation"}
    if not isinstance(raw, dict):
        return {**ann, "extras": {"value": raw}}
    if isinstance(raw.get("title"), str):
        ann["title"] = raw["title"]
    if isinstance(raw.get("source"), str) and raw["source"].startswith(("http://", "https://")):
        ann["url"] = raw["source"]
    pieces = raw.get("sourceContent")
    if isinstance(pieces, list):
        texts = [p.get("text") for p in pieces if isinstance(p, dict)]
        if texts and all(isinstance(t, str) for t in texts):
            ann["cited_text"] = "".join(texts)  # type: ignore[arg-type]
    ann["extras"] = dict(raw)
    return ann


def citation_from_annotation(ann: Any) -> dict[str, Any] | None:
    """A standard annotation -> a Bedrock citation; None when it did not come from Bedrock."""
    extras = ann.get("extras") if isinstance(ann, dict) else None
    if isinstance(extras, dict) and ("location" in extras or "sourceContent" in extras):
        return dict(extras)
    return None


# ---------------------------------------------------------------- assistant: wire -> std


def _tool_call(
    value: Any, where: str, fail: Fail
) -> tuple[ToolCall | None, InvalidToolCall | None]:
    if not isinstance(value, dict):
        raise fail(f"{where}.toolUse must be an object, got {excerpt(value)}")
    call_id, name, args = value.get("toolUseId"), value.get("name"), value.get("input", {})
    if not isinstance(call_id, str) or not isinstance(name, str):
        raise fail(f"{where}.toolUse needs string 'toolUseId' and 'name'; got {excerpt(value)}")
    if isinstance(args, dict):
        return {"name": name, "args": args, "id": call_id, "type": "tool_call"}, None
    text = args if isinstance(args, str) else json.dumps(args)
    calls, bad = parse_tool_call_chunks([tool_call_chunk(name=name, args=text, id=call_id)])
    return (calls[0], None) if calls else (None, bad[0])


def reasoning_to_standard(value: Any, where: str, fail: Fail) -> dict[str, Any]:
    """``reasoningContent`` -> a standard ``reasoning`` block (signature / redacted in extras)."""
    if not isinstance(value, dict):
        raise fail(f"{where}.reasoningContent must be an object, got {excerpt(value)}")
    if "redactedContent" in value:
        data = value["redactedContent"]
        if not isinstance(data, str):
            raise fail(f"{where}.reasoningContent.redactedContent must be base64 text")
        return {"type": "reasoning", "extras": {"redacted": data}}
    text_block = value.get("reasoningText")
    if not isinstance(text_block, dict) or not isinstance(text_block.get("text"), str):
        raise fail(f"{where}.reasoningContent.reasoningText.text: Field required")
    out: dict[str, Any] = {"type": "reasoning", "reasoning": text_block["text"]}
    signature = text_block.get("signature")
    if signature is not None:
        if not isinstance(signature, str):
            raise fail(f"{where}.reasoningContent.reasoningText.signature must be a string")
        out["extras"] = {"signature": signature}
    return out


def server_result_to_standard(value: Any, where: str, fail: Fail) -> dict[str, Any]:
    """An assistant ``toolResult`` (a tool the service ran) -> ``server_tool_result``."""
    if not isinstance(value, dict) or not isinstance(value.get("toolUseId"), str):
        raise fail(f"{where}.toolResult needs a string 'toolUseId'; got {excerpt(value)}")
    out: dict[str, Any] = {
        "type": "server_tool_result",
        "tool_call_id": value["toolUseId"],
        "status": "error" if value.get("status") == "error" else "success",
        "output": value.get("content"),
    }
    extras = {k: v for k, v in value.items() if k not in ("toolUseId", "status", "content")}
    if extras:
        out["extras"] = extras
    return out


def _citations_to_standard(value: Any, where: str, fail: Fail) -> dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get("content", []), list):
        raise fail(f"{where}.citationsContent must be an object with a 'content' list")
    texts = [p.get("text", "") for p in value.get("content", []) if isinstance(p, dict)]
    out: dict[str, Any] = {"type": "text", "text": "".join(t for t in texts if isinstance(t, str))}
    citations = value.get("citations") or []
    if citations:
        out["annotations"] = [annotation_from_citation(c) for c in citations]
    return out


def assistant_block_to_standard(block: Any, where: str, fail: Fail) -> tuple[str, Any]:
    """One assistant block -> ("content", std block) / ("call", ToolCall) / ("invalid", ...)."""
    key = _single_key(block)
    if key is None:
        raise fail(f"{where}: a content block must have exactly one member, got {excerpt(block)}")
    value = block[key]
    if key == "text":
        if not isinstance(value, str):
            raise fail(f"{where}.text must be a string, got {excerpt(value)}")
        return "content", {"type": "text", "text": value}
    if key == "toolUse":
        if isinstance(value, dict) and value.get("type") == _SERVER_TOOL:
            call, bad = _tool_call(value, where, fail)
            args = call["args"] if call else {}
            std = {"type": "server_tool_call", "id": value["toolUseId"], "name": value["name"]}
            return "content", {**std, "args": args, "extras": {"type": _SERVER_TOOL}}
        call, bad = _tool_call(value, where, fail)
        return ("call", call) if call else ("invalid", bad)
    if key == "reasoningContent":
        return "content", reasoning_to_standard(value, where, fail)
    if key == "toolResult":
        return "content", server_result_to_standard(value, where, fail)
    if key == "citationsContent":
        return "content", _citations_to_standard(value, where, fail)
    if key in WIRE_MEDIA:
        return "content", media_to_standard(key, value, where, fail)
    return "content", {"type": "non_standard", "value": block}


def assistant_content_to_standard(
    blocks: Any, where: str, fail: Fail
) -> tuple[Any, list[ToolCall], list[InvalidToolCall]]:
    """Assistant content blocks -> (content, tool_calls, invalid_tool_calls).

    Content is a string when it is one plain text block (or nothing), else standard blocks.
    """
    if not isinstance(blocks, list):
        raise fail(f"{where} must be a list, got {excerpt(blocks)}")
    content: list[dict[str, Any]] = []
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    for j, block in enumerate(blocks):
        kind, value = assistant_block_to_standard(block, f"{where}.{j}", fail)
        if kind == "call":
            calls.append(value)
        elif kind == "invalid":
            invalid.append(value)
        else:
            content.append(value)
    content = attach_cache_points(content)
    if not content:
        return "", calls, invalid
    if len(content) == 1 and set(content[0]) == {"type", "text"}:
        return content[0]["text"], calls, invalid
    return content, calls, invalid


# ---------------------------------------------------------------- assistant: std -> wire


def text_to_wire(block: dict[str, Any]) -> dict[str, Any]:
    """A text block -> ``text``, or ``citationsContent`` when it has Bedrock citations."""
    citations = [c for c in map(citation_from_annotation, block.get("annotations") or []) if c]
    if citations:
        content = [{"text": block["text"]}]
        return {"citationsContent": {"content": content, "citations": citations}}
    return {"text": block["text"]}


def reasoning_to_wire(block: dict[str, Any], *, for_request: bool) -> dict[str, Any] | None:
    """A reasoning block -> ``reasoningContent``; None for unsigned reasoning sent as history.

    Models that sign their reasoning (Claude) reject unsigned reasoning in the history, and
    the rest do not need it back, so reasoning without a signature is not sent.
    """
    extras = _extras(block)
    if extras.get("redacted"):
        return {"reasoningContent": {"redactedContent": extras["redacted"]}}
    signature = extras.get("signature")
    if not signature and for_request:
        return None
    text: dict[str, Any] = {"text": block.get("reasoning", "")}
    if signature:
        text["signature"] = signature
    return {"reasoningContent": {"reasoningText": text}}


def server_call_to_wire(block: dict[str, Any]) -> dict[str, Any]:
    """A ``server_tool_call`` block -> a ``toolUse`` of type ``server_tool_use``."""
    use = {
        "toolUseId": block.get("id") or new_tool_use_id(),
        "name": block.get("name", ""),
        "input": block.get("args") or {},
        "type": _SERVER_TOOL,
    }
    return {"toolUse": use}


def server_result_to_wire(block: dict[str, Any]) -> dict[str, Any]:
    """A ``server_tool_result`` block -> an assistant ``toolResult``."""
    output = block.get("output")
    content = output if isinstance(output, list) else [{"text": str(output or "")}]
    result: dict[str, Any] = {"toolUseId": block.get("tool_call_id", ""), "content": content}
    if block.get("status") == "error":
        result["status"] = "error"
    result.update(_extras(block))
    return {"toolResult": result}


def assistant_block_to_wire(
    block: dict[str, Any], where: str, *, for_request: bool, counter: list[int]
) -> dict[str, Any] | None:
    """One standard block of an AI message -> a Bedrock block (None: nothing to send)."""
    kind = block.get("type")
    if kind == "text":
        return text_to_wire(block) if block.get("text") else None  # blank text is rejected
    if kind == "reasoning":
        return reasoning_to_wire(block, for_request=for_request)
    if kind == "server_tool_call":
        return server_call_to_wire(block)
    if kind == "server_tool_result":
        return server_result_to_wire(block)
    if kind in _STANDARD_MEDIA:
        return media_to_wire(block, where, counter)
    if kind == "non_standard":
        return _non_standard_to_wire(block, where)
    if kind in ("tool_call_chunk", "invalid_tool_call", "server_tool_call_chunk"):
        return None  # streaming leftovers; tool calls are sent from message.tool_calls
    raise UserError(
        f"{where}: Bedrock Converse cannot carry a {kind!r} block in an assistant turn; "
        "assistant content may hold text, reasoning, media and server tool blocks."
    )


def encode_assistant_content(
    message: AIMessage, where: str, *, for_request: bool, counter: list[int] | None = None
) -> list[dict[str, Any]]:
    """An AI message's content and tool calls -> Bedrock assistant content blocks.

    Tool calls follow the content. Invalid tool calls go back with empty input in a request
    (the API needs the call to accept its result) and with the raw argument string in a
    rendered reply, so a client sees the fault.
    """
    counter = counter if counter is not None else [0]
    out: list[dict[str, Any]] = []
    sent: set[Any] = set()
    for j, block in enumerate(standard_blocks(message.content)):
        if block.get("type") == "tool_call":
            call_id = block.get("id") or new_tool_use_id()
            use = {"toolUseId": call_id, "name": block.get("name"), "input": block.get("args")}
            out.append({"toolUse": {**use, "input": use["input"] or {}}})
            sent.add(call_id)
            continue
        wire = assistant_block_to_wire(
            block, f"{where}.content[{j}]", for_request=for_request, counter=counter
        )
        if wire is not None:
            out.append(wire)
        marker = _cache_control(block) if for_request else None
        if marker is not None and wire is not None:
            out.append(cache_point(marker))
    for call in message.tool_calls:
        if call["id"] in sent and call["id"] is not None:
            continue
        use = {"toolUseId": call["id"] or new_tool_use_id(), "name": call["name"]}
        out.append({"toolUse": {**use, "input": call["args"]}})
    for bad in message.invalid_tool_calls:
        if bad.get("id") in sent and bad.get("id") is not None:
            continue
        if for_request and not bad.get("id"):
            continue
        use = {"toolUseId": bad.get("id") or new_tool_use_id(), "name": bad.get("name") or ""}
        args: Any = {} if for_request else (bad.get("args") or "")
        out.append({"toolUse": {**use, "input": args}})
    return out
