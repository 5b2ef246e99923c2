"""A model with parameters bound to every call: `bind` and `bind_tools`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ..exceptions import UserError
from ..messages import AIMessage, AIMessageChunk
from ._params import check_flag, check_keywords, did_you_mean
from ._runnable import Runnable

if TYPE_CHECKING:
    from ._base import ChatModel

__all__ = ["BIND_TOOLS_KEYWORDS", "BoundChatModel", "bind_tools", "normalize_tool_choice"]

BIND_TOOLS_KEYWORDS = ("tool_choice", "parallel_tool_calls", "strict")
"""The keyword arguments of `bind_tools`, for "did you mean" on a misspelt one."""


class BoundChatModel(Runnable):
    """A chat model plus parameters sent with every call (tools, tool_choice, ...).

    It has the model's whole calling surface (`invoke`, `stream`, `batch`, their async twins,
    `bind_tools`, `with_structured_output`); per-call keyword arguments override bound ones.
    """

    def __init__(self, model: ChatModel, params: dict[str, Any]) -> None:
        self.model = model
        self.params = dict(params)
        self.tools: list[Any] = []
        """The tool objects as given to `bind_tools` (for running tool calls)."""

    def __repr__(self) -> str:
        return f"BoundChatModel({self.model!r}, params={sorted(self.params)})"

    @property
    def profile(self) -> dict[str, Any]:
        return self.model.profile

    def _runs_inline(self) -> bool:
        return self.model._runs_inline()

    def _merged(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {**self.params, **kwargs} if kwargs else self.params

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> AIMessage:
        return self.model.invoke(input, config, **self._merged(kwargs))

    async def ainvoke(self, input: Any, config: Any = None, **kwargs: Any) -> AIMessage:
        return await self.model.ainvoke(input, config, **self._merged(kwargs))

    def stream(self, input: Any, config: Any = None, **kwargs: Any) -> Iterator[AIMessageChunk]:
        return self.model.stream(input, config, **self._merged(kwargs))

    def astream(
        self, input: Any, config: Any = None, **kwargs: Any
    ) -> AsyncIterator[AIMessageChunk]:
        return self.model.astream(input, config, **self._merged(kwargs))

    def bind(self, **params: Any) -> BoundChatModel:
        """A copy with `params` bound as well (later values win)."""
        self.model._check_bound(params)
        bound = BoundChatModel(self.model, {**self.params, **params})
        bound.tools = list(self.tools)
        return bound

    def bind_tools(
        self,
        tools: Sequence[Any],
        *,
        tool_choice: Any = None,
        parallel_tool_calls: bool | None = None,
        strict: bool | None = None,
        **unknown: Any,
    ) -> BoundChatModel:
        """Replace the bound tools (other bound parameters stay)."""
        check_keywords("bind_tools()", unknown, BIND_TOOLS_KEYWORDS)
        bound = bind_tools(self.model, tools, tool_choice, parallel_tool_calls, strict)
        for key, value in self.params.items():
            if key not in ("tools", "tool_choice", "parallel_tool_calls"):
                bound.params.setdefault(key, value)
        return bound

    def with_structured_output(self, schema: Any, **kwargs: Any) -> Runnable:
        """Structured output with the bound parameters (see `ChatModel.with_structured_output`)."""
        from ._structured import StructuredOutputRunnable

        return StructuredOutputRunnable(self, schema, **kwargs)


def normalize_tool_choice(choice: Any, names: list[str]) -> Any:
    """Map the accepted spellings of tool_choice onto ``auto``/``any``/``none``/a tool name."""
    if choice is None or choice is False:
        return None
    if choice is True or choice in ("any", "required"):
        return "any"
    if choice in ("auto", "none"):
        return choice
    if isinstance(choice, str):
        if choice not in names:
            hint = did_you_mean(choice, [*names, "auto", "any", "required", "none"])
            raise UserError(
                f"tool_choice={choice!r} names no bound tool.{hint} Bound tools: {names}. "
                "Use 'auto', 'any', 'none', or one of the tool names."
            )
        return choice
    if isinstance(choice, dict):
        return choice
    raise UserError(
        f"tool_choice={choice!r} is not understood; use 'auto', 'any', 'none', True, "
        "or a tool name."
    )


def bind_tools(
    model: ChatModel,
    tools: Sequence[Any],
    tool_choice: Any,
    parallel_tool_calls: bool | None,
    strict: bool | None,
) -> BoundChatModel:
    """Convert `tools` to specs and bind them with the tool-choice settings."""
    from ..tools import convert_to_tool_spec

    if isinstance(tools, (str, bytes)) or not isinstance(tools, Sequence):
        raise UserError(
            f"bind_tools takes a list of tools, got {type(tools).__name__}; wrap a single tool "
            "in a list: bind_tools([get_weather])."
        )
    check_flag("bind_tools()", "parallel_tool_calls", parallel_tool_calls)
    check_flag("bind_tools()", "strict", strict)
    if model.profile.get("tool_calling") is False:
        raise UserError(
            f"{type(model).__name__} (model={model.model!r}) does not support tool calling "
            "(profile['tool_calling'] is False)."
        )
    specs = [convert_to_tool_spec(t, strict=strict) for t in tools]
    names = [s["name"] for s in specs if "name" in s]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UserError(
            f"Two bound tools share the name(s) {duplicates}; tool names must be unique."
        )
    params: dict[str, Any] = {"tools": specs}
    choice = normalize_tool_choice(tool_choice, names)
    if choice is not None:
        params["tool_choice"] = choice
    if parallel_tool_calls is not None:
        params["parallel_tool_calls"] = parallel_tool_calls
    bound = BoundChatModel(model, params)
    bound.tools = list(tools)
    return bound
