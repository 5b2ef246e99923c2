"""The published JSON Schemas: dataset files (what editors validate) and JSON reports.

Both are draft 2020-12 with a title and a description on every field, so an editor shows help
while a dataset is typed. The evaluator names come from `myna.evals.evaluators`, and their
arguments from the built-ins' signatures, so the schema cannot drift from the code.
"""

from __future__ import annotations

import copy
import functools
import inspect
import re
from typing import Any

__all__ = [
    "DATASET_SCHEMA_ID",
    "REPORT_SCHEMA_ID",
    "SCHEMA_FILENAME",
    "dataset_schema",
    "report_schema",
]

DATASET_SCHEMA_ID = "urn:myna:eval-dataset:1"
REPORT_SCHEMA_ID = "urn:myna:eval-report:1"
SCHEMA_FILENAME = "myna-dataset.schema.json"
"""The schema file that `save_dataset(..., schema=True)` writes beside a dataset."""

_DIALECT = "https://json-schema.org/draft/2020-12/schema"

CASE_FIELDS = {
    "name": "Unique, stable id of the case: its name in reports, baselines and pytest.",
    "inputs": "Given to the target: a mapping is passed as keyword arguments, anything else "
    "as one argument.",
    "expected": "What a correct output looks like (evaluators such as `equals` and `contains` "
    "compare with it).",
    "metadata": "Free-form data for evaluators and reports: tags, difficulty, source.",
    "evaluators": "Evaluators for this case, applied on top of the dataset's and the run's.",
    "repeat": "How often to run this case (overrides the run's `repeat`).",
}
DATASET_FIELDS = {
    "$schema": "The JSON Schema of this file (for editors).",
    "name": "The dataset's name (default: the file name without its suffix); names the report.",
    "evaluators": "Evaluators applied to every case.",
    "cases": "The cases, in the order reports list them.",
}


def dataset_schema() -> dict[str, Any]:
    """The JSON Schema of dataset files (YAML and JSON; a JSONL line or CSV row is one case)."""
    return copy.deepcopy(_dataset_schema())


def report_schema() -> dict[str, Any]:
    """The JSON Schema of `Report.to_dict()` / ``report.json``; ``$defs/run`` is one line of a
    results JSONL file and ``$defs/results_header`` its first line."""
    return copy.deepcopy(_report_schema())


# ------------------------------------------------------------------------------ datasets


def _doc(obj: Any) -> str:
    """A docstring as one paragraph of plain text."""
    text = inspect.getdoc(obj) or ""
    text = text.split("\n\n```", 1)[0]
    return re.sub(r"\s+", " ", text).strip()


_ANNOTATIONS = {
    "bool": {"type": "boolean"},
    "str": {"type": "string"},
    "float": {"type": "number"},
    "int": {"type": "integer"},
    "None": {"type": "null"},
}


def _annotation_schema(annotation: Any) -> dict[str, Any]:
    """A loose schema for a built-in's parameter annotation (they are strings here)."""
    if not isinstance(annotation, str):
        return {}
    options = []
    for part in (p.strip() for p in annotation.split("|")):
        if part in _ANNOTATIONS:
            options.append(dict(_ANNOTATIONS[part]))
        elif part.startswith(("Sequence[", "list[")):
            inner = part[part.index("[") + 1 : -1]
            options.append({"type": "array", "items": _annotation_schema(inner)})
        elif part.startswith(("Mapping[", "dict[")):
            options.append({"type": "object"})
        else:
            return {}  # Any, or something we do not describe: allow anything
    return options[0] if len(options) == 1 else {"anyOf": options}


def _evaluator_args(name: str, factory: Any) -> dict[str, Any]:
    """The schema of ``{name: args}``: keyword arguments as a mapping, or positional ones."""
    from .evaluators import Evaluator

    description = _doc(factory)
    if isinstance(factory, type) and factory.__init__ is Evaluator.__init__:
        return {
            "title": name,
            "description": f"{description} Takes no arguments: write just `{name}`.",
            "type": ["null", "object"],
            "maxProperties": 0,
        }
    signature = inspect.signature(factory)
    properties: dict[str, Any] = {}
    required: list[str] = []
    open_ended = False
    for param in signature.parameters.values():
        if param.kind is param.VAR_KEYWORD:
            open_ended = True
            continue
        if param.kind is param.VAR_POSITIONAL:
            continue
        schema = _annotation_schema(param.annotation)
        default = param.default
        if default is param.empty:
            required.append(param.name)
            schema["description"] = f"`{param.name}` (required)."
        elif default is None or isinstance(default, (bool, int, float, str)):
            schema["description"] = f"`{param.name}` (default {default!r})."
            schema["default"] = default
        else:
            schema["description"] = f"`{param.name}` (default: the case's `expected`)."
        schema["title"] = param.name
        properties[param.name] = schema
    keyword_form: dict[str, Any] = {
        "title": f"{name} arguments",
        "description": "Arguments by name.",
        "type": "object",
        "properties": properties,
        "additionalProperties": open_ended,
    }
    if required:
        keyword_form["required"] = required
    positional = {
        "title": f"{name} argument",
        "description": "The first argument (a list gives several, except for `contains` and "
        "`equals`, whose first argument may be a list).",
        "not": {"type": ["object", "null"]},
    }
    return {
        "title": name,
        "description": description,
        "anyOf": [keyword_form, positional],
    }


