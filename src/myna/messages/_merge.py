"""How streamed chunks add up into one message.

The rules, chosen so a merged stream equals the non-streamed reply:

- content: strings concatenate; once either side is a list, string contents become text
  blocks and blocks with the same ``index`` merge (their ``text`` / ``reasoning`` / ``args``
  strings concatenate); blocks without an index, and bare strings inside a list, are
  appended. Text is never dropped.
- tool_call_chunks: pieces with the same ``index`` (or, without an index, the same ``id``)
  merge, unless both carry different ids (then it is another call); only ``args``
  concatenates, ``name`` and ``id`` keep the first non-empty value.
- usage: added key by key. ``id``: the first provider id beats ids myna made up.
- response_metadata / additional_kwargs: dicts merge recursively, lists concatenate, and for
  anything else the later non-None value wins. Strings are never concatenated, so a model
  name sent on two chunks stays one model name.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._messages import (
    AUTO_ID_PREFIX,
    AIMessageChunk,
    ToolCallChunk,
    _fast_new,
    parse_tool_call_chunks,
)
from ._usage import add_usage

__all__ = ["merge_chunks", "merge_content", "merge_metadata"]

_CONCAT_KEYS = ("text", "reasoning", "args")


def merge_metadata(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    """Merge two metadata dicts: recurse into dicts, concatenate lists, later scalar wins."""
    if not right:
        return left
    if not left:
        return dict(right)
    out = dict(left)
    for key, value in right.items():
        if value is None:
            continue
        current = out.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            out[key] = merge_metadata(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            out[key] = current + value
        else:
            out[key] = value
    return out


def _merge_block(into: dict[str, Any], block: dict[str, Any]) -> None:
    for key, value in block.items():
        if key in ("type", "index"):
            continue
        current = into.get(key)
        if key in _CONCAT_KEYS and isinstance(current, str) and isinstance(value, str):
            into[key] = current + value
        elif isinstance(current, dict) and isinstance(value, dict):
            into[key] = merge_metadata(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            into[key] = current + value
        elif value is not None and (current is None or current == ""):
            into[key] = value
        elif value is not None and key not in ("id", "name"):
            into[key] = value


def _append_block(
    out: list[Any], by_index: dict[Any, dict[str, Any]], item: Any, from_text: set[int]
) -> None:
    if isinstance(item, str):
        if not item:
            return
        last = out[-1] if out else None
        if last is not None and id(last) in from_text:
            # consecutive string chunks are one text, not one block per piece
            last["text"] += item
            return
        item = {"type": "text", "text": item}
        from_text.add(id(item))
    if isinstance(item, dict) and item.get("index") is not None:
        index = item["index"]
        target = by_index.get(index)
        if target is not None:
            _merge_block(target, item)
            return
        item = dict(item)
        by_index[index] = item
    out.append(item)


def merge_content(parts: Iterable[str | list[Any]]) -> str | list[Any]:
    """Merge the content of several chunks (see the module docstring for the rules)."""
    parts = list(parts)
    if all(isinstance(p, str) for p in parts):
        return "".join(parts)  # type: ignore[arg-type]
    out: list[Any] = []
    by_index: dict[Any, dict[str, Any]] = {}
    from_text: set[int] = set()
    for part in parts:
        if isinstance(part, str):
            _append_block(out, by_index, part, from_text)
        else:
            for item in part:
                if isinstance(item, str):
                    out.append(item)  # a bare string inside a list stays as it was
                else:
                    _append_block(out, by_index, item, from_text)
    return out


def _merge_tool_call_chunks(chunks: Iterable[ToolCallChunk]) -> list[ToolCallChunk]:
    out: list[dict[str, Any]] = []
    by_key: dict[tuple[str, Any], dict[str, Any]] = {}
    for chunk in chunks:
        index = chunk.get("index")
        key = ("index", index) if index is not None else ("id", chunk.get("id"))
        target = by_key.get(key) if key[1] is not None else None
        if target is not None and chunk.get("id") and target["id"] and chunk["id"] != target["id"]:
            # same index, another id: a new call, not more of the same one
            target = None
        if target is None:
            target = {
                "name": chunk.get("name"),
                "args": chunk.get("args"),
                "id": chunk.get("id"),
                "index": index,
                "type": "tool_call_chunk",
            }
            if key[1] is not None:
                by_key[key] = target
            out.append(target)
            continue
        if chunk.get("args"):
            target["args"] = (target["args"] or "") + chunk["args"]
        if not target["name"] and chunk.get("name"):
            target["name"] = chunk["name"]
        if not target["id"] and chunk.get("id"):
            target["id"] = chunk["id"]
    return out  # type: ignore[return-value]


def _pick_id(ids: Iterable[str | None]) -> str | None:
    fallback = None
    for value in ids:
        if value is None:
            continue
        if not value.startswith(AUTO_ID_PREFIX):
            return value
        if fallback is None:
            fallback = value
    return fallback


def merge_chunks(chunks: Iterable[AIMessageChunk]) -> AIMessageChunk:
    """Merge chunks in one pass (cheaper than folding ``+`` over a long stream)."""
    chunks = list(chunks)
    if not chunks:
        raise ValueError("merge_chunks() needs at least one chunk; the stream yielded none.")
    if len(chunks) == 1:
        return chunks[0]
    content = merge_content(c.content for c in chunks)
    additional: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    usage = None
    name = None
    tool_chunks: list[ToolCallChunk] = []
    position = None
    for c in chunks:
        if c.additional_kwargs:
            additional = merge_metadata(additional, c.additional_kwargs)
        if c.response_metadata:
            metadata = merge_metadata(metadata, c.response_metadata)
        if c.usage_metadata is not None:
            usage = add_usage(usage, c.usage_metadata)
        if name is None:
            name = c.name
        tool_chunks.extend(c.tool_call_chunks)
        if c.chunk_position == "last":
            position = "last"
    merged_chunks = _merge_tool_call_chunks(tool_chunks)
    calls, invalid = parse_tool_call_chunks(merged_chunks)
    return _fast_new(
        AIMessageChunk,
        {
            "content": content,
            "additional_kwargs": additional,
            "response_metadata": metadata,
            "name": name,
            "id": _pick_id(c.id for c in chunks),
            "tool_calls": calls,
            "invalid_tool_calls": invalid,
            "usage_metadata": usage,
            "tool_call_chunks": merged_chunks,
            "chunk_position": position,
        },
    )
