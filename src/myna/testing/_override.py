"""`override_models`: make every `init_chat_model` in the code under test return your fake."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ..exceptions import UserError

__all__ = ["override_models"]


def _factory(target: Any) -> Callable[[str | None, str | None, dict[str, Any]], Any]:
    from ..models import parse_model_string
    from ..models._runnable import Runnable

    def key_of(model: str | None, provider: str | None) -> str | None:
        if model is None:
            return None
        # typos stay errors under an override: the real call would have failed too
        found_provider, name = parse_model_string(model, provider)
        return f"{found_provider}:{name}"

    if isinstance(target, Runnable):

        def build(model: str | None, provider: str | None, params: dict[str, Any]) -> Any:
            key_of(model, provider)
            return target

        return build
    if isinstance(target, Mapping):
        table = dict(target)

        def pick(model: str | None, provider: str | None, params: dict[str, Any]) -> Any:
            key = key_of(model, provider)
            for candidate in (model, key, "*"):
                if candidate is not None and candidate in table:
                    return table[candidate]
            close = difflib.get_close_matches(str(key), [str(k) for k in table], n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise UserError(
                f"override_models has no model for {key or model!r}.{hint} Overridden: "
                f"{', '.join(map(repr, table))}. Add it, or a '*' entry for every other model."
            )

        return pick
    if callable(target):

        def call(model: str | None, provider: str | None, params: dict[str, Any]) -> Any:
            return target(key_of(model, provider), **params)

        return call
    raise UserError(
        "override_models() takes a model (e.g. FakeChatModel([...])), a dict of "
        "{'provider:model': model, '*': default}, or a function (model_string, **params) -> "
        f"model; got {type(target).__name__}."
    )


@contextmanager
def override_models(target: Any) -> Iterator[Any]:
    """While active, `init_chat_model(...)` anywhere returns `target` instead of a real model.

    ```python
    from myna.fakes import FakeChatModel
    from myna.testing import override_models

    with override_models(FakeChatModel(["Sunny."])) as fake:
        assert my_app.answer("Weather?") == "Sunny."   # my_app calls init_chat_model inside
    assert fake.calls[0].messages[-1].text == "Weather?"
    ```

    Model strings are still checked (a typo still fails). Configurable models resolve to the
    override too. Code that built its model before the block (at import time) keeps it.

    Args:
        target: a model returned for every model string; a dict mapping
            ``"provider:model"`` (or the string as written) to models, with ``"*"`` as the
            default; or a function ``(model_string, **params) -> model``.
    """
    from ..models import _registry

    build = _factory(target)
    _registry._OVERRIDES.append(build)
    try:
        yield target
    finally:
        _registry._OVERRIDES.remove(build)
