"""Tables and block translations shared by both sides of the Anthropic Messages codec.

Every translation here exists in both directions (wire -> standard and standard -> wire), so
the client and the server side cannot drift apart. Functions that read wire data take a
`fail` callable that turns a problem description into the right exception: `DecodeError`
when reading a provider response, `BadRequestError` when an emulator reads a request.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import string
from collections.abc import Callable
from typing import Any

from ...exceptions import (
    AuthenticationError,
    BadRequestError,
    DecodeError,
    OverloadedError,
    ProviderError,
    UserError,
    error_for_status,
)
from ...messages import (
    AUTO_ID_PREFIX,
    AIMessage,
    InputTokenDetails,
    InvalidToolCall,
    ToolCall,
    UsageMetadata,
    build_usage,
    parse_tool_call_chunks,
    standard_blocks,
    tool_call_chunk,
)
from .._common import excerpt, has_credentials

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "PROTOCOL",
    "PROVIDER",
    "SSE_EVENT_FIELD",
    "STREAM_FORMAT",
]

PROTOCOL = "anthropic-messages"
STREAM_FORMAT = "sse"
SSE_EVENT_FIELD = "type"
PROVIDER = "anthropic"
DEFAULT_MAX_TOKENS = 1024
"""`max_tokens` sent when params give none: the API requires the field and has no default."""

Fail = Callable[[str], Exception]
"""Turns a problem description into the exception to raise (DecodeError, BadRequestError)."""

# https://docs.anthropic.com/en/api/messages -> stop_reason
STOP_REASON = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    # a long server-tool turn paused early; the reply is complete as far as it goes
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "refusal",
}
FINISH_REASON_BACK = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
    "refusal": "refusal",
}

ERROR_TYPE_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}
STATUS_ERROR_TYPE = {status: kind for kind, status in ERROR_TYPE_STATUS.items()}

_TTL_KEYS = ("ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens")
# The cache-write breakdown by TTL joins `input_token_details` once `InputTokenDetails` declares
# its keys (the TypedDict forbids others); `response_metadata["cache_creation"]` always has it.
_TTL_IN_USAGE = all(key in InputTokenDetails.__annotations__ for key in _TTL_KEYS)
SERVER_TOOL_USES = frozenset({"server_tool_use", "mcp_tool_use"})
_CITATION_DOCUMENT_TYPES = frozenset({"char_location", "page_location", "content_block_location"})
_BASE62 = string.ascii_letters + string.digits


# ---------------------------------------------------------------------------------- helpers


def new_id(prefix: str) -> str:
    """A fresh provider-looking id such as ``msg_01...`` or ``toolu_01...``."""
    return prefix + "01" + "".join(secrets.choice(_BASE62) for _ in range(22))


def provider_id(value: str | None, prefix: str) -> str:
    """`value` unless it is missing or an id myna made up, else a fresh provider id."""
    if value and not value.startswith(AUTO_ID_PREFIX):
        return value
    return new_id(prefix)


def stop_reason_for(message: AIMessage) -> str:
    """The wire ``stop_reason`` for a reply: the raw one kept in metadata, else mapped back."""
    meta = message.response_metadata
    raw = meta.get("stop_reason")
    if isinstance(raw, str):
        return raw
    finish = meta.get("finish_reason")
    if isinstance(finish, str) and finish in FINISH_REASON_BACK:
        return FINISH_REASON_BACK[finish]
    return "tool_use" if message.tool_calls else "end_turn"


def stop_metadata(stop_reason: str, stop_sequence: Any) -> dict[str, Any]:
    """``finish_reason`` (normalised), ``stop_reason`` and, when set, ``stop_sequence``."""
    meta: dict[str, Any] = {
        "finish_reason": STOP_REASON.get(stop_reason, stop_reason),
        "stop_reason": stop_reason,
    }
    if stop_sequence is not None:
        meta["stop_sequence"] = stop_sequence
    return meta


def cache_control_of(block: dict[str, Any]) -> Any:
    """A block's cache marker: a raw ``cache_control`` key or ``extras["cache_control"]``."""
    if block.get("cache_control") is not None:
        return block["cache_control"]
    extras = block.get("extras")
    if isinstance(extras, dict):
        return extras.get("cache_control")
    return None


