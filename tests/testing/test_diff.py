"""Field-level message diffs (what the plugin's assertrepr hook prints)."""

from __future__ import annotations

from myna.messages import AIMessage, HumanMessage
from myna.testing import diff_messages
from myna.testing._diff import MISSING, diff_values, explain_comparison


def test_diff_values_paths() -> None:
    assert diff_values({"a": [1, {"b": 2}]}, {"a": [1, {"b": 3}], "c": 1}) == [
        ("a[1].b", 2, 3),
        ("c", MISSING, 1),
    ]
    assert diff_values([1], [1, 2]) == [("[1]", MISSING, 2)]
    assert diff_values("x", "x") == []


def test_message_diff_names_fields() -> None:
    left = AIMessage(
        "Sunny in Paris.",
        tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "c1"}],
        usage_metadata={"input_tokens": 3, "output_tokens": 5, "total_tokens": 8},
    )
    right = AIMessage(
        "Sunny in Oslo.",
        tool_calls=[{"name": "get_weather", "args": {"city": "Oslo"}, "id": "c1"}],
        usage_metadata={"input_tokens": 3, "output_tokens": 6, "total_tokens": 9},
    )
    assert diff_messages(left, right) == [
        "  content: 'Sunny in Paris.' != 'Sunny in Oslo.'",
        "  tool_calls[0].args.city: 'Paris' != 'Oslo'",
        "  usage_metadata.output_tokens: 5 != 6",
        "  usage_metadata.total_tokens: 8 != 9",
    ]


def test_long_text_is_cut_around_the_first_difference() -> None:
    base = "word " * 40
    lines = diff_messages(AIMessage(base + "end"), AIMessage(base + "END"))
    assert len(lines) == 1 and "(differs at char 200)" in lines[0]
    assert len(lines[0]) < 200


def test_type_mismatch_and_lists() -> None:
    lines = diff_messages(HumanMessage("hi"), AIMessage("hi"))
    assert lines[0] == "  type: HumanMessage ('human') != AIMessage ('ai')"
    lines = diff_messages([HumanMessage("a")], [HumanMessage("a"), AIMessage("b")])
    assert lines[0] == "  1 messages != 2 messages"
    assert lines[1].startswith("  [1]: <missing> != AIMessage")


def test_explain_comparison_only_for_messages() -> None:
    assert explain_comparison("==", 1, 2) is None
    assert explain_comparison("!=", AIMessage("a"), AIMessage("b")) is None
    lines = explain_comparison("==", AIMessage("a"), AIMessage("b"))
    assert lines == [
        "AIMessage(...) == AIMessage(...)",
        "myna: AIMessage differs in 1 field (left != right):",
        "  content: 'a' != 'b'",
    ]
    lines = explain_comparison("==", [AIMessage("a")], [AIMessage("b")])
    assert lines[:2] == [
        "[1 messages] == [1 messages]",
        "myna: message lists differ in 1 field (left != right):",
    ]


def test_many_differences_are_capped() -> None:
    left = {f"k{i}": i for i in range(40)}
    right = {f"k{i}": -i for i in range(1, 41)}
    from myna.testing._diff import format_differences

    lines = format_differences(diff_values(left, right), limit=5)
    assert len(lines) == 6 and lines[-1].endswith("more")
