"""Standard content blocks and the translation of provider-shaped blocks into them.

A message's `content` is a string or a list of blocks. The standard blocks are plain dicts
with a ``type`` key (TypedDicts below, for editors). `standard_blocks` turns any content,
including OpenAI- or Anthropic-shaped input blocks, into standard blocks; it never invents
ids and never mutates the content it reads.
"""

from __future__ import annotations

from typing import Any, Literal

from typing_extensions import NotRequired, TypedDict

__all__ = [
    "KNOWN_BLOCK_TYPES",
    "AudioBlock",
    "Citation",
    "ContentBlock",
    "FileBlock",
    "ImageBlock",
    "InvalidToolCallBlock",
    "NonStandardBlock",
    "PlainTextBlock",
    "ReasoningBlock",
    "ServerToolCallBlock",
    "ServerToolResultBlock",
    "TextBlock",
    "ToolCallBlock",
    "ToolCallChunkBlock",
    "VideoBlock",
    "standard_blocks",
]


class Citation(TypedDict, total=False):
    """An annotation on a text block pointing at a source."""

    type: Literal["citation"]
    url: str
    title: str
    start_index: int
    end_index: int
    cited_text: str
    extras: dict[str, Any]


class TextBlock(TypedDict):
    """Text, with optional `annotations` (citations) and provider `extras`."""

    type: Literal["text"]
    text: str
    annotations: NotRequired[list[dict[str, Any]]]
    id: NotRequired[str]
    index: NotRequired[int | str]
    extras: NotRequired[dict[str, Any]]


class ReasoningBlock(TypedDict):
    """Model reasoning. `extras` holds `signature` / `encrypted_content` / `redacted` data that
    must go back to the provider on the next turn."""

    type: Literal["reasoning"]
    reasoning: NotRequired[str]
    id: NotRequired[str]
    index: NotRequired[int | str]
    extras: NotRequired[dict[str, Any]]


class _DataBlock(TypedDict, total=False):
    url: str
    base64: str
    file_id: str
    mime_type: str
    id: str
    index: int | str
    extras: dict[str, Any]


class ImageBlock(_DataBlock):
    """An image given by `url`, `base64` (with `mime_type`) or provider `file_id`."""

    type: Literal["image"]  # type: ignore[misc]


class AudioBlock(_DataBlock):
    """Audio given by `url`, `base64` (with `mime_type`) or provider `file_id`."""

    type: Literal["audio"]  # type: ignore[misc]


class VideoBlock(_DataBlock):
    """Video given by `url`, `base64` (with `mime_type`) or provider `file_id`."""

    type: Literal["video"]  # type: ignore[misc]


class FileBlock(_DataBlock):
    """A file (PDF and the like) given by `url`, `base64` (with `mime_type`) or `file_id`."""

    type: Literal["file"]  # type: ignore[misc]


class PlainTextBlock(_DataBlock):
    """A plain-text document given inline as `text` (with optional `title` and `context`)."""

    type: Literal["text-plain"]  # type: ignore[misc]
    text: str
    title: str
    context: str


class ToolCallBlock(TypedDict):
    """A client-side tool call in the content, mirroring an entry of `AIMessage.tool_calls`."""

    type: Literal["tool_call"]
    id: str | None
    name: str
    args: dict[str, Any]


class ToolCallChunkBlock(TypedDict, total=False):
    """A streamed piece of a tool call: `args` is a JSON fragment merged by `index`."""

    type: Literal["tool_call_chunk"]
    id: str | None
    name: str | None
    args: str | None
    index: int | str | None


class InvalidToolCallBlock(TypedDict, total=False):
    """A tool call whose arguments did not parse; `error` says why."""

    type: Literal["invalid_tool_call"]
    id: str | None
    name: str | None
    args: str | None
    error: str | None


class ServerToolCallBlock(TypedDict, total=False):
    """A tool the provider ran itself (web search, code execution)."""

    type: Literal["server_tool_call"]
    id: str
    name: str
    args: dict[str, Any]
    extras: dict[str, Any]


class ServerToolResultBlock(TypedDict, total=False):
    """The result of a tool the provider ran itself, answering `tool_call_id`."""

    type: Literal["server_tool_result"]
    tool_call_id: str
    status: Literal["success", "error"]
    output: Any
    extras: dict[str, Any]


class NonStandardBlock(TypedDict, total=False):
    """A provider block with no standard equivalent, kept whole in `value`."""

    type: Literal["non_standard"]
    value: dict[str, Any]
    id: str
    index: int | str


ContentBlock = dict[str, Any]
"""Any content block: a dict with a ``type`` key."""

KNOWN_BLOCK_TYPES = frozenset(
    {
        "text",
        "reasoning",
        "image",
        "audio",
        "video",
        "file",
        "text-plain",
        "tool_call",
        "tool_call_chunk",
        "invalid_tool_call",
        "server_tool_call",
        "server_tool_call_chunk",
        "server_tool_result",
        "non_standard",
    }
)


def _parse_data_uri(uri: str) -> tuple[str | None, str] | None:
    """``data:image/png;base64,AAAA`` -> (``image/png``, ``AAAA``); None if not base64."""
    if not uri.startswith("data:"):
        return None
    head, sep, data = uri[5:].partition(",")
    if not sep or not head.endswith(";base64"):
        return None
    mime = head[: -len(";base64")] or None
    return mime, data


