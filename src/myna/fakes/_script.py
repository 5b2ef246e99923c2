"""Script entries for fake models: replies, tool calls, faults, and loading scripts from YAML."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._yaml_limits import alias_problem
from ..exceptions import (
    ConnectionError,
    ContextLengthError,
    OverloadedError,
    RateLimitError,
    ServerError,
    TimeoutError,
    UserError,
    error_for_status,
)
from ..messages import AIMessage
from ..messages import construct_message as _fast_new

__all__ = ["Fault", "ScriptedToolCall", "fault", "load_script", "tool_call"]


@dataclass(frozen=True)
class ScriptedToolCall:
    """A tool call in a fake's script; build it with `tool_call("name", **args)`."""

    name: str
    args: dict[str, Any]
    id: str | None = None


def tool_call(name: str, /, *, id: str | None = None, **args: Any) -> ScriptedToolCall:
    """A scripted tool call: ``tool_call("get_weather", city="Paris")``.

    The id defaults to a deterministic ``call_<reply>_<position>``. Put several in a list to
    script parallel tool calls, optionally after a string for text before the calls.
    """
    if not isinstance(name, str) or not name:
        raise UserError(f"tool_call() needs the tool name first, got {name!r}.")
    return ScriptedToolCall(name=name, args=args, id=id)


@dataclass(frozen=True)
class Fault:
    """A scripted failure. In a stream, `after_chunks` chunks arrive before it strikes.

    `type` and `code` are the provider's own words for a provider error (`ProviderError.type`
    and `.code`). A fake raises them as given; an emulator sends them in the provider's
    error body, and fills in the provider's usual ones when they are not given.
    """

    kind: str
    retry_after: float | None = None
    after_chunks: int = 0
    message: str = ""
    status: int | None = None
    type: str | None = None
    code: str | None = None

    def error(self, partial: Any = None) -> BaseException:
        """The exception this fault raises."""
        from ..exceptions import StreamInterruptedError

        text = self.message or _DEFAULT_MESSAGES[self.kind]
        words = {"provider": "fake", "type": self.type, "code": self.code}
        if self.kind == "rate_limit":
            return RateLimitError(text, status_code=429, retry_after=self.retry_after, **words)
        if self.kind == "overloaded":
            return OverloadedError(text, status_code=529, retry_after=self.retry_after, **words)
        if self.kind == "server_error":
            return ServerError(text, status_code=self.status or 500, **words)
        if self.kind == "context_length":
            return ContextLengthError(text, status_code=self.status or 400, **words)
        if self.kind == "error":
            return error_for_status(self.status or 400, text, retry_after=self.retry_after, **words)
        if self.kind == "timeout":
            return TimeoutError(text)
        if self.kind == "disconnect":
            if partial is not None:
                return StreamInterruptedError(text, partial=partial)
            return ConnectionError(text)
        if self.kind == "malformed":
            from ..exceptions import DecodeError

            return DecodeError(text)
        raise AssertionError(self.kind)


_DEFAULT_MESSAGES = {
    "rate_limit": "fake: rate limit reached (scripted)",
    "context_length": "fake: the prompt is longer than the context window (scripted)",
    "error": "fake: the provider rejected the request (scripted)",
    "overloaded": "fake: overloaded (scripted)",
    "server_error": "fake: internal server error (scripted)",
    "timeout": "fake: request timed out (scripted)",
    "disconnect": "fake: connection dropped (scripted)",
    "malformed": "fake: malformed response body (scripted)",
}


