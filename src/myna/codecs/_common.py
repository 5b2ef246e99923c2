"""Small helpers every codec's error messages share."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["excerpt", "has_credentials", "type_phrase"]


def excerpt(value: Any, limit: int = 120) -> str:
    """A short, single-line rendering of a wire value for error messages."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except (TypeError, ValueError):  # circular or otherwise unprintable
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def type_phrase(value: Any) -> str:
    """The JSON type of `value` as OpenAI's error messages say it ("a string", "an array")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def has_credentials(headers: Mapping[str, str], names: Iterable[str]) -> bool:
    """Whether any of the (lower-case) header `names` is set to a non-empty value."""
    return any(headers.get(name) for name in names)
