"""What both sides of the Gemini codec share: tables, part <-> block mapping, usage, errors.

Parts are mapped one to one onto standard blocks:

| Gemini part | standard block |
|---|---|
| ``{"text"}`` | ``text`` |
| ``{"text", "thought": true}`` | ``reasoning`` |
| ``{"inlineData"}`` | ``image`` / ``audio`` / ``video`` / ``file`` (by MIME type), ``base64`` |
| ``{"fileData"}`` | the same kinds, with ``url`` |
| ``{"executableCode"}`` | ``server_tool_call`` named ``code_execution`` |
| ``{"codeExecutionResult"}`` | ``server_tool_result`` |
| ``{"functionCall"}`` | an entry of ``AIMessage.tool_calls`` |
| anything else | ``non_standard`` holding the part, sent back unchanged |

A ``thoughtSignature`` on a part is kept as ``extras["signature"]`` of the part's block, except
in two places where there is no block to hold it: on a ``functionCall`` part it goes to
``additional_kwargs["thought_signatures"][tool_call_id]``, and when a reply is plain text (its
content decodes to a string) it goes to ``additional_kwargs["text_thought_signature"]``.
Either way it goes back on the same kind of part on the next turn, as Gemini requires.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs

from ...exceptions import (
    AuthenticationError,
    DecodeError,
    OverloadedError,
    ProviderError,
    error_for_status,
    parse_retry_after,
)
from ...messages import build_usage
from .._common import excerpt, has_credentials

PROTOCOL = "gemini"
"""Protocol name, as `myna.codecs.get_codec` knows it."""
STREAM_FORMAT = "sse"
"""Streams are Server-Sent Events (``?alt=sse``); the events have no ``event:`` names."""
SSE_EVENT_FIELD = None
"""Gemini's SSE events carry no ``event:`` name."""

__all__: list[str] = []

PROVIDER = "google_genai"
"""Provider name on errors and in ``response_metadata["model_provider"]``."""

CALL_SIGNATURES = "thought_signatures"
"""``additional_kwargs`` key: ``{tool_call_id: thoughtSignature}`` of function-call parts."""

TEXT_SIGNATURE = "text_thought_signature"
"""``additional_kwargs`` key: the ``thoughtSignature`` of a plain-text reply."""

# finishReason -> normalised finish_reason; STOP with function calls becomes "tool_calls".
FINISH_REASON = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "LANGUAGE": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "IMAGE_PROHIBITED_CONTENT": "content_filter",
    "IMAGE_RECITATION": "content_filter",
    "MODEL_ARMOR": "content_filter",
}
FINISH_REASON_BACK = {
    "stop": "STOP",
    "tool_calls": "STOP",
    "length": "MAX_TOKENS",
    "content_filter": "SAFETY",
    "refusal": "SAFETY",
}
# The Go SDK asks for integer enums ($alt=json;enum-encoding=int); the first values are stable.
FINISH_REASON_INT = {0: "FINISH_REASON_UNSPECIFIED", 1: "STOP", 2: "MAX_TOKENS", 3: "SAFETY",
                     4: "RECITATION", 5: "OTHER"}  # fmt: skip

# HTTP status -> google.rpc.Code name, for rendering errors.
STATUS_NAME = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
LOCALIZED_MESSAGE = "type.googleapis.com/google.rpc.LocalizedMessage"
HELP = "type.googleapis.com/google.rpc.Help"
QUOTA_FAILURE = "type.googleapis.com/google.rpc.QuotaFailure"
QUOTA_DOCS = "https://ai.google.dev/gemini-api/docs/rate-limits"

# Part keys the API knows (camelCase; snake_case is accepted in requests too).
DATA_KEYS = (
    "text",
    "inlineData",
    "fileData",
    "functionCall",
    "functionResponse",
    "executableCode",
    "codeExecutionResult",
    "toolCall",
    "toolResponse",
)
META_KEYS = (
    "thought",
    "thoughtSignature",
    "videoMetadata",
    "mediaResolution",
    "partMetadata",
    "mediaProcessing",
    "documentMetadata",
    "spreadsheetMetadata",
    "audioMetadata",
)

_CAMEL = re.compile(r"_([a-z0-9])")
_SNAKE = re.compile(r"(?<!^)([A-Z])")


def camel(name: str) -> str:
    """``response_mime_type`` -> ``responseMimeType``."""
    return _CAMEL.sub(lambda m: m.group(1).upper(), name)


