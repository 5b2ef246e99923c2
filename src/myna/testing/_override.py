"""`override_models`: send every model call of the code under test to your fake.

Two paths reach the override while it is active: `init_chat_model(...)` returns it, and a
model built earlier (``LLM = init_chat_model(...)`` at import time, or a provider class built
directly) sends its `invoke` / `stream` / `batch` calls (sync and async, also through
`bind_tools`, `bind` and `with_structured_output`) to it. Fakes are left alone: they never
reach a provider, and one may be the override itself.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ..exceptions import UserError

__all__ = ["override_models"]

Picker = Callable[[str | None, str | None, dict[str, Any], Any], Any]
"""``(key, model as written, params, live model or None) -> the override's model``."""


def _key(model: str | None, provider: str | None) -> str | None:
    from ..models import parse_model_string

    if model is None:
        return None
    # typos stay errors under an override: the real call would have failed too
    found_provider, name = parse_model_string(model, provider)
    return f"{found_provider}:{name}"


def _live_key(live: Any) -> tuple[str | None, str | None, dict[str, Any]]:
    """``(key, model, params)`` of a model built before the override."""
    origin = getattr(live, "_origin", None)
    if origin is not None:
        model, provider, params = origin
        return _key(model, provider), model, dict(params)
    # built directly (OpenAIChatModel(...)): its provider and model name are the key
    model, provider = live.model, live.provider
    try:
        key = _key(model, provider)
    except UserError:  # a third-party provider nobody registered
        key = f"{provider}:{model}" if model else None
    return key, model, {k: v for k, v in live.defaults.items() if k != "model"}


def _picker(target: Any) -> Picker:
    from ..models import Runnable

    if isinstance(target, Runnable):
        return lambda key, model, params, live: target
    if isinstance(target, Mapping):
        table = dict(target)

        def pick(key: str | None, model: str | None, params: dict[str, Any], live: Any) -> Any:
            for candidate in (model, key, "*"):
                if candidate is not None and candidate in table:
                    return table[candidate]
            close = difflib.get_close_matches(str(key), [str(k) for k in table], n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            built = (
                f" (called on {type(live).__name__} {live.model!r}, built before the override)"
                if live is not None
                else ""
            )
            raise UserError(
                f"override_models has no model for {key or model!r}{built}.{hint} Overridden: "
                f"{', '.join(map(repr, table))}. Add it, or a '*' entry for every other model."
            )

        return pick
    if callable(target):
        return lambda key, model, params, live: target(key, **params)
    raise UserError(
        "override_models() takes a model (e.g. FakeChatModel([...])), a dict of "
        "{'provider:model': model, '*': default}, or a function (model_string, **params) -> "
        f"model; got {type(target).__name__}."
    )


class _Override:
    """One active `override_models` block: builds models and redirects existing ones."""

    def __init__(self, target: Any) -> None:
        self.pick = _picker(target)
        self.owned: dict[int, Any] = {}
        """Models the override gave out (and the models inside them), by id: they answer
        their calls themselves. Held here, so an id cannot be reused while the block lasts."""
        self.taken: dict[int, tuple[Any, Any]] = {}
        """id of a model built before the override -> (that model, where its calls go)."""
        self._own(target)
        if isinstance(target, Mapping):
            for value in target.values():
                self._own(value)

    def _own(self, obj: Any, depth: int = 0) -> None:
        from ..models import Runnable

        if not isinstance(obj, Runnable) or id(obj) in self.owned or depth > 4:
            return
        self.owned[id(obj)] = obj
        # a bound or structured wrapper calls the model inside it: that one is ours too
        for value in getattr(obj, "__dict__", {}).values():
            self._own(value, depth + 1)

    def __call__(self, model: str | None, provider: str | None, params: dict[str, Any]) -> Any:
        made = self.pick(_key(model, provider), model, params, None)
        self._own(made)
        return made

    def build_langchain(self, key: str, model: str, params: dict[str, Any]) -> Any:
        """The model LangChain's `init_chat_model(model, **params)` returns (key is
        LangChain's ``"provider:model"``, whose providers myna need not know)."""
        made = self.pick(key, model, params, None)
        self._own(made)
        return made

    def redirect(self, live: Any) -> Any:
        if id(live) in self.owned:
            return None
        found = self.taken.get(id(live))
        if found is not None:
            return found[1]
        key, model, params = _live_key(live)
        made = self.pick(key, model, params, live)
        self._own(made)
        self.taken[id(live)] = (live, made)
        return made


_LANGCHAIN_HOOK = "myna.interop.langchain"
"""Loaded by path (an upper layer): its `override_init_chat_model` patches LangChain."""


def _override_langchain(override: _Override) -> Callable[[], None] | None:
    """Cover LangChain's `init_chat_model` too, when langchain is imported or installed."""
    if "langchain.chat_models" not in sys.modules and (
        importlib.util.find_spec("langchain") is None
        or importlib.util.find_spec("langchain_core") is None
    ):
        return None
    hook = importlib.import_module(_LANGCHAIN_HOOK).override_init_chat_model
    return hook(override.build_langchain)


@contextmanager
def override_models(target: Any) -> Iterator[Any]:
    """While active, every model call in the code under test goes to `target`.

    ```python
    from myna.fakes import FakeChatModel
    from myna.testing import override_models

    with override_models(FakeChatModel(["Sunny.", "Cold."])) as fake:
        assert my_app.answer("Weather?") == "Sunny."  # my_app calls init_chat_model inside
        assert my_app.LLM.invoke("Oslo?").text == "Cold."  # LLM was built at import time
    assert fake.calls[0].messages[-1].text == "Weather?"
    ```

    `init_chat_model(...)` returns `target`, and models built before the block (a
    module-level ``LLM = init_chat_model(...)``, or a provider class built directly) send
    their calls to it: `invoke`, `stream`, `batch` and their async twins, also through
    `bind_tools`, `bind` and `with_structured_output` (the bound tools and schema travel
    with each call, so the fake sees them). Fakes built outside the block keep answering
    themselves. Model strings are still checked (a typo still fails), and configurable
    models resolve to the override too. With langchain installed, LangChain's
    `init_chat_model` returns the override as well (as a LangChain model, see
    `myna.interop.langchain.to_langchain`); LangChain models built before the block are
    not redirected.

    Args:
        target: a model returned for every model string; a dict mapping
            ``"provider:model"`` (or the string as written) to models, with ``"*"`` as the
            default (a model built earlier is looked up by the string it was built from); or
            a function ``(model_string, **params) -> model``, called by each
            `init_chat_model` and once for each model built earlier.
    """
    from ..models import add_model_override, remove_model_override

    override = _Override(target)
    add_model_override(override)
    undo = None
    try:
        undo = _override_langchain(override)
        yield target
    finally:
        remove_model_override(override)
        if undo is not None:
            undo()