# ------------------------------------------------------------------------------------ usage


def _count(raw: dict[str, Any], key: str, fail: Fail) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(f"usage.{key} must be an integer, got {excerpt(value)}")
    return value


def usage_from_wire(raw: Any, fail: Fail) -> UsageMetadata:
    """Anthropic ``usage`` -> `UsageMetadata`; input counts include cache reads and writes."""
    if not isinstance(raw, dict):
        raise fail(f"usage must be an object, got {excerpt(raw)}")
    fresh = _count(raw, "input_tokens", fail) or 0
    read = _count(raw, "cache_read_input_tokens", fail)
    created = _count(raw, "cache_creation_input_tokens", fail)
    output = _count(raw, "output_tokens", fail) or 0
    ttl: dict[str, int] = {}
    by_ttl = raw.get("cache_creation")
    if isinstance(by_ttl, dict):
        for key in _TTL_KEYS:
            value = _count(by_ttl, key, fail)
            if value and _TTL_IN_USAGE:
                ttl[key] = value
    thinking = None
    out_details = raw.get("output_tokens_details")
    if isinstance(out_details, dict):
        thinking = _count(out_details, "thinking_tokens", fail)
    return build_usage(
        fresh + (read or 0) + (created or 0),
        output,
        cache_read=read,
        cache_creation=created,
        reasoning=thinking,
        input_extra=ttl,
    )


def cache_ttl_metadata(raw: Any) -> dict[str, Any]:
    """``response_metadata`` keeping a usage's non-zero cache-write breakdown by TTL."""
    by_ttl = raw.get("cache_creation") if isinstance(raw, dict) else None
    if isinstance(by_ttl, dict) and any(by_ttl.get(key) for key in _TTL_KEYS):
        return {"cache_creation": by_ttl}
    return {}


def usage_to_wire(usage: UsageMetadata | None, by_ttl: Any = None) -> dict[str, Any]:
    """`UsageMetadata` -> Anthropic ``usage`` (zeros for None: the API always reports usage).

    Args:
        by_ttl: a ``cache_creation`` breakdown kept in response metadata, used when the
            usage details do not carry it.
    """
    if usage is None:
        return {"input_tokens": 0, "output_tokens": 0}
    details: dict[str, Any] = dict(usage.get("input_token_details") or {})
    read = details.get("cache_read")
    created = details.get("cache_creation")
    fresh = max(usage.get("input_tokens", 0) - (read or 0) - (created or 0), 0)
    raw: dict[str, Any] = {"input_tokens": fresh}
    if created is not None:
        raw["cache_creation_input_tokens"] = created
    if read is not None:
        raw["cache_read_input_tokens"] = read
    from_details = {key: details[key] for key in _TTL_KEYS if key in details}
    if isinstance(by_ttl, dict):
        # the metadata copy is the whole breakdown (zeros included); details keep non-zeros
        raw["cache_creation"] = {**from_details, **by_ttl}
    elif from_details:
        raw["cache_creation"] = from_details
    raw["output_tokens"] = usage.get("output_tokens", 0)
    reasoning = (usage.get("output_token_details") or {}).get("reasoning")
    if reasoning is not None:
        raw["output_tokens_details"] = {"thinking_tokens": reasoning}
    return raw


def usage_minus(new: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    """`new - old` key by key, so chunks that add up give the newest cumulative usage."""
    if not old:
        return new
    out: dict[str, Any] = {}
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, dict):
            out[key] = usage_minus(value, before if isinstance(before, dict) else None)
        elif isinstance(value, int) and isinstance(before, int):
            out[key] = value - before
        else:
            out[key] = value
    return out


# -------------------------------------------------------------------------------- citations


