"""Token usage: the `UsageMetadata` shape and how usages add up."""

from __future__ import annotations

from typing import Any

from typing_extensions import NotRequired, TypedDict

__all__ = ["InputTokenDetails", "OutputTokenDetails", "UsageMetadata", "add_usage"]


class InputTokenDetails(TypedDict, total=False):
    """Breakdown of input tokens; keys are optional and need not sum to the total.

    Providers may add their own int keys (Anthropic's cache TTL breakdown, for example).
    """

    __pydantic_config__ = {"extra": "allow"}  # type: ignore[misc]

    audio: int
    cache_read: int
    """Tokens served from the provider's prompt cache (a cache hit)."""
    cache_creation: int
    """Tokens written to the prompt cache on a miss."""
    ephemeral_5m_input_tokens: int
    """Anthropic: cache writes with a 5-minute time to live."""
    ephemeral_1h_input_tokens: int
    """Anthropic: cache writes with a 1-hour time to live."""


class OutputTokenDetails(TypedDict, total=False):
    """Breakdown of output tokens; `reasoning` is a subset of `output_tokens`."""

    __pydantic_config__ = {"extra": "allow"}  # type: ignore[misc]

    audio: int
    reasoning: int


class UsageMetadata(TypedDict):
    """Token counts of one model call, the same keys for every provider."""

    input_tokens: int
    output_tokens: int
    total_tokens: int
    input_token_details: NotRequired[InputTokenDetails]
    output_token_details: NotRequired[OutputTokenDetails]


def _add(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    out = dict(left)
    for key, value in right.items():
        if key not in out or out[key] is None:
            out[key] = value.copy() if isinstance(value, dict) else value
        elif isinstance(value, dict):
            out[key] = _add(out[key], value)
        elif value is not None:
            out[key] = out[key] + value
    return out


def add_usage(left: UsageMetadata | None, right: UsageMetadata | None) -> UsageMetadata | None:
    """Add two usages key by key (details included); None counts as nothing used."""
    if left is None:
        return right
    if right is None:
        return left
    return _add(left, right)  # type: ignore[arg-type,return-value]
