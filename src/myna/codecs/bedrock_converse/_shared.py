"""Tables, usage and error handling shared by both sides of the Bedrock Converse codec.

Functions that read wire data take a `fail` callable that turns a problem description into
the exception to raise: `DecodeError` for a provider response, `BadRequestError` (the API's
``ValidationException``) when an emulator reads a request.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from ...exceptions import (
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    DecodeError,
    NotFoundError,
    OverloadedError,
    ProviderError,
    RateLimitError,
    ServerError,
    error_for_status,
)
from ...messages import AIMessage, UsageMetadata, build_usage
from .._common import excerpt, has_credentials

__all__ = [
    "PROTOCOL",
    "PROVIDER",
    "SSE_EVENT_FIELD",
    "STREAM_FORMAT",
]

PROTOCOL = "bedrock-converse"
STREAM_FORMAT = "eventstream"
SSE_EVENT_FIELD = None
PROVIDER = "bedrock"

Fail = Callable[[str], Exception]
"""Turns a problem description into the exception to raise (DecodeError, BadRequestError)."""

# https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#stopReason
STOP_REASON = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "content_filtered": "content_filter",
    "guardrail_intervened": "content_filter",
}
FINISH_REASON_BACK = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "content_filtered",
    "refusal": "content_filtered",
}

# error type -> (HTTP status, myna class); the statuses are the service model's
ERROR_TYPES: dict[str, tuple[int, type[ProviderError]]] = {
    "ValidationException": (400, BadRequestError),
    "ServiceQuotaExceededException": (400, RateLimitError),
    "AccessDeniedException": (403, AuthenticationError),
    "UnrecognizedClientException": (403, AuthenticationError),
    "ExpiredTokenException": (403, AuthenticationError),
    "InvalidSignatureException": (403, AuthenticationError),
    "ResourceNotFoundException": (404, NotFoundError),
    "ModelTimeoutException": (408, ServerError),
    "ThrottlingException": (429, RateLimitError),
    "ModelNotReadyException": (429, RateLimitError),
    "ModelErrorException": (424, ServerError),
    "ModelStreamErrorException": (424, ServerError),
    "InternalServerException": (500, ServerError),
    "ServiceUnavailableException": (503, OverloadedError),
}
_LOWER_TYPES = {name.lower(): name for name in ERROR_TYPES}
# ValidationException wordings that mean the prompt does not fit the model
_CONTEXT = re.compile(
    r"too long|too many (input )?tokens|context (window|length)|maximum (input )?tokens"
    r"|max(imum)? input tokens|exceeds? the max",
    re.IGNORECASE,
)

IMAGE_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif", "image/webp": "webp"}
IMAGE_FORMATS["image/jpg"] = "jpeg"
DOCUMENT_FORMATS = {
    "application/pdf": "pdf",
    "text/csv": "csv",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "text/html": "html",
    "text/plain": "txt",
    "text/markdown": "md",
}
AUDIO_FORMATS = {
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/ogg": "ogg",
    "audio/opus": "opus",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/aac": "aac",
    "audio/flac": "flac",
    "audio/mp4": "mp4",
    "audio/webm": "webm",
    "audio/m4a": "m4a",
    "audio/pcm": "pcm",
}
VIDEO_FORMATS = {
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/x-matroska": "mkv",
    "video/webm": "webm",
    "video/x-flv": "flv",
    "video/mpeg": "mpeg",
    "video/x-ms-wmv": "wmv",
    "video/3gpp": "three_gp",
}
MEDIA_FORMATS = {
    "image": IMAGE_FORMATS,
    "file": DOCUMENT_FORMATS,
    "audio": AUDIO_FORMATS,
    "video": VIDEO_FORMATS,
}
"""Standard block type -> mime type -> Bedrock ``format``."""
MIME_FOR_FORMAT = {
    kind: {fmt: mime for mime, fmt in reversed(list(table.items()))}
    for kind, table in MEDIA_FORMATS.items()
}
WIRE_MEDIA = {"image": "image", "document": "file", "audio": "audio", "video": "video"}
"""Bedrock block key -> standard block type."""


# ---------------------------------------------------------------------------------- helpers


def new_tool_use_id() -> str:
    """A fresh id shaped like Bedrock's ``tooluse_...``."""
    return "tooluse_" + uuid.uuid4().hex[:22]


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def decode_failure(prefix: str) -> Fail:
    """A `Fail` raising `DecodeError` with `prefix` (say which body or event is at fault)."""

    def fail(problem: str) -> Exception:
        return DecodeError(f"{prefix}: {problem}")

    return fail


