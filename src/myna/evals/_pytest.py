"""Evals as pytest tests: `cases` makes one test per case, `EvalCase.check` runs and gates it.

```python
from myna.evals import cases

@cases("evals/weather.yaml", repeat=3, min_pass_rate=2 / 3)
def test_weather(case):
    case.check(weather_app.answer)
```

Each check is recorded in the session (through myna's pytest plugin, which calls the hooks at
the bottom of this module): the results of all cases of a dataset make one `Report`, merged
across pytest-xdist workers, shown in the "myna evals" terminal section, written by
``--myna-eval-report DIR`` and compared with ``--myna-eval-baseline FILE``.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import inspect
import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest

from ..exceptions import UserError
from ._case import Case, Dataset, _check_repeat, check_rate
from ._report import Report
from ._results import CaseResult, jsonable

__all__ = ["EvalCase", "cases"]

F = TypeVar("F", bound=Callable[..., Any])

WORKER_KEY = "myna_evals"
"""The key of the eval results an xdist worker hands to the controller."""

_OPTIONS = (
    "evaluators",
    "max_concurrency",
    "min_pass_rate",
    "name",
    "prices",
    "rate_limiter",
    "repeat",
    "retry",
    "seed",
    "timeout",
)
"""What `cases` and `check` accept: `evaluate`'s options that mean something for one case."""

_TOP_CASES = 10
_TOP_REASONS = 3
_UNSAFE = re.compile(r"[^A-Za-z0-9_.,=+-]+")


# -- the decorator and the test's `case` argument --------------------------------------------


class _Spec:
    """What `cases` was given; shared by the cases of one decorated test."""

    __slots__ = ("dataset", "name", "options")

    def __init__(self, dataset: Dataset, name: str, options: dict[str, Any]) -> None:
        self.dataset = dataset
        self.name = name
        self.options = options


class EvalCase:
    """One case of a test decorated with `cases`: the test's ``case`` argument.

    ``name``, ``inputs``, ``expected`` and ``metadata`` are the `Case`'s (``case.case`` is the
    `Case` itself); `check` runs a target on it and fails the test when it does not pass.
    """

    __slots__ = ("_spec", "case", "position")

    def __init__(self, case: Case, spec: _Spec, position: int) -> None:
        self.case = case
        self._spec = spec
        self.position = position
        """The case's index in its dataset (reports list cases in dataset order)."""

    def __repr__(self) -> str:
        return f"EvalCase({self.case.name!r} of {self._spec.name!r})"

    @property
    def name(self) -> str:
        """The case's name: the test id, and its id in reports and baselines."""
        return self.case.name

    @property
    def inputs(self) -> Any:
        """What the target is given (a dict as keyword arguments)."""
        return self.case.inputs

    @property
    def expected(self) -> Any:
        """What a correct output looks like."""
        return self.case.expected

    @property
    def metadata(self) -> Mapping[str, Any]:
        """The case's free-form data (empty when it has none)."""
        return self.case.metadata or {}

    def check(self, target: Any, **options: Any) -> CaseResult:
        """Run `target` on this case (``repeat`` times), score it, and fail the test unless it
        passes.

        The evaluators are the dataset's, the case's, those given to `cases` and those given
        here. The result is recorded in the session's eval report either way.

        Args:
            target: a sync or async callable taking the case's inputs, or a myna chat model
                (as for `evaluate`).
            **options: override what `cases` was given: ``repeat``, ``min_pass_rate``,
                ``evaluators`` (added to the others), ``name`` (the report's), ``seed``,
                ``timeout``, ``retry``, ``rate_limiter``, ``max_concurrency``, ``prices``.

        Returns:
            The `CaseResult` (all repeats), when the case passed.

        Raises:
            AssertionError: the case is ``fail``, ``flaky`` or ``error``; the message lists
                which repeats failed and why (or the exception a repeat raised).
        """
        __tracebackhide__ = True
        from ._runner import evaluate

        dataset, name, kwargs = self._plan(options)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            report = evaluate(target, dataset, **kwargs)
        else:
            # a sync check in an async test: evaluate on a thread of its own, which sees this
            # test's context (overridden models, the active cassette) as the test body does
            context = contextvars.copy_context()
            with ThreadPoolExecutor(1, thread_name_prefix="myna-eval-check") as pool:
                report = pool.submit(context.run, evaluate, target, dataset, **kwargs).result()
        return self._verdict(report, name)

    async def acheck(self, target: Any, **options: Any) -> CaseResult:
        """The async twin of `check` (await it in ``async def`` tests)."""
        __tracebackhide__ = True
        from ._runner import aevaluate

        dataset, name, kwargs = self._plan(options)
        report = await aevaluate(target, dataset, **kwargs)
        return self._verdict(report, name)

    def _plan(self, options: dict[str, Any]) -> tuple[Dataset, str, dict[str, Any]]:
        __tracebackhide__ = True
        _check_options(options, "check")
        spec = self._spec
        kwargs = {**spec.options, **options}
        kwargs["evaluators"] = (*spec.options["evaluators"], *_evaluators(options))
        name = kwargs.pop("name", None) or spec.name
        case = self.case
        session = _running()
        if session is not None:
            if session.repeat is not None:  # --myna-eval-repeat wins over everything
                case = dataclasses.replace(case, repeat=None)
                kwargs["repeat"] = session.repeat
            if "prices" not in kwargs and session.prices is not None:
                kwargs["prices"] = session.prices  # [tool.myna.prices] from pyproject.toml
        for key in ("repeat", "min_pass_rate"):
            if kwargs.get(key) is None:
                kwargs.pop(key, None)  # evaluate's default
        dataset = Dataset([case], evaluators=spec.dataset.evaluators, name=spec.dataset.name)
        return dataset, name, {**kwargs, "name": name, "progress": False}

    def _verdict(self, report: Report, name: str) -> CaseResult:
        __tracebackhide__ = True
        result = report.cases[0]
        session = _running()
        if session is not None:
            session.record(self, name, report, result)
        if result.status != "pass":
            raise AssertionError(result.summary())
        return result


