"""Text helpers for error messages, shared by every layer."""

from __future__ import annotations

from typing import Any

__all__ = ["short_repr"]


def short_repr(value: Any, limit: int = 80) -> str:
    """``repr(value)``, cut to `limit` characters with a trailing ``...``."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def unprefixed(error: BaseException) -> str:
    """An error's message without a leading ``myna: `` (for quoting inside another message)."""
    text = str(error)
    return text[len("myna: ") :] if text.startswith("myna: ") else text


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``1 call``, ``2 calls``: a count with its noun in the right number."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"
