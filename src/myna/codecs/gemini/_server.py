"""Server side of the Gemini codec: read requests like the API does, answer like it answers."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote

from ...exceptions import (
    AuthenticationError,
    BadRequestError,
    DecodeError,
    NotFoundError,
    OverloadedError,
    ProviderError,
    RateLimitError,
)
from ...messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from ._client import GEMINI_TOOL_KEYS
from ._parts import PartReader, ai_parts, assemble, tool_message_fields
from ._shared import (
    DATA_KEYS,
    FINISH_REASON_BACK,
    META_KEYS,
    WIRE_VERTEX,
    camel,
    error_body,
    excerpt,
    media_block,
    pick,
    usage_to_wire,
)

__all__ = [
    "decode_request",
    "model_from_path",
    "render_error",
    "render_models",
    "render_response",
]

_DEFAULT_MODEL = "gemini-2.5-flash"
_PROVIDER_NAME = "google_genai"
_TOP_LEVEL = frozenset(
    {
        "model",
        "contents",
        "tools",
        "toolConfig",
        "safetySettings",
        "systemInstruction",
        "generationConfig",
        "cachedContent",
        "labels",
        "serviceTier",
        "store",
        "modelArmorConfig",
    }
)
# generationConfig key -> (neutral param, expected JSON type)
_GENERATION = {
    "temperature": ("temperature", "float"),
    "topP": ("top_p", "float"),
    "topK": ("top_k", "int"),
    "maxOutputTokens": ("max_tokens", "int"),
    "seed": ("seed", "int"),
    "candidateCount": ("candidate_count", "int"),
    "presencePenalty": ("presence_penalty", "float"),
    "frequencyPenalty": ("frequency_penalty", "float"),
    "responseModalities": ("response_modalities", "list"),
    "speechConfig": ("speech_config", "object"),
    "mediaResolution": ("media_resolution", "any"),
    "imageConfig": ("image_config", "object"),
    "stopSequences": ("stop", "list"),
    "responseLogprobs": ("logprobs", "bool"),
    "logprobs": ("top_logprobs", "int"),
}
_GENERATION_OTHER = frozenset(
    {
        "responseMimeType",
        "responseSchema",
        "responseJsonSchema",
        "_responseJsonSchema",
        "thinkingConfig",
        "enableEnhancedCivicAnswers",
        "routingConfig",
        "modelSelectionConfig",
        "audioTimestamp",
        "enableAffectiveDialog",
    }
)
_PROTO_TYPE = {"float": "TYPE_FLOAT", "int": "TYPE_INT32", "bool": "TYPE_BOOL"}


def _bad(message: str) -> BadRequestError:
    """A 400 as the API words it, with the body the API would send."""
    return BadRequestError(
        message, status_code=400, provider=_PROVIDER_NAME, body=error_body(400, message)
    )


def _invalid_value(path: str, value: Any, proto: str) -> BadRequestError:
    return _bad(f"Invalid value at '{path}' ({proto}), {excerpt(value, 60)}")


def _unknown_name(name: str, at: str | None = None) -> BadRequestError:
    where = f" at '{at}'" if at else ""
    return _bad(f'Invalid JSON payload received. Unknown name "{name}"{where}: Cannot find field.')


def _snake_path(path: str) -> str:
    """``generationConfig`` -> ``generation_config`` as the API's messages spell fields."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", path).lower()


# ---------------------------------------------------------------- decode_request


def _check_part(part: Any, path: str) -> None:
    if not isinstance(part, dict):
        raise _invalid_value(
            path, part, "type.googleapis.com/google.ai.generativelanguage.v1beta.Part"
        )
    data = []
    for key in part:
        name = camel(key)
        if name in DATA_KEYS:
            data.append(key)
        elif name not in META_KEYS:
            raise _unknown_name(key, path)
    if not data:
        raise _bad(
            f"* GenerateContentRequest.{_snake_path(path)}.data: required oneof field 'data' "
            "must have one initialized field\n"
        )
    text = part.get("text")
    if text is not None and not isinstance(text, str):
        raise _invalid_value(f"{path}.text", text, "TYPE_STRING")
    if len(data) > 1:
        raise _bad(
            f"Invalid JSON payload received. Oneof field 'data' is already set. "
            f"Cannot set '{data[1]}'"
        )
    for key, label in (
        ("functionCall", "function_call"),
        ("functionResponse", "function_response"),
    ):
        value = pick(part, key)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise _invalid_value(
                f"{path}.{label}",
                value,
                "type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCall",
            )
        if not isinstance(value.get("name"), str) or not value["name"]:
            raise _bad(
                f"* GenerateContentRequest.{_snake_path(path)}.{label}.name: "
                "Name cannot be empty.\n"
            )


