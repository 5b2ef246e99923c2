"""Server side of the Bedrock Converse codec: what an emulator needs to answer like the API."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Sequence
from typing import Any

from ...exceptions import ProviderError, UserError
from ...messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from ._blocks import (
    assistant_content_to_standard,
    attach_cache_points,
    cache_marker,
    encode_assistant_content,
    tool_result_to_standard,
    user_block_to_standard,
)
from ._shared import (
    EXTRA_RESPONSE_FIELDS,
    is_int,
    stop_reason_for,
    usage_to_wire,
    validation_error,
    wire_error_type,
)

__all__ = ["decode_request", "render_error", "render_models", "render_response"]

_CONTENT_KEYS = (
    "text, image, document, video, audio, toolUse, toolResult, guardContent, cachePoint, "
    "reasoningContent, citationsContent, searchResult"
)
_START_WITH_USER = (
    "A conversation must start with a user message. Try again with a conversation that starts "
    "with a user message."
)
_ALTERNATE = (
    "A conversation must alternate between user and assistant roles. Make sure the "
    "conversation alternates between user and assistant roles and try again."
)
_TOOL_CONFIG = (
    "The toolConfig field must be defined when using toolUse and toolResult content blocks."
)
_CHOICES = ("auto", "any", "tool")
_ERROR_TYPE_SUFFIX = ":http://internal.amazon.com/coral/com.amazon.bedrock/"


def _fail(problem: str) -> Exception:
    return validation_error(problem)


def _constraint(value: Any, where: str, rule: str) -> Exception:
    """The service's schema-validation wording (list positions are 1-based there)."""
    shown = "null" if value is None else f"'{value}'"
    return validation_error(
        f"1 validation error detected: Value {shown} at '{where}' failed to satisfy "
        f"constraint: {rule}"
    )


# ------------------------------------------------------------------ decode_request: validate


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_inference(config: Any) -> None:
    if config is None:
        return
    if not isinstance(config, dict):
        raise _constraint(config, "inferenceConfig", "Member must be a structure")
    tokens = config.get("maxTokens")
    if tokens is not None and (not is_int(tokens) or tokens < 1):
        rule = "Member must have value greater than or equal to 1"
        raise _constraint(tokens, "inferenceConfig.maxTokens", rule)
    for key in ("temperature", "topP"):
        value = config.get(key)
        if value is None:
            continue
        if not _is_number(value) or value < 0:
            rule = "Member must have value greater than or equal to 0"
            raise _constraint(value, f"inferenceConfig.{key}", rule)
        if value > 1:
            rule = "Member must have value less than or equal to 1"
            raise _constraint(value, f"inferenceConfig.{key}", rule)
    stops = config.get("stopSequences")
    if stops is not None and not (
        isinstance(stops, list) and all(isinstance(s, str) and s for s in stops)
    ):
        raise _constraint(
            stops, "inferenceConfig.stopSequences", "Member must be a list of strings"
        )


def _check_block(block: Any, i: int, j: int) -> None:
    where = f"messages.{i}.content.{j}"
    if not isinstance(block, dict) or len(block) != 1:
        raise validation_error(
            f"The ContentBlock object at {where} must set exactly one of the following keys: "
            f"{_CONTENT_KEYS}."
        )
    key, value = next(iter(block.items()))
    if key == "text":
        if not isinstance(value, str):
            raise _constraint(
                value,
                f"messages.{i + 1}.member.content.{j + 1}.member.text",
                "Member must be a string",
            )
        if not value:
            raise validation_error(
                f"The text field in the ContentBlock object at {where} is blank. Add text to the "
                "text field, and try again."
            )
    elif key in ("toolUse", "toolResult"):
        member = f"messages.{i + 1}.member.content.{j + 1}.member.{key}"
        if not isinstance(value, dict):
            raise _constraint(value, member, "Member must not be null")
        if not isinstance(value.get("toolUseId"), str) or not value["toolUseId"]:
            raise _constraint(
                value.get("toolUseId"), f"{member}.toolUseId", "Member must not be null"
            )
        if key == "toolUse" and not isinstance(value.get("name"), str):
            raise _constraint(value.get("name"), f"{member}.name", "Member must not be null")
        if key == "toolUse" and "input" not in value:
            raise _constraint(None, f"{member}.input", "Member must not be null")
        if key == "toolResult" and not isinstance(value.get("content"), list):
            raise _constraint(value.get("content"), f"{member}.content", "Member must not be null")


