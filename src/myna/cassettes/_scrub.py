"""Keep secrets off disk: scrub interactions before writing, then scan what would be written.

Three layers, applied to every recorded interaction, all asking the one detector in
`._detect` (so a scan finds exactly what scrubbing removes):

1. Credential headers are dropped (`SECRET_HEADERS`, any name ending in ``-key``, ``-token``,
   ``-secret``, ``authorization`` or ``cookie``, and any name `secret_name` accepts:
   ``apikey``, ``x-password``, ...), and so are credential query parameters (``key=``,
   ``client_secret=``, ``X-Amz-Signature=``, ...). JSON fields named like credentials
   (``metadata.api_key``) keep their key and lose their value; usage counts such as
   ``max_tokens`` are not credentials.
2. The values of secret-looking environment variables (``*_API_KEY``, ``*_TOKEN``,
   ``*_SECRET``, ``*_PASSWORD``, at least 8 characters), token-shaped strings (`PATTERNS`:
   ``sk-...``, ``sk-ant-...``, ``AIza...``, bearer and basic credentials, JWTs, ...),
   ``name=value`` assignments of credentials in free text, and base64 runs that decode to any
   of these are replaced with ``REDACTED`` everywhere: URLs, header values, JSON bodies (keys
   too), SSE events, text, and base64 bodies. The pieces of each field of a stream are joined
   and scrubbed again, so a token split across events does not survive either.
3. `find_secrets` scans the final data; a cassette that still holds one is not written
   (`CassetteSecretError`, naming the interaction index and field path, never the value).

User hooks run between 2 and 3, so they can remove more but cannot sneak a secret back in.
Only values change; JSON keys by name, query parameters and headers are dropped on the live
request exactly as on the recorded one, so matching still works.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote, unquote_plus, urlsplit, urlunsplit

from ._detect import (
    PATTERNS,
    REDACTED,
    Detector,
    Span,
    secret_env_values,
    secret_name,
    secret_value,
)
from ._match import is_secret_query_param

__all__ = [
    "PATTERNS",
    "REDACTED",
    "SECRET_HEADERS",
    "Finding",
    "Scrubber",
    "find_secrets",
    "secret_env_values",
]

SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "x-goog-api-key",
        "openai-organization",
        "openai-project",
        "anthropic-organization-id",
        "x-goog-user-project",
        "cookie",
        "set-cookie",
        "x-amz-security-token",
        "x-amz-date",
    }
)
"""Headers never written (with any name ending in -key, -token, -secret, authorization, cookie)."""

_SECRET_SUFFIXES = ("-key", "-token", "-secret", "authorization", "cookie")

_NOISE_REQUEST_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "connection",
        "accept-encoding",
        "user-agent",
        "x-goog-api-client",
        "traceparent",
        "tracestate",
        "baggage",
    }
)
_NOISE_RESPONSE_HEADERS = frozenset(
    {
        "content-length",
        "content-encoding",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "date",
        "server",
        "cf-ray",
        "cf-cache-status",
        "alt-svc",
        "server-timing",
        "x-envoy-upstream-service-time",
        "strict-transport-security",
        "via",
    }
)
"""Transport-level and per-request noise; bodies are stored decoded so length/encoding go."""


@dataclass(frozen=True)
class Finding:
    """A secret-shaped value found by `find_secrets` (the value itself is never kept)."""

    interaction: int | None
    """Index of the interaction, or None for the cassette's top level."""
    path: str
    """Field path such as ``response.body.sse[2].data.choices[0].delta.content``."""
    kind: str
    """Which pattern matched (``openai-key``, ``env:OPENAI_API_KEY``, ``secret-header``, ...)."""

    def __str__(self) -> str:
        where = f"interaction {self.interaction} " if self.interaction is not None else ""
        return f"{where}{self.path} ({self.kind})"


