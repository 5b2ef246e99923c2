"""Every error myna raises, in one tree.

```
MynaError
├── UserError                     the caller's own mistake; also a ValueError
│   ├── UnknownProviderError      'opnai:gpt-4.1' -> did you mean 'openai'?
│   ├── InvalidParameterError     tool_choise= / temperature='hot'; also a TypeError
│   ├── MissingAPIKeyError        names the env var to set
│   ├── ScriptExhaustedError      a fake was called more often than scripted
│   └── InvalidToolCallError      a scripted tool call the bound tools reject
├── ProviderError                 the provider (or an emulator) answered with an error
│   ├── AuthenticationError       401 / 403
│   ├── BadRequestError           400 / 422
│   │   └── ContextLengthError    the prompt does not fit the context window
│   ├── NotFoundError             404 (unknown model, wrong path)
│   ├── RateLimitError            429, carries retry_after           [retryable]
│   ├── OverloadedError           529 / 503 "overloaded"              [retryable]
│   └── ServerError               other 5xx                          [retryable]
├── TransportError                the request did not complete
│   ├── TimeoutError              also the builtin TimeoutError       [retryable]
│   ├── ConnectionError           also the builtin ConnectionError    [retryable]
│   └── StreamInterruptedError    a stream cut off; carries the partial message
├── DecodeError                   a malformed body or stream event; also a ValueError
├── OutputParserError             model output that does not parse or validate; also a ValueError
├── EmulatorError                 a provider emulator's check failed; also an AssertionError
│   ├── UnmatchedRequestError     a request the emulator's script could not answer
│   └── UnusedRepliesError        scripted replies no request asked for
└── CassetteError                 a broken cassette file or a wrong use     [myna.cassettes]
    ├── CassetteSecretError       refusing to write: a secret-shaped value is still in it
    ├── CassetteMismatch          a request has no recorded answer; also an AssertionError
    └── UnplayedInteractions      recorded interactions never requested; also an AssertionError

NetworkBlockedError (a BaseException, not a MynaError)                 [myna.testing]
                                  a test reached for the network while it is blocked,
                                  or a client a replay-only cassette cannot see connected
RequestNotEmulated (respx's AllMockedAssertionError)                   [myna.emulators]
                                  a request to a host no active emulator answers
```

The cassette errors live in `myna.cassettes` (``myna/cassettes/_errors.py``) and
`NetworkBlockedError` in the socket guard (``myna/_socket_guard.py``, exported by
`myna.testing`) that `block_network` and replay-only cassettes share; both import at most this
module. `NetworkBlockedError` is a `BaseException` so that no ``except Exception`` in an
app or an SDK retry loop can swallow it. ``RequestNotEmulated`` is built when respx is first
imported, subclassing respx's own error so that nested respx routers still get their turn.
Test-facing failures (`ScriptExhaustedError`, `EmulatorError`, `CassetteMismatch`, ...) are also
`AssertionError`s, as respx's are, so pytest reports a failed test rather than a crash.

Retryable errors have `retryable = True`; `myna.models` retries exactly those.
Every class pickles (``__reduce__``), so errors cross process boundaries (pytest-xdist).
"""

from __future__ import annotations

import builtins
from typing import Any

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "ConnectionError",
    "ContextLengthError",
    "DecodeError",
    "EmulatorError",
    "InvalidParameterError",
    "InvalidToolCallError",
    "MissingAPIKeyError",
    "MynaError",
    "NotFoundError",
    "OutputParserError",
    "OverloadedError",
    "ProviderError",
    "RateLimitError",
    "ScriptExhaustedError",
    "ServerError",
    "StreamInterruptedError",
    "TimeoutError",
    "TransportError",
    "UnknownProviderError",
    "UnmatchedRequestError",
    "UnusedRepliesError",
    "UserError",
    "error_for_status",
    "parse_retry_after",
]