def snake(name: str) -> str:
    """``responseMimeType`` -> ``response_mime_type``."""
    return _SNAKE.sub(r"_\1", name).lower()


def pick(obj: dict[str, Any], name: str, default: Any = None) -> Any:
    """``obj[name]`` under its camelCase or snake_case spelling (requests may use either)."""
    if name in obj:
        return obj[name]
    other = snake(name) if name != snake(name) else camel(name)
    return obj.get(other, default)


def has(obj: dict[str, Any], name: str) -> bool:
    """Whether `obj` holds `name` in either spelling."""
    return name in obj or snake(name) in obj


def decode_error_at(where: str, why: str, value: Any) -> DecodeError:
    """A `DecodeError` naming the place (``"stream event 3"``), the problem and an excerpt."""
    return DecodeError(f"Gemini {where}: {why}; got {excerpt(value)}")


# ---------------------------------------------------------------- blocks from parts


def kind_for_mime(mime: str | None) -> str:
    """The standard block type for a MIME type: image, audio, video or file."""
    major = (mime or "").partition("/")[0].lower()
    return major if major in ("image", "audio", "video") else "file"


def _expect(value: Any, kind: type | tuple[type, ...], where: str, what: str) -> Any:
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        article = "an" if names[0] in "aeiou" else "a"
        raise decode_error_at(where, f"{what} must be {article} {names}", value)
    return value


def media_block(part: dict[str, Any], where: str) -> dict[str, Any] | None:
    """The image/audio/video/file block for an ``inlineData`` or ``fileData`` part, else None."""
    inline = pick(part, "inlineData")
    if inline is not None:
        _expect(inline, dict, where, "inlineData")
        data = _expect(inline.get("data"), str, where, "inlineData.data")
        mime = pick(inline, "mimeType")
        block: dict[str, Any] = {"type": kind_for_mime(mime), "base64": data}
        if isinstance(mime, str):
            block["mime_type"] = mime
        return block
    file_data = pick(part, "fileData")
    if file_data is not None:
        _expect(file_data, dict, where, "fileData")
        uri = _expect(pick(file_data, "fileUri"), str, where, "fileData.fileUri")
        mime = pick(file_data, "mimeType")
        block = {"type": kind_for_mime(mime), "url": uri}
        if isinstance(mime, str):
            block["mime_type"] = mime
        return block
    return None


def signature_of(part: dict[str, Any], where: str) -> str | None:
    """The part's ``thoughtSignature`` (checked to be a string), or None."""
    sig = pick(part, "thoughtSignature")
    if sig is None:
        return None
    return _expect(sig, str, where, "thoughtSignature")


def with_signature(block: dict[str, Any], sig: str | None) -> dict[str, Any]:
    """`block` with ``extras["signature"]`` set when there is a signature."""
    if sig is not None:
        block["extras"] = {**block.get("extras", {}), "signature": sig}
    return block


def code_blocks(part: dict[str, Any], where: str, last_code_id: str | None, n: int) -> Any:
    """``server_tool_call`` / ``server_tool_result`` for code-execution parts, else None.

    Returns ``(block, code_id)``: ids the API leaves out are made up as ``code_<n>`` so a
    result can point at its call.
    """
    code = pick(part, "executableCode")
    if code is not None:
        _expect(code, dict, where, "executableCode")
        code_id = code.get("id") if isinstance(code.get("id"), str) else f"code_{n}"
        args = {k: v for k, v in code.items() if k != "id"}
        block = {"type": "server_tool_call", "id": code_id, "name": "code_execution", "args": args}
        return block, code_id
    result = pick(part, "codeExecutionResult")
    if result is not None:
        _expect(result, dict, where, "codeExecutionResult")
        outcome = result.get("outcome", "OUTCOME_OK")
        ref = result.get("id") if isinstance(result.get("id"), str) else last_code_id
        block = {
            "type": "server_tool_result",
            "tool_call_id": ref or f"code_{n}",
            "status": "success" if outcome == "OUTCOME_OK" else "error",
            "output": result.get("output", ""),
            "extras": {"outcome": outcome},
        }
        return block, last_code_id
    return None


