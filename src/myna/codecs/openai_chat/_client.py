"""Client side of the Chat Completions codec: request bodies out, replies and errors in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...exceptions import DecodeError, MynaError, ProviderError, UserError
from ...messages import AIMessage, BaseMessage, coerce_messages
from ._convert import decode_assistant, encode_message
from ._shared import (
    META_KEYS,
    PROTOCOL,
    PROVIDER,
    Malformed,
    build_error,
    excerpt,
    expect,
    malformed_to_decode_error,
    normalise_finish,
    stream_error_status,
    usage_from_wire,
)

__all__ = ["decode_error", "decode_response", "encode_request"]

# Neutral params that need translating, or that this protocol has no use for.
_DROPPED = frozenset(
    {
        # OpenAI caches prompts automatically; the Anthropic marker has no meaning here
        "cache_control",
        # reasoning, when a server returns it, always comes back; nothing to ask for
        "include_reasoning",
        "stream_usage",
        "extra_body",
        "model",
    }
)


def encode_tool(tool: Any, where: str) -> dict[str, Any]:
    """A `ToolSpec` -> a function tool; a provider tool dict (has ``type``) passes through."""
    if not isinstance(tool, dict):
        raise UserError(
            f"{where} is a {type(tool).__name__}; tools reach the codec as ToolSpec dicts "
            "{'name', 'description', 'parameters'} (see myna.tools.convert_to_tool_spec)."
        )
    if "type" in tool:
        return tool
    if not isinstance(tool.get("name"), str):
        raise UserError(f"{where} has no 'name': {excerpt(tool, 80)}")
    fn: dict[str, Any] = {"name": tool["name"]}
    if tool.get("description") is not None:
        fn["description"] = tool["description"]
    parameters = tool.get("parameters", tool.get("input_schema"))
    if parameters is not None:
        fn["parameters"] = parameters
    if tool.get("strict") is not None:
        fn["strict"] = tool["strict"]
    return {"type": "function", "function": fn}


def encode_tool_choice(choice: Any) -> Any:
    """Neutral ``tool_choice`` -> the wire form."""
    if choice in ("auto", "none"):
        return choice
    if choice in ("any", "required"):
        return "required"
    if isinstance(choice, str):
        return {"type": "function", "function": {"name": choice}}
    if isinstance(choice, dict):
        if "type" in choice or "function" in choice:
            return choice
        if isinstance(choice.get("name"), str):
            return {"type": "function", "function": {"name": choice["name"]}}
    raise UserError(
        f"tool_choice={choice!r} is not understood; use 'auto', 'any', 'none', a tool name, "
        "or a raw Chat Completions tool_choice dict."
    )


def encode_response_format(value: Any) -> dict[str, Any]:
    """Neutral ``response_format`` -> ``{"type": "json_schema", "json_schema": {...}}``."""
    if not isinstance(value, dict):
        raise UserError(
            f"response_format={value!r} must be a dict such as "
            "{'type': 'json_schema', 'name': 'Answer', 'schema': {...}} or {'type': 'json_object'}."
        )
    if value.get("type") != "json_schema" or "json_schema" in value:
        return value
    if not isinstance(value.get("schema"), dict):
        raise UserError(
            "response_format of type 'json_schema' needs a 'schema' dict (a JSON schema), "
            f"got {excerpt(value, 80)}."
        )
    inner: dict[str, Any] = {"name": value.get("name") or "response"}
    if value.get("description"):
        inner["description"] = value["description"]
    inner["schema"] = value["schema"]
    if value.get("strict") is not None:
        inner["strict"] = value["strict"]
    return {"type": "json_schema", "json_schema": inner}


def encode_request(messages: Sequence[BaseMessage] | Any, params: dict[str, Any]) -> dict:
    """Messages and neutral params -> a ``POST /v1/chat/completions`` JSON body.

    ``max_tokens`` goes out as ``max_completion_tokens`` (reasoning models reject the
    legacy name); ``stream_usage`` becomes ``stream_options.include_usage`` on streaming
    requests; ``extra_body`` is merged in last, verbatim.

    Raises:
        UserError: no model, or content the protocol cannot carry (the message names the
            block, e.g. a video, an audio URL, or an image in a system message).
    """
    params = dict(params or {})
    model = params.get("model")
    if not isinstance(model, str) or not model:
        raise UserError(
            f"{PROTOCOL} requests need params['model'], the model name (e.g. 'gpt-4.1-mini')."
        )
    if params.get("reasoning_budget") is not None:
        raise UserError(
            f"{PROTOCOL} has no reasoning token budget; use reasoning_effort ('low', 'medium', "
            "'high'), or for OpenRouter extra_body={'reasoning': {'max_tokens': N}}."
        )
    listed = list(messages) if isinstance(messages, (list, tuple)) else messages
    coerced = coerce_messages(listed)
    body: dict[str, Any] = {
        "model": model,
        "messages": [encode_message(m, f"messages[{i}]") for i, m in enumerate(coerced)],
    }
    for key, value in params.items():
        if value is None or key in _DROPPED or key == "reasoning_budget":
            continue
        if key == "max_tokens":
            body["max_completion_tokens"] = value
        elif key == "tools":
            body["tools"] = [encode_tool(t, f"tools[{i}]") for i, t in enumerate(value)]
        elif key == "tool_choice":
            body["tool_choice"] = encode_tool_choice(value)
        elif key == "response_format":
            body["response_format"] = encode_response_format(value)
        else:
            body[key] = value
    if body.get("stream") and params.get("stream_usage") is not None:
        options = dict(body.get("stream_options") or {})
        options["include_usage"] = bool(params["stream_usage"])
        body["stream_options"] = options
    extra = params.get("extra_body")
    if extra:
        if not isinstance(extra, dict):
            raise UserError(f"extra_body must be a dict merged into the body, got {extra!r:.60}.")
        body.update(extra)
    return body


def response_metadata(body: dict[str, Any], choice: dict[str, Any], refused: bool) -> dict:
    """The response_metadata of a non-streamed reply."""
    meta: dict[str, Any] = {"model_provider": PROVIDER}
    if body.get("model") is not None:
        meta["model_name"] = expect(body["model"], str, "model")
    if body.get("id") is not None:
        meta["id"] = expect(body["id"], str, "id")
    raw = expect(choice.get("finish_reason"), str, "choices[0].finish_reason")
    finish = normalise_finish(raw, refused=refused)
    if finish is not None:
        meta["finish_reason"] = finish
    native = choice.get("native_finish_reason")
    if isinstance(native, str):
        meta["native_finish_reason"] = native
    elif raw is not None and raw != finish:
        meta["native_finish_reason"] = raw
    if choice.get("logprobs") is not None:
        meta["logprobs"] = expect(choice["logprobs"], dict, "choices[0].logprobs")
    if choice.get("content_filter_results"):
        meta["content_filter_results"] = choice["content_filter_results"]
    for key in META_KEYS:
        if body.get(key) is not None:
            meta[key] = body[key]
    if body.get("x_groq") is not None:
        meta["x_groq"] = expect(body["x_groq"], dict, "x_groq")
    return meta


def decode_response(body: dict[str, Any]) -> AIMessage:
    """A Chat Completions response body -> `AIMessage`.

    Content is a string for a plain text reply, and a list of standard blocks when the reply
    has reasoning (``reasoning`` block, ``extras["field"]`` naming the wire field), audio
    (``audio`` block, transcript in extras) or citations. Usage counts cached tokens inside
    ``input_tokens``; the raw wire usage stays in ``response_metadata["token_usage"]``.

    Raises:
        DecodeError: the body is not a chat completion.
        ProviderError: the body is an error object (some servers answer 200 with one).
    """
    try:
        expect(body, dict, "body", optional=False)
        error = body.get("error")
        if error is not None and not body.get("choices"):
            inner = error if isinstance(error, dict) else {"message": str(error)}
            raise build_error(stream_error_status(inner), body)
        choices = expect(body.get("choices"), list, "choices", optional=False)
        if not choices:
            raise Malformed("choices", "is empty, so the response holds no message")
        choice = expect(choices[0], dict, "choices[0]", optional=False)
        message = expect(choice.get("message"), dict, "choices[0].message", optional=False)
        kwargs = decode_assistant(message, "choices[0].message")
        refused = bool(kwargs.get("additional_kwargs", {}).get("refusal"))
        meta = response_metadata(body, choice, refused)
        usage_raw = body.get("usage")
        where = "usage"
        if usage_raw is None and isinstance(body.get("x_groq"), dict):
            usage_raw, where = body["x_groq"].get("usage"), "x_groq.usage"
        usage = usage_from_wire(usage_raw, where)
        if usage_raw is not None:
            meta["token_usage"] = usage_raw
        return AIMessage(
            **kwargs,
            id=meta.get("id"),
            response_metadata=meta,
            usage_metadata=usage,
        )
    except Malformed as exc:
        raise malformed_to_decode_error(exc, "response body") from None
    except MynaError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DecodeError(
            f"Malformed {PROTOCOL} response body ({type(exc).__name__}: {exc}): {excerpt(body)}"
        ) from None


def decode_error(status: int, body: Any, headers: dict[str, str] | None = None) -> ProviderError:
    """An HTTP error response -> the matching `ProviderError`.

    Understands ``{"error": {"message", "type", "param", "code"}}`` (OpenAI, Azure, Groq,
    Ollama), OpenRouter's ``metadata.raw`` upstream message, vLLM's top-level
    ``{"object": "error", "message": ...}``, a bare string, and non-JSON bodies (an HTML page
    from a proxy). ``retry_after`` comes from ``retry-after-ms`` / ``retry-after``, else from
    "try again in 20s" in the message. ``insufficient_quota`` is not retryable.
    """
    return build_error(status, body, headers)