def citation_to_annotation(raw: dict[str, Any]) -> dict[str, Any]:
    """An Anthropic citation -> a standard ``citation`` annotation (raw fields in extras)."""
    ann: dict[str, Any] = {"type": "citation"}
    if isinstance(raw.get("url"), str):
        ann["url"] = raw["url"]
    title = raw.get("title") if raw.get("title") is not None else raw.get("document_title")
    if title is not None:
        ann["title"] = title
    if "cited_text" in raw:
        ann["cited_text"] = raw["cited_text"]
    skip = {"url", "title", "document_title", "cited_text"}
    ann["extras"] = {k: v for k, v in raw.items() if k not in skip}
    return ann


def annotation_to_citation(ann: Any) -> dict[str, Any] | None:
    """A standard annotation -> an Anthropic citation; None when it did not come from Anthropic.

    Citations from other providers are not sent: Anthropic only accepts its own citation
    shapes (web results need their ``encrypted_index``), and would reject the request.
    """
    if not isinstance(ann, dict):
        return None
    extras = ann.get("extras")
    if not isinstance(extras, dict) or not isinstance(extras.get("type"), str):
        return None
    raw = dict(extras)
    if "cited_text" in ann:
        raw["cited_text"] = ann["cited_text"]
    if "url" in ann:
        raw["url"] = ann["url"]
    if "title" in ann:
        key = "document_title" if raw["type"] in _CITATION_DOCUMENT_TYPES else "title"
        raw[key] = ann["title"]
    return raw


# ---------------------------------------------------------- assistant content: wire -> std


def _tool_call_from_use(
    block: dict[str, Any], where: str, fail: Fail
) -> tuple[ToolCall | None, InvalidToolCall | None]:
    call_id, name, args = block.get("id"), block.get("name"), block.get("input", {})
    if not isinstance(call_id, str) or not isinstance(name, str):
        raise fail(f"{where}: a tool_use block needs string 'id' and 'name'; got {excerpt(block)}")
    if isinstance(args, dict):
        return {"name": name, "args": args, "id": call_id, "type": "tool_call"}, None
    if isinstance(args, str):  # not what the API sends, but what an emulator fault may
        calls, bad = parse_tool_call_chunks([tool_call_chunk(name=name, args=args, id=call_id)])
        return (calls[0], None) if calls else (None, bad[0])
    raise fail(f"{where}.input must be an object, got {excerpt(args)}")


def server_tool_result_to_standard(block: dict[str, Any], where: str, fail: Fail) -> dict:
    """A ``*_tool_result`` block (web search, code execution, MCP...) -> ``server_tool_result``."""
    tool_use_id = block.get("tool_use_id")
    if not isinstance(tool_use_id, str):
        raise fail(f"{where}: {block.get('type')} needs a string 'tool_use_id'")
    output = block.get("content")
    failed = block.get("is_error") is True or (
        isinstance(output, dict) and str(output.get("type", "")).endswith("_error")
    )
    extras = {k: v for k, v in block.items() if k not in ("type", "tool_use_id", "content")}
    extras["block_type"] = block["type"]
    return {
        "type": "server_tool_result",
        "tool_call_id": tool_use_id,
        "status": "error" if failed else "success",
        "output": output,
        "extras": extras,
    }


def server_tool_use_to_standard(block: dict[str, Any], where: str, fail: Fail) -> dict:
    """A ``server_tool_use`` / ``mcp_tool_use`` block -> ``server_tool_call``."""
    call_id, name, args = block.get("id"), block.get("name"), block.get("input", {})
    if not isinstance(call_id, str) or not isinstance(name, str) or not isinstance(args, dict):
        raise fail(f"{where}: {block['type']} needs string 'id', 'name' and an object 'input'")
    out: dict[str, Any] = {"type": "server_tool_call", "id": call_id, "name": name, "args": args}
    extras = {k: v for k, v in block.items() if k not in ("type", "id", "name", "input")}
    if block["type"] != "server_tool_use":
        extras["block_type"] = block["type"]
    if extras:
        out["extras"] = extras
    return out