def function_call(part: dict[str, Any], where: str) -> dict[str, Any] | None:
    """The ``functionCall`` of a part, checked: ``{"name", "args", "id"?}``; None if absent."""
    call = pick(part, "functionCall")
    if call is None:
        return None
    _expect(call, dict, where, "functionCall")
    _expect(call.get("name"), str, where, "functionCall.name")
    args = call.get("args", {})
    _expect({} if args is None else args, dict, where, "functionCall.args")
    call_id = call.get("id")
    if call_id is not None:
        _expect(call_id, str, where, "functionCall.id")
    return {"name": call["name"], "args": args or {}, "id": call_id}


# ---------------------------------------------------------------- parts from blocks


def server_tool_part(block: dict[str, Any]) -> dict[str, Any]:
    """The code-execution part for a ``server_tool_call`` / ``server_tool_result`` block."""
    if block["type"] == "server_tool_call":
        code = dict(block.get("args") or {})
        code.setdefault("language", "PYTHON")
        code.setdefault("code", "")
        if block.get("id"):
            code["id"] = block["id"]
        return {"executableCode": code}
    extras = block.get("extras") or {}
    outcome = extras.get("outcome") or (
        "OUTCOME_OK" if block.get("status", "success") == "success" else "OUTCOME_FAILED"
    )
    result: dict[str, Any] = {"outcome": outcome}
    output = block.get("output")
    if output not in (None, ""):
        result["output"] = output if isinstance(output, str) else json.dumps(output)
    if block.get("tool_call_id"):
        result["id"] = block["tool_call_id"]
    return {"codeExecutionResult": result}


def looks_like_part(value: Any) -> bool:
    """Whether a dict is already a Gemini part (held in a ``non_standard`` block)."""
    return isinstance(value, dict) and any(has(value, k) for k in DATA_KEYS)


# ---------------------------------------------------------------- usage


def _modality_count(details: Any, modality: str) -> int | None:
    if not isinstance(details, list):
        return None
    for item in details:
        if isinstance(item, dict) and item.get("modality") == modality:
            count = item.get("tokenCount")
            return count if isinstance(count, int) else None
    return None


def usage_from_wire(raw: Any, where: str) -> dict[str, Any] | None:
    """`UsageMetadata` from ``usageMetadata``.

    ``promptTokenCount`` already includes cached tokens, so it is the whole input (plus
    ``toolUsePromptTokenCount``); thinking tokens are billed as output, so output is
    ``candidatesTokenCount + thoughtsTokenCount`` with the thoughts as ``reasoning``.
    """
    if raw is None:
        return None
    _expect(raw, dict, where, "usageMetadata")
    counts = {}
    for key in (
        "promptTokenCount",
        "candidatesTokenCount",
        "thoughtsTokenCount",
        "cachedContentTokenCount",
        "toolUsePromptTokenCount",
        "totalTokenCount",
    ):
        value = pick(raw, key)
        if value is not None:
            counts[key] = _expect(value, int, where, f"usageMetadata.{key}")
    inputs = counts.get("promptTokenCount", 0) + counts.get("toolUsePromptTokenCount", 0)
    outputs = counts.get("candidatesTokenCount", 0) + counts.get("thoughtsTokenCount", 0)
    return dict(
        build_usage(
            inputs,
            outputs,
            total_tokens=counts.get("totalTokenCount"),
            cache_read=counts.get("cachedContentTokenCount"),
            input_audio=_modality_count(pick(raw, "promptTokensDetails"), "AUDIO"),
            reasoning=counts.get("thoughtsTokenCount"),
            output_audio=_modality_count(pick(raw, "candidatesTokensDetails"), "AUDIO"),
        )
    )


def usage_to_wire(usage: dict[str, Any] | None) -> dict[str, Any] | None:
    """``usageMetadata`` for a `UsageMetadata` (the inverse of `usage_from_wire`).

    Gemini has no cache-write count, so ``cache_creation`` is not rendered.
    """
    if not usage:
        return None
    inputs = usage.get("input_tokens", 0)
    outputs = usage.get("output_tokens", 0)
    in_details = usage.get("input_token_details") or {}
    out_details = usage.get("output_token_details") or {}
    reasoning = out_details.get("reasoning")
    raw: dict[str, Any] = {
        "promptTokenCount": inputs,
        "candidatesTokenCount": outputs - (reasoning or 0),
        "totalTokenCount": usage.get("total_tokens", inputs + outputs),
    }
    if reasoning is not None:
        raw["thoughtsTokenCount"] = reasoning
    if in_details.get("cache_read") is not None:
        raw["cachedContentTokenCount"] = in_details["cache_read"]
    if in_details.get("audio") is not None:
        raw["promptTokensDetails"] = [{"modality": "AUDIO", "tokenCount": in_details["audio"]}]
    if out_details.get("audio") is not None:
        raw["candidatesTokensDetails"] = [{"modality": "AUDIO", "tokenCount": out_details["audio"]}]
    return raw


