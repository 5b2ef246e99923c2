"""A YAML writer for cassettes, and a fast reader for exactly what it writes.

PyYAML builds a Python object per node, about 25 µs each even with libyaml: a cassette of 1000
streamed interactions stored as structured YAML takes ~20 s to load. So cassettes are written by
our own emitter in a small subset of YAML (block mappings and sequences, plain scalars only
where YAML 1.1 cannot read them as anything but a string, JSON-quoted strings otherwise, ``|``
literal blocks for multi-line text, and one-line JSON flow values for stream events), and read
back by a line-based parser of that subset that hands flow values to `json.loads`. Anything
outside the subset (a hand edit with comments, anchors, single quotes, ...) makes the fast
reader give up and the file is read by PyYAML's safe loader instead: the result is the same,
only slower. Tests check that both readers agree on everything the emitter writes.
"""

from __future__ import annotations

import gc
import json
import math
import re
from json.decoder import scanstring
from typing import Any

from .._yaml_limits import alias_expansion  # the cap shared by every YAML loader

__all__ = ["Flow", "Lazy", "alias_expansion", "emit", "fast_load"]


class Flow:
    """Marks a container to be written as one line of JSON (a YAML flow value)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


# Characters YAML 1.1 does not allow raw, or reads as line breaks (\x85, \u2028, \u2029):
# written as \u escapes inside quoted strings and flow values.
_UNSAFE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_BOOL_NULL = frozenset(
    "yes Yes YES no No NO true True TRUE false False FALSE on On ON off Off OFF "
    "y Y n N null Null NULL".split()
)
_PLAIN_START = re.compile(r"[A-Za-z_/]")
_INT = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
# The float forms PyYAML (YAML 1.1) resolves: a dot is required, an exponent needs a sign.
_FLOAT = re.compile(r"-?[0-9]+\.[0-9]*(?:[eE][-+][0-9]+)?\Z")
_KEY_END = re.compile(r": |:\Z")


def _plain_ok(text: str) -> bool:
    """True when YAML reads `text` written bare back as the same string."""
    return (
        bool(text)
        and _PLAIN_START.match(text) is not None
        and text not in _BOOL_NULL
        and text == text.strip()
        and ": " not in text
        and " #" not in text
        and not text.endswith(":")
        and "\t" not in text
        and "\n" not in text
        and "\r" not in text
        and _UNSAFE.search(text) is None
    )


def _escape_unsafe(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def _quoted(text: str) -> str:
    return _UNSAFE.sub(_escape_unsafe, json.dumps(text, ensure_ascii=False))


def _float(value: float) -> str | None:
    if math.isnan(value) or math.isinf(value):
        return None
    text = repr(value)
    if "e" in text and "." not in text.split("e")[0]:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}.0e{exponent}"
    elif "." not in text and "e" not in text:
        text += ".0"
    return text


def _scalar(value: Any) -> str | None:
    """A scalar's one-line form, or None when it needs a literal block."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = _float(value)
        if text is None:
            return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
        return text
    text = str(value)
    if _plain_ok(text):
        return text
    if _literal_ok(text):
        return None
    return _quoted(text)


def _literal_ok(text: str) -> bool:
    if "\n" not in text or text.startswith((" ", "\n")) or "\r" in text:
        return False
    if text.endswith("\n\n") or _UNSAFE.search(text):
        return False
    return not any(line.endswith((" ", "\t")) for line in text.split("\n"))