def _check_messages(messages: Any) -> None:
    if not isinstance(messages, list) or not messages:
        raise validation_error(_START_WITH_USER)
    previous = None
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise _constraint(message, f"messages.{i + 1}.member", "Member must be a structure")
        role = message.get("role")
        if role not in ("user", "assistant"):
            rule = "Member must satisfy enum value set: [user, assistant]"
            raise _constraint(role, f"messages.{i + 1}.member.role", rule)
        content = message.get("content")
        if not isinstance(content, list):
            raise _constraint(
                content, f"messages.{i + 1}.member.content", "Member must not be null"
            )
        if i == 0 and role != "user":
            raise validation_error(_START_WITH_USER)
        if role == previous:
            raise validation_error(_ALTERNATE)
        previous = role
        if not content:
            raise validation_error(
                f"The content field in the Message object at messages.{i} is empty. Add a "
                "ContentBlock object to the content field and try again."
            )
        for j, block in enumerate(content):
            _check_block(block, i, j)


def _check_tool_pairs(messages: list[dict[str, Any]], has_tools: bool) -> None:
    pending: list[str] = []
    for i, message in enumerate(messages):
        kinds = [next(iter(b)) for b in message["content"]]
        if ("toolUse" in kinds or "toolResult" in kinds) and not has_tools:
            raise validation_error(_TOOL_CONFIG)
        if message["role"] == "assistant":
            pending = [
                b["toolUse"]["toolUseId"]
                for b in message["content"]
                if "toolUse" in b and b["toolUse"].get("type") != "server_tool_use"
            ]
            continue
        answered = [b["toolResult"]["toolUseId"] for b in message["content"] if "toolResult" in b]
        if len(answered) > len(pending):
            raise validation_error(
                f"The number of toolResult blocks at messages.{i}.content exceeds the number of "
                "toolUse blocks of previous turn."
            )
        missing = [call_id for call_id in pending if call_id not in answered]
        if missing:
            raise validation_error(
                f"Expected toolResult blocks at messages.{i}.content for the following Ids: "
                f"{', '.join(missing)}"
            )
        pending = []


def _check_tools(config: Any) -> None:
    if config is None:
        return
    if not isinstance(config, dict):
        raise _constraint(config, "toolConfig", "Member must be a structure")
    tools = config.get("tools")
    if not isinstance(tools, list) or not tools:
        rule = "Member must have length greater than or equal to 1"
        raise _constraint(None if tools is None else tools, "toolConfig.tools", rule)
    names = []
    for n, tool in enumerate(tools, start=1):
        spec = tool.get("toolSpec") if isinstance(tool, dict) else None
        if spec is None:
            continue  # systemTool, cachePoint
        where = f"toolConfig.tools.{n}.member.toolSpec"
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise _constraint(None, f"{where}.name", "Member must not be null")
        if not isinstance(spec.get("inputSchema"), dict):
            raise _constraint(None, f"{where}.inputSchema", "Member must not be null")
        names.append(spec["name"])
    if len(set(names)) != len(names):
        raise validation_error("The toolConfig field contains duplicate tool names.")
    choice = config.get("toolChoice")
    if choice is None:
        return
    if not isinstance(choice, dict) or len(choice) != 1 or next(iter(choice)) not in _CHOICES:
        raise validation_error("toolChoice must set exactly one of the keys: auto, any, tool.")
    if "tool" in choice and not isinstance((choice["tool"] or {}).get("name"), str):
        raise _constraint(None, "toolConfig.toolChoice.tool.name", "Member must not be null")


def _validate(body: Any) -> None:
    if not isinstance(body, dict):
        raise validation_error("Malformed input request, please reformat your input and try again.")
    _check_messages(body.get("messages"))
    _check_inference(body.get("inferenceConfig"))
    _check_tools(body.get("toolConfig"))
    _check_tool_pairs(body["messages"], body.get("toolConfig") is not None)
    system = body.get("system")
    if system is not None and not (
        isinstance(system, list) and all(isinstance(b, dict) and len(b) == 1 for b in system)
    ):
        raise _constraint(system, "system", "Member must be a list of SystemContentBlock")
    for key in ("additionalModelRequestFields", "outputConfig"):
        if body.get(key) is not None and not isinstance(body[key], dict):
            raise _constraint(body[key], key, "Member must be a structure")


# -------------------------------------------------------------------- decode_request: convert


def _single_text(blocks: list[dict[str, Any]]) -> Any:
    if len(blocks) == 1 and set(blocks[0]) == {"type", "text"}:
        return blocks[0]["text"]
    return blocks