def _evaluator_schema() -> dict[str, Any]:
    from .evaluators import _BUILTINS

    names = sorted(_BUILTINS)
    return {
        "title": "Evaluator",
        "description": "A built-in evaluator of myna.evals.evaluators: its name (`is_json`) or "
        "a one-key mapping of its name to its arguments (`contains: sunny`, "
        "`judge: {rubric: ..., model: openai:gpt-4.1-mini}`).",
        "anyOf": [
            {"title": "Evaluator name", "type": "string", "enum": names},
            {
                "title": "Evaluator with arguments",
                "type": "object",
                "minProperties": 1,
                "maxProperties": 1,
                "properties": {name: _evaluator_args(name, _BUILTINS[name]) for name in names},
                "additionalProperties": False,
            },
        ],
    }


@functools.lru_cache(maxsize=1)
def _dataset_schema() -> dict[str, Any]:
    evaluators = {
        "type": "array",
        "items": {"$ref": "#/$defs/evaluator"},
    }
    case = {
        "title": "Case",
        "description": "One input to evaluate, with what to expect and how to judge it.",
        "type": "object",
        "required": ["name"],
        "additionalProperties": False,
        "properties": {
            "name": {
                "title": "name",
                "description": CASE_FIELDS["name"],
                "type": "string",
                "pattern": r"\S",
            },
            "inputs": {"title": "inputs", "description": CASE_FIELDS["inputs"]},
            "expected": {"title": "expected", "description": CASE_FIELDS["expected"]},
            "metadata": {
                "title": "metadata",
                "description": CASE_FIELDS["metadata"],
                "type": ["object", "null"],
            },
            "evaluators": {
                "title": "evaluators",
                "description": CASE_FIELDS["evaluators"],
                **evaluators,
            },
            "repeat": {
                "title": "repeat",
                "description": CASE_FIELDS["repeat"],
                "type": ["integer", "null"],
                "minimum": 1,
            },
        },
    }
    dataset = {
        "title": "Dataset",
        "description": "A myna eval dataset: cases plus evaluators for all of them.",
        "type": "object",
        "required": ["cases"],
        "additionalProperties": False,
        "properties": {
            "$schema": {
                "title": "$schema",
                "description": DATASET_FIELDS["$schema"],
                "type": "string",
            },
            "name": {
                "title": "name",
                "description": DATASET_FIELDS["name"],
                "type": ["string", "null"],
            },
            "evaluators": {
                "title": "evaluators",
                "description": DATASET_FIELDS["evaluators"],
                **evaluators,
            },
            "cases": {
                "title": "cases",
                "description": DATASET_FIELDS["cases"],
                "type": "array",
                "items": {"$ref": "#/$defs/case"},
            },
        },
    }
    return {
        "$schema": _DIALECT,
        "$id": DATASET_SCHEMA_ID,
        "title": "myna eval dataset",
        "description": "A dataset file of myna.evals (YAML or JSON). Load it with "
        "myna.evals.Dataset.load(path) or run it with `myna eval run PATH --target module:fn`. "
        "A file may also be just the list of cases.",
        "anyOf": [
            {"$ref": "#/$defs/dataset"},
            {
                "title": "Cases",
                "description": "Just the list of cases.",
                "type": "array",
                "items": {"$ref": "#/$defs/case"},
            },
        ],
        "$defs": {"dataset": dataset, "case": case, "evaluator": _evaluator_schema()},
    }


# ------------------------------------------------------------------------------- reports


def _number(description: str, *, nullable: bool = False, unit: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "description": description,
        "type": ["number", "null"] if nullable else "number",
    }
    if unit:
        schema.update(minimum=0, maximum=1)
    return schema


