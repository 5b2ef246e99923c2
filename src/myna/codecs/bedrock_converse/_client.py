"""Client side of the Bedrock Converse codec: request bodies out, replies and errors in."""

from __future__ import annotations

import json
from typing import Any

from ...exceptions import DecodeError, ProviderError, UserError
from ...messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    coerce_messages,
    standard_blocks,
)
from ._blocks import (
    assistant_content_to_standard,
    cache_point,
    encode_assistant_content,
    tool_result_content,
    user_blocks_to_wire,
)
from ._shared import (
    EXTRA_RESPONSE_FIELDS,
    PROVIDER,
    Fail,
    decode_failure,
    error_from_payload,
    error_type_of,
    excerpt,
    stop_metadata,
    usage_from_wire,
    usage_metadata_extras,
)

__all__ = ["decode_error", "decode_response", "encode_request", "request_path"]

# Neutral params the body never carries: the URL says the model and whether to stream, usage
# always comes with a stream, and Converse has no seed or parallel-tool switch.
_DROPPED = ("model", "stream", "stream_usage", "seed", "include_reasoning", "top_logprobs")
_DROPPED += ("parallel_tool_calls",)
_CHOICE_KEYS = ("auto", "any", "tool")


def request_path(model: str, *, stream: bool = False) -> str:
    """``/model/{modelId}/converse`` (or ``/converse-stream``), the model id URL-encoded."""
    from urllib.parse import quote

    return f"/model/{quote(model, safe='')}/{'converse-stream' if stream else 'converse'}"


# ---------------------------------------------------------------------------- encode_request


def _system_blocks(message: SystemMessage, where: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for j, block in enumerate(standard_blocks(message.content)):
        kind = block.get("type")
        if kind == "non_standard" and isinstance(block.get("value"), dict):
            out.append(block["value"])  # guardContent, cachePoint
            continue
        if kind != "text":
            raise UserError(
                f"{where}.content[{j}]: the Bedrock system prompt takes only text blocks, got a "
                f"{kind!r} block; put images and documents in a HumanMessage."
            )
        out.append({"text": block.get("text", "")})
        marker = block.get("cache_control") or (block.get("extras") or {}).get("cache_control")
        if marker is not None:
            out.append(cache_point(marker))
    if message.additional_kwargs.get("cache_control") is not None:
        out.append(cache_point(message.additional_kwargs["cache_control"]))
    return out


def _append(turns: list[dict[str, Any]], role: str, blocks: list[dict[str, Any]]) -> None:
    # Converse needs strict user/assistant alternation: neighbours of one role share a turn
    if turns and turns[-1]["role"] == role:
        turns[-1]["content"].extend(blocks)
    else:
        turns.append({"role": role, "content": list(blocks)})


def _encode_messages(
    messages: list[BaseMessage],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], bool]:
    """(system blocks, turns, whether the history holds tool calls or results)."""
    system: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    tool_blocks = False
    counter = [0]  # numbers unnamed documents so their names stay unique
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        marker = message.additional_kwargs.get("cache_control")
        point = [cache_point(marker)] if marker is not None else []
        if isinstance(message, SystemMessage):
            if turns:
                raise UserError(
                    f"{where}: a SystemMessage after the conversation started. Bedrock Converse "
                    "has one top-level system prompt; put system messages first."
                )
            system += _system_blocks(message, where)
        elif isinstance(message, ToolMessage):
            result: dict[str, Any] = {
                "toolUseId": message.tool_call_id,
                "content": tool_result_content(message.content, where, counter),
            }
            if message.status == "error":
                result["status"] = "error"
            _append(turns, "user", [{"toolResult": result}, *point])
            tool_blocks = True
        elif isinstance(message, AIMessage):
            blocks = encode_assistant_content(message, where, for_request=True, counter=counter)
            tool_blocks = tool_blocks or any("toolUse" in b for b in blocks)
            _append(turns, "assistant", blocks + point)
        elif isinstance(message, HumanMessage):
            _append(turns, "user", user_blocks_to_wire(message.content, where, counter) + point)
        else:
            raise UserError(f"{where}: cannot send a {type(message).__name__} to Bedrock Converse.")
    return system, turns, tool_blocks


def _tool_to_wire(tool: Any, where: str) -> dict[str, Any]:
    if not isinstance(tool, dict):
        raise UserError(
            f"{where} must be a dict: a ToolSpec {{'name', 'description', 'parameters'}} or a "
            "Bedrock tool {'toolSpec': {...}}; convert functions with "
            "myna.tools.convert_to_tool_spec."
        )
    if any(key in tool for key in ("toolSpec", "systemTool", "cachePoint")):
        return dict(tool)  # already Bedrock-shaped
    spec = tool["function"] if isinstance(tool.get("function"), dict) else tool
    if not isinstance(spec.get("name"), str):
        raise UserError(f"{where} has no string 'name': {excerpt(tool)}")
    schema = spec.get("parameters") or spec.get("input_schema")
    out: dict[str, Any] = {"name": spec["name"]}
    if spec.get("description"):
        out["description"] = spec["description"]
    out["inputSchema"] = {"json": schema or {"type": "object", "properties": {}}}
    if spec.get("strict") is not None:
        out["strict"] = spec["strict"]
    return {"toolSpec": out}


