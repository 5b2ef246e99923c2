"""`override_models` for LangChain's `init_chat_model`: the models it builds become yours."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["override_init_chat_model"]

Builder = Callable[[str, str | None, dict[str, Any]], Any]
"""``(key "provider:model", model as written, params) -> the override's model``."""


def override_init_chat_model(build: Builder) -> Callable[[], None]:
    """Make LangChain's `init_chat_model` (fixed and configurable models) return `build`'s
    model, as a LangChain model; returns the function that undoes it.

    `myna.testing.override_models` calls this while it is active, when langchain is
    installed; you need not call it yourself. The patch sits where every
    `init_chat_model` path builds its model (``langchain.chat_models.base``), so code that
    imported `init_chat_model` before the override is covered too.
    """
    from langchain.chat_models import base
    from langchain_core.language_models import BaseChatModel

    from ._to import to_langchain

    original = base._init_chat_model_helper

    def helper(model: str, *, model_provider: str | None = None, **kwargs: Any) -> Any:
        name, provider = base._parse_model(model, model_provider)
        made = build(f"{provider}:{name}", model, kwargs)
        return made if isinstance(made, BaseChatModel) else to_langchain(made)

    base._init_chat_model_helper = helper

    def undo() -> None:
        if base._init_chat_model_helper is helper:
            base._init_chat_model_helper = original

    return undo
