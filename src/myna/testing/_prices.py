"""Token prices and cost estimates for the pytest plugin's report.

Prices are US dollars per million tokens. The built-in table covers common models and is
an estimate only (list prices change); extend or correct it in ``pyproject.toml``:

```toml
[tool.myna.prices]
"gpt-4.1-mini" = { input = 0.40, output = 1.60, cache_read = 0.10 }
"acme:acme-large" = { input = 1.0, output = 4.0 }   # provider:model for one provider only
```

A model name matches its exact entry, else the longest entry it starts with
(``gpt-4.1-mini-2025-04-14`` uses ``gpt-4.1-mini``). Fakes and local Ollama models cost 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..exceptions import UserError

__all__ = ["DEFAULT_PRICES", "Price", "PriceTable"]


@dataclass(frozen=True)
class Price:
    """What a million tokens cost, in US dollars."""

    input: float
    output: float
    cache_read: float | None = None
    """Price of cache-read input tokens; None: same as `input`."""

    def cost(self, usage: Mapping[str, Any]) -> float:
        """The cost of one call's usage."""
        input_tokens = usage.get("input_tokens") or 0
        output_tokens = usage.get("output_tokens") or 0
        cached = (usage.get("input_token_details") or {}).get("cache_read") or 0
        cached = min(cached, input_tokens)
        cache_price = self.input if self.cache_read is None else self.cache_read
        total = (
            (input_tokens - cached) * self.input
            + cached * cache_price
            + output_tokens * self.output
        )
        return total / 1_000_000


DEFAULT_PRICES: dict[str, Price] = {
    "gpt-4.1": Price(2.00, 8.00, 0.50),
    "gpt-4.1-mini": Price(0.40, 1.60, 0.10),
    "gpt-4.1-nano": Price(0.10, 0.40, 0.025),
    "gpt-4o": Price(2.50, 10.00, 1.25),
    "gpt-4o-mini": Price(0.15, 0.60, 0.075),
    "gpt-5": Price(1.25, 10.00, 0.125),
    "gpt-5-mini": Price(0.25, 2.00, 0.025),
    "gpt-5-nano": Price(0.05, 0.40, 0.005),
    "o3": Price(2.00, 8.00, 0.50),
    "o4-mini": Price(1.10, 4.40, 0.275),
    "claude-opus-4": Price(15.00, 75.00, 1.50),
    "claude-sonnet-4": Price(3.00, 15.00, 0.30),
    "claude-haiku-4-5": Price(1.00, 5.00, 0.10),
    "claude-3-5-haiku": Price(0.80, 4.00, 0.08),
    "gemini-2.5-pro": Price(1.25, 10.00, 0.31),
    "gemini-2.5-flash": Price(0.30, 2.50, 0.075),
    "gemini-2.5-flash-lite": Price(0.10, 0.40, 0.025),
    "gemini-2.0-flash": Price(0.10, 0.40, 0.025),
}
"""Built-in estimates (USD per million tokens; check your provider's price page)."""

_FREE_PROVIDERS = frozenset({"fake", "ollama"})
_FREE = Price(0.0, 0.0)


class PriceTable:
    """Look up prices by ``provider:model`` or model name, and estimate costs."""

    def __init__(self, prices: Mapping[str, Price] | None = None) -> None:
        self.prices: dict[str, Price] = dict(DEFAULT_PRICES if prices is None else prices)

    def __repr__(self) -> str:
        return f"PriceTable({len(self.prices)} models)"

    def extend(self, entries: Mapping[str, Any], *, source: str = "prices") -> PriceTable:
        """Add or replace entries given as ``{"model": {"input": .., "output": ..}}``."""
        for key, value in entries.items():
            self.prices[str(key)] = _parse_price(key, value, source)
        return self

    @classmethod
    def from_pyproject(cls, path: str | Path | None) -> PriceTable:
        """The built-in table extended by ``[tool.myna.prices]`` of a pyproject.toml, if any."""
        table = cls()
        if path is None or not Path(path).is_file() or Path(path).name != "pyproject.toml":
            return table
        try:
            import tomllib
        except ImportError:  # Python 3.10: pytest depends on tomli there
            import tomli as tomllib  # type: ignore[no-redef]
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
        entries = data.get("tool", {}).get("myna", {}).get("prices", {})
        if not isinstance(entries, dict):
            raise UserError(
                f"[tool.myna.prices] in {path} must be a table of models, e.g. "
                '"gpt-4.1-mini" = { input = 0.40, output = 1.60 }.'
            )
        return table.extend(entries, source=f"[tool.myna.prices] in {path}")

    def lookup(self, provider: str | None, model: str | None) -> Price | None:
        """The price of a model, or None when the table has no entry for it."""
        if provider in _FREE_PROVIDERS:
            return _FREE
        if not model:
            return None
        exact = self.prices.get(f"{provider}:{model}") or self.prices.get(model)
        if exact is not None:
            return exact
        best: tuple[int, Price] | None = None
        for key, price in self.prices.items():
            head, sep, name = key.partition(":")
            if sep and head != provider:
                continue
            name = name if sep else key
            if model.startswith(name) and (best is None or len(name) > best[0]):
                best = (len(name), price)
        return best[1] if best else None

    def cost(
        self, provider: str | None, model: str | None, usage: Mapping[str, Any] | None
    ) -> float | None:
        """The estimated cost of one call, 0 without usage, None for an unpriced model."""
        price = self.lookup(provider, model)
        if price is None:
            return None
        return price.cost(usage or {})


def _parse_price(key: Any, value: Any, source: str) -> Price:
    example = f'"{key}" = {{ input = 0.40, output = 1.60 }}'
    if not isinstance(value, Mapping):
        raise UserError(f"{source}: {key!r} must be a table like {example}, got {value!r}.")
    unknown = set(value) - {"input", "output", "cache_read"}
    if unknown:
        raise UserError(
            f"{source}: {key!r} has unknown key(s) {sorted(unknown)}; use input, output and "
            f"optionally cache_read (USD per million tokens), e.g. {example}."
        )
    numbers = {}
    for name in ("input", "output", "cache_read"):
        number = value.get(name)
        if number is None and name != "cache_read":
            raise UserError(f"{source}: {key!r} needs {name} (USD per million tokens): {example}.")
        if number is not None and (
            isinstance(number, bool) or not isinstance(number, (int, float)) or number < 0
        ):
            raise UserError(f"{source}: {key!r} {name}={number!r} must be a number >= 0.")
        numbers[name] = float(number) if number is not None else None
    return Price(numbers["input"], numbers["output"], numbers["cache_read"])  # type: ignore[arg-type]
