"""Pieces both sides of the Chat Completions codec share: tables, content, usage, errors.

Wire reference: ``shared/reference/wire-formats.md`` sections 1 (OpenAI Chat Completions)
and 6 (the OpenAI-compatible dialects: DeepSeek, OpenRouter, Groq, Azure, Ollama ``/v1``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from ...exceptions import (
    AuthenticationError,
    ContextLengthError,
    DecodeError,
    ProviderError,
    UserError,
    error_for_status,
)
from ...messages import UsageMetadata, build_usage
from .._common import has_credentials, type_phrase

__all__: list[str] = []

PROTOCOL = "openai-chat"
"""The protocol name `myna.codecs.get_codec` knows this module by."""

STREAM_FORMAT = "sse"
"""Streams are Server-Sent Events ending in ``data: [DONE]``."""

SSE_EVENT_FIELD = None
"""Chat Completions events carry no ``event:`` name."""

PROVIDER = "openai"

FINISH_REASON = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
    # compatible servers (vLLM, llama.cpp, proxies of other vendors) use their own words
    "eos": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_length": "length",
    "tool_use": "tool_calls",
    "refusal": "refusal",
}
"""Wire ``finish_reason`` -> myna's normalised finish reason; unknown values pass through."""

FINISH_REASON_BACK = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
    # a refusal ends with finish_reason "stop" and the text in message.refusal
    "refusal": "stop",
}

REASONING_FIELDS = ("reasoning_content", "reasoning")
"""Where compatible servers put reasoning text: DeepSeek and older vLLM use
``reasoning_content``; Groq, OpenRouter, Ollama ``/v1`` and newer vLLM use ``reasoning``."""

DEFAULT_REASONING_FIELD = "reasoning_content"

TEXT_PART_KEYS = ("prompt_cache_breakpoint",)
"""Keys of a text content part besides ``type``/``text`` that OpenAI accepts (kept in extras)."""

# Response-level keys copied into response_metadata as they are.
META_KEYS = ("system_fingerprint", "service_tier", "created", "provider", "prompt_filter_results")

_AUDIO_FORMATS = {
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/flac": "flac",
    "audio/ogg": "opus",
    "audio/opus": "opus",
    "audio/aac": "aac",
    "audio/pcm": "pcm16",
    "audio/l16": "pcm16",
}

# Leading base64 characters of common media files, so base64 data without a mime type
# can still become a data URI (and decoded audio can name its format).
_MAGIC = (
    ("iVBORw0KGgo", "image/png"),
    ("/9j/", "image/jpeg"),
    ("R0lGOD", "image/gif"),
    ("UklGR", None),  # RIFF: WAV audio or WEBP image, told apart below
    ("JVBERi0", "application/pdf"),
    ("SUQz", "audio/mpeg"),
    ("//u", "audio/mpeg"),
    ("//s", "audio/mpeg"),
    ("//t", "audio/mpeg"),
    ("ZkxhQw", "audio/flac"),
    ("T2dnUw", "audio/ogg"),
)


def sniff_mime(data: str) -> str | None:
    """Guess a mime type from the first characters of base64 data, or None."""
    for prefix, mime in _MAGIC:
        if data.startswith(prefix):
            if mime is None:
                return "image/webp" if data[8:12] == "V0VC" else "audio/wav"
            return mime
    return None


def excerpt(value: Any, limit: int = 100) -> str:
    """A short one-line excerpt of a wire value for error messages."""
    try:
        text = value if isinstance(value, str) else json.dumps(value, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


class Malformed(Exception):
    """Raised inside the decoders with a path and a problem; turned into DecodeError."""

    def __init__(self, where: str, problem: str, value: Any = None) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem
        self.value = value


def expect(value: Any, kinds: type | tuple[type, ...], where: str, *, optional: bool = True) -> Any:
    """`value` if it has one of `kinds` (or is None and `optional`), else raise `Malformed`."""
    if value is None and optional:
        return None
    if isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
        raise Malformed(where, f"expected {_kind_names(kinds)}, got a boolean", value)
    if not isinstance(value, kinds):
        raise Malformed(where, f"expected {_kind_names(kinds)}, got {type_phrase(value)}", value)
    return value


def _kind_names(kinds: type | tuple[type, ...]) -> str:
    names = {dict: "an object", list: "an array", str: "a string", int: "an integer"}
    names.update({float: "a number", bool: "a boolean"})
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))