class Scrubber:
    """Replaces secrets in interaction dicts (our cassette shape).

    Args:
        redact: extra literal strings or compiled regexes to replace with ``REDACTED``.
        environ: the environment to read secret values from (default: ``os.environ``).
    """

    def __init__(
        self, redact: Sequence[str | re.Pattern[str]] = (), environ: dict[str, str] | None = None
    ) -> None:
        self.detector = Detector(redact, environ)

    # -- text -----------------------------------------------------------------------------

    def text(self, value: str) -> str:
        """`value` with every secret replaced."""
        return self.detector.sub(value)

    def data(self, value: Any) -> Any:
        """JSON-like data with every secret in strings (and keys) replaced, and the string
        values of fields named like credentials (``api_key``, ``client_secret``) too."""
        if isinstance(value, str):
            return self.detector.sub(value)
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                name = self.text(key) if isinstance(key, str) else key
                if isinstance(key, str) and secret_name(key, field=True) and secret_value(item):
                    out[name] = REDACTED
                else:
                    out[name] = self.data(item)
            return out
        if isinstance(value, list):
            return [self.data(v) for v in value]
        return value

    def search(self, value: str) -> str | None:
        """The kind of the first secret in `value`, or None. A JSON document is also read as
        data, so this is true whenever `body` would change the body it encodes."""
        kind = self.detector.search(value)
        if kind is None and value.lstrip()[:1] in ("{", "["):
            try:
                parsed = json.loads(value)
            except ValueError:
                return None
            for _, kind in _data_findings(parsed, "", self.detector):
                return kind
        return kind

    # -- pieces of an interaction -----------------------------------------------------------

    def url(self, url: str) -> str:
        """The URL without credentials (query parameters, a password) and with secrets
        replaced, looking at percent-decoded values too."""
        parts = urlsplit(url)
        if parts.query:
            kept = []
            for param in parts.query.split("&"):
                key, sep, value = param.partition("=")
                plain_key, plain_value = unquote_plus(key), unquote_plus(value)
                if is_secret_query_param(plain_key):
                    continue
                if self.search(plain_key) or self.search(plain_value):
                    # only a parameter that changes is re-encoded; the rest stay as sent
                    param = (
                        quote_plus(self.text(plain_key)) + sep + quote_plus(self.text(plain_value))
                    )
                kept.append(param)
            parts = parts._replace(query="&".join(kept))
        if parts.password:
            host = parts.netloc.rpartition("@")[2]
            parts = parts._replace(netloc=f"{parts.username or ''}:{REDACTED}@{host}")
        path = unquote(parts.path)
        if self.search(path):
            parts = parts._replace(path=quote(self.text(path), safe="/:@!$&'()*+,;=-._~"))
        return self.text(urlunsplit(parts))

    def headers(self, headers: dict[str, Any] | None, *, response: bool) -> dict[str, Any]:
        """Headers without credentials or noise, with secrets replaced in the rest."""
        noise = _NOISE_RESPONSE_HEADERS if response else _NOISE_REQUEST_HEADERS
        out: dict[str, Any] = {}
        for name, value in (headers or {}).items():
            low = str(name).lower()
            if is_secret_header(low) or low in noise or low.startswith("x-stainless-"):
                continue
            out[low] = self.data(value)
        return out

    def body(self, body: dict[str, Any] | None) -> dict[str, Any] | None:
        """A stored body with secrets replaced (base64 bodies are decoded to look inside; the
        pieces of each field of a stream are joined and scrubbed again)."""
        if not body:
            return body
        kind, value = next(iter(body.items()))
        if kind == "base64":
            raw = base64.b64decode(value)
            text = raw.decode("latin-1")
            clean = self.text(text)
            if clean == text:
                return body
            return {"base64": base64.b64encode(clean.encode("latin-1")).decode("ascii")}
        clean = self.data(value)
        if kind in _STREAM_KINDS and isinstance(clean, list):
            for slots in _stream_fields(clean).values():
                pieces = [container[key] for container, key in slots]
                spans = _joined_spans(pieces, self.detector)
                if spans:
                    for (container, key), piece in zip(slots, _cut(pieces, spans), strict=True):
                        container[key] = piece
        return {kind: clean}

    def interaction(self, item: dict[str, Any]) -> dict[str, Any]:
        """A scrubbed copy of one interaction."""
        request = dict(item["request"])
        response = dict(item["response"])
        request["url"] = self.url(request["url"])
        request["headers"] = self.headers(request.get("headers"), response=False)
        request["body"] = self.body(request.get("body"))
        response["headers"] = self.headers(response.get("headers"), response=True)
        response["body"] = self.body(response.get("body"))
        if isinstance(response.get("error"), dict):
            response["error"] = self.data(response["error"])
        return {"request": request, "response": response}


_STREAM_KINDS = ("sse", "ndjson")


def _stream_fields(events: list[Any]) -> dict[str, list[tuple[Any, Any]]]:
    """Where each field's pieces sit in a stream, in event order: ``{path: [(container, key)]}``
    with paths inside one event (``data.choices[0].delta.content``)."""
    fields: dict[str, list[tuple[Any, Any]]] = {}

    def walk(container: Any, key: Any, path: str) -> None:
        value = container[key]
        if isinstance(value, str):
            fields.setdefault(path, []).append((container, key))
        elif isinstance(value, dict):
            for name in value:
                walk(value, name, f"{path}.{name}" if path else str(name))
        elif isinstance(value, list):
            for index in range(len(value)):
                walk(value, index, f"{path}[{index}]")

    for index in range(len(events)):
        walk(events, index, "")
    return fields


def _joined_spans(pieces: list[str], detector: Detector) -> list[tuple[Span, list[int]]]:
    """Secrets in the joined text of `pieces` that no single piece holds alone, each with the
    start offset of every piece (so `_cut` can map it back)."""
    if len(pieces) < 2:
        return []
    starts, total = [], 0
    for piece in pieces:
        starts.append(total)
        total += len(piece)
    out = []
    for span in detector.spans("".join(pieces)):
        first = max(i for i, start in enumerate(starts) if start <= span[0])
        if span[1] > starts[first] + len(pieces[first]):  # crosses into a later piece
            out.append((span, starts))
    return out


