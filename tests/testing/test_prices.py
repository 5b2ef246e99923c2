"""Price table lookups, costs, and the [tool.myna.prices] extension."""

from __future__ import annotations

from pathlib import Path

import pytest

from myna.exceptions import UserError
from myna.testing import Price, PriceTable


def test_lookup_exact_prefix_and_provider_scoped() -> None:
    table = PriceTable()
    assert table.lookup("openai", "gpt-4.1-mini") == Price(0.40, 1.60, 0.10)
    # a dated snapshot uses the longest matching entry, not "gpt-4.1"
    assert table.lookup("openai", "gpt-4.1-mini-2025-04-14") == Price(0.40, 1.60, 0.10)
    assert table.lookup("fake", "anything") == Price(0.0, 0.0)
    assert table.lookup("ollama", "llama3.1:8b") == Price(0.0, 0.0)
    assert table.lookup("acme", "acme-1") is None
    table.extend({"acme:acme-1": {"input": 1, "output": 2}})
    assert table.lookup("acme", "acme-1-large") == Price(1.0, 2.0)
    assert table.lookup("other", "acme-1") is None  # scoped to provider acme


def test_cost_counts_cache_reads_at_their_price() -> None:
    price = Price(input=2.0, output=8.0, cache_read=0.5)
    usage = {
        "input_tokens": 1_000_000,
        "output_tokens": 500_000,
        "input_token_details": {"cache_read": 400_000},
    }
    assert price.cost(usage) == pytest.approx(0.6 * 2.0 + 0.4 * 0.5 + 0.5 * 8.0)
    assert Price(1.0, 1.0).cost({"input_tokens": 10, "output_tokens": 0}) == pytest.approx(1e-5)
    assert PriceTable().cost("acme", "x", {"input_tokens": 1}) is None
    assert PriceTable().cost("openai", "gpt-4.1", None) == 0.0


def test_from_pyproject(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[tool.myna.prices]\n"acme:acme-1" = { input = 1.5, output = 3 }\n'
        '"gpt-4.1" = { input = 9, output = 9, cache_read = 1 }\n'
    )
    table = PriceTable.from_pyproject(pyproject)
    assert table.lookup("acme", "acme-1") == Price(1.5, 3.0)
    assert table.lookup("openai", "gpt-4.1") == Price(9.0, 9.0, 1.0)
    assert PriceTable.from_pyproject(None).lookup("openai", "gpt-4.1") == Price(2.0, 8.0, 0.5)
    assert PriceTable.from_pyproject(tmp_path / "pytest.ini").prices == PriceTable().prices


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('"m" = 3', "'m' must be a table like \"m\" = { input = 0.40, output = 1.60 }"),
        ('"m" = { input = 1 }', "'m' needs output (USD per million tokens)"),
        ('"m" = { input = 1, output = -2 }', "'m' output=-2 must be a number >= 0"),
        ('"m" = { input = 1, output = 2, cached = 1 }', "'m' has unknown key(s) ['cached']"),
    ],
    ids=["not-a-table", "no-output", "negative", "unknown-key"],
)
def test_bad_entries_name_the_model_and_fix(tmp_path: Path, entry: str, message: str) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(f"[tool.myna.prices]\n{entry}\n")
    with pytest.raises(UserError) as info:
        PriceTable.from_pyproject(pyproject)
    assert message in str(info.value)
    assert "[tool.myna.prices] in" in str(info.value)