def _tool_choice(choice: Any) -> dict[str, Any] | None:
    if choice is None or choice == "auto":
        return None if choice is None else {"auto": {}}
    if choice in ("any", "required"):
        return {"any": {}}
    if choice == "none":
        raise UserError(
            "Bedrock Converse has no tool_choice 'none'; call the model without tools "
            "(or with tool_choice='auto') instead."
        )
    if isinstance(choice, str):
        return {"tool": {"name": choice}}
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        return {"tool": {"name": choice["function"].get("name")}}
    if isinstance(choice, dict) and choice.get("type") == "tool" and "name" in choice:
        return {"tool": {"name": choice["name"]}}
    if isinstance(choice, dict) and len(choice) == 1 and next(iter(choice)) in _CHOICE_KEYS:
        return dict(choice)
    raise UserError(
        f"tool_choice={choice!r} is not understood; use 'auto', 'any', a tool name or a "
        "Bedrock dict such as {'tool': {'name': 'get_weather'}}."
    )


def _output_config(response_format: Any) -> dict[str, Any]:
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind == "json_schema":
        nested = response_format.get("json_schema")  # OpenAI's nested form
        schema = response_format.get("schema") or (nested or {}).get("schema")
        if isinstance(schema, dict):
            definition: dict[str, Any] = {"schema": json.dumps(schema)}
            name = response_format.get("name") or (nested or {}).get("name")
            if name:
                definition["name"] = name
            if response_format.get("description"):
                definition["description"] = response_format["description"]
            structure = {"jsonSchema": definition}
            return {"textFormat": {"type": "json_schema", "structure": structure}}
    if kind == "json_object":
        raise UserError(
            "Bedrock Converse has no schema-less JSON mode; pass response_format="
            "{'type': 'json_schema', 'schema': {...}} or use tool calling."
        )
    raise UserError(
        f"response_format={excerpt(response_format)} is not understood; pass "
        "{'type': 'json_schema', 'name': ..., 'schema': {...}}."
    )