def _cut(pieces: list[str], spans: list[tuple[Span, list[int]]]) -> list[str]:
    """`pieces` with each joined span replaced: its replacement goes where the span starts and
    the rest of the span is removed from the pieces it runs into."""
    bounds = []
    total = 0
    for piece in pieces:
        bounds.append((total, total + len(piece)))
        total += len(piece)
    out = list(pieces)
    # right to left: an edit only moves text after it, so earlier offsets stay valid
    for (start, end, _, replacement), _starts in reversed(spans):
        for i, (piece_start, piece_end) in enumerate(bounds):
            lo, hi = max(start, piece_start), min(end, piece_end)
            if lo >= hi:
                continue
            text = out[i]
            out[i] = (
                text[: lo - piece_start]
                + (replacement if lo == start else "")
                + text[hi - piece_start :]
            )
    return out


def is_secret_header(name: str) -> bool:
    """True for headers that carry credentials."""
    low = name.lower()
    return low in SECRET_HEADERS or low.endswith(_SECRET_SUFFIXES) or secret_name(low)


def _walk(value: Any, path: str) -> Iterable[tuple[str, str]]:
    """Every string (keys included) under `value`, with its path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if isinstance(key, str):
                yield f"{here} (key)", key
            yield from _walk(item, here)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")


def _data_findings(value: Any, path: str, detector: Detector) -> Iterable[tuple[str, str]]:
    """``(path, kind)`` for each secret `Scrubber.data` would replace under `value`."""
    for here, text in _walk(value, path):
        kind = detector.search(text)
        if kind:
            yield here, kind
    yield from _named_fields(value, path)


def _named_fields(value: Any, path: str) -> Iterable[tuple[str, str]]:
    """Fields named like credentials (``api_key``) that still hold a value."""
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and secret_name(key, field=True) and secret_value(item):
                yield here, "secret-field"
            else:
                yield from _named_fields(item, here)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _named_fields(item, f"{path}[{index}]")


def find_secrets(cassette: dict[str, Any], scrubber: Scrubber | None = None) -> list[Finding]:
    """Secrets left in a cassette mapping: everything `Scrubber` removes (token shapes, secret
    env values, credentials named in headers, query parameters, JSON fields or free text,
    base64-wrapped ones, ones split across stream events). Empty when it is safe to write.
    """
    scrubber = scrubber or Scrubber()
    findings: list[Finding] = []
    for key in ("version", "recorded_with"):
        value = cassette.get(key)
        if isinstance(value, str) and scrubber.detector.search(value):
            findings.append(Finding(None, key, scrubber.detector.search(value) or ""))
    for index, item in enumerate(cassette.get("interactions") or []):
        findings.extend(_scan_interaction(index, item, scrubber.detector))
    return findings


def _scan_interaction(index: int, item: Any, detector: Detector) -> list[Finding]:
    found: list[Finding] = []
    if not isinstance(item, dict):
        return found
    for side in ("request", "response"):
        part = item.get(side)
        if not isinstance(part, dict):
            continue
        for name in part.get("headers") or {}:
            if is_secret_header(str(name)):
                found.append(Finding(index, f"{side}.headers.{name}", "secret-header"))
        url = part.get("url")
        if isinstance(url, str):
            split = urlsplit(url)
            for key, _ in parse_qsl(split.query, keep_blank_values=True):
                if is_secret_query_param(key):
                    found.append(Finding(index, f"{side}.url?{key}", "secret-query-param"))
            if split.password and split.password != REDACTED:
                found.append(Finding(index, f"{side}.url (password)", "url-password"))
            kind = detector.search(unquote(url))
            if kind and not detector.search(url):
                found.append(Finding(index, f"{side}.url (percent-encoded)", kind))
        body = part.get("body")
        rest = dict(part)
        if isinstance(body, dict) and isinstance(body.get("base64"), str):
            try:
                text = base64.b64decode(body["base64"]).decode("latin-1")
            except (binascii.Error, ValueError):
                text = ""
            kind = detector.search(text)
            if kind:
                found.append(Finding(index, f"{side}.body.base64", kind))
            del rest["body"]  # looked into above
        elif isinstance(body, dict) and body:
            kind, value = next(iter(body.items()))
            for path, name in _named_fields(value, f"{side}.body.{kind}"):
                found.append(Finding(index, path, name))
            if kind in _STREAM_KINDS and isinstance(value, list):
                for path, slots in _stream_fields(value).items():
                    pieces = [container[key] for container, key in slots]
                    for span, _ in _joined_spans(pieces, detector):
                        where = f"{side}.body.{kind}[*].{path} (joined)"
                        found.append(Finding(index, where, span[2]))
        if isinstance(part.get("error"), dict):
            for path, name in _named_fields(part["error"], f"{side}.error"):
                found.append(Finding(index, path, name))
        for path, text in _walk(rest, side):
            kind = detector.search(text)
            if kind:
                found.append(Finding(index, path, kind))
    return found


HookType = Callable[[dict[str, Any]], "dict[str, Any] | None"]
