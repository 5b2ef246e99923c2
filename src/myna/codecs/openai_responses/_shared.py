"""Wire tables and translations shared by both sides of the OpenAI Responses codec.

The two directions use the same helpers, so what the client encodes the server decodes and
what the server renders the client decodes:

- content parts <-> standard blocks (`input_part` / `block_from_part`);
- output items <-> blocks and tool calls (`decode_item` / `build_ai_items`);
- annotations <-> citations, usage <-> `UsageMetadata`, tools and tool choice.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ...exceptions import DecodeError, ProviderError, UserError
from ...messages import UsageMetadata, build_usage
from ..openai_chat import _shared as _chat

__all__: list[str] = []

PROVIDER = "openai"
PROTOCOL = "openai-responses"
"""The protocol name `myna.codecs.get_codec` knows this codec by."""
STREAM_FORMAT = "sse"
"""Streams are Server-Sent Events."""
SSE_EVENT_FIELD = "type"
"""Each event's payload repeats its SSE ``event:`` name under this key."""
PROTOCOL_NAME = PROTOCOL

FUNCTION_CALL_IDS = "openai_function_call_ids"
"""`additional_kwargs` key: ``{call_id: "fc_..." item id}``, sent back next to reasoning."""

ENCRYPTED = "reasoning.encrypted_content"
LOGPROBS = "message.output_text.logprobs"

SERVER_TOOLS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    # item type: (standard tool name, item keys that are the call's args, keys that are output)
    "web_search_call": ("web_search", ("action",), ()),
    "file_search_call": ("file_search", ("queries",), ("results",)),
    "code_interpreter_call": ("code_interpreter", ("code", "container_id"), ("outputs",)),
    "mcp_call": ("mcp", ("server_label", "name", "arguments"), ("output", "error")),
}
SERVER_TOOL_TYPES = {name: item_type for item_type, (name, _, _) in SERVER_TOOLS.items()}

INCOMPLETE_REASON = {"max_output_tokens": "length", "content_filter": "content_filter"}
INCOMPLETE_REASON_BACK = {v: k for k, v in INCOMPLETE_REASON.items()}

AUDIO_FORMATS = {"audio/wav": "wav", "audio/x-wav": "wav", "audio/mpeg": "mp3", "audio/mp3": "mp3"}


def excerpt(value: Any, limit: int = 80) -> str:
    """A short repr of `value` for error messages."""
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def expect(value: Any, types: type | tuple[type, ...], what: str) -> Any:
    """`value` if it has one of `types`, else a `DecodeError` naming `what`."""
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        ok = False
    else:
        ok = isinstance(value, types)
    if not ok:
        names = types if isinstance(types, tuple) else (types,)
        wanted = " or ".join(t.__name__ for t in names)
        raise DecodeError(f"{what} should be {wanted}, got {excerpt(value)}.")
    return value


def short_hash(*parts: Any) -> str:
    """A stable 24-hex-digit id fragment for ids the server side has to make up."""
    digest = hashlib.sha1("\x1f".join(str(p) for p in parts).encode()).hexdigest()
    return digest[:24]


# ---------------------------------------------------------------------------------------------
# annotations


def citation_from_annotation(ann: Any, where: str) -> dict[str, Any]:
    """A wire annotation -> a standard citation (unknown kinds pass through unchanged)."""
    expect(ann, dict, where)
    kind = ann.get("type")
    if kind == "url_citation":
        out: dict[str, Any] = {"type": "citation"}
        for key in ("url", "title", "start_index", "end_index"):
            if key in ann:
                out[key] = ann[key]
        return out
    if kind in ("file_citation", "container_file_citation", "file_path"):
        out = {"type": "citation"}
        if "filename" in ann:
            out["title"] = ann["filename"]
        for key in ("start_index", "end_index"):
            if key in ann:
                out[key] = ann[key]
        out["extras"] = {
            k: v for k, v in ann.items() if k not in ("filename", "start_index", "end_index")
        }
        return out
    return dict(ann)


def annotation_from_citation(ann: Any) -> Any:
    """A standard citation -> a wire annotation (the inverse of `citation_from_annotation`)."""
    if not isinstance(ann, dict) or ann.get("type") != "citation":
        return ann
    extras = ann.get("extras") if isinstance(ann.get("extras"), dict) else {}
    kind = extras.get("type", "url_citation")
    if kind == "url_citation":
        out: dict[str, Any] = {"type": "url_citation"}
        for key in ("url", "title", "start_index", "end_index"):
            if key in ann:
                out[key] = ann[key]
        return out
    out = dict(extras)
    if "title" in ann:
        out["filename"] = ann["title"]
    for key in ("start_index", "end_index"):
        if key in ann:
            out[key] = ann[key]
    return out