def _reasoning_fields(p: dict[str, Any], model: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    budget = p.pop("reasoning_budget", None)
    if budget is not None:
        # Anthropic models on Bedrock read Anthropic's own `thinking` object here
        fields["thinking"] = (
            {"type": "disabled"} if budget == 0 else {"type": "enabled", "budget_tokens": budget}
        )
    effort = p.pop("reasoning_effort", None)
    if effort is not None:
        if isinstance(model, str) and "nova" in model:
            level = "low" if effort == "minimal" else effort
            fields["reasoningConfig"] = {"type": "enabled", "maxReasoningEffort": level}
        else:
            fields["reasoning_effort"] = effort
    return fields


def encode_request(messages: list[BaseMessage], params: dict[str, Any] | None = None) -> dict:
    """Build the JSON body of ``POST /model/{modelId}/converse`` (or ``converse-stream``).

    The model goes in the URL (see `request_path`), not the body. System messages become
    ``system`` text blocks; neighbouring messages of one role share a turn (tool results
    and the next human message form one user turn), as the API demands alternation.
    Sampling params go in ``inferenceConfig``; ``reasoning_budget`` / ``reasoning_effort``
    go in ``additionalModelRequestFields``; ``cache_control`` markers become ``cachePoint``
    blocks. ``seed`` and ``parallel_tool_calls`` have no Converse equivalent and are dropped.

    Raises:
        UserError: an input Converse cannot carry (http image URLs, a system message after
            the conversation started), tool calls in the history without ``tools``,
            ``tool_choice='none'``, ``logprobs=True``, or a schema-less JSON mode.
    """
    if not (isinstance(messages, list) and all(isinstance(m, BaseMessage) for m in messages)):
        messages = coerce_messages(messages)
    p = {k: v for k, v in (params or {}).items() if v is not None}
    if p.pop("logprobs", False):
        raise UserError("Bedrock Converse does not return log probabilities; drop logprobs=True.")
    model = p.get("model")
    system, turns, tool_blocks = _encode_messages(messages)
    body: dict[str, Any] = {"messages": turns}
    if system:
        body["system"] = system
    inference: dict[str, Any] = {}
    for key, wire in (("max_tokens", "maxTokens"), ("temperature", "temperature")):
        if key in p:
            inference[wire] = p.pop(key)
    if "top_p" in p:
        inference["topP"] = p.pop("top_p")
    stop = p.pop("stop", None)
    if stop is not None:
        inference["stopSequences"] = [stop] if isinstance(stop, str) else list(stop)
    inference.update(p.pop("inference_config", None) or {})
    if inference:
        body["inferenceConfig"] = inference
    tools = p.pop("tools", None)
    choice = _tool_choice(p.pop("tool_choice", None))
    if tools:
        config: dict[str, Any] = {
            "tools": [_tool_to_wire(t, f"params['tools'][{i}]") for i, t in enumerate(tools)]
        }
        if choice is not None:
            config["toolChoice"] = choice
        body["toolConfig"] = config
    elif tool_blocks:
        raise UserError(
            "The conversation holds tool calls or tool results but no tools were given; Bedrock "
            "Converse rejects that (toolConfig must be defined). Pass the tools again, e.g. "
            "model.bind_tools([...])."
        )
    elif choice is not None:
        raise UserError("tool_choice was given without tools; pass tools=[...] as well.")
    if "response_format" in p:
        body["outputConfig"] = _output_config(p.pop("response_format"))
    additional = dict(p.pop("additional_model_request_fields", None) or {})
    additional.update(_reasoning_fields(p, model))
    if additional:
        body["additionalModelRequestFields"] = additional
    marker = p.pop("cache_control", None)
    if marker is not None and turns:
        turns[-1]["content"].append(cache_point(marker))
    extra_body = p.pop("extra_body", None)
    for key in _DROPPED:
        p.pop(key, None)
    body.update(p)  # guardrailConfig, requestMetadata, performanceConfig, ... verbatim
    if extra_body is not None:
        if not isinstance(extra_body, dict):
            raise UserError(f"extra_body must be a dict, got {type(extra_body).__name__}.")
        body.update(extra_body)
    return body


# --------------------------------------------------------------------------- decode_response


def response_metadata(body: dict[str, Any], fail: Fail) -> dict[str, Any]:
    """``model_provider``, stop reasons, ``metrics`` and the other response fields."""
    meta: dict[str, Any] = {"model_provider": PROVIDER}
    if body.get("stopReason") is not None:
        meta.update(stop_metadata(body["stopReason"], fail))
    metrics = body.get("metrics")
    if metrics is not None:
        if not isinstance(metrics, dict):
            raise fail(f"metrics must be an object, got {excerpt(metrics)}")
        meta["metrics"] = metrics
    for wire, key in EXTRA_RESPONSE_FIELDS.items():
        if body.get(wire) is not None:
            meta[key] = body[wire]
    meta.update(usage_metadata_extras(body.get("usage")))
    return meta


def decode_response(body: dict[str, Any]) -> AIMessage:
    """Turn a Converse response into an `AIMessage`.

    ``output.message.content`` becomes the content (a string for one plain text block, else
    standard blocks: ``reasoning`` with its signature or redacted data in ``extras``, text
    with citations as ``annotations``, media, server tool blocks); ``toolUse`` blocks become
    `tool_calls`. Usage counts cached tokens as input. The response names no model: the
    provider adds ``model_name`` from the request.

    Raises:
        DecodeError: the body is not a Converse response.
    """
    fail = decode_failure("Bedrock Converse response")
    if not isinstance(body, dict):
        raise DecodeError(f"Bedrock Converse response must be a JSON object, got {excerpt(body)}")
    output = body.get("output")
    message = output.get("message") if isinstance(output, dict) else None
    if not isinstance(message, dict):
        raise fail(f"no 'output.message' in {excerpt(body)}")
    if message.get("role", "assistant") != "assistant":
        raise fail(f"output.message.role must be 'assistant', got {excerpt(message.get('role'))}")
    content, calls, invalid = assistant_content_to_standard(
        message.get("content"), "output.message.content", fail
    )
    usage = body.get("usage")
    return AIMessage(
        content=content,
        tool_calls=calls,
        invalid_tool_calls=invalid,
        usage_metadata=usage_from_wire(usage, fail) if usage is not None else None,
        response_metadata=response_metadata(body, fail),
    )


# ------------------------------------------------------------------------------ decode_error


def decode_error(status: int, body: Any, headers: dict[str, str] | None = None) -> ProviderError:
    """Turn an error response into the matching `myna.exceptions.ProviderError`.

    The error type comes from the ``x-amzn-errortype`` header (or the body's ``__type``):
    ``ThrottlingException`` -> `RateLimitError`, ``ValidationException`` -> `BadRequestError`
    (`ContextLengthError` when the prompt is too long), ``AccessDeniedException`` ->
    `AuthenticationError`, ``ResourceNotFoundException`` -> `NotFoundError`,
    ``ServiceUnavailableException`` -> `OverloadedError`, ``InternalServerException`` and
    ``ModelErrorException`` -> `ServerError`. The message is the body's ``message``.
    """
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    payload: Any = body
    if isinstance(body, (bytes, bytearray)):
        payload = bytes(body).decode("utf-8", errors="replace")
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError:
            pass
    fallback = ""
    if isinstance(payload, str) and payload.strip():
        fallback = " ".join(payload.split())[:200]
    elif not isinstance(payload, dict):
        fallback = f"HTTP {status} with no error body"
    kind = error_type_of(lowered.get("x-amzn-errortype"))
    return error_from_payload(status, payload, kind, headers, fallback=fallback)
