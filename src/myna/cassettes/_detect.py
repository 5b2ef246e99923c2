"""The one secret detector: the scrubber replaces what it finds, the scans report it.

A secret is recognised four ways, and every caller (`Scrubber`, `find_secrets`,
``myna cassettes scan``) asks this module, so what scrubbing removes is what a scan finds:

- **by shape**: `PATTERNS` (``sk-...``, ``AIza...``, JWTs, bearer and basic credentials, ...),
  the values of secret environment variables, and the user's ``redact=`` strings and regexes;
- **by name**: a header, query parameter or JSON field whose name says key, secret, token,
  password, signature or credential (`secret_name`), and ``name=value`` / ``name: value`` in
  free text. Counts such as ``max_tokens`` or ``token_count`` are not names of secrets;
- **inside base64**: a base64 run (a data blob, a basic-auth value) that decodes to text
  holding a secret; the replacement re-encodes the scrubbed text, so the blob stays valid;
- **across stream events**: the scrubber and `find_secrets` join the pieces of each field of
  an SSE / NDJSON stream and run the same detection on the joined text.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Sequence

__all__ = ["PATTERNS", "REDACTED", "Detector", "secret_env_values", "secret_name", "secret_value"]

REDACTED = "REDACTED"

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


# ---------------------------------------------------------------- by name

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_ALWAYS = frozenset(
    {"secret", "secrets", "password", "passwords", "passwd", "pwd", "passphrase", "credential",
     "credentials", "apikey", "apikeys"}
)  # fmt: skip
"""A name holding one of these words always names a secret."""
_COMPOUNDS = (
    "apikey", "accesskey", "secretkey", "privatekey", "accesstoken", "refreshtoken",
    "sessiontoken", "securitytoken", "authtoken", "bearertoken", "clientsecret",
)  # fmt: skip
"""Written as one word (``apikey``, ``x-accesstoken``): a secret too."""
_LAST = frozenset({"key", "token", "signature", "sig"})
"""A name ending in one of these words names a secret, unless the word before says otherwise."""
_NOT_SECRET_BEFORE = frozenset(
    {"cache", "idempotency", "sort", "partition", "primary", "foreign", "public", "object",
     "dedup", "dedupe", "routing", "group", "lookup", "map", "hash", "unique", "row", "page",
     "next", "continuation", "cursor", "sync", "stop", "eos", "bos", "pad", "unk", "sep", "mask",
     "thought", "start", "end", "prev", "previous"}
)  # fmt: skip
"""``prompt_cache_key``, ``nextPageToken``, ``thoughtSignature``: not credentials."""
_GENERIC_FIELDS = frozenset({"key", "token", "signature", "sig"})
"""Bare JSON field names with ordinary meanings (logprobs' ``token``, a thinking block's
``signature``); as a header or query parameter they are still credentials."""


def secret_name(name: str, *, field: bool = False) -> bool:
    """Whether a header, query parameter (``field=False``) or JSON field (``field=True``) with
    this name carries a credential. Usage counts (``max_tokens``, ``token_count``) do not."""
    words = [w.lower() for w in _WORD.findall(name)]
    if not words:
        return False
    compact = "".join(words)
    if field and compact in _GENERIC_FIELDS:
        return False
    if _ALWAYS.intersection(words) or any(c in compact for c in _COMPOUNDS):
        return True
    if words[-1] in _LAST:
        return len(words) == 1 or words[-2] not in _NOT_SECRET_BEFORE
    return False


def secret_value(value: object) -> bool:
    """Whether a value under a secret name is worth replacing (a non-empty, unredacted string)."""
    return isinstance(value, str) and bool(value.strip()) and REDACTED not in value


_ASSIGN = re.compile(
    r"(?i)(?<![A-Za-z0-9_.\-])(?P<name>[A-Za-z0-9_.\-]*?"
    r"(?:key|secret|token|passw(?:or)?d|pwd|passphrase|sig(?:nature)?|credential)[A-Za-z0-9_.\-]*)"
    r"[\"']?[ \t]*[:=][ \t]*"
    r"(?:\"(?P<dq>(?:[^\"\\\n]|\\.)+)\"|'(?P<sq>[^'\n]+)'|(?P<bare>[^\s\"'&,;<>{}\[\]()]{4,}))"
)
"""``name=value``, ``name: value``, ``"name": "value"`` in free text (JSON, YAML, query
strings, shell lines); the name is judged by `secret_name`."""
_NOT_A_SECRET = re.compile(r"(?i)[-+]?\d+(?:\.\d+)?|true|false|null|none|\\+")
_ASSIGN_HINT = re.compile(r"(?i)key|secret|token|passw|pwd|passphrase|sig|credential")

# ---------------------------------------------------------------- inside base64

_BASIC = re.compile(r"(?i:\bbasic)\s+(?P<value>[A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])")
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/=_\-])[A-Za-z0-9+/_\-]{16,}={0,2}(?![A-Za-z0-9+/=_\-])")
_MIN_DECODED = 12


def _b64decode(run: str) -> tuple[str, bool] | None:
    """The latin-1 text of a base64 run (and whether it used the URL-safe alphabet), or None
    when it is not base64 of mostly printable text."""
    urlsafe = "-" in run or "_" in run
    if urlsafe and ("+" in run or "/" in run):
        return None
    padded = run.rstrip("=")
    padded += "=" * (-len(padded) % 4)
    try:
        raw = (base64.urlsafe_b64decode if urlsafe else base64.b64decode)(padded)
    except (binascii.Error, ValueError):
        return None
    if len(raw) < _MIN_DECODED:
        return None
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in raw)
    if printable < len(raw) * 0.6:
        return None
    return raw.decode("latin-1"), urlsafe


def _is_basic_credential(value: str) -> bool:
    """Whether `value` is base64 of ``user:password`` (and not already redacted)."""
    try:
        bare = value.rstrip("=")
        raw = base64.b64decode(bare + "=" * (-len(bare) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    text = raw.decode("latin-1")
    return ":" in text and text.isprintable() and REDACTED not in text


def _b64encode(text: str, urlsafe: bool, padded: bool) -> str:
    raw = text.encode("latin-1")
    out = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(raw).decode("ascii")
    return out if padded else out.rstrip("=")


Span = tuple[int, int, str, str]
"""``(start, end, kind, replacement)`` of one secret in a text."""


class Detector:
    """Finds secrets in text (see the module docstring); `spans` is the single source.

    Args:
        redact: extra literal strings or compiled regexes that count as secrets.
        environ: the environment to read secret values from (default: ``os.environ``).
    """

    def __init__(
        self, redact: Sequence[str | re.Pattern[str]] = (), environ: dict[str, str] | None = None
    ) -> None:
        env = os.environ if environ is None else environ
        self.env_names: dict[str, str] = {}
        for name, value in env.items():
            if _is_secret_env(name, value):
                self.env_names.setdefault(value, name)
        literals = sorted(
            set(self.env_names) | {r for r in redact if isinstance(r, str) and r},
            key=len,
            reverse=True,
        )
        parts = [f"(?P<{kind.replace('-', '_')}>{rx})" for kind, rx in PATTERNS.items()]
        parts += [f"(?:{r.pattern})" for r in redact if isinstance(r, re.Pattern)]
        if literals:
            parts.insert(0, "(?P<literal>" + "|".join(re.escape(v) for v in literals) + ")")
        self._rx = re.compile("|".join(parts))
        self._literals = tuple(literals)
        self._always = any(isinstance(r, re.Pattern) for r in redact)

    def _maybe_shape(self, text: str) -> bool:
        """False when `text` certainly holds no shaped secret (cheap substring checks)."""
        if self._always:
            return True
        for prefix in _PREFIXES:
            if prefix in text:
                return True
        if _BEARER.search(text):
            return True
        return any(literal in text for literal in self._literals)

    def _kind(self, match: re.Match[str]) -> str:
        if match.lastgroup == "literal":
            return f"env:{self.env_names.get(match.group(), 'redact')}"
        return (match.lastgroup or "redact").replace("_", "-")

    def spans(self, text: str, *, decode: bool = True) -> list[Span]:
        """Every secret in `text`, in order, without overlaps."""
        found: list[Span] = []
        if self._maybe_shape(text):
            for match in self._rx.finditer(text):
                kind = self._kind(match)
                if kind == "bearer-token":  # keep the scheme: "Bearer REDACTED"
                    start = match.start() + len(match.group()) - len(match.group().split()[-1])
                    found.append((start, match.end(), kind, REDACTED))
                else:
                    found.append((match.start(), match.end(), kind, REDACTED))
        if _ASSIGN_HINT.search(text):
            for match in _ASSIGN.finditer(text):
                group = next(g for g in ("dq", "sq", "bare") if match.group(g) is not None)
                value = match.group(group)
                if (
                    secret_name(match.group("name"), field=True)
                    and secret_value(value)
                    and not _NOT_A_SECRET.fullmatch(value)
                ):
                    found.append(
                        (match.start(group), match.end(group), "secret-assignment", REDACTED)
                    )
        if decode:
            for match in _BASIC.finditer(text):
                if _is_basic_credential(match.group("value")):
                    found.append((match.start("value"), match.end("value"), "basic-auth", REDACTED))
            for match in _BASE64.finditer(text):
                decoded = _b64decode(match.group())
                if decoded is None:
                    continue
                inner_text, urlsafe = decoded
                inner = self.spans(inner_text, decode=False)
                if inner:
                    clean = _apply(inner_text, inner)
                    replacement = _b64encode(clean, urlsafe, match.group().endswith("="))
                    found.append((match.start(), match.end(), f"base64:{inner[0][2]}", replacement))
        return _disjoint(found)

    def search(self, text: str) -> str | None:
        """The kind of the first secret in `text`, or None."""
        spans = self.spans(text)
        return spans[0][2] if spans else None

    def sub(self, text: str) -> str:
        """`text` with every secret replaced."""
        spans = self.spans(text)
        return _apply(text, spans) if spans else text


def _disjoint(spans: list[Span]) -> list[Span]:
    """Spans sorted by start; of overlapping ones the earliest (then longest) wins."""
    spans.sort(key=lambda s: (s[0], -s[1]))
    out: list[Span] = []
    for span in spans:
        if out and span[0] < out[-1][1]:
            continue
        out.append(span)
    return out


def _apply(text: str, spans: list[Span]) -> str:
    pieces, last = [], 0
    for start, end, _, replacement in spans:
        pieces.append(text[last:start])
        pieces.append(replacement)
        last = end
    pieces.append(text[last:])
    return "".join(pieces)