def _media_block(kind: str, *, url: str | None = None, extras: dict | None = None) -> dict:
    block: dict[str, Any] = {"type": kind}
    parsed = _parse_data_uri(url) if url else None
    if parsed:
        mime, data = parsed
        block["base64"] = data
        if mime:
            block["mime_type"] = mime
    elif url:
        block["url"] = url
    if extras:
        block["extras"] = extras
    return block


def _from_openai(block: dict[str, Any]) -> dict[str, Any] | None:
    kind = block.get("type")
    if kind == "image_url":
        image = block.get("image_url")
        url = image.get("url") if isinstance(image, dict) else image
        if not isinstance(url, str):
            return None
        extras = (
            {"detail": image["detail"]} if isinstance(image, dict) and "detail" in image else None
        )
        return _media_block("image", url=url, extras=extras)
    if kind == "input_audio" and isinstance(block.get("input_audio"), dict):
        audio = block["input_audio"]
        return {
            "type": "audio",
            "base64": audio.get("data", ""),
            "mime_type": f"audio/{audio.get('format', 'wav')}",
        }
    if kind == "file" and isinstance(block.get("file"), dict):
        file = block["file"]
        if "file_id" in file:
            return {"type": "file", "file_id": file["file_id"]}
        parsed = _parse_data_uri(file.get("file_data", ""))
        if parsed:
            out: dict[str, Any] = {"type": "file", "base64": parsed[1]}
            out["mime_type"] = parsed[0] or "application/octet-stream"
            if "filename" in file:
                out["extras"] = {"filename": file["filename"]}
            return out
    return None


_ANTHROPIC_SOURCE_KIND = {"image": "image", "document": "file"}


def _from_anthropic(block: dict[str, Any]) -> dict[str, Any] | None:
    kind = block.get("type")
    if kind in _ANTHROPIC_SOURCE_KIND and isinstance(block.get("source"), dict):
        source = block["source"]
        extras = {k: v for k, v in block.items() if k not in ("type", "source")}
        out: dict[str, Any] = {"type": _ANTHROPIC_SOURCE_KIND[kind]}
        stype = source.get("type")
        if stype == "base64":
            out["base64"] = source.get("data", "")
            out["mime_type"] = source.get("media_type", "application/octet-stream")
        elif stype == "url":
            out["url"] = source.get("url", "")
        elif stype == "file":
            out["file_id"] = source.get("file_id", "")
        elif stype == "text":
            out = {"type": "text-plain", "mime_type": "text/plain", "text": source.get("data", "")}
        else:
            return None
        if extras:
            out["extras"] = extras
        return out
    if kind == "thinking":
        out = {"type": "reasoning", "reasoning": block.get("thinking", "")}
        if block.get("signature"):
            out["extras"] = {"signature": block["signature"]}
        return out
    if kind == "redacted_thinking":
        return {"type": "reasoning", "extras": {"redacted": block.get("data", "")}}
    return None


_LEGACY_KEYS = {"url": "url", "base64": "base64", "id": "file_id"}


def _from_legacy(block: dict[str, Any]) -> dict[str, Any] | None:
    """LangChain 0.3 data blocks: ``{"type": "image", "source_type": "base64", "data": ...}``."""
    kind = block.get("type")
    key = _LEGACY_KEYS.get(block.get("source_type"))  # type: ignore[arg-type]
    if kind not in ("image", "audio", "video", "file") or key is None:
        return None
    value = block.get("data") if key == "base64" else block.get(key if key != "file_id" else "id")
    if not isinstance(value, str):
        return None
    out: dict[str, Any] = {"type": kind, key: value}
    if isinstance(block.get("mime_type"), str):
        out["mime_type"] = block["mime_type"]
    rest = {
        k: v
        for k, v in block.items()
        if k not in ("type", "source_type", "data", "url", "id", "mime_type")
    }
    if rest:
        out["extras"] = rest
    return out


def _standardize(item: Any) -> dict[str, Any]:
    if isinstance(item, str):
        return {"type": "text", "text": item}
    if not isinstance(item, dict):
        return {"type": "non_standard", "value": {"value": item}}
    # provider shapes first: OpenAI's {"type": "file", "file": {...}} and Anthropic's
    # {"type": "image", "source": {...}} share their type names with standard blocks
    converted = _from_openai(item) or _from_anthropic(item) or _from_legacy(item)
    if converted is not None:
        return converted
    if item.get("type") in KNOWN_BLOCK_TYPES:
        return item
    return {"type": "non_standard", "value": item}


def standard_blocks(content: str | list[Any]) -> list[dict[str, Any]]:
    """The standard blocks for a message's content.

    Strings become text blocks (an empty string gives no block); standard blocks pass through
    as they are; OpenAI (``image_url``, ``input_audio``, ``file``), Anthropic (``image`` /
    ``document`` sources, ``thinking``) and LangChain 0.3 (``source_type``) blocks are
    translated; anything else is wrapped in a ``non_standard`` block so no data is lost.
    """
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    return [_standardize(item) for item in content if item != ""]