def cases(
    dataset: Dataset | Iterable[Case] | str | Path,
    *,
    repeat: int | None = None,
    min_pass_rate: float | None = None,
    evaluators: Sequence[Callable[..., Any]] = (),
    name: str | None = None,
    **options: Any,
) -> Callable[[F], F]:
    """Make a test run once per case of `dataset`, with the case name as its id.

    ```python
    @cases("evals/weather.yaml", repeat=3, min_pass_rate=2 / 3)
    def test_weather(case):
        case.check(weather_app.answer)  # fails with the repeats that failed and why
    ```

    The test takes a ``case`` argument (an `EvalCase`) and calls ``case.check(target)``
    (``await case.acheck(target)`` in an async test). The test is marked ``myna_eval``, so
    ``pytest -m myna_eval`` runs the evals alone and ``-m "not myna_eval"`` skips them.

    Args:
        dataset: a `Dataset`, a list of `Case`, or a dataset file (a relative path is looked
            up beside the test module first, then in the current directory).
        repeat: runs per case (a case's own ``repeat`` wins; ``--myna-eval-repeat`` wins
            over both).
        min_pass_rate: the share of runs a case must pass (2/3 = 2 of 3 repeats).
        evaluators: applied on top of the dataset's and each case's own.
        name: the report's name (default: the dataset's, the file's stem, or the test's).
        **options: more `evaluate` options: ``seed``, ``timeout``, ``retry``,
            ``rate_limiter``, ``max_concurrency``, ``prices``.

    Raises:
        UserError: a bad dataset or option (at collection, naming the test module).
    """
    _check_options(options, "cases")
    _check_repeat(repeat, "cases()")
    if min_pass_rate is not None:
        check_rate(min_pass_rate)
    caller = sys._getframe(1).f_globals.get("__file__")
    loaded, default_name = _load(dataset, caller)
    settings = {
        **options,
        "repeat": repeat,
        "min_pass_rate": min_pass_rate,
        "evaluators": _evaluators({"evaluators": evaluators}),
    }

    def decorate(test: F) -> F:
        if not callable(test) or "case" not in _parameters(test):
            raise UserError(
                f"@cases(...) decorates a test function taking a `case` argument, got "
                f"{getattr(test, '__qualname__', test)!r}: write `def test_x(case): "
                "case.check(target)`."
            )
        spec = _Spec(loaded, name or default_name or test.__name__, settings)
        values = [EvalCase(case, spec, index) for index, case in enumerate(loaded.cases)]
        parametrized = pytest.mark.parametrize("case", values, ids=[c.name for c in values])
        return pytest.mark.myna_eval(parametrized(test))

    return decorate


