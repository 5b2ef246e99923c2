"""Tables and helpers both sides of the Ollama codec use: wire content, tool calls, usage."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from ...exceptions import DecodeError, ProviderError
from ...messages import UsageMetadata, build_usage
from .._common import excerpt

__all__: list[str] = []

PROTOCOL = "ollama"
"""The protocol name `myna.codecs.get_codec` knows this codec by."""

STREAM_FORMAT = "ndjson"
"""Streams are newline-delimited JSON objects, not SSE."""

SSE_EVENT_FIELD = None
"""NDJSON lines have no SSE ``event:`` name."""

PROVIDER = "ollama"

FINISH_REASON = {"stop": "stop", "length": "length"}
"""Ollama ``done_reason`` -> myna ``finish_reason``; other values (``load``, ``unload``) pass."""

NEUTRAL_OPTIONS = {
    "temperature": "temperature",
    "top_p": "top_p",
    "max_tokens": "num_predict",
    "seed": "seed",
    "stop": "stop",
}
"""Neutral ``params`` key -> key inside Ollama's ``options`` object."""

OPTION_TYPES: dict[str, str] = {
    "num_keep": "integer",
    "seed": "integer",
    "num_predict": "integer",
    "top_k": "integer",
    "top_p": "float32",
    "min_p": "float32",
    "typical_p": "float32",
    "tfs_z": "float32",
    "repeat_last_n": "integer",
    "temperature": "float32",
    "repeat_penalty": "float32",
    "presence_penalty": "float32",
    "frequency_penalty": "float32",
    "mirostat": "integer",
    "mirostat_tau": "float32",
    "mirostat_eta": "float32",
    "penalize_newline": "boolean",
    "stop": "array",
    "numa": "boolean",
    "num_ctx": "integer",
    "num_batch": "integer",
    "num_gpu": "integer",
    "main_gpu": "integer",
    "low_vram": "boolean",
    "use_mmap": "boolean",
    "use_mlock": "boolean",
    "num_thread": "integer",
}
"""Every Ollama option with the type the server checks (wording of its error messages)."""

EXTRA_OPTIONS = frozenset(OPTION_TYPES) - set(NEUTRAL_OPTIONS.values())
"""Ollama options that may also be given as top-level ``params`` (``top_k=40``)."""

EFFORT_TO_THINK = {"minimal": "low", "low": "low", "medium": "medium", "high": "high"}
"""Neutral ``reasoning_effort`` -> Ollama ``think`` level (Ollama has no ``minimal``)."""

# Top-level response keys the decoders map themselves; every other key (durations,
# remote_model, ...) is kept in response_metadata under its own name.
HANDLED_RESPONSE_KEYS = frozenset(
    {
        "model",
        "message",
        "done",
        "done_reason",
        "prompt_eval_count",
        "eval_count",
        "prompt_eval_cached_count",
        "logprobs",
    }
)

_MAGIC = (
    (b"\x89PNG", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
)


def sniff_image_mime(data: str) -> str | None:
    """The MIME type of base64 image data from its magic bytes, or None when unknown."""
    head = data[:24]
    head += "=" * (-len(head) % 4)
    try:
        raw = base64.b64decode(head)
    except (binascii.Error, ValueError):
        return None
    for magic, mime in _MAGIC:
        if raw.startswith(magic):
            return mime
    if raw[:4] == b"RIFF" and raw[8:12] == b"WEBP":
        return "image/webp"
    return None


def wire_content(text: str, thinking: str, images: list[str]) -> str | list[dict[str, Any]]:
    """Message content for an Ollama message's ``content`` / ``thinking`` / ``images``.

    Plain text stays a string; thinking becomes a leading ``reasoning`` block and images
    ``image`` blocks after the text, so one wire message always decodes to the same shape.
    """
    if not thinking and not images:
        return text
    blocks: list[dict[str, Any]] = []
    if thinking:
        blocks.append({"type": "reasoning", "reasoning": thinking})
    if text:
        blocks.append({"type": "text", "text": text})
    for data in images:
        block: dict[str, Any] = {"type": "image", "base64": data}
        mime = sniff_image_mime(data)
        if mime:
            block["mime_type"] = mime
        blocks.append(block)
    return blocks


def tool_call_id(call: dict[str, Any], index: int) -> str:
    """The call's own id, or the deterministic ``call_<index>`` when the server sent none."""
    given = call.get("id")
    return given if isinstance(given, str) and given else f"call_{index}"


def wire_arguments(raw: Any, fail: Any) -> str | None:
    """Ollama tool-call ``arguments`` as the JSON text a `ToolCallChunk` carries.

    Arguments are an object on the wire; a JSON string (sent by some compatible servers, and
    by our own emulator for an invalid call) is kept as it is so it parses or fails later.
    `fail(problem)` builds the error for any other type.
    """
    if raw is None:
        return None
    if isinstance(raw, dict):
        return json.dumps(raw, ensure_ascii=False)
    if isinstance(raw, str):
        return raw
    raise fail(f"has tool-call arguments of type {type(raw).__name__}; expected an object")


def usage_from_wire(body: dict[str, Any], fail: Any) -> UsageMetadata | None:
    """`UsageMetadata` from ``prompt_eval_count`` / ``eval_count`` (None when both are absent).

    ``prompt_eval_count`` is the whole prompt, cache hits included; newer servers report the
    hits as ``prompt_eval_cached_count``.
    """
    counts = {}
    for key in ("prompt_eval_count", "eval_count", "prompt_eval_cached_count"):
        value = body.get(key)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool):
            raise fail(f"has {key} of type {type(value).__name__}; expected an integer")
        counts[key] = value
    if "prompt_eval_count" not in counts and "eval_count" not in counts:
        return None
    inp = counts.get("prompt_eval_count", 0)
    out = counts.get("eval_count", 0)
    return build_usage(inp, out, cache_read=counts.get("prompt_eval_cached_count"))


