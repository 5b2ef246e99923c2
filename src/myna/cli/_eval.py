"""``myna eval run | compare | show | schema``: evaluations from the command line.

```
myna eval run evals/weather.yaml --target app:answer --repeat 5 --min-pass-rate 0.8 \\
    --json eval.json --report eval.html --baseline evals/baseline.json
```

Exit codes: 0 the gate passed, 1 it failed (or a significant regression against
``--baseline``), 2 a usage error (printed as ``myna: ...``).
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from ..exceptions import UserError

__all__ = ["add_commands", "load_target"]


def load_target(spec: str) -> Any:
    """The object at ``module:attribute`` (``app:answer``, ``app:agent.run``, ``app:model``),
    importing the module from the current directory too.

    Raises:
        UserError: a malformed spec, a module that does not import, a missing attribute
            (with a did-you-mean), or an object that is neither callable nor a chat model.
    """
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        raise UserError(
            f"--target {spec!r} must be module:function, e.g. app:answer for the function "
            "answer in app.py (a chat model object works too: app:model)."
        )
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)  # as `python -m` does: the app next to the dataset imports
    importlib.invalidate_caches()  # a module written since the last import is found
    try:
        obj: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise UserError(
                f"--target {spec!r}: no module named {exc.name!r} (looked in {cwd} and on "
                "sys.path)."
            ) from None
        raise UserError(f"--target {spec!r}: importing {module_name!r} failed: {exc}.") from exc
    except Exception as exc:
        raise UserError(
            f"--target {spec!r}: importing {module_name!r} raised {type(exc).__name__}: {exc}"
        ) from exc
    owner = f"module {module_name!r}"
    for name in attribute.split("."):
        try:
            obj = getattr(obj, name)
        except AttributeError:
            names = [n for n in dir(obj) if not n.startswith("_")]
            close = difflib.get_close_matches(name, names, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise UserError(
                f"--target {spec!r}: {owner} has no attribute {name!r}.{hint}"
            ) from None
        owner = repr(name)
    if not callable(obj) and not hasattr(obj, "ainvoke"):
        raise UserError(
            f"--target {spec!r} is a {type(obj).__name__}, not a function or a chat model."
        )
    return obj


def _write(what: str, path: Path) -> None:
    print(f"{what}: {path}")


def _run(args: argparse.Namespace) -> int:
    from ..evals import Dataset, Report, evaluate

    if (args.resume or args.retry_errors) and not args.results:
        flag = "--resume" if args.resume else "--retry-errors"
        raise UserError(
            f"{flag} needs --results FILE: the runs to keep are read from that JSONL file."
        )
    dataset = Dataset.load(args.dataset)
    target = load_target(args.target)
    baseline = Report.load(args.baseline) if args.baseline else None  # fail before running
    report = evaluate(
        target,
        dataset,
        repeat=args.repeat,
        min_pass_rate=args.min_pass_rate,
        max_error_rate=args.max_error_rate,
        max_concurrency=args.concurrency,
        timeout=args.timeout,
        progress=False if args.no_progress else None,
        results_path=args.results,
        resume=args.resume or args.retry_errors,
        retry_errors=args.retry_errors,
        seed=args.seed,
    )
    report.print(full=args.full)
    if args.json:
        _write("json report", report.to_json(args.json))
    if args.junit:
        _write("junit report", report.to_junit(args.junit))
    if args.report:
        _write("html report", report.to_html(args.report))
    if args.results:
        _write("results", Path(args.results))
    ok = report.passed
    if baseline is not None:
        from ..evals import compare

        comparison = compare(report, baseline)
        print()
        comparison.print()
        ok = ok and comparison.ok
    return 0 if ok else 1


def _compare(args: argparse.Namespace) -> int:
    from ..evals import compare

    comparison = compare(args.report, args.baseline, alpha=args.alpha)
    comparison.print()
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(comparison.to_dict(), indent=1) + "\n", "utf-8")
        _write("comparison", path)
    return 0 if comparison.ok else 1


def _show(args: argparse.Namespace) -> int:
    from ..evals import Report

    Report.load(args.report).print(full=args.full)
    return 0


def _schema(args: argparse.Namespace) -> int:
    from ..evals import Dataset, Report

    schema = Report.schema() if args.report else Dataset.schema()
    text = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        path = Path(args.output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
        print(f"wrote {path}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _rate(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number (e.g. 0.8)") from None


def add_commands(subparsers: Any) -> None:
    """Add ``myna eval ...`` to the ``myna`` command's subparsers."""
    parser = subparsers.add_parser(
        "eval",
        help="run evals over a dataset, compare reports, show them, print the schemas",
        description="Evaluations: run a target over a dataset file and gate on the result.",
    )
    commands = parser.add_subparsers(dest="eval_command", required=True)

    p = commands.add_parser(
        "run",
        help="run a target over a dataset; exit 1 when the gate fails",
        description="Run TARGET on every case of DATASET, print the cases worst first, write "
        "the requested files. Exit 0 when the gate passes, 1 when it fails or a significant "
        "regression against --baseline shows, 2 on a usage error.",
    )
    p.add_argument("dataset", help="dataset file: .yaml, .json, .jsonl or .csv")
    p.add_argument(
        "--target",
        required=True,
        help="module:function to evaluate (imported from the current directory too); a "
        "chat model object works too",
    )
    p.add_argument("--repeat", type=int, default=1, help="runs per case (default 1)")
    p.add_argument(
        "--min-pass-rate",
        type=_rate,
        default=1.0,
        help="share of runs a case must pass, and of cases that must pass (default 1.0)",
    )
    p.add_argument(
        "--max-error-rate", type=_rate, default=0.0, help="share of cases allowed to error"
    )
    p.add_argument("--concurrency", type=int, default=10, help="runs in flight (default 10)")
    p.add_argument("--timeout", type=float, help="seconds a run may take")
    p.add_argument("--seed", type=int, default=0, help="base of the per-run seeds")
    p.add_argument("--report", metavar="HTML", help="write the HTML report here")
    p.add_argument("--json", metavar="JSON", help="write the JSON report here")
    p.add_argument("--junit", metavar="XML", help="write JUnit XML here")
    p.add_argument("--results", metavar="JSONL", help="stream every run to this JSONL file")
    p.add_argument("--resume", action="store_true", help="keep the runs in --results, run the rest")
    p.add_argument(
        "--retry-errors", action="store_true", help="with --resume: run the errored runs again"
    )
    p.add_argument("--baseline", metavar="JSON", help="compare with this JSON report")
    p.add_argument("--full", action="store_true", help="print every case, not the worst 20")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=_run)

    p = commands.add_parser(
        "compare",
        help="compare two JSON reports; exit 1 on a significant regression",
        description="What changed from BASELINE to REPORT case by case, with paired tests so "
        "noise is not called a regression. Exit 1 on a significant regression.",
    )
    p.add_argument("baseline", help="the earlier JSON report")
    p.add_argument("report", help="the new JSON report")
    p.add_argument("--alpha", type=_rate, default=0.05, help="significance level (default 0.05)")
    p.add_argument("--json", metavar="JSON", help="write the comparison as JSON here")
    p.set_defaults(run=_compare)

    p = commands.add_parser("show", help="print a JSON report's table, worst cases first")
    p.add_argument("report", help="a JSON report (myna eval run --json)")
    p.add_argument("--full", action="store_true", help="every case, not the worst 20")
    p.set_defaults(run=_show)

    p = commands.add_parser(
        "schema",
        help="print the JSON Schema of dataset files (or of JSON reports)",
        description="Print the JSON Schema of dataset files, for editors: save it as "
        "myna-dataset.schema.json beside your datasets.",
    )
    p.add_argument("--report", action="store_true", help="the JSON report's schema instead")
    p.add_argument("-o", "--output", help="write it to this file instead of stdout")
    p.set_defaults(run=_schema)
