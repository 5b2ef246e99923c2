"""Which recorded interaction answers a request: keys, volatile fields, diffs.

A request's key is ``(method, host, path, query, body)`` after normalisation: the host is
lower-cased without default ports, the query is sorted with credentials removed (``key=``,
and any name the scrubber's detector takes for a secret: ``client_secret``, ``X-Amz-Signature``),
and a JSON body is canonical JSON with the volatile fields removed. Two requests with the same
key are the same request; identical requests replay in recorded order.

Volatile fields ignored by default (`DEFAULT_IGNORE`): values that change between runs without
changing what is asked.

- ``user``, ``safety_identifier``, ``prompt_cache_key``, ``metadata.user_id``: per-user
  tags and cache hints. Other ``metadata`` keys are matched (OpenAI stores them with the
  response and they can select behaviour); add ``ignore=["metadata.*"]`` to ignore them too.
- ``stream_options``: how usage is reported, not what is asked.
- tool-call ids that clients send back (``tool_call_id``, ``tool_use_id``, ``call_id``, the
  ``id`` of tool calls in messages / input items / Gemini function calls): some clients mint
  them locally, so they differ between runs.

Headers are never matched (SDK telemetry such as ``x-stainless-*`` and ``user-agent`` changes
with every SDK release).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from ..exceptions import UserError
from ._detect import secret_name

__all__ = [
    "DEFAULT_IGNORE",
    "DEFAULT_MATCH_ON",
    "Matcher",
    "RequestView",
]

DEFAULT_MATCH_ON = ("method", "host", "path", "query", "body")
"""Request parts compared by default."""

DEFAULT_IGNORE = (
    "user",
    "safety_identifier",
    "prompt_cache_key",
    "metadata.user_id",
    "stream_options",
    "**.tool_call_id",
    "**.tool_use_id",
    "**.call_id",
    "messages.*.tool_calls.*.id",
    "messages.*.content.*.id",
    "input.*.id",
    "contents.*.parts.*.functionCall.id",
    "contents.*.parts.*.functionResponse.id",
)
"""Body fields ignored when matching unless ``ignore_defaults=False``; ``*`` is one level
(a key or a list index), ``**`` any number of levels."""

SECRET_QUERY_PARAMS = frozenset(
    {"key", "api_key", "api-key", "apikey", "access_token", "token", "sig", "signature"}
)
"""Query parameters that carry credentials: removed before writing and before matching, as
is any other name `secret_name` takes for a credential (`is_secret_query_param`)."""


def is_secret_query_param(name: str) -> bool:
    """True for query parameters that carry credentials (``key``, ``X-Amz-Signature``, ...)."""
    return name.lower() in SECRET_QUERY_PARAMS or secret_name(name)


_MATCH_PARTS = frozenset(DEFAULT_MATCH_ON)
_DEFAULT_PORTS = {"http": 80, "https": 443}


@functools.lru_cache(maxsize=4096)
def split_url(url: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """``(scheme://host[:port], path, sorted query without credentials)``."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    origin = f"{scheme}://{host}"
    if port is not None and _DEFAULT_PORTS.get(scheme) != port:
        origin += f":{port}"
    query = tuple(
        sorted(
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not is_secret_query_param(k)  # their values differ run to run, or are REDACTED
        )
    )
    return origin, parts.path or "/", query


# ---------------------------------------------------------------- ignore patterns


_PARTS = {
    "method": ("method",),
    "host": ("host",),
    "scheme": ("host",),
    "port": ("host",),
    "path": ("path",),
    "query": ("query",),
    "uri": ("host", "path", "query"),
    "url": ("host", "path", "query"),
}
"""Request parts (vcrpy's names too) that users put in ``ignore=`` meaning ``match_on=``."""


def _compile(patterns: Iterable[str], match_on: Sequence[str]) -> list[tuple[str, ...]]:
    out = []
    for pattern in patterns:
        if not isinstance(pattern, str) or not pattern.strip("."):
            raise UserError(
                f"ignore={pattern!r} is not a field path; use dotted paths such as "
                "'metadata.*' or '**.id'."
            )
        if pattern == "headers":
            raise UserError(
                "ignore=['headers']: headers are never compared when matching (SDK telemetry "
                "such as user-agent changes with every release), so there is nothing to ignore."
            )
        if pattern in _PARTS:
            keep = [part for part in match_on if part not in _PARTS[pattern]]
            raise UserError(
                f"ignore=[{pattern!r}] names a part of the request, but ignore= lists JSON body "
                f"fields. To stop comparing it pass match_on={keep} (the myna_cassette marker "
                f"takes match_on= too); for a body field named {pattern!r} write "
                f"'body.{pattern}'."
            )
        if pattern.startswith("body."):
            pattern = pattern[len("body.") :]  # explicit: a body field, whatever its name
        out.append(tuple(pattern.split(".")))
    return out


States = tuple[tuple[str, ...], ...]


def _advance(states: States, key: str) -> tuple[States, bool]:
    """States after stepping into `key`; True when a pattern ends there (drop the field)."""
    nxt: list[tuple[str, ...]] = []
    drop = False
    for state in states:
        head = state[0]
        if head == "**":
            nxt.append(state)  # ** keeps matching deeper levels
            rest = state[1:]
            if rest and (rest[0] == key or rest[0] == "*"):
                if len(rest) == 1:
                    drop = True
                else:
                    nxt.append(rest[1:])
            elif not rest:
                drop = True
        elif head == key or head == "*":
            if len(state) == 1:
                drop = True
            else:
                nxt.append(state[1:])
    return tuple(dict.fromkeys(nxt)), drop


class _Stripper:
    """Removes ignored fields; steps are memoised (the same keys recur in every request)."""

    def __init__(self, patterns: list[tuple[str, ...]]) -> None:
        self.start: States = tuple(dict.fromkeys(patterns))
        self._memo: dict[tuple[States, str], tuple[States, bool]] = {}

    def _step(self, states: States, key: str) -> tuple[States, bool]:
        found = self._memo.get((states, key))
        if found is None:
            if len(self._memo) > 20_000:
                self._memo.clear()
            found = self._memo[(states, key)] = _advance(states, key)
        return found

    def strip(self, value: Any, states: States | None = None) -> Any:
        states = self.start if states is None else states
        if not states:
            return value
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                nxt, drop = self._step(states, key)
                if not drop:
                    out[key] = self.strip(item, nxt) if nxt else item
            return out
        if isinstance(value, list):
            out_list = []
            for index, item in enumerate(value):
                nxt, drop = self._step(states, str(index))
                if not drop:
                    out_list.append(self.strip(item, nxt) if nxt else item)
            return out_list
        return value


# ---------------------------------------------------------------- request views


class RequestView(NamedTuple):
    """A request reduced to what matching looks at."""

    method: str
    origin: str
    path: str
    query: tuple[tuple[str, str], ...]
    body_kind: str | None
    body: Any
    """The body with ignored fields removed (JSON), or its text / bytes."""
    canonical: Any = None
    """The body as compared: canonical JSON text, or (kind, value)."""

    @property
    def url(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.query)
        return f"{self.origin}{self.path}" + (f"?{query}" if query else "")


class Matcher:
    """Builds request keys for one matching configuration.

    Args:
        match_on: request parts compared: any of ``method``, ``host`` (scheme, host and
            port), ``path``, ``query``, ``body``. Leave out ``host`` to replay a cassette
            recorded against another base URL (an emulator, a proxy).
        ignore: extra JSON body field paths to ignore, e.g. ``["metadata.*", "temperature"]``
            (a leading ``body.`` is allowed, and needed for a field named like a request
            part: ``body.query``).
        ignore_defaults: also ignore `DEFAULT_IGNORE`.
    """

    def __init__(
        self,
        match_on: Sequence[str] = DEFAULT_MATCH_ON,
        ignore: Sequence[str] = (),
        ignore_defaults: bool = True,
    ) -> None:
        if isinstance(match_on, str):
            match_on = (match_on,)
        unknown = [p for p in match_on if p not in _MATCH_PARTS]
        if unknown:
            raise UserError(
                f"match_on={list(match_on)!r} has unknown part(s) {unknown}; choose from "
                f"{', '.join(DEFAULT_MATCH_ON)}."
            )
        if isinstance(ignore, str):
            ignore = (ignore,)
        self.match_on = tuple(match_on)
        self.ignore = tuple(ignore)
        self.ignore_defaults = ignore_defaults
        patterns = (DEFAULT_IGNORE if ignore_defaults else ()) + self.ignore
        compiled = _compile(patterns, self.match_on)
        self._stripper = _Stripper(compiled)
        last = {pattern[-1] for pattern in compiled}
        self._walk_always = bool(last & {"*", "**"}) or any(k.isdigit() for k in last)
        # a key named N is written '"N":' in canonical JSON
        self._needles = tuple(json.dumps(name, ensure_ascii=False) + ":" for name in last)
        self.config = (self.match_on, tuple(patterns))
        """Hashable identity of this configuration (indexes are cached per config)."""

    def view(self, method: str, url: str, body: dict[str, Any] | None) -> RequestView:
        """The matchable view of a request whose body is stored as in a cassette."""
        origin, path, query = split_url(url)
        kind = value = canonical = None
        if body:
            kind, value = next(iter(body.items()))
            if kind == "json":
                canonical = _dumps(value)
                # walk the body only when an ignored key may be in it: most requests hold none
                if self._walk_always or any(name in canonical for name in self._needles):
                    value = self._stripper.strip(value)
                    canonical = _dumps(value)
            else:
                canonical = _canonical(kind, value)
        return RequestView(method.upper(), origin, path, query, kind, value, canonical)

    def key(self, view: RequestView) -> tuple[Any, ...]:
        """The index key of a view: equal keys mean the same request."""
        parts: list[Any] = []
        for part in self.match_on:
            if part == "method":
                parts.append(view.method)
            elif part == "host":
                parts.append(view.origin)
            elif part == "path":
                parts.append(view.path)
            elif part == "query":
                parts.append(view.query)
            else:
                parts.append(view.canonical)
        return tuple(parts)


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _canonical(kind: str | None, value: Any) -> Any:
    if kind is None:
        return None
    if kind in ("json", "sse", "ndjson"):
        return _dumps(value)
    return (kind, value)


# ---------------------------------------------------------------- diffs


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)