def validation_error(message: str) -> BadRequestError:
    """The 400 ``ValidationException`` the real API answers for an invalid request."""
    return BadRequestError(message, status_code=400, provider=PROVIDER, body={"message": message})


def stop_reason_for(message: AIMessage) -> str:
    """The wire ``stopReason`` for a reply: the raw one kept in metadata, else mapped back."""
    meta = message.response_metadata
    raw = meta.get("stop_reason")
    if isinstance(raw, str) and raw:
        return raw
    finish = meta.get("finish_reason")
    if isinstance(finish, str) and finish in FINISH_REASON_BACK:
        return FINISH_REASON_BACK[finish]
    return "tool_use" if message.tool_calls or message.invalid_tool_calls else "end_turn"


def stop_metadata(stop_reason: Any, fail: Fail) -> dict[str, Any]:
    """``finish_reason`` (normalised) and the raw ``stop_reason``."""
    if not isinstance(stop_reason, str):
        raise fail(f"stopReason must be a string, got {excerpt(stop_reason)}")
    return {"finish_reason": STOP_REASON.get(stop_reason, stop_reason), "stop_reason": stop_reason}


# Response fields kept in response_metadata under snake_case names, rendered back unchanged.
EXTRA_RESPONSE_FIELDS = {
    "additionalModelResponseFields": "additional_model_response_fields",
    "trace": "trace",
    "performanceConfig": "performance_config",
    "serviceTier": "service_tier",
}


# ------------------------------------------------------------------------------------ usage


def _count(raw: dict[str, Any], key: str, fail: Fail) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if not is_int(value) or value < 0:
        raise fail(f"usage.{key} must be a non-negative integer, got {excerpt(value)}")
    return value


def usage_from_wire(raw: Any, fail: Fail) -> UsageMetadata:
    """Bedrock ``usage`` -> `UsageMetadata`; input counts include cache reads and writes.

    ``inputTokens`` counts only the uncached part of the prompt, so myna's ``input_tokens``
    adds ``cacheReadInputTokens`` and ``cacheWriteInputTokens`` to it.
    """
    if not isinstance(raw, dict):
        raise fail(f"usage must be an object, got {excerpt(raw)}")
    fresh = _count(raw, "inputTokens", fail) or 0
    read = _count(raw, "cacheReadInputTokens", fail)
    written = _count(raw, "cacheWriteInputTokens", fail)
    output = _count(raw, "outputTokens", fail) or 0
    return build_usage(
        fresh + (read or 0) + (written or 0), output, cache_read=read, cache_creation=written
    )


def usage_to_wire(usage: UsageMetadata | None, meta: dict[str, Any] | None = None) -> dict:
    """`UsageMetadata` -> Bedrock ``usage`` (zeros for None: the API always reports usage)."""
    if usage is None:
        return {"inputTokens": 0, "outputTokens": 0, "totalTokens": 0}
    details = usage.get("input_token_details") or {}
    read = details.get("cache_read")
    written = details.get("cache_creation")
    total_input = usage.get("input_tokens", 0)
    output = usage.get("output_tokens", 0)
    raw: dict[str, Any] = {
        "inputTokens": max(total_input - (read or 0) - (written or 0), 0),
        "outputTokens": output,
        "totalTokens": total_input + output,
    }
    if read is not None:
        raw["cacheReadInputTokens"] = read
    if written is not None:
        raw["cacheWriteInputTokens"] = written
    cache_details = (meta or {}).get("cache_details")
    if isinstance(cache_details, list):
        raw["cacheDetails"] = cache_details
    return raw


def usage_metadata_extras(raw: Any) -> dict[str, Any]:
    """response_metadata keeping the cache-write breakdown by TTL, when there is one."""
    if isinstance(raw, dict) and isinstance(raw.get("cacheDetails"), list) and raw["cacheDetails"]:
        return {"cache_details": raw["cacheDetails"]}
    return {}


# ----------------------------------------------------------------------------------- errors


