"""The on-disk cassette format: YAML that reads like the conversation it recorded.

```yaml
# myna cassette: recorded provider traffic, secrets scrubbed. Edit with care.
version: 1
recorded_with: myna 0.1.0
interactions:
- request:
    method: POST
    url: https://api.openai.com/v1/chat/completions
    headers: {content-type: application/json}
    body:
      json: {model: gpt-4.1-mini, messages: [...], stream: true}
  response:
    status: 200
    headers: {content-type: text/event-stream}
    body:
      sse:
      - data: {id: chatcmpl-1, choices: [...]}
      - data: '[DONE]'
```

Bodies are stored decoded (gzip/deflate/brotli undone; ``content-encoding`` and
``content-length`` dropped) in one of five kinds: ``json`` (structured YAML), ``sse`` (one entry
per event: ``event``/``id``/``retry``/``data``/``comment``, or ``raw`` for a fragment kept
verbatim; ``data`` is parsed when it is a JSON object or array), ``ndjson`` (one object per
line), ``text`` and ``base64``. A response may also carry ``error`` (``{type, message}``: the
transport error that cut the stream, re-raised on replay after the recorded events) and
``timing`` (seconds since the response started, one per replayed chunk; only written with
``timing=True``). A stream the recording client closed early holds the events that arrived.
SSE events and NDJSON lines are split and written back by the stream framing of
`myna.codecs` (`parse_sse` / `sse_bytes`, `parse_ndjson` / `ndjson_line`).

Loading is safe (``yaml.CSafeLoader``) and strict: a broken file raises `CassetteError` with the
file and line, and so does a file whose YAML aliases would copy more than 10,000 nodes (an
alias bomb; myna writes no aliases). Parsed files are cached by the hash of their bytes, so a
cassette used by many tests is parsed once per process.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from .._yaml_limits import ALIAS_LIMIT
from ..codecs import NDJSON_CONTENT_TYPES, ndjson_line, parse_ndjson, parse_sse, sse_bytes
from ._errors import CassetteError
from ._yaml import Flow, Lazy, alias_expansion, emit, fast_load

__all__ = [
    "BODY_KINDS",
    "FORMAT_VERSION",
    "body_chunks",
    "decode_body",
    "dump_cassette",
    "encode_body",
    "load_cassette",
    "loads_cassette",
    "new_cassette",
    "parse_cassette",
    "parse_sse",
    "sse_bytes",
]

FORMAT_VERSION = 1
HEADER = "# myna cassette: recorded provider traffic, secrets scrubbed. Edit with care.\n"
BODY_KINDS = ("json", "sse", "ndjson", "text", "base64")
"""The ways a body is stored; a body mapping has exactly one of these keys."""

_REQUEST_KEYS = ("method", "url", "headers", "body")
_RESPONSE_KEYS = ("status", "headers", "body", "error", "timing")
_SSE_KEYS = ("comment", "event", "id", "retry", "data", "raw")


def _version() -> str:
    from .._version import __version__

    return f"myna {__version__}"


def new_cassette(interactions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A cassette mapping with the standard header fields."""
    return {
        "version": FORMAT_VERSION,
        "recorded_with": _version(),
        "interactions": list(interactions or []),
    }


# ---------------------------------------------------------------- bodies


def _media_type(content_type: str | None) -> str:
    return (content_type or "").partition(";")[0].strip().lower()