class MynaError(Exception):
    """Root of every error myna raises."""

    retryable: bool = False

    def __reduce__(self) -> Any:
        state = {k: v for k, v in self.__dict__.items()}
        return (_rebuild, (type(self), self.args, state))


def _rebuild(cls: type, args: tuple, state: dict) -> MynaError:
    obj = cls.__new__(cls)
    Exception.__init__(obj, *args)
    obj.__dict__.update(state)
    return obj


class UserError(MynaError, ValueError):
    """A mistake in how myna was called: the message says what to change."""


class UnknownProviderError(UserError):
    """A model string or `model_provider=` names no registered provider."""


class InvalidParameterError(UserError, TypeError):
    """A keyword a call does not take, or a parameter value of the wrong type or range.

    Raised where the value is given (the model's constructor, `bind`, `bind_tools`,
    `with_structured_output`, a call's keyword arguments), not later at the provider. The
    message quotes ``name=value``, says what it must be, and suggests the closest name for a
    misspelt keyword. Also a `TypeError`, like Python's own error for an unexpected keyword.
    """


class MissingAPIKeyError(UserError):
    """A real provider was created without an API key in its parameter or env var."""


class ScriptExhaustedError(UserError, AssertionError):
    """A fake model was called more often than its script has replies."""


class InvalidToolCallError(UserError, AssertionError):
    """A scripted tool call names a tool that is not bound, or its args do not validate."""