def _check_options(options: Mapping[str, Any], where: str) -> None:
    __tracebackhide__ = True
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise UserError(
            f"{where}() got unknown option(s) {', '.join(map(repr, unknown))}; it takes "
            f"{', '.join(_OPTIONS)}."
        )


def _evaluators(options: Mapping[str, Any]) -> tuple[Callable[..., Any], ...]:
    found = options.get("evaluators") or ()
    return (found,) if callable(found) else tuple(found)


def _parameters(test: Callable[..., Any]) -> Mapping[str, Any]:
    try:
        return inspect.signature(test).parameters
    except (TypeError, ValueError):
        return {"case": None}  # no signature to read: let pytest judge


def _load(dataset: Any, caller: str | None) -> tuple[Dataset, str | None]:
    """The dataset and its default report name; a file path is read now (at collection)."""
    if isinstance(dataset, Dataset):
        return dataset, dataset.name
    if isinstance(dataset, (str, Path)):
        path = Path(dataset)
        if not path.is_absolute() and caller is not None:
            beside = Path(caller).parent / path
            if beside.exists():
                path = beside
            elif not path.exists():
                raise UserError(
                    f"@cases({str(dataset)!r}): no dataset file at {beside} (beside "
                    f"{Path(caller).name}) nor at {Path.cwd() / path} (the current "
                    "directory); check the path."
                )
        loaded = Dataset.load(path)
        return loaded, loaded.name or path.stem
    if isinstance(dataset, Case):
        return Dataset([dataset]), None
    if isinstance(dataset, Iterable):
        return Dataset(list(dataset)), None
    raise UserError(
        f"@cases() needs a Dataset, a list of Case, or a dataset file path; got "
        f"{type(dataset).__name__}."
    )


# -- the session's results -------------------------------------------------------------------

_current: _Session | None = None
"""The session whose test is running in this process (a stack: pytester nests sessions)."""

_KEY = pytest.StashKey["_Session"]()


@dataclasses.dataclass(frozen=True)
class _Options:
    report_dir: Path | None = None
    baseline: Path | None = None
    repeat: int | None = None


def _read_options(config: pytest.Config) -> _Options:
    """The eval options (or their ini keys); a bad value is a `pytest.UsageError`."""
    here = Path(str(config.invocation_params.dir))

    def path(key: str) -> Path | None:
        value = config.getoption(key) or config.getini(key)
        if not value:
            return None
        found = Path(str(value))
        return found if found.is_absolute() else here / found

    raw = config.getoption("myna_eval_repeat")
    if raw is None:
        raw = config.getini("myna_eval_repeat") or None
    repeat = None
    if raw is not None:
        try:
            repeat = int(str(raw))
        except ValueError:
            repeat = 0
        if repeat < 1:
            raise pytest.UsageError(
                f"--myna-eval-repeat={raw!r} must be a whole number >= 1 (runs per eval case)."
            )
    baseline = path("myna_eval_baseline")
    if baseline is not None and not baseline.exists():
        raise pytest.UsageError(
            f"--myna-eval-baseline: no file or directory at {baseline}; write one with "
            "--myna-eval-report DIR (or report.to_json(path)) on the baseline revision."
        )
    return _Options(path("myna_eval_report"), baseline, repeat)


