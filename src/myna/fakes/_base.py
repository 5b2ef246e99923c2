"""What every fake model shares: usage estimates, realistic streaming, tool checks, call log."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, ClassVar

from ..exceptions import InvalidToolCallError, UserError
from ..messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    Chunking,
    merge_chunks,
    split_message,
    split_text,
)
from ..models import ChatModel, ChatRequest
from ._script import FakeCall, Fault

__all__ = ["estimate_tokens", "estimate_usage"]

CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD = 3


def estimate_tokens(text: str) -> int:
    """A deterministic token estimate: one token per 4 characters, rounded up."""
    return -(-len(text) // CHARS_PER_TOKEN) if text else 0  # ceil, in integers


def _content_chars(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict):
            for key in ("text", "reasoning"):
                if isinstance(block.get(key), str):
                    parts.append(block[key])
    return "".join(parts)


def estimate_usage(
    messages: list[BaseMessage], reply: AIMessage, tools: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The usage fakes report, the same for invoke and stream.

    input: for each message, its text tokens plus 3 for the message envelope, plus the tool
    call arguments it carries; plus the bound tools' JSON. output: the reply's text and
    reasoning tokens plus its tool calls' name and JSON arguments. Reasoning tokens also show
    as ``output_token_details.reasoning``. Tokens are estimated with `estimate_tokens`.
    """
    input_tokens = 0
    for message in messages:
        input_tokens += MESSAGE_OVERHEAD + estimate_tokens(_content_chars(message.content))
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                input_tokens += estimate_tokens(call["name"] + json.dumps(call["args"]))
    if tools:
        input_tokens += estimate_tokens(json.dumps(tools, sort_keys=True))
    reasoning = 0
    output = 0
    if isinstance(reply.content, str):
        output += estimate_tokens(reply.content)
    else:
        for block in reply.content:
            if isinstance(block, str):
                output += estimate_tokens(block)
            elif block.get("type") == "reasoning":
                reasoning += estimate_tokens(block.get("reasoning") or "")
            elif isinstance(block.get("text"), str):
                output += estimate_tokens(block["text"])
    for call in reply.tool_calls:
        output += estimate_tokens(call["name"] + json.dumps(call["args"]))
    usage: dict[str, Any] = {
        "input_tokens": input_tokens,
        "output_tokens": output + reasoning,
        "total_tokens": input_tokens + output + reasoning,
    }
    if reasoning:
        usage["output_token_details"] = {"reasoning": reasoning}
    return usage


UsageOption = bool | Callable[[list[BaseMessage], AIMessage], dict[str, Any]]


def _current_example() -> Any:
    """The hypothesis example running now, or None.

    Read from hypothesis's build context only when hypothesis is loaded already, and
    without raising outside a test: a fake call pays one dict lookup for it.
    """
    control = sys.modules.get("hypothesis.control")
    if control is None:
        return None
    try:
        return control._current_build_context.value
    except AttributeError:  # a hypothesis that keeps it elsewhere: no per-example reset
        return None


