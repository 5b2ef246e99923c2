"""`to_langchain`: a myna chat model as a langchain-core ``BaseChatModel``."""

from __future__ import annotations

import difflib
import inspect
import os
from collections.abc import AsyncIterator, Iterator, Sequence
from contextvars import ContextVar
from operator import itemgetter
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.language_models.model_profile import ModelProfile
from langchain_core.messages import AIMessage as LCAIMessage
from langchain_core.messages import BaseMessage as LCBaseMessage
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.output_parsers.openai_tools import (
    JsonOutputKeyToolsParser,
    PydanticToolsParser,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from langchain_core.runnables.config import get_config_list
from langchain_core.utils.function_calling import convert_to_json_schema, convert_to_openai_tool
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from ...exceptions import OutputParserError, UserError
from ...messages import construct_message
from ...models import BoundChatModel, ChatModel
from ...schema import OutputSchema
from ...tools import convert_to_tool_spec
from ._convert import chunk_to_langchain, message_to_langchain, messages_from_langchain

__all__ = ["MynaChatModel", "to_langchain"]

_PROFILE_KEYS = frozenset(ModelProfile.__annotations__)
_CALL_CONFIG: ContextVar[dict[str, Any] | None] = ContextVar("myna_lc_call_config", default=None)
"""The LangChain config of the call running now (set around each step of invoke/stream), so
`_generate` / `_stream` can hand its tags, metadata and run name to the myna model."""
_METHODS = ("function_calling", "json_schema", "json_mode")


class MynaChatModel(BaseChatModel):
    """A myna chat model seen as a LangChain chat model; build one with `to_langchain`.

    ```python
    from myna.fakes import FakeChatModel, tool_call
    from myna.interop.langchain import to_langchain

    llm = to_langchain(FakeChatModel([tool_call("get_weather", city="Paris"), "Sunny."]))
    ```

    Everything LangChain does with a chat model works: `invoke` / `stream` / `batch` and
    their async twins, `bind_tools` (with `tool_choice`), `with_structured_output`
    (``function_calling``, ``json_schema``, ``json_mode``; dict results validated too),
    callbacks, tags and metadata, both output versions. The myna model answers: its calls,
    usage and callbacks are myna's (`model_calls`, `myna.testing` assertions work).

    Constructor: ``myna_model=`` a myna `ChatModel` (or ``model="provider:model"``, built
    with `myna.init_chat_model`), plus LangChain's standard parameters: `temperature`,
    `max_tokens` and `stop` are sent with every call; `timeout`, `api_key` and `base_url`
    are the wrapped model's (given here, they are set on it); `max_retries` too, and must
    match it. An unknown keyword is an error.
    """

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True, extra="forbid")

    myna_model: Any = Field(default=None, exclude=True)
    """The myna `ChatModel` (or `bind_tools` / `bind` result) that answers."""
    model: str | None = Field(default=None, alias="model_name")
    """The model name; ``"provider:model"`` builds the myna model when none is given."""
    temperature: float | None = None
    max_tokens: int | None = None
    stop: list[str] | None = Field(default=None, alias="stop_sequences")
    timeout: float | None = None
    max_retries: int | None = None
    api_key: SecretStr | None = None
    base_url: str | None = None
    streaming: bool = False
    """Stream inside `invoke` too (LangChain's flag; callbacks then see every token)."""

    @model_validator(mode="after")
    def _connect(self) -> MynaChatModel:
        given = self.model_fields_set
        wiring = {
            k: getattr(self, k)
            for k in ("timeout", "max_retries", "base_url")
            if k in given and getattr(self, k) is not None
        }
        if self.api_key is not None:
            wiring["api_key"] = self.api_key.get_secret_value()
        if self.myna_model is None:
            if not self.model:
                raise ValueError(
                    "MynaChatModel needs myna_model=<a myna ChatModel>, or "
                    "model='provider:model' to build one (e.g. model='fake:scripted')."
                )
            from ...models import init_chat_model

            self.myna_model = init_chat_model(self.model, **wiring)
        else:
            inner = _inner_model(self.myna_model)
            retries = wiring.pop("max_retries", inner.max_retries)
            if retries != inner.max_retries:
                # the retry policy is built with the model: it cannot change afterwards
                raise ValueError(
                    f"max_retries={retries} differs from the wrapped model's "
                    f"({inner.max_retries}); build the myna model with max_retries={retries}."
                )
            for key, value in wiring.items():
                setattr(inner, key, value)  # read at each request: they take effect now
        inner = _inner_model(self.myna_model)
        if self.model is None:
            self.model = inner.model
        if self.api_key is None:
            key = inner.api_key
            env = getattr(inner, "api_key_env", None)
            if key is None and env:
                key = os.environ.get(env)
            if key is not None:
                self.api_key = SecretStr(key)
        return self

    # -- description -------------------------------------------------------------------------

    @property
    def _llm_type(self) -> str:
        return f"myna-{_inner_model(self.myna_model).provider}"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        params = {"model": self.model, "provider": _inner_model(self.myna_model).provider}
        for key in ("temperature", "max_tokens", "stop"):
            if getattr(self, key) is not None:
                params[key] = getattr(self, key)
        return params

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        # LangChain's own derivation (from the class name) is replaced anyway: build it here
        params: dict[str, Any] = {
            "ls_provider": _inner_model(self.myna_model).provider,
            "ls_model_type": "chat",
        }
        if stop:
            params["ls_stop"] = stop
        params["ls_model_name"] = kwargs.get("model") or self.model or "unknown"
        temperature = kwargs.get("temperature")
        if not isinstance(temperature, (int, float)):
            temperature = self.temperature
        if isinstance(temperature, (int, float)):
            params["ls_temperature"] = temperature
        max_tokens = kwargs.get("max_tokens")
        if not isinstance(max_tokens, int):
            max_tokens = self.max_tokens
        if isinstance(max_tokens, int):
            params["ls_max_tokens"] = max_tokens
        return params

    def _get_invocation_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        # what LangChain's builds (asdict() plus stop and kwargs), without going through its
        # deprecated dict() and a warnings filter on every call
        params = self._identifying_params
        params["_type"] = self._llm_type
        params["stop"] = stop
        params.update(kwargs)
        return params

    def _resolve_model_profile(self) -> ModelProfile | None:
        profile = _inner_model(self.myna_model).profile
        return {k: v for k, v in profile.items() if k in _PROFILE_KEYS}  # type: ignore[return-value]

    # -- calling -------------------------------------------------------------------------------

    def _call_params(self, stop: list[str] | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if self.temperature is not None:
            params["temperature"] = self.temperature
        if self.max_tokens is not None:
            params["max_tokens"] = self.max_tokens
        stop = self.stop if stop is None else stop
        if stop:
            params["stop"] = list(stop)
        for key, value in kwargs.items():
            if key != "stream":  # LangChain's own switch, not a request parameter
                params[key] = value
        fmt = params.get("response_format")
        if isinstance(fmt, dict) and isinstance(fmt.get("json_schema"), dict):
            # OpenAI's shape, as LangChain users bind it: myna's is flat
            params["response_format"] = {"type": "json_schema", **fmt["json_schema"]}
        return params

    def _myna_config(self, run_manager: Any) -> dict[str, Any]:
        config = _CALL_CONFIG.get() or {}
        tags = config.get("tags")
        metadata = config.get("metadata") or {}
        if run_manager is not None:
            tags = run_manager.tags or tags
            metadata = {**run_manager.metadata, **metadata} if metadata else run_manager.metadata
        out: dict[str, Any] = {}
        if tags:
            out["tags"] = list(tags)
        # LangChain's own keys (ls_provider, lc_versions, ...) describe this wrapper, not the app
        metadata = {k: v for k, v in metadata.items() if not k.startswith(("ls_", "lc_"))}
        if metadata:
            out["metadata"] = metadata
        if config.get("run_name"):
            out["run_name"] = config["run_name"]
        if run_manager is not None:
            # a str, not the UUID: fakes keep every call's config, and a UUID is one more
            # object for the garbage collector to scan in each (more than str() costs)
            out["run_id"] = str(run_manager.run_id)
        return out

    def _generate(
        self,
        messages: list[LCBaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        reply = self.myna_model.invoke(
            messages_from_langchain(messages),
            self._myna_config(run_manager),
            **self._call_params(stop, kwargs),
        )
        return _result(message_to_langchain(reply))

    async def _agenerate(
        self,
        messages: list[LCBaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        reply = await self.myna_model.ainvoke(
            messages_from_langchain(messages),
            self._myna_config(run_manager),
            **self._call_params(stop, kwargs),
        )
        return _result(message_to_langchain(reply))

    def _stream(
        self,
        messages: list[LCBaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for chunk in self.myna_model.stream(
            messages_from_langchain(messages),
            self._myna_config(run_manager),
            **self._call_params(stop, kwargs),
        ):
            yield ChatGenerationChunk(message=self._chunk(chunk))

    async def _astream(
        self,
        messages: list[LCBaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        async for chunk in self.myna_model.astream(
            messages_from_langchain(messages),
            self._myna_config(run_manager),
            **self._call_params(stop, kwargs),
        ):
            yield ChatGenerationChunk(message=self._chunk(chunk))

    def _chunk(self, chunk: Any) -> Any:
        converted = chunk_to_langchain(chunk)
        if self.output_version == "v1":
            _own_block_indices(converted)
        return converted

    # the config of the call is kept for _generate / _stream (LangChain does not hand it on)

    def invoke(
        self, input: LanguageModelInput, config: Any = None, *, stop: Any = None, **kwargs: Any
    ) -> LCAIMessage:
        """LangChain's `invoke`; the config's tags, metadata and run name reach the myna call."""
        token = _CALL_CONFIG.set(config)
        try:
            return super().invoke(input, config, stop=stop, **kwargs)
        finally:
            _CALL_CONFIG.reset(token)

    async def ainvoke(
        self, input: LanguageModelInput, config: Any = None, *, stop: Any = None, **kwargs: Any
    ) -> LCAIMessage:
        """LangChain's `ainvoke` (config passed on as by `invoke`)."""
        token = _CALL_CONFIG.set(config)
        try:
            return await super().ainvoke(input, config, stop=stop, **kwargs)
        finally:
            _CALL_CONFIG.reset(token)

    def stream(
        self, input: LanguageModelInput, config: Any = None, *, stop: Any = None, **kwargs: Any
    ) -> Iterator[Any]:
        """LangChain's `stream` (config passed on as by `invoke`)."""
        inner = super().stream(input, config, stop=stop, **kwargs)
        while True:
            token = _CALL_CONFIG.set(config)
            try:
                chunk = next(inner)
            except StopIteration:
                return
            finally:
                _CALL_CONFIG.reset(token)
            yield chunk

    async def astream(
        self, input: LanguageModelInput, config: Any = None, *, stop: Any = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        """LangChain's `astream` (config passed on as by `invoke`)."""
        inner = super().astream(input, config, stop=stop, **kwargs).__aiter__()
        while True:
            token = _CALL_CONFIG.set(config)
            try:
                chunk = await inner.__anext__()
            except StopAsyncIteration:
                return
            finally:
                _CALL_CONFIG.reset(token)
            yield chunk

    def batch(
        self,
        inputs: list[Any],
        config: Any = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """LangChain's `batch`; over a myna model that never blocks (a fake), in input order.

        Such a model runs its batch in this thread, as myna's own `batch` does: threads buy
        it nothing, and a scripted fake then hands its replies to the inputs in order (in
        threads, which input gets which reply would be left to the scheduler).
        """
        if len(inputs) < 2 or not self.myna_model._runs_inline():
            return super().batch(inputs, config, return_exceptions=return_exceptions, **kwargs)
        results: list[Any] = []
        for item, item_config in zip(inputs, get_config_list(config, len(inputs)), strict=True):
            try:
                results.append(self.invoke(item, item_config, **kwargs))
            except Exception as exc:
                if not return_exceptions:
                    raise
                results.append(exc)
        return results

    # -- tools and structured output -------------------------------------------------------------

    def bind_tools(
        self,
        tools: Sequence[Any],
        *,
        tool_choice: str | dict[str, Any] | bool | None = None,
        parallel_tool_calls: bool | None = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, LCAIMessage]:
        """Offer `tools` on every call.

        Tools are anything LangChain accepts (``@tool`` functions, functions, pydantic
        classes, TypedDicts, JSON schemas, OpenAI / Anthropic tool dicts). `tool_choice`:
        ``"auto"``, ``"none"``, ``"any"`` / ``"required"`` / True (some tool), a tool name,
        or an OpenAI / Anthropic tool-choice dict naming one.
        """
        specs = [_tool_spec(t, strict) for t in tools]
        params: dict[str, Any] = {"tools": specs}
        choice = _tool_choice(tool_choice)
        names = [s["name"] for s in specs if "name" in s]
        if choice not in (None, "auto", "any", "none") and choice not in names:
            close = difflib.get_close_matches(str(choice), names, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"tool_choice={choice!r} names no bound tool.{hint} Bound tools: {names}; "
                "or use 'auto', 'any' or 'none'."
            )
        if choice is not None:
            params["tool_choice"] = choice
        if parallel_tool_calls is not None:
            params["parallel_tool_calls"] = parallel_tool_calls
        return self.bind(**params, **kwargs)

    def with_structured_output(
        self,
        schema: Any = None,
        *,
        method: str = "function_calling",
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, Any]:
        """A runnable returning `schema`: a pydantic instance, or a validated dict.

        Args:
            schema: a pydantic class (v2 or v1), a TypedDict, a JSON schema or an OpenAI
                tool dict.
            method: ``"function_calling"`` (a forced tool call), ``"json_schema"`` (native
                structured output) or ``"json_mode"`` (JSON text).
            include_raw: return ``{"raw", "parsed", "parsing_error"}`` instead of raising.
            strict: ask for provider-enforced schemas (not with json_mode).
        """
        if kwargs:
            raise ValueError(
                f"with_structured_output got unsupported arguments {sorted(kwargs)}; it takes "
                "schema, method, include_raw and strict."
            )
        if method not in _METHODS:
            raise ValueError(
                f"with_structured_output: method={method!r} is not one of "
                f"{', '.join(map(repr, _METHODS))}."
            )
        if schema is None:
            if method != "json_mode":
                raise ValueError(f"with_structured_output(method={method!r}) needs a schema.")
            return self._json_mode_without_schema(include_raw)
        if method == "json_mode" and strict:
            raise ValueError("strict=True cannot be used with method='json_mode'.")
        pydantic_class = isinstance(schema, type) and _is_pydantic(schema)
        target = OutputSchema.from_any(
            schema if not pydantic_class or issubclass(schema, BaseModel) else _v1_json(schema),
            strict=strict,
        )
        params: dict[str, Any] = {
            "_structured_schema": target.json_schema,
            "_structured_method": method,
            "ls_structured_output_format": {
                "kwargs": {"method": method, "strict": strict},
                "schema": schema,
            },
        }
        body = target.strict_json_schema() if strict else target.json_schema
        if method == "function_calling":
            tool: dict[str, Any] = {
                "name": target.name,
                "description": target.description or f"Return the answer as {target.name}.",
                "parameters": body,
            }
            if strict is not None:
                tool["strict"] = strict
            llm = self.bind(
                tools=[tool], tool_choice=target.name, parallel_tool_calls=False, **params
            )
            parser: Runnable = (
                PydanticToolsParser(tools=[schema], first_tool_only=True)
                if pydantic_class
                else _ValidatingKeyToolsParser(
                    key_name=target.name, first_tool_only=True, check=target
                )
            )
        else:
            if method == "json_schema":
                fmt: dict[str, Any] = {"type": "json_schema", "name": target.name, "schema": body}
                if target.description:
                    fmt["description"] = target.description
                if strict is not None:
                    fmt["strict"] = strict
            else:
                fmt = {"type": "json_object"}
            llm = self.bind(response_format=fmt, **params)
            parser = (
                PydanticOutputParser(pydantic_object=schema)
                if pydantic_class
                else _ValidatingJsonParser(check=target)
            )
        return _with_parser(llm, parser, include_raw)

    def _json_mode_without_schema(self, include_raw: bool) -> Runnable:
        llm = self.bind(
            response_format={"type": "json_object"},
            _structured_method="json_mode",
            ls_structured_output_format={"kwargs": {"method": "json_mode"}, "schema": None},
        )
        return _with_parser(llm, JsonOutputParser(), include_raw)


class _SignedMethod:
    """A method whose bound form carries its signature (`inspect.signature` returns it as is).

    LangChain asks ``inspect.signature(self._generate)`` on every call (does it take
    ``run_manager``?). A function's ``__signature__`` spares the parsing, but a bound method's
    is still rebuilt without ``self`` each time (a few microseconds, a fake call's share);
    this bound form answers with one prepared without ``self``. Read from the class, it is the
    plain function, so overrides and ``super()`` work as for any method.
    """

    __slots__ = ("func", "signature")

    def __init__(self, func: Any) -> None:
        self.func = func
        full = inspect.signature(func)
        self.signature = full.replace(parameters=list(full.parameters.values())[1:])

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self.func
        return _BoundSigned(self.func, obj, self.signature)


class _BoundSigned:
    __slots__ = ("__func__", "__self__", "__signature__")

    def __init__(self, func: Any, obj: Any, signature: inspect.Signature) -> None:
        self.__func__ = func
        self.__self__ = obj
        self.__signature__ = signature

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.__func__(self.__self__, *args, **kwargs)

    def __repr__(self) -> str:
        return f"<bound method {self.__func__.__qualname__} of {type(self.__self__).__name__}>"


# set after the class is built (pydantic would take an underscore attribute for a private one)
for _name in ("_generate", "_agenerate"):
    setattr(MynaChatModel, _name, _SignedMethod(MynaChatModel.__dict__[_name]))
for _name in ("_stream", "_astream"):  # asked for less often: the function's own is enough
    _method = getattr(MynaChatModel, _name)
    _method.__signature__ = inspect.signature(_method)


def _result(message: LCAIMessage) -> ChatResult:
    if not isinstance(message.content, str):
        return ChatResult(generations=[ChatGeneration(message=message)])
    # the fields ChatGeneration's validator would set (text is the string content)
    generation = construct_message(ChatGeneration, {"text": message.content, "message": message})
    return construct_message(ChatResult, {"generations": [generation]})


def to_langchain(model: Any) -> MynaChatModel:
    """`model` (a myna `ChatModel`, or a `bind_tools` / `bind` result) as a LangChain chat model.

    ```python
    from myna.fakes import FakeChatModel
    from myna.interop.langchain import to_langchain

    llm = to_langchain(FakeChatModel(["Hello!"]))
    assert llm.invoke("Hi").content == "Hello!"
    ```
    """
    _inner_model(model)  # a clear UserError for a wrong object, before pydantic wraps it
    return MynaChatModel(myna_model=model)


# -- helpers -------------------------------------------------------------------------------------


def _inner_model(model: Any) -> ChatModel:
    if isinstance(model, ChatModel):
        return model
    if isinstance(model, BoundChatModel):
        return model.model
    raise UserError(
        f"to_langchain needs a myna ChatModel (e.g. FakeChatModel([...]) or "
        f"init_chat_model('openai:gpt-4.1')) or its bind_tools()/bind() result, got "
        f"{type(model).__name__}. A LangChain model is one already."
    )


def _own_block_indices(chunk: Any) -> None:
    """Give content blocks ``lc_`` string indices, so they never merge with tool calls.

    With ``output_version="v1"`` LangChain turns each chunk into blocks: text without an
    index gets 0, and a tool-call chunk keeps its own index, often 0 as well; added up, the
    two became one corrupt text block. ``lc_``-prefixed strings merge like ints.
    """
    content = chunk.content
    if isinstance(content, str):
        if content:
            chunk.content = [{"type": "text", "text": content, "index": "lc_txt_0"}]
        return
    blocks = []
    for block in content:
        if isinstance(block, dict) and isinstance(block.get("index"), int):
            block = {**block, "index": f"lc_blk_{block['index']}"}
        blocks.append(block)
    chunk.content = blocks


def _tool_spec(tool: Any, strict: bool | None) -> dict[str, Any]:
    if isinstance(tool, dict) and "name" not in tool and "function" not in tool:
        return dict(tool)  # a provider built-in tool, e.g. {"type": "web_search"}
    return convert_to_tool_spec(convert_to_openai_tool(tool, strict=strict), strict=strict)


def _tool_choice(choice: Any) -> Any:
    """LangChain's tool_choice spellings as myna's (``auto``, ``any``, ``none``, a name)."""
    if choice is None or choice is False:
        return None
    if choice is True or choice in ("any", "required"):
        return "any"
    if isinstance(choice, str):
        return choice
    if isinstance(choice, dict):
        kind = choice.get("type")
        function = choice.get("function")
        if isinstance(function, dict) and function.get("name"):
            return function["name"]  # OpenAI {"type": "function", "function": {"name": ...}}
        if kind == "tool" and choice.get("name"):
            return choice["name"]  # Anthropic {"type": "tool", "name": ...}
        if kind in ("any", "auto", "none"):
            return kind
    raise ValueError(
        f"tool_choice={choice!r} is not understood; use 'auto', 'any', 'none', True, a tool "
        "name, or {'type': 'function', 'function': {'name': ...}}."
    )


def _is_pydantic(schema: type) -> bool:
    if issubclass(schema, BaseModel):
        return True
    try:
        from pydantic.v1 import BaseModel as V1Model
    except ImportError:  # pragma: no cover - pydantic 2 always has it
        return False
    return issubclass(schema, V1Model)


def _v1_json(schema: type) -> dict[str, Any]:
    return convert_to_json_schema(schema)


def _check(target: OutputSchema, value: Any) -> Any:
    try:
        return target.parse(value)
    except OutputParserError as exc:
        raise OutputParserException(str(exc), llm_output=str(value)) from exc


class _FinalCheck:
    """Validate the complete value: `parse_result` on invoke, the last value when streaming
    (a stream is parsed partially at every step, so its final value is checked at the end)."""

    def parse_result(self, result: Any, *, partial: bool = False) -> Any:
        value = super().parse_result(result, partial=partial)  # type: ignore[misc]
        if partial or value is None:
            return value
        return _check(self.check, value)  # type: ignore[attr-defined]

    def _transform(self, input: Iterator[Any]) -> Iterator[Any]:
        last = None
        for value in super()._transform(input):  # type: ignore[misc]
            last = value
            yield value
        if last is not None:
            _check(self.check, last)  # type: ignore[attr-defined]

    async def _atransform(self, input: AsyncIterator[Any]) -> AsyncIterator[Any]:
        last = None
        async for value in super()._atransform(input):  # type: ignore[misc]
            last = value
            yield value
        if last is not None:
            _check(self.check, last)  # type: ignore[attr-defined]


class _ValidatingKeyToolsParser(_FinalCheck, JsonOutputKeyToolsParser):
    check: Any = Field(default=None, exclude=True)


class _ValidatingJsonParser(_FinalCheck, JsonOutputParser):
    check: Any = Field(default=None, exclude=True)


def _with_parser(llm: Runnable, parser: Runnable, include_raw: bool) -> Runnable:
    if not include_raw:
        return llm | parser
    parse = RunnablePassthrough.assign(
        parsed=itemgetter("raw") | parser, parsing_error=lambda _: None
    )
    fallback = RunnablePassthrough.assign(parsed=lambda _: None)
    return RunnableMap(raw=llm) | parse.with_fallbacks([fallback], exception_key="parsing_error")