# ---------------------------------------------------------------------------------------------
# input content parts <-> standard blocks


def _data_uri(mime: str, data: str) -> str:
    return f"data:{mime};base64,{data}"


def _parse_data_uri(uri: str) -> tuple[str, str] | None:
    if not uri.startswith("data:"):
        return None
    head, sep, data = uri[5:].partition(",")
    if not sep or not head.endswith(";base64"):
        return None
    return head[: -len(";base64")] or "application/octet-stream", data


def _default_filename(mime: str) -> str:
    ext = mime.rsplit("/", 1)[-1].split("+")[0] or "bin"
    return f"document.{ext}"


def cannot_send(block: dict[str, Any], where: str, why: str) -> UserError:
    kind = block.get("type")
    return UserError(
        f"{where}: a {kind!r} content block cannot be sent over {PROTOCOL_NAME}: {why}"
    )


def _part_extras(block: dict[str, Any], part: dict[str, Any], keys: tuple[str, ...]) -> None:
    extras = block.get("extras")
    if isinstance(extras, dict):
        for key in keys:
            if key in extras:
                part[key] = extras[key]


def _from_source(block: dict[str, Any]) -> dict[str, Any]:
    """An Anthropic-shaped ``{"type": "image", "source": {...}}`` block as a standard one.

    `standard_blocks` keeps these as they are because ``image`` is also a standard type.
    """
    source = block["source"]
    out = {k: v for k, v in block.items() if k != "source"}
    if source.get("type") == "base64":
        out["base64"] = source.get("data", "")
        out["mime_type"] = source.get("media_type")
    elif source.get("type") == "url":
        out["url"] = source.get("url")
    elif source.get("type") == "file":
        out["file_id"] = source.get("file_id")
    return out


def input_part(block: dict[str, Any], where: str) -> dict[str, Any]:
    """A standard block of a user/system/tool message -> a Responses input content part."""
    kind = block.get("type")
    if kind == "text":
        part: dict[str, Any] = {"type": "input_text", "text": block.get("text", "")}
        _part_extras(block, part, ("prompt_cache_breakpoint",))
        return part
    if kind == "text-plain" and isinstance(block.get("text"), str):
        return {"type": "input_text", "text": block["text"]}
    if kind in ("image", "file") and isinstance(block.get("source"), dict):
        block = _from_source(block)
    if kind in ("image", "file", "text-plain"):
        is_image = kind == "image"
        part = {"type": "input_image" if is_image else "input_file"}
        default_mime = "image/png" if is_image else "application/pdf"
        if block.get("base64") is not None:
            mime = block.get("mime_type") or default_mime
            uri = _data_uri(mime, block["base64"])
            if is_image:
                part["image_url"] = uri
            else:
                part["file_data"] = uri
                extras = block.get("extras") if isinstance(block.get("extras"), dict) else {}
                part["filename"] = extras.get("filename") or _default_filename(mime)
        elif block.get("url"):
            part["image_url" if is_image else "file_url"] = block["url"]
        elif block.get("file_id"):
            part["file_id"] = block["file_id"]
        else:
            raise cannot_send(block, where, "it has none of base64, url or file_id.")
        if is_image:
            part["detail"] = "auto"
            _part_extras(block, part, ("detail", "prompt_cache_breakpoint"))
        else:
            _part_extras(block, part, ("filename", "detail", "prompt_cache_breakpoint"))
        return part
    if kind == "audio":
        if block.get("base64") is None:
            raise cannot_send(
                block, where, "input audio must be base64 data (wav or mp3), not a URL or file id."
            )
        mime = block.get("mime_type") or "audio/wav"
        fmt = AUDIO_FORMATS.get(mime, mime.rsplit("/", 1)[-1])
        return {"type": "input_audio", "input_audio": {"data": block["base64"], "format": fmt}}
    if kind == "non_standard":
        value = block.get("value")
        if isinstance(value, dict) and isinstance(value.get("type"), str):
            return value
        raise cannot_send(block, where, f"its value {excerpt(value)} is not a content part.")
    if kind == "video":
        raise cannot_send(block, where, "the Responses API takes no video input.")
    raise cannot_send(
        block, where, "only text, image, file and audio blocks can go in a user or tool message."
    )