# ---------------------------------------------------------------- finish reasons


def normalise_finish(raw: Any, has_calls: bool) -> tuple[str, Any]:
    """``(normalised finish_reason, provider value)`` for a candidate's ``finishReason``."""
    value = FINISH_REASON_INT.get(raw, raw) if isinstance(raw, int) else raw
    normal = FINISH_REASON.get(value, "stop") if isinstance(value, str) else "stop"
    if normal == "stop" and value == "STOP" and has_calls:
        normal = "tool_calls"
    return normal, value


# ---------------------------------------------------------------- errors


def _duration_seconds(value: Any) -> float | None:
    """``"48s"`` / ``"0.5s"`` (google.protobuf.Duration in JSON) -> seconds."""
    if isinstance(value, str) and value.endswith("s"):
        try:
            return max(float(value[:-1]), 0.0)
        except ValueError:
            return None
    if isinstance(value, dict):  # {"seconds": 48, "nanos": 0} from proto-style encoders
        seconds, nanos = value.get("seconds", 0), value.get("nanos", 0)
        if isinstance(seconds, (int, str)) and isinstance(nanos, int):
            try:
                return max(float(seconds) + nanos / 1e9, 0.0)
            except ValueError:
                return None
    return None


def _details(error: dict[str, Any]) -> list[dict[str, Any]]:
    details = error.get("details")
    return [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []


def _as_error_object(body: Any) -> Any:
    if isinstance(body, (bytes, bytearray)):
        body = bytes(body).decode("utf-8", errors="replace")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return body
    if isinstance(body, list) and len(body) == 1:
        body = body[0]  # a streamGenerateContent call without alt=sse wraps errors in [...]
    return body


def error_from_body(
    status: int | None, body: Any, headers: dict[str, str] | None = None
) -> ProviderError:
    """The `ProviderError` for a Gemini error body (``google.rpc.Status`` under ``error``).

    A 400 whose ``ErrorInfo.reason`` is ``API_KEY_INVALID`` is an `AuthenticationError`;
    ``RetryInfo.retryDelay`` gives `retry_after` when no header does.
    """
    parsed = _as_error_object(body)
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(error, dict):
        message = error.get("message")
        code = error.get("code")
        message = message if isinstance(message, str) and message else None
        rpc_status = error.get("status") if isinstance(error.get("status"), str) else None
    else:
        code, rpc_status = None, None
        if isinstance(parsed, str) and parsed.strip():
            message = parsed.strip()[:500]
        elif isinstance(error, str):
            message = error
        else:
            message = None
    http = status if isinstance(status, int) else code if isinstance(code, int) else 500
    if message is None:
        message = f"Gemini returned HTTP {http}" + (f" {rpc_status}" if rpc_status else "")
    retry_after = parse_retry_after(headers)
    reasons: list[str] = []
    if isinstance(error, dict):
        for detail in _details(error):
            kind = detail.get("@type")
            if kind == ERROR_INFO and isinstance(detail.get("reason"), str):
                reasons.append(detail["reason"])
            elif kind == RETRY_INFO and retry_after is None:
                retry_after = _duration_seconds(detail.get("retryDelay"))
    kwargs: dict[str, Any] = {
        "provider": PROVIDER,
        "body": parsed,
        "headers": headers,
        "retry_after": retry_after,
        # the google.rpc status names the kind (INVALID_ARGUMENT); ErrorInfo.reason the cause
        "type": rpc_status,
        "code": reasons[0] if reasons else None,
    }
    if "API_KEY_INVALID" in reasons or rpc_status == "UNAUTHENTICATED":
        return AuthenticationError(message, status_code=http, **kwargs)
    if http == 503:  # UNAVAILABLE is how Gemini says "the model is overloaded"
        return OverloadedError(message, status_code=http, **kwargs)
    return error_for_status(http, message, **kwargs)


def error_body(
    status: int,
    message: str,
    *,
    reason: str | None = None,
    retry_after: float | None = None,
    status_name: str | None = None,
) -> dict[str, Any]:
    """A Gemini error body ``{"error": {code, message, status, details?}}``; the status
    name defaults to the one the API uses for the HTTP status."""
    error: dict[str, Any] = {
        "code": status,
        "message": message,
        "status": status_name or STATUS_NAME.get(status, "UNKNOWN"),
    }
    details: list[dict[str, Any]] = []
    if reason:
        details.append(
            {
                "@type": ERROR_INFO,
                "reason": reason,
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            }
        )
    if reason == "API_KEY_INVALID":  # the API repeats the message for the user's locale
        details.append({"@type": LOCALIZED_MESSAGE, "locale": "en-US", "message": message})
    if status == 429:  # a quota error links its docs and names the quota that ran out
        details.append(
            {
                "@type": HELP,
                "links": [{"description": "Learn more about Gemini API quotas", "url": QUOTA_DOCS}],
            }
        )
        details.append(
            {
                "@type": QUOTA_FAILURE,
                "violations": [
                    {
                        "quotaMetric": "generativelanguage.googleapis.com/generate_content_"
                        "paid_tier_input_token_count",
                        "quotaId": "GenerateContentPaidTierInputTokensPerModelPerMinute",
                        "quotaDimensions": {"location": "global"},
                        "quotaValue": "1000000",
                    }
                ],
            }
        )
    if retry_after is not None:
        seconds = int(retry_after) if float(retry_after).is_integer() else round(retry_after, 3)
        details.append({"@type": RETRY_INFO, "retryDelay": f"{seconds}s"})
    if details:
        error["details"] = details
    return {"error": error}


# ---------------------------------------------------------------- protocol facts

PATHS = (r":(?:generateContent|streamGenerateContent)",)
"""Regular expressions for the request paths this protocol serves (`re.search` on the path)."""

AUTH_HEADERS = ("x-goog-api-key",)
"""Headers that carry the API key; a ``?key=`` query parameter does too."""

CLIENT_HEADERS: tuple[str, ...] = ("x-goog-api-key", "x-goog-api-client")
"""Headers only this protocol's clients send, which pick it where protocols share a path
(google-genai asks ``GET /v1/models/{model}``, as OpenAI clients do)."""

FORCED_TOOL_CHOICE = True
"""Whether a request can force the model to call a named tool."""

_MISSING_KEY = (
    "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API Key or other form of API consumer identity to call this API."
)


def request_model(path: str) -> str | None:
    """The model a request path names: ``/v1beta/models/gemini-2.5-flash:generateContent``
    -> ``gemini-2.5-flash`` (the last path segment before the method)."""
    return path.rsplit("/", 1)[-1].split(":", 1)[0]


def request_streams(path: str, body: dict[str, Any]) -> bool:
    """Whether a request asks for a stream: the method is ``:streamGenerateContent``."""
    return ":streamGenerateContent" in path


WIRE_STREAM_FORMAT = "stream_format"
"""The `render_options` key naming the stream's framing."""
WIRE_VERTEX = "vertex"
"""The `render_options` key saying the request came through a Vertex AI path."""
_VERTEX_PATH = re.compile(r"/projects/[^/]+/locations/[^/]+/publishers/")


def render_options(path: str, query: str) -> dict[str, Any]:
    """What of a request's URL shapes the answer, besides its body.

    ``stream_format``: ``:streamGenerateContent?alt=sse`` streams server-sent events; without
    ``alt=sse`` the API answers the whole stream as one JSON array (``"json-array"``).
    ``vertex``: the path is Vertex AI's (``/projects/{p}/locations/{l}/publishers/google/
    models/{m}``), whose replies carry ``createTime``, ``usageMetadata.trafficType`` and
    ``avgLogprobs``, fields the Gemini API does not send.
    """
    sse = "sse" in parse_qs(query).get("alt", [])
    return {
        WIRE_STREAM_FORMAT: "sse" if sse else "json-array",
        WIRE_VERTEX: bool(_VERTEX_PATH.search(path)),
    }


def auth_error(path: str, headers: dict[str, str], query: str) -> ProviderError | None:
    """What the API answers a request without an API key (403), or None when it has one
    (in `AUTH_HEADERS` or the `query` string's ``key``)."""
    if has_credentials(headers, AUTH_HEADERS) or "key" in parse_qs(query):
        return None
    return AuthenticationError(_MISSING_KEY, status_code=403)