def error_type_of(name: Any) -> str | None:
    """A canonical error type name from a header, ``__type`` or event key, or None.

    ``x-amzn-errortype`` may carry a suffix (``ThrottlingException:http://...``) and
    ``__type`` a namespace (``com.amazon...#ThrottlingException``); stream exception keys
    start lower-case (``throttlingException``).
    """
    if not isinstance(name, str) or not name:
        return None
    name = name.split(":", 1)[0].rsplit("#", 1)[-1].strip()
    return _LOWER_TYPES.get(name.lower(), name or None)


def error_from_payload(
    status: int | None,
    payload: Any,
    kind: str | None = None,
    headers: dict[str, str] | None = None,
    *,
    fallback: str = "",
) -> ProviderError:
    """The `ProviderError` for a Bedrock error: body ``{"message": ...}`` and its type name.

    `status` None means the error arrived inside a stream: the class comes from the type
    alone and the error's `status_code` stays None.
    """
    message = None
    if isinstance(payload, dict):
        for key in ("message", "Message", "errorMessage"):
            if isinstance(payload.get(key), str) and payload[key]:
                message = payload[key]
                break
        if kind is None:
            kind = error_type_of(payload.get("__type") or payload.get("code"))
    if not message:
        message = fallback or (f"{kind} (no message)" if kind else "error with no message")
    known = ERROR_TYPES.get(kind or "")
    effective = status if status is not None else (known[0] if known else 500)
    kwargs: dict[str, Any] = {
        "provider": PROVIDER,
        "body": payload,
        "headers": headers,
        # the exception name is both: what the API calls the type, and boto3's Error.Code
        "type": kind,
        "code": kind,
    }
    cls: type[ProviderError] | None = known[1] if known else None
    if cls is BadRequestError and _CONTEXT.search(message):
        cls = ContextLengthError
    err = cls(message, status_code=effective, **kwargs) if cls else None
    if err is None:
        err = error_for_status(effective, message, **kwargs)
    if status is None:
        err.status_code = None
    return err


def wire_error_type(error: ProviderError) -> tuple[int, str]:
    """The HTTP status and error type the real API uses for `error`."""
    body = error.body
    named = error_type_of(error.headers.get("x-amzn-errortype"))
    if named is None and isinstance(body, dict):
        named = error_type_of(body.get("__type"))
    if named is None:  # a scripted fault that names its exception
        named = error_type_of(error.code or error.type)
    if named in ERROR_TYPES:
        return ERROR_TYPES[named][0], named  # type: ignore[return-value]
    status = error.status_code
    if isinstance(error, OverloadedError):
        return 503, "ServiceUnavailableException"
    if isinstance(error, RateLimitError):
        return 429, "ThrottlingException"
    if isinstance(error, AuthenticationError):
        return 403, "AccessDeniedException"
    if isinstance(error, NotFoundError):
        return 404, "ResourceNotFoundException"
    if isinstance(error, BadRequestError):
        return 400, "ValidationException"
    by_status = {408: "ModelTimeoutException", 424: "ModelErrorException"}
    by_status[503] = "ServiceUnavailableException"
    if status in by_status:
        return status, by_status[status]  # type: ignore[return-value]
    return 500, "InternalServerException"


# ---------------------------------------------------------------- protocol facts

PATHS = (r"/converse(?:-stream)?$",)
"""Regular expressions for the request paths this protocol serves (`re.search` on the path)."""

AUTH_HEADERS = ("authorization",)
"""Headers that carry the credentials (a SigV4 signature or a Bedrock API key)."""

CLIENT_HEADERS: tuple[str, ...] = ()
"""Headers only this protocol's clients send: none."""

FORCED_TOOL_CHOICE = True
"""Whether a request can force the model to call a named tool."""


def request_model(path: str) -> str | None:
    """The model a request path names: ``/model/<url-encoded model id>/converse`` -> the id."""
    return unquote(path.split("/model/", 1)[-1].rsplit("/", 1)[0])


def request_streams(path: str, body: dict[str, Any]) -> bool:
    """Whether a request asks for a stream: the path ends in ``/converse-stream``."""
    return path.endswith("/converse-stream")


def auth_error(path: str, headers: dict[str, str], query: str) -> ProviderError | None:
    """What the API answers a request without credentials (403), or None when it has them."""
    if has_credentials(headers, AUTH_HEADERS):
        return None
    return AuthenticationError("Missing Authentication Token", status_code=403)