def normalise_finish(raw: str | None, *, refused: bool = False) -> str | None:
    if refused:
        return "refusal"
    if raw is None:
        return None
    return FINISH_REASON.get(raw, raw)


# ---------------------------------------------------------------------------------------------
# Usage


def _count(details: dict[str, Any] | None, key: str, where: str) -> int | None:
    if not details:
        return None
    value = details.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Malformed(f"{where}.{key}", f"expected an integer, got {type_phrase(value)}", value)
    return int(value)


def usage_from_wire(raw: Any, where: str = "usage") -> UsageMetadata | None:
    """Wire ``usage`` -> `UsageMetadata`; ``prompt_tokens`` already includes cached tokens."""
    if raw is None:
        return None
    expect(raw, dict, where)
    prompt = _count(raw, "prompt_tokens", where) or 0
    completion = _count(raw, "completion_tokens", where) or 0
    total = _count(raw, "total_tokens", where)
    in_where = f"{where}.prompt_tokens_details"
    prompt_details = expect(raw.get("prompt_tokens_details"), dict, in_where)
    cached = _count(prompt_details, "cached_tokens", in_where)
    if cached is None:  # DeepSeek reports its cache hits at the top level
        cached = _count(raw, "prompt_cache_hit_tokens", where)
    out_where = f"{where}.completion_tokens_details"
    completion_details = expect(raw.get("completion_tokens_details"), dict, out_where)
    return build_usage(
        prompt,
        completion,
        total_tokens=total,
        cache_read=cached,
        cache_creation=_count(prompt_details, "cache_write_tokens", in_where),
        input_audio=_count(prompt_details, "audio_tokens", in_where),
        reasoning=_count(completion_details, "reasoning_tokens", out_where),
        output_audio=_count(completion_details, "audio_tokens", out_where),
    )


def usage_to_wire(usage: UsageMetadata, model: str | None = None) -> dict[str, Any]:
    """`UsageMetadata` -> wire ``usage``, every detail count the API sends (zero when the
    usage has none): ``prompt_tokens_details`` {cached, audio} and ``completion_tokens_details``
    {reasoning, audio, accepted / rejected prediction}, as OpenAI always sends them; an
    audio `model` (``gpt-4o-audio-preview``) also splits them into text and image tokens.
    ``cache_write_tokens`` (compatible servers) only when the usage has it."""
    inputs = usage.get("input_token_details") or {}
    outputs = usage.get("output_token_details") or {}
    prompt = usage.get("input_tokens", 0)
    completion = usage.get("output_tokens", 0)
    prompt_details: dict[str, Any] = {
        "cached_tokens": inputs.get("cache_read") or 0,
        "audio_tokens": inputs.get("audio") or 0,
    }
    if inputs.get("cache_creation") is not None:
        prompt_details["cache_write_tokens"] = inputs["cache_creation"]
    completion_details: dict[str, Any] = {
        "reasoning_tokens": outputs.get("reasoning") or 0,
        "audio_tokens": outputs.get("audio") or 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    }
    if model is not None and "audio" in model:
        prompt_details["text_tokens"] = max(prompt - prompt_details["audio_tokens"], 0)
        prompt_details["image_tokens"] = 0
        completion_details["text_tokens"] = max(completion - completion_details["audio_tokens"], 0)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": usage.get("total_tokens", 0),
        "prompt_tokens_details": prompt_details,
        "completion_tokens_details": completion_details,
    }


# ---------------------------------------------------------------------------------------------
# Content parts (requests)