def usage_to_wire(usage: UsageMetadata) -> dict[str, int]:
    """`UsageMetadata` -> ``prompt_eval_count``, ``eval_count``, ``prompt_eval_cached_count``."""
    out = {
        "prompt_eval_count": usage.get("input_tokens", 0),
        "eval_count": usage.get("output_tokens", 0),
    }
    cached = (usage.get("input_token_details") or {}).get("cache_read")
    if cached is not None:
        out["prompt_eval_cached_count"] = cached
    return out


def finish_reason(done_reason: str | None, has_tool_calls: bool) -> str:
    """Normalised finish reason: a ``stop`` that carried tool calls is ``tool_calls``."""
    if done_reason is None or done_reason == "":
        done_reason = "stop"
    reason = FINISH_REASON.get(done_reason, done_reason)
    if reason == "stop" and has_tool_calls:
        return "tool_calls"
    return reason


def metadata_from(body: dict[str, Any], has_tool_calls: bool, fail: Any) -> dict[str, Any]:
    """``response_metadata`` for a final response line: model, finish reason, timings."""
    done_reason = body.get("done_reason")
    if done_reason is not None and not isinstance(done_reason, str):
        raise fail(f"has done_reason of type {type(done_reason).__name__}; expected a string")
    meta: dict[str, Any] = {"model_provider": PROVIDER}
    if isinstance(body.get("model"), str):
        meta["model_name"] = body["model"]
    meta["finish_reason"] = finish_reason(done_reason, has_tool_calls)
    if done_reason is not None:
        meta["done_reason"] = done_reason
    for key, value in body.items():
        if key not in HANDLED_RESPONSE_KEYS:
            meta.setdefault(key, value)  # never let a stray key replace the values above
    return meta


def check_str(value: Any, what: str, fail: Any) -> str:
    """`value` when it is a string (None counts as empty); otherwise `fail`'s error."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise fail(f"has {what} of type {type(value).__name__}; expected a string")
    return value


def decode_fail(where: str, payload: Any) -> Any:
    """A factory for `DecodeError`s about one body or stream event, quoting an excerpt."""

    def fail(problem: str) -> DecodeError:
        return DecodeError(f"{where} {problem}: {excerpt(payload)}")

    return fail


# ---------------------------------------------------------------- protocol facts

PATHS = (r"/api/chat$",)
"""Regular expressions for the request paths this protocol serves (`re.search` on the path)."""

AUTH_HEADERS = ()
"""Headers that carry the API key: none, a local Ollama server takes no key."""

CLIENT_HEADERS: tuple[str, ...] = ()
"""Headers only this protocol's clients send: none."""

FORCED_TOOL_CHOICE = False
"""Whether a request can force the model to call a named tool: Ollama has no ``tool_choice``."""


def request_model(path: str) -> str | None:
    """The model a request path names: None, the model travels in the body."""
    return None


def request_streams(path: str, body: dict[str, Any]) -> bool:
    """Whether a request asks for a stream: Ollama streams unless ``"stream": false``."""
    return body.get("stream", True) is not False


def auth_error(path: str, headers: dict[str, str], query: str) -> ProviderError | None:
    """What the API answers a request without an API key: None, no key is needed."""
    return None
