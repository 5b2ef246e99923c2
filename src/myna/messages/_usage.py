"""Token usage: the `UsageMetadata` shape, how one is built from counts, and how usages add up."""

from __future__ import annotations

from typing import Any

from typing_extensions import NotRequired, TypedDict

__all__ = [
    "InputTokenDetails",
    "OutputTokenDetails",
    "UsageMetadata",
    "add_usage",
    "build_usage",
]


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


def build_usage(
    input_tokens: int,
    output_tokens: int,
    *,
    total_tokens: int | None = None,
    cache_read: int | None = None,
    cache_creation: int | None = None,
    input_audio: int | None = None,
    reasoning: int | None = None,
    output_audio: int | None = None,
    input_extra: dict[str, int] | None = None,
) -> UsageMetadata:
    """A `UsageMetadata` from counts, with detail keys only for the counts given.

    Every codec's ``usage_from_wire`` ends here, so all providers' usage has one shape:
    ``input_tokens`` is the whole prompt (cache reads and writes included) and
    ``output_tokens`` the whole reply (reasoning included).

    ```python
    usage = build_usage(120, 30, cache_read=100, reasoning=12)
    # {"input_tokens": 120, "output_tokens": 30, "total_tokens": 150,
    #  "input_token_details": {"cache_read": 100}, "output_token_details": {"reasoning": 12}}
    ```

    Args:
        input_tokens: every prompt token.
        output_tokens: every generated token.
        total_tokens: the provider's own total, if it reports one; else the sum.
        cache_read: prompt tokens served from the cache.
        cache_creation: prompt tokens written to the cache.
        input_audio: prompt tokens that were audio.
        reasoning: output tokens spent on reasoning.
        output_audio: output tokens that were audio.
        input_extra: provider-specific input detail counts (Anthropic's cache TTL keys).
    """
    usage: dict[str, Any] = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens if total_tokens is None else total_tokens,
    }
    inputs = {
        key: value
        for key, value in (
            ("audio", input_audio),
            ("cache_read", cache_read),
            ("cache_creation", cache_creation),
        )
        if value is not None
    }
    inputs.update(input_extra or {})
    if inputs:
        usage["input_token_details"] = inputs
    outputs = {
        key: value
        for key, value in (("audio", output_audio), ("reasoning", reasoning))
        if value is not None
    }
    if outputs:
        usage["output_token_details"] = outputs
    return usage  # type: ignore[return-value]


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