class _Session:
    """The eval results of one pytest session in this process (workers' merged in)."""

    def __init__(self, config: pytest.Config, state: Any = None) -> None:
        self.config = config
        self.state = state
        self.options = _read_options(config)
        self.repeat = self.options.repeat
        report = getattr(state, "report", None)
        self.prices = getattr(report, "prices", None)
        self.tests: dict[str, tuple[str, str]] = {}
        """nodeid -> (test, variant) of each collected eval test."""
        self.records: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        self.previous: _Session | None = None
        self.reports: list[Report] = []
        self.lines: list[tuple[str, dict[str, bool]]] = []
        self.failed = False

    def running(self) -> tuple[str, str] | None:
        """(test, variant) of the eval test running now, if it is one of this session's."""
        return self.tests.get(getattr(self.state, "nodeid", None) or "")

    def record(self, case: EvalCase, name: str, report: Report, result: CaseResult) -> None:
        """Keep one checked case (a test run again, e.g. by a rerun plugin, replaces it)."""
        test, variant = self.running() or ("", "")
        self.add(
            {
                "report": name,
                "test": test,
                "variant": variant,
                "position": case.position,
                "min_pass_rate": report.min_pass_rate,
                "settings": jsonable(report.settings),
                "wall_time": report.wall_time,
                "case": result.to_dict(),
            }
        )

    def add(self, record: dict[str, Any]) -> None:
        key = (record["report"], record["test"], record["variant"], record["case"]["name"])
        self.records[key] = record

    def build_reports(self) -> list[Report]:
        """One `Report` per dataset (and per test and variant when they would collide)."""
        groups: dict[str, dict[tuple[str, str], list[dict[str, Any]]]] = {}
        for record in self.records.values():
            by_test = groups.setdefault(record["report"], {})
            by_test.setdefault((record["test"], record["variant"]), []).append(record)
        reports = []
        for name, by_test in sorted(groups.items()):
            tests = {test for test, _ in by_test}
            for (test, variant), records in sorted(by_test.items()):
                full = name
                if len(tests) > 1:  # two tests evaluate one dataset: a report for each
                    full += "::" + test.split("::", 1)[-1]
                if variant:
                    full += f"[{variant}]"
                records.sort(key=lambda r: (r["position"], r["case"]["name"]))
                report = Report(
                    (CaseResult.from_dict(r["case"]) for r in records),
                    name=full,
                    min_pass_rate=records[0]["min_pass_rate"],
                    settings=records[0]["settings"],
                )
                report.wall_time = sum(r["wall_time"] for r in records)
                reports.append(report)
        return reports


def _running() -> _Session | None:
    """The session of the eval test running now; None outside one (or with the plugin off in
    a pytest run nested in another, whose session must not collect the inner results)."""
    session = _current
    return session if session is not None and session.running() is not None else None


def _variant(callspec: Any) -> str:
    """The test's other parameters, e.g. ``model=gpt-4.1,drive=async``: one report each."""
    parts = []
    for argname, value in callspec.params.items():
        if argname == "case":
            continue
        if value is None or isinstance(value, (bool, int, float, str)):
            shown = str(value)
        else:
            shown = str(callspec.indices.get(argname, "?"))
        parts.append(f"{argname}={shown}")
    return ",".join(parts)


def _session(config: pytest.Config, state: Any = None) -> _Session:
    session = config.stash.get(_KEY, None)
    if session is None:
        session = config.stash[_KEY] = _Session(config, state)
    return session


# -- hooks called by myna.pytest_plugin ------------------------------------------------------


def configure(config: pytest.Config) -> None:
    """An eval option was given: check it now, before any eval runs."""
    baseline = _read_options(config).baseline
    if baseline is not None and baseline.is_file():
        try:
            Report.load(baseline)
        except UserError as exc:
            raise pytest.UsageError(f"--myna-eval-baseline: {exc}") from None


def collected(config: pytest.Config, items: Sequence[pytest.Item], state: Any) -> None:
    """Collection is done: note which tests are evals and make this session the current one."""
    global _current
    session = _session(config, state)
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and isinstance(callspec.params.get("case"), EvalCase):
            test = item.nodeid.split("[", 1)[0]
            session.tests[item.nodeid] = (test, _variant(callspec))
    if _current is not session:
        session.previous = _current
        _current = session


