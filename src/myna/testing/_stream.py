"""`assert_stream`: check a stream of chunks adds up, and summarise it."""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ._diff import diff_values, format_differences

__all__ = ["StreamSummary", "assert_astream", "assert_stream"]


@dataclass(frozen=True)
class StreamSummary:
    """What a stream amounted to, as checked by `assert_stream`."""

    message: Any
    """The merged stream as an `AIMessage`."""
    text: str
    """The merged text."""
    tool_calls: list[dict[str, Any]]
    """Tool calls reassembled from the argument fragments."""
    usage: dict[str, Any] | None
    """Usage, counted once (the sum of the chunks that carry some)."""
    finish_reason: str | None
    """``response_metadata["finish_reason"]`` (or ``stop_reason``) of the merged stream."""
    chunks: int
    """How many chunks arrived."""
    usage_chunks: list[int] = field(default_factory=list)
    """Indexes of the chunks that carried usage."""


def _fail(problem: str, chunks: list[Any]) -> AssertionError:
    return AssertionError(f"myna: malformed stream ({len(chunks)} chunks): {problem}")


def _check_positions(chunks: list[Any]) -> None:
    lasts = [i for i, c in enumerate(chunks) if c.chunk_position == "last"]
    if not lasts:
        raise _fail(
            "no chunk has chunk_position='last', so the stream was cut short (or a custom "
            "_stream never finished it).",
            chunks,
        )
    if lasts[0] != len(chunks) - 1:
        raise _fail(
            f"chunk #{lasts[0]} has chunk_position='last' but {len(chunks) - 1 - lasts[0]} "
            "more chunk(s) follow it.",
            chunks,
        )


def _check_content_indexes(chunks: list[Any]) -> None:
    kinds: dict[Any, tuple[str, int]] = {}
    for i, chunk in enumerate(chunks):
        if isinstance(chunk.content, str):
            continue
        for block in chunk.content:
            if not isinstance(block, dict) or block.get("index") is None:
                continue
            index, kind = block["index"], block.get("type")
            seen = kinds.get(index)
            if seen is None:
                kinds[index] = (kind, i)
            elif seen[0] != kind:
                raise _fail(
                    f"inconsistent content index {index}: a {seen[0]!r} block in chunk "
                    f"#{seen[1]} but a {kind!r} block in chunk #{i}; merging would mix them.",
                    chunks,
                )


def _check_tool_indexes(chunks: list[Any]) -> None:
    opened: dict[Any, dict[str, Any]] = {}
    for i, chunk in enumerate(chunks):
        for piece in chunk.tool_call_chunks:
            index = piece.get("index")
            key = index if index is not None else ("id", piece.get("id"))
            if index is None and piece.get("id") is None:
                raise _fail(
                    f"chunk #{i} has a tool-call fragment with neither index nor id; it "
                    "cannot be merged into any call.",
                    chunks,
                )
            state = opened.get(key)
            new_call = state is None or (
                piece.get("id") and state["id"] and piece["id"] != state["id"]
            )
            if new_call:
                if not piece.get("name") and not piece.get("id"):
                    raise _fail(
                        f"chunk #{i} continues tool call index {index}, which no earlier "
                        "chunk opened (no name or id yet).",
                        chunks,
                    )
                opened[key] = {"name": piece.get("name"), "id": piece.get("id"), "chunk": i}
                continue
            name = piece.get("name")
            if name and state["name"] and name != state["name"]:  # type: ignore[index]
                raise _fail(
                    f"inconsistent tool call index {index}: named {state['name']!r} in chunk "  # type: ignore[index]
                    f"#{state['chunk']} but {name!r} in chunk #{i}.",  # type: ignore[index]
                    chunks,
                )
            if name and not state["name"]:  # type: ignore[index]
                state["name"] = name  # type: ignore[index]


