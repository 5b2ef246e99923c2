"""Dataset files: YAML, JSON, JSONL and CSV, read and written with exact round trips.

A file holds ``{name?, evaluators?, cases: [{name, inputs, expected?, metadata?, evaluators?,
repeat?}]}`` (a YAML or JSON file may also be just the list of cases). JSONL holds one case
per line, after an optional first line ``{"dataset": {"name": ..., "evaluators": [...]}}``.
CSV has one case per row, in the columns ``name, inputs, expected, metadata, evaluators,
repeat`` (or ``inputs.<key>`` / ``metadata.<key>`` columns, one per key).

Every file is checked against the published schema (`dataset_schema()`), and a problem is
reported as ``file:line: case 'name': field 'repeat' must be ...``, never as a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .._text import short_repr as _short
from .._yaml_limits import alias_problem
from ..exceptions import UserError
from ._case import Case, Dataset
from ._schema import CASE_FIELDS, DATASET_FIELDS, dataset_schema

__all__ = ["dataset_schema", "load_dataset"]

_FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".jsonl": "jsonl", ".csv": "csv"}
_MAX_SHOWN = 10
"""Problems listed in one error; the rest are counted."""

_ALIASES = {
    "input": "inputs",
    "vars": "inputs",
    "expected_output": "expected",
    "output": "expected",
    "id": "name",
    "tags": "metadata",
    "assert": "evaluators",
    "asserts": "evaluators",
    "assertions": "evaluators",
    "evaluator": "evaluators",
    "repeats": "repeat",
}
"""Field names other eval tools use, mapped to ours for did-you-mean hints."""

_RULES = {
    "name": "must be a non-empty string",
    "metadata": "must be a mapping (key: value pairs)",
    "evaluators": "must be a list of evaluators (names like is_json, or one-key mappings "
    "like {contains: sunny})",
    "repeat": "must be a whole number >= 1",
    "cases": "must be a list of cases",
    "$schema": "must be a string",
}


def _format(path: Path) -> str:
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UserError(
            f"{path}: unknown dataset format {path.suffix or '(no suffix)'!r}; the format comes "
            "from the suffix: .yaml (or .yml), .json, .jsonl or .csv."
        )
    return fmt


def _did_you_mean(word: str, known: Sequence[str]) -> str:
    import difflib

    alias = _ALIASES.get(word) if isinstance(word, str) else None
    if alias in known:
        return f" Did you mean {alias!r}?"
    close = difflib.get_close_matches(str(word), known, n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


# ------------------------------------------------------------------------------ loading


Locate = Callable[[tuple[Any, ...]], "int | None"]
"""The 1-based line of the value at a path of the (normalised) dataset data, if known."""


def load_dataset(path: str | Path) -> Dataset:
    """Read a dataset file; the format comes from the suffix (.yaml, .yml, .json, .jsonl, .csv).

    Raises:
        UserError: the file is missing or malformed, naming the file, the line and the field.
    """
    path = Path(path)
    fmt = _format(path)
    text = _read(path)
    data, locate = _PARSERS[fmt](path, text)
    return _build(path, data, locate)


def _read(path: Path) -> str:
    try:
        # newline="" keeps line breaks inside quoted CSV cells as they are
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return handle.read()
    except FileNotFoundError:
        raise UserError(f"No dataset file at {path}.") from None
    except IsADirectoryError:
        raise UserError(f"{path} is a directory, not a dataset file.") from None
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save the file as UTF-8."
        ) from None


def _problem(path: Path, line: int | None, message: str) -> str:
    return f"{path}:{line}: {message}" if line else f"{path}: {message}"


def _parse_yaml(path: Path, text: str) -> tuple[Any, Locate]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    problem = alias_problem(text)
    if problem is not None:
        raise UserError(_problem(path, None, f"not loaded: {problem}."))
    try:
        data = yaml.load(text, Loader=loader)  # a safe loader: no Python objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).strip()
        context = getattr(exc, "context", None)
        started = getattr(exc, "context_mark", None)
        if context and started is not None and mark is not None and started.line != mark.line:
            context = f"{context} started at line {started.line + 1}"
        detail = f"{context}, {problem}" if context else problem
        raise UserError(
            _problem(path, mark.line + 1 if mark else None, f"not valid YAML ({detail}).")
        ) from None
    nodes: list[Any] = []

    def locate(steps: tuple[Any, ...]) -> int | None:
        if not nodes:
            nodes.append(yaml.compose(text, Loader=loader))
        node = nodes[0]
        if isinstance(node, yaml.SequenceNode) and steps[:1] == ("cases",):
            steps = steps[1:]  # the file is just the list of cases
        line = node.start_mark.line + 1
        for step in steps:
            if isinstance(node, yaml.MappingNode):
                pair = next((p for p in node.value if p[0].value == step), None)
                if pair is None:
                    break
                line = pair[0].start_mark.line + 1  # the key's line: `repeat: 0`
                node = pair[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
                if step >= len(node.value):
                    break
                node = node.value[step]
                line = node.start_mark.line + 1
            else:
                break
        return line

    return data, locate


def _parse_json(path: Path, text: str) -> tuple[Any, Locate]:
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise UserError(_problem(path, exc.lineno, f"not valid JSON ({exc.msg}).")) from None
    except ValueError as exc:
        raise UserError(_problem(path, None, f"not valid JSON ({exc}).")) from None

    def locate(steps: tuple[Any, ...]) -> int | None:
        if isinstance(data, list) and steps[:1] == ("cases",):
            steps = steps[1:]
        return text.count("\n", 0, _json_offset(text, steps)) + 1

    return data, locate


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_WS = re.compile(r"[ \t\n\r]*")


def _json_offset(text: str, steps: tuple[Any, ...]) -> int:
    """Where the value at `steps` starts in JSON `text` (as deep as the steps lead)."""
    from json.decoder import scanstring

    decoder = json.JSONDecoder()
    pos = _WS.match(text, 0).end()  # type: ignore[union-attr]
    try:
        for step in steps:
            opening = text[pos : pos + 1]
            if opening == "{" and isinstance(step, str):
                pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
                while text[pos : pos + 1] == '"':
                    key, pos = scanstring(text, pos + 1)
                    pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
                    pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]  # past ':'
                    if key == step:
                        break
                    _, pos = decoder.raw_decode(text, pos)
                    pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
                    if text[pos : pos + 1] == ",":
                        pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
                else:
                    return pos
            elif opening == "[" and isinstance(step, int):
                pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
                for _ in range(step):
                    _, pos = decoder.raw_decode(text, pos)
                    pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
                    pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]  # past ','
            else:
                return pos
    except (ValueError, IndexError):
        pass
    return pos


def _parse_jsonl(path: Path, text: str) -> tuple[Any, Locate]:
    cases: list[Any] = []
    case_lines: list[int] = []
    data: dict[str, Any] = {"cases": cases}
    header_line = 1
    # split on "\n" only: str.splitlines would also split at U+2028 and friends, which
    # JSON strings may hold unescaped
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line, parse_constant=_no_constant)
        except json.JSONDecodeError as exc:
            raise UserError(_problem(path, number, f"not valid JSON ({exc.msg}).")) from None
        except ValueError as exc:
            raise UserError(_problem(path, number, f"not valid JSON ({exc}).")) from None
        if isinstance(item, dict) and "dataset" in item and "name" not in item:
            if cases or len(data) > 1:
                raise UserError(
                    _problem(path, number, 'the {"dataset": {...}} line must be the first line.')
                )
            header = item["dataset"]
            if len(item) > 1 or not isinstance(header, dict) or "cases" in header:
                raise UserError(
                    _problem(
                        path,
                        number,
                        'the first line may be {"dataset": {"name": ..., "evaluators": [...]}} '
                        "and nothing else.",
                    )
                )
            data.update(header)
            data["cases"] = cases
            header_line = number
            continue
        if isinstance(item, dict) and item.get("type") == "header" and "settings" in item:
            raise UserError(
                _problem(
                    path,
                    number,
                    "this is a results file of an eval run (`--results`), not a dataset; "
                    "show its report with `myna eval show`.",
                )
            )
        cases.append(item)
        case_lines.append(number)

    def locate(steps: tuple[Any, ...]) -> int | None:
        if steps[:1] == ("cases",) and len(steps) > 1 and isinstance(steps[1], int):
            return case_lines[steps[1]] if steps[1] < len(case_lines) else None
        return header_line

    return data, locate


_CSV_COLUMNS = ("name", "inputs", "expected", "metadata", "evaluators", "repeat")
_SPLIT = ("inputs", "metadata")
"""Columns that may also come as one column per key: ``inputs.city``, ``metadata.tag``."""


def _cell(text: str) -> Any:
    """A CSV cell: JSON when it reads as JSON (numbers, lists, mappings, quoted strings),
    else the text as is."""
    try:
        return json.loads(text, parse_constant=_no_constant)
    except ValueError:
        return text


def _parse_csv(path: Path, text: str) -> tuple[Any, Locate]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise UserError(_problem(path, reader.line_num, f"not valid CSV ({exc}).")) from None
    if not header or not any(h.strip() for h in header):
        raise UserError(
            _problem(
                path,
                1,
                "no header row; the first row names the columns: "
                f"{', '.join(_CSV_COLUMNS)} (or inputs.<key> columns).",
            )
        )
    columns: list[tuple[str, str | None]] = []  # (field, key of a split column)
    seen: set[str] = set()
    for raw in header:
        title = raw.strip()
        if title in seen:
            raise UserError(_problem(path, 1, f"the column {title!r} appears twice."))
        seen.add(title)
        field, dot, key = title.partition(".")
        if dot and field in _SPLIT and key:
            columns.append((field, key))
        elif title in _CSV_COLUMNS:
            columns.append((title, None))
        else:
            hint = _did_you_mean(title, _CSV_COLUMNS)
            raise UserError(
                _problem(
                    path,
                    1,
                    f"unknown column {title!r}.{hint} Columns: {', '.join(_CSV_COLUMNS)}, or "
                    "inputs.<key> / metadata.<key> for one column per key.",
                )
            )
    for field in _SPLIT:
        if (field, None) in columns and any(f == field and k for f, k in columns):
            raise UserError(
                _problem(
                    path,
                    1,
                    f"use either a {field!r} column or {field}.<key> columns, not both.",
                )
            )
    if ("name", None) not in columns:
        raise UserError(
            _problem(
                path,
                1,
                "no 'name' column; every case needs a unique name (its id in "
                "reports and baselines).",
            )
        )
    cases: list[Any] = []
    case_lines: list[int] = []
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise UserError(_problem(path, start, f"not valid CSV ({exc}).")) from None
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(columns):
            raise UserError(
                _problem(
                    path,
                    start,
                    f"this row has {len(row)} cells but the header names {len(columns)} "
                    "columns (a comma in a cell needs the cell in double quotes).",
                )
            )
        row += [""] * (len(columns) - len(row))  # short rows: the missing cells are empty
        case: dict[str, Any] = {}
        for (field, key), text_ in zip(columns, row, strict=True):
            if key is not None:
                parts = case.setdefault(field, {})
                if text_ != "":
                    parts[key] = _cell(text_)
            elif text_ == "":
                continue
            elif field == "name":
                case["name"] = text_  # names stay text: "42" is a name, not a number
            else:
                value = _cell(text_)
                if field == "evaluators" and isinstance(value, (str, dict)):
                    value = [value]  # one evaluator in a cell: "is_json"
                case[field] = value
        if case.get("metadata") == {} and ("metadata", None) not in columns:
            del case["metadata"]  # no metadata cells: no metadata (empty inputs stay {})
        cases.append(case)
        case_lines.append(start)

    def locate(steps: tuple[Any, ...]) -> int | None:
        if steps[:1] == ("cases",) and len(steps) > 1 and isinstance(steps[1], int):
            return case_lines[steps[1]] if steps[1] < len(case_lines) else None
        return 1

    return {"cases": cases}, locate


_PARSERS: dict[str, Callable[[Path, str], tuple[Any, Locate]]] = {
    "yaml": _parse_yaml,
    "json": _parse_json,
    "jsonl": _parse_jsonl,
    "csv": _parse_csv,
}


_validators: dict[str, Any] = {}


def _validator(definition: str) -> Any:
    """A validator of ``$defs/<definition>`` of the dataset schema."""
    if definition not in _validators:
        from jsonschema import Draft202012Validator

        schema = dataset_schema()
        del schema["anyOf"]
        schema["$ref"] = f"#/$defs/{definition}"
        _validators[definition] = Draft202012Validator(schema)
    return _validators[definition]


_CASE_KEYS = frozenset({"name", "inputs", "expected", "metadata", "repeat"})


def plainly_valid(item: Any) -> bool:
    """True for a case the schema surely accepts: the common shape, checked in a few
    microseconds instead of jsonschema's hundred. Anything else goes to jsonschema (which
    also writes the error messages); tests check that this never accepts what it rejects."""
    if type(item) is not dict or not item.keys() <= _CASE_KEYS:
        return False
    name = item.get("name")
    metadata = item.get("metadata")
    repeat = item.get("repeat")
    return (
        type(name) is str
        and bool(name.strip())
        and (metadata is None or type(metadata) is dict)
        and (repeat is None or (type(repeat) is int and repeat >= 1))
    )


def _schema_errors(data: dict[str, Any]) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """(where, jsonschema error) for each schema violation in `data`."""
    cases = data.get("cases")
    if not isinstance(cases, list):
        yield from (((), error) for error in _validator("dataset").iter_errors(data))
        return
    top = {**data, "cases": []}
    yield from (((), error) for error in _validator("dataset").iter_errors(top))
    case_validator = _validator("case")
    for index, item in enumerate(cases):
        if not plainly_valid(item):
            yield from ((("cases", index), e) for e in case_validator.iter_errors(item))


def _build(path: Path, data: Any, locate: Locate) -> Dataset:
    if data is None:
        raise UserError(
            _problem(
                path,
                None,
                "the file is empty; a dataset file has `cases:`, a list of "
                "cases with a name and inputs each (see `myna eval schema`).",
            )
        )
    if isinstance(data, list):
        data = {"cases": data}
    if not isinstance(data, dict):
        raise UserError(
            _problem(
                path,
                1,
                f"a dataset file is a mapping with `cases:`, or a list of cases; "
                f"this one is a {type(data).__name__}.",
            )
        )
    if data.get("format") == "myna-eval-report":
        raise UserError(
            _problem(
                path, 1, "this is an eval report, not a dataset; show it with `myna eval show`."
            )
        )
    problems: dict[tuple[Any, ...], tuple[int | None, str]] = {}
    for where, error in _schema_errors(data):
        for steps, message in _explain(error, where, data):
            problems.setdefault(steps, (locate(steps), message))
    if problems:
        _raise(path, list(problems.values()))
    return _dataset(path, data, locate)


def _raise(path: Path, problems: list[tuple[int | None, str]]) -> None:
    problems.sort(key=lambda p: (p[0] or 0, p[1]))
    lines = [_problem(path, line, message) for line, message in problems[:_MAX_SHOWN]]
    if len(problems) > _MAX_SHOWN:
        lines.append(f"... and {len(problems) - _MAX_SHOWN} more problems in {path}.")
    raise UserError("\n".join(lines))


def _case_label(data: Any, index: int) -> str:
    cases = data.get("cases")
    item = cases[index] if isinstance(cases, list) and index < len(cases) else None
    name = item.get("name") if isinstance(item, dict) else None
    if isinstance(name, str) and name.strip():
        return f"case {name!r}"
    return f"case #{index + 1}"


def _explain(
    error: Any, where_: tuple[Any, ...], data: dict[str, Any]
) -> list[tuple[tuple[Any, ...], str]]:
    """A jsonschema error (of the data at `where_`) as readable problems: (path, message)."""
    steps = (*where_, *error.absolute_path)
    if steps[:1] == ("cases",) and len(steps) >= 2 and isinstance(steps[1], int):
        where, fields, local = f"{_case_label(data, steps[1])}: ", CASE_FIELDS, steps[2:]
        kind = "A case"
    else:
        where, fields, local = "", DATASET_FIELDS, steps
        kind = "A dataset file"
    if local[:1] == ("evaluators",) and len(local) > 1:
        # one evaluator spec: from_spec says best what is wrong with it (did you mean ...)
        item = steps[: len(steps) - len(local) + 2]
        spec = _at(data, item)
        label = where or "dataset "
        return [(item, f"{label}evaluator {_short(spec)}: {_spec_problem(spec, error)}")]
    if error.validator == "additionalProperties":
        known = [f for f in fields if f != "$schema"]
        found = []
        for key in error.instance:
            if key not in fields:
                hint = _did_you_mean(key, known)
                found.append(
                    (
                        (*steps, key),
                        f"{where}unknown field {key!r}.{hint} {kind} has: {', '.join(known)}.",
                    )
                )
        return found
    if error.validator == "required":
        missing = next(f for f in error.validator_value if f not in error.instance)
        if missing == "name":
            why = " (every case needs a unique name: its id in reports and baselines)"
        else:
            why = " (a dataset file is `cases:` followed by a list of cases)"
        return [(steps, f"{where}missing field {missing!r}{why}.")]
    if not local:
        if where:
            return [
                (
                    steps,
                    f"{where[:-2]} must be a mapping like {{name: ..., inputs: ...}}, "
                    f"got {_short(error.instance)}.",
                )
            ]
        return [(steps, f"{error.message}.")]
    field = local[0]
    rule = _RULES.get(field) if len(local) == 1 else None
    if rule is None or (field == "name" and not where):
        rule = "must be a string" if field == "name" else f"is invalid ({error.message})"
    return [
        (
            steps[: len(steps) - len(local) + 1],
            f"{where}field {field!r} {rule} (got {_short(error.instance)}).",
        )
    ]


def _at(data: Any, steps: tuple[Any, ...]) -> Any:
    for step in steps:
        data = data[step]
    return data


def _spec_problem(spec: Any, error: Any) -> str:
    from . import evaluators

    try:
        evaluators.from_spec(spec)
    except UserError as exc:
        return str(exc)
    except Exception as exc:  # a built-in rejected its arguments in its own way
        return f"{type(exc).__name__}: {exc}"
    return f"{error.message}."


def _dataset(path: Path, data: dict[str, Any], locate: Locate) -> Dataset:
    problems: list[tuple[int | None, str]] = []
    shared = _evaluators(data.get("evaluators"), ("evaluators",), "dataset ", locate, problems)
    cases: list[Case] = []
    first: dict[str, int] = {}
    for index, item in enumerate(data["cases"]):
        steps = ("cases", index)
        name = item["name"]
        label = f"case {name!r}: "
        if name in first:
            earlier = locate(("cases", first[name]))
            at = f" (first at line {earlier})" if earlier else ""
            problems.append(
                (
                    locate(steps),
                    f"duplicate case name {name!r}{at}; names are the ids in reports and "
                    "baselines: rename one.",
                )
            )
            continue
        first[name] = index
        repeat = item.get("repeat")
        if isinstance(repeat, float):  # 3.0 is a whole number (jsonschema agrees)
            repeat = int(repeat)
        checks = _evaluators(
            item.get("evaluators"), (*steps, "evaluators"), label, locate, problems
        )
        try:
            cases.append(
                Case(
                    name,
                    inputs=item.get("inputs"),
                    expected=item.get("expected"),
                    metadata=item.get("metadata"),
                    evaluators=checks,
                    repeat=repeat,
                )
            )
        except UserError as exc:
            problems.append((locate(steps), str(exc)))
    if problems:
        _raise(path, problems)
    name = data.get("name")
    return Dataset(cases, evaluators=shared, name=name if name else path.stem)


def _evaluators(
    specs: Any,
    steps: tuple[Any, ...],
    label: str,
    locate: Locate,
    problems: list[tuple[int | None, str]],
) -> list[Any]:
    from . import evaluators

    built = []
    for index, spec in enumerate(specs or ()):
        try:
            built.append(evaluators.from_spec(spec))
        except Exception as exc:  # UserError, or a built-in's own check of its arguments
            text = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
            problems.append((locate((*steps, index)), f"{label}evaluator {_short(spec)}: {text}"))
    return built
