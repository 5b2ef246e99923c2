"""Read cassettes recorded by other projects' tools into one neutral shape.

Four formats are understood, told apart by content rather than by file name:

- ``"pai"``: vcrpy YAML as pydantic-ai writes it (JSON bodies stored as YAML under ``parsed_body``);
- ``"vcr"``: stock vcrpy YAML (``interactions:``, ``body: {string: ...}``, gzip as ``!!binary``);
- ``"rvcr"``: Ruby VCR 6 YAML (``http_interactions:``, ``!binary`` base64 bodies);
- ``"httprr"``: Go ``httprr trace v1`` raw HTTP/1.1 dumps (langchaingo).

Bodies come out decoded: gzip/deflate/brotli undone, chunked framing removed, ``parsed_body``
turned back into JSON bytes. Headers keep their recorded values, with lower-cased names; when
the loader decompressed a body it drops ``content-encoding`` so headers and body agree.
"""

from __future__ import annotations

import base64
import functools
import gzip
import json
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._yaml_limits import alias_problem
from ..codecs import NDJSON_CONTENT_TYPES, sse_messages
from ..exceptions import DecodeError

__all__ = [
    "Interaction",
    "RecordedRequest",
    "RecordedResponse",
    "cassette_format",
    "load_interactions",
]

_GZIP_MAGIC = b"\x1f\x8b"
_HTTPRR_MAGIC = "httprr trace v1"
_SSE_FIELDS = ("data:", "event:", "id:", "retry:", ":")


def _parse_json(body: bytes | None, what: str) -> Any:
    if body is None:
        raise DecodeError(f"{what} has no body to parse as JSON.")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DecodeError(f"{what} is not JSON ({exc}): {body[:80]!r}") from None


@dataclass(frozen=True)
class RecordedRequest:
    """One recorded HTTP request.

    Attributes:
        method: upper-case HTTP method.
        url: the full URL as recorded (placeholders such as ``<OLLAMA_API_BASE>`` kept).
        headers: lower-cased names; repeated headers joined with ``", "``.
        body: the decoded body, or None when the request had none.
    """

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    source: str = field(default="", compare=False, repr=False)

    def json(self) -> Any:
        """The body parsed as JSON; `DecodeError` when absent or not JSON."""
        return _parse_json(self.body, f"Request body of {self.source or self.url}")


@dataclass(frozen=True)
class RecordedResponse:
    """One recorded HTTP response with its body decoded.

    Attributes:
        status: HTTP status code.
        headers: lower-cased names; repeated headers joined with ``", "``.
        body: decoded bytes (decompressed, de-chunked).
    """

    status: int
    headers: dict[str, str]
    body: bytes
    source: str = field(default="", compare=False, repr=False)

    def json(self) -> Any:
        """The body parsed as JSON; `DecodeError` when it is not JSON."""
        return _parse_json(self.body, f"Response body of {self.source or 'a recording'}")

    @property
    def stream_format(self) -> str | None:
        """``"sse"``, ``"ndjson"``, ``"json-array"`` (Gemini without ``alt=sse``) or None.

        The content type decides first; a body recorded under a plain JSON content type
        (Ollama Cloud, Gemini) is sniffed.
        """
        ctype = self.headers.get("content-type", "").partition(";")[0].strip().lower()
        if ctype == "text/event-stream":
            return "sse"
        if ctype in NDJSON_CONTENT_TYPES:
            return "ndjson"
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError:
            return None
        stripped = text.lstrip()
        if stripped.startswith(_SSE_FIELDS):
            return "sse"
        if stripped.startswith("["):
            try:
                items = json.loads(stripped)
            except ValueError:
                return None
            if items and all(isinstance(item, dict) for item in items):
                return "json-array"
            return None
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) < 2:
            return None
        try:
            parsed = [json.loads(line) for line in lines]
        except ValueError:
            return None
        return "ndjson" if all(isinstance(item, dict) for item in parsed) else None

    @property
    def is_stream(self) -> bool:
        """True when the body is an SSE, NDJSON or JSON-array stream."""
        return self.stream_format is not None

    def sse_events(self) -> list[tuple[str | None, Any]]:
        """``(event name, parsed data)`` pairs; the name is None for unnamed events.

        Non-SSE streams give ``(None, payload)`` for each payload.
        """
        if self.stream_format != "sse":
            return [(None, payload) for payload in self.stream_payloads()]
        events = []
        for index, (name, data) in enumerate(sse_messages(self.body)):
            events.append((name, self._parse_event(data, index)))
        return events

    def stream_payloads(self) -> list[Any]:
        """The stream's event payloads, as codecs' ``decode_stream`` takes them.

        SSE: each event's ``data`` parsed as JSON (``"[DONE]"`` stays a string; comments
        are skipped). NDJSON: one object per non-empty line. JSON array: its elements.

        Raises:
            DecodeError: the body is not a stream, or an event is not JSON.
        """
        fmt = self.stream_format
        if fmt == "sse":
            return [
                self._parse_event(data, i) for i, (_, data) in enumerate(sse_messages(self.body))
            ]
        if fmt == "json-array":
            return list(self.json())
        if fmt == "ndjson":
            text = self.body.decode("utf-8", errors="replace")
            lines = [line for line in text.splitlines() if line.strip()]
            return [self._parse_event(line, i) for i, line in enumerate(lines)]
        raise DecodeError(
            f"Response body of {self.source or 'a recording'} is not a stream "
            f"(content-type {self.headers.get('content-type', 'missing')!r}); use .json()."
        )

    def _parse_event(self, data: str, index: int) -> Any:
        if data.strip() == "[DONE]":
            return "[DONE]"
        try:
            return json.loads(data)
        except ValueError as exc:
            raise DecodeError(
                f"Stream event {index} of {self.source or 'a recording'} is not JSON "
                f"({exc}): {data[:80]!r}"
            ) from None