def _check_usage(chunks: list[Any], require_usage: bool) -> list[int]:
    carriers = [i for i, c in enumerate(chunks) if c.usage_metadata is not None]
    if not carriers and require_usage:
        raise _fail(
            "no chunk reports usage. Ask the model for it (stream_usage=True), or pass "
            "require_usage=False.",
            chunks,
        )
    seen: dict[str, int] = {}
    for i in carriers:
        usage = dict(chunks[i].usage_metadata)
        if not any(usage.get(k) for k in ("input_tokens", "output_tokens", "total_tokens")):
            continue
        key = repr(sorted(usage.items()))
        if key in seen:
            raise _fail(
                f"usage counted twice: chunks #{seen[key]} and #{i} both report {usage}; "
                "merging adds them, so the totals double. Report usage on one chunk only "
                "(or as increments).",
                chunks,
            )
        seen[key] = i
    return carriers


def _finish_reason(meta: dict[str, Any]) -> str | None:
    value = meta.get("finish_reason", meta.get("stop_reason"))
    return value if isinstance(value, str) else None


def _comparable(message: Any) -> dict[str, Any]:
    return {
        "text": message.text,
        "tool_calls": [{"name": c["name"], "args": c["args"]} for c in message.tool_calls],
        "invalid_tool_calls": [
            {"name": c.get("name"), "args": c.get("args")} for c in message.invalid_tool_calls
        ],
        "usage_metadata": message.usage_metadata,
        "finish_reason": _finish_reason(message.response_metadata),
    }


def assert_stream(
    chunks: Iterable[Any], final: Any = None, *, require_usage: bool = True
) -> StreamSummary:
    """Assert that streamed chunks are well formed and add up; returns a `StreamSummary`.

    ```python
    summary = assert_stream(model.stream("Weather in Paris?"))
    assert summary.tool_calls[0]["name"] == "get_weather"
    assert summary.usage["output_tokens"] > 0
    ```

    Fails when: the stream is empty or has no final chunk (``chunk_position="last"``) at
    its end; content blocks or tool-call fragments have inconsistent indexes (an index
    reused for another block type or tool name, a fragment for a call never opened);
    tool-call arguments do not parse; the same usage is reported on two chunks (merging
    would count it twice) or, with `require_usage`, on none; or, given `final`, the merged
    stream differs from it in text, tool calls (name and args), usage or finish reason
    (usage and finish reason only when `final` has them).

    Args:
        chunks: the `AIMessageChunk`s (a list or an iterator, consumed here).
        final: the message the stream should amount to, e.g. the same call's `invoke`.
        require_usage: fail when no chunk reports usage.
    """
    from ..messages import AIMessageChunk, merge_chunks

    chunks = list(chunks)
    if not chunks:
        raise AssertionError("myna: the stream yielded no chunks.")
    for i, chunk in enumerate(chunks):
        if not isinstance(chunk, AIMessageChunk):
            raise AssertionError(
                f"myna: stream item #{i} is a {type(chunk).__name__}, not an AIMessageChunk."
            )
    _check_positions(chunks)
    _check_content_indexes(chunks)
    _check_tool_indexes(chunks)
    carriers = _check_usage(chunks, require_usage)
    merged = merge_chunks(chunks).to_message()
    if merged.invalid_tool_calls:
        bad = merged.invalid_tool_calls[0]
        raise _fail(
            f"tool call {bad.get('name')!r} (id {bad.get('id')!r}) has arguments that do not "
            f"parse: {bad.get('error')}. Arguments: {bad.get('args')!r}",
            chunks,
        )
    if final is not None:
        expected = _comparable(final)
        got = _comparable(merged)
        for key in ("usage_metadata", "finish_reason"):
            if expected[key] is None:  # the final message does not say: nothing to compare
                got[key] = None
        diffs = diff_values(got, expected)
        if diffs:
            raise AssertionError(
                "myna: the merged stream differs from the final message (merged != final):\n"
                + "\n".join(format_differences(diffs))
            )
    return StreamSummary(
        message=merged,
        text=merged.text,
        tool_calls=list(merged.tool_calls),
        usage=dict(merged.usage_metadata) if merged.usage_metadata is not None else None,
        finish_reason=_finish_reason(merged.response_metadata),
        chunks=len(chunks),
        usage_chunks=carriers,
    )


async def assert_astream(
    chunks: AsyncIterable[Any], final: Any = None, *, require_usage: bool = True
) -> StreamSummary:
    """Async `assert_stream`: ``summary = await assert_astream(model.astream("hi"))``."""
    collected = [chunk async for chunk in chunks]
    return assert_stream(collected, final, require_usage=require_usage)
