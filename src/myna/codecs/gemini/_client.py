"""Client side of the Gemini codec: build the request body, read replies, streams and errors."""

from __future__ import annotations

import json
from typing import Any

from ...exceptions import ProviderError, UserError
from ...messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from ._parts import PartReader, ai_parts, assemble, content_parts, tool_name, tool_response_part
from ._shared import (
    PROVIDER,
    _expect,
    decode_error_at,
    error_from_body,
    has,
    normalise_finish,
    usage_from_wire,
)

__all__ = [
    "decode_error",
    "decode_response",
    "encode_request",
    "request_path",
]

# neutral param -> generationConfig key
_GENERATION = {
    "temperature": "temperature",
    "top_p": "topP",
    "top_k": "topK",
    "max_tokens": "maxOutputTokens",
    "seed": "seed",
    "candidate_count": "candidateCount",
    "presence_penalty": "presencePenalty",
    "frequency_penalty": "frequencyPenalty",
    "response_modalities": "responseModalities",
    "speech_config": "speechConfig",
    "media_resolution": "mediaResolution",
    "image_config": "imageConfig",
}
# Params with no Gemini counterpart: the model is in the URL, streaming is the method name,
# usage always streams, parallel calls cannot be switched off, caching is not per message.
_NOT_IN_BODY = frozenset(
    {"model", "stream", "stream_usage", "parallel_tool_calls", "cache_control", "extra_body"}
)
_HANDLED = frozenset(
    {
        *_GENERATION,
        "stop",
        "logprobs",
        "top_logprobs",
        "response_format",
        "reasoning_effort",
        "reasoning_budget",
        "include_reasoning",
        "generation_config",
        "tools",
        "tool_choice",
    }
)
# Keys that make a tool dict a Gemini tool passed through as it is.
GEMINI_TOOL_KEYS = (
    "functionDeclarations",
    "googleSearch",
    "googleSearchRetrieval",
    "codeExecution",
    "urlContext",
    "fileSearch",
    "googleMaps",
    "computerUse",
    "retrieval",
    "enterpriseWebSearch",
    "mcpServers",
)
_MODES = {"auto": "AUTO", "any": "ANY", "required": "ANY", "none": "NONE"}


def request_path(model: str, *, stream: bool) -> str:
    """The URL path (and query) of a Gemini API call for `model`.

    ``request_path("gemini-2.5-flash", stream=True)`` is
    ``"/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"``.
    """
    if not isinstance(model, str) or not model.strip():
        raise UserError(
            f"Gemini needs a model name for the URL, got {model!r}; pass e.g. "
            "model='gemini-2.5-flash'."
        )
    name = model.strip().removeprefix("models/")
    method = "streamGenerateContent?alt=sse" if stream else "generateContent"
    return f"/v1beta/models/{name}:{method}"


# ---------------------------------------------------------------- encode_request


def _declaration(spec: dict[str, Any], where: str) -> dict[str, Any]:
    name = spec.get("name")
    if not isinstance(name, str) or not name:
        raise UserError(f"{where} has no 'name'; a Gemini function declaration needs one.")
    decl: dict[str, Any] = {"name": name}
    if spec.get("description"):
        decl["description"] = spec["description"]
    schema = spec.get("parameters", spec.get("input_schema"))
    if isinstance(schema, dict) and schema:
        decl["parametersJsonSchema"] = schema
    return decl


def _encode_tools(tools: Any) -> list[dict[str, Any]]:
    if not isinstance(tools, list):
        raise UserError(
            f"params['tools'] must be a list of tool specs, got {type(tools).__name__}."
        )
    declarations: list[dict[str, Any]] = []
    raw: list[dict[str, Any]] = []
    for i, tool in enumerate(tools):
        where = f"params['tools'][{i}]"
        if not isinstance(tool, dict):
            raise UserError(
                f"{where} must be a dict (a ToolSpec or a Gemini tool such as "
                f"{{'googleSearch': {{}}}}), got {type(tool).__name__}."
            )
        if any(has(tool, key) for key in GEMINI_TOOL_KEYS):
            raw.append(tool)
        elif tool.get("type") == "function" and isinstance(tool.get("function"), dict):
            declarations.append(_declaration(tool["function"], where))
        elif "name" in tool:
            declarations.append(_declaration(tool, where))
        else:
            raw.append(tool)
    return ([{"functionDeclarations": declarations}] if declarations else []) + raw


