"""`from_langchain`: a LangChain chat model as a myna `ChatModel`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables.config import var_child_runnable_config

from ...exceptions import UserError
from ...messages import AIMessage, AIMessageChunk
from ...models import ChatModel, ChatRequest
from ._convert import chunk_from_langchain, message_from_langchain, messages_to_langchain
from ._to import MynaChatModel

__all__ = ["LangChainChatModel", "from_langchain"]

_SAMPLING = ("temperature", "max_tokens", "top_p", "seed", "logprobs", "top_logprobs")
"""Request parameters handed to the LangChain model as call keyword arguments."""


class LangChainChatModel(ChatModel):
    """A LangChain chat model seen as a myna `ChatModel`; build one with `from_langchain`.

    Calls go through the LangChain model's public `invoke` / `stream` (and async twins), so
    its own callbacks and tracing run as usual (as a run of its own, not a child of an
    enclosing LangChain run); on the myna side the call is logged like any
    model's (`model_calls`, `myna.testing` assertions, `myna.evals`). Tools bound here are
    bound on the LangChain model with its `bind_tools`; `stop`, `temperature`,
    `max_tokens` and other sampling parameters are passed as call keywords.
    """

    provider: ClassVar[str] = "langchain"

    def __init__(self, lc_model: Any, /, **kwargs: Any) -> None:
        if not isinstance(lc_model, BaseChatModel):
            raise UserError(
                f"from_langchain needs a LangChain BaseChatModel (e.g. ChatOpenAI(...) or "
                f"GenericFakeChatModel(...)), got {type(lc_model).__name__}."
            )
        kwargs.setdefault("model", _model_name(lc_model))
        super().__init__(**kwargs)
        self.lc_model = lc_model

    def __repr__(self) -> str:
        return f"LangChainChatModel({type(self.lc_model).__name__}, model={self.model!r})"

    @property
    def profile(self) -> dict[str, Any]:
        """The LangChain model's profile, with tool calling off if it cannot bind tools."""
        profile = dict(getattr(self.lc_model, "profile", None) or {})
        if type(self.lc_model).bind_tools is BaseChatModel.bind_tools:
            profile["tool_calling"] = False
        return {**profile, **self._profile_overrides}

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        """`ChatModel.bind_tools`; LangChain tools (``@tool`` from langchain_core) work too."""
        from langchain_core.tools import BaseTool
        from langchain_core.utils.function_calling import convert_to_openai_tool

        if isinstance(tools, (list, tuple)):
            tools = [convert_to_openai_tool(t) if isinstance(t, BaseTool) else t for t in tools]
        return super().bind_tools(tools, **kwargs)

    # -- one request -------------------------------------------------------------------------

    def _runnable(self, request: ChatRequest) -> tuple[Any, dict[str, Any]]:
        params = request.params
        runnable: Any = self.lc_model
        if params.get("tools"):
            choice = params.get("tool_choice")
            extra = {}
            if params.get("parallel_tool_calls") is not None:
                extra["parallel_tool_calls"] = params["parallel_tool_calls"]
            try:
                runnable = self.lc_model.bind_tools(
                    [_openai_tool(t) for t in params["tools"]],
                    **({"tool_choice": choice} if choice is not None else {}),
                    **extra,
                )
            except NotImplementedError:
                raise UserError(
                    f"{type(self.lc_model).__name__} cannot bind tools (LangChain's bind_tools "
                    "is not implemented for it)."
                ) from None
        kwargs: dict[str, Any] = {k: params[k] for k in _SAMPLING if params.get(k) is not None}
        if params.get("model") is not None and params["model"] != self.model:
            kwargs["model"] = params["model"]  # a per-call model override
        if params.get("stop"):
            kwargs["stop"] = list(params["stop"])
        if params.get("response_format") is not None:
            kwargs["response_format"] = _openai_response_format(params["response_format"])
        if isinstance(self.lc_model, MynaChatModel):
            # a myna model wrapped twice: the harness hints (the structured-output schema
            # the fakes answer from) go through too; a real LangChain model never sees them
            kwargs.update({f"_{k}": v for k, v in request.hints.items()})
        return runnable, kwargs

    @staticmethod
    def _config(request: ChatRequest) -> dict[str, Any]:
        config = request.config
        return {k: config[k] for k in ("tags", "metadata", "run_name") if config.get(k)}

    def _generate(self, request: ChatRequest) -> AIMessage:
        runnable, kwargs = self._runnable(request)
        with _own_run():
            reply = runnable.invoke(
                messages_to_langchain(request.messages), self._config(request), **kwargs
            )
        return message_from_langchain(reply)  # type: ignore[return-value]

    async def _agenerate(self, request: ChatRequest) -> AIMessage:
        runnable, kwargs = self._runnable(request)
        with _own_run():
            reply = await runnable.ainvoke(
                messages_to_langchain(request.messages), self._config(request), **kwargs
            )
        return message_from_langchain(reply)  # type: ignore[return-value]

    def _stream(self, request: ChatRequest) -> Iterator[AIMessageChunk]:
        runnable, kwargs = self._runnable(request)
        with _own_run():
            chunks = iter(
                runnable.stream(
                    messages_to_langchain(request.messages), self._config(request), **kwargs
                )
            )
        while True:
            with _own_run():
                chunk = next(chunks, None)
            if chunk is None:
                return
            yield chunk_from_langchain(chunk)

    async def _astream(self, request: ChatRequest) -> AsyncIterator[AIMessageChunk]:
        runnable, kwargs = self._runnable(request)
        with _own_run():
            chunks = runnable.astream(
                messages_to_langchain(request.messages), self._config(request), **kwargs
            ).__aiter__()
        while True:
            with _own_run():
                try:
                    chunk = await chunks.__anext__()
                except StopAsyncIteration:
                    return
            yield chunk_from_langchain(chunk)


