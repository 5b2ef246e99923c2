"""`ChatModel`: the interface every model implements, and the call pipeline around it.

A subclass implements `_generate` (and, for native streaming, `_stream`; for native async,
`_agenerate` / `_astream`). The base class does the rest the same way for every model:
input coercion, parameter checks, callbacks, rate limiting, retries, ids, observers.
"""

from __future__ import annotations

import asyncio
import difflib
import inspect
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..exceptions import UserError
from ..messages import AIMessage, AIMessageChunk, BaseMessage, coerce_messages, merge_chunks
from ..messages import construct_message as _fast_new
from ._config import (
    _OVERRIDES,
    CallbackHandler,
    CallRecord,
    RunConfig,
    RunInfo,
    _observers,
    check_config,
    check_handlers,
)
from ._params import check_keywords, check_params
from ._rate_limiter import BaseRateLimiter
from ._retry import RetryPolicy, acall_with_retry, call_with_retry
from ._runnable import Runnable

__all__ = ["ChatModel", "ChatRequest"]

STANDARD_PARAMS = frozenset(
    {"model", "temperature", "max_tokens", "timeout", "max_retries", "stop", "api_key", "base_url"}
)
"""Constructor parameters every model accepts."""

HARNESS_PARAMS = frozenset({"rate_limiter", "callbacks", "tags", "metadata", "profile"})

REQUEST_PARAMS = frozenset(
    {
        "model",
        "temperature",
        "max_tokens",
        "stop",
        "top_p",
        "seed",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "reasoning_effort",
        "reasoning_budget",
        "include_reasoning",
        "logprobs",
        "top_logprobs",
        "cache_control",
        "extra_body",
        "stream_usage",
    }
)
"""Parameters that travel with each request (constructor defaults, overridable per call)."""

_sleep = time.sleep
_async_sleep = asyncio.sleep


@dataclass
class ChatRequest:
    """Everything one model call is asked to do.

    Attributes:
        messages: the conversation sent.
        params: neutral request parameters (see `myna.codecs._protocol` for the keys).
        config: the per-call config.
        tools: the bound tools as `ToolSpec` dicts (also in ``params["tools"]``).
        schema: the structured-output JSON schema, when bound by `with_structured_output`.
    """

    messages: list[BaseMessage]
    params: dict[str, Any]
    config: RunConfig = field(default_factory=dict)  # type: ignore[assignment]
    hints: dict[str, Any] = field(default_factory=dict)
    """Harness-only facts that are not sent to the provider (the structured-output schema)."""

    @property
    def tools(self) -> list[dict[str, Any]]:
        return self.params.get("tools") or []

    @property
    def tool_choice(self) -> Any:
        return self.params.get("tool_choice")

    @property
    def schema(self) -> dict[str, Any] | None:
        fmt = self.params.get("response_format")
        if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
            return fmt.get("schema")
        return self.hints.get("structured_schema")

    @property
    def model(self) -> str | None:
        return self.params.get("model")


