"""Per-call configuration, callbacks, and call observers."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from typing_extensions import TypedDict

from ..exceptions import UserError
from ..messages import AIMessage, AIMessageChunk, BaseMessage

__all__ = [
    "CallRecord",
    "CallbackHandler",
    "RunConfig",
    "RunInfo",
    "add_call_observer",
    "remove_call_observer",
]


class RunConfig(TypedDict, total=False):
    """Options for one call: ``model.invoke(messages, config={...})``."""

    tags: list[str]
    metadata: dict[str, Any]
    callbacks: Sequence[CallbackHandler]
    run_name: str
    run_id: uuid.UUID | str
    max_concurrency: int | None
    configurable: dict[str, Any]
    recursion_limit: int
    """Accepted for compatibility with graph frameworks; unused by a single model call."""


_CONFIG_KEYS = frozenset(RunConfig.__annotations__)


def check_config(config: Any) -> RunConfig:
    """Validate a config dict; unknown keys are an error rather than silently ignored."""
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise UserError(
            f"config must be a dict such as {{'tags': ['eval'], 'callbacks': [handler]}}, "
            f"got {type(config).__name__}."
        )
    unknown = set(config) - _CONFIG_KEYS
    if unknown:
        import difflib

        first = sorted(unknown, key=str)[0]
        close = difflib.get_close_matches(str(first), sorted(_CONFIG_KEYS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UserError(
            f"Unknown config key(s) {sorted(unknown, key=str)}.{hint} Accepted: "
            f"{', '.join(sorted(_CONFIG_KEYS))}. Runtime model settings go under "
            "config['configurable']."
        )
    return config  # type: ignore[return-value]


@dataclass
class RunInfo:
    """Who a callback is hearing about: one model call."""

    run_id: str
    run_name: str
    provider: str
    model: str | None
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


class CallbackHandler:
    """Subclass and override what you need; every method is optional.

    Methods may be ``async def``: async calls (`ainvoke`, `astream`) await them; sync calls
    cannot, and raise `UserError` if given an async handler.
    """

    def on_start(self, run: RunInfo, messages: list[BaseMessage], params: dict[str, Any]) -> Any:
        """Before the request: the messages sent and the request parameters."""

    def on_token(self, run: RunInfo, chunk: AIMessageChunk) -> Any:
        """For each streamed chunk."""

    def on_end(self, run: RunInfo, message: AIMessage) -> Any:
        """After the reply: the whole message (merged, when streamed)."""

    def on_error(self, run: RunInfo, error: BaseException) -> Any:
        """When the call fails, after retries."""


@dataclass
class CallRecord:
    """One finished model call, as seen by call observers (the pytest plugin's `model_calls`)."""

    provider: str
    model: str | None
    messages: list[BaseMessage]
    params: dict[str, Any]
    tools: list[dict[str, Any]]
    schema: dict[str, Any] | None
    config: dict[str, Any]
    output: AIMessage | None
    error: BaseException | None = None
    streamed: bool = False

    @property
    def usage(self) -> dict[str, Any] | None:
        """The output's usage metadata, if any."""
        return self.output.usage_metadata if self.output is not None else None


_observers: list[Callable[[CallRecord], None]] = []


def add_call_observer(observer: Callable[[CallRecord], None]) -> None:
    """Call `observer(record)` after every model call in this process."""
    _observers.append(observer)


def remove_call_observer(observer: Callable[[CallRecord], None]) -> None:
    """Stop notifying `observer`; unknown observers are ignored."""
    try:
        _observers.remove(observer)
    except ValueError:
        pass


class ModelOverride(Protocol):
    """What `myna.testing.override_models` puts on `_OVERRIDES` (the last entry wins)."""

    def __call__(self, model: str | None, provider: str | None, params: dict[str, Any]) -> Any:
        """The model `init_chat_model(model, model_provider=provider, **params)` returns."""

    def redirect(self, live: Any) -> Any:
        """The runnable that takes the calls of `live`, a model built before the override
        (or outside it); None to let `live` answer itself (a model the override handed out)."""


_OVERRIDES: list[ModelOverride] = []
"""Test hook: while non-empty, `init_chat_model` (and configurable models) return what the
last entry builds from ``(model, model_provider, params)``, and every existing model whose
class is `overridable` sends its calls to the entry's ``redirect(model)``. Set by
`myna.testing.override_models` and the pytest plugin's ``override_models`` fixture."""
