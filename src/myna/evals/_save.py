"""Writing datasets as YAML, JSON, JSONL or CSV, refusing anything that would not read back
exactly (a custom Python evaluator, a value that is not plain data)."""

from __future__ import annotations

import functools
import json
import math
import os
import re
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from .._text import short_repr as _short
from ..exceptions import UserError
from ._case import Dataset
from ._files import _SPLIT, _format, _no_constant
from ._schema import SCHEMA_FILENAME, dataset_schema

__all__ = ["save_dataset"]


def save_dataset(dataset: Dataset, path: str | Path, *, schema: bool = False) -> Path:
    """Write `dataset` to `path`; the format comes from the suffix. Returns the path.

    Only what reads back exactly is written: a custom Python evaluator (one without
    ``to_spec()``), or a value that is not plain data (strings, numbers, booleans, null, lists,
    mappings with string keys), is a `UserError` naming the case, and nothing is written.

    With `schema`, ``myna-dataset.schema.json`` is written beside the file; a YAML or JSON
    dataset next to that file points at it (``# yaml-language-server: $schema=...`` or
    ``"$schema"``) so editors validate and complete it.
    """
    path = Path(path)
    fmt = _format(path)
    if not isinstance(dataset, Dataset):
        dataset = Dataset(dataset)
    data = _to_data(dataset, path, fmt)
    schema_file = path.parent / SCHEMA_FILENAME
    if schema:
        path.parent.mkdir(parents=True, exist_ok=True)
        _write(schema_file, json.dumps(dataset_schema(), indent=2) + "\n")
    ref = SCHEMA_FILENAME if schema or schema_file.exists() else None
    text = _WRITERS[fmt](data, path, ref)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, text)
    return path