def _tool_config(choice: Any) -> dict[str, Any]:
    if isinstance(choice, str):
        mode = _MODES.get(choice.lower())
        if mode is not None:
            return {"functionCallingConfig": {"mode": mode}}
        return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [choice]}}
    if isinstance(choice, dict):
        if any(has(choice, k) for k in ("functionCallingConfig", "retrievalConfig")):
            return choice
        kind = choice.get("type")
        function = choice.get("function")
        if kind == "function" and isinstance(function, dict) and function.get("name"):
            return _tool_config(function["name"])
        if kind == "tool" and choice.get("name"):
            return _tool_config(choice["name"])
        if isinstance(kind, str) and kind.lower() in _MODES:
            return _tool_config(kind)
        if "mode" in choice:
            return {"functionCallingConfig": choice}
    raise UserError(
        f"params['tool_choice']={choice!r} is not understood; use 'auto', 'any', 'none', a tool "
        "name, or a Gemini toolConfig dict {'functionCallingConfig': {...}}."
    )


def _generation_config(params: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for key, wire in _GENERATION.items():
        if params.get(key) is not None:
            config[wire] = params[key]
    stop = params.get("stop")
    if stop is not None:
        config["stopSequences"] = [stop] if isinstance(stop, str) else list(stop)
    if params.get("logprobs") is not None:
        config["responseLogprobs"] = bool(params["logprobs"])
    if params.get("top_logprobs") is not None:
        config["logprobs"] = params["top_logprobs"]
    fmt = params.get("response_format")
    if fmt is not None:
        if not isinstance(fmt, dict) or fmt.get("type") not in ("json_schema", "json_object"):
            raise UserError(
                f"params['response_format']={fmt!r} is not understood; use "
                "{'type': 'json_schema', 'name': ..., 'schema': {...}} or {'type': 'json_object'}."
            )
        config["responseMimeType"] = "application/json"
        if fmt["type"] == "json_schema":
            schema = fmt.get("schema", (fmt.get("json_schema") or {}).get("schema"))
            if not isinstance(schema, dict):
                raise UserError("params['response_format'] of type json_schema needs a 'schema'.")
            config["responseJsonSchema"] = schema
    thinking: dict[str, Any] = {}
    if params.get("reasoning_budget") is not None:
        thinking["thinkingBudget"] = params["reasoning_budget"]
    if params.get("include_reasoning") is not None:
        thinking["includeThoughts"] = bool(params["include_reasoning"])
    if params.get("reasoning_effort") is not None:
        thinking["thinkingLevel"] = str(params["reasoning_effort"]).upper()
    if thinking:
        config["thinkingConfig"] = thinking
    extra = params.get("generation_config")
    if isinstance(extra, dict):
        config = _deep_merge(config, extra)
    return config


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(out.get(key), dict) and isinstance(value, dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def encode_request(messages: list[BaseMessage], params: dict[str, Any]) -> dict:
    """The JSON body of a ``generateContent`` / ``streamGenerateContent`` call.

    System messages become ``systemInstruction``; human and tool messages ``user`` turns
    (consecutive tool results share one turn); AI messages ``model`` turns with their
    signatures put back. The model name is not in the body: see `request_path`.

    Raises:
        UserError: content Gemini cannot carry, or a ToolMessage whose function name cannot
            be found.
    """
    params = dict(params or {})
    system: list[dict[str, Any]] = []
    contents: list[dict[str, Any]] = []
    previous_tool = False
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        is_tool = isinstance(message, ToolMessage)
        if isinstance(message, SystemMessage):
            system.extend(content_parts(message.content, "system", where))
        elif isinstance(message, AIMessage):
            contents.append({"role": "model", "parts": ai_parts(message, where)})
        elif isinstance(message, HumanMessage):
            parts = content_parts(message.content, "user", where)
            contents.append({"role": "user", "parts": parts or [{"text": ""}]})
        elif is_tool:
            part = tool_response_part(message, tool_name(messages, i), where)
            if previous_tool:
                contents[-1]["parts"].append(part)  # parallel results go back in one turn
            else:
                contents.append({"role": "user", "parts": [part]})
        else:
            raise UserError(
                f"{where} is a {type(message).__name__}; Gemini takes SystemMessage, "
                "HumanMessage, AIMessage and ToolMessage."
            )
        previous_tool = is_tool
    body: dict[str, Any] = {"contents": contents}
    if system:
        body["systemInstruction"] = {"parts": system}
    if params.get("tools"):
        body["tools"] = _encode_tools(params["tools"])
    if params.get("tool_choice") is not None:
        body["toolConfig"] = _tool_config(params["tool_choice"])
    config = _generation_config(params)
    if config:
        body["generationConfig"] = config
    for key, value in params.items():
        if key not in _NOT_IN_BODY and key not in _HANDLED and value is not None:
            body[key] = value
    extra = params.get("extra_body")
    if isinstance(extra, dict):
        body = _deep_merge(body, extra)
    return body


# ---------------------------------------------------------------- responses


def as_object(value: Any, where: str) -> dict[str, Any]:
    """A response or event as a dict; JSON text is parsed. `DecodeError` otherwise."""
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise decode_error_at(where, "is not JSON", value) from None
    if not isinstance(value, dict):
        raise decode_error_at(where, "must be a JSON object (a GenerateContentResponse)", value)
    return value


def first_candidate(body: dict[str, Any], where: str) -> tuple[dict[str, Any] | None, list]:
    candidates = body.get("candidates")
    if candidates is None:
        return None, []
    _expect(candidates, list, where, "candidates")
    first = None
    others = []
    for k, cand in enumerate(candidates):
        _expect(cand, dict, f"{where} candidates[{k}]", "a candidate")
        if first is None and cand.get("index", 0) == 0:
            first = cand
        else:
            others.append(cand)
    return first, others


def parts(candidate: dict[str, Any], where: str) -> list[Any]:
    content = candidate.get("content")
    if content is None:
        return []
    _expect(content, dict, where, "candidate.content")
    parts = content.get("parts", [])
    return _expect(parts if parts is not None else [], list, where, "content.parts")


_CANDIDATE_METADATA = {
    "finishMessage": "finish_message",
    "safetyRatings": "safety_ratings",
    "citationMetadata": "citation_metadata",
    "groundingMetadata": "grounding_metadata",
    "urlContextMetadata": "url_context_metadata",
    "avgLogprobs": "avg_logprobs",
}


def candidate_metadata(candidate: dict[str, Any], has_calls: bool, where: str) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    raw = candidate.get("finishReason")
    if raw is not None:
        if not isinstance(raw, (str, int)) or isinstance(raw, bool):
            raise decode_error_at(where, "finishReason must be a string", raw)
        meta["finish_reason"], meta["finishReason"] = normalise_finish(raw, has_calls)
    for key, name in _CANDIDATE_METADATA.items():
        if candidate.get(key) is not None:
            meta[name] = candidate[key]
    return meta


def body_metadata(body: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {"model_provider": PROVIDER}
    if isinstance(body.get("modelVersion"), str):
        meta["model_name"] = body["modelVersion"]
    if isinstance(body.get("responseId"), str):
        meta["id"] = body["responseId"]
    if body.get("createTime") is not None:
        meta["create_time"] = body["createTime"]
    usage = body.get("usageMetadata")
    if isinstance(usage, dict) and usage.get("serviceTier") is not None:
        meta["service_tier"] = usage["serviceTier"]
    return meta


def blocked(body: dict[str, Any], meta: dict[str, Any]) -> bool:
    feedback = body.get("promptFeedback")
    if isinstance(feedback, dict):
        meta["prompt_feedback"] = feedback
        if feedback.get("blockReason") is not None:
            meta["finish_reason"] = "content_filter"
            meta["block_reason"] = feedback["blockReason"]
            return True
    return False


def raise_if_error(body: dict[str, Any], where: str, *, in_stream: bool) -> None:
    if "error" in body:
        error = error_from_body(None, body)
        if in_stream:
            error.status_code = None  # errors inside a 200 stream have no HTTP status
        raise error


def decode_response(body: dict[str, Any]) -> AIMessage:
    """The `AIMessage` for a ``generateContent`` response body.

    Raises:
        ProviderError: the body is an error object.
        DecodeError: the body is not a GenerateContentResponse.
    """
    where = "response"
    body = as_object(body, where)
    raise_if_error(body, where, in_stream=False)
    candidate, others = first_candidate(body, where)
    meta = body_metadata(body)
    usage = usage_from_wire(body.get("usageMetadata"), where)
    if candidate is None:
        if blocked(body, meta):
            return AIMessage("", response_metadata=meta, usage_metadata=usage, id=meta.get("id"))
        raise decode_error_at(where, "has no candidates and no promptFeedback", body)
    blocked(body, meta)
    reader = PartReader()
    items = [reader.read(p, f"{where} part {k}") for k, p in enumerate(parts(candidate, where))]
    content, calls, extra = assemble(items)
    meta.update(candidate_metadata(candidate, bool(calls), where))
    if candidate.get("logprobsResult") is not None:
        meta["logprobs"] = candidate["logprobsResult"]
    if others:
        meta["other_candidates"] = others
    return AIMessage(
        content,
        tool_calls=calls,
        additional_kwargs=extra,
        response_metadata=meta,
        usage_metadata=usage,
        id=meta.get("id"),
    )


# ---------------------------------------------------------------- streams


def decode_error(status: int, body: Any, headers: dict[str, str] | None = None) -> ProviderError:
    """The `ProviderError` for an HTTP error response from Gemini.

    A bad API key comes as 400 ``INVALID_ARGUMENT`` with ``ErrorInfo.reason`` =
    ``API_KEY_INVALID`` and becomes `AuthenticationError`; a 429 carries its wait in
    ``RetryInfo.retryDelay`` (``"48s"``), which becomes ``retry_after``.
    """
    return error_from_body(status, body, headers)