@dataclass(frozen=True)
class Interaction:
    """One request and the response it got."""

    request: RecordedRequest
    response: RecordedResponse

    def stored(self) -> dict[str, Any]:
        """This interaction in myna's cassette format (bodies encoded by content type)."""
        from ._format import encode_body

        request, response = self.request, self.response
        return {
            "request": {
                "method": request.method,
                "url": request.url,
                "headers": dict(request.headers),
                "body": encode_body(request.headers.get("content-type"), request.body or b""),
            },
            "response": {
                "status": response.status,
                "headers": dict(response.headers),
                "body": encode_body(response.headers.get("content-type"), response.body),
            },
        }


# ---------------------------------------------------------------- format detection


@functools.cache
def _yaml_loader() -> type:
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class _Loader(base):  # type: ignore[misc, valid-type]
        """SafeLoader that also understands Ruby's single-bang ``!binary`` tag."""

    def _ruby_binary(loader: Any, node: Any) -> bytes:
        text = loader.construct_scalar(node)
        try:
            return base64.b64decode("".join(text.split()), validate=True)
        except ValueError as exc:
            raise DecodeError(f"bad base64 in a !binary body: {exc}") from None

    _Loader.add_constructor("!binary", _ruby_binary)
    return _Loader


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DecodeError(f"Cannot read cassette {path}: {exc}") from None


def _load_yaml(path: Path, raw: bytes) -> Any:
    import yaml

    problem = alias_problem(raw)
    if problem is not None:
        raise DecodeError(f"{path.name} is not loaded: {problem}.")
    try:
        return yaml.load(raw, Loader=_yaml_loader())  # a SafeLoader subclass: safe
    except yaml.YAMLError as exc:
        raise DecodeError(
            f"{path.name} is not a cassette: it is not valid YAML ({exc}). "
            "Expected vcrpy/pydantic-ai YAML, Ruby VCR YAML or an httprr trace."
        ) from None
    except DecodeError as exc:
        raise DecodeError(f"{path.name}: {exc}") from None


def _is_httprr(raw: bytes) -> bool:
    return raw.split(b"\n", 1)[0].strip() == _HTTPRR_MAGIC.encode()


def _detect(path: Path, raw: bytes, data: Any) -> str:
    if isinstance(data, dict) and isinstance(data.get("http_interactions"), list):
        return "rvcr"
    if isinstance(data, dict) and isinstance(data.get("interactions"), list):
        return "pai" if b"parsed_body" in raw else "vcr"
    raise DecodeError(
        f"{path.name} is not a cassette in a known format: expected a YAML mapping with "
        f"'interactions:' (vcrpy / pydantic-ai) or 'http_interactions:' (Ruby VCR), or a "
        f"first line {_HTTPRR_MAGIC!r} (httprr)."
    )