def _system_message(system: list[dict[str, Any]]) -> SystemMessage:
    blocks = [user_block_to_standard(b, f"system.{k}", _fail) for k, b in enumerate(system)]
    return SystemMessage(_single_text(attach_cache_points(blocks)))


def _user_messages(message: dict[str, Any], i: int, names: dict[str, str]) -> list[BaseMessage]:
    out: list[BaseMessage] = []
    pending: list[dict[str, Any]] = []

    def flush() -> None:
        if pending:
            out.append(HumanMessage(_single_text(attach_cache_points(pending))))
            pending.clear()

    for j, block in enumerate(message["content"]):
        where = f"messages.{i}.content.{j}"
        if "toolResult" in block:
            flush()
            value = block["toolResult"]
            content, status = tool_result_to_standard(value, where, _fail)
            call_id = value["toolUseId"]
            out.append(
                ToolMessage(content, tool_call_id=call_id, status=status, name=names.get(call_id))
            )
        elif "cachePoint" in block and not pending and out:
            # a cache point right after a tool result marks that ToolMessage
            out[-1].additional_kwargs["cache_control"] = cache_marker(block["cachePoint"])
        else:
            pending.append(user_block_to_standard(block, where, _fail))
    flush()
    return out


def _tool_spec(tool: dict[str, Any]) -> dict[str, Any]:
    spec = tool.get("toolSpec")
    if not isinstance(spec, dict) or set(tool) != {"toolSpec"}:
        return dict(tool)
    schema = spec["inputSchema"]
    if set(spec) - {"name", "description", "inputSchema", "strict"} or set(schema) != {"json"}:
        return dict(tool)  # Bedrock-only options: keep the tool raw
    out: dict[str, Any] = {
        "name": spec["name"],
        "description": spec.get("description", ""),
        "parameters": spec["inputSchema"]["json"],
    }
    if "strict" in spec:
        out["strict"] = spec["strict"]
    return out


def _tool_choice(choice: dict[str, Any]) -> Any:
    key = next(iter(choice))
    if key in ("auto", "any") and not choice[key]:
        return key
    if key == "tool" and set(choice["tool"]) == {"name"}:
        return choice["tool"]["name"]
    return dict(choice)