def _human(parts: list[dict[str, Any]]) -> HumanMessage:
    blocks: list[dict[str, Any]] = []
    for k, part in enumerate(parts):
        if isinstance(part.get("text"), str):
            blocks.append({"type": "text", "text": part["text"]})
            continue
        block = media_block(part, f"user part {k}")
        blocks.append(block if block is not None else {"type": "non_standard", "value": part})
    if len(blocks) == 1 and blocks[0]["type"] == "text":
        return HumanMessage(blocks[0]["text"])
    return HumanMessage(blocks)


def _user_turn(
    parts: list[dict[str, Any]], path: str, pending: list[dict[str, Any]]
) -> list[BaseMessage]:
    """Human messages for runs of ordinary parts, one ToolMessage per functionResponse.

    A response without an id answers the first unanswered call of that name in the model
    turn before it; failing that, its function name stands in for the id.
    """
    out: list[BaseMessage] = []
    run: list[dict[str, Any]] = []
    for k, part in enumerate(parts):
        response = pick(part, "functionResponse")
        if response is None:
            run.append(part)
            continue
        if run:
            out.append(_human(run))
            run = []
        name = response["name"]
        call_id = response.get("id") if isinstance(response.get("id"), str) else None
        match = next(
            (c for c in pending if (c["id"] == call_id if call_id else c["name"] == name)), None
        )
        if match is not None:
            pending.remove(match)
        tool_call_id = call_id or (match["id"] if match else name)
        fields = tool_message_fields(response, f"{path}.parts[{k}].function_response")
        out.append(ToolMessage(tool_call_id=tool_call_id, name=name, **fields))
    if run:
        out.append(_human(run))
    return out


def _system(value: Any) -> SystemMessage | None:
    if isinstance(value, str):
        return SystemMessage(value)
    if not isinstance(value, dict):
        raise _invalid_value(
            "system_instruction",
            value,
            "type.googleapis.com/google.ai.generativelanguage.v1beta.Content",
        )
    parts = value.get("parts") or []
    if isinstance(parts, dict):
        parts = [parts]
    if not isinstance(parts, list):
        raise _invalid_value(
            "system_instruction.parts",
            parts,
            "type.googleapis.com/google.ai.generativelanguage.v1beta.Part",
        )
    for k, part in enumerate(parts):
        _check_part(part, f"systemInstruction.parts[{k}]")
    if not parts:
        return None
    try:
        human = _human(parts)
    except DecodeError as exc:
        raise _bad(f"Invalid value at 'system_instruction': {exc}") from None
    return SystemMessage(human.content)


def _messages(body: dict[str, Any]) -> list[BaseMessage]:
    contents = pick(body, "contents")
    if not contents:
        raise _bad("* GenerateContentRequest.contents: contents is not specified\n")
    if not isinstance(contents, list):
        raise _invalid_value(
            "contents", contents, "type.googleapis.com/google.ai.generativelanguage.v1beta.Content"
        )
    messages: list[BaseMessage] = []
    system = pick(body, "systemInstruction")
    if system is not None:
        message = _system(system)
        if message is not None:
            messages.append(message)
    pending: list[dict[str, Any]] = []
    for i, content in enumerate(contents):
        path = f"contents[{i}]"
        if not isinstance(content, dict):
            raise _invalid_value(
                path, content, "type.googleapis.com/google.ai.generativelanguage.v1beta.Content"
            )
        for key in content:
            if key not in ("role", "parts"):
                raise _unknown_name(key, path)
        role = content.get("role") or "user"
        if role not in ("user", "model", "function"):
            raise _bad("Please use a valid role: user, model.")
        parts = content.get("parts")
        if not parts:
            raise _bad(
                f"* GenerateContentRequest.{path}.parts: contents.parts must not be empty.\n"
            )
        if not isinstance(parts, list):
            raise _invalid_value(
                f"{path}.parts",
                parts,
                "type.googleapis.com/google.ai.generativelanguage.v1beta.Part",
            )
        for k, part in enumerate(parts):
            _check_part(part, f"{path}.parts[{k}]")
        try:
            if role == "model":
                reader = PartReader()
                items = [reader.read(p, f"{path}.parts[{k}]") for k, p in enumerate(parts)]
                text, calls, extra = assemble(items)
                pending = [dict(c) for c in calls]
                messages.append(AIMessage(text, tool_calls=calls, additional_kwargs=extra))
            else:
                messages.extend(_user_turn(parts, path, pending))
        except DecodeError as exc:
            raise _bad(f"Invalid value at '{path}': {exc}") from None
    return messages