def cassette_format(path: str | Path) -> str:
    """The format of a foreign cassette: ``"pai"``, ``"vcr"``, ``"rvcr"`` or ``"httprr"``.

    Raises:
        DecodeError: the file is in none of them.
    """
    path = Path(path)
    raw = _read(path)
    if _is_httprr(raw):
        return "httprr"
    return _detect(path, raw, _load_yaml(path, raw))


def load_interactions(path: str | Path) -> list[Interaction]:
    """Load every recorded interaction from a foreign cassette, in recorded order.

    Args:
        path: a PAI / vcrpy / Ruby VCR YAML cassette or an httprr trace.

    Returns:
        The interactions with decoded bodies.

    Raises:
        DecodeError: the file is in none of the formats, or a record is broken; the message
            names the file and the record index.
    """
    path = Path(path)
    raw = _read(path)
    if _is_httprr(raw):
        return _load_httprr(path, raw)
    data = _load_yaml(path, raw)
    fmt = _detect(path, raw, data)
    key = "http_interactions" if fmt == "rvcr" else "interactions"
    out = []
    for index, record in enumerate(data[key]):
        where = f"{path.name} interaction {index}"
        try:
            out.append(_yaml_interaction(record, where))
        except DecodeError as exc:
            raise DecodeError(f"{where}: {exc}") from None
    return out


# ---------------------------------------------------------------- YAML formats


