"""`coerce_messages`: every accepted input form, and the error for everything else."""

from __future__ import annotations

from typing import Any

import pytest

from myna.exceptions import UserError
from myna.messages import (
    AIMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    coerce_messages,
)


def test_a_string_is_one_human_message() -> None:
    assert coerce_messages("hi") == [HumanMessage("hi")]


def test_a_message_or_a_list_of_messages() -> None:
    system = SystemMessage("be brief")
    assert coerce_messages(system) == [system]
    assert coerce_messages([system, HumanMessage("hi")]) == [system, HumanMessage("hi")]
    assert coerce_messages((system,)) == [system]


def test_messages_are_passed_through_not_copied() -> None:
    human = HumanMessage("hi")
    assert coerce_messages([human])[0] is human


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (("system", "Be brief"), SystemMessage("Be brief")),
        (("human", "hi"), HumanMessage("hi")),
        (("user", "hi"), HumanMessage("hi")),
        (("ai", "yo"), AIMessage("yo")),
        (("assistant", "yo"), AIMessage("yo")),
        (["user", "list form"], HumanMessage("list form")),
        (("user", [{"type": "text", "text": "t"}]), HumanMessage([{"type": "text", "text": "t"}])),
        (
            ("developer", "rules"),
            SystemMessage("rules", additional_kwargs={"openai_role": "developer"}),
        ),
    ],
)
def test_role_tuples(item: Any, expected: Any) -> None:
    assert coerce_messages([item]) == [expected]


def test_a_bare_role_tuple_is_one_message() -> None:
    assert coerce_messages(("system", "x")) == [SystemMessage("x")]


def test_a_tuple_of_strings_that_is_not_a_role_pair_is_several_messages() -> None:
    assert coerce_messages(("hello", "there")) == [HumanMessage("hello"), HumanMessage("there")]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"role": "user", "content": "hi"}, HumanMessage("hi")),
        ({"role": "system", "content": "s", "name": "setup"}, SystemMessage("s", name="setup")),
        ({"type": "human", "content": "lc-style"}, HumanMessage("lc-style")),
        ({"role": "assistant", "content": None}, AIMessage("")),
        (
            {"role": "assistant", "content": "x", "refusal": "no", "reasoning_content": "r"},
            AIMessage("x", additional_kwargs={"refusal": "no", "reasoning_content": "r"}),
        ),
        (
            {"role": "developer", "content": "d"},
            SystemMessage("d", additional_kwargs={"openai_role": "developer"}),
        ),
        (
            {"role": "tool", "content": "22C", "tool_call_id": "c1", "status": "error"},
            ToolMessage("22C", tool_call_id="c1", status="error"),
        ),
        (
            {"type": "AIMessageChunk", "content": "merged"},
            AIMessage("merged"),
        ),
    ],
)
def test_dicts(data: dict, expected: Any) -> None:
    assert coerce_messages(data) == [expected]


def test_openai_tool_calls_are_parsed() -> None:
    (message,) = coerce_messages(
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "f", "arguments": '{"a": 1}'},
                },
                {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "{bad"}},
                {"id": "c3", "type": "function", "function": {"name": "h", "arguments": {"x": 1}}},
                {"id": "c4", "type": "function", "function": {"name": "i", "arguments": ""}},
                {"id": "c5", "type": "function", "function": {"name": "j", "arguments": "[1]"}},
                {"name": "k", "args": {"z": 1}, "id": "c6"},
            ],
        }
    )
    assert isinstance(message, AIMessage)
    assert [(c["name"], c["args"], c["id"]) for c in message.tool_calls] == [
        ("f", {"a": 1}, "c1"),
        ("h", {"x": 1}, "c3"),
        ("i", {}, "c4"),
        ("k", {"z": 1}, "c6"),
    ]
    assert [(c["name"], c["args"], c["id"]) for c in message.invalid_tool_calls] == [
        ("g", "{bad", "c2"),
        ("j", "[1]", "c5"),
    ]
    assert message.invalid_tool_calls[0]["error"]
    assert message.invalid_tool_calls[1]["error"] == "arguments are not a JSON object"