class _FaultFactory:
    """Build scripted faults.

    ``fault.rate_limit(retry_after=2)``, ``fault.disconnect(after_chunks=3)``, ...
    """

    def rate_limit(
        self,
        retry_after: float | None = None,
        *,
        message: str = "",
        type: str | None = None,
        code: str | None = None,
    ) -> Fault:
        """A 429 `RateLimitError` (retried by the model, honouring `retry_after`)."""
        return Fault("rate_limit", retry_after=retry_after, message=message, type=type, code=code)

    def overloaded(
        self,
        retry_after: float | None = None,
        *,
        message: str = "",
        type: str | None = None,
        code: str | None = None,
    ) -> Fault:
        """A 529 `OverloadedError` (retried)."""
        return Fault("overloaded", retry_after=retry_after, message=message, type=type, code=code)

    def server_error(
        self,
        status: int = 500,
        *,
        message: str = "",
        type: str | None = None,
        code: str | None = None,
    ) -> Fault:
        """A 5xx `ServerError` (retried)."""
        _check_status("server_error", status, 500, 599)
        return Fault("server_error", status=status, message=message, type=type, code=code)

    def context_length(
        self, *, message: str = "", type: str | None = None, code: str | None = None
    ) -> Fault:
        """A 400 `ContextLengthError`: the prompt does not fit the model's context window.

        An emulator answers as its provider does (OpenAI: type ``invalid_request_error``,
        code ``context_length_exceeded``); a fake carries the `type` and `code` you give, so
        ``fault.context_length(code="context_length_exceeded")`` tests an app that branches
        on ``error.code``.
        """
        return Fault("context_length", message=message, type=type, code=code)

    def error(
        self,
        status: int = 400,
        *,
        message: str = "",
        type: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> Fault:
        """Any provider error by HTTP status, with the provider's own `type` and `code`.

        The class follows the status as for a real answer (400 `BadRequestError`, 401
        `AuthenticationError`, 404 `NotFoundError`, 429 `RateLimitError`, 5xx `ServerError`):
        ``fault.error(400, type="invalid_request_error", code="tool_use_failed")``.
        """
        _check_status("error", status, 400, 599)
        return Fault(
            "error", status=status, message=message, type=type, code=code, retry_after=retry_after
        )

    def timeout(self, *, message: str = "") -> Fault:
        """A `TimeoutError` (retried)."""
        return Fault("timeout", message=message)

    def disconnect(self, after_chunks: int = 0, *, message: str = "") -> Fault:
        """The connection drops.

        Streaming with ``after_chunks > 0``: the NEXT scripted reply streams that many chunks,
        then `StreamInterruptedError` (not retried) carries the partial message. Otherwise
        (invoke, or no chunks sent) a `ConnectionError`, which is retried with the next reply.
        """
        if isinstance(after_chunks, bool) or not isinstance(after_chunks, int) or after_chunks < 0:
            raise UserError(f"after_chunks={after_chunks!r} must be an int >= 0.")
        return Fault("disconnect", after_chunks=after_chunks, message=message)

    def malformed(self, *, message: str = "") -> Fault:
        """A response that is not valid for the protocol: a fake raises `DecodeError`; an
        emulator answers 200 with a truncated JSON body (or a garbled stream event)."""
        return Fault("malformed", message=message)


fault = _FaultFactory()


def _check_status(name: str, status: Any, low: int, high: int) -> None:
    if isinstance(status, bool) or not isinstance(status, int) or not low <= status <= high:
        raise UserError(
            f"fault.{name}(status={status!r}): status must be an int from {low} to {high}."
        )


Reply = Any
"""A script entry: str, AIMessage, ScriptedToolCall, list, dict/pydantic object, Fault,
exception, or a callable of the request returning one of these."""


def copy_reply(entry: Reply) -> Reply:
    """A fresh copy, so replies handed out never share mutable state."""
    if isinstance(entry, AIMessage):
        return entry.model_copy(deep=True)
    if isinstance(entry, (list, dict)):
        return copy.deepcopy(entry)
    return entry


# -- YAML scripts ------------------------------------------------------------------------


def _entry_from_yaml(item: Any, where: str) -> Reply:
    if isinstance(item, str):
        return item
    if not isinstance(item, dict) or len(item) != 1:
        raise UserError(
            f"{where}: each script entry is a string or a one-key mapping, got {item!r}."
        )
    ((key, value),) = item.items()
    if key == "text":
        return str(value)
    if key == "tool_call":
        return _tool_from_yaml(value, where)
    if key == "tool_calls":
        if not isinstance(value, list):
            raise UserError(f"{where}: tool_calls takes a list of {{name: ..., args: ...}}.")
        return [_tool_from_yaml(v, where) for v in value]
    if key == "message":
        if not isinstance(value, dict):
            raise UserError(f"{where}: message takes a mapping of AIMessage fields.")
        try:
            return AIMessage(**value)
        except ValueError as exc:
            raise UserError(f"{where}: not a valid AIMessage: {exc}") from None
    if key == "json":
        return value
    if key == "fault":
        if isinstance(value, str):
            value = {"kind": value}
        if not isinstance(value, dict):
            raise UserError(f"{where}: fault takes a kind, e.g. {{kind: rate_limit}}.")
        value = dict(value)
        kind = value.pop("kind", None)
        maker = getattr(fault, kind, None) if kind in _DEFAULT_MESSAGES else None
        if maker is None:
            raise UserError(
                f"{where}: unknown fault {kind!r}; use rate_limit, overloaded, server_error, "
                "context_length, error, timeout, disconnect or malformed."
            )
        try:
            return maker(**value)
        except TypeError as exc:
            raise UserError(f"{where}: bad options for fault {kind!r}: {exc}") from None
    raise UserError(
        f"{where}: unknown entry kind {key!r}; use text, tool_call, tool_calls, message, json "
        "or fault."
    )


def _tool_from_yaml(value: Any, where: str) -> ScriptedToolCall:
    if not isinstance(value, dict) or "name" not in value:
        raise UserError(
            f"{where}: a tool_call needs a name and args, e.g. {{name: f, args: {{}}}}."
        )
    return ScriptedToolCall(
        name=value["name"], args=dict(value.get("args") or {}), id=value.get("id")
    )


def load_script(path: str | Path) -> list[Reply]:
    """Load a script from a YAML file (see ``fixtures/scripts/*.yaml``).

    ```yaml
    replies:
      - tool_call: {name: get_weather, args: {city: Paris}}
      - "It is sunny in Paris."
      - fault: {kind: rate_limit, retry_after: 1}
      - json: {city: Paris, temperature_c: 21}
    ```
    """
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        problem = alias_problem(text)
        if problem is not None:
            raise UserError(f"Script file {str(path)!r} is not loaded: {problem}.")
        data = yaml.safe_load(text)
    except FileNotFoundError:
        raise UserError(f"Script file {str(path)!r} does not exist.") from None
    except yaml.YAMLError as exc:
        raise UserError(f"Script file {str(path)!r} is not valid YAML: {exc}") from None
    items = data.get("replies") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise UserError(f"Script file {str(path)!r} must hold a list under 'replies:'.")
    return [_entry_from_yaml(item, f"{path.name} entry #{i + 1}") for i, item in enumerate(items)]


def reply_to_message(
    entry: Reply,
    *,
    call_index: int,
    structured: dict[str, Any] | None,
) -> AIMessage:
    """Turn a (non-fault, non-callable) script entry into an AIMessage."""
    if isinstance(entry, AIMessage):
        return entry
    if isinstance(entry, str):
        if structured and structured.get("method") == "function_calling":
            return _structured_message(_json_or_text(entry), structured, call_index)
        return _fast_new(AIMessage, {"content": entry})
    if isinstance(entry, ScriptedToolCall):
        entry = [entry]
    if isinstance(entry, list):
        text_parts: list[str] = []
        calls = []
        for i, item in enumerate(entry):
            if isinstance(item, str):
                text_parts.append(item)
            elif isinstance(item, ScriptedToolCall):
                calls.append(
                    {
                        "name": item.name,
                        "args": dict(item.args),
                        "id": item.id or f"call_{call_index}_{i}",
                        "type": "tool_call",
                    }
                )
            else:
                raise UserError(
                    f"A list reply holds text and tool_call(...) items, got {type(item).__name__}."
                )
        return AIMessage("".join(text_parts), tool_calls=calls)
    if hasattr(entry, "model_dump") or isinstance(entry, dict):
        value = entry.model_dump(mode="json") if hasattr(entry, "model_dump") else entry
        if structured:
            return _structured_message(value, structured, call_index)
        return AIMessage(json.dumps(value))
    raise UserError(
        f"Cannot use {type(entry).__name__} as a scripted reply. Use a string, an AIMessage, "
        "tool_call('name', **args), a list of tool calls, a dict (structured output), a fault "
        "(fault.rate_limit()), an exception, or a callable of the request."
    )


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _structured_message(value: Any, structured: dict[str, Any], call_index: int) -> AIMessage:
    if structured.get("method") == "function_calling":
        if not isinstance(value, dict):
            raise UserError(
                "with_structured_output(method='function_calling') needs an object reply; "
                f"the script gave {value!r}."
            )
        call = {"name": structured["name"], "args": value, "id": f"call_{call_index}_0"}
        return AIMessage("", tool_calls=[call])
    return AIMessage(json.dumps(value))


@dataclass(slots=True)
class FakeCall:
    """One call a fake model received (see `FakeChatModel.calls`)."""

    messages: list[Any]
    tools: list[dict[str, Any]]
    tool_choice: Any
    schema: dict[str, Any] | None
    params: dict[str, Any]
    config: dict[str, Any]
    reply: AIMessage | None = None
    error: BaseException | None = None
    streamed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def last_message(self) -> Any:
        """The last message sent (usually the user's question or a tool result)."""
        return self.messages[-1] if self.messages else None


ReplyFn = Callable[..., Reply]