def _headers(raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise DecodeError(f"headers must be a mapping, got {type(raw).__name__}")
    out: dict[str, str] = {}
    for name, value in raw.items():
        values = value if isinstance(value, list) else [value]
        joined = ", ".join("" if v is None else str(v) for v in values)
        key = str(name).lower()
        out[key] = f"{out[key]}, {joined}" if key in out else joined
    return out


def _yaml_body(side: dict[str, Any]) -> bytes | str | None:
    """The body as stored: bytes (binary), str (text) or None."""
    if "parsed_body" in side:
        return json.dumps(side["parsed_body"]).encode()
    body = side.get("body")
    if isinstance(body, dict):
        if "base64_string" in body:
            try:
                return base64.b64decode("".join(str(body["base64_string"]).split()))
            except ValueError as exc:
                raise DecodeError(f"bad base64_string body: {exc}") from None
        body = body.get("string")
    if body is None or isinstance(body, (bytes, str)):
        return body
    raise DecodeError(f"body must be a string, bytes or {{string: ...}}, got {type(body).__name__}")


def _decode_content(body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """Undo content-encoding on a binary body; drop the header once undone."""
    encoding = headers.get("content-encoding", "").strip().lower()
    if not encoding and not body.startswith(_GZIP_MAGIC):
        return body, headers
    try:
        if encoding in ("gzip", "x-gzip") or (not encoding and body.startswith(_GZIP_MAGIC)):
            decoded = gzip.decompress(body)
        elif encoding == "deflate":
            decoded = zlib.decompress(body)
        elif encoding == "br":
            try:
                import brotli
            except ImportError:
                raise DecodeError(
                    "body is brotli-compressed (content-encoding: br); "
                    "install the 'brotli' package to read it"
                ) from None
            decoded = brotli.decompress(body)
        elif encoding == "identity":
            return body, headers
        else:
            raise DecodeError(f"unsupported content-encoding {encoding!r}")
    except (OSError, EOFError, zlib.error) as exc:
        raise DecodeError(f"cannot undo content-encoding {encoding or 'gzip'!r}: {exc}") from None
    rest = {k: v for k, v in headers.items() if k != "content-encoding"}
    return decoded, rest


def _status(raw: Any) -> int:
    code = raw.get("code") if isinstance(raw, dict) else raw
    try:
        status = int(code)
    except (TypeError, ValueError):
        raise DecodeError(f"response status must be an integer code, got {code!r}") from None
    if not 100 <= status <= 599:
        raise DecodeError(f"response status {status} is not an HTTP status code")
    return status


def _yaml_interaction(record: Any, where: str) -> Interaction:
    if not isinstance(record, dict) or not isinstance(record.get("request"), dict):
        raise DecodeError("record has no 'request' mapping")
    if not isinstance(record.get("response"), dict):
        raise DecodeError("record has no 'response' mapping")
    req, resp = record["request"], record["response"]
    if "method" not in req or "uri" not in req:
        raise DecodeError("request needs 'method' and 'uri'")

    req_headers = _headers(req.get("headers"))
    req_body = _yaml_body(req)
    if isinstance(req_body, bytes):
        req_body, req_headers = _decode_content(req_body, req_headers)
    elif isinstance(req_body, str):
        req_body = req_body.encode("utf-8")
    request = RecordedRequest(
        method=str(req["method"]).upper(),
        url=str(req["uri"]),
        headers=req_headers,
        body=req_body if req_body else None,
        source=where,
    )

    resp_headers = _headers(resp.get("headers"))
    resp_body = _yaml_body(resp)
    if isinstance(resp_body, bytes):
        resp_body, resp_headers = _decode_content(resp_body, resp_headers)
    elif isinstance(resp_body, str):
        resp_body = resp_body.encode("utf-8")
    response = RecordedResponse(
        status=_status(resp.get("status")),
        headers=resp_headers,
        body=resp_body or b"",
        source=where,
    )
    return Interaction(request, response)


# ---------------------------------------------------------------- httprr

_HEAD_END = re.compile(rb"\r?\n\r?\n")
_COUNTS = re.compile(rb"(\d+) (\d+)\n")


def _split_head(data: bytes) -> tuple[list[str], bytes]:
    match = _HEAD_END.search(data)
    if match is None:
        raise DecodeError("HTTP message has no blank line after its headers")
    head = data[: match.start()].decode("latin-1")
    # Header lines end in CRLF except the scrubbed User-Agent line, which ends in LF.
    return [line.rstrip("\r") for line in head.split("\n")], data[match.end() :]


def _head_headers(lines: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep:
            raise DecodeError(f"malformed header line {line!r}")
        key = name.strip().lower()
        value = value.strip()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    pos = 0
    while True:
        eol = body.find(b"\n", pos)
        if eol < 0:
            raise DecodeError("chunked body ends without the final 0-size chunk")
        size_text = body[pos:eol].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise DecodeError(f"bad chunk size {size_text[:20]!r} in a chunked body") from None
        pos = eol + 1
        if size == 0:
            return bytes(out)
        if pos + size > len(body):
            raise DecodeError("chunked body is shorter than its chunk sizes say")
        out += body[pos : pos + size]
        pos += size
        # Each chunk's data is followed by CRLF.
        if body[pos : pos + 2] == b"\r\n":
            pos += 2
        elif body[pos : pos + 1] == b"\n":
            pos += 1
        else:
            raise DecodeError("chunk data is not followed by a line break")


def _httprr_request(data: bytes, where: str) -> RecordedRequest:
    lines, body = _split_head(data)
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise DecodeError(f"bad request line {lines[0]!r}")
    method, target, _ = parts
    headers = _head_headers(lines[1:])
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _dechunk(body)
    url = target
    if target.startswith("/"):
        url = f"https://{headers.get('host', '')}{target}"
    return RecordedRequest(method.upper(), url, headers, body or None, source=where)


def _httprr_response(data: bytes, where: str) -> RecordedResponse:
    lines, body = _split_head(data)
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise DecodeError(f"bad status line {lines[0]!r}")
    status = _status(parts[1])
    headers = _head_headers(lines[1:])
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _dechunk(body)
    if headers.get("content-encoding") or body.startswith(_GZIP_MAGIC):
        body, headers = _decode_content(body, headers)
    return RecordedResponse(status, headers, body, source=where)


def _load_httprr(path: Path, raw: bytes) -> list[Interaction]:
    pos = raw.index(b"\n") + 1
    out = []
    index = 0
    while pos < len(raw):
        where = f"{path.name} interaction {index}"
        match = _COUNTS.match(raw, pos)
        if match is None:
            snippet = raw[pos : pos + 30]
            raise DecodeError(
                f"{where}: expected a '<request bytes> <response bytes>' line, got {snippet!r}"
            )
        req_len, resp_len = int(match.group(1)), int(match.group(2))
        start = match.end()
        if start + req_len + resp_len > len(raw):
            raise DecodeError(
                f"{where}: the file ends before the {req_len} + {resp_len} bytes the record "
                "declares (truncated trace?)"
            )
        try:
            request = _httprr_request(raw[start : start + req_len], where)
            response = _httprr_response(raw[start + req_len : start + req_len + resp_len], where)
        except DecodeError as exc:
            raise DecodeError(f"{where}: {exc}") from None
        out.append(Interaction(request, response))
        pos = start + req_len + resp_len
        index += 1
    return out
