"""Keep secrets off disk: scrub interactions before writing, then scan what would be written.

Three layers, applied to every recorded interaction:

1. Credential headers are dropped (`SECRET_HEADERS`, plus any name ending in ``-key``,
   ``-token``, ``-secret``, ``authorization`` or ``cookie``), and so are credential query
   parameters (``key=``, ``api_key=``, ``access_token=``, ...).
2. The values of secret-looking environment variables (``*_API_KEY``, ``*_TOKEN``,
   ``*_SECRET``, ``*_PASSWORD``, at least 8 characters) and token-shaped strings (`PATTERNS`:
   ``sk-...``, ``sk-ant-...``, ``AIza...``, ``gsk_...``, ``xai-...``, bearer tokens, JWTs, ...)
   are replaced with ``REDACTED`` everywhere: URLs, header values, JSON bodies (keys too), SSE
   events, text, and base64 bodies.
3. `find_secrets` scans the final data; a cassette that still holds one is not written
   (`CassetteSecretError`, naming the interaction index and field path, never the value).

User hooks run between 2 and 3, so they can remove more but cannot sneak a secret back in.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote, unquote_plus, urlsplit, urlunsplit

from ._match import SECRET_QUERY_PARAMS

__all__ = [
    "PATTERNS",
    "REDACTED",
    "SECRET_HEADERS",
    "Finding",
    "Scrubber",
    "find_secrets",
    "secret_env_values",
]

REDACTED = "REDACTED"

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

_B = r"(?<![A-Za-z0-9_\-])"  # not glued to the end of a longer token
_E = r"(?![A-Za-z0-9_\-])"
PATTERNS: dict[str, str] = {
    "anthropic-key": _B + r"sk-ant-[A-Za-z0-9_\-]{20,}",
    "openai-key": _B + r"sk-(?:proj-|svcacct-|admin-|or-v1-)?[A-Za-z0-9_\-]{20,}",
    "google-api-key": _B + r"AIza[0-9A-Za-z_\-]{35}" + _E,
    "groq-key": _B + r"gsk_[A-Za-z0-9]{20,}",
    "xai-key": _B + r"xai-[A-Za-z0-9]{20,}",
    "huggingface-token": _B + r"hf_[A-Za-z0-9]{30,}",
    "github-token": _B + r"(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})",
    "aws-access-key": _B + r"(?:AKIA|ASIA)[0-9A-Z]{16}" + _E,
    "slack-token": _B + r"xox[abprs]-[A-Za-z0-9\-]{10,}",
    "perplexity-key": _B + r"pplx-[A-Za-z0-9]{20,}",
    "replicate-token": _B + r"r8_[A-Za-z0-9]{20,}",
    "jwt": _B + r"eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
    "bearer-token": r"(?i:\bbearer)\s+(?!REDACTED" + _E + r")[A-Za-z0-9\-._~+/]{16,}=*",
}
"""Token shapes replaced wherever they appear, by kind."""

_PREFIXES = (
    "sk-", "AIza", "gsk_", "xai-", "hf_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_",
    "AKIA", "ASIA", "xoxa-", "xoxb-", "xoxp-", "xoxr-", "xoxs-", "pplx-", "r8_", "eyJ",
)  # fmt: skip
"""A literal every `PATTERNS` match contains (besides bearer tokens): text holding none of
them, no "bearer" and no secret value cannot match, and the regex is skipped (it costs
~40 µs per KB; `in` checks cost almost nothing)."""

_BEARER = re.compile("bearer", re.IGNORECASE)
_ENV_SUFFIXES = ("_API_KEY", "_TOKEN", "_SECRET", "_PASSWORD", "_SECRET_KEY", "_ACCESS_KEY")
_KNOWN_ENV = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GOOGLE_API_KEY",
    "GEMINI_API_KEY",
    "GROQ_API_KEY",
    "MISTRAL_API_KEY",
    "XAI_API_KEY",
    "DEEPSEEK_API_KEY",
    "OPENROUTER_API_KEY",
    "TOGETHER_API_KEY",
    "FIREWORKS_API_KEY",
    "PERPLEXITY_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "OLLAMA_API_KEY",
    "HF_TOKEN",
)
_MIN_SECRET = 8


def _is_secret_env(name: str, value: str) -> bool:
    return (
        (name in _KNOWN_ENV or name.upper().endswith(_ENV_SUFFIXES))
        and len(value) >= _MIN_SECRET
        and value != REDACTED
    )


def secret_env_values(environ: dict[str, str] | None = None) -> list[str]:
    """Values of environment variables that hold secrets (by name), longest first."""
    env = os.environ if environ is None else environ
    values = {value for name, value in env.items() if _is_secret_env(name, value)}
    return sorted(values, key=len, reverse=True)


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
        env = os.environ if environ is None else environ
        self._env_names: dict[str, str] = {}
        for name, value in env.items():
            if _is_secret_env(name, value):
                self._env_names.setdefault(value, name)
        literals = sorted(
            set(self._env_names) | {r for r in redact if isinstance(r, str) and r},
            key=len,
            reverse=True,
        )
        parts = [f"(?P<{_group(kind)}>{rx})" for kind, rx in PATTERNS.items()]
        parts += [f"(?:{r.pattern})" for r in redact if isinstance(r, re.Pattern)]
        if literals:
            parts.insert(0, "(?P<literal>" + "|".join(re.escape(v) for v in literals) + ")")
        self._rx = re.compile("|".join(parts))
        self._literals = tuple(literals)
        self._always = any(isinstance(r, re.Pattern) for r in redact)

    def _maybe(self, text: str) -> bool:
        """False when `text` certainly holds no secret (cheap substring checks)."""
        if self._always:
            return True
        for prefix in _PREFIXES:
            if prefix in text:
                return True
        if _BEARER.search(text):
            return True
        return any(literal in text for literal in self._literals)

    # -- text -----------------------------------------------------------------------------

    @staticmethod
    def _replace(match: re.Match[str]) -> str:
        if match.lastgroup == "bearer_token":
            return match.group()[: len(match.group()) - len(match.group().split()[-1])] + REDACTED
        return REDACTED

    def text(self, value: str) -> str:
        """`value` with every secret replaced."""
        return self._rx.sub(self._replace, value) if self._maybe(value) else value

    def data(self, value: Any) -> Any:
        """JSON-like data with every secret in strings (and keys) replaced."""
        if isinstance(value, str):
            return self._rx.sub(self._replace, value) if self._maybe(value) else value
        if isinstance(value, dict):
            return {
                (self.text(k) if isinstance(k, str) else k): self.data(v) for k, v in value.items()
            }
        if isinstance(value, list):
            return [self.data(v) for v in value]
        return value

    def search(self, value: str) -> str | None:
        """The kind of the first secret in `value`, or None."""
        if not self._maybe(value):
            return None
        match = self._rx.search(value)
        if match is None:
            return None
        if match.lastgroup == "literal":
            return f"env:{self._env_names.get(match.group(), 'redact')}"
        return (match.lastgroup or "redact").replace("_", "-")

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
                if plain_key.lower() in SECRET_QUERY_PARAMS:
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
        """A stored body with secrets replaced (base64 bodies are decoded to look inside)."""
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
        return {kind: self.data(value)}

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


def _group(kind: str) -> str:
    return kind.replace("-", "_")


def is_secret_header(name: str) -> bool:
    """True for headers that carry credentials."""
    low = name.lower()
    return low in SECRET_HEADERS or low.endswith(_SECRET_SUFFIXES)


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


def find_secrets(cassette: dict[str, Any], scrubber: Scrubber | None = None) -> list[Finding]:
    """Secret-shaped values left in a cassette mapping: token shapes, secret env values,
    credential headers and query parameters. Empty when it is safe to write.
    """
    scrubber = scrubber or Scrubber()
    findings: list[Finding] = []
    for key in ("version", "recorded_with"):
        value = cassette.get(key)
        if isinstance(value, str) and scrubber.search(value):
            findings.append(Finding(None, key, scrubber.search(value) or ""))
    for index, item in enumerate(cassette.get("interactions") or []):
        findings.extend(_scan_interaction(index, item, scrubber))
    return findings


def _scan_interaction(index: int, item: Any, scrubber: Scrubber) -> list[Finding]:
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
                if key.lower() in SECRET_QUERY_PARAMS:
                    found.append(Finding(index, f"{side}.url?{key}", "secret-query-param"))
            if split.password:
                found.append(Finding(index, f"{side}.url (password)", "url-password"))
            kind = scrubber.search(unquote(url))
            if kind and not scrubber.search(url):
                found.append(Finding(index, f"{side}.url (percent-encoded)", kind))
        body = part.get("body")
        if isinstance(body, dict) and isinstance(body.get("base64"), str):
            try:
                text = base64.b64decode(body["base64"]).decode("latin-1")
            except (binascii.Error, ValueError):
                text = ""
            kind = scrubber.search(text)
            if kind:
                found.append(Finding(index, f"{side}.body.base64", kind))
        for path, text in _walk({k: v for k, v in part.items()}, side):
            kind = scrubber.search(text)
            if kind:
                found.append(Finding(index, path, kind))
    return found


HookType = Callable[[dict[str, Any]], "dict[str, Any] | None"]
