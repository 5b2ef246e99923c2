"""Per-call configuration, callbacks, and call observers."""

from __future__ import annotations

import difflib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from typing_extensions import TypedDict

from .._text import short_repr
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
    if config.get("callbacks") is not None:
        check_handlers("config['callbacks']", config["callbacks"])
    if not _CONFIG_KEYS.issuperset(config):  # no set built on the usual, valid path
        unknown = set(config) - _CONFIG_KEYS
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

    Any object with at least one of these methods works as a handler too (duck typing): the
    methods it lacks are skipped. A handler is checked when it is passed (``callbacks=[...]``
    on the model or in the call's config): an object with none of the methods, a class
    instead of an instance, or a method name one typo away (``on_tokens``) is a `UserError`
    then, rather than a handler that silently hears nothing.

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


CALLBACK_METHODS = ("on_start", "on_token", "on_end", "on_error")
"""The methods a callback handler may define, in the order they fire."""

_checked_types: dict[type, bool] = {}
"""Handler classes whose method names were checked (dir() is slow; config is per call)."""


def check_handlers(where: str, handlers: Any) -> list[Any]:
    """The handlers as a list, each checked: an instance with at least one callback method
    and no misspelt ones. Raises `UserError` naming the handler and the fix."""
    if handlers is None:
        return []
    if not isinstance(handlers, (list, tuple)):
        one = f"[{type(handlers).__name__}()]" if _methods(handlers) else "[handler]"
        raise UserError(
            f"{where} must be a list of callback handlers, got {type(handlers).__name__}; "
            f"wrap a single handler in a list: {one}."
        )
    for handler in handlers:
        _check_handler(where, handler)
    return list(handlers)


def _methods(handler: Any) -> list[str]:
    return [m for m in CALLBACK_METHODS if callable(getattr(handler, m, None))]


def _check_names(where: str, owner: str, names: Any) -> None:
    """A name one typo away from a callback method would never be called: say so."""
    for name in names:
        if isinstance(name, str) and name.startswith("on_") and name not in CALLBACK_METHODS:
            close = difflib.get_close_matches(name, CALLBACK_METHODS, n=1, cutoff=0.85)
            if close:
                raise UserError(
                    f"{where}: {owner}.{name} is not a callback method, so it would never be "
                    f"called. Did you mean {close[0]!r}? Callback methods: "
                    f"{', '.join(CALLBACK_METHODS)}."
                )


def _check_handler(where: str, handler: Any) -> None:
    if isinstance(handler, type):
        raise UserError(
            f"{where} holds the class {handler.__name__}, not a handler; pass an instance: "
            f"{handler.__name__}()."
        )
    kind = type(handler)
    if kind not in _checked_types:
        _check_names(where, kind.__name__, sorted(dir(kind)))
        _checked_types[kind] = True
    own = getattr(handler, "__dict__", None)
    if own:
        _check_names(where, kind.__name__, list(own))
    for name in CALLBACK_METHODS:
        value = getattr(handler, name, None)
        if value is not None and not callable(value):
            raise UserError(
                f"{where}: {kind.__name__}.{name} is {type(value).__name__}, not a method."
            )
    if not _methods(handler):
        if kind.__repr__ is object.__repr__:
            described = f"{kind.__name__} object"
        else:
            described = f"{short_repr(handler, 60)} ({kind.__name__})"
        raise UserError(
            f"{where}: {described} has none of the callback "
            f"methods {', '.join(CALLBACK_METHODS)}. Subclass myna.CallbackHandler, or define "
            "any of them (the others are skipped)."
        )


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