def _is_json_type(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


def encode_body(
    content_type: str | None, data: bytes, *, offsets: list[int] | None = None
) -> dict[str, Any] | None:
    """Store body bytes as the most readable kind that replays faithfully.

    Args:
        content_type: the ``content-type`` header, if any.
        data: the decoded body.
        offsets: when given, filled with the byte offset where each replay chunk ends
            (one per SSE event / NDJSON line, else one for the whole body).

    Returns:
        ``{kind: value}``, or None for an empty body.
    """
    if not data:
        return None
    media = _media_type(content_type)
    try:
        if media == "text/event-stream":
            events = parse_sse(data)
            if offsets is not None:
                offsets.extend(end for _, end in events)
            return {"sse": [event for event, _ in events]}
        if media in NDJSON_CONTENT_TYPES:
            lines = parse_ndjson(data)
            if lines is not None:
                if offsets is not None:
                    offsets.extend(end for _, end in lines)
                return {"ndjson": [value for value, _ in lines]}
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        if offsets is not None:
            offsets.append(len(data))
        return {"base64": base64.b64encode(data).decode("ascii")}
    if offsets is not None:
        offsets.append(len(data))
    if _is_json_type(media):
        try:
            return {"json": json.loads(text)}
        except ValueError:
            # NDJSON sent as application/json (Ollama does): still one object per line
            lines = parse_ndjson(data)
            if lines is not None and len(lines) > 1:
                if offsets is not None:
                    offsets[-1:] = [end for _, end in lines]
                return {"ndjson": [value for value, _ in lines]}
    return {"text": text}


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def body_chunks(body: dict[str, Any] | None) -> list[bytes]:
    """The wire chunks a stored body replays as: one per SSE event or NDJSON line."""
    if not body:
        return []
    kind, value = next(iter(body.items()))
    if kind == "sse":
        return sse_bytes(value)
    if kind == "ndjson":
        return [ndjson_line(item) for item in value]
    if kind == "json":
        return [_json_bytes(value)]
    if kind == "text":
        return [str(value).encode("utf-8")] if value else []
    if kind == "base64":
        return [base64.b64decode(value)]
    raise CassetteError(f"Unknown body kind {kind!r}; expected one of {', '.join(BODY_KINDS)}.")


def decode_body(body: dict[str, Any] | None) -> bytes:
    """The bytes of a stored body (empty for None)."""
    return b"".join(body_chunks(body))


# ---------------------------------------------------------------- YAML


@functools.cache
def _loader() -> type:
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # type: ignore[no-any-return]


def _with_flow(body: dict[str, Any] | None) -> dict[str, Any] | None:
    """Mark stream events to be written one per line (as JSON flow values)."""
    if not body:
        return body
    if "sse" in body:
        events = [
            {
                k: (Flow(v) if k == "data" and isinstance(v, (dict, list)) else v)
                for k, v in e.items()
            }
            if isinstance(e, dict)
            else e
            for e in body["sse"]
        ]
        return {"sse": events}
    if "ndjson" in body:
        return {"ndjson": [Flow(item) for item in body["ndjson"]]}
    return body


def _ordered(side: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    out = {k: side[k] for k in keys if k in side and side[k] is not None}
    out.update((k, v) for k, v in side.items() if k not in out and v is not None)
    if "body" in out:
        out["body"] = _with_flow(out["body"])
    return out


def dump_cassette(cassette: dict[str, Any]) -> str:
    """The YAML text of a cassette mapping, with the header comment and a fixed key order."""
    interactions = [
        {
            "request": _ordered(item["request"], _REQUEST_KEYS),
            "response": _ordered(item["response"], _RESPONSE_KEYS),
        }
        for item in cassette.get("interactions", [])
    ]
    data = {
        "version": cassette.get("version", FORMAT_VERSION),
        "recorded_with": cassette.get("recorded_with") or _version(),
        "interactions": interactions,
    }
    return HEADER + emit(data)


# ---------------------------------------------------------------- validation


def _line_of(text: str, path: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at `path`, for error messages."""
    import yaml

    try:
        node = yaml.compose(text, Loader=_loader())
    except yaml.YAMLError:
        return None
    line = None
    for step in path:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == step), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            node = node.value[step] if step < len(node.value) else None
        else:
            node = None
    if node is not None:
        line = node.start_mark.line + 1
    return line


class _Shape(Exception):
    def __init__(self, path: tuple[Any, ...], problem: str) -> None:
        super().__init__(problem)
        self.path = path
        self.problem = problem


def _where(path: tuple[Any, ...]) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


def _check_keys(side: Any, allowed: tuple[str, ...], path: tuple[Any, ...]) -> None:
    if not isinstance(side, dict):
        raise _Shape(path, f"must be a mapping, got {type(side).__name__}")
    for key in side:
        if key not in allowed:
            raise _Shape((*path, key), f"unknown key {key!r}; expected {', '.join(allowed)}")


def _check_headers(headers: Any, path: tuple[Any, ...]) -> None:
    if headers is None:
        return
    if not isinstance(headers, dict):
        raise _Shape(path, f"headers must be a mapping, got {type(headers).__name__}")
    for name, value in headers.items():
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, (str, int, float)) for v in values):
            raise _Shape((*path, name), "a header value must be a string or a list of strings")


def _check_body(body: Any, path: tuple[Any, ...]) -> int:
    """Validate a stored body; returns how many chunks it replays as."""
    if body is None:
        return 0
    if not isinstance(body, dict) or len(body) != 1:
        raise _Shape(path, f"a body must be a mapping with one of {', '.join(BODY_KINDS)}")
    kind, value = next(iter(body.items()))
    here = (*path, kind)
    if kind not in BODY_KINDS:
        raise _Shape(here, f"unknown body kind {kind!r}; expected one of {', '.join(BODY_KINDS)}")
    if kind in ("sse", "ndjson"):
        if not isinstance(value, list):
            raise _Shape(here, f"{kind} must be a list, got {type(value).__name__}")
        if kind == "sse":
            for index, event in enumerate(value):
                _check_keys(event, _SSE_KEYS, (*here, index))
        return len(value)
    if kind == "base64":
        if not isinstance(value, str):
            raise _Shape(here, "base64 must be a string")
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _Shape(here, f"invalid base64 ({exc})") from None
    if kind == "text" and not isinstance(value, str):
        raise _Shape(here, f"text must be a string, got {type(value).__name__}")
    return 1


def _check_interaction(item: Any, path: tuple[Any, ...]) -> None:
    _check_keys(item, ("request", "response"), path)
    for side in ("request", "response"):
        if side not in item:
            raise _Shape(path, f"missing {side!r}")
    request, response = item["request"], item["response"]
    _check_keys(request, _REQUEST_KEYS, (*path, "request"))
    for key in ("method", "url"):
        if not isinstance(request.get(key), str) or not request[key]:
            raise _Shape((*path, "request", key), f"request needs a non-empty string {key!r}")
    _check_headers(request.get("headers"), (*path, "request", "headers"))
    _check_body(request.get("body"), (*path, "request", "body"))
    if isinstance(response, Lazy):  # the rest is checked when the response is read
        _check_lazy_response(response, (*path, "response"))
    else:
        _check_response(response, (*path, "response"))


def _check_lazy_response(response: Lazy, path: tuple[Any, ...]) -> None:
    try:
        top = response.top()
    except ValueError:
        return  # outside the fast subset: checked in full when read
    for key in top:
        if key not in _RESPONSE_KEYS:
            raise _Shape((*path, key), f"unknown key {key!r}; expected {', '.join(_RESPONSE_KEYS)}")
    status = top.get("status", "")
    if not status.isdigit() or not 100 <= int(status) <= 599:
        shown = repr(int(status)) if status.isdigit() else (status or "nothing")
        raise _Shape((*path, "status"), f"status must be an HTTP code, got {shown}")


def _check_response(response: Any, path: tuple[Any, ...]) -> None:
    path = path[:-1]
    _check_keys(response, _RESPONSE_KEYS, (*path, "response"))
    status = response.get("status")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise _Shape((*path, "response", "status"), f"status must be an HTTP code, got {status!r}")
    _check_headers(response.get("headers"), (*path, "response", "headers"))
    chunks = _check_body(response.get("body"), (*path, "response", "body"))
    error = response.get("error")
    if error is not None and (
        not isinstance(error, dict) or not isinstance(error.get("type"), str)
    ):
        raise _Shape((*path, "response", "error"), "error must be a mapping with a 'type' string")
    timing = response.get("timing")
    if timing is not None:
        ok = isinstance(timing, list) and all(
            isinstance(t, (int, float)) and not isinstance(t, bool) for t in timing
        )
        if not ok:
            raise _Shape((*path, "response", "timing"), "timing must be a list of seconds")
        if len(timing) != chunks:
            raise _Shape(
                (*path, "response", "timing"),
                f"timing has {len(timing)} entries but the body replays as {chunks} chunk(s)",
            )


def _check(data: Any) -> None:
    if not isinstance(data, dict):
        raise _Shape((), f"a cassette must be a mapping, got {type(data).__name__}")
    version = data.get("version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise _Shape(
            ("version",),
            f"format version {version!r} is not {FORMAT_VERSION}; it was written by another "
            "myna version (upgrade myna) or another tool (convert it: myna cassettes convert)",
        )
    if "interactions" not in data:
        raise _Shape((), "missing 'interactions'")
    interactions = data["interactions"]
    if interactions is None:
        data["interactions"] = interactions = []
    if not isinstance(interactions, list):
        raise _Shape(("interactions",), "'interactions' must be a list")
    for index, item in enumerate(interactions):
        _check_interaction(item, ("interactions", index))


def _broken_yaml(source: str, exc: Any) -> CassetteError:
    mark = getattr(exc, "problem_mark", None)
    line = f", line {mark.line + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc)
    return CassetteError(
        f"{source}{line}: broken YAML ({problem}). Fix the file by hand or restore it "
        "from version control; myna never re-records a broken cassette silently."
    )


def _wrong_shape(source: str, text: str, data: Any, exc: _Shape) -> CassetteError:
    line = _line_of(text, exc.path)
    at = f", line {line}" if line else ""
    where = f" at {_where(exc.path)}" if exc.path else ""
    if (
        isinstance(data, dict)
        and "interactions" in data
        and exc.path[:1] == ("interactions",)
        and _looks_foreign(data)
    ):
        hint = " It looks like a vcrpy cassette: convert it with `myna cassettes convert`."
    else:
        hint = " Fix it by hand or restore it from version control."
    return CassetteError(f"{source}{at}: not a valid myna cassette{where}: {exc.problem}.{hint}")


def _decode_text(raw: str | bytes, source: str) -> str:
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CassetteError(f"{source}: not UTF-8 text ({exc}).") from None
    if not raw or raw.isspace():
        raise CassetteError(
            f"{source} is empty. Delete it to record it again (mode 'once'), or restore it "
            "from version control."
        )
    return raw


_ALIAS_LIMIT = ALIAS_LIMIT
"""Nodes YAML aliases may copy in a cassette; past it the file is refused (an alias bomb)."""


def _pyyaml(text: str, source: str) -> Any:
    import yaml

    aliases, copied = alias_expansion(text)
    if copied > _ALIAS_LIMIT:
        raise CassetteError(
            f"{source}: cassette uses {aliases} YAML aliases copying {copied:,} nodes (the "
            f"limit is {_ALIAS_LIMIT:,}); myna cassettes are written without aliases: this file "
            "was edited or is hostile. Restore it from version control or re-record it."
        )
    try:
        return yaml.load(text, Loader=_loader())  # a safe loader
    except yaml.YAMLError as exc:
        raise _broken_yaml(source, exc) from None


def parse_cassette(
    raw: str | bytes, source: str = "<cassette>", *, digest: str | None = None
) -> ParsedCassette:
    """Parse and validate cassette text; responses are read lazily (see `ParsedCassette`).

    Raises:
        CassetteError: broken YAML or a wrong shape; names `source` and the line.
    """
    text = _decode_text(raw, source)
    try:
        data = fast_load(text, lazy=("response", 2))
    except ValueError:
        data = None
    if data is not None:
        try:
            _check(data)
        except _Shape:
            data = None  # read it all with PyYAML: the most precise error for a broken file
    if data is None:
        data = _pyyaml(text, source)
        try:
            _check(data)
        except _Shape as exc:
            raise _wrong_shape(source, text, data, exc) from None
    digest = digest or digest_of(text.encode("utf-8"))
    return ParsedCassette(digest, data, source=source, text=text)


def loads_cassette(text: str | bytes, source: str = "<cassette>") -> dict[str, Any]:
    """Parse and validate cassette YAML text (everything read, nothing lazy).

    Raises:
        CassetteError: broken YAML or a wrong shape; names `source` and the line.
    """
    return parse_cassette(text, source).data


def _looks_foreign(data: dict[str, Any]) -> bool:
    first = (data.get("interactions") or [None])[0]
    return (
        isinstance(first, dict)
        and isinstance(first.get("request"), dict)
        and ("uri" in first["request"])
    )


# ---------------------------------------------------------------- loading, with a cache


class ParsedCassette:
    """A parsed, validated cassette, shared by every user of the same file content.

    Requests are read at load time (matching needs them); each response is read when it is
    first replayed, so loading a big cassette costs little more than its requests. A response
    that turns out broken raises `CassetteError` with the file and line when it is read.
    Treat everything here as read-only: it is shared through the cache. `extras` holds
    derived, equally shared structures (indexes, prepared replays) keyed by their builders.
    """

    def __init__(self, digest: str, data: dict[str, Any], *, source: str, text: str) -> None:
        self.digest = digest
        self.source = source
        self._data = data
        self._text = text
        self._lazy = any(isinstance(i["response"], Lazy) for i in data["interactions"])
        self._lock = threading.Lock()
        self.extras: dict[Any, Any] = {}

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every recorded request, in order."""
        return [item["request"] for item in self._data["interactions"]]

    def __len__(self) -> int:
        return len(self._data["interactions"])

    def response(self, index: int) -> dict[str, Any]:
        """The recorded response of interaction `index` (read now if it was not yet)."""
        item = self._data["interactions"][index]
        response = item["response"]
        if isinstance(response, Lazy):
            with self._lock:
                response = item["response"]
                if isinstance(response, Lazy):
                    response = item["response"] = self._read_response(index, response)
        return response  # type: ignore[no-any-return]

    def _read_response(self, index: int, lazy: Lazy) -> dict[str, Any]:
        path: tuple[Any, ...] = ("interactions", index, "response")
        try:
            response = lazy.value()
        except ValueError:  # outside the fast subset: read the whole file the slow way
            response = _pyyaml(self._text, self.source)["interactions"][index]["response"]
        try:
            _check_response(response, path)
        except _Shape as exc:
            raise _wrong_shape(self.source, self._text, None, exc) from None
        return response  # type: ignore[no-any-return]

    @property
    def data(self) -> dict[str, Any]:
        """The whole cassette mapping, every response read."""
        if self._lazy:
            for index in range(len(self)):
                self.response(index)
            self._lazy = False
        return self._data

    @property
    def interactions(self) -> list[dict[str, Any]]:
        """Every interaction, every response read."""
        return self.data["interactions"]  # type: ignore[no-any-return]


_CACHE_SIZE = 64
_cache: OrderedDict[str, ParsedCassette] = OrderedDict()
_cache_lock = threading.Lock()


def digest_of(raw: bytes) -> str:
    """The content hash the parsed-cassette cache is keyed by."""
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CassetteError(f"Cannot read cassette {path}: {exc.strerror or exc}.") from None


def parse_cached(raw: bytes, source: str) -> ParsedCassette:
    """The parsed cassette for these bytes, from the cache when the same bytes were seen."""
    digest = digest_of(raw)
    with _cache_lock:
        hit = _cache.get(digest)
        if hit is not None:
            _cache.move_to_end(digest)
            return hit
    parsed = parse_cassette(raw, source, digest=digest)
    with _cache_lock:
        _cache[digest] = parsed
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return parsed


_seen: dict[str, tuple[tuple[int, int, int], str]] = {}
"""path -> (stat signature, digest): an unchanged file is not read or hashed again."""


def load_parsed(path: str | Path) -> ParsedCassette:
    """Read and parse a cassette file through the cache (shared, read-only result)."""
    path = Path(path)
    key = str(path)
    try:
        stat = path.stat()
        signature = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    except OSError:
        signature = None
    if signature is not None:
        seen = _seen.get(key)
        if seen is not None and seen[0] == signature:
            with _cache_lock:
                hit = _cache.get(seen[1])
            if hit is not None:
                return hit
    raw = read_bytes(path)
    parsed = parse_cached(raw, str(path))
    if signature is not None:
        _seen[key] = (signature, parsed.digest)
    return parsed


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def load_cassette(path: str | Path) -> dict[str, Any]:
    """Load a myna cassette file as a plain mapping (a private copy you may modify).

    Returns:
        ``{"version": 1, "recorded_with": ..., "interactions": [{"request": ..., "response":
        ...}, ...]}``.

    Raises:
        CassetteError: unreadable, broken YAML, or a wrong shape; names the file and line.
    """
    return _copy(load_parsed(path).data)  # type: ignore[no-any-return]


def clear_cache() -> None:
    """Forget every parsed cassette (benchmarks use it to time cold loads)."""
    with _cache_lock:
        _cache.clear()
        _seen.clear()