class ProviderError(MynaError):
    """The provider answered with an error status.

    The class says what kind of failure it is, the same for every provider (branch on
    `ContextLengthError`, `RateLimitError`, ...); `type` and `code` keep the provider's own
    words for it, as the official SDKs expose them:

    - OpenAI (Chat Completions, Responses) and compatible APIs: `type` is ``error.type``
      (``invalid_request_error``), `code` is ``error.code`` (``context_length_exceeded``,
      ``model_not_found``, ``rate_limit_exceeded``; Groq's ``tool_use_failed``).
    - Anthropic: `type` is ``error.type`` (``invalid_request_error``, ``overloaded_error``);
      no `code`.
    - Gemini: `type` is ``error.status`` (``INVALID_ARGUMENT``, ``RESOURCE_EXHAUSTED``),
      `code` the ``ErrorInfo.reason`` when there is one (``API_KEY_INVALID``).
    - Bedrock: both are the exception name (``ValidationException``, boto3's ``Error.Code``).
    - Ollama: neither (its errors are a bare message).

    Attributes:
        status_code: HTTP status, or None when the error came inside a stream.
        provider: provider name such as ``"openai"``.
        model: the model the request was for, when known.
        body: the decoded error body (dict) or raw text.
        headers: response headers, lower-cased.
        retry_after: seconds to wait before retrying, from ``Retry-After`` or the body.
        type: the provider's error type, or None (see above).
        code: the provider's error code, or None (see above).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        provider: str | None = None,
        model: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        retry_after: float | None = None,
        type: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.provider = provider
        self.model = model
        self.body = body
        self.type = _word(type)
        self.code = _word(code)
        self.headers = {k.lower(): v for k, v in (headers or {}).items()}
        if retry_after is None:
            retry_after = parse_retry_after(self.headers)
        self.retry_after = retry_after

    def __str__(self) -> str:
        where = " ".join(p for p in (self.provider, str(self.status_code or "")) if p)
        return f"{self.message} ({where})" if where else self.message


def _word(value: Any) -> str | None:
    """An error type or code as a string: numbers (vLLM's ``"code": 400``) become text,
    anything else (null, objects) None."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


class AuthenticationError(ProviderError):
    """401/403: the API key is missing, wrong, or lacks permission."""


class BadRequestError(ProviderError):
    """400/422: the provider rejected the request as malformed."""


class ContextLengthError(BadRequestError):
    """The prompt is longer than the model's context window."""


class NotFoundError(ProviderError):
    """404: unknown model or endpoint."""


class RateLimitError(ProviderError):
    """429: too many requests; `retry_after` says how long to wait when the provider said."""

    retryable = True


class OverloadedError(ProviderError):
    """529 or 503: the provider is overloaded; try again later."""

    retryable = True


class ServerError(ProviderError):
    """A 5xx from the provider."""

    retryable = True


class TransportError(MynaError):
    """The request or response did not complete on the wire."""


class TimeoutError(TransportError, builtins.TimeoutError):
    """The request timed out."""

    retryable = True


class ConnectionError(TransportError, builtins.ConnectionError):
    """The connection failed or was dropped before a response began."""

    retryable = True


class StreamInterruptedError(TransportError):
    """A stream ended before its last event.

    Attributes:
        partial: the `AIMessageChunk` merged from every chunk received before the cut,
            or None when nothing arrived.
    """

    def __init__(self, message: str, *, partial: Any = None) -> None:
        super().__init__(message)
        self.partial = partial


class DecodeError(MynaError, ValueError):
    """A response body or stream event is not what the protocol says it should be."""


class EmulatorError(MynaError, AssertionError):
    """A provider emulator's check failed (see `myna.emulators.Emulator`).

    An `AssertionError` too, so pytest reports a failed test. The message starts with
    ``myna:`` and names the check's opt-out.
    """


class UnmatchedRequestError(EmulatorError):
    """A request the emulator could not answer from its script: the script ran out, or a
    scripted tool call did not fit the request. Checked on exit unless
    ``assert_all_requests_matched=False``; the first script error is its ``__cause__``."""


class UnusedRepliesError(EmulatorError):
    """Scripted replies that no request asked for. Checked on exit unless
    ``assert_all_replies_used=False``."""


class OutputParserError(MynaError, ValueError):
    """Model output that could not be parsed, or that does not validate against the schema.

    Attributes:
        raw: the text or arguments that failed.
        errors: one line per failing field, e.g. ``"age: 'x' is not of type 'integer'"``.
    """

    def __init__(self, message: str, *, raw: Any = None, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.raw = raw
        self.errors = list(errors or [])


def parse_retry_after(headers: dict[str, str] | None) -> float | None:
    """Seconds from ``retry-after-ms`` / ``retry-after`` headers (number or HTTP date), or None."""
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    ms = lowered.get("retry-after-ms")
    if ms is not None:
        try:
            millis = float(ms)
        except ValueError:
            millis = 0.0
        # Azure sends "retry-after-ms: 0" beside "retry-after: 1"; zero means "not said"
        if millis > 0:
            return millis / 1000.0
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    import datetime as _dt

    now = _dt.datetime.now(when.tzinfo or _dt.timezone.utc)
    return max((when - now).total_seconds(), 0.0)


_CONTEXT_HINTS = (
    "context length",
    "context_length",
    "maximum context",
    "too many tokens",
    "prompt is too long",
    "input is too long",
    "exceeds the maximum",
    "token count",
    "context window",
)


def error_for_status(
    status_code: int,
    message: str,
    **kwargs: Any,
) -> ProviderError:
    """The most specific `ProviderError` for an HTTP status and provider message.

    Codecs call this so every protocol maps statuses the same way; a 400 whose message
    talks about the context window becomes `ContextLengthError`.
    """
    lowered = message.lower()
    cls: type[ProviderError]
    if status_code in (401, 403):
        cls = AuthenticationError
    elif status_code == 404:
        cls = NotFoundError
    elif status_code == 429:
        cls = RateLimitError
    elif status_code == 413 or (
        status_code in (400, 422) and any(h in lowered for h in _CONTEXT_HINTS)
    ):
        cls = ContextLengthError
    elif status_code in (400, 409, 422):
        cls = BadRequestError
    elif status_code == 529 or (status_code == 503 and "overload" in lowered):
        cls = OverloadedError
    elif status_code >= 500:
        cls = ServerError
    else:
        cls = BadRequestError if 400 <= status_code < 500 else ProviderError
    return cls(message, status_code=status_code, **kwargs)
