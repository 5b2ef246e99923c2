"""Splitting a whole AI reply into the chunks a realistic stream would carry.

Used by the fake models and by every codec's `render_stream`, so that a fake stream, an
emulated stream and a real one are shaped alike. The chunks always merge back into the reply:
``merge_chunks(split_message(m)).to_message() == m`` for text, blocks, tool calls and usage.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from ._messages import (
    AIMessage,
    AIMessageChunk,
    _fast_new,
    parse_tool_call_chunks,
    tool_call_chunk,
)

__all__ = ["Chunking", "split_message", "split_text"]

Chunking = Literal["words", "chars"] | int
"""How text is cut: ``"words"`` (a word with its trailing space), ``"chars"``, or a fixed size."""

_WORDS = re.compile(r"\s+|\S+\s*")


def split_text(text: str, chunking: Chunking = "words") -> list[str]:
    """Cut text into stream pieces that join back to `text`; empty text gives no pieces."""
    if not text:
        return []
    if chunking == "words":
        return _WORDS.findall(text)
    if chunking == "chars":
        return list(text)
    if isinstance(chunking, int) and not isinstance(chunking, bool) and chunking > 0:
        return [text[i : i + chunking] for i in range(0, len(text), chunking)]
    raise ValueError(
        f"chunking={chunking!r} is not a chunking policy; use 'words', 'chars' or a positive int."
    )


def _chunk(message: AIMessage, **fields: Any) -> AIMessageChunk:
    fields.setdefault("content", "")
    fields["id"] = message.id
    fields["name"] = message.name
    return _fast_new(AIMessageChunk, fields)


def _block_chunks(message: AIMessage, chunking: Chunking) -> list[AIMessageChunk]:
    out: list[AIMessageChunk] = []
    content = message.content
    if isinstance(content, str):
        return [_chunk(message, content=piece) for piece in split_text(content, chunking)]
    for index, block in enumerate(content):
        if isinstance(block, str):
            # a bare string has no index to merge pieces by: it travels whole
            out.append(_chunk(message, content=[block]))
            continue
        kind = block.get("type")
        key = {"text": "text", "reasoning": "reasoning"}.get(kind)  # type: ignore[arg-type]
        pieces = split_text(block.get(key, ""), chunking) if key else []
        if len(pieces) <= 1:
            out.append(_chunk(message, content=[{**block, "index": index}]))
            continue
        rest = {k: v for k, v in block.items() if k not in (key, "type", "index")}
        for i, piece in enumerate(pieces):
            piece_block: dict[str, Any] = {"type": kind, key: piece, "index": index}
            if i == 0:
                # annotations/ids arrive with the first piece, signatures with the last
                piece_block.update({k: v for k, v in rest.items() if k != "extras"})
            if i == len(pieces) - 1 and "extras" in rest:
                piece_block["extras"] = rest["extras"]
            out.append(_chunk(message, content=[piece_block]))
    return out


def _tool_chunks(message: AIMessage, chunking: Chunking) -> list[AIMessageChunk]:
    out: list[AIMessageChunk] = []
    calls: list[tuple[Any, Any, str | None]] = [
        (c["name"], c["id"], json.dumps(c["args"]) if c["args"] else "") for c in message.tool_calls
    ]
    calls += [(c["name"], c["id"], c["args"]) for c in message.invalid_tool_calls]
    for index, (name, call_id, args) in enumerate(calls):
        pieces = split_text(args or "", chunking if chunking != "chars" else 4) or [args]
        for i, piece in enumerate(pieces):
            first = i == 0
            tc = tool_call_chunk(
                name=name if first else None,
                id=call_id if first else None,
                args=piece,
                index=index,
            )
            calls_, invalid = parse_tool_call_chunks([tc])
            out.append(
                _chunk(
                    message, tool_call_chunks=[tc], tool_calls=calls_, invalid_tool_calls=invalid
                )
            )
    return out


def split_message(message: AIMessage, chunking: Chunking = "words") -> list[AIMessageChunk]:
    """The chunks of a realistic stream of `message`.

    Text and reasoning are cut by `chunking` (blocks keep their position as ``index``); each
    tool call streams as `tool_call_chunks` whose first piece carries the name and id and the
    rest carry JSON argument fragments; usage and response metadata come once, on the last
    chunk, which has ``chunk_position="last"``.
    """
    chunks = _block_chunks(message, chunking) + _tool_chunks(message, chunking)
    final = _chunk(
        message,
        content="" if isinstance(message.content, str) else [],
        usage_metadata=message.usage_metadata,
        response_metadata=message.response_metadata,
        additional_kwargs=message.additional_kwargs,
        chunk_position="last",
    )
    chunks.append(final)
    return chunks