def _obj(
    title: str, description: str, properties: dict[str, Any], required: list[str]
) -> dict[str, Any]:
    for key, value in properties.items():
        value.setdefault("title", key)
    return {
        "title": title,
        "description": description,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _usage(description: str) -> dict[str, Any]:
    count = {"type": "integer", "minimum": 0}
    return {
        "description": description,
        "type": "object",
        "properties": {
            "input_tokens": {"title": "input_tokens", "description": "Tokens sent.", **count},
            "output_tokens": {
                "title": "output_tokens",
                "description": "Tokens generated.",
                **count,
            },
            "total_tokens": {"title": "total_tokens", "description": "Input plus output.", **count},
        },
        "additionalProperties": False,
    }


@functools.lru_cache(maxsize=1)
def _report_schema() -> dict[str, Any]:
    from ._report import REPORT_FORMAT, REPORT_VERSION

    result = _obj(
        "Evaluator result",
        "One evaluator's verdict on one run.",
        {
            "name": {"description": "The evaluator's name.", "type": "string"},
            "status": {
                "description": "pass, fail, error (the evaluator raised) or info (does not gate).",
                "enum": ["pass", "fail", "error", "info"],
            },
            "score": _number("Score in [0, 1].", unit=True),
            "label": {"description": "A label (e.g. a judge's choice).", "type": "string"},
            "reason": {"description": "Why it passed or failed.", "type": "string"},
            "error": {
                "description": "The evaluator's exception, `Type: message`.",
                "type": "string",
            },
        },
        ["name", "status"],
    )
    call = {
        "title": "Model call",
        "description": "What a report keeps of one model call the target made.",
        "type": "object",
        "properties": {
            "model": {"title": "model", "description": "provider:model", "type": "string"},
            "input": {
                "title": "input",
                "description": "The last message sent (cut at 2,000 characters).",
                "type": "string",
            },
            "messages": {
                "title": "messages",
                "description": "How many messages were sent.",
                "type": "integer",
            },
            "output": {
                "title": "output",
                "description": "The reply's text (cut at 2,000 characters).",
                "type": "string",
            },
            "tool_calls": {
                "title": "tool_calls",
                "description": "Tool calls in the reply.",
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"title": "name", "description": "The tool.", "type": "string"},
                        "args": {"title": "args", "description": "The arguments."},
                    },
                    "required": ["name"],
                },
            },
            "usage": {
                "title": "usage",
                "description": "The reply's usage metadata.",
                "type": "object",
            },
            "error": {"title": "error", "description": "The call's exception.", "type": "string"},
        },
        "required": ["model"],
        "additionalProperties": False,
    }
    run = _obj(
        "Run",
        "One run (one repeat) of one case: a line of the results JSONL file.",
        {
            "case": {"description": "The case's name.", "type": "string"},
            "repeat": {"description": "Repeat index, from 0.", "type": "integer", "minimum": 0},
            "status": {"description": "pass, fail or error.", "enum": ["pass", "fail", "error"]},
            "output": {"description": "The target's output as JSON data (objects as their repr)."},
            "results": {
                "description": "Every evaluator's result.",
                "type": "array",
                "items": {"$ref": "#/$defs/result"},
            },
            "error": {"description": "The target's exception, `Type: message`.", "type": "string"},
            "raised_at": {
                "description": "Where the target raised, `file.py:12 in function`.",
                "type": "string",
            },
            "latency": _number("Seconds the target took."),
            "seed": {"description": "The run's seed (fakes draw from it).", "type": "integer"},
            "usage": _usage("The target's tokens in this run."),
            "judge_usage": _usage("The judges' tokens in this run."),
            "cost": _number(
                "The target's estimated US dollars; null when a model has no price.", nullable=True
            ),
            "judge_cost": _number(
                "The judges' estimated US dollars; null when unknown.", nullable=True
            ),
            "calls": {
                "description": "The target's model calls.",
                "type": "array",
                "items": {"$ref": "#/$defs/call"},
            },
        },
        ["case", "repeat", "status", "output", "results", "latency", "seed", "cost", "judge_cost"],
    )
    case = _obj(
        "Case result",
        "All runs of one case and its verdict.",
        {
            "name": {"description": "The case's name.", "type": "string"},
            "status": {
                "description": "pass (enough runs passed), flaky (some, not enough), fail (none) "
                "or error (a run raised).",
                "enum": ["pass", "flaky", "fail", "error"],
            },
            "passes": {"description": "Runs that passed.", "type": "integer", "minimum": 0},
            "repeats": {"description": "Runs in all.", "type": "integer", "minimum": 0},
            "min_pass_rate": _number("Share of runs that must pass.", unit=True),
            "pass_rate": _number("Passing runs over all runs.", unit=True),
            "interval": {
                "description": "95% Wilson interval of the pass rate.",
                "type": "array",
                "items": {"type": "number", "minimum": 0, "maximum": 1},
                "minItems": 2,
                "maxItems": 2,
            },
            "scores": {
                "description": "Mean score per evaluator.",
                "type": "object",
                "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1},
            },
            "usage": _usage("The target's tokens over all runs."),
            "judge_usage": _usage("The judges' tokens over all runs."),
            "cost": _number("The target's estimated US dollars over all runs.", nullable=True),
            "judge_cost": _number("The judges' estimated US dollars over all runs.", nullable=True),
            "latency": _number("Mean seconds per run."),
            "metadata": {"description": "The case's metadata.", "type": "object"},
            "inputs": {"description": "The case's inputs."},
            "expected": {"description": "The case's expected output."},
            "runs": {
                "description": "Every run, by repeat.",
                "type": "array",
                "items": {"$ref": "#/$defs/run"},
            },
        },
        [
            "name",
            "status",
            "passes",
            "repeats",
            "min_pass_rate",
            "pass_rate",
            "interval",
            "scores",
            "usage",
            "judge_usage",
            "cost",
            "judge_cost",
            "latency",
        ],
    )
    count = {"type": "integer", "minimum": 0}
    summary = _obj(
        "Summary",
        "Totals over the whole run.",
        {
            "cases": {"description": "Number of cases.", **count},
            "counts": {
                "description": "Cases per status.",
                "type": "object",
                "properties": {
                    s: {"title": s, "description": f"Cases with status {s}.", **count}
                    for s in ("pass", "flaky", "fail", "error")
                },
                "required": ["pass", "flaky", "fail", "error"],
                "additionalProperties": False,
            },
            "pass_rate": _number("Passing cases over all cases.", unit=True),
            "runs": {"description": "Runs over all cases (cases x repeats).", **count},
            "run_passes": {"description": "Runs that passed.", **count},
            "scores": {
                "description": "Mean score per evaluator over the cases where it gave one.",
                "type": "object",
                "additionalProperties": {"type": "number"},
            },
            "usage": _usage("The target's tokens."),
            "judge_usage": _usage("The judges' tokens."),
            "cost": _number("The target's estimated US dollars; null when unknown.", nullable=True),
            "judge_cost": _number(
                "The judges' estimated US dollars; null when unknown.", nullable=True
            ),
            "latency": _number("Seconds the target took, summed over runs."),
            "wall_time": _number("Seconds the whole run took."),
        },
        [
            "cases",
            "counts",
            "pass_rate",
            "runs",
            "run_passes",
            "scores",
            "usage",
            "judge_usage",
            "cost",
            "judge_cost",
            "latency",
            "wall_time",
        ],
    )
    settings = {
        "title": "settings",
        "description": "How the run was made (target, dataset, repeat, concurrency, timeout, "
        "seed, evaluators).",
        "type": "object",
    }
    header = _obj(
        "Results header",
        "The first line of a results JSONL file.",
        {
            "type": {"description": "Always `header`.", "const": "header"},
            "name": {"description": "The run's name.", "type": ["string", "null"]},
            "settings": dict(settings),
        },
        ["type", "settings"],
    )
    report = _obj(
        "myna eval report",
        "The JSON report of a myna eval run (`report.to_json(path)`, `myna eval run --json`).",
        {
            "format": {"description": "Always `myna-eval-report`.", "const": REPORT_FORMAT},
            "version": {"description": "Version of this format.", "const": REPORT_VERSION},
            "name": {"description": "The run's name.", "type": ["string", "null"]},
            "passed": {
                "description": "The gate: enough cases passed, few enough errored.",
                "type": "boolean",
            },
            "fingerprint": {
                "description": "Hash of every deterministic part of the results (timings left "
                "out): the same dataset, target and cassettes give the same fingerprint.",
                "type": "string",
                "pattern": "^[0-9a-f]{16}$",
            },
            "min_pass_rate": _number(
                "Share of cases (and of each case's runs) that must pass.", unit=True
            ),
            "max_error_rate": _number("Share of cases allowed to error.", unit=True),
            "settings": dict(settings),
            "summary": {"description": "Totals over the whole run.", "$ref": "#/$defs/summary"},
            "cases": {
                "description": "Every case, in dataset order.",
                "type": "array",
                "items": {"$ref": "#/$defs/case"},
            },
        },
        [
            "format",
            "version",
            "name",
            "passed",
            "fingerprint",
            "min_pass_rate",
            "max_error_rate",
            "settings",
            "summary",
            "cases",
        ],
    )
    return {
        "$schema": _DIALECT,
        "$id": REPORT_SCHEMA_ID,
        **report,
        "$defs": {
            "summary": summary,
            "case": case,
            "run": run,
            "result": result,
            "call": call,
            "results_header": header,
        },
    }