def block_from_part(part: Any, where: str) -> dict[str, Any]:
    """A Responses content part (input or assistant output) -> a standard block."""
    expect(part, dict, where)
    kind = part.get("type")
    extras: dict[str, Any] = {}
    if "prompt_cache_breakpoint" in part:
        extras["prompt_cache_breakpoint"] = part["prompt_cache_breakpoint"]
    if kind in ("input_text", "output_text", "text"):
        block: dict[str, Any] = {"type": "text", "text": expect(part.get("text"), str, where)}
        anns = part.get("annotations")
        if anns:
            expect(anns, list, f"{where}.annotations")
            block["annotations"] = [
                citation_from_annotation(a, f"{where}.annotations[{i}]") for i, a in enumerate(anns)
            ]
    elif kind == "input_image":
        block = {"type": "image"}
        url = part.get("image_url")
        if isinstance(url, str):
            parsed = _parse_data_uri(url)
            if parsed:
                block["mime_type"], block["base64"] = parsed
            else:
                block["url"] = url
        elif part.get("file_id"):
            block["file_id"] = part["file_id"]
        if part.get("detail") not in (None, "auto"):
            extras["detail"] = part["detail"]
    elif kind == "input_file":
        block = {"type": "file"}
        data = part.get("file_data")
        parsed = _parse_data_uri(data) if isinstance(data, str) else None
        if parsed:
            block["mime_type"], block["base64"] = parsed
        elif isinstance(data, str):
            block["base64"] = data
        elif part.get("file_url"):
            block["url"] = part["file_url"]
        elif part.get("file_id"):
            block["file_id"] = part["file_id"]
        for key in ("filename", "detail"):
            if key in part:
                extras[key] = part[key]
    elif kind == "input_audio":
        audio = expect(part.get("input_audio"), dict, f"{where}.input_audio")
        fmt = audio.get("format", "wav")
        block = {"type": "audio", "base64": audio.get("data", ""), "mime_type": f"audio/{fmt}"}
    elif kind == "refusal":
        value = {"type": "refusal", "refusal": expect(part.get("refusal"), str, where)}
        return {"type": "non_standard", "value": value}
    else:
        return {"type": "non_standard", "value": dict(part)}
    if extras:
        block["extras"] = extras
    return block


# ---------------------------------------------------------------------------------------------
# usage


def usage_from_wire(usage: Any, where: str = "usage") -> UsageMetadata | None:
    """Responses ``usage`` -> `UsageMetadata` (zero-valued details are left out)."""
    if usage is None:
        return None
    expect(usage, dict, where)
    inp = expect(usage.get("input_tokens", 0), int, f"{where}.input_tokens")
    out = expect(usage.get("output_tokens", 0), int, f"{where}.output_tokens")
    total = usage.get("total_tokens")
    total = expect(total, int, f"{where}.total_tokens") if total is not None else inp + out
    in_details = usage.get("input_tokens_details") or {}
    out_details = usage.get("output_tokens_details") or {}
    expect(in_details, dict, f"{where}.input_tokens_details")
    expect(out_details, dict, f"{where}.output_tokens_details")

    def nonzero(details: dict[str, Any], key: str) -> int | None:
        # the API always sends these details, zeros included; a zero says nothing
        value = details.get(key)
        return expect(value, int, f"{where}.{key}") if value else None

    return build_usage(
        inp,
        out,
        total_tokens=total,
        cache_read=nonzero(in_details, "cached_tokens"),
        cache_creation=nonzero(in_details, "cache_write_tokens"),
        reasoning=nonzero(out_details, "reasoning_tokens"),
    )


def usage_to_wire(usage: UsageMetadata | None) -> dict[str, Any] | None:
    """`UsageMetadata` -> Responses ``usage``, with the zero details the API always sends."""
    if usage is None:
        return None
    in_details = usage.get("input_token_details") or {}
    out_details = usage.get("output_token_details") or {}
    wire_in = {
        "cache_write_tokens": in_details.get("cache_creation", 0),
        "cached_tokens": in_details.get("cache_read", 0),
    }
    return {
        "input_tokens": usage["input_tokens"],
        "input_tokens_details": wire_in,
        "output_tokens": usage["output_tokens"],
        "output_tokens_details": {"reasoning_tokens": out_details.get("reasoning", 0)},
        "total_tokens": usage["total_tokens"],
    }


# ---------------------------------------------------------------------------------------------
# tools, tool choice, response format