@contextmanager
def _own_run() -> Iterator[None]:
    """The LangChain model's call is a run of its own: a LangChain chain calling the myna
    model leaves its config (callbacks included) in a context variable, which LangChain
    would merge into the inner call, so its callbacks would hear the call twice."""
    token = var_child_runnable_config.set(None)
    try:
        yield
    finally:
        var_child_runnable_config.reset(token)


def from_langchain(lc_model: Any, **kwargs: Any) -> LangChainChatModel:
    """A LangChain chat model as a myna `ChatModel`.

    ```python
    from langchain_core.language_models import GenericFakeChatModel
    from myna.interop.langchain import from_langchain

    model = from_langchain(GenericFakeChatModel(messages=iter(["Hello!"])))
    assert model.invoke("Hi").text == "Hello!"
    ```

    Keyword arguments are myna's `ChatModel` parameters (`model`, `temperature`,
    `max_retries`, `rate_limiter`, `callbacks`, `tags`, ...).
    """
    return LangChainChatModel(lc_model, **kwargs)


def _model_name(lc_model: Any) -> str | None:
    for attr in ("model_name", "model", "model_id"):
        value = getattr(lc_model, attr, None)
        if isinstance(value, str) and value:
            return value
    return None


def _openai_response_format(fmt: Any) -> Any:
    """myna's neutral ``response_format`` in OpenAI's shape, the one LangChain's OpenAI-style
    integrations pass on (``{"type": "json_schema", "json_schema": {"name", "schema"}}``)."""
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema" and "schema" in fmt:
        inner = {k: fmt[k] for k in ("name", "description", "schema", "strict") if k in fmt}
        return {"type": "json_schema", "json_schema": inner}
    return fmt


def _openai_tool(spec: dict[str, Any]) -> dict[str, Any]:
    """A myna ToolSpec as an OpenAI tool dict (every LangChain integration takes one)."""
    if "name" not in spec:
        return spec  # a provider built-in tool
    function = {k: spec[k] for k in ("name", "description", "parameters", "strict") if k in spec}
    return {"type": "function", "function": function}