def _pair(old: Any, new: Any, limit: int = 70) -> tuple[str, str]:
    """Both values as text of about `limit` characters, cut around where they first differ
    (a long prompt that changed at its end shows its end, not its unchanged start)."""
    a, b = _text(old), _text(new)
    if len(a) <= limit and len(b) <= limit:
        return a, b
    pairs = enumerate(zip(a, b, strict=False))
    first = next((i for i, (x, y) in pairs if x != y), min(len(a), len(b)))
    start = max(0, first - (limit * 2) // 3)
    return _window(a, start, limit), _window(b, start, limit)


def _window(text: str, start: int, limit: int) -> str:
    if start == 0 and len(text) <= limit:
        return text
    head = "..." if start else ""
    end = start + limit - len(head)
    return head + text[start:end] + ("..." if end < len(text) else "")


def _short(value: Any, limit: int = 70) -> str:
    text = _text(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_MISSING = object()


def _diff(old: Any, new: Any, path: str, out: list[tuple[str, Any, Any]]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in list(old) + [k for k in new if k not in old]:
            _diff(old.get(key, _MISSING), new.get(key, _MISSING), f"{path}.{key}", out)
        return
    if isinstance(old, list) and isinstance(new, list):
        for index in range(max(len(old), len(new))):
            a = old[index] if index < len(old) else _MISSING
            b = new[index] if index < len(new) else _MISSING
            _diff(a, b, f"{path}[{index}]", out)
        return
    if old != new or type(old) is not type(new):
        out.append((path, old, new))


def diff_views(
    recorded: RequestView, actual: RequestView, match_on: Sequence[str] = DEFAULT_MATCH_ON
) -> list[tuple[str, Any, Any]]:
    """Field-level differences ``(path, recorded, actual)`` in the compared parts (`match_on`);
    missing sides are `_MISSING`."""
    out: list[tuple[str, Any, Any]] = []
    for part, name in (("method", "method"), ("host", "origin"), ("path", "path")):
        a, b = getattr(recorded, name), getattr(actual, name)
        if part in match_on and a != b:
            out.append((part, a, b))
    if "query" in match_on and recorded.query != actual.query:
        _diff(dict(recorded.query), dict(actual.query), "query", out)
    if "body" not in match_on:
        return out
    if recorded.body_kind == actual.body_kind == "json":
        _diff(recorded.body, actual.body, "body", out)
    elif (recorded.body_kind, recorded.body) != (actual.body_kind, actual.body):
        out.append(("body", recorded.body, actual.body))
    return out


def format_diff(diffs: list[tuple[str, Any, Any]], limit: int = 12) -> list[str]:
    """Readable lines ``path: recorded -> actual``; long values are cut around the change."""
    lines = []
    for path, old, new in diffs[:limit]:
        if old is _MISSING or new is _MISSING:
            a = "(missing)" if old is _MISSING else _short(old)
            b = "(missing)" if new is _MISSING else _short(new)
        else:
            a, b = _pair(old, new)
        lines.append(f"  {path}: {a} -> {b}")
    if len(diffs) > limit:
        lines.append(f"  ... and {len(diffs) - limit} more difference(s)")
    return lines


def distance(
    recorded: RequestView, actual: RequestView, match_on: Sequence[str] = DEFAULT_MATCH_ON
) -> tuple[int, int]:
    """How far apart two requests are: (differing method/host/path count, field diffs)."""
    parts = (("method", "method"), ("host", "origin"), ("path", "path"))
    coarse = sum(
        part in match_on and getattr(recorded, name) != getattr(actual, name)
        for part, name in parts
    )
    return coarse, len(diff_views(recorded, actual, match_on))