def data_uri(block: dict[str, Any], kind: str) -> str:
    """A ``data:`` URI for a base64 block, naming its mime type (sniffed when missing)."""
    data = block["base64"]
    mime = block.get("mime_type") or sniff_mime(data)
    if not mime:
        raise UserError(
            f"The {kind} block has base64 data but no mime_type, and its format could not be "
            f"guessed; add 'mime_type' (e.g. 'image/png') to send it over {PROTOCOL}."
        )
    return f"data:{mime};base64,{data}"


def audio_format(block: dict[str, Any]) -> str:
    mime = (block.get("mime_type") or sniff_mime(block["base64"]) or "").lower()
    fmt = _AUDIO_FORMATS.get(mime)
    if fmt is None:
        if mime.startswith("audio/"):
            return mime.split("/", 1)[1]
        raise UserError(
            f"The audio block has mime_type {block.get('mime_type')!r}; {PROTOCOL} input_audio "
            "needs a format such as 'audio/wav' or 'audio/mpeg'."
        )
    return fmt


def cannot_carry(kind: str, where: str, hint: str = "") -> UserError:
    detail = f" {hint}" if hint else ""
    article = "An" if kind[:1].lower() in "aeiou" else "A"
    return UserError(f"{article} {kind} block in {where} cannot be sent over {PROTOCOL}.{detail}")


def _from_source(block: dict[str, Any]) -> dict[str, Any]:
    """An Anthropic-shaped ``{"type": "image", "source": {...}}`` block -> a standard one.

    `standard_blocks` passes any ``type: image`` block through unchanged, so the Anthropic
    ``source`` form is unpacked here.
    """
    source = block["source"]
    out: dict[str, Any] = {"type": block["type"]}
    if source.get("type") == "base64":
        out["base64"] = source.get("data", "")
        if source.get("media_type"):
            out["mime_type"] = source["media_type"]
    elif source.get("type") == "url":
        out["url"] = source.get("url", "")
    elif source.get("type") == "file":
        out["file_id"] = source.get("file_id", "")
    return out


def encode_part(block: dict[str, Any], where: str) -> dict[str, Any]:
    """One standard content block -> one Chat Completions content part."""
    if isinstance(block.get("source"), dict) and not (
        block.get("url") or block.get("base64") or block.get("file_id")
    ):
        block = _from_source(block)
    kind = block.get("type")
    extras = block.get("extras") or {}
    if kind in ("text", "text-plain"):
        part: dict[str, Any] = {"type": "text", "text": block.get("text", "")}
        for key in TEXT_PART_KEYS:
            value = extras.get(key, block.get(key))
            if value is not None:
                part[key] = value
        return part
    if kind == "image":
        if block.get("url"):
            url = block["url"]
        elif block.get("base64"):
            url = data_uri(block, "image")
        else:
            raise cannot_carry(
                "image",
                where,
                "Chat Completions takes images as a URL or base64 data, not "
                "file_id; upload-free alternatives: pass 'url' or 'base64' + 'mime_type'.",
            )
        image: dict[str, Any] = {"url": url}
        if extras.get("detail"):
            image["detail"] = extras["detail"]
        return {"type": "image_url", "image_url": image}
    if kind == "audio":
        if not block.get("base64"):
            raise cannot_carry(
                "audio",
                where,
                "input_audio takes base64 data only; download the URL and pass "
                "'base64' + 'mime_type'.",
            )
        return {
            "type": "input_audio",
            "input_audio": {"data": block["base64"], "format": audio_format(block)},
        }
    if kind == "file":
        if block.get("file_id"):
            return {"type": "file", "file": {"file_id": block["file_id"]}}
        if block.get("base64"):
            file: dict[str, Any] = {"file_data": data_uri(block, "file")}
            if extras.get("filename"):
                file["filename"] = extras["filename"]
            return {"type": "file", "file": file}
        raise cannot_carry(
            "file",
            where,
            "Chat Completions takes files as base64 data or an uploaded file_id, not a URL.",
        )
    if kind == "non_standard" and isinstance(block.get("value"), dict):
        return block["value"]  # a raw provider part: the caller's own wire format
    raise cannot_carry(str(kind), where)


