"""A tolerant parser for JSON cut off mid-stream, as models stream structured output.

`parse_partial_json('{"city": "Par')` gives ``{"city": "Par"}``: open strings, arrays and
objects are closed, a dangling key or trailing comma is dropped. A complete document parses
exactly as `json.loads` would.
"""

from __future__ import annotations

import re
from typing import Any

from .exceptions import UserError

__all__ = ["parse_partial_json"]


class _Truncated(Exception):
    """The text ended inside a value; `value` is what was read so far (or _NOTHING)."""

    def __init__(self, value: Any) -> None:
        self.value = value


class _Malformed(Exception):
    """The text is not a prefix of any JSON document."""


_NOTHING: Any = object()
_WS = re.compile(r"[ \t\n\r]*")
_STRING_RUN = re.compile(r'[^"\\]*')
_NUMBER_RUN = re.compile(r"[-+0-9.eE]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_HEX = re.compile(r"[0-9a-fA-F]*")
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_LITERALS = {
    "true": True,
    "false": False,
    "null": None,
    "NaN": float("nan"),
    "Infinity": float("inf"),
    "-Infinity": float("-inf"),
}


def _skip(text: str, i: int) -> int:
    return _WS.match(text, i).end()  # type: ignore[union-attr]


def _read_hex4(text: str, i: int, so_far: str) -> int:
    digits = text[i : i + 4]
    valid = _HEX.match(digits).end()  # type: ignore[union-attr]
    if valid < len(digits):
        raise _Malformed
    if len(digits) < 4:
        raise _Truncated(so_far)  # an escape cut in half is dropped
    return int(digits, 16)


def _read_string(text: str, i: int) -> tuple[str, int]:
    parts: list[str] = []
    i += 1  # opening quote
    n = len(text)
    while True:
        run = _STRING_RUN.match(text, i)
        parts.append(run.group())  # type: ignore[union-attr]
        i = run.end()  # type: ignore[union-attr]
        if i >= n:
            raise _Truncated("".join(parts))
        if text[i] == '"':
            return "".join(parts), i + 1
        if i + 1 >= n:  # a lone backslash at the end
            raise _Truncated("".join(parts))
        escape = text[i + 1]
        if escape in _ESCAPES:
            parts.append(_ESCAPES[escape])
            i += 2
            continue
        if escape != "u":
            raise _Malformed
        code = _read_hex4(text, i + 2, "".join(parts))
        i += 6
        if 0xD800 <= code < 0xDC00:
            # A high surrogate: the low half may follow as a second escape.
            if text.startswith("\\u", i):
                low = _read_hex4(text, i + 2, "".join(parts))
                if 0xDC00 <= low < 0xE000:
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
            elif i >= n or (text[i] == "\\" and i + 1 >= n):
                raise _Truncated("".join(parts))
        parts.append(chr(code))


def _read_literal(text: str, i: int) -> tuple[Any, int]:
    rest = text[i : i + 9]
    for word, value in _LITERALS.items():
        if rest.startswith(word):
            return value, i + len(word)
        if word.startswith(rest):  # the text ends inside the word
            raise _Truncated(_NOTHING)
    raise _Malformed


def _read_number(text: str, i: int) -> tuple[Any, int]:
    run = _NUMBER_RUN.match(text, i)
    token = run.group()  # type: ignore[union-attr]
    end = run.end()  # type: ignore[union-attr]
    if end >= len(text):
        # The number may continue in the next chunk: keep its longest valid prefix.
        match = _NUMBER.match(token)
        raise _Truncated(_to_number(match.group()) if match else _NOTHING)
    if not _NUMBER.fullmatch(token):
        raise _Malformed
    return _to_number(token), end


def _to_number(token: str) -> int | float:
    if any(c in token for c in ".eE"):
        return float(token)
    return int(token)


def _read_container(text: str, i: int, close: str) -> tuple[Any, int]:
    is_object = close == "}"
    out: Any = {} if is_object else []
    i += 1
    n = len(text)
    while True:
        i = _skip(text, i)
        if i >= n:
            raise _Truncated(out)
        if text[i] == close:
            return out, i + 1
        key = None
        if is_object:
            if text[i] != '"':
                raise _Malformed
            try:
                key, i = _read_string(text, i)
            except _Truncated:
                raise _Truncated(out) from None  # a dangling key is dropped
            i = _skip(text, i)
            if i >= n:
                raise _Truncated(out)
            if text[i] != ":":
                raise _Malformed
            i += 1
        try:
            value, i = _read_value(text, i)
        except _Truncated as cut:
            if cut.value is not _NOTHING:
                if is_object:
                    out[key] = cut.value
                else:
                    out.append(cut.value)
            raise _Truncated(out) from None
        if is_object:
            out[key] = value
        else:
            out.append(value)
        i = _skip(text, i)
        if i >= n:
            raise _Truncated(out)
        if text[i] == ",":
            i += 1  # a trailing comma before the end of the text is simply dropped
        elif text[i] != close:
            raise _Malformed


def _read_value(text: str, i: int) -> tuple[Any, int]:
    i = _skip(text, i)
    if i >= len(text):
        raise _Truncated(_NOTHING)
    char = text[i]
    if char == "{":
        return _read_container(text, i, "}")
    if char == "[":
        return _read_container(text, i, "]")
    if char == '"':
        return _read_string(text, i)
    if char in "tfnNI" or text.startswith("-I", i):
        return _read_literal(text, i)
    if char == "-" or char.isdigit():
        return _read_number(text, i)
    raise _Malformed


def parse_partial_json(text: str) -> Any:
    """Parse JSON that may be cut off mid-stream, returning the best value read so far.

    Open strings, arrays and objects are closed; a dangling object key, a trailing comma, a
    half-written literal (``tru``) or escape are dropped; a number keeps its longest valid
    prefix. A complete document parses exactly as `json.loads` would; trailing text after a
    complete value is ignored.

    Returns:
        The parsed value, or None when nothing usable has arrived yet or the text is not
        (the start of) JSON.

    ```python
    parse_partial_json('{"city": "Par')        # {'city': 'Par'}
    parse_partial_json('{"city": "Paris", "da') # {'city': 'Paris'}
    ```
    """
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("utf-8", errors="replace")
    if not isinstance(text, str):
        raise UserError(f"parse_partial_json needs a str, got {type(text).__name__}.")
    try:
        value, _ = _read_value(text, 0)
    except _Truncated as cut:
        return None if cut.value is _NOTHING else cut.value
    except (_Malformed, RecursionError):
        return None
    return value