def test_a_whole_conversation() -> None:
    messages = coerce_messages(
        [
            ("system", "be brief"),
            "weather in Paris?",
            {
                "role": "assistant",
                "tool_calls": [
                    {"id": "c1", "function": {"name": "w", "arguments": '{"city": "Paris"}'}}
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
        ]
    )
    assert [type(m).__name__ for m in messages] == [
        "SystemMessage",
        "HumanMessage",
        "AIMessage",
        "ToolMessage",
    ]
    assert messages[2].tool_calls[0]["args"] == {"city": "Paris"}
    assert messages[3].tool_call_id == "c1"


# -- errors -----------------------------------------------------------------------------------

ACCEPTED_LINES = (
    "Accepted inputs:",
    '"What is the weather?"',
    'HumanMessage("hi")',
    '("system", "Be brief")',
    '{"role": "user", "content": "hi"}',
    "Roles: system, developer, user/human, assistant/ai, tool.",
)


@pytest.mark.parametrize(
    ("value", "first_line"),
    [
        (42, "Cannot turn input of type int into a chat message."),
        (None, "Cannot turn input of type NoneType into a chat message."),
        (b"bytes", "Cannot turn input of type bytes into a chat message."),
        ([42], "Cannot turn input[0] (int: 42) into a chat message."),
        (["ok", 3.5], "Cannot turn input[1] (float: 3.5) into a chat message."),
        ([("a", "b", "c")], "Cannot turn input[0] (tuple: ('a', 'b', 'c')) into a chat message."),
    ],
)
def test_bad_input_lists_the_accepted_forms(value: Any, first_line: str) -> None:
    with pytest.raises(UserError) as exc:
        coerce_messages(value)
    lines = str(exc.value).splitlines()
    assert lines[0] == first_line
    for expected in ACCEPTED_LINES:
        assert any(expected in line for line in lines), expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "The input is an empty list: pass at least one message."),
        (
            {"role": "robot", "content": "x"},
            "Unknown role 'robot' in input. Use one of: system, developer, user, human, "
            "assistant, ai, tool.",
        ),
        (
            [("robot", "x")],
            "Unknown role 'robot' in input[0]. Use one of: system, developer, user, human, "
            "assistant, ai, tool.",
        ),
        ({"content": "x"}, "input has no 'role': {'content': 'x'}."),
        (
            ("tool", "x"),
            "input: a ('tool', ...) tuple cannot carry a tool_call_id; use "
            "ToolMessage(content, tool_call_id=...) or a dict with 'tool_call_id'.",
        ),
        (
            {"role": "tool", "content": "x"},
            "input is a tool message without 'tool_call_id'.",
        ),
        (
            {"role": "user", "content": "x", "tool_call_id": "1"},
            "input: key(s) ['tool_call_id'] do not apply to a 'user' message.",
        ),
        (
            {"role": "assistant", "tool_calls": [{"id": "1"}]},
            "input['tool_calls'][0]: tool call {'id': '1'} has neither 'function' "
            "(OpenAI format) nor 'name'.",
        ),
        (
            {"role": "assistant", "tool_calls": ["x"]},
            "input['tool_calls'][0]: a tool call must be a dict, got str.",
        ),
    ],
)
def test_error_messages(value: Any, message: str) -> None:
    with pytest.raises(UserError) as exc:
        coerce_messages(value)
    assert str(exc.value).splitlines()[0] == message


def test_unknown_dict_keys_are_an_error_not_silently_kept() -> None:
    with pytest.raises(UserError) as exc:
        coerce_messages({"role": "user", "content": "x", "foo": 1})
    text = str(exc.value)
    assert text.startswith("input has unknown key(s) ['foo']. Message dicts take: ")
    assert "Put provider-specific data in additional_kwargs." in text


def test_user_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        coerce_messages(42)
