"""Checking a request body the way the Chat Completions API does, with its error wording.

The emulator answers a request the real API would reject with the real API's 400 body, so
these messages copy OpenAI's (``Missing required parameter: 'messages'.``, ``Invalid value:
'bot'. Supported values are: ...``, ``messages with role 'tool' must be a response to a
preceeding message with 'tool_calls'`` -- the typo is OpenAI's).
"""

from __future__ import annotations

from typing import Any

from ...exceptions import BadRequestError
from ._shared import PROVIDER, type_phrase

__all__: list[str] = []

ROLES = ("system", "assistant", "user", "function", "tool", "developer")
_USER_PARTS = ("text", "image_url", "input_audio", "file")
_ASSISTANT_PARTS = ("text", "refusal")
_RESPONSE_FORMATS = ("json_object", "json_schema", "text")
_TOOL_CHOICES = ("none", "auto", "required")

NOT_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
    "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
    "sent was not valid JSON. If you have trouble figuring out how to fix this, please contact "
    "us through our help center at help.openai.com.)"
)


def bad(message: str, param: str | None = None, code: str | None = None) -> BadRequestError:
    """A 400 `BadRequestError` whose body is OpenAI's error JSON."""
    body = {
        "error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    }
    return BadRequestError(message, status_code=400, provider=PROVIDER, body=body)


def _listing(values: tuple[str, ...]) -> str:
    quoted = [f"'{v}'" for v in values]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def missing(param: str) -> BadRequestError:
    return bad(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")


def wrong_type(param: str, expected: str, value: Any) -> BadRequestError:
    return bad(
        f"Invalid type for '{param}': expected {expected}, but got {type_phrase(value)} instead.",
        param,
        "invalid_type",
    )


def wrong_value(param: str, value: Any, supported: tuple[str, ...]) -> BadRequestError:
    return bad(
        f"Invalid value: '{value}'. Supported values are: {_listing(supported)}.",
        param,
        "invalid_value",
    )


def empty_array(param: str) -> BadRequestError:
    return bad(
        f"Invalid '{param}': empty array. Expected an array with minimum length 1, but got an "
        "empty array instead.",
        param,
        "empty_array",
    )


def _number(body: dict[str, Any], key: str, low: float, high: float | None, integer: bool) -> None:
    if key not in body or body[key] is None:
        return
    value = body[key]
    kind = "integer" if integer else "decimal"
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok:
        raise wrong_type(key, f"an {kind}" if integer else f"a {kind}", value)
    if value < low:
        raise bad(
            f"Invalid '{key}': {kind} below minimum value. Expected a value >= {low:g}, but got "
            f"{value} instead.",
            key,
            f"{kind}_below_min_value",
        )
    if high is not None and value > high:
        raise bad(
            f"Invalid '{key}': {kind} above maximum value. Expected a value <= {high:g}, but got "
            f"{value} instead.",
            key,
            f"{kind}_above_max_value",
        )


def _boolean(body: dict[str, Any], key: str) -> None:
    if body.get(key) is not None and not isinstance(body[key], bool):
        raise wrong_type(key, "a boolean", body[key])


def check_params(body: dict[str, Any]) -> None:
    """Top-level fields: model, sampling numbers, stream flags, tools, formats."""
    model = body.get("model")
    if model is None or model == "":
        raise bad("you must provide a model parameter")
    if not isinstance(model, str):
        raise wrong_type("model", "a string", model)
    _number(body, "temperature", 0, 2, integer=False)
    _number(body, "top_p", 0, 1, integer=False)
    _number(body, "frequency_penalty", -2, 2, integer=False)
    _number(body, "presence_penalty", -2, 2, integer=False)
    _number(body, "max_tokens", 1, None, integer=True)
    _number(body, "max_completion_tokens", 1, None, integer=True)
    _number(body, "n", 1, 128, integer=True)
    _number(body, "top_logprobs", 0, 20, integer=True)
    if body.get("seed") is not None and (
        isinstance(body["seed"], bool) or not isinstance(body["seed"], int)
    ):
        raise wrong_type("seed", "an integer", body["seed"])
    for key in ("stream", "logprobs", "parallel_tool_calls"):
        _boolean(body, key)
    stop = body.get("stop")
    if stop is not None and not (
        isinstance(stop, str) or (isinstance(stop, list) and all(isinstance(s, str) for s in stop))
    ):
        raise wrong_type("stop", "one of a string or array of strings", stop)
    if body.get("stream_options") is not None:
        if not isinstance(body["stream_options"], dict):
            raise wrong_type("stream_options", "an object", body["stream_options"])
        if not body.get("stream"):
            raise bad(
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                "stream_options",
            )
    if body.get("reasoning_effort") is not None and not isinstance(body["reasoning_effort"], str):
        raise wrong_type("reasoning_effort", "a string", body["reasoning_effort"])
    _check_tools(body)
    _check_response_format(body.get("response_format"))


def _check_tools(body: dict[str, Any]) -> None:
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise wrong_type("tools", "an array", tools)
        if not tools:
            raise empty_array("tools")
        for k, tool in enumerate(tools):
            where = f"tools[{k}]"
            if not isinstance(tool, dict):
                raise wrong_type(where, "an object", tool)
            if tool.get("type") is None:
                raise missing(f"{where}.type")
            if tool["type"] == "function":
                fn = tool.get("function")
                if fn is None:
                    raise missing(f"{where}.function")
                if not isinstance(fn, dict):
                    raise wrong_type(f"{where}.function", "an object", fn)
                if fn.get("name") is None:
                    raise missing(f"{where}.function.name")
                if not isinstance(fn["name"], str):
                    raise wrong_type(f"{where}.function.name", "a string", fn["name"])
    for key in ("tool_choice", "parallel_tool_calls"):
        if body.get(key) is not None and not tools:
            raise bad(
                f"Invalid value for '{key}': '{key}' is only allowed when 'tools' are specified.",
                key,
            )
    choice = body.get("tool_choice")
    if isinstance(choice, str) and choice not in _TOOL_CHOICES:
        raise wrong_value("tool_choice", choice, _TOOL_CHOICES)
    if isinstance(choice, dict) and choice.get("type") == "function":
        fn = choice.get("function")
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise missing("tool_choice.function.name")
    if choice is not None and not isinstance(choice, (str, dict)):
        raise wrong_type("tool_choice", "one of a string or object", choice)


def _check_response_format(value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        raise wrong_type("response_format", "an object", value)
    kind = value.get("type")
    if kind is None:
        raise missing("response_format.type")
    if kind not in _RESPONSE_FORMATS:
        raise wrong_value("response_format.type", kind, _RESPONSE_FORMATS)
    if kind == "json_schema":
        schema = value.get("json_schema")
        if schema is None:
            raise missing("response_format.json_schema")
        if not isinstance(schema, dict):
            raise wrong_type("response_format.json_schema", "an object", schema)
        if schema.get("name") is None:
            raise missing("response_format.json_schema.name")


def _check_parts(content: list[Any], where: str, allowed: tuple[str, ...]) -> None:
    for j, part in enumerate(content):
        here = f"{where}[{j}]"
        if not isinstance(part, dict):
            raise wrong_type(here, "an object", part)
        kind = part.get("type")
        if kind is None:
            raise missing(f"{here}.type")
        if kind not in allowed:
            raise wrong_value(f"{here}.type", kind, allowed)
        required = {
            "text": ("text",),
            "refusal": ("refusal",),
            "image_url": ("image_url",),
            "input_audio": ("input_audio",),
            "file": ("file",),
        }[kind]
        for key in required:
            if part.get(key) is None:
                raise missing(f"{here}.{key}")
        if kind == "text" and not isinstance(part["text"], str):
            raise wrong_type(f"{here}.text", "a string", part["text"])
        if kind == "image_url":
            image = part["image_url"]
            if not isinstance(image, dict):
                raise wrong_type(f"{here}.image_url", "an object", image)
            if not isinstance(image.get("url"), str):
                raise missing(f"{here}.image_url.url")
        if kind == "input_audio":
            audio = part["input_audio"]
            if not isinstance(audio, dict):
                raise wrong_type(f"{here}.input_audio", "an object", audio)
            for key in ("data", "format"):
                if not isinstance(audio.get(key), str):
                    raise missing(f"{here}.input_audio.{key}")
        if kind == "file" and not isinstance(part["file"], dict):
            raise wrong_type(f"{here}.file", "an object", part["file"])


def _check_content(message: dict[str, Any], where: str, allowed: tuple[str, ...]) -> None:
    content = message["content"]
    if content is None or isinstance(content, str):
        return
    if not isinstance(content, list):
        raise wrong_type(f"{where}.content", "one of a string or array of objects", content)
    _check_parts(content, f"{where}.content", allowed)


def _check_tool_calls(calls: Any, where: str) -> list[str]:
    if not isinstance(calls, list):
        raise wrong_type(f"{where}.tool_calls", "an array", calls)
    ids = []
    for k, call in enumerate(calls):
        here = f"{where}.tool_calls[{k}]"
        if not isinstance(call, dict):
            raise wrong_type(here, "an object", call)
        for key in ("id", "type"):
            if call.get(key) is None:
                raise missing(f"{here}.{key}")
        if call["type"] == "function":
            fn = call.get("function")
            if fn is None:
                raise missing(f"{here}.function")
            if not isinstance(fn, dict):
                raise wrong_type(f"{here}.function", "an object", fn)
            for key in ("name", "arguments"):
                if fn.get(key) is None:
                    raise missing(f"{here}.function.{key}")
                if not isinstance(fn[key], str):
                    raise wrong_type(f"{here}.function.{key}", "a string", fn[key])
        ids.append(str(call["id"]))
    return ids


def check_messages(messages: Any) -> None:
    """Each message's shape, then the tool-call / tool-result pairing OpenAI enforces."""
    if messages is None:
        raise missing("messages")
    if not isinstance(messages, list):
        raise wrong_type("messages", "an array", messages)
    if not messages:
        raise empty_array("messages")
    pending: list[str] = []
    pending_at = -1
    answered: set[str] = set()
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise wrong_type(where, "an object", message)
        role = message.get("role")
        if role is None:
            raise missing(f"{where}.role")
        if not isinstance(role, str) or role not in ROLES:
            raise wrong_value(f"{where}.role", role, ROLES)
        if role != "tool" and pending:
            raise _unanswered(pending, pending_at)
        if role in ("system", "developer", "user"):
            if "content" not in message:
                raise missing(f"{where}.content")
            if message["content"] is None:
                raise wrong_type(f"{where}.content", "one of a string or array of objects", None)
            _check_content(message, where, ("text",) if role != "user" else _USER_PARTS)
        elif role == "assistant":
            if message.get("content") is not None:
                _check_content(message, where, _ASSISTANT_PARTS)
            calls = message.get("tool_calls")
            ids = _check_tool_calls(calls, where) if calls is not None else []
            has_other = any(
                message.get(k) is not None for k in ("function_call", "audio", "refusal")
            )
            if message.get("content") is None and not ids and not has_other:
                raise bad(
                    "Invalid value for 'content': expected a string, got null.",
                    f"messages.[{i}].content",
                )
            pending, answered = list(ids), set()
            pending_at = i if ids else -1
        elif role == "tool":
            for key in ("tool_call_id", "content"):
                if message.get(key) is None:
                    raise missing(f"{where}.{key}")
            _check_content(message, where, ("text",))
            if pending_at < 0:
                raise bad(
                    "Invalid parameter: messages with role 'tool' must be a response to a "
                    "preceeding message with 'tool_calls'.",
                    f"messages.[{i}].role",
                )
            call_id = str(message["tool_call_id"])
            if call_id not in pending and call_id not in answered:
                raise bad(
                    f"Invalid parameter: 'tool_call_id' of '{call_id}' not found in 'tool_calls' "
                    "of previous message.",
                    f"messages.[{i}].tool_call_id",
                )
            if call_id in pending:
                pending.remove(call_id)
                answered.add(call_id)
        elif role == "function" and message.get("name") is None:
            raise missing(f"{where}.name")
        if role not in ("assistant", "tool"):
            pending_at = -1
    if pending:
        raise _unanswered(pending, pending_at)


def _unanswered(pending: list[str], at: int) -> BadRequestError:
    return bad(
        "An assistant message with 'tool_calls' must be followed by tool messages responding "
        "to each 'tool_call_id'. The following tool_call_ids did not have response messages: "
        + ", ".join(pending),
        f"messages.[{at}].role",
    )