def _write(path: Path, text: str) -> None:
    """Replace `path` at once, so a reader never sees half a file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def _to_data(dataset: Dataset, path: Path, fmt: str) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if dataset.name is not None and dataset.name != path.stem:
        data["name"] = dataset.name
    if dataset.evaluators:
        data["evaluators"] = [_spec(e, "the dataset", path) for e in dataset.evaluators]
    cases = []
    for case in dataset.cases:
        where = f"case {case.name!r}"
        item: dict[str, Any] = {"name": case.name}
        if case.inputs is not None:
            item["inputs"] = _plain(case.inputs, f"{where}: inputs", path, fmt)
        if case.expected is not None:
            item["expected"] = _plain(case.expected, f"{where}: expected", path, fmt)
        if case.metadata is not None:
            item["metadata"] = _plain(case.metadata, f"{where}: metadata", path, fmt)
        if case.evaluators:
            item["evaluators"] = [_spec(e, where, path) for e in case.evaluators]
        if case.repeat is not None:
            item["repeat"] = case.repeat
        cases.append(item)
    data["cases"] = cases
    return data


def _spec(evaluator: Any, where: str, path: Path) -> Any:
    from ._context import evaluator_name
    from .evaluators import _BUILTINS

    name = evaluator_name(evaluator)
    to_spec = getattr(evaluator, "to_spec", None)
    try:
        spec = to_spec() if callable(to_spec) else None
    except UserError as exc:  # e.g. a judge whose model is an object, not a model string
        raise UserError(f"Cannot write {path}: {where}: {exc}") from None
    spec_name = spec
    if isinstance(spec, dict) and len(spec) == 1:
        (spec_name,) = spec
    if not isinstance(spec_name, str) or spec_name not in _BUILTINS:
        kind = "function" if callable(evaluator) and hasattr(evaluator, "__code__") else "object"
        raise UserError(
            f"Cannot write {path}: {where} has the evaluator {name!r}, a Python {kind} that "
            "cannot be written to a file (only the built-ins of myna.evals.evaluators have a "
            "file form). Keep custom evaluators in code: evaluate(..., evaluators=[...]), or "
            "Dataset(cases, evaluators=[...]) after Dataset.load."
        )
    return _plain(spec, f"{where}: evaluator {name!r}", path, "json")


def _plain(value: Any, where: str, path: Path, fmt: str, depth: int = 0) -> Any:
    """`value` as the plain data a file holds, or a UserError: never a lossy file."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UserError(
                f"Cannot write {path}: {where} holds {value!r}, which a dataset file cannot "
                "represent exactly."
            )
        return value
    if depth > 100:
        raise UserError(f"Cannot write {path}: {where} is nested too deeply (or refers to itself).")
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise UserError(
                    f"Cannot write {path}: {where} has the key {key!r} ({type(key).__name__}); "
                    "keys in a dataset file are strings."
                )
            out[key] = _plain(item, where, path, fmt, depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        return [_plain(item, where, path, fmt, depth + 1) for item in value]
    if fmt == "yaml" and isinstance(value, date):
        return value  # YAML has dates (and reads them back as dates)
    raise UserError(
        f"Cannot write {path}: {where} holds a {type(value).__name__} ({_short(value)}), which "
        "cannot be written to a dataset file exactly; use plain data (strings, numbers, "
        "booleans, null, lists, mappings with string keys)."
    )


@functools.lru_cache(maxsize=1)
def _yaml_dumper() -> type:
    import yaml

    class Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
        def ignore_aliases(self, data: Any) -> bool:
            return True  # a shared dict is written twice, not as an anchor and alias

    def text(dumper: Any, value: str) -> Any:
        # multi-line text (prompts, rubrics) reads best as a literal block
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    return Dumper


def _write_yaml(data: dict[str, Any], path: Path, ref: str | None) -> str:
    import yaml

    body = yaml.dump(
        data,
        Dumper=_yaml_dumper(),
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    # a blank line between cases; only the top-level list items start at column 0 with "- "
    body = re.sub(r"\n(?=- name: )", "\n\n", body)
    body = body.replace("cases:\n\n- ", "cases:\n- ", 1)
    head = f"# yaml-language-server: $schema={ref}\n" if ref else ""
    return head + body


def _write_json(data: dict[str, Any], path: Path, ref: str | None) -> str:
    if ref:
        data = {"$schema": ref, **data}
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _write_jsonl(data: dict[str, Any], path: Path, ref: str | None) -> str:
    lines = []
    header = {k: v for k, v in data.items() if k != "cases"}
    if header:
        lines.append(json.dumps({"dataset": header}, ensure_ascii=False, allow_nan=False))
    lines.extend(json.dumps(item, ensure_ascii=False, allow_nan=False) for item in data["cases"])
    return "".join(line + "\n" for line in lines)


def _csv_text(value: Any) -> str:
    """A cell that `_cell` reads back as `value`."""
    if isinstance(value, str):
        if value == "" or _reads_as_json(value):
            return json.dumps(value, ensure_ascii=False)
        return value
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _reads_as_json(text: str) -> bool:
    try:
        json.loads(text, parse_constant=_no_constant)
    except ValueError:
        return False
    return True


def _splittable(values: list[Any]) -> list[str] | None:
    """The keys of one-column-per-key CSV columns, when every value is a non-empty mapping."""
    keys: dict[str, None] = {}
    for value in values:
        if not isinstance(value, dict) or not value:
            return None
        keys.update(dict.fromkeys(value))
    return list(keys)


def _write_csv(data: dict[str, Any], path: Path, ref: str | None) -> str:
    if "evaluators" in data:
        raise UserError(
            f"Cannot write {path}: a CSV file has no place for the dataset's evaluators "
            f"({', '.join(_short(s, 30) for s in data['evaluators'])}); save it as .yaml, "
            ".json or .jsonl, or pass the evaluators to evaluate(..., evaluators=[...])."
        )
    if "name" in data:
        raise UserError(
            f"Cannot write {path}: a CSV file has no place for the dataset's name "
            f"{data['name']!r} (a CSV dataset is named after its file); save it as "
            f"{data['name']}.csv, or as .yaml, .json or .jsonl."
        )
    cases = data["cases"]
    header: list[str] = ["name"]
    cells: list[Callable[[dict[str, Any]], str]] = [lambda item: item["name"]]
    for field in ("inputs", "expected", "metadata", "evaluators", "repeat"):
        present = [item[field] for item in cases if field in item]
        if not present and field != "inputs":
            continue
        keys = _splittable([item.get(field) for item in cases]) if field in _SPLIT else None
        if keys:
            for key in keys:
                header.append(f"{field}.{key}")
                cells.append(
                    lambda item, f=field, k=key: _csv_text(item[f][k]) if k in item[f] else ""
                )
        else:
            header.append(field)
            cells.append(lambda item, f=field: _csv_text(item[f]) if f in item else "")
    rows = [header, *([cell(item) for cell in cells] for item in cases)]
    return "".join(",".join(_quote(cell) for cell in row) + "\n" for row in rows)


def _quote(cell: str) -> str:
    # csv.writer leaves a lone "\r" unquoted when lines end in "\n", and the reader then
    # splits the row there; quote every cell a reader could misread
    if any(ch in cell for ch in ',"\r\n'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


_WRITERS: dict[str, Callable[[dict[str, Any], Path, str | None], str]] = {
    "yaml": _write_yaml,
    "json": _write_json,
    "jsonl": _write_jsonl,
    "csv": _write_csv,
}