def _flow_safe(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _flow_safe(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_flow_safe(v) for v in value)
    if isinstance(value, float):
        text = repr(value)
        return _float(value) == text
    return value is None or isinstance(value, (str, int))


def _flow(value: Any) -> str | None:
    if not _flow_safe(value):
        return None
    return _UNSAFE.sub(_escape_unsafe, json.dumps(value, ensure_ascii=False))


def _key(key: Any) -> str:
    text = str(key)
    return text if _plain_ok(text) else _quoted(text)


def _is_scalar_list(value: list[Any]) -> bool:
    return all(v is None or isinstance(v, (str, int, float)) for v in value)


def _inline(value: Any) -> str | None:
    """How `value` is written after ``key: `` or ``- ``; None when it needs a block."""
    if isinstance(value, Flow):
        return _flow(value.value) if value.value else _inline(value.value)
    if isinstance(value, dict):
        return "{}" if not value else None
    if isinstance(value, list):
        if not value:
            return "[]"
        if _is_scalar_list(value) and not any(isinstance(v, str) and "\n" in v for v in value):
            return _flow(value)
        return None
    return _scalar(value)


def _literal(text: str, indent: str, out: list[str], head: str) -> None:
    body = text[:-1] if text.endswith("\n") else text
    out.append(f"{head} |" if text.endswith("\n") else f"{head} |-")
    for line in body.split("\n"):
        out.append(f"{indent}  {line}" if line else "")


def _emit_value(value: Any, indent: str, out: list[str], head: str) -> None:
    """Write `value` after `head` (``indent + "key:"`` or ``indent + "-"``)."""
    inline = _inline(value)
    if inline is not None:
        out.append(f"{head} {inline}")
        return
    if isinstance(value, Flow):
        value = value.value
    if isinstance(value, str):
        _literal(value, indent, out, head)
    elif isinstance(value, dict):
        if head.endswith("-"):
            _emit_mapping(value, indent + "  ", out, first_prefix=head + " ")
        else:
            out.append(head)
            _emit_mapping(value, indent + "  ", out)
    elif isinstance(value, list):
        if head.endswith("-"):  # a list in a list: nest it one level deeper
            out.append(head)
            _emit_sequence(value, indent + "  ", out)
        else:
            out.append(head)
            _emit_sequence(value, indent, out)  # indentless, as PyYAML writes it
    else:  # pragma: no cover - every scalar has an inline form
        raise TypeError(f"cannot write {type(value).__name__} to a cassette")


def _emit_mapping(
    mapping: dict[str, Any], indent: str, out: list[str], first_prefix: str | None = None
) -> None:
    for i, (key, value) in enumerate(mapping.items()):
        lead = first_prefix if (i == 0 and first_prefix is not None) else indent
        _emit_value(value, indent, out, f"{lead}{_key(key)}:")


def _emit_sequence(items: list[Any], indent: str, out: list[str]) -> None:
    for item in items:
        _emit_value(item, indent, out, f"{indent}-")


def emit(document: dict[str, Any]) -> str:
    """YAML text for a mapping of plain data (dict, list, str, int, float, bool, None, Flow)."""
    out: list[str] = []
    _emit_mapping(document, "", out)
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- the fast reader


class _GiveUp(Exception):
    """The text is outside the subset `emit` writes; PyYAML reads it instead."""


# Most plain scalars (keys, URLs, model names) are simple; the full check handles the rest.
_SIMPLE = re.compile(r"[A-Za-z_/][A-Za-z0-9_./:+=@,;()?&%~!*'$-]*\Z")


def _plain_fast(text: str) -> bool:
    if _SIMPLE.match(text) is not None:
        return not text.endswith(":") and text not in _BOOL_NULL
    return _plain_ok(text)


def _yaml_float(text: str) -> float:
    if _FLOAT.match(text) is None:
        raise _GiveUp  # JSON would read it as a number, YAML 1.1 as a string
    return float(text)


def _no_constant(text: str) -> Any:
    raise _GiveUp


_DECODE = json.JSONDecoder(parse_float=_yaml_float, parse_constant=_no_constant).decode


_checked: set[str] = set()
"""Plain scalars already found safe (keys and values repeat a lot); bounded."""


def _plain_known(text: str) -> bool:
    if text in _checked:
        return True
    if not _plain_fast(text):
        return False
    if len(_checked) > 50_000:
        _checked.clear()
    _checked.add(text)
    return True


def _parse_scalar(text: str) -> Any:
    first = text[0]
    if first == '"':
        try:
            value, end = scanstring(text, 1)
        except ValueError:
            raise _GiveUp from None
        if end != len(text):
            raise _GiveUp
        return value
    if first == "{" or first == "[":
        try:
            return _DECODE(text)
        except ValueError:
            raise _GiveUp from None
    if text == "null":
        return None
    if text == "true":
        return True
    if text == "false":
        return False
    if first == "-" or first.isdigit():
        if _INT.match(text):
            return int(text)
        return _yaml_float(text)
    if _plain_known(text):
        return text
    raise _GiveUp


def _split_key(content: str) -> tuple[str, str]:
    """``key: rest`` -> (key, rest); raises _GiveUp when the line is no such thing."""
    if content[0] == '"':
        try:
            key, end = scanstring(content, 1)
        except ValueError:
            raise _GiveUp from None
        rest = content[end:]
        if rest == ":":
            return key, ""
        if rest[:2] != ": ":
            raise _GiveUp
        return key, rest[2:]
    cut = content.find(": ")
    if cut < 0:
        if content[-1] != ":":
            raise _GiveUp
        key, rest = content[:-1], ""
    else:
        key, rest = content[:cut], content[cut + 2 :]
    if not _plain_known(key):
        raise _GiveUp
    return key, rest


def _is_key(text: str) -> bool:
    if text[0] == '"':
        try:
            _, end = scanstring(text, 1)
        except ValueError:
            raise _GiveUp from None
        return text[end:] == ":" or text[end : end + 2] == ": "
    return ": " in text or text[-1] == ":"


def _split(raw_lines: list[str], skip_header: bool) -> list[tuple[int, str, int]]:
    """(indent, content, blank lines before it) for each non-blank line."""
    lines: list[tuple[int, str, int]] = []
    blanks = 0
    for raw in raw_lines:
        content = raw.lstrip(" ")
        if not content:
            blanks += 1
            continue
        if skip_header and raw[0] == "#" and not lines:
            continue  # the header comment; comments anywhere else go to PyYAML
        lines.append((len(raw) - len(content), content, blanks))
        blanks = 0
    return lines


class _Deferred:
    """The text of a block not split yet (a lazy key's value)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class _Reader:
    """Line-based reader. Each line is (indent, content, blank lines before it); with a lazy
    key, the block under it is kept as one `_Deferred` entry of raw lines, not even split."""

    def __init__(self, text: str, lazy: tuple[str, int] | None = None) -> None:
        self.lazy_key, self.lazy_indent = lazy if lazy is not None else (None, -1)
        if lazy is None:
            lines = _split(text.split("\n"), skip_header=True)
        else:
            # find each "<indent>key:" line and the end of the block under it with C-speed
            # searches; the block's lines are not even split until the block is read
            marker = "\n" + " " * self.lazy_indent + f"{self.lazy_key}:\n"
            block_end = re.compile(f"\n(?= {{0,{self.lazy_indent}}}[^ \n])")
            lines, pos = [], 0
            while True:
                found = text.find(marker, pos)
                if found < 0:
                    break
                start = found + len(marker)
                end_match = block_end.search(text, start - 1)
                end = end_match.start() if end_match is not None else len(text)
                lines.extend(_split(text[pos : start - 1].split("\n"), skip_header=not lines))
                if end > start:
                    deferred = _Deferred(text[start:end])
                    lines.append((self.lazy_indent + 1, deferred, 0))  # type: ignore[arg-type]
                pos = end + 1 if end < len(text) else end
            lines.extend(_split(text[pos:].split("\n"), skip_header=not lines))
        self.lines = lines
        self.count = len(lines)
        self.pos = 0

    @classmethod
    def _of_lines(cls, lines: list[tuple[int, str, int]]) -> _Reader:
        reader = cls.__new__(cls)
        reader.lines, reader.count, reader.pos = lines, len(lines), 0
        reader.lazy_key, reader.lazy_indent = None, -1
        return reader

    def _skip(self, indent: int) -> Lazy | None:
        """The deferred block under a lazy key, left to be read when needed."""
        if self.pos < self.count:
            entry = self.lines[self.pos][1]
            if isinstance(entry, _Deferred):
                self.pos += 1
                return Lazy(entry.text)
        return None

    def block(self, indent: int) -> Any:
        if self.pos >= self.count or self.lines[self.pos][0] != indent:
            raise _GiveUp
        content = self.lines[self.pos][1]
        if content[0] == "-" and (len(content) == 1 or content[1] == " "):
            return self.sequence(indent)
        return self.mapping(indent)

    def _nested(self, indent: int, in_sequence: bool) -> Any:
        """The value of a ``key:`` (or ``-``) with nothing after it: a block, or null."""
        if self.pos >= self.count:
            return None
        level, content, _ = self.lines[self.pos]
        if level > indent:
            return self.block(level)
        if (
            not in_sequence
            and level == indent
            and content[0] == "-"
            and (len(content) == 1 or content[1] == " ")
        ):
            return self.sequence(indent)
        return None

    def _literal(self, indent: int, keep_newline: bool) -> str:
        lines = self.lines
        if self.pos >= self.count or lines[self.pos][0] <= indent:
            raise _GiveUp
        block_indent = lines[self.pos][0]
        parts: list[str] = []
        while self.pos < self.count:
            level, content, blanks = lines[self.pos]
            if level < block_indent:
                break
            if blanks:
                if not parts:
                    raise _GiveUp
                parts.extend([""] * blanks)
            parts.append(
                " " * (level - block_indent) + content if level > block_indent else content
            )
            self.pos += 1
        text = "\n".join(parts)
        return text + "\n" if keep_newline else text

    def mapping(self, indent: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        lines = self.lines
        count = self.count
        while self.pos < count:
            level, content, _ = lines[self.pos]
            if level != indent:
                if level < indent:
                    break
                raise _GiveUp
            if content[0] == "-" and (len(content) == 1 or content[1] == " "):
                break
            key, rest = _split_key(content)
            if key in out:
                raise _GiveUp  # duplicate keys: let PyYAML decide
            self.pos += 1
            if not rest:
                if key == self.lazy_key and indent == self.lazy_indent:
                    lazy = self._skip(indent)
                    if lazy is not None:
                        out[key] = lazy
                        continue
                out[key] = self._nested(indent, in_sequence=False)
            elif rest == "|" or rest == "|-":
                out[key] = self._literal(indent, keep_newline=rest == "|")
            else:
                out[key] = _parse_scalar(rest)
        return out

    def sequence(self, indent: int) -> list[Any]:
        out: list[Any] = []
        lines = self.lines
        count = self.count
        while self.pos < count:
            level, content, blanks = lines[self.pos]
            if level != indent:
                if level < indent:
                    break
                raise _GiveUp
            if content == "-":
                self.pos += 1
                out.append(self._nested(indent, in_sequence=True))
                continue
            if content[0] != "-" or content[1] != " ":
                break
            rest = content[2:]
            first = rest[0]
            if first == "-" and (len(rest) == 1 or rest[1] == " "):
                raise _GiveUp
            if first != "{" and first != "[" and _is_key(rest):
                # "- key: value": a mapping whose first key shares the dash's line
                lines[self.pos] = (indent + 2, rest, blanks)
                out.append(self.mapping(indent + 2))
                continue
            self.pos += 1
            if rest == "|" or rest == "|-":
                out.append(self._literal(indent, keep_newline=rest == "|"))
            else:
                out.append(_parse_scalar(rest))
        return out


class Lazy:
    """A block `fast_load` stepped over; `value()` reads it (ValueError outside the subset)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def value(self) -> Any:
        return _read(_Reader._of_lines(_split(self.text.split("\n"), skip_header=False)))

    def top(self) -> dict[str, str]:
        """The block's first-level ``key: rest`` pairs (rest unparsed), read cheaply."""
        first = self.text.lstrip("\n")
        base = len(first) - len(first.lstrip(" "))
        out: dict[str, str] = {}
        try:
            # every line is indented at least `base`: a non-space there starts a key (a
            # pattern starting with a literal newline lets the regex engine skip ahead)
            pattern = re.compile(f"\n {{{base}}}([^ \n][^\n]*)")
            for content in pattern.findall("\n" + self.text):
                key, rest = _split_key(content)
                out[key] = rest
        except (_GiveUp, IndexError):
            raise ValueError("not in the subset myna writes") from None
        return out


def _read(reader: _Reader) -> Any:
    enabled = gc.isenabled()
    gc.disable()  # many small objects, all kept: collections would only cost time
    try:
        if not reader.count:
            return None
        value = reader.block(reader.lines[0][0])
        if reader.pos != reader.count:
            raise _GiveUp
        return value
    except (_GiveUp, RecursionError, IndexError, TypeError, AttributeError):
        # TypeError/AttributeError: a deferred block where the layout was not ours
        raise ValueError("not in the subset myna writes") from None
    finally:
        if enabled:
            gc.enable()


def fast_load(text: str, *, lazy: tuple[str, int] | None = None) -> Any:
    """Read YAML written by `emit`; raises ValueError when the text is outside that subset.

    Args:
        lazy: ``(key, indent)``: blocks under that key at that indentation are not read
            but returned as `Lazy` values (a cassette's responses, read when replayed).
    """
    try:
        reader = _Reader(text, lazy)
    except IndexError:
        raise ValueError("not in the subset myna writes") from None
    return _read(reader)