def decode_part(part: Any, where: str) -> dict[str, Any]:
    """One Chat Completions content part -> one standard block."""
    expect(part, dict, where, optional=False)
    kind = part.get("type")
    if kind in ("text", "refusal"):
        key = "text" if kind == "text" else "refusal"
        text = expect(part.get(key), str, f"{where}.{key}") or ""
        block: dict[str, Any] = {"type": "text", "text": text}
        extras = {k: v for k, v in part.items() if k not in ("type", "text", "refusal")}
        if kind == "refusal":
            extras["refusal"] = True
        if extras:
            block["extras"] = extras
        return block
    if kind == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, dict) else image
        expect(url, str, f"{where}.image_url.url", optional=False)
        out = _media("image", url)
        if isinstance(image, dict) and image.get("detail"):
            out["extras"] = {"detail": image["detail"]}
        return out
    if kind == "input_audio":
        audio = expect(part.get("input_audio"), dict, f"{where}.input_audio", optional=False)
        data = expect(audio.get("data"), str, f"{where}.input_audio.data") or ""
        fmt = expect(audio.get("format"), str, f"{where}.input_audio.format") or "wav"
        mime = "audio/mpeg" if fmt == "mp3" else f"audio/{fmt}"
        return {"type": "audio", "base64": data, "mime_type": mime}
    if kind == "file":
        file = expect(part.get("file"), dict, f"{where}.file", optional=False)
        if file.get("file_id") is not None:
            return {"type": "file", "file_id": expect(file["file_id"], str, f"{where}.file_id")}
        out = _media("file", expect(file.get("file_data"), str, f"{where}.file.file_data") or "")
        if file.get("filename") is not None:
            out["extras"] = {"filename": file["filename"]}
        return out
    return {"type": "non_standard", "value": part}


def _media(kind: str, url: str) -> dict[str, Any]:
    if url.startswith("data:"):
        head, sep, data = url[5:].partition(",")
        if sep and head.endswith(";base64"):
            out: dict[str, Any] = {"type": kind, "base64": data}
            mime = head[: -len(";base64")]
            if mime:
                out["mime_type"] = mime
            return out
    return {"type": kind, "url": url}


# ---------------------------------------------------------------------------------------------
# Errors

_RETRY_IN = re.compile(r"try again in (\d+(?:\.\d+)?)\s*(ms|s)\b", re.IGNORECASE)

_TYPE_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "rate_limit_error": 429,
    "rate_limit_exceeded": 429,
    "tokens": 429,
    "requests": 429,
    "insufficient_quota": 429,
    "server_error": 500,
    "api_error": 500,
    "overloaded_error": 503,
}


def _error_text(body: Any) -> str:
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        text = re.sub(r"<[^>]+>", " ", body)  # an HTML page from a proxy: keep its words
        return " ".join(text.split())[:300]
    return excerpt(body, 300)


def parse_error_body(body: Any) -> tuple[str, dict[str, Any], Any]:
    """(message, error object, parsed body) from any error body a compatible server sends."""
    if isinstance(body, (bytes, bytearray, str)):
        try:
            body = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return _error_text(body), {}, body
    error: dict[str, Any] = {}
    message = ""
    if isinstance(body, dict):
        raw = body.get("error")
        if isinstance(raw, dict):
            error = raw
            message = raw.get("message") if isinstance(raw.get("message"), str) else ""
            metadata = raw.get("metadata")
            # OpenRouter: "Provider returned error" says little; the upstream words are in raw
            if isinstance(metadata, dict) and isinstance(metadata.get("raw"), str):
                message = f"{message}: {metadata['raw']}" if message else metadata["raw"]
        elif isinstance(raw, str):
            message = raw
        elif isinstance(body.get("message"), str):  # vLLM: {"object": "error", "message": ...}
            error, message = body, body["message"]
        elif isinstance(body.get("detail"), str):  # FastAPI-based servers
            message = body["detail"]
        if not message and body:
            message = excerpt(body, 300)
    elif body is not None:
        message = _error_text(body)
    return message, error, body