def is_server_tool_result(kind: str) -> bool:
    """True for ``web_search_tool_result`` and kin; False for the client ``tool_result``."""
    return kind.endswith("_tool_result") and kind != "tool_result"


def assistant_block_to_standard(block: dict[str, Any], where: str, fail: Fail) -> dict[str, Any]:
    """One assistant content block (not ``tool_use``) -> a standard block."""
    kind = block["type"]
    if kind == "text":
        text, citations = block.get("text"), block.get("citations")
        if not isinstance(text, str):
            raise fail(f"{where}.text must be a string, got {excerpt(text)}")
        out: dict[str, Any] = {"type": "text", "text": text}
        if citations:
            if not isinstance(citations, list) or not all(isinstance(c, dict) for c in citations):
                raise fail(f"{where}.citations must be a list of objects")
            out["annotations"] = [citation_to_annotation(c) for c in citations]
        return out
    if kind == "thinking":
        thinking, signature = block.get("thinking"), block.get("signature")
        if not isinstance(thinking, str) or not isinstance(signature, (str, type(None))):
            raise fail(f"{where}: a thinking block needs string 'thinking' and 'signature'")
        out = {"type": "reasoning", "reasoning": thinking}
        if signature:
            out["extras"] = {"signature": signature}
        return out
    if kind == "redacted_thinking":
        if not isinstance(block.get("data"), str):
            raise fail(f"{where}: a redacted_thinking block needs a string 'data'")
        return {"type": "reasoning", "extras": {"redacted": block["data"]}}
    if kind in SERVER_TOOL_USES:
        return server_tool_use_to_standard(block, where, fail)
    if is_server_tool_result(kind):
        return server_tool_result_to_standard(block, where, fail)
    return {"type": "non_standard", "value": block}


def decode_assistant_content(
    blocks: Any, where: str, fail: Fail
) -> tuple[str | list[dict[str, Any]], list[ToolCall], list[InvalidToolCall]]:
    """Assistant wire content -> (content, tool calls, invalid tool calls).

    Content is a plain string when the reply is a single text block without citations (or
    has no content besides tool calls), else a list of standard blocks. ``tool_use`` blocks
    become tool calls rather than content.
    """
    if isinstance(blocks, str):
        return blocks, [], []
    if not isinstance(blocks, list):
        raise fail(f"{where} must be a list of content blocks, got {excerpt(blocks)}")
    content: list[dict[str, Any]] = []
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    for j, block in enumerate(blocks):
        here = f"{where}.{j}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            raise fail(f"{here} must be an object with a string 'type', got {excerpt(block)}")
        if block["type"] == "tool_use":
            call, bad = _tool_call_from_use(block, here, fail)
            if call:
                calls.append(call)
            if bad:
                invalid.append(bad)
            continue
        content.append(assistant_block_to_standard(block, here, fail))
    if not content:
        return "", calls, invalid
    if len(content) == 1 and content[0]["type"] == "text" and "annotations" not in content[0]:
        return content[0]["text"], calls, invalid
    return content, calls, invalid


# ---------------------------------------------------------- assistant content: std -> wire