class FakeBase(ChatModel):
    """Shared machinery of the fakes; not used directly."""

    provider: ClassVar[str] = "fake"
    blocking_io: ClassVar[bool] = False
    overridable: ClassVar[bool] = False  # a fake built before override_models still answers
    default_profile: ClassVar[dict[str, Any]] = {
        "tool_calling": True,
        "tool_choice": True,
        "tool_call_streaming": True,
        "structured_output": True,
        "text_inputs": True,
        "image_inputs": True,
        "audio_inputs": True,
        "video_inputs": True,
        "pdf_inputs": True,
        "reasoning_output": True,
        "max_input_tokens": 1_000_000,
        "max_output_tokens": 100_000,
    }
    extra_params = frozenset(
        {"chunking", "chunk_delay", "usage", "validate_tool_calls", "real_sleep"}
    )

    def __init__(self, **kwargs: Any) -> None:
        chunking: Chunking = kwargs.pop("chunking", "words")
        split_text("x", chunking)  # validates the policy now, not at the first stream
        self.chunking = chunking
        delay = kwargs.pop("chunk_delay", 0.0)
        if not isinstance(delay, (int, float)) or delay < 0:
            raise UserError(f"chunk_delay={delay!r} must be a number of seconds >= 0.")
        self.chunk_delay = float(delay)
        self.usage: UsageOption = kwargs.pop("usage", True)
        self.validate_tool_calls: bool = kwargs.pop("validate_tool_calls", True)
        self.real_sleep: bool = kwargs.pop("real_sleep", False)
        kwargs.setdefault("model", self.default_model)
        super().__init__(**kwargs)
        self.calls: list[FakeCall] = []
        """Every call received, in order: messages, tools, tool_choice, schema, params, config."""
        self.waits: list[float] = []
        """Retry back-off waits, in seconds. Fakes skip them unless ``real_sleep=True``."""
        self._lock = threading.Lock()
        self._example: Any = _current_example()
        if not self.real_sleep:
            self._sleep = self.waits.append
            self._async_sleep = self._record_async_wait

    default_model: ClassVar[str] = "fake"

    async def _record_async_wait(self, seconds: float) -> None:
        self.waits.append(seconds)

    def _runs_inline(self) -> bool:
        return self.chunk_delay == 0

    # -- per call ----------------------------------------------------------------------------

    def _new_example(self) -> None:
        """A hypothesis example other than the last one called this fake: start afresh."""
        self.calls.clear()
        self.waits.clear()

    def _record(self, request: ChatRequest, streamed: bool) -> FakeCall:
        example = _current_example()
        if example is not self._example and example is not None:
            # a fake shared by the examples of one @given test (the fake_model fixture, a
            # module-level fake) answers each example as if new: script, calls and waits
            with self._lock:
                if self._example is not None and example is not self._example:
                    self._new_example()
                self._example = example
        # the request's messages list and params dict are built fresh for each call, so the
        # log can keep them without copying
        params = request.params
        config = request.config
        call = FakeCall(  # positional, in field order: this runs on every call
            request.messages,
            params.get("tools") or [],
            params.get("tool_choice"),
            request.schema,
            params,
            dict(config) if config else {},
            None,
            None,
            streamed,
        )
        with self._lock:
            self.calls.append(call)
        return call

    @staticmethod
    def structured_info(request: ChatRequest) -> dict[str, Any] | None:
        """What with_structured_output asked for: method, name and schema, or None."""
        method = request.hints.get("structured_method")
        if method is None:
            return None
        name = None
        if method == "function_calling":
            name = request.params.get("tool_choice")
        fmt = request.params.get("response_format") or {}
        return {
            "method": method,
            "name": name or fmt.get("name"),
            "schema": request.hints.get("structured_schema"),
        }

    def _check_tool_calls(self, message: AIMessage, request: ChatRequest, where: str) -> None:
        if not self.validate_tool_calls or not message.tool_calls:
            return
        specs = {t["name"]: t for t in request.tools if "name" in t and "parameters" in t}
        structured = self.structured_info(request)
        # with_structured_output validates its own tool's arguments and reports a mismatch as
        # OutputParserError (or parsing_error with include_raw), as for a real model's output
        skip = (
            structured["name"]
            if structured and structured["method"] == "function_calling"
            else None
        )
        for call in message.tool_calls:
            if call["name"] == skip and skip in specs:
                continue
            spec = specs.get(call["name"])
            if spec is None:
                import difflib

                bound = sorted(specs)
                if not bound:
                    raise InvalidToolCallError(
                        f"myna: {where} calls tool {call['name']!r}, but no tools are bound. "
                        "Bind them with model.bind_tools([...]) or pass validate_tool_calls=False."
                    )
                close = difflib.get_close_matches(call["name"], bound, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise InvalidToolCallError(
                    f"myna: {where} calls tool {call['name']!r}, which is not bound.{hint} "
                    f"Bound tools: {bound}. {_RELAX}"
                )
            _validate_args(call["name"], call["args"], spec["parameters"], where)

    def _complete(self, message: AIMessage, request: ChatRequest, index: int) -> AIMessage:
        # writes go straight to __dict__: these messages are ours and already valid, and
        # pydantic's __setattr__ is a measurable share of a fake call
        fields = message.__dict__
        if fields["id"] is None:
            fields["id"] = f"fake-msg-{index}"
        meta = fields["response_metadata"]
        if "model_name" not in meta:
            meta["model_name"] = request.model or self.model
        if "model_provider" not in meta:
            meta["model_provider"] = self.provider
        if "finish_reason" not in meta:
            meta["finish_reason"] = "tool_calls" if fields["tool_calls"] else "stop"
        if fields["usage_metadata"] is None and self.usage:
            if callable(self.usage):
                fields["usage_metadata"] = self.usage(request.messages, message)
            else:
                fields["usage_metadata"] = estimate_usage(request.messages, message, request.tools)
        return message

    # -- to be provided by each fake ----------------------------------------------------------

    def _reply(self, request: ChatRequest, call: FakeCall) -> tuple[AIMessage, Fault | None]:
        """The reply for this call, and a stream fault to strike in the middle of it."""
        raise NotImplementedError

    async def _areply(self, request: ChatRequest, call: FakeCall) -> tuple[AIMessage, Fault | None]:
        return self._reply(request, call)

    # -- ChatModel contract ------------------------------------------------------------------

    def answer(
        self, request: ChatRequest, *, streamed: bool = False
    ) -> tuple[AIMessage, Fault | None]:
        """Answer one request from the script: the script engine behind every call.

        Logs the call in `calls`, picks the reply (or raises the scripted error) and returns
        it with the `Fault` that should cut a stream short, if any. `invoke` and `stream` run
        on it, and so do the emulators, which render the reply in a provider's wire format.

        ```python
        from myna.fakes import FakeChatModel
        from myna.messages import HumanMessage
        from myna.models import ChatRequest

        fake = FakeChatModel(["Hello!"])
        message, cut = fake.answer(ChatRequest([HumanMessage("Hi")], {}))
        assert message.text == "Hello!" and cut is None and fake.calls[0].reply is message
        ```
        """
        _, message, cut = self._answer(request, streamed)
        return message, cut

    async def aanswer(
        self, request: ChatRequest, *, streamed: bool = False
    ) -> tuple[AIMessage, Fault | None]:
        """Async `answer` (a `FunctionChatModel` awaits an async function here)."""
        _, message, cut = await self._aanswer(request, streamed)
        return message, cut

    def _answer(self, request: ChatRequest, streamed: bool) -> tuple[FakeCall, AIMessage, Any]:
        call = self._record(request, streamed)
        try:
            message, cut = self._reply(request, call)
        except BaseException as exc:
            call.error = exc
            raise
        call.reply = message
        return call, message, cut

    async def _aanswer(
        self, request: ChatRequest, streamed: bool
    ) -> tuple[FakeCall, AIMessage, Any]:
        call = self._record(request, streamed)
        try:
            message, cut = await self._areply(request, call)
        except BaseException as exc:
            call.error = exc
            raise
        call.reply = message
        return call, message, cut

    def _generate(self, request: ChatRequest) -> AIMessage:
        return self._answer(request, False)[1]

    async def _agenerate(self, request: ChatRequest) -> AIMessage:
        return (await self._aanswer(request, False))[1]

    def _chunks(self, message: AIMessage) -> list[AIMessageChunk]:
        return split_message(message, self.chunking)

    def _stream(self, request: ChatRequest) -> Iterator[AIMessageChunk]:
        call, message, cut = self._answer(request, True)
        sent: list[AIMessageChunk] = []
        for chunk in self._chunks(message):
            if cut is not None and len(sent) >= cut.after_chunks:
                break
            if self.chunk_delay:
                time.sleep(self.chunk_delay)
            sent.append(chunk)
            yield chunk
        if cut is not None:
            partial = merge_chunks(sent) if sent else None
            call.error = cut.error(partial)
            raise call.error

    async def _astream(self, request: ChatRequest) -> AsyncIterator[AIMessageChunk]:
        call, message, cut = await self._aanswer(request, True)
        sent: list[AIMessageChunk] = []
        for chunk in self._chunks(message):
            if cut is not None and len(sent) >= cut.after_chunks:
                break
            if self.chunk_delay:
                await asyncio.sleep(self.chunk_delay)
            sent.append(chunk)
            yield chunk
        if cut is not None:
            partial = merge_chunks(sent) if sent else None
            call.error = cut.error(partial)
            raise call.error


def _validate_args(name: str, args: dict[str, Any], schema: dict[str, Any], where: str) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(args), key=lambda e: list(e.absolute_path))
    if errors:
        lines = []
        for error in errors[:5]:
            path = ".".join(str(p) for p in error.absolute_path) or "(arguments)"
            lines.append(f"{path}: {error.message}")
        raise InvalidToolCallError(
            f"myna: {where} calls tool {name!r} with arguments that do not match its schema: "
            + "; ".join(lines)
            + f". {_RELAX}"
        )


_RELAX = "Fix the call, or pass validate_tool_calls=False to skip this check."
