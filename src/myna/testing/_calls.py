"""`ModelCalls` and `record_calls`: every model call made in a block, in order."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["ModelCalls", "record_calls"]


class ModelCalls(list):
    """A list of `myna.models.CallRecord`, oldest first, with a few helpers.

    Each record has `provider`, `model`, `messages` (sent), `tools`, `schema`, `params`,
    `config`, `output` (the reply, None if the call failed), `error`, `streamed` and `usage`.
    """

    @property
    def last(self) -> Any:
        """The most recent call; an AssertionError if there was none."""
        if not self:
            raise AssertionError("myna: no model call was made.")
        return self[-1]

    @property
    def count(self) -> int:  # type: ignore[override]
        """How many calls were made."""
        return len(self)

    @property
    def called(self) -> bool:
        """True if any call was made."""
        return bool(self)

    @property
    def outputs(self) -> list[Any]:
        """The replies, in order (None for failed calls)."""
        return [record.output for record in self]

    @property
    def usage(self) -> dict[str, Any]:
        """Usage summed over every call that reported some."""
        from ..messages import add_usage

        total: Any = None
        for record in self:
            total = add_usage(total, record.usage)
        return dict(total) if total else {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}

    def by_model(self, model: str) -> ModelCalls:
        """The calls to one model: ``"gpt-4.1"`` or ``"openai:gpt-4.1"``."""
        return ModelCalls(
            r for r in self if model in (r.model, f"{r.provider}:{r.model}", r.provider)
        )


@contextmanager
def record_calls() -> Iterator[ModelCalls]:
    """Collect every model call made while the block runs (any model, any thread).

    ```python
    with record_calls() as calls:
        plan_trip("Paris?")
    assert calls.count == 3 and calls[0].tools[0]["name"] == "get_weather"
    ```
    """
    from ..models import add_call_observer, remove_call_observer

    calls = ModelCalls()
    observer = calls.append
    add_call_observer(observer)
    try:
        yield calls
    finally:
        remove_call_observer(observer)