def retry_after_from_message(message: str) -> float | None:
    """OpenAI 429 messages say "Please try again in 20s" / "in 6ms"; read that number."""
    match = _RETRY_IN.search(message)
    if not match:
        return None
    value = float(match.group(1))
    return value / 1000.0 if match.group(2).lower() == "ms" else value


def build_error(
    status: int,
    body: Any,
    headers: dict[str, str] | None = None,
    *,
    in_stream: bool = False,
) -> ProviderError:
    """The `ProviderError` for a Chat Completions error body (HTTP or in-stream)."""
    message, error, parsed = parse_error_body(body)
    if not message:
        message = f"HTTP {status} from {PROTOCOL} with no error message"
    code = error.get("code")
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    retry_after = None
    if "retry-after" not in lowered and "retry-after-ms" not in lowered:
        retry_after = retry_after_from_message(message)
    words = {"type": error.get("type"), "code": code}  # the provider's own, kept as attributes
    err = error_for_status(
        status,
        message,
        provider=PROVIDER,
        body=parsed,
        headers=headers,
        retry_after=retry_after,
        **words,
    )
    if code == "context_length_exceeded" and status in (400, 413, 422):
        if not isinstance(err, ContextLengthError):
            err = ContextLengthError(
                message,
                status_code=status,
                provider=PROVIDER,
                body=parsed,
                headers=headers,
                **words,
            )
    if code == "insufficient_quota":
        err.retryable = False  # no credit left: waiting does not help
    if in_stream:
        err.status_code = None
    return err


def stream_error_status(error: dict[str, Any]) -> int:
    """The HTTP-like status an in-stream error object stands for."""
    for key in ("status_code", "status", "code"):
        value = error.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and 400 <= value < 600:
            return value
    kind = error.get("type") if isinstance(error.get("type"), str) else error.get("code")
    return _TYPE_STATUS.get(kind, 500) if isinstance(kind, str) else 500


def malformed_to_decode_error(exc: Malformed, what: str) -> DecodeError:
    return DecodeError(
        f"Malformed {PROTOCOL} {what}: {exc.where}: {exc.problem}"
        + (f" ({excerpt(exc.value, 60)})" if exc.value is not None else "")
        + "."
    )


# ---------------------------------------------------------------- protocol facts

PATHS = (r"/chat/completions$",)
"""Regular expressions for the request paths this protocol serves (`re.search` on the path)."""

AUTH_HEADERS = ("authorization", "api-key")
"""Headers that carry the API key (``api-key`` on Azure OpenAI)."""

CLIENT_HEADERS: tuple[str, ...] = ()
"""Headers only this protocol's clients send: none."""

FORCED_TOOL_CHOICE = True
"""Whether a request can force the model to call a named tool."""

_MISSING_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization "
    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
)
_AZURE_MISSING_KEY = (
    "Access denied due to missing subscription key. Make sure to include subscription "
    "key when making requests to an API."
)


def request_model(path: str) -> str | None:
    """The model a request path names: None, the model travels in the body."""
    return None


def request_streams(path: str, body: dict[str, Any]) -> bool:
    """Whether a request asks for a stream: ``"stream": true`` in the body."""
    return bool(body.get("stream"))


def auth_error(path: str, headers: dict[str, str], query: str) -> ProviderError | None:
    """What the API answers a request without an API key (401), or None when it has one.

    `headers` have lower-case names; Azure OpenAI paths (``/openai/...``) get Azure's message.
    """
    if has_credentials(headers, AUTH_HEADERS):
        return None
    message = _AZURE_MISSING_KEY if path.startswith("/openai/") else _MISSING_KEY
    return AuthenticationError(message, status_code=401)
