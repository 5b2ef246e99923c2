"""The published schemas: dataset files (for editors) and JSON reports (checked on real runs)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from myna.evals import Case, Dataset, Report, evaluate
from myna.evals import evaluators as ev
from myna.evals._schema import dataset_schema, report_schema
from myna.fakes import FunctionChatModel, tool_call

FIXTURES = Path(__file__).parents[2] / "fixtures" / "evals"


def _validator(schema: dict[str, Any], definition: str | None = None) -> Draft202012Validator:
    if definition is not None:
        schema = {**schema, "$ref": f"#/$defs/{definition}"}
        for key in ("anyOf", "properties", "required", "type", "additionalProperties"):
            schema.pop(key, None)
    return Draft202012Validator(schema)


def _errors(validator: Draft202012Validator, instance: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]


def _property_schemas(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema under a "properties" mapping, with where it is."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                for name, sub in value.items():
                    yield f"{where}.{name}", sub
            yield from _property_schemas(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _property_schemas(value, f"{where}[{index}]")


# ----------------------------------------------------------------------------- datasets


def test_dataset_schema_is_valid_draft_2020_12_with_help_on_every_field() -> None:
    schema = dataset_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "urn:myna:eval-dataset:1"
    fields = list(_property_schemas(schema))
    assert len(fields) > 40  # cases, dataset, and every built-in's arguments
    for where, sub in fields:
        assert sub.get("title") and sub.get("description"), where
    for name in ("dataset", "case", "evaluator"):
        assert schema["$defs"][name]["title"] and schema["$defs"][name]["description"]


def test_dataset_schema_is_a_fresh_copy_each_time() -> None:
    schema = dataset_schema()
    schema["$defs"].clear()
    assert dataset_schema()["$defs"]


def test_evaluator_names_come_from_the_builtins() -> None:
    from myna.evals.evaluators import _BUILTINS

    named, with_args = dataset_schema()["$defs"]["evaluator"]["anyOf"]
    assert named["enum"] == sorted(_BUILTINS)
    assert sorted(with_args["properties"]) == sorted(_BUILTINS)
    regex = with_args["properties"]["regex"]["anyOf"][0]
    assert regex["required"] == ["pattern"]
    assert regex["properties"]["ignore_case"] == {
        "type": "boolean",
        "description": "`ignore_case` (default False).",
        "default": False,
        "title": "ignore_case",
    }
    assert with_args["properties"]["judge"]["anyOf"][0]["additionalProperties"] is True


@pytest.mark.parametrize("suffix", ["yaml", "json"])
def test_the_fixture_files_validate(suffix: str) -> None:
    text = (FIXTURES / f"files-weather.{suffix}").read_text("utf-8")
    data = yaml.safe_load(text) if suffix == "yaml" else json.loads(text)
    validator = _validator(dataset_schema())
    assert _errors(validator, data) == []
    assert _errors(validator, data["cases"]) == []  # a file may be just the list of cases


@pytest.mark.parametrize(
    "evaluator",
    [
        ev.equals(),
        ev.equals({"a": [1]}, ignore_case=True, strip=False),
        ev.contains(["a", "b"], mode="any"),
        ev.regex(r"\d+", ignore_case=True),
        ev.is_json(),
        ev.matches_schema({"type": "object", "required": ["a"]}),
        ev.close_to(3.0, abs_tol=0.1, rel_tol=0.01),
        ev.tool_called("get_weather", {"city": "Paris"}, match="exact"),
        ev.no_tool_calls(),
        ev.trajectory(["a", "b"], mode="in_order"),
        ev.max_tokens(100, which="output"),
        ev.max_cost(0.01),
        ev.max_latency(2),
    ],
    ids=repr,
)
def test_every_builtins_file_form_validates(evaluator: Any) -> None:
    validator = _validator(dataset_schema(), "evaluator")
    spec = evaluator.to_spec()
    assert _errors(validator, spec) == []
    assert ev.from_spec(spec).to_spec() == spec


@pytest.mark.parametrize(
    "spec",
    [
        "is_jsn",
        {"contains": "x", "regex": "y"},
        {"regex": {"pattern": "x", "bogus": True}},
        {"regex": {"ignore_case": True}},
        {"max_tokens": {"limit": "many"}},
        {"is_json": {"strict": True}},
        {"nope": 1},
        7,
    ],
)
def test_editors_flag_bad_evaluators(spec: Any) -> None:
    assert _errors(_validator(dataset_schema(), "evaluator"), spec)


def test_editors_flag_bad_cases() -> None:
    validator = _validator(dataset_schema())
    assert _errors(validator, {"cases": [{"name": "a", "repeat": 0}]})
    assert _errors(validator, {"cases": [{"name": " "}]})
    assert _errors(validator, {"cases": [{"inputs": 1}]})
    assert _errors(validator, {"cases": [{"name": "a", "input": 1}]})
    assert _errors(validator, {"name": "x"})
    assert _errors(validator, {"cases": [], "extra": 1})
    assert not _errors(validator, {"$schema": "myna-dataset.schema.json", "cases": []})


# ------------------------------------------------------------------------------ reports


def _real_report(tmp_path: Path) -> Report:
    """repeats, a pass, a flaky, a failing and an erroring case, model calls with tools."""

    def reply(messages: Any, info: Any) -> Any:
        text = messages[-1].text
        if text == "tool":
            return [tool_call("get_weather", city="Paris")]
        return f"answer to {text}"

    model = FunctionChatModel(reply, validate_tool_calls=False)

    async def target(question: str) -> str:
        if question == "explode":
            raise RuntimeError("target blew up")
        message = await model.ainvoke(question)
        return message.text or "called a tool"

    def wobbly(ctx: Any) -> bool:
        return ctx.case.name != "wobbly" or ctx.repeat_index == 0

    def picky(ctx: Any) -> Any:
        if ctx.case.name == "picky":
            raise ValueError("evaluator blew up")
        return 0.75

    dataset = Dataset(
        [
            Case("good", {"question": "hello"}, expected="answer", metadata={"tag": "a"}),
            Case("wobbly", {"question": "again"}, expected="answer"),
            Case("bad", {"question": "hi"}, expected="nope"),
            Case(
                "tools",
                {"question": "tool"},
                expected="tool",
                evaluators=[ev.tool_called("get_weather", {"city": "Paris"})],
            ),
            Case("broken", {"question": "explode"}),
            Case("picky", {"question": "x"}, repeat=1),
        ],
        evaluators=[ev.contains(), wobbly, picky],
        name="schema-check",
    )
    return evaluate(
        target,
        dataset,
        evaluators=[ev.max_tokens(10_000)],
        repeat=3,
        min_pass_rate=0.6,
        max_error_rate=0.5,
        results_path=tmp_path / "runs.jsonl",
        progress=False,
    )


def test_report_schema_is_valid_with_help_on_every_field() -> None:
    schema = report_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == "urn:myna:eval-report:1"
    assert Report.schema() == schema
    for where, sub in _property_schemas(schema):
        assert sub.get("description"), where


def test_a_real_report_validates(tmp_path: Path) -> None:
    report = _real_report(tmp_path)
    statuses = {case.name: case.status for case in report.cases}
    assert statuses == {
        "good": "pass",
        "wobbly": "flaky",
        "bad": "fail",
        "tools": "pass",
        "broken": "error",
        "picky": "error",
    }
    data = report.to_dict()
    validator = _validator(report_schema())
    assert _errors(validator, data) == []
    # the file as written, read back as plain JSON
    written = json.loads(report.to_json(tmp_path / "report.json").read_text("utf-8"))
    assert _errors(validator, written) == []
    calls = [
        call for case in data["cases"] for run in case["runs"] for call in run.get("calls", ())
    ]
    assert any(call.get("tool_calls") for call in calls) and all("usage" in c for c in calls)


def test_results_lines_validate(tmp_path: Path) -> None:
    _real_report(tmp_path)
    lines = [json.loads(line) for line in (tmp_path / "runs.jsonl").read_text("utf-8").splitlines()]
    schema = report_schema()
    assert _errors(_validator(schema, "results_header"), lines[0]) == []
    run = _validator(schema, "run")
    assert len(lines) == 1 + 5 * 3 + 1
    for line in lines[1:]:
        assert _errors(run, line) == []
    assert {line["status"] for line in lines[1:]} == {"pass", "fail", "error"}


def test_the_report_schema_rejects_drift(tmp_path: Path) -> None:
    data = _real_report(tmp_path).to_dict()
    validator = _validator(report_schema())
    data["cases"][0]["status"] = "maybe"
    data["summary"]["surprise"] = 1
    data["cases"][1]["runs"][0]["results"][0]["score"] = 1.5
    found = _errors(validator, data)
    assert len(found) == 3, found
