"""Dataset files: four formats, exact round trips, and errors with the file, line and field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from myna.evals import Case, Dataset
from myna.evals import evaluators as ev
from myna.evals._files import _validator, load_dataset, plainly_valid
from myna.evals._save import save_dataset
from myna.exceptions import UserError

FIXTURES = Path(__file__).parents[2] / "fixtures" / "evals"

TRICKY = [
    "",
    " ",
    "plain",
    "42",
    "-0",
    "007",
    "1e3",
    "true",
    "null",
    "NaN",
    "yes",
    "on",
    "~",
    "2024-01-01",
    '"quoted"',
    "[1, 2]",
    "{}",
    "a, b",
    'say "hi"',
    "line 1\nline 2\n",
    "trailing  \n  spaces",
    "cr\r",
    "\r\ncrlf",
    " lead",
    "tab\there",
    "ünïcødé 😀",
    "- name: x",
    "# not a comment",
    "key: value",
    "'",
    "line\u2028separator",
    "next\x85line",
    "form\x0cfeed\x0b",
    "nul\x00byte",
    "\ufeffbom",
]


def _fields(case: Case) -> tuple[Any, ...]:
    return (
        case.name,
        case.inputs,
        case.expected,
        case.metadata,
        case.repeat,
        [e.to_spec() for e in case.evaluators],
    )


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path) -> str:
    with pytest.raises(UserError) as exc:
        load_dataset(path)
    return str(exc.value)


# ------------------------------------------------------------------------------ formats


@pytest.mark.parametrize("suffix", ["yaml", "json", "jsonl", "csv"])
def test_the_four_fixture_formats_hold_the_same_cases(suffix: str) -> None:
    reference = load_dataset(FIXTURES / "files-weather.yaml")
    dataset = load_dataset(FIXTURES / f"files-weather.{suffix}")
    assert [_fields(c) for c in dataset.cases] == [_fields(c) for c in reference.cases]
    assert dataset["oslo"].evaluators[1].pattern.pattern == r"\d+ ?°C"
    if suffix == "csv":  # no place for the dataset's name and evaluators: named after the file
        assert dataset.name == "files-weather"
        assert dataset.evaluators == ()
    else:
        assert dataset.name == "weather"
        assert [e.to_spec() for e in dataset.evaluators] == [{"contains": {"ignore_case": True}}]


def test_yaml_fixture_reads_as_written() -> None:
    dataset = Dataset.load(FIXTURES / "files-weather.yaml")
    assert [c.name for c in dataset] == ["paris", "rome", "oslo"]
    assert dataset["paris"].inputs == {"city": "Paris"}
    assert dataset["paris"].metadata == {"region": "europe"}
    assert dataset["rome"].repeat == 3
    assert dataset["oslo"].expected == ["cold", "snow"]
    assert [e.to_spec() for e in dataset["oslo"].evaluators] == [
        {"max_tokens": {"limit": 200}},
        {"regex": {"pattern": r"\d+ ?°C"}},
    ]


@pytest.mark.parametrize("suffix", ["yaml", "yml", "json", "jsonl"])
def test_save_then_load_round_trips_exactly(tmp_path: Path, suffix: str) -> None:
    cases = [Case(f"s{i}", inputs=s, expected=s, metadata={"s": s}) for i, s in enumerate(TRICKY)]
    cases.append(
        Case(
            "nested",
            inputs={"a": None, "b": [1, 2.5, True, False], "c": {"x": "", "y": [{}]}},
            metadata={},
            evaluators=[ev.contains("x", ignore_case=True), ev.is_json(), ev.trajectory(["a"])],
            repeat=3,
        )
    )
    cases.append(Case("numbers", inputs=-0.5, expected=10**20))
    cases.append(Case("nothing"))
    dataset = Dataset(cases, evaluators=[ev.equals(strip=False)], name="tricky")
    path = save_dataset(dataset, tmp_path / f"out.{suffix}")
    back = load_dataset(path)
    assert back.name == "tricky"
    assert [_fields(c) for c in back.cases] == [_fields(c) for c in dataset.cases]
    assert [e.to_spec() for e in back.evaluators] == [{"equals": {"strip": False}}]
    assert type(back["numbers"].expected) is int


def test_csv_round_trips_every_cell_exactly(tmp_path: Path) -> None:
    cases = [Case(f"s{i}", inputs=s, expected=s, metadata={"s": s}) for i, s in enumerate(TRICKY)]
    cases.append(
        Case("typed", inputs=[1, "a"], expected={"k": None}, evaluators=[ev.is_json()], repeat=2)
    )
    cases.append(Case("nothing"))
    dataset = Dataset(cases)
    back = load_dataset(save_dataset(dataset, tmp_path / "out.csv"))
    assert [_fields(c) for c in back.cases] == [_fields(c) for c in dataset.cases]
    assert back.name == "out"


def test_csv_cells_are_plain_text_unless_they_would_read_as_json(tmp_path: Path) -> None:
    dataset = Dataset(
        [
            Case("a", inputs="hello", expected="42"),
            Case("b", inputs=42, expected="say, hi"),
            Case("c", inputs={"k": [1]}, expected=""),
        ]
    )
    text = save_dataset(dataset, tmp_path / "cells.csv").read_text("utf-8")
    assert text == (
        'name,inputs,expected\na,hello,"""42"""\nb,42,"say, hi"\nc,"{""k"": [1]}",""""""\n'
    )


def test_csv_writes_one_column_per_key_when_every_input_is_a_mapping(tmp_path: Path) -> None:
    dataset = Dataset(
        [
            Case("a", {"city": "Paris", "days": 2}, metadata={"tag": "eu"}),
            Case("b", {"city": "Lima", "note": None}, metadata={"tag": "sa", "hard": True}),
        ]
    )
    path = save_dataset(dataset, tmp_path / "sheet.csv")
    assert path.read_text("utf-8").splitlines() == [
        "name,inputs.city,inputs.days,inputs.note,metadata.tag,metadata.hard",
        "a,Paris,2,,eu,",
        "b,Lima,,null,sa,true",
    ]
    back = load_dataset(path)
    assert [_fields(c) for c in back.cases] == [_fields(c) for c in dataset.cases]


def test_csv_from_a_spreadsheet(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "sheet.csv",
        "\ufeffname,inputs.city,inputs.days,metadata.source,expected,evaluators,repeat\r\n"
        "paris,Paris,3,web,sunny,is_json,\r\n"
        'lima,Lima,,,"multi\r\nline","[""is_json"", {""contains"": ""x""}]",2\r\n'
        ",,,,,,\r\n"
        "oslo,Oslo\r\n",
    )
    dataset = load_dataset(path)
    assert [c.name for c in dataset] == ["paris", "lima", "oslo"]
    assert dataset["paris"].inputs == {"city": "Paris", "days": 3}
    assert dataset["paris"].metadata == {"source": "web"}
    assert [e.to_spec() for e in dataset["paris"].evaluators] == ["is_json"]
    assert dataset["lima"].inputs == {"city": "Lima"}
    assert dataset["lima"].metadata is None
    assert dataset["lima"].expected == "multi\r\nline"
    assert dataset["lima"].repeat == 2
    assert dataset["oslo"].inputs == {"city": "Oslo"}  # a short row: the rest is empty


def test_a_file_may_be_just_the_list_of_cases(tmp_path: Path) -> None:
    yaml_file = _write(tmp_path / "list.yaml", "- name: a\n  inputs: 1\n- name: b\n")
    json_file = _write(tmp_path / "list.json", '[{"name": "a", "inputs": 1}, {"name": "b"}]')
    for path in (yaml_file, json_file):
        dataset = load_dataset(path)
        assert dataset.name == "list"
        assert [(c.name, c.inputs) for c in dataset] == [("a", 1), ("b", None)]
    bad = _write(tmp_path / "bad.yaml", "- name: a\n- name: b\n  repeat: 0\n")
    assert _error(bad) == (
        f"{bad}:3: case 'b': field 'repeat' must be a whole number >= 1 (got 0)."
    )


def test_the_name_defaults_to_the_file_stem_and_is_not_written_twice(tmp_path: Path) -> None:
    path = save_dataset(Dataset([Case("a", 1)], name="evals"), tmp_path / "evals.yaml")
    assert path.read_text("utf-8") == "cases:\n- name: a\n  inputs: 1\n"
    assert load_dataset(path).name == "evals"


def test_yaml_output_is_readable(tmp_path: Path) -> None:
    dataset = Dataset(
        [
            Case("a", {"prompt": "line one\nline two\n"}, expected="ok"),
            Case("b", "x", metadata={"shared": [1]}),
        ],
        evaluators=[ev.contains(ignore_case=True)],
        name="readable",
    )
    text = save_dataset(dataset, tmp_path / "r.yaml").read_text("utf-8")
    assert text == (
        "name: readable\n"
        "evaluators:\n"
        "- contains:\n"
        "    ignore_case: true\n"
        "cases:\n"
        "- name: a\n"
        "  inputs:\n"
        "    prompt: |\n"
        "      line one\n"
        "      line two\n"
        "  expected: ok\n"
        "\n"
        "- name: b\n"
        "  inputs: x\n"
        "  metadata:\n"
        "    shared:\n"
        "    - 1\n"
    )


def test_shared_values_are_written_out_not_as_yaml_aliases(tmp_path: Path) -> None:
    shared = {"tag": "x"}
    dataset = Dataset([Case("a", 1, metadata=shared), Case("b", 2, metadata=shared)])
    text = save_dataset(dataset, tmp_path / "a.yaml").read_text("utf-8")
    assert "&" not in text and "*" not in text
    assert load_dataset(tmp_path / "a.yaml")["b"].metadata == shared


def test_jsonl_writes_a_dataset_line_only_when_needed(tmp_path: Path) -> None:
    plain = save_dataset(Dataset([Case("a", 1)]), tmp_path / "plain.jsonl")
    assert plain.read_text("utf-8") == '{"name": "a", "inputs": 1}\n'
    named = save_dataset(Dataset([Case("a", 1)], name="n"), tmp_path / "named.jsonl")
    assert named.read_text("utf-8").splitlines()[0] == '{"dataset": {"name": "n"}}'


def test_dataset_methods_use_the_files_module(tmp_path: Path) -> None:
    dataset = Dataset([Case("a", "hi", expected="HI")], evaluators=[ev.equals()])
    path = dataset.save(tmp_path / "shout.yaml")
    assert path == tmp_path / "shout.yaml"
    assert Dataset.load(path).cases[0].expected == "HI"
    assert Dataset.schema()["$id"] == "urn:myna:eval-dataset:1"


# ------------------------------------------------------------------------ schema files


def test_save_with_schema_writes_the_schema_and_points_editors_at_it(tmp_path: Path) -> None:
    dataset = Dataset([Case("a", 1)])
    path = save_dataset(dataset, tmp_path / "evals" / "d.yaml", schema=True)
    schema_file = tmp_path / "evals" / "myna-dataset.schema.json"
    assert json.loads(schema_file.read_text("utf-8")) == Dataset.schema()
    assert path.read_text("utf-8").splitlines()[0] == (
        "# yaml-language-server: $schema=myna-dataset.schema.json"
    )
    # a later plain save keeps the pointer while the schema file is there
    again = Dataset([Case("b", 2)]).save(tmp_path / "evals" / "e.yaml")
    assert again.read_text("utf-8").startswith("# yaml-language-server: $schema=")
    as_json = save_dataset(dataset, tmp_path / "evals" / "d.json")
    assert json.loads(as_json.read_text("utf-8"))["$schema"] == "myna-dataset.schema.json"
    assert [c.name for c in load_dataset(as_json)] == ["a"]
    elsewhere = save_dataset(dataset, tmp_path / "other.yaml")
    assert not elsewhere.read_text("utf-8").startswith("#")


# ----------------------------------------------------------------------- save refusals


def test_a_custom_evaluator_cannot_be_saved_and_nothing_is_written(tmp_path: Path) -> None:
    def polite(ctx: Any) -> bool:
        return "please" in ctx.text

    path = _write(tmp_path / "d.yaml", "cases: []\n")
    dataset = Dataset([Case("a", 1), Case("ask", 2, evaluators=[ev.is_json(), polite])])
    with pytest.raises(UserError) as exc:
        save_dataset(dataset, path)
    message = str(exc.value)
    assert message.startswith(f"Cannot write {path}: case 'ask' has the evaluator 'polite'")
    assert "cannot be written to a file" in message
    assert path.read_text("utf-8") == "cases: []\n"
    assert [p.name for p in tmp_path.iterdir()] == ["d.yaml"]  # no temporary left behind

    lambdas = Dataset([Case("a", 1)], evaluators=[lambda ctx: True])
    with pytest.raises(UserError, match="the dataset has the evaluator 'lambda'"):
        save_dataset(lambdas, tmp_path / "e.json")
    assert not (tmp_path / "e.json").exists()


def test_judges_are_written_with_their_model_string(tmp_path: Path) -> None:
    from myna.fakes import FakeChatModel

    judge = ev.judge("Is it polite?", model="openai:gpt-4.1-mini", choices={"yes": 1.0, "no": 0.0})
    path = save_dataset(Dataset([Case("a", "hi", evaluators=[judge])]), tmp_path / "j.yaml")
    assert [e.to_spec() for e in load_dataset(path)["a"].evaluators] == [judge.to_spec()]
    assert "rubric: Is it polite?" in path.read_text("utf-8")
    with_object = Dataset([Case("b", "hi", evaluators=[ev.judge("ok?", model=FakeChatModel([]))])])
    with pytest.raises(UserError) as exc:
        save_dataset(with_object, tmp_path / "k.yaml")
    assert str(exc.value).startswith(f"Cannot write {tmp_path / 'k.yaml'}: case 'b': judge has")
    assert "model='openai:gpt-4.1-mini'" in str(exc.value)
    assert not (tmp_path / "k.yaml").exists()


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (float("nan"), "holds nan"),
        (float("inf"), "holds inf"),
        ({1: "a"}, "has the key 1 (int)"),
        ({"s": {1, 2}}, "holds a set"),
        (b"raw", "holds a bytes"),
        (object(), "holds a object"),
    ],
)
def test_values_a_file_cannot_hold_are_refused(tmp_path: Path, value: Any, fragment: str) -> None:
    with pytest.raises(UserError) as exc:
        save_dataset(Dataset([Case("odd", inputs=value)]), tmp_path / "d.json")
    assert f"case 'odd': inputs {fragment}" in str(exc.value)
    assert not (tmp_path / "d.json").exists()


def test_dates_are_kept_in_yaml_and_refused_in_json(tmp_path: Path) -> None:
    import datetime

    day = datetime.date(2024, 5, 1)
    dataset = Dataset([Case("d", inputs={"day": day})])
    assert load_dataset(save_dataset(dataset, tmp_path / "d.yaml"))["d"].inputs == {"day": day}
    with pytest.raises(UserError, match="holds a date"):
        save_dataset(dataset, tmp_path / "d.json")


def test_csv_refuses_what_it_cannot_hold(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no place for the dataset's evaluators"):
        save_dataset(Dataset([Case("a", 1)], evaluators=[ev.is_json()]), tmp_path / "a.csv")
    with pytest.raises(UserError, match=r"no place for the dataset's name 'weather'.*weather\.csv"):
        save_dataset(Dataset([Case("a", 1)], name="weather"), tmp_path / "a.csv")
    assert save_dataset(Dataset([Case("a", 1)], name="b"), tmp_path / "b.csv").exists()


def test_unknown_suffix_lists_the_formats(tmp_path: Path) -> None:
    for call in (lambda: load_dataset(tmp_path / "d.txt"), lambda: Dataset([]).save("d.xlsx")):
        with pytest.raises(UserError) as exc:
            call()
        assert "the format comes from the suffix: .yaml (or .yml), .json, .jsonl or .csv" in str(
            exc.value
        )


# ----------------------------------------------------------------------------- errors


def test_missing_empty_and_non_utf8_files(tmp_path: Path) -> None:
    assert _error(tmp_path / "nope.yaml") == f"No dataset file at {tmp_path / 'nope.yaml'}."
    empty = _write(tmp_path / "empty.yaml", "# nothing yet\n")
    assert _error(empty).startswith(f"{empty}: the file is empty; a dataset file has `cases:`")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("name\ncaf\xe9\n".encode("latin-1"))
    assert _error(latin).startswith(f"{latin}: not UTF-8 text")
    (tmp_path / "dir.json").mkdir()
    assert "is a directory" in _error(tmp_path / "dir.json")


def test_broken_fixture_names_each_line_and_field() -> None:
    path = FIXTURES / "files-broken.yaml"
    assert _error(path) == (
        f"{path}:8: case 'rome': unknown field 'input'. Did you mean 'inputs'? A case has: "
        "name, inputs, expected, metadata, evaluators, repeat.\n"
        f"{path}:9: case 'rome': field 'repeat' must be a whole number >= 1 (got 0).\n"
        f"{path}:14: case 'paris': evaluator {{'contians': 'sun'}}: Unknown evaluator "
        "'contians'. Did you mean 'contains'? Known: close_to, contains, equals, is_json, "
        "judge, matches_schema, max_cost, max_latency, max_tokens, no_tool_calls, pairwise, "
        "regex, tool_called, trajectory."
    )


def test_duplicate_names_name_the_first_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "dup.yaml",
        "cases:\n  - name: paris\n    inputs: 1\n\n  - name: rome\n  - name: paris\n",
    )
    assert _error(path) == (
        f"{path}:6: duplicate case name 'paris' (first at line 2); names are the ids in "
        "reports and baselines: rename one."
    )


@pytest.mark.parametrize(
    ("case_yaml", "message"),
    [
        ("name: ''", "case #1: field 'name' must be a non-empty string (got '')."),
        ("name: 7", "case #1: field 'name' must be a non-empty string (got 7)."),
        (
            "name: a\n    repeat: 1.5",
            "case 'a': field 'repeat' must be a whole number >= 1 (got 1.5).",
        ),
        (
            "name: a\n    repeat: true",
            "case 'a': field 'repeat' must be a whole number >= 1 (got True).",
        ),
        (
            "name: a\n    metadata: [x]",
            "case 'a': field 'metadata' must be a mapping (key: value pairs) (got ['x']).",
        ),
        (
            "name: a\n    evaluators: is_json",
            "case 'a': field 'evaluators' must be a list of evaluators (names like is_json, or one-key mappings like {contains: sunny}) (got 'is_json').",
        ),
        (
            "name: a\n    expected_output: 1",
            "case 'a': unknown field 'expected_output'. Did you mean 'expected'?",
        ),
        ("name: a\n    vars: {x: 1}", "case 'a': unknown field 'vars'. Did you mean 'inputs'?"),
        (
            "name: a\n    evaluators: [{contains: {value: x, bogus: 1}}]",
            "case 'a': evaluator {'contains': {'value': 'x', 'bogus': 1}}: Evaluator 'contains': bad arguments",
        ),
        (
            "name: a\n    evaluators: [{is_json: 1, regex: x}]",
            "case 'a': evaluator {'is_json': 1, 'regex': 'x'}: An evaluator in a dataset file is a name or a one-key mapping",
        ),
        (
            "name: a\n    evaluators: [{regex: '('}]",
            "case 'a': evaluator {'regex': '('}: regex('(') is not a valid pattern",
        ),
    ],
)
def test_field_errors_in_yaml(tmp_path: Path, case_yaml: str, message: str) -> None:
    path = _write(tmp_path / "d.yaml", f"name: d\ncases:\n  - {case_yaml}\n")
    line = 3 + (case_yaml.count("\n") if "name: a\n" in case_yaml else 0)
    assert _error(path).startswith(f"{path}:{line}: {message}")


def test_a_whole_number_written_as_a_float_is_a_repeat(tmp_path: Path) -> None:
    path = _write(tmp_path / "d.yaml", "cases:\n- name: a\n  repeat: 3.0\n")
    repeat = load_dataset(path)["a"].repeat
    assert repeat == 3 and type(repeat) is int


def test_dataset_level_errors(tmp_path: Path) -> None:
    no_cases = _write(tmp_path / "a.yaml", "name: x\n")
    assert _error(no_cases) == (
        f"{no_cases}:1: missing field 'cases' (a dataset file is `cases:` followed by a list "
        "of cases)."
    )
    typo = _write(tmp_path / "b.yaml", "name: x\ncasses: []\ncases: []\n")
    assert _error(typo).startswith(f"{typo}:2: unknown field 'casses'. Did you mean 'cases'?")
    scalar = _write(tmp_path / "c.json", '"hello"')
    assert "a dataset file is a mapping with `cases:`, or a list of cases" in _error(scalar)
    shared = _write(tmp_path / "d.yaml", "evaluators:\n  - is_jsn\ncases: []\n")
    assert _error(shared).startswith(
        f"{shared}:2: dataset evaluator 'is_jsn': Unknown evaluator 'is_jsn'. Did you mean 'is_json'?"
    )
    wrong = _write(tmp_path / "e.yaml", "cases: {a: 1}\n")
    assert _error(wrong) == f"{wrong}:1: field 'cases' must be a list of cases (got {{'a': 1}})."


def test_many_problems_are_counted_not_all_listed(tmp_path: Path) -> None:
    body = "".join(f"  - name: c{i}\n    repeat: 0\n" for i in range(15))
    path = _write(tmp_path / "d.yaml", f"cases:\n{body}")
    lines = _error(path).splitlines()
    assert len(lines) == 11
    assert lines[0] == f"{path}:3: case 'c0': field 'repeat' must be a whole number >= 1 (got 0)."
    assert lines[-1] == f"... and 5 more problems in {path}."


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "d.yaml", "cases:\n  - name: a\n    inputs: {city: Paris\n  - x\n")
    assert _error(path) == (
        f"{path}:5: not valid YAML (while parsing a flow mapping started at line 3, did not "
        "find expected ',' or '}')."
    )


def test_yaml_never_builds_python_objects(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = _write(
        tmp_path / "evil.yaml",
        f"cases:\n  - name: a\n    inputs: !!python/object/apply:os.system ['touch {marker}']\n",
    )
    assert _error(path).startswith(f"{path}:3: not valid YAML (")
    assert not marker.exists()


def test_json_errors_name_the_line(tmp_path: Path) -> None:
    broken = _write(tmp_path / "a.json", '{\n  "cases": [\n    {"name": "a",}\n  ]\n}\n')
    assert _error(broken) == (
        f"{broken}:3: not valid JSON (Expecting property name enclosed in double quotes)."
    )
    nan = _write(tmp_path / "b.json", '{"cases": [{"name": "a", "inputs": NaN}]}')
    assert _error(nan).startswith(f"{nan}: not valid JSON (NaN is not JSON)")
    shape = _write(
        tmp_path / "c.json",
        '{\n  "cases": [\n    {"name": "a", "inputs": {"x": [1, {"y": 2}]}},\n'
        '    {\n      "name": "b",\n      "inputs": "x",\n      "repeat": "3",\n'
        '      "tags": ["t"]\n    },\n    "c"\n  ]\n}\n',
    )
    assert _error(shape).splitlines() == [
        f"{shape}:7: case 'b': field 'repeat' must be a whole number >= 1 (got '3').",
        f"{shape}:8: case 'b': unknown field 'tags'. Did you mean 'metadata'? A case has: "
        "name, inputs, expected, metadata, evaluators, repeat.",
        f"{shape}:10: case #3 must be a mapping like {{name: ..., inputs: ...}}, got 'c'.",
    ]


def test_jsonl_errors_name_the_line(tmp_path: Path) -> None:
    broken = _write(tmp_path / "a.jsonl", '{"name": "a"}\n\n{"name": "b",\n')
    assert _error(broken) == (
        f"{broken}:3: not valid JSON (Expecting property name enclosed in double quotes)."
    )
    shape = _write(
        tmp_path / "b.jsonl",
        '{"dataset": {"name": "x", "evaluators": ["is_jsn"]}}\n{"name": "a"}\n\n'
        '{"name": "b", "repeat": 0}\n',
    )
    assert _error(shape).splitlines() == [
        f"{shape}:1: dataset evaluator 'is_jsn': Unknown evaluator 'is_jsn'. Did you mean 'is_json'? "
        "Known: close_to, contains, equals, is_json, judge, matches_schema, max_cost, "
        "max_latency, max_tokens, no_tool_calls, pairwise, regex, tool_called, trajectory.",
        f"{shape}:4: case 'b': field 'repeat' must be a whole number >= 1 (got 0).",
    ]
    late = _write(tmp_path / "c.jsonl", '{"name": "a"}\n{"dataset": {"name": "x"}}\n')
    assert _error(late) == f'{late}:2: the {{"dataset": {{...}}}} line must be the first line.'
    results = _write(tmp_path / "d.jsonl", '{"type": "header", "name": "x", "settings": {}}\n')
    assert "this is a results file of an eval run" in _error(results)


def test_csv_errors_name_the_row_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "a.csv",
        'name,inputs,repeat\na,"two\nlines",1\nb,x,0\n',
    )
    assert _error(path) == (
        f"{path}:4: case 'b': field 'repeat' must be a whole number >= 1 (got 0)."
    )
    column = _write(tmp_path / "b.csv", "name,input\na,1\n")
    assert _error(column).startswith(f"{column}:1: unknown column 'input'. Did you mean 'inputs'?")
    both = _write(tmp_path / "c.csv", "name,inputs,inputs.x\na,1,2\n")
    assert _error(both) == (
        f"{both}:1: use either a 'inputs' column or inputs.<key> columns, not both."
    )
    wide = _write(tmp_path / "d.csv", "name,inputs\na,1\nb,1,2\n")
    assert _error(wide).startswith(f"{wide}:3: this row has 3 cells but the header names 2")
    nameless = _write(tmp_path / "e.csv", "inputs\n1\n")
    assert _error(nameless).startswith(f"{nameless}:1: no 'name' column")
    quote = _write(tmp_path / "f.csv", 'name,inputs\na,"x"y\n')
    assert _error(quote).startswith(f"{quote}:2: not valid CSV (")
    twice = _write(tmp_path / "g.csv", "name,name\n")
    assert _error(twice) == f"{twice}:1: the column 'name' appears twice."


def test_a_report_is_not_a_dataset(tmp_path: Path) -> None:
    path = _write(tmp_path / "report.json", '{"format": "myna-eval-report", "version": 1}')
    assert "this is an eval report, not a dataset" in _error(path)


# ------------------------------------------------------------------- the fast path


_values = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 3), st.floats(allow_nan=False), st.text(max_size=3)
)
_case_dicts = st.dictionaries(
    st.sampled_from(["name", "inputs", "expected", "metadata", "repeat", "evaluators", "other"]),
    st.one_of(
        _values, st.lists(_values, max_size=2), st.dictionaries(st.text(max_size=2), _values)
    ),
    max_size=5,
)


@given(st.one_of(_case_dicts, _values))
def test_the_fast_check_never_accepts_what_the_schema_rejects(item: Any) -> None:
    if plainly_valid(item):
        assert list(_validator("case").iter_errors(item)) == []
