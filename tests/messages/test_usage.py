"""`build_usage`: the one usage builder every codec's ``usage_from_wire`` uses."""

from __future__ import annotations

from myna.messages import add_usage, build_usage


def test_only_the_counts_given_become_details():
    assert build_usage(10, 5) == {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}


def test_every_detail_lands_under_its_standard_key():
    usage = build_usage(
        120,
        30,
        cache_read=100,
        cache_creation=5,
        input_audio=7,
        reasoning=12,
        output_audio=3,
        input_extra={"ephemeral_5m_input_tokens": 5},
    )
    assert usage == {
        "input_tokens": 120,
        "output_tokens": 30,
        "total_tokens": 150,
        "input_token_details": {
            "audio": 7,
            "cache_read": 100,
            "cache_creation": 5,
            "ephemeral_5m_input_tokens": 5,
        },
        "output_token_details": {"audio": 3, "reasoning": 12},
    }


def test_a_reported_total_wins_over_the_sum():
    assert build_usage(10, 5, total_tokens=18)["total_tokens"] == 18


def test_zero_counts_are_kept_none_counts_are_not():
    usage = build_usage(0, 0, cache_read=0, reasoning=None)
    assert usage["input_token_details"] == {"cache_read": 0}
    assert "output_token_details" not in usage


def test_built_usages_add_up():
    total = add_usage(build_usage(1, 2, cache_read=1), build_usage(3, 4, reasoning=2))
    assert total == {
        "input_tokens": 4,
        "output_tokens": 6,
        "total_tokens": 10,
        "input_token_details": {"cache_read": 1},
        "output_token_details": {"reasoning": 2},
    }