def tool_to_wire(tool: Any, where: str) -> dict[str, Any]:
    """A `ToolSpec`, a Chat Completions tool or a raw Responses tool -> a Responses tool."""
    if not isinstance(tool, dict):
        raise UserError(
            f"{where} must be a dict (a ToolSpec with name/description/parameters, or a raw "
            f"provider tool such as {{'type': 'web_search'}}), got {type(tool).__name__}."
        )
    kind = tool.get("type")
    if kind == "function" and isinstance(tool.get("function"), dict):
        tool = {**tool["function"]}  # Chat Completions shape: flatten
        kind = None
    if kind is not None:
        return dict(tool)
    if not isinstance(tool.get("name"), str):
        raise UserError(f"{where} has no 'name': {excerpt(tool)}")
    out: dict[str, Any] = {"type": "function", "name": tool["name"]}
    if tool.get("description") is not None:
        out["description"] = tool["description"]
    out["parameters"] = tool.get("parameters") or {"type": "object", "properties": {}}
    if tool.get("strict") is not None:
        out["strict"] = tool["strict"]
    return out


def tool_from_wire(tool: dict[str, Any]) -> dict[str, Any]:
    """A Responses tool -> a `ToolSpec` for function tools; anything else unchanged."""
    if tool.get("type") != "function":
        return dict(tool)
    spec: dict[str, Any] = {"name": tool.get("name")}
    for key in ("description", "parameters", "strict"):
        if tool.get(key) is not None:
            spec[key] = tool[key]
    return spec


def tool_choice_to_wire(choice: Any, tools: list[dict[str, Any]]) -> Any:
    """Neutral ``tool_choice`` -> the Responses value."""
    if isinstance(choice, dict):
        return choice
    if choice in ("auto", "none", "required"):
        return choice
    if choice == "any":
        return "required"
    if isinstance(choice, str):
        if any(t.get("type") == choice for t in tools):
            return {"type": choice}
        return {"type": "function", "name": choice}
    raise UserError(
        f"tool_choice={choice!r} is not valid; use 'auto', 'any', 'none', a tool name, or a raw "
        "dict such as {'type': 'function', 'name': 'get_weather'}."
    )


def tool_choice_from_wire(choice: Any) -> Any:
    """Responses ``tool_choice`` -> the neutral value."""
    if choice == "required":
        return "any"
    if (
        isinstance(choice, dict)
        and choice.get("type") == "function"
        and set(choice)
        == {
            "type",
            "name",
        }
    ):
        return choice["name"]
    return choice


def format_to_wire(fmt: Any) -> dict[str, Any]:
    """Neutral ``response_format`` -> ``text.format``."""
    if not isinstance(fmt, dict):
        raise UserError(
            f"response_format={fmt!r} must be a dict such as {{'type': 'json_schema', 'name': "
            "'Person', 'schema': {...}, 'strict': True}."
        )
    if fmt.get("type") == "json_schema" and isinstance(fmt.get("json_schema"), dict):
        fmt = {"type": "json_schema", **fmt["json_schema"]}  # Chat Completions shape: flatten
    if fmt.get("type") == "json_schema":
        if not isinstance(fmt.get("schema"), dict):
            raise UserError("response_format of type 'json_schema' needs a 'schema' dict.")
        out: dict[str, Any] = {
            "type": "json_schema",
            "name": fmt.get("name") or "response",
            "schema": fmt["schema"],
        }
        for key in ("strict", "description"):
            if fmt.get(key) is not None:
                out[key] = fmt[key]
        return out
    return dict(fmt)


# ---------------------------------------------------------------- protocol facts

PATHS = (r"/responses$",)
"""Regular expressions for the request paths this protocol serves (`re.search` on the path)."""

AUTH_HEADERS = _chat.AUTH_HEADERS
"""Headers that carry the API key (``api-key`` on Azure OpenAI), as for Chat Completions."""

CLIENT_HEADERS: tuple[str, ...] = ()
"""Headers only this protocol's clients send: none."""

FORCED_TOOL_CHOICE = True
"""Whether a request can force the model to call a named tool."""


def request_model(path: str) -> str | None:
    """The model a request path names: None, the model travels in the body."""
    return None


def request_streams(path: str, body: dict[str, Any]) -> bool:
    """Whether a request asks for a stream: ``"stream": true`` in the body."""
    return bool(body.get("stream"))


def auth_error(path: str, headers: dict[str, str], query: str) -> ProviderError | None:
    """What the API answers a request without an API key, as Chat Completions (and Azure)."""
    return _chat.auth_error(path, headers, query)