def _lower_types(schema: Any) -> Any:
    """An OpenAPI-subset schema (``"type": "OBJECT"``) as JSON Schema (lower-case types)."""
    if isinstance(schema, list):
        return [_lower_types(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == "type" and isinstance(value, str):
            out[key] = value.lower()
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: _lower_types(sub) for name, sub in value.items()}
        else:
            out[key] = _lower_types(value) if isinstance(value, (dict, list)) else value
    return out


def _tools(tools: Any) -> list[dict[str, Any]]:
    if not isinstance(tools, list):
        raise _invalid_value(
            "tools", tools, "type.googleapis.com/google.ai.generativelanguage.v1beta.Tool"
        )
    out: list[dict[str, Any]] = []
    for t, tool in enumerate(tools):
        if not isinstance(tool, dict):
            raise _invalid_value(
                f"tools[{t}]", tool, "type.googleapis.com/google.ai.generativelanguage.v1beta.Tool"
            )
        rest = {k: v for k, v in tool.items() if camel(k) != "functionDeclarations"}
        for key in rest:
            if camel(key) not in GEMINI_TOOL_KEYS:
                raise _unknown_name(key, f"tools[{t}]")
        declarations = pick(tool, "functionDeclarations") or []
        if not isinstance(declarations, list):
            raise _invalid_value(
                f"tools[{t}].function_declarations",
                declarations,
                "type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionDeclaration",
            )
        for d, decl in enumerate(declarations):
            where = f"tools[{t}].function_declarations[{d}]"
            if (
                not isinstance(decl, dict)
                or not isinstance(decl.get("name"), str)
                or not decl["name"]
            ):
                raise _bad(f"* GenerateContentRequest.{where}.name: Name cannot be empty.\n")
            schema = pick(decl, "parametersJsonSchema")
            if schema is None and decl.get("parameters") is not None:
                schema = _lower_types(decl["parameters"])
            out.append(
                {
                    "name": decl["name"],
                    "description": decl.get("description") or "",
                    "parameters": schema
                    if schema is not None
                    else {"type": "object", "properties": {}},
                }
            )
        if rest:
            out.append(rest)
    return out


def _tool_choice(config: Any) -> Any:
    if not isinstance(config, dict):
        raise _invalid_value(
            "tool_config",
            config,
            "type.googleapis.com/google.ai.generativelanguage.v1beta.ToolConfig",
        )
    calling = pick(config, "functionCallingConfig")
    if set(config) - {"functionCallingConfig", "function_calling_config"} or not isinstance(
        calling, dict
    ):
        return config
    mode = str(calling.get("mode", "AUTO")).upper()
    names = pick(calling, "allowedFunctionNames") or []
    if set(calling) - {"mode", "allowedFunctionNames", "allowed_function_names"}:
        return config
    if mode in ("AUTO", "NONE") and not names:
        return mode.lower()
    if mode == "ANY" and not names:
        return "any"
    if mode == "ANY" and isinstance(names, list) and len(names) == 1:
        return names[0]
    return config


def _check_type(path: str, value: Any, kind: str) -> None:
    ok = {
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "list": isinstance(value, list),
        "object": isinstance(value, dict),
    }.get(kind, True)
    if not ok:
        proto = _PROTO_TYPE.get(kind, "type.googleapis.com/google.protobuf.ListValue")
        raise _invalid_value(path, value, proto)


def _generation_params(config: Any, params: dict[str, Any]) -> None:
    if not isinstance(config, dict):
        raise _invalid_value(
            "generation_config",
            config,
            "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig",
        )
    leftover: dict[str, Any] = {}
    for key, value in config.items():
        name = camel(key)
        if name in _GENERATION:
            param, kind = _GENERATION[name]
            _check_type(f"generation_config.{_snake_path(name)}", value, kind)
            params[param] = value
        elif name == "thinkingConfig":
            if not isinstance(value, dict):
                raise _invalid_value(
                    "generation_config.thinking_config",
                    value,
                    "type.googleapis.com/google.ai.generativelanguage.v1beta.ThinkingConfig",
                )
            for sub, sub_value in value.items():
                sub_name = camel(sub)
                if sub_name == "thinkingBudget":
                    _check_type(
                        "generation_config.thinking_config.thinking_budget", sub_value, "int"
                    )
                    params["reasoning_budget"] = sub_value
                elif sub_name == "includeThoughts":
                    _check_type(
                        "generation_config.thinking_config.include_thoughts", sub_value, "bool"
                    )
                    params["include_reasoning"] = sub_value
                elif sub_name == "thinkingLevel":
                    params["reasoning_effort"] = str(sub_value).lower()
                else:
                    raise _unknown_name(sub, "generation_config.thinking_config")
        elif name in _GENERATION_OTHER:
            leftover[key] = value
        else:
            raise _unknown_name(key, "generation_config")
    mime = pick(leftover, "responseMimeType")
    schema_keys = [
        k
        for k in leftover
        if camel(k) in ("responseJsonSchema", "_responseJsonSchema", "responseSchema")
    ]
    if mime == "application/json" and len(schema_keys) <= 1:
        leftover.pop("responseMimeType", None)
        leftover.pop("response_mime_type", None)
        if schema_keys:
            schema = leftover.pop(schema_keys[0])
            if camel(schema_keys[0]) == "responseSchema":
                schema = _lower_types(schema)
            params["response_format"] = {"type": "json_schema", "schema": schema}
        else:
            params["response_format"] = {"type": "json_object"}
    if leftover:
        params["generation_config"] = leftover


def decode_request(
    body: dict[str, Any], *, model: str | None = None
) -> tuple[list[BaseMessage], dict[str, Any]]:
    """``(messages, params)`` for a ``generateContent`` body, validated like the API does.

    Camel- and snake_case keys are both accepted. The model comes from the URL: pass it as
    `model` (see `model_from_path`); a ``model`` field in the body (the Go SDK sends one) is
    used when `model` is None.

    Raises:
        BadRequestError: the API would reject the body; the message is the API's wording and
            ``error.body`` the 400 body it would send.
    """
    if not isinstance(body, dict):
        raise _bad(
            'Invalid JSON payload received. Unknown name "": Root element must be a message.'
        )
    for key in body:
        if camel(key) not in _TOP_LEVEL:
            raise _unknown_name(key)
    messages = _messages(body)
    params: dict[str, Any] = {}
    if model is None and isinstance(body.get("model"), str):
        model = body["model"]
    if model:
        params["model"] = model.removeprefix("models/")
    for key, value in body.items():
        name = camel(key)
        if name in ("contents", "systemInstruction", "model"):
            continue
        if name == "generationConfig":
            _generation_params(value, params)
        elif name == "tools":
            tools = _tools(value)
            if tools:
                params["tools"] = tools
        elif name == "toolConfig":
            params["tool_choice"] = _tool_choice(value)
        else:
            params[key] = value
    return messages, params


def model_from_path(path: str) -> str:
    """The model named in a request path: ``/v1beta/models/gemini-2.5-flash:generateContent``
    (or a Vertex ``.../publishers/google/models/<m>:generateContent``) -> ``gemini-2.5-flash``.

    Raises:
        NotFoundError: the path names no model, as the API answers such a URL.
    """
    match = re.search(r"/(?:tuned)?[mM]odels/([^/:?]+)", unquote(path or ""))
    if match is None:
        message = f"Requested entity was not found: {path!r} names no model."
        raise NotFoundError(
            message, status_code=404, provider=_PROVIDER_NAME, body=error_body(404, message)
        )
    return match.group(1)


# ---------------------------------------------------------------- render


_CANDIDATE_BACK = {
    "finish_message": "finishMessage",
    "safety_ratings": "safetyRatings",
    "citation_metadata": "citationMetadata",
    "grounding_metadata": "groundingMetadata",
    "url_context_metadata": "urlContextMetadata",
    "avg_logprobs": "avgLogprobs",
    "logprobs": "logprobsResult",
}


def _model_name(message: AIMessage, params: dict[str, Any] | None) -> str:
    # a reply that names its model version wins, as the API reports the resolved version
    name = message.response_metadata.get("model_name") or (params or {}).get("model")
    return str(name or _DEFAULT_MODEL).removeprefix("models/")


def _response_id(message: AIMessage) -> str:
    if message.id and not message.id.startswith("run-"):
        return message.id
    given = message.response_metadata.get("id")
    if isinstance(given, str) and given:
        return given
    # made up from the content, so the same reply always gets the same id
    digest = hashlib.sha256(repr(message).encode("utf-8", errors="replace")).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode("ascii").rstrip("=")


CALLS_FINISH_MESSAGE = "Model generated function call(s)."
"""The ``finishMessage`` the API puts on a candidate that ends with function calls."""
DEFAULT_SERVICE_TIER = "standard"
"""``usageMetadata.serviceTier`` of a rendered reply that names none (what the API reports)."""
VERTEX_CREATE_TIME = "2025-01-01T00:00:00.000000Z"
"""``createTime`` of a reply rendered for a Vertex AI path when the reply names none: fixed,
so an answer is the same run after run."""
VERTEX_TRAFFIC_TYPE = "ON_DEMAND"
"""``usageMetadata.trafficType`` of a reply rendered for a Vertex AI path."""


def _is_vertex(params: dict[str, Any] | None) -> bool:
    return bool((params or {}).get(WIRE_VERTEX))


def _from_gemini(message: AIMessage) -> bool:
    """Whether `message` was decoded from a Gemini reply: it renders back with exactly the
    optional fields it came with, while any other reply (a script) gets the API's defaults."""
    return message.response_metadata.get("model_provider") == _PROVIDER_NAME


def finish_fields(
    message: AIMessage, params: dict[str, Any] | None = None
) -> tuple[str, dict[str, Any]]:
    """``finishReason`` and the other candidate fields for a reply: ``finishMessage`` when it
    ends with function calls, ``avgLogprobs`` (Vertex AI, or logprobs asked for) and
    ``logprobsResult`` (logprobs asked for), from the reply's metadata or made up: every
    token certain (log probability 0)."""
    meta = message.response_metadata
    extra: dict[str, Any] = {
        wire: meta[key] for key, wire in _CANDIDATE_BACK.items() if meta.get(key) is not None
    }
    if message.invalid_tool_calls:
        bad = message.invalid_tool_calls[0]
        extra["finishMessage"] = f"Malformed function call: {bad.get('name')}({bad.get('args')})"
        return "MALFORMED_FUNCTION_CALL", extra
    asked = bool((params or {}).get("logprobs"))
    if asked and "logprobsResult" not in extra:
        extra["logprobsResult"] = _certain_logprobs(message, (params or {}).get("top_logprobs"))
    if (asked or _is_vertex(params)) and "avgLogprobs" not in extra and message.text:
        extra["avgLogprobs"] = 0.0
    raw = meta.get("finishReason")
    reason = raw if isinstance(raw, str) else FINISH_REASON_BACK.get(meta.get("finish_reason"))
    reason = reason or "STOP"
    if message.tool_calls and reason == "STOP" and not _from_gemini(message):
        extra.setdefault("finishMessage", CALLS_FINISH_MESSAGE)
    return reason, extra


def _certain_logprobs(message: AIMessage, top: Any) -> dict[str, Any]:
    """A ``logprobsResult`` for the reply's text, one token per word, each one certain."""
    tokens = re.findall(r"\s*\S+|\s+", message.text)
    chosen = [{"token": t, "logProbability": 0.0, "tokenId": 0} for t in tokens]
    result: dict[str, Any] = {"chosenCandidates": chosen}
    if isinstance(top, int) and not isinstance(top, bool) and top > 0:
        result["topCandidates"] = [{"candidates": [c]} for c in chosen]
    return result


def reply_envelope(message: AIMessage, params: dict[str, Any] | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "modelVersion": _model_name(message, params),
        "responseId": _response_id(message),
    }
    created = message.response_metadata.get("create_time")
    if created is None and _is_vertex(params):
        created = VERTEX_CREATE_TIME  # Vertex AI stamps each reply; the Gemini API does not
    if created is not None:
        body["createTime"] = created
    return body


def _modalities(count: int, audio: Any) -> list[dict[str, Any]]:
    """A ``*TokensDetails`` list: the count by modality (audio when known, the rest text)."""
    details = []
    if isinstance(audio, int) and audio:
        if count - audio:
            details.append({"modality": "TEXT", "tokenCount": count - audio})
        details.append({"modality": "AUDIO", "tokenCount": audio})
    else:
        details.append({"modality": "TEXT", "tokenCount": count})
    return details


def final_usage(message: AIMessage, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """``usageMetadata`` with the fields the API sends besides the counts: the prompt's and
    the answer's tokens by modality, the cached tokens by modality, ``serviceTier`` (and
    Vertex AI's ``trafficType``)."""
    usage = usage_to_wire(message.usage_metadata)
    if usage is None:
        return None
    in_details = (message.usage_metadata or {}).get("input_token_details") or {}
    out_details = (message.usage_metadata or {}).get("output_token_details") or {}
    usage["promptTokensDetails"] = _modalities(usage["promptTokenCount"], in_details.get("audio"))
    if usage["candidatesTokenCount"]:
        count = usage["candidatesTokenCount"]
        usage["candidatesTokensDetails"] = _modalities(count, out_details.get("audio"))
    if usage.get("cachedContentTokenCount"):
        usage["cacheTokensDetails"] = _modalities(usage["cachedContentTokenCount"], None)
    tier = message.response_metadata.get("service_tier")
    if tier is None and not _from_gemini(message):
        tier = DEFAULT_SERVICE_TIER
    if tier is not None:
        usage["serviceTier"] = tier
    if _is_vertex(params):
        usage["trafficType"] = VERTEX_TRAFFIC_TYPE
    return usage


def prompt_usage(usage: dict[str, Any] | None) -> dict[str, Any] | None:
    """The ``usageMetadata`` of a stream event before the last: the prompt's counts only."""
    if usage is None:
        return None
    keep = ("promptTokenCount", "promptTokensDetails", "serviceTier", "trafficType")
    out = {k: usage[k] for k in keep if k in usage}
    out["totalTokenCount"] = usage["promptTokenCount"]
    return out


def blocked_body(message: AIMessage, params: dict[str, Any] | None) -> dict[str, Any] | None:
    meta = message.response_metadata
    if meta.get("block_reason") is None:
        return None
    feedback = meta.get("prompt_feedback") or {"blockReason": meta["block_reason"]}
    body = {"promptFeedback": feedback, **reply_envelope(message, params)}
    usage = final_usage(message, params)
    if usage is not None:
        body["usageMetadata"] = usage
    return body


def render_response(message: AIMessage, params: dict[str, Any] | None = None) -> dict:
    """The ``generateContent`` response body for a reply.

    Invalid tool calls cannot be expressed, so they render as Gemini reports a call it
    could not parse: no part, ``finishReason: MALFORMED_FUNCTION_CALL``.
    """
    blocked = blocked_body(message, params)
    if blocked is not None:
        return blocked
    valid = message.model_copy(update={"invalid_tool_calls": []})
    reason, extra = finish_fields(message, params)
    candidate = {
        "content": {"parts": ai_parts(valid, "the reply"), "role": "model"},
        "finishReason": reason,
        "index": 0,
        **extra,
    }
    body: dict[str, Any] = {"candidates": [candidate]}
    usage = final_usage(message, params)
    if usage is not None:
        body["usageMetadata"] = usage
    if message.response_metadata.get("prompt_feedback") is not None:
        body["promptFeedback"] = message.response_metadata["prompt_feedback"]
    body.update(reply_envelope(message, params))
    return body


_DEFAULT_STATUS: list[tuple[type[ProviderError], int]] = [
    (AuthenticationError, 400),
    (BadRequestError, 400),
    (NotFoundError, 404),
    (RateLimitError, 429),
    (OverloadedError, 503),
]


def render_error(error: ProviderError) -> tuple[int, dict[str, str], Any]:
    """``(status, headers, body)`` of the Gemini error response for `error`.

    A Gemini error body the error came with is sent back unchanged. Otherwise the body is
    built: a bad key is 400 ``INVALID_ARGUMENT`` with ``ErrorInfo.reason = API_KEY_INVALID``
    (as the API answers), a rate limit 429 ``RESOURCE_EXHAUSTED`` with ``RetryInfo`` when
    `retry_after` is known. Like the API, no ``Retry-After`` header is sent.
    """
    headers = {"content-type": "application/json; charset=UTF-8"}
    body = error.body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        inner = body["error"]
        if isinstance(inner.get("code"), int) and isinstance(inner.get("message"), str):
            return error.status_code or inner["code"], headers, body
    status = error.status_code
    if isinstance(error, OverloadedError):
        status = 503  # Gemini has no 529: overload is 503 UNAVAILABLE
    if status is None:
        status = next((code for cls, code in _DEFAULT_STATUS if isinstance(error, cls)), 500)
    reason = "API_KEY_INVALID" if isinstance(error, AuthenticationError) and status == 400 else None
    retry_after = error.retry_after if isinstance(error, RateLimitError) else None
    body = error_body(
        status,
        error.message,
        reason=error.code or reason,  # a scripted fault's own status name and reason
        retry_after=retry_after,
        status_name=error.type,
    )
    return status, headers, body


# ---------------------------------------------------------------------------------------------
# the model endpoints: models.list (GET /v1beta/models) and models.get (GET /v1beta/models/{m})

_MODELS_PATH = re.compile(r"/v1(?:beta|alpha)?/models(?:/(?P<id>[^/:]+))?$")
"""google-genai asks ``/v1/models/{m}``, sharing the path with OpenAI (`CLIENT_HEADERS`)."""
INPUT_TOKEN_LIMIT = 1048576
"""The ``inputTokenLimit`` models.get reports (Gemini 2.5's context window)."""
OUTPUT_TOKEN_LIMIT = 65536
"""The ``outputTokenLimit`` models.get reports."""


def _model_resource(name: str) -> dict[str, Any]:
    return {
        "name": f"models/{name}",
        "version": "001",
        "displayName": name,
        "description": "A model emulated by myna.",
        "inputTokenLimit": INPUT_TOKEN_LIMIT,
        "outputTokenLimit": OUTPUT_TOKEN_LIMIT,
        "supportedGenerationMethods": ["generateContent"],
        "temperature": 1.0,
        "topP": 0.95,
        "topK": 64,
        "maxTemperature": 2.0,
        "thinking": True,
    }


def render_models(
    method: str, path: str, body: Any, models: Sequence[str], *, strict: bool = False
) -> tuple[int, dict[str, str], Any] | None:
    """Gemini's answer to models.list (``GET /v1beta/models``: ``{"models": [...]}``) and
    models.get (``GET /v1beta/models/{model}``: one Model resource with its token limits),
    from the names in `models`; None for any other request. With `strict`, a model not in
    `models` is the API's 404 ``NOT_FOUND``; otherwise any name is described."""
    match = _MODELS_PATH.search(unquote(path))
    if method != "GET" or match is None:
        return None
    headers = {"content-type": "application/json; charset=UTF-8"}
    name = match.group("id")
    if name is None:
        return 200, headers, {"models": [_model_resource(m) for m in models]}
    if strict and name not in models:
        message = f"models/{name} is not found for API version v1beta."
        return render_error(NotFoundError(message, status_code=404))
    return 200, headers, _model_resource(name)