def merge(config: pytest.Config, data: str) -> None:
    """The controller receives an xdist worker's results."""
    session = _session(config)
    for record in json.loads(data):
        session.add(record)


def session_finish(session: pytest.Session) -> None:
    """Hand results to the controller (a worker), or report, write files and compare."""
    global _current
    config = session.config
    evals = config.stash.get(_KEY, None)
    if evals is not None and _current is evals:
        _current = evals.previous
    if hasattr(config, "workerinput"):
        if evals is not None and evals.records:
            config.workeroutput[WORKER_KEY] = json.dumps(list(evals.records.values()))  # type: ignore[attr-defined]
        return
    evals = _session(config)
    evals.reports = evals.build_reports()
    options = evals.options
    if not evals.reports:
        if options.report_dir or options.baseline:
            evals.lines.append(("no eval case ran: no eval report written or compared", {}))
        return
    if options.report_dir is not None:
        _write(evals, options.report_dir)
    if options.baseline is not None:
        _compare(evals, options.baseline)
    if evals.failed and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """The "myna evals" section: per report its headline and worst cases."""
    evals = config.stash.get(_KEY, None)
    if evals is None or hasattr(config, "workerinput") or not (evals.reports or evals.lines):
        return
    terminalreporter.ensure_newline()
    terminalreporter.section("myna evals")
    for report in evals.reports:
        terminalreporter.write_line(report.headline(), green=report.passed, red=not report.passed)
        for line in _worst_lines(report):
            terminalreporter.write_line(line)
    for line, markup in evals.lines:
        terminalreporter.write_line(line, **markup)


def _worst_lines(report: Report) -> list[str]:
    lines = []
    shown = 0
    for case in report.worst(_TOP_CASES):
        if case.status == "pass":
            break
        shown += 1
        head, *why = case.summary().splitlines()
        lines.append(f"  {head}")
        lines.extend(f"  {line}" for line in why[:_TOP_REASONS])
        if len(why) > _TOP_REASONS:
            lines.append(f"    ... and {len(why) - _TOP_REASONS} more")
    not_passed = report.total - report.counts["pass"]
    if not_passed > shown:
        lines.append(f"  ... and {not_passed - shown} more cases that did not pass")
    return lines


def file_stem(name: str) -> str:
    """A report's name as a file name (``weather[model=a]`` -> ``weather_model=a``)."""
    return _UNSAFE.sub("_", name).strip("._") or "eval"


def _write(evals: _Session, directory: Path) -> None:
    written = []
    for report in evals.reports:
        stem = file_stem(report.name or "eval")
        report.to_json(directory / f"{stem}.json")
        report.to_junit(directory / f"{stem}.junit.xml")
        report.to_html(directory / f"{stem}.html")
        written.append(stem)
    evals.lines.append(
        (f"eval reports written to {directory}: {', '.join(written)} (.json .html .junit.xml)", {})
    )


def _compare(evals: _Session, baseline: Path) -> None:
    from ._compare import compare

    pairs: list[tuple[Report, Path]] = []
    if baseline.is_dir():  # a --myna-eval-report directory of an earlier run
        for report in evals.reports:
            found = baseline / f"{file_stem(report.name or 'eval')}.json"
            if found.exists():
                pairs.append((report, found))
            else:
                evals.lines.append((f"{report.name}: no baseline at {found}", {"yellow": True}))
    else:
        name = Report.load(baseline).name
        match = [report for report in evals.reports if report.name == name]
        if match:
            pairs.append((match[0], baseline))
        else:
            names = ", ".join(repr(report.name) for report in evals.reports)
            evals.lines.append(
                (
                    f"baseline {baseline} is report {name!r}; this run has {names}: not compared",
                    {"yellow": True},
                )
            )
    if pairs:
        evals.lines.append((f"compared with baseline {baseline}:", {"bold": True}))
    for report, path in pairs:
        comparison = compare(report, path)
        evals.lines.extend((line, {}) for line in comparison.summary().splitlines())
        if not comparison.ok:
            evals.failed = True
            evals.lines.append(
                (
                    f"{report.name}: significant regression against the baseline: the run fails",
                    {"red": True, "bold": True},
                )
            )