def _citations(block: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for ann in block.get("annotations") or []:
        raw = annotation_to_citation(ann)
        if raw is not None:
            out.append(raw)
    return out


def _server_call_to_wire(block: dict[str, Any]) -> dict[str, Any]:
    extras = dict(block.get("extras") or {})
    out: dict[str, Any] = {
        "type": extras.pop("block_type", "server_tool_use"),
        "id": block.get("id") or new_id("srvtoolu_"),
        "name": block.get("name", ""),
        "input": block.get("args") or {},
    }
    out.update(extras)
    return out


def _server_result_to_wire(block: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    extras = dict(block.get("extras") or {})
    call_id = block.get("tool_call_id", "")
    kind = extras.pop("block_type", None) or f"{names.get(call_id, 'web_search')}_tool_result"
    out: dict[str, Any] = {"type": kind, "tool_use_id": call_id, "content": block.get("output")}
    out.update(extras)
    return out


def assistant_block_to_wire(
    block: dict[str, Any], where: str, *, for_request: bool, names: dict[str, str]
) -> dict[str, Any] | None:
    """One standard block of an AI message -> an Anthropic block (None: nothing to send).

    Args:
        for_request: True when the block goes back to the API as history. Reasoning without
            a signature is then left out, since the API rejects unsigned thinking blocks;
            a rendered response keeps it with an empty signature.
        names: server tool call id -> tool name, to name result blocks without a block_type.
    """
    kind = block.get("type")
    if kind == "text":
        if not block.get("text"):
            return None  # the API rejects empty text blocks
        out: dict[str, Any] = {"type": "text", "text": block["text"]}
        citations = _citations(block)
        if citations:
            out["citations"] = citations
        marker = cache_control_of(block)
        if marker is not None and for_request:
            out["cache_control"] = marker
        return out
    if kind == "reasoning":
        extras = block.get("extras") or {}
        if extras.get("redacted"):
            return {"type": "redacted_thinking", "data": extras["redacted"]}
        signature = extras.get("signature")
        if not signature and for_request:
            return None
        return {
            "type": "thinking",
            "thinking": block.get("reasoning", ""),
            "signature": signature or "",
        }
    if kind == "server_tool_call":
        return _server_call_to_wire(block)
    if kind == "server_tool_result":
        return _server_result_to_wire(block, names)
    if kind == "non_standard":
        value = block.get("value")
        if isinstance(value, dict) and isinstance(value.get("type"), str):
            return value
        raise UserError(
            f"{where}: a non_standard block must wrap an Anthropic block dict with a 'type', "
            f"got {excerpt(value)}."
        )
    if kind in ("tool_call_chunk", "invalid_tool_call", "server_tool_call_chunk"):
        return None  # streaming leftovers; tool calls are sent from message.tool_calls
    raise UserError(
        f"{where}: Anthropic Messages cannot carry a {kind!r} block in an assistant turn; "
        "assistant content may hold text, reasoning and server tool blocks."
    )


def encode_assistant_content(
    message: AIMessage, where: str, *, for_request: bool
) -> list[dict[str, Any]]:
    """An AI message's content and tool calls -> Anthropic assistant content blocks.

    Tool calls follow the content in order. Tool-call blocks already in the content (from
    LangChain-style messages) are sent at their position and not repeated.
    """
    blocks = standard_blocks(message.content)
    names = {b.get("id"): b.get("name") for b in blocks if b.get("type") == "server_tool_call"}
    out: list[dict[str, Any]] = []
    sent: set[Any] = set()
    for j, block in enumerate(blocks):
        kind = block.get("type")
        value = block.get("value")
        if kind == "tool_call" or (
            kind == "non_standard" and isinstance(value, dict) and value.get("type") == "tool_use"
        ):
            raw = block if kind == "tool_call" else block["value"]
            call_id = raw.get("id") or new_id("toolu_")
            args = raw.get("args") if kind == "tool_call" else raw.get("input")
            out.append(
                {"type": "tool_use", "id": call_id, "name": raw.get("name"), "input": args or {}}
            )
            sent.add(call_id)
            continue
        wire = assistant_block_to_wire(
            block, f"{where}.content[{j}]", for_request=for_request, names=names
        )
        if wire is not None:
            out.append(wire)
    for call in message.tool_calls:
        if call["id"] in sent:
            continue
        call_id = call["id"] or new_id("toolu_")
        use = {"type": "tool_use", "id": call_id, "name": call["name"], "input": call["args"]}
        if not for_request:
            use["caller"] = dict(TOOL_CALLER)  # who made the call: the model itself
        out.append(use)
    for bad in message.invalid_tool_calls:
        if bad.get("id") in sent:
            continue
        if for_request:
            # The API needs the call in history to accept its tool_result; its args never
            # parsed, so it goes back with empty input.
            if bad.get("id"):
                out.append(
                    {
                        "type": "tool_use",
                        "id": bad["id"],
                        "name": bad.get("name") or "",
                        "input": {},
                    }
                )
        else:
            # A rendered reply keeps the broken arguments as a string so the client sees them.
            out.append(
                {
                    "type": "tool_use",
                    "id": bad.get("id") or new_id("toolu_"),
                    "name": bad.get("name") or "",
                    "input": bad.get("args") or "",
                    "caller": dict(TOOL_CALLER),
                }
            )
    return out


# --------------------------------------------------------- user / tool content: std <-> wire

_MAGIC = {"iVBOR": "image/png", "/9j/": "image/jpeg", "R0lGOD": "image/gif", "UklGR": "image/webp"}
_DOCUMENT_KEYS = ("cache_control", "title", "context", "citations")


def _sniff_image(data: str) -> str | None:
    for prefix, mime in _MAGIC.items():
        if data.startswith(prefix):
            return mime
    return None


def _passthrough(block: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    extras = block.get("extras") if isinstance(block.get("extras"), dict) else {}
    out = {}
    for key in keys:
        value = block.get(key) if block.get(key) is not None else extras.get(key)
        if value is not None:
            out[key] = value
    return out


def _image_to_wire(block: dict[str, Any], where: str) -> dict[str, Any]:
    if isinstance(block.get("source"), dict):
        return {k: v for k, v in block.items() if k != "index"}  # already Anthropic-shaped
    if block.get("base64"):
        mime = block.get("mime_type") or _sniff_image(block["base64"])
        if not mime:
            raise UserError(
                f"{where}: the image block has base64 data but no mime_type, and its bytes are "
                "not PNG, JPEG, GIF or WebP; set mime_type, e.g. 'image/png'."
            )
        source = {"type": "base64", "media_type": mime, "data": block["base64"]}
    elif block.get("url"):
        source = {"type": "url", "url": block["url"]}
    elif block.get("file_id"):
        source = {"type": "file", "file_id": block["file_id"]}
    else:
        raise UserError(f"{where}: the image block has none of base64, url or file_id.")
    return {"type": "image", "source": source, **_passthrough(block, ("cache_control",))}


def _file_to_wire(block: dict[str, Any], where: str) -> dict[str, Any]:
    mime = block.get("mime_type")
    if block.get("base64"):
        if mime in (None, "application/pdf"):
            source: dict[str, Any] = {
                "type": "base64",
                "media_type": "application/pdf",
                "data": block["base64"],
            }
        elif mime.startswith("text/"):
            try:
                text = base64.b64decode(block["base64"], validate=True).decode("utf-8")
            except (binascii.Error, ValueError) as exc:
                raise UserError(
                    f"{where}: the {mime} file is not base64 UTF-8 text ({exc})."
                ) from None
            source = {"type": "text", "media_type": "text/plain", "data": text}
        else:
            raise UserError(
                f"{where}: Anthropic Messages takes PDF and plain-text documents, not {mime!r}; "
                "convert the file to PDF or text first."
            )
    elif block.get("url"):
        source = {"type": "url", "url": block["url"]}
    elif block.get("file_id"):
        source = {"type": "file", "file_id": block["file_id"]}
    else:
        raise UserError(f"{where}: the file block has none of base64, url or file_id.")
    return {"type": "document", "source": source, **_passthrough(block, _DOCUMENT_KEYS)}


def user_block_to_wire(block: dict[str, Any], where: str) -> dict[str, Any]:
    """One standard block of a user or tool message -> an Anthropic block.

    Raises:
        UserError: the block is audio, video, reasoning or a tool call, which a user turn
            cannot carry.
    """
    kind = block.get("type")
    if kind == "text":
        out: dict[str, Any] = {"type": "text", "text": block.get("text", "")}
        out.update(_passthrough(block, ("cache_control", "citations")))
        return out
    if kind == "image":
        return _image_to_wire(block, where)
    if kind == "file":
        return _file_to_wire(block, where)
    if kind == "text-plain":
        source = {"type": "text", "media_type": "text/plain", "data": block.get("text", "")}
        return {"type": "document", "source": source, **_passthrough(block, _DOCUMENT_KEYS)}
    if kind == "non_standard":
        value = block.get("value")
        if isinstance(value, dict) and isinstance(value.get("type"), str):
            return value
        raise UserError(
            f"{where}: a non_standard block must wrap an Anthropic block dict with a 'type', "
            f"got {excerpt(value)}."
        )
    raise UserError(
        f"{where}: Anthropic Messages cannot take a {kind!r} block as input; user content may "
        "hold text, image (base64, url, file_id), file (PDF or text) and text-plain blocks."
    )


def _source_to_standard(kind: str, block: dict[str, Any], where: str, fail: Fail) -> dict:
    source = block["source"]
    stype = source.get("type")
    extras = {k: v for k, v in block.items() if k not in ("type", "source")}
    out: dict[str, Any] = {"type": kind}
    if stype == "base64":
        if not isinstance(source.get("data"), str) or not isinstance(source.get("media_type"), str):
            raise fail(f"{where}.source: a base64 source needs string 'media_type' and 'data'")
        out["base64"] = source["data"]
        out["mime_type"] = source["media_type"]
    elif stype == "url" and isinstance(source.get("url"), str):
        out["url"] = source["url"]
    elif stype == "file" and isinstance(source.get("file_id"), str):
        out["file_id"] = source["file_id"]
    elif stype == "text" and kind == "file" and isinstance(source.get("data"), str):
        out = {"type": "text-plain", "mime_type": "text/plain", "text": source["data"]}
    else:
        return {"type": "non_standard", "value": block}
    if extras:
        out["extras"] = extras
    return out


def user_block_to_standard(block: dict[str, Any], where: str, fail: Fail) -> dict[str, Any]:
    """One Anthropic user content block (not ``tool_result``) -> a standard block."""
    kind = block["type"]
    if kind == "text":
        if not isinstance(block.get("text"), str):
            raise fail(f"{where}.text: Input should be a valid string")
        out: dict[str, Any] = {"type": "text", "text": block["text"]}
        extras = {k: v for k, v in block.items() if k not in ("type", "text")}
        if extras:
            out["extras"] = extras
        return out
    if kind in ("image", "document"):
        if not isinstance(block.get("source"), dict):
            raise fail(f"{where}.source: Field required")
        return _source_to_standard("image" if kind == "image" else "file", block, where, fail)
    return {"type": "non_standard", "value": block}


# ------------------------------------------------------------------------------------ errors


def error_from_payload(
    status: int | None,
    payload: Any,
    headers: dict[str, str] | None = None,
    *,
    fallback: str = "",
) -> ProviderError:
    """The `ProviderError` for an Anthropic error body ``{"type": "error", "error": {...}}``.

    `status` None means the error arrived inside a stream: the status is inferred from the
    error type for the class, and the raised error's `status_code` stays None.
    """
    kind, message = None, None
    if isinstance(payload, dict):
        error = payload.get("error")
        if isinstance(error, dict):
            kind = error.get("type") if isinstance(error.get("type"), str) else None
            message = error.get("message") if isinstance(error.get("message"), str) else None
        elif isinstance(error, str):
            message = error
        elif isinstance(payload.get("message"), str):
            message = payload["message"]
    if not message:
        message = fallback or (f"{kind} (no message)" if kind else "error with no message")
    effective = status if status is not None else ERROR_TYPE_STATUS.get(kind or "", 500)
    kwargs: dict[str, Any] = {
        "provider": PROVIDER,
        "body": payload,
        "headers": headers,
        "type": kind,  # Anthropic's errors have a type and no code
    }
    if kind == "overloaded_error":
        err: ProviderError = OverloadedError(message, status_code=effective, **kwargs)
    else:
        err = error_for_status(effective, message, **kwargs)
    if status is None:
        err.status_code = None
    return err


def bad_request(message: str) -> BadRequestError:
    """The 400 the real API answers for an invalid request, with its error body."""
    body = {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": message},
        "request_id": new_id("req_"),
    }
    return BadRequestError(message, status_code=400, provider=PROVIDER, body=body)


def decode_failure(prefix: str) -> Fail:
    """A `Fail` raising `DecodeError` with `prefix` (say which body or event is at fault)."""

    def fail(problem: str) -> Exception:
        return DecodeError(f"{prefix}: {problem}")

    return fail


DEFAULT_MODEL_NAME = "claude-sonnet-4-5"
"""Model named in rendered replies when neither the reply nor the request names one."""


def reply_model_name(message: AIMessage, params: dict[str, Any] | None) -> str:
    named = message.response_metadata.get("model_name")
    if isinstance(named, str) and named:
        return named
    requested = (params or {}).get("model")
    return requested if isinstance(requested, str) and requested else DEFAULT_MODEL_NAME


TOOL_CALLER = {"type": "direct"}
"""The ``caller`` of a ``tool_use`` block the model made itself, as the API reports it (code
execution's programmatic calls name their container instead); only on rendered replies."""
DEFAULT_SERVICE_TIER = "standard"
"""``usage.service_tier`` of a rendered reply that names none (what the API reports)."""
DEFAULT_INFERENCE_GEO = "not_available"
"""``usage.inference_geo`` of a rendered reply that names none (what the API reports)."""


def reply_usage(message: AIMessage) -> dict[str, Any]:
    """A rendered reply's ``usage`` with every field the API always sends: both cache counts
    (0 when the reply has none), the ``cache_creation`` breakdown by TTL (a write without
    one is the default 5-minute cache), ``service_tier`` and ``inference_geo``."""
    meta = message.response_metadata
    raw = usage_to_wire(message.usage_metadata, meta.get("cache_creation"))
    created = raw.get("cache_creation_input_tokens") or 0
    by_ttl = {"ephemeral_5m_input_tokens": created, "ephemeral_1h_input_tokens": 0}
    by_ttl.update(raw.get("cache_creation") or {})
    usage: dict[str, Any] = {
        "input_tokens": raw["input_tokens"],
        "cache_creation_input_tokens": created,
        "cache_read_input_tokens": raw.get("cache_read_input_tokens") or 0,
        "cache_creation": by_ttl,
        **{k: v for k, v in raw.items() if k not in ("input_tokens", "cache_creation")},
    }
    usage["service_tier"] = meta.get("service_tier") or DEFAULT_SERVICE_TIER
    usage["inference_geo"] = meta.get("inference_geo") or DEFAULT_INFERENCE_GEO
    return usage


def reply_metadata(body: dict[str, Any], fail: Fail) -> dict[str, Any]:
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


# ---------------------------------------------------------------- protocol facts

PATHS = (r"/messages$",)
"""Regular expressions for the request paths this protocol serves (`re.search` on the path)."""

AUTH_HEADERS = ("x-api-key", "authorization")
"""Headers that carry the API key (``authorization: Bearer`` for OAuth tokens)."""

CLIENT_HEADERS: tuple[str, ...] = ("anthropic-version",)
"""Headers only this protocol's clients send, which pick it where protocols share a path."""

FORCED_TOOL_CHOICE = True
"""Whether a request can force the model to call a named tool."""


def request_model(path: str) -> str | None:
    """The model a request path names: None, the model travels in the body."""
    return None


def request_streams(path: str, body: dict[str, Any]) -> bool:
    """Whether a request asks for a stream: ``"stream": true`` in the body."""
    return bool(body.get("stream"))


def auth_error(path: str, headers: dict[str, str], query: str) -> ProviderError | None:
    """What the API answers a request without an API key (401), or None when it has one."""
    if has_credentials(headers, AUTH_HEADERS):
        return None
    return AuthenticationError("x-api-key header is required", status_code=401)