def _did_you_mean(name: str, options: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, options, n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def _new_run_id() -> str:
    return f"run-{uuid.uuid4().hex}"


class _Run:
    """Callback dispatch and observer reporting for one call."""

    __slots__ = ("config", "handlers", "info", "model", "request", "streamed")

    def __init__(self, model: ChatModel, request: ChatRequest, streamed: bool) -> None:
        self.model = model
        self.request = request
        self.config = request.config
        self.streamed = streamed
        handlers = list(model.callbacks or ())
        handlers.extend(self.config.get("callbacks") or ())
        self.handlers = handlers
        self.info: RunInfo | None = None
        if handlers:
            run_id = self.config.get("run_id")
            self.info = RunInfo(
                run_id=str(run_id) if run_id is not None else _new_run_id(),
                run_name=self.config.get("run_name") or type(model).__name__,
                provider=model.provider,
                model=request.model,
                tags=[*(model.tags or ()), *self.config.get("tags", ())],
                metadata={**(model.metadata or {}), **self.config.get("metadata", {})},
            )

    def _fire_sync(self, method: str, *args: Any) -> None:
        for handler in self.handlers:
            # duck-typed handlers may leave methods out: those events are skipped
            fire = getattr(handler, method, None)
            if fire is None:
                continue
            result = fire(self.info, *args)
            if inspect.isawaitable(result):
                if hasattr(result, "close"):
                    result.close()
                raise UserError(
                    f"Callback {type(handler).__name__}.{method} is async; sync calls cannot "
                    "await it. Use ainvoke/astream, or make the method a plain def."
                )

    async def _fire_async(self, method: str, *args: Any) -> None:
        for handler in self.handlers:
            fire = getattr(handler, method, None)
            if fire is None:
                continue
            result = fire(self.info, *args)
            if inspect.isawaitable(result):
                await result

    def start(self) -> None:
        if self.handlers:
            self._fire_sync("on_start", self.request.messages, self.request.params)

    async def astart(self) -> None:
        if self.handlers:
            await self._fire_async("on_start", self.request.messages, self.request.params)

    def token(self, chunk: AIMessageChunk) -> None:
        self._fire_sync("on_token", chunk)

    async def atoken(self, chunk: AIMessageChunk) -> None:
        await self._fire_async("on_token", chunk)

    def _observe(self, output: AIMessage | None, error: BaseException | None) -> None:
        if not _observers:
            return
        params = self.request.params
        record = CallRecord(
            provider=self.model.provider,
            model=params.get("model"),
            messages=self.request.messages,
            params=params,
            tools=list(params.get("tools") or []),
            schema=self.request.schema,
            config=dict(self.config),
            output=output,
            error=error,
            streamed=self.streamed,
        )
        for observer in list(_observers):
            observer(record)

    def end(self, message: AIMessage) -> None:
        if self.handlers:
            self._fire_sync("on_end", message)
        self._observe(message, None)

    async def aend(self, message: AIMessage) -> None:
        if self.handlers:
            await self._fire_async("on_end", message)
        self._observe(message, None)

    def error(self, error: BaseException) -> None:
        if self.handlers:
            self._fire_sync("on_error", error)
        self._observe(None, error)

    async def aerror(self, error: BaseException) -> None:
        if self.handlers:
            await self._fire_async("on_error", error)
        self._observe(None, error)


class ChatModel(Runnable):
    """Base class of every chat model: providers, fakes and third-party models.

    ```python
    model = init_chat_model("fake:scripted", script=["Hello!"])
    reply = model.invoke("Hi")             # AIMessage
    for chunk in model.stream("Hi"): ...   # always AIMessageChunk, even without native streaming
    replies = model.batch(["a", "b"], config={"max_concurrency": 2})
    ```

    Args:
        model: model name sent to the provider.
        temperature, max_tokens, stop: sampling defaults, overridable per call.
        timeout: seconds per request (providers).
        max_retries: retries of retryable errors (rate limit, overloaded, 5xx, timeout,
            connection) with exponential backoff and jitter, honouring ``Retry-After``.
        api_key, base_url: provider credentials and endpoint.
        rate_limiter: a `BaseRateLimiter` shared by every call of this model.
        callbacks, tags, metadata: defaults merged into every call's config.
        profile: capability overrides merged into `profile`.

    An unknown keyword is an error that names the closest accepted one.
    """

    provider: ClassVar[str] = "custom"
    """Registry name of the provider, e.g. ``"openai"``; shown in errors and metadata."""
    extra_params: ClassVar[frozenset[str]] = frozenset()
    """Provider-specific constructor / call parameters a subclass accepts."""
    default_profile: ClassVar[dict[str, Any]] = {}
    blocking_io: ClassVar[bool] = True
    """False for models that never wait (fakes): `batch` then runs them inline, not in threads."""
    overridable: ClassVar[bool] = True
    """While `myna.testing.override_models` is active, calls of this model go to the override,
    even when the model was built before it (``LLM = init_chat_model(...)`` at import time).
    False for fakes, which never reach a provider."""
    _origin: tuple[str | None, str | None, dict[str, Any]] | None = None
    """``(model, model_provider, params)`` when `init_chat_model` built this model."""

    def _runs_inline(self) -> bool:
        return not self.blocking_io

    def __init__(self, **kwargs: Any) -> None:
        accepted = STANDARD_PARAMS | HARNESS_PARAMS | REQUEST_PARAMS | self.extra_params
        unknown = [k for k in kwargs if k not in accepted]
        if unknown:
            name = unknown[0]
            raise UserError(
                f"{type(self).__name__} got an unknown parameter {name}=."
                f"{_did_you_mean(name, sorted(accepted))} "
                f"Accepted: {', '.join(sorted(accepted))}."
            )
        check_params(type(self).__name__, kwargs)
        self.model: str | None = kwargs.pop("model", None)
        self.timeout: float | None = kwargs.pop("timeout", None)
        max_retries = kwargs.pop("max_retries", 2)
        self.max_retries: int = 2 if max_retries is None else max_retries
        self.api_key: str | None = kwargs.pop("api_key", None)
        self.base_url: str | None = kwargs.pop("base_url", None)
        limiter = kwargs.pop("rate_limiter", None)
        if limiter is not None and not isinstance(limiter, BaseRateLimiter):
            raise UserError(
                f"rate_limiter must be a BaseRateLimiter such as "
                f"InMemoryRateLimiter(requests_per_second=2), got {type(limiter).__name__}."
            )
        self.rate_limiter: BaseRateLimiter | None = limiter
        self.callbacks: list[CallbackHandler] = check_handlers(
            "callbacks=", kwargs.pop("callbacks", None)
        )
        self.tags: list[str] = list(kwargs.pop("tags", None) or ())
        self.metadata: dict[str, Any] = dict(kwargs.pop("metadata", None) or {})
        self._profile_overrides: dict[str, Any] = dict(kwargs.pop("profile", None) or {})
        stop = kwargs.get("stop")
        if isinstance(stop, str):
            kwargs["stop"] = [stop]
        self.defaults: dict[str, Any] = {
            k: v for k, v in kwargs.items() if k in REQUEST_PARAMS and v is not None
        }
        self.options: dict[str, Any] = {k: v for k, v in kwargs.items() if k not in REQUEST_PARAMS}
        self._retry_policy = RetryPolicy(max_retries=self.max_retries)

    # -- description ---------------------------------------------------------------------

    @property
    def model_name(self) -> str | None:
        """Alias of `model`."""
        return self.model

    @property
    def temperature(self) -> float | None:
        return self.defaults.get("temperature")

    @property
    def max_tokens(self) -> int | None:
        return self.defaults.get("max_tokens")

    @property
    def stop(self) -> list[str] | None:
        return self.defaults.get("stop")

    @property
    def profile(self) -> dict[str, Any]:
        """Capabilities: tool_calling, structured_output, image_inputs, reasoning_output, ..."""
        return {**self.default_profile, **self._profile_overrides}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r})"

    # -- the subclass contract -----------------------------------------------------------

    def _generate(self, request: ChatRequest) -> AIMessage:
        raise NotImplementedError(f"{type(self).__name__} must implement _generate(request).")

    async def _agenerate(self, request: ChatRequest) -> AIMessage:
        return await asyncio.to_thread(self._generate, request)

    def _stream(self, request: ChatRequest) -> Iterator[AIMessageChunk]:
        # no native streaming: the whole reply as one chunk
        message = self._generate(request)
        yield _as_last_chunk(message)

    async def _astream(self, request: ChatRequest) -> AsyncIterator[AIMessageChunk]:
        if type(self)._stream is not ChatModel._stream:
            iterator = self._stream(request)
            sentinel = object()
            while True:
                chunk = await asyncio.to_thread(next, iterator, sentinel)
                if chunk is sentinel:
                    return
                yield chunk  # type: ignore[misc]
        else:
            message = await self._agenerate(request)
            yield _as_last_chunk(message)

    # -- building requests ---------------------------------------------------------------

    def _request(self, input: Any, config: RunConfig | None, kwargs: dict[str, Any]) -> ChatRequest:
        config = check_config(config)
        messages = coerce_messages(input)
        params = dict(self.defaults)
        if self.model is not None:
            params["model"] = self.model
        hints: dict[str, Any] = {}
        if kwargs:
            accepted = REQUEST_PARAMS | self.extra_params
            checked = False
            for key, value in kwargs.items():
                if key.startswith("_"):
                    hints[key[1:]] = value
                    continue
                if key not in accepted:
                    raise UserError(
                        f"{type(self).__name__}.invoke got an unknown parameter {key}=."
                        f"{_did_you_mean(key, sorted(accepted))} Per-call parameters: "
                        f"{', '.join(sorted(accepted))}."
                    )
                if not checked:
                    check_params(f"{type(self).__name__}.invoke", kwargs)
                    checked = True
                if key == "stop" and isinstance(value, str):
                    value = [value]
                if value is not None:
                    params[key] = value
        return ChatRequest(messages=messages, params=params, config=config, hints=hints)

    def _finish(self, message: AIMessage, request: ChatRequest, run_id: str | None) -> AIMessage:
        if not isinstance(message, AIMessage):
            raise TypeError(
                f"{type(self).__name__}._generate returned {type(message).__name__}; "
                "it must return an AIMessage."
            )
        if message.id is None:
            message.id = run_id or _new_run_id()
        meta = message.response_metadata
        if "model_provider" not in meta:
            meta["model_provider"] = self.provider
        if "model_name" not in meta and request.model is not None:
            meta["model_name"] = request.model
        return message

    def _stamp(
        self, chunk: AIMessageChunk, request: ChatRequest, run_id: str, seen: set[str]
    ) -> None:
        """Give a streamed chunk the run id, and the last one the metadata `_finish` adds."""
        if chunk.id is None:
            chunk.id = run_id
        meta = chunk.response_metadata
        if meta:
            seen.update(meta)
        if chunk.chunk_position == "last":
            missing = {"model_provider": self.provider}
            if request.model is not None:
                missing["model_name"] = request.model
            missing = {k: v for k, v in missing.items() if k not in seen}
            if missing:
                chunk.response_metadata = {**meta, **missing}

    def _sleeper(self) -> Any:
        # an instance may set _sleep (fakes record waits instead of sleeping)
        return self.__dict__.get("_sleep") or _sleep

    def _async_sleeper(self) -> Any:
        return self.__dict__.get("_async_sleep") or _async_sleep

    def _acquire(self) -> None:
        if self.rate_limiter is not None:
            self.rate_limiter.acquire(blocking=True)

    async def _aacquire(self) -> None:
        if self.rate_limiter is not None:
            await self.rate_limiter.aacquire(blocking=True)

    # -- invoke --------------------------------------------------------------------------

    def _overridden(self) -> Any:
        """The runnable an active `override_models` sends this model's calls to, or None."""
        if not self.overridable:
            return None
        return _OVERRIDES[-1].redirect(self)

    def invoke(self, input: Any, config: RunConfig | None = None, **kwargs: Any) -> AIMessage:
        """Send `input` (a string, messages, tuples or dicts) and return the reply."""
        if _OVERRIDES and (target := self._overridden()) is not None:
            return target.invoke(input, config, **kwargs)
        request = self._request(input, config, kwargs)
        return self._invoke_request(request)

    def _invoke_request(self, request: ChatRequest) -> AIMessage:
        run = _Run(self, request, streamed=False)
        run.start()
        try:
            try:
                # the first attempt skips the retry machinery: success is the common case
                self._acquire()
                message = self._generate(request)
            except Exception as error:
                if not self.max_retries or getattr(error, "retryable", False) is not True:
                    raise

                def attempt() -> AIMessage:
                    self._acquire()
                    return self._generate(request)

                message = call_with_retry(
                    attempt, self._retry_policy, sleep=self._sleeper(), failed=error
                )
            message = self._finish(message, request, None)
        except BaseException as exc:
            run.error(exc)
            raise
        run.end(message)
        return message

    async def ainvoke(
        self, input: Any, config: RunConfig | None = None, **kwargs: Any
    ) -> AIMessage:
        """Async `invoke`."""
        if _OVERRIDES and (target := self._overridden()) is not None:
            return await target.ainvoke(input, config, **kwargs)
        request = self._request(input, config, kwargs)
        return await self._ainvoke_request(request)

    async def _ainvoke_request(self, request: ChatRequest) -> AIMessage:
        run = _Run(self, request, streamed=False)
        await run.astart()
        try:

            async def attempt() -> AIMessage:
                await self._aacquire()
                return await self._agenerate(request)

            message = await acall_with_retry(
                attempt, self._retry_policy, sleep=self._async_sleeper()
            )
            message = self._finish(message, request, None)
        except BaseException as exc:
            await run.aerror(exc)
            raise
        await run.aend(message)
        return message

    # -- stream --------------------------------------------------------------------------

    def stream(
        self, input: Any, config: RunConfig | None = None, **kwargs: Any
    ) -> Iterator[AIMessageChunk]:
        """Yield the reply as `AIMessageChunk`s; the last has ``chunk_position="last"``.

        Errors before the first chunk are retried like `invoke`; once chunks have been
        yielded, an error propagates (a cut stream raises `StreamInterruptedError`).
        """
        if _OVERRIDES and (target := self._overridden()) is not None:
            return target.stream(input, config, **kwargs)
        request = self._request(input, config, kwargs)
        return self._stream_request(request)

    def _stream_request(self, request: ChatRequest) -> Iterator[AIMessageChunk]:
        run = _Run(self, request, streamed=True)
        run.start()
        run_id = _new_run_id()
        chunks: list[AIMessageChunk] = []
        seen: set[str] = set()
        try:

            def first() -> tuple[Iterator[AIMessageChunk], AIMessageChunk | None]:
                self._acquire()
                iterator = iter(self._stream(request))
                return iterator, next(iterator, None)

            iterator, chunk = call_with_retry(first, self._retry_policy, sleep=self._sleeper())
            while chunk is not None:
                self._stamp(chunk, request, run_id, seen)
                chunks.append(chunk)
                if run.handlers:
                    run.token(chunk)
                yield chunk
                chunk = next(iterator, None)
            if not chunks or chunks[-1].chunk_position != "last":
                tail = _empty_last(chunks, run_id)
                self._stamp(tail, request, run_id, seen)
                chunks.append(tail)
                if run.handlers:
                    run.token(tail)
                yield tail
        except GeneratorExit:
            raise
        except BaseException as exc:
            run.error(exc)
            raise
        if run.handlers or _observers:
            merged = self._finish(merge_chunks(chunks).to_message(), request, run_id)
            run.end(merged)

    async def astream(
        self, input: Any, config: RunConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[AIMessageChunk]:
        """Async `stream`."""
        if _OVERRIDES and (target := self._overridden()) is not None:
            async for item in target.astream(input, config, **kwargs):
                yield item
            return
        request = self._request(input, config, kwargs)
        async for chunk in self._astream_request(request):
            yield chunk

    async def _astream_request(self, request: ChatRequest) -> AsyncIterator[AIMessageChunk]:
        run = _Run(self, request, streamed=True)
        await run.astart()
        run_id = _new_run_id()
        chunks: list[AIMessageChunk] = []
        seen: set[str] = set()
        try:

            async def first() -> tuple[AsyncIterator[AIMessageChunk], AIMessageChunk | None]:
                await self._aacquire()
                iterator = self._astream(request).__aiter__()
                try:
                    return iterator, await iterator.__anext__()
                except StopAsyncIteration:
                    return iterator, None

            iterator, chunk = await acall_with_retry(
                first, self._retry_policy, sleep=self._async_sleeper()
            )
            while chunk is not None:
                self._stamp(chunk, request, run_id, seen)
                chunks.append(chunk)
                if run.handlers:
                    await run.atoken(chunk)
                yield chunk
                try:
                    chunk = await iterator.__anext__()
                except StopAsyncIteration:
                    chunk = None
            if not chunks or chunks[-1].chunk_position != "last":
                tail = _empty_last(chunks, run_id)
                self._stamp(tail, request, run_id, seen)
                chunks.append(tail)
                if run.handlers:
                    await run.atoken(tail)
                yield tail
        except GeneratorExit:
            raise
        except BaseException as exc:
            await run.aerror(exc)
            raise
        if run.handlers or _observers:
            merged = self._finish(merge_chunks(chunks).to_message(), request, run_id)
            await run.aend(merged)

    # -- binding -------------------------------------------------------------------------

    def bind(self, **params: Any) -> Runnable:
        """A model that sends `params` with every call (checked now, like per-call parameters)."""
        from ._bound import BoundChatModel

        self._check_bound(params)
        return BoundChatModel(self, params)

    def _check_bound(self, params: dict[str, Any]) -> None:
        """Check parameters given to `bind` now rather than at the first call."""
        where = f"{type(self).__name__}.bind"
        check_keywords(
            where,
            {k: v for k, v in params.items() if not k.startswith("_")},
            REQUEST_PARAMS | self.extra_params,
        )
        check_params(where, params)

    def bind_tools(
        self,
        tools: Sequence[Any],
        *,
        tool_choice: str | dict[str, Any] | bool | None = None,
        parallel_tool_calls: bool | None = None,
        strict: bool | None = None,
        **unknown: Any,
    ) -> Runnable:
        """A model that offers `tools` on every call.

        Args:
            tools: `@tool` functions, typed functions, pydantic classes, TypedDicts, JSON
                schemas with a title, OpenAI or Anthropic tool dicts, or provider built-in tools.
            tool_choice: ``"auto"``, ``"any"`` / ``"required"`` / True (must call a tool),
                ``"none"``, or a tool name (must call that tool).
            parallel_tool_calls: False to ask for at most one call per reply.
            strict: provider-side strict schema validation (OpenAI).
        """
        from ._bound import BIND_TOOLS_KEYWORDS, bind_tools

        check_keywords("bind_tools()", unknown, BIND_TOOLS_KEYWORDS)
        return bind_tools(self, tools, tool_choice, parallel_tool_calls, strict)

    def with_structured_output(
        self,
        schema: Any,
        *,
        method: str = "json_schema",
        include_raw: bool = False,
        strict: bool | None = None,
        **unknown: Any,
    ) -> Runnable:
        """A runnable whose output is `schema`, parsed and validated.

        Args:
            schema: a pydantic class (returns instances), a TypedDict or a JSON-schema dict
                (returns dicts). Every kind is validated.
            method: ``"json_schema"`` (native structured output), ``"function_calling"``
                (a forced tool call) or ``"json_mode"`` (JSON text, validated here).
            include_raw: return ``{"raw", "parsed", "parsing_error"}`` instead of raising.
            strict: ask the provider to enforce the schema (not with json_mode).
        """
        from ._structured import StructuredOutputRunnable

        return StructuredOutputRunnable(
            self, schema, method=method, include_raw=include_raw, strict=strict, **unknown
        )

    # Runnable plumbing: the model itself is the innermost runnable.
    def _as_model_and_params(self) -> tuple[ChatModel, dict[str, Any]]:
        return self, {}


def _as_last_chunk(message: AIMessage) -> AIMessageChunk:
    data = {k: getattr(message, k) for k in AIMessage.model_fields if k != "type"}
    return AIMessageChunk(**data, chunk_position="last")


def _empty_last(chunks: list[AIMessageChunk], run_id: str) -> AIMessageChunk:
    content: Any = [] if chunks and isinstance(chunks[-1].content, list) else ""
    chunk_id = chunks[-1].id if chunks else run_id
    return _fast_new(AIMessageChunk, {"content": content, "id": chunk_id, "chunk_position": "last"})
