"""Scripts loaded from YAML (`load_script`, `FakeChatModel(path)`) and the fixtures' examples."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from myna.exceptions import OutputParserError, StreamInterruptedError, UserError
from myna.fakes import FakeChatModel, Fault, ScriptedToolCall, fault, load_script
from myna.messages import AIMessage
from myna.tools import run_tool_calls, tool

SCRIPTS = Path(__file__).resolve().parents[2] / "fixtures" / "scripts"


@tool
def get_weather(city: str) -> str:
    """Current weather in a city."""
    return f"sunny in {city}"


class Person(BaseModel):
    name: str
    age: int


def write(tmp_path: Path, text: str, name: str = "script.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_fixture_script_loads() -> None:
    paths = sorted(SCRIPTS.glob("*.yaml"))
    assert len(paths) >= 4
    for path in paths:
        assert load_script(path), path


def test_weather_agent_fixture_drives_a_tool_loop() -> None:
    model = FakeChatModel(str(SCRIPTS / "weather_agent.yaml")).bind_tools([get_weather])
    first = model.invoke("Weather in Paris?")
    assert first.tool_calls[0]["args"] == {"city": "Paris"}
    results = run_tool_calls(first, [get_weather])
    second = model.invoke(["Weather in Paris?", first, *results])
    assert second.text == "It is sunny in Paris, 22 degrees."


def test_flaky_provider_fixture() -> None:
    model = FakeChatModel(SCRIPTS / "flaky_provider.yaml")
    assert model.invoke("a").text == "First answer, after one rate limit."
    assert model.invoke("b").text == "Second answer, after two server errors."
    assert model.waits[0] == 2.0
    assert len(model.waits) == 3
    with pytest.raises(StreamInterruptedError) as exc:
        list(model.stream("c"))
    assert exc.value.partial.text == "one two three "


def test_structured_person_fixture() -> None:
    runnable = FakeChatModel(SCRIPTS / "structured_person.yaml").with_structured_output(Person)
    assert runnable.invoke("a") == Person(name="Ann", age=31)
    with pytest.raises(OutputParserError, match="age"):
        runnable.invoke("b")


def test_parallel_tools_fixture() -> None:
    model = FakeChatModel(SCRIPTS / "parallel_tools.yaml").bind_tools([get_weather])
    calls = model.invoke("a").tool_calls
    assert [(c["args"]["city"], c["id"]) for c in calls] == [
        ("Paris", "call_paris"),
        ("Rome", "call_rome"),
    ]
    second = model.invoke("b")
    assert second.usage_metadata == {"input_tokens": 40, "output_tokens": 8, "total_tokens": 48}
    assert model.invoke("c").text == "Anything else?"


def test_every_entry_kind(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
replies:
  - plain text
  - text: 42
  - tool_call: {name: f, args: {x: 1}, id: c1}
  - tool_calls: [{name: f}, {name: g, args: {y: [1, 2]}}]
  - message: {content: hi, id: m1}
  - json: {a: 1}
  - fault: timeout
  - fault: {kind: rate_limit, retry_after: 1.5}
  - fault: {kind: disconnect, after_chunks: 2}
""",
    )
    assert load_script(path) == [
        "plain text",
        "42",
        ScriptedToolCall("f", {"x": 1}, "c1"),
        [ScriptedToolCall("f", {}), ScriptedToolCall("g", {"y": [1, 2]})],
        AIMessage("hi", id="m1"),
        {"a": 1},
        fault.timeout(),
        fault.rate_limit(retry_after=1.5),
        fault.disconnect(after_chunks=2),
    ]


def test_a_bare_list_is_accepted(tmp_path: Path) -> None:
    assert load_script(write(tmp_path, "- one\n- two\n")) == ["one", "two"]


def test_yml_extension_is_loaded_by_the_model(tmp_path: Path) -> None:
    path = write(tmp_path, "replies: [hello]\n", name="s.yml")
    assert FakeChatModel(str(path)).invoke("q").text == "hello"


def test_broken_yaml_is_a_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path, "replies:\n  - text: [unclosed\n")
    with pytest.raises(UserError) as exc:
        load_script(path)
    assert str(exc.value).startswith(f"Script file {str(path)!r} is not valid YAML: ")


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(UserError) as exc:
        FakeChatModel(path)
    assert str(exc.value) == f"Script file {str(path)!r} does not exist."


def test_replies_must_be_a_list(tmp_path: Path) -> None:
    path = write(tmp_path, "replies: just one\n")
    with pytest.raises(UserError) as exc:
        load_script(path)
    assert str(exc.value) == f"Script file {str(path)!r} must hold a list under 'replies:'."


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "{a: 1, b: 2}",
            "script.yaml entry #1: each script entry is a string or a one-key mapping, "
            "got {'a': 1, 'b': 2}.",
        ),
        (
            "{sing: la}",
            "script.yaml entry #1: unknown entry kind 'sing'; use text, tool_call, tool_calls, "
            "message, json or fault.",
        ),
        (
            "{tool_call: {args: {}}}",
            "script.yaml entry #1: a tool_call needs a name and args, e.g. {name: f, args: {}}.",
        ),
        (
            "{tool_calls: {name: f}}",
            "script.yaml entry #1: tool_calls takes a list of {name: ..., args: ...}.",
        ),
        (
            "{fault: {kind: meteor}}",
            "script.yaml entry #1: unknown fault 'meteor'; use rate_limit, overloaded, "
            "server_error, context_length, error, timeout, disconnect or malformed.",
        ),
        (
            "{fault: [timeout]}",
            "script.yaml entry #1: fault takes a kind, e.g. {kind: rate_limit}.",
        ),
        ("{message: hello}", "script.yaml entry #1: message takes a mapping of AIMessage fields."),
    ],
)
def test_bad_entries_name_the_entry(tmp_path: Path, entry: str, message: str) -> None:
    with pytest.raises(UserError) as exc:
        load_script(write(tmp_path, f"replies:\n  - {entry}\n"))
    assert str(exc.value) == message


def test_bad_fault_options_name_the_entry(tmp_path: Path) -> None:
    path = write(tmp_path, "replies:\n  - ok\n  - fault: {kind: rate_limit, retry: 2}\n")
    with pytest.raises(UserError) as exc:
        load_script(path)
    assert str(exc.value).startswith("script.yaml entry #2: bad options for fault 'rate_limit': ")
    assert "retry" in str(exc.value)


def test_bad_message_fields_name_the_entry(tmp_path: Path) -> None:
    path = write(tmp_path, "replies:\n  - message: {content: hi, colour: red}\n")
    with pytest.raises(UserError) as exc:
        load_script(path)
    assert str(exc.value).startswith("script.yaml entry #1: not a valid AIMessage: ")
    assert "colour" in str(exc.value)


def test_faults_are_plain_values() -> None:
    assert isinstance(fault.timeout(), Fault)
    assert fault.rate_limit(retry_after=2) == Fault("rate_limit", retry_after=2)