def _response_format(config: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    rest = dict(config)
    fmt = rest.pop("textFormat", None)
    structure = fmt.get("structure") if isinstance(fmt, dict) else None
    definition = structure.get("jsonSchema") if isinstance(structure, dict) else None
    if not isinstance(definition, dict) or not isinstance(definition.get("schema"), str):
        if fmt is not None:
            raise _constraint(
                None,
                "outputConfig.textFormat.structure.jsonSchema.schema",
                "Member must not be null",
            )
        return None, rest
    try:
        schema = json.loads(definition["schema"])
    except ValueError:
        raise validation_error(
            "The JSON schema in outputConfig.textFormat.structure.jsonSchema.schema is not "
            "valid JSON."
        ) from None
    out: dict[str, Any] = {"type": "json_schema", "schema": schema}
    for key in ("name", "description"):
        if definition.get(key):
            out[key] = definition[key]
    return out, rest


def _decode_params(body: dict[str, Any], model: str | None) -> dict[str, Any]:
    rest = {k: v for k, v in body.items() if k not in ("messages", "system")}
    params: dict[str, Any] = {}
    if model:
        params["model"] = model
    inference = dict(rest.pop("inferenceConfig", None) or {})
    for wire, key in (("maxTokens", "max_tokens"), ("temperature", "temperature")):
        if wire in inference:
            params[key] = inference.pop(wire)
    if "topP" in inference:
        params["top_p"] = inference.pop("topP")
    if "stopSequences" in inference:
        params["stop"] = inference.pop("stopSequences")
    if inference:
        params["inference_config"] = inference
    config = rest.pop("toolConfig", None)
    if config is not None:
        params["tools"] = [_tool_spec(t) for t in config["tools"]]
        if config.get("toolChoice") is not None:
            params["tool_choice"] = _tool_choice(config["toolChoice"])
    output = rest.pop("outputConfig", None)
    if output is not None:
        fmt, others = _response_format(output)
        if fmt is not None:
            params["response_format"] = fmt
        if others:
            params["output_config"] = others
    additional = dict(rest.pop("additionalModelRequestFields", None) or {})
    thinking = additional.get("thinking")
    if thinking == {"type": "disabled"}:
        del additional["thinking"]
        params["reasoning_budget"] = 0
    elif (
        isinstance(thinking, dict)
        and set(thinking) == {"type", "budget_tokens"}
        and thinking["type"] == "enabled"
    ):
        params["reasoning_budget"] = additional.pop("thinking")["budget_tokens"]
    if "reasoning_effort" in additional:
        params["reasoning_effort"] = additional.pop("reasoning_effort")
    nova = additional.get("reasoningConfig")
    if isinstance(nova, dict) and set(nova) == {"type", "maxReasoningEffort"}:
        params["reasoning_effort"] = additional.pop("reasoningConfig")["maxReasoningEffort"]
    if additional:
        params["additional_model_request_fields"] = additional
    params.update(rest)  # guardrailConfig, requestMetadata, performanceConfig, ...
    return params


def decode_request(
    body: dict[str, Any], *, model: str | None = None
) -> tuple[list[BaseMessage], dict[str, Any]]:
    """Read a Converse body back into messages and neutral params.

    The model id travels in the URL: pass it as `model` (URL-decoded). Validates like the
    real API and raises its ``ValidationException`` for what it rejects: no messages, a
    first turn that is not the user's, roles that do not alternate, empty content or blank
    text, tool blocks without ``toolConfig``, unanswered ``toolUse`` ids, and values out of
    range.

    Raises:
        BadRequestError: with the real API's message and error body ``{"message": ...}``.
    """
    _validate(body)
    messages: list[BaseMessage] = []
    if body.get("system"):
        messages.append(_system_message(body["system"]))
    names: dict[str, str] = {}
    for i, message in enumerate(body["messages"]):
        if message["role"] == "user":
            messages.extend(_user_messages(message, i, names))
            continue
        content, calls, invalid = assistant_content_to_standard(
            message["content"], f"messages.{i}.content", _fail
        )
        names.update({c["id"]: c["name"] for c in calls if c["id"]})
        messages.append(AIMessage(content, tool_calls=calls, invalid_tool_calls=invalid))
    return messages, _decode_params(body, model)


# --------------------------------------------------------------------------- render_response


def render_response(message: AIMessage, params: dict[str, Any] | None = None) -> dict:
    """The Converse response body the real API would send for `message`.

    Content blocks come first, then one ``toolUse`` per tool call (invalid tool calls keep
    their unparsable arguments as a string ``input``, so a client sees the fault). Missing
    usage renders as zeros and missing metrics as ``latencyMs: 0``: the API always has both.

    Raises:
        UserError: the message holds blocks an assistant turn cannot carry.
    """
    meta = message.response_metadata
    content = encode_assistant_content(message, "message", for_request=False)
    metrics = meta.get("metrics") if isinstance(meta.get("metrics"), dict) else {"latencyMs": 0}
    body: dict[str, Any] = {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop_reason_for(message),
        "usage": usage_to_wire(message.usage_metadata, meta),
        "metrics": metrics,
    }
    for wire, key in EXTRA_RESPONSE_FIELDS.items():
        if meta.get(key) is not None:
            body[wire] = meta[key]
    return body


# ------------------------------------------------------------------------------ render_error


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(math.ceil(value * 1000) / 1000)


def render_error(error: ProviderError) -> tuple[int, dict[str, str], Any]:
    """The status, headers and JSON body the real API sends for `error`.

    The body is ``{"message": ...}``; the ``x-amzn-errortype`` header names the type
    (``ThrottlingException`` 429, ``ValidationException`` 400, ``AccessDeniedException`` 403,
    ``ResourceNotFoundException`` 404, ``ServiceUnavailableException`` 503 for overload,
    ``InternalServerException`` 500, ...), with an ``x-amzn-requestid``.
    """
    if not isinstance(error, ProviderError):
        raise UserError(f"render_error() takes a myna ProviderError, got {type(error).__name__}.")
    status, kind = wire_error_type(error)
    headers = {
        "content-type": "application/json",
        "x-amzn-errortype": kind + _ERROR_TYPE_SUFFIX,
        "x-amzn-requestid": str(uuid.uuid4()),
    }
    if error.retry_after is not None:
        headers["retry-after"] = _seconds(error.retry_after)
    return status, headers, {"message": error.message}


def render_models(
    method: str, path: str, body: Any, models: Sequence[str], *, strict: bool = False
) -> tuple[int, dict[str, str], Any] | None:
    """None: the Bedrock runtime has no model endpoints (listing models is the control
    plane's ``ListFoundationModels``, on another host)."""
    return None
