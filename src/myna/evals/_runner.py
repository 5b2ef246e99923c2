"""`evaluate` / `aevaluate`: run a target over a dataset, score each run, gate on the result.

One event loop drives a fixed pool of `max_concurrency` workers that pull (case, repeat)
runs from a lazy iterator, so at most that many runs are in flight and memory stays flat.
Sync targets run inline while they are fast (a thread hop would cost more than the call) and
move to a thread pool once they show that they block (see `_INLINE_LIMIT`).
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import inspect
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..exceptions import UserError
from ..fakes import seed_var as _fake_seed
from ..testing import ModelCalls
from ._case import Case, Dataset, check_rate
from ._context import (
    DEFAULT_MIN_SCORE,
    CallCapture,
    EvalContext,
    EvalResult,
    current_capture,
    evaluator_name,
    start_observing,
    stop_observing,
    to_results,
)
from ._report import Report, read_results
from ._results import CaseResult, RunResult, call_summary

__all__ = ["aevaluate", "evaluate", "run_seed"]

_INLINE_LIMIT = 0.002
"""Seconds a sync target may block the event loop; `_SLOW_CALLS` slower calls in a row (or
one past `_BLOCKING`) move it to threads."""
_SLOW_CALLS = 3
_BLOCKING = 0.05

_capture = current_capture()


def run_seed(case_name: str, repeat_index: int, base: int = 0) -> int:
    """The seed of one run: stable across processes, distinct per case and repeat."""
    digest = hashlib.blake2b(f"{base}\0{case_name}\0{repeat_index}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big") >> 1


def evaluate(
    target: Any,
    dataset: Dataset | Iterable[Case] | str | Path,
    *,
    evaluators: Sequence[Callable[..., Any]] = (),
    repeat: int = 1,
    min_pass_rate: float = 1.0,
    max_error_rate: float = 0.0,
    max_concurrency: int = 10,
    rate_limiter: Any = None,
    timeout: float | None = None,
    retry: Any = None,
    progress: bool | Callable[[int, int], Any] | None = None,
    results_path: str | Path | None = None,
    resume: bool = False,
    retry_errors: bool = False,
    seed: int = 0,
    name: str | None = None,
    prices: Any = None,
) -> Report:
    """Run `target` on every case of `dataset`, score each output, and return the `Report`.

    ```python
    from myna.evals import Case, Dataset, evaluate, evaluators as ev

    dataset = Dataset([Case("hi", "hi", expected="HI")], evaluators=[ev.equals()])
    report = evaluate(str.upper, dataset)
    assert report.passed and report.cases[0].status == "pass"
    ```

    Args:
        target: a sync or async callable taking the case's inputs (a dict as keyword
            arguments, anything else as one argument), or a myna chat model (inputs are
            what you would pass to ``invoke``).
        dataset: a `Dataset`, a list of `Case`, or the path of a dataset file.
        evaluators: applied to every case, on top of the dataset's and each case's own.
        repeat: runs per case (a case's own `repeat` wins).
        min_pass_rate: the share of runs a case must pass (0.8 = 4 of 5), and the share
            of cases that must pass for `report.passed`.
        max_error_rate: the share of cases allowed to error (the target or an evaluator
            raised); by default none.
        max_concurrency: runs in flight at once.
        rate_limiter: a `myna.models.BaseRateLimiter` acquired before each run.
        timeout: seconds a run's target may take; a slower run errors.
        retry: a `myna.models.RetryPolicy` for retryable errors raised by the target (model
            calls already retry on their own).
        progress: a progress bar (default: when stderr is a terminal), or a callable
            ``(done, total)``.
        results_path: stream each run to this JSONL file as it finishes; the report then
            reads cases back from it, so memory stays flat.
        resume: with `results_path`, keep the runs already in the file and run the rest.
        retry_errors: with `resume`, run again the runs that errored.
        seed: base of the per-run seeds (`EvalContext.seed`, and fakes' randomness).
        name: the report's name (default: the dataset's).
        prices: a `myna.testing.PriceTable` for cost estimates.

    Raises:
        UserError: a bad argument or dataset, named with the fix.
    """
    coroutine = aevaluate(
        target,
        dataset,
        evaluators=evaluators,
        repeat=repeat,
        min_pass_rate=min_pass_rate,
        max_error_rate=max_error_rate,
        max_concurrency=max_concurrency,
        rate_limiter=rate_limiter,
        timeout=timeout,
        retry=retry,
        progress=progress,
        results_path=results_path,
        resume=resume,
        retry_errors=retry_errors,
        seed=seed,
        name=name,
        prices=prices,
    )
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    # called from inside an event loop (a notebook, an async test): run on a loop of its own
    with ThreadPoolExecutor(1, thread_name_prefix="myna-eval") as pool:
        # the caller's context (override_models, an active cassette) carries over to that loop
        context = contextvars.copy_context()
        return pool.submit(context.run, asyncio.run, coroutine).result()


async def aevaluate(
    target: Any,
    dataset: Dataset | Iterable[Case] | str | Path,
    *,
    evaluators: Sequence[Callable[..., Any]] = (),
    repeat: int = 1,
    min_pass_rate: float = 1.0,
    max_error_rate: float = 0.0,
    max_concurrency: int = 10,
    rate_limiter: Any = None,
    timeout: float | None = None,
    retry: Any = None,
    progress: bool | Callable[[int, int], Any] | None = None,
    results_path: str | Path | None = None,
    resume: bool = False,
    retry_errors: bool = False,
    seed: int = 0,
    name: str | None = None,
    prices: Any = None,
) -> Report:
    """The async twin of `evaluate`, with the same arguments and result."""
    run = _Run(
        target,
        _as_dataset(dataset),
        evaluators=evaluators,
        repeat=repeat,
        min_pass_rate=min_pass_rate,
        max_error_rate=max_error_rate,
        max_concurrency=max_concurrency,
        rate_limiter=rate_limiter,
        timeout=timeout,
        retry=retry,
        results_path=results_path,
        resume=resume,
        retry_errors=retry_errors,
        seed=seed,
        name=name,
        prices=prices,
    )
    return await run.execute(progress)


def _as_dataset(dataset: Any) -> Dataset:
    if isinstance(dataset, Dataset):
        return dataset
    if isinstance(dataset, (str, Path)):
        return Dataset.load(dataset)
    if isinstance(dataset, Case):
        return Dataset([dataset])
    if isinstance(dataset, Iterable):
        return Dataset(list(dataset))
    raise UserError(
        f"evaluate() needs a Dataset, a list of Case, or a dataset file path; got "
        f"{type(dataset).__name__}."
    )


def _check_count(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise UserError(f"evaluate(): {name}={value!r} must be a whole number >= {minimum}.")
    return value


def _target_name(target: Any) -> str:
    name = getattr(target, "__qualname__", None) or getattr(target, "__name__", None)
    if isinstance(name, str):
        module = getattr(target, "__module__", None)
        return f"{module}:{name}" if module and module != "builtins" else name
    return repr(target)[:80]


class _Target:
    """Calls the target the way its kind asks: awaited, inline, or on a thread."""

    def __init__(self, target: Any, max_concurrency: int, timeout: float | None) -> None:
        if not callable(target) and not hasattr(target, "ainvoke"):
            raise UserError(
                f"evaluate() target must be a function or a chat model, got "
                f"{type(target).__name__}: a callable taking the case's inputs, sync or async."
            )
        self.timeout = timeout
        self.model = hasattr(target, "ainvoke") and hasattr(target, "invoke")
        if self.model:
            self.fn: Any = target.ainvoke
            self.is_async = True
        else:
            self.fn = target
            self.is_async = inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(
                getattr(target, "__call__", None)  # noqa: B004 - an async __call__
            )
        self.inline = timeout is None
        self.slow = 0
        self.max_concurrency = max_concurrency
        self.pool: ThreadPoolExecutor | None = None

    def _args(self, inputs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
        if not self.model and isinstance(inputs, Mapping):
            return (), dict(inputs)
        return (inputs,), {}

    async def call(self, inputs: Any) -> Any:
        args, kwargs = self._args(inputs)
        if self.is_async:
            return await self._bounded(self.fn(*args, **kwargs))
        if self.inline:
            started = time.perf_counter()
            result = self.fn(*args, **kwargs)
            took = time.perf_counter() - started
            if took > _INLINE_LIMIT:
                # one slow call may be a GC pause or a busy machine; a long one, or a few in
                # a row, is a target that blocks (I/O): later runs go to threads
                self.slow += 1
                if took > _BLOCKING or self.slow >= _SLOW_CALLS:
                    self.inline = False
            else:
                self.slow = 0
        else:
            if self.pool is None:
                self.pool = ThreadPoolExecutor(self.max_concurrency, "myna-eval-target")
            context = contextvars.copy_context()
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(self.pool, context.run, self._call_sync, args, kwargs)
            result = await self._bounded(future)
        if inspect.isawaitable(result):
            result = await self._bounded(result)
        return result

    def _call_sync(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return self.fn(*args, **kwargs)

    async def _bounded(self, awaitable: Any) -> Any:
        if self.timeout is None:
            return await awaitable
        try:
            return await asyncio.wait_for(awaitable, self.timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"the target took longer than timeout={self.timeout:g}s") from None

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)


class _Evaluator:
    __slots__ = ("fn", "is_async", "min_score", "name")

    def __init__(self, fn: Any, name: str) -> None:
        self.fn = fn
        self.name = name
        self.is_async = inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
            getattr(fn, "__call__", None)  # noqa: B004 - an async __call__
        )
        min_score = getattr(fn, "min_score", None)
        self.min_score = DEFAULT_MIN_SCORE if min_score is None else float(min_score)


def _prepare(evaluators: Sequence[Any]) -> list[_Evaluator]:
    prepared: list[_Evaluator] = []
    seen: dict[str, int] = {}
    for fn in evaluators:
        base = evaluator_name(fn)
        seen[base] = seen.get(base, 0) + 1
        prepared.append(_Evaluator(fn, base if seen[base] == 1 else f"{base}#{seen[base]}"))
    return prepared


class _Run:
    """The state of one evaluation run."""

    def __init__(
        self,
        target: Any,
        dataset: Dataset,
        *,
        evaluators: Sequence[Callable[..., Any]],
        repeat: int,
        min_pass_rate: float,
        max_error_rate: float,
        max_concurrency: int,
        rate_limiter: Any,
        timeout: float | None,
        retry: Any,
        results_path: str | Path | None,
        resume: bool,
        retry_errors: bool,
        seed: int,
        name: str | None,
        prices: Any,
    ) -> None:
        if not dataset.cases:
            raise UserError(
                f"{dataset!r} has no cases: an empty evaluation would pass without checking "
                "anything. Add cases, or check the dataset file's path."
            )
        if callable(evaluators):
            evaluators = (evaluators,)
        for fn in evaluators:
            if not callable(fn):
                raise UserError(
                    f"evaluate(): evaluator {fn!r} is not callable; an evaluator is a function "
                    "taking an EvalContext (see myna.evals.evaluators)."
                )
        self.repeat = _check_count("repeat", repeat)
        self.max_concurrency = _check_count("max_concurrency", max_concurrency)
        self.min_pass_rate = check_rate(min_pass_rate)
        self.max_error_rate = check_rate(max_error_rate, "max_error_rate")
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0
        ):
            raise UserError(f"evaluate(): timeout={timeout!r} must be a number of seconds > 0.")
        if (resume or retry_errors) and results_path is None:
            raise UserError(
                "evaluate(resume=True) needs results_path=...: the runs to keep are read from "
                "that JSONL file."
            )
        if rate_limiter is not None and not hasattr(rate_limiter, "aacquire"):
            raise UserError(
                f"evaluate(): rate_limiter={rate_limiter!r} is not a rate limiter; pass a "
                "myna.models.InMemoryRateLimiter(requests_per_second=...)."
            )
        if retry is not None and not hasattr(retry, "should_retry"):
            raise UserError(
                f"evaluate(): retry={retry!r} is not a retry policy; pass "
                "myna.models.RetryPolicy(max_retries=...)."
            )
        self.dataset = dataset
        self.target = _Target(target, self.max_concurrency, timeout)
        self.target_name = _target_name(target)
        self.shared = _prepare([*evaluators, *dataset.evaluators])
        self.rate_limiter = rate_limiter
        self.retry = retry
        self.results_path = Path(results_path) if results_path is not None else None
        self.resume = resume
        self.retry_errors = retry_errors
        self.seed = seed
        self.name = name or dataset.name or getattr(target, "__name__", None) or "eval"
        if prices is None:
            from ..testing import PriceTable

            prices = PriceTable()
        self.prices = prices
        self._price_cache: dict[tuple[Any, Any], Any] = {}
        self._pending: dict[str, dict[int, RunResult]] = {}
        self._handle: Any = None

    # -- planning -------------------------------------------------------------------------

    def _repeats(self, case: Case) -> int:
        return case.repeat or self.repeat

    def _settings(self) -> dict[str, Any]:
        return {
            "target": self.target_name,
            "dataset": self.dataset.name,
            "repeat": self.repeat,
            "max_concurrency": self.max_concurrency,
            "timeout": self.target.timeout,
            "seed": self.seed,
            "evaluators": [e.name for e in self.shared],
        }

    def _load_done(self) -> dict[tuple[str, int], RunResult]:
        done: dict[tuple[str, int], RunResult] = {}
        path = self.results_path
        if path is None or not self.resume or not path.exists():
            return done
        for data in read_results(path):
            try:
                run = RunResult.from_dict(data)
            except (KeyError, TypeError, ValueError):
                continue
            done[(run.case, run.repeat)] = run
        if self.retry_errors:
            done = {key: run for key, run in done.items() if run.status != "error"}
        return done

    def _open_results(self) -> None:
        path = self.results_path
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.resume and path.exists():
            _drop_torn_line(path)
            self._handle = open(path, "a", encoding="utf-8")
        else:
            self._handle = open(path, "w", encoding="utf-8")
            header = {"type": "header", "name": self.name, "settings": self._settings()}
            self._handle.write(json.dumps(header, default=repr) + "\n")
            self._handle.flush()

    # -- running ----------------------------------------------------------------------------

    async def execute(self, progress: Any) -> Report:
        started = time.perf_counter()
        cases = self.dataset.cases
        keep = self.results_path is None
        report = Report(
            name=self.name,
            min_pass_rate=self.min_pass_rate,
            max_error_rate=self.max_error_rate,
            settings=self._settings(),
            results_path=self.results_path,
            keep_cases=keep,
            dataset_cases=cases,
        )
        self.report = report
        done = self._load_done()
        total = sum(self._repeats(case) for case in cases)
        self._open_results()
        bar = _progress(progress, total)
        self._bar = bar
        try:
            if done:  # runs kept from an earlier, interrupted run count first
                for case in cases:
                    for index in range(self._repeats(case)):
                        kept = done.get((case.name, index))
                        if kept is not None:
                            self._finish(case, kept, write=False)
            units = _units(cases, self._repeats, done)
            start_observing()
            try:
                workers = min(self.max_concurrency, total - len(done)) or 0
                if workers:
                    await asyncio.gather(*(self._worker(units) for _ in range(workers)))
            finally:
                stop_observing()
        finally:
            self.target.close()
            if self._handle is not None:
                self._handle.close()
            if bar is not None:
                bar.close()
        report.wall_time = time.perf_counter() - started
        return report

    async def _worker(self, units: Iterator[tuple[Case, int]]) -> None:
        for case, index in units:
            run = await self._run_one(case, index)
            self._finish(case, run, write=True)

    def _finish(self, case: Case, run: RunResult, *, write: bool) -> None:
        if write and self._handle is not None:
            data = run.to_dict()
            run.digest(data)  # the fingerprint reuses this serialisation
            self._handle.write(json.dumps(data, ensure_ascii=False, default=repr) + "\n")
            self._handle.flush()  # a killed run keeps every finished line
        runs = self._pending.setdefault(case.name, {})
        runs[run.repeat] = run
        if self._bar is not None:
            self._bar.advance()
        if len(runs) == self._repeats(case):
            del self._pending[case.name]
            result = CaseResult(
                case.name,
                list(runs.values()),
                self.min_pass_rate,
                dict(case.metadata or {}),
                case.inputs,
                case.expected,
            )
            self.report.add(result)

    async def _run_one(self, case: Case, index: int) -> RunResult:
        seed = run_seed(case.name, index, self.seed)
        capture = CallCapture()
        token = _capture.set((capture, False))
        seed_token = _fake_seed.set(seed)
        try:
            return await self._run_seeded(case, index, seed, capture, token)
        finally:
            _fake_seed.reset(seed_token)

    async def _run_seeded(
        self, case: Case, index: int, seed: int, capture: CallCapture, token: Any
    ) -> RunResult:
        output: Any = None
        error: str | None = None
        where: str | None = None
        started = time.perf_counter()
        try:
            if self.rate_limiter is not None:
                await self.rate_limiter.aacquire()
            output = await self._call_target(case.inputs)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            where = _raised_at(exc)
        finally:
            latency = time.perf_counter() - started
            _capture.reset(token)
        calls = capture.target
        usage, cost = self._usage_and_cost(calls)
        results: list[EvalResult] = []
        if error is None:
            evaluators = self.shared
            if case.evaluators:
                evaluators = _prepare(
                    [*(e.fn for e in self.shared), *case.evaluators]
                )  # names stay unique across both lists
            context = EvalContext(
                case=case,
                inputs=case.inputs,
                expected=case.expected,
                output=output,
                calls=ModelCalls(calls),
                usage=usage,
                cost=cost,
                latency=latency,
                repeat_index=index,
                metadata=case.metadata or {},
                seed=seed,
            )
            judge_token = _capture.set((capture, True))  # what evaluators call is the judge's
            try:
                for evaluator in evaluators:
                    results.extend(await _apply(evaluator, context))
            finally:
                _capture.reset(judge_token)
        judge_usage, judge_cost = self._usage_and_cost(capture.judge)
        return RunResult(
            case=case.name,
            repeat=index,
            output=output,
            results=results,
            error=error,
            raised_at=where,
            latency=latency,
            usage=usage,
            judge_usage=judge_usage,
            cost=cost,
            judge_cost=judge_cost,
            calls=[call_summary(record) for record in calls] if calls else [],
            seed=seed,
        )

    async def _call_target(self, inputs: Any) -> Any:
        attempt = 0
        while True:
            try:
                return await self.target.call(inputs)
            except Exception as exc:
                if self.retry is None or not self.retry.should_retry(exc, attempt):
                    raise
                await asyncio.sleep(self.retry.delay(attempt, exc))
                attempt += 1

    def _usage_and_cost(self, calls: list[Any]) -> tuple[dict[str, int], float | None]:
        if not calls:
            return {}, 0.0
        usage: dict[str, int] = {}
        cost: float | None = 0.0
        for record in calls:
            found = record.usage or {}
            for key in ("input_tokens", "output_tokens", "total_tokens"):
                value = found.get(key)
                if isinstance(value, int):
                    usage[key] = usage.get(key, 0) + value
            price_key = (record.provider, record.model)
            if price_key not in self._price_cache:
                self._price_cache[price_key] = self.prices.lookup(record.provider, record.model)
            price = self._price_cache[price_key]
            if price is None or cost is None:
                cost = None
            else:
                cost += price.cost(found)
        return usage, cost


async def _apply(evaluator: _Evaluator, context: EvalContext) -> list[EvalResult]:
    try:
        value = evaluator.fn(context)
        if evaluator.is_async or inspect.isawaitable(value):
            value = await value
        return to_results(value, evaluator.name, evaluator.min_score)
    except Exception as exc:
        return [EvalResult(name=evaluator.name, error=f"{type(exc).__name__}: {exc}")]


_SKIPPED_DIRS = (
    str(Path(__file__).resolve().parents[1]),  # myna itself
    str(Path(asyncio.__file__).resolve().parent),
    str(Path(contextvars.__file__).resolve().parent / "concurrent"),
)


def _raised_at(error: BaseException) -> str | None:
    """``app.py:12 in answer``: the innermost frame outside myna and asyncio, for the report."""
    import traceback

    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename.startswith(_SKIPPED_DIRS):
            continue
        return f"{Path(frame.filename).name}:{frame.lineno} in {frame.name}"
    return None


def _units(
    cases: Sequence[Case], repeats: Callable[[Case], int], done: Mapping[tuple[str, int], Any]
) -> Iterator[tuple[Case, int]]:
    for case in cases:
        for index in range(repeats(case)):
            if (case.name, index) not in done:
                yield case, index


def _drop_torn_line(path: Path) -> None:
    """Cut a half-written last line (a run killed mid-write) so appends start clean."""
    with open(path, "rb+") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        if size == 0:
            return
        handle.seek(max(0, size - 1))
        if handle.read(1) == b"\n":
            return
        step = min(size, 1 << 16)
        handle.seek(size - step)
        tail = handle.read(step)
        cut = tail.rfind(b"\n")
        handle.truncate(size - step + cut + 1 if cut >= 0 else 0)


class _ProgressBar:
    def __init__(self, total: int, callback: Callable[[int, int], Any] | None) -> None:
        self.total = total
        self.done = 0
        self.callback = callback
        self.progress: Any = None
        self.task: Any = None
        if callback is None:
            from rich.progress import Progress

            self.progress = Progress(transient=True)
            self.task = self.progress.add_task("eval", total=total)
            self.progress.start()

    def advance(self) -> None:
        self.done += 1
        if self.callback is not None:
            self.callback(self.done, self.total)
        else:
            self.progress.advance(self.task)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def _progress(progress: Any, total: int) -> _ProgressBar | None:
    if callable(progress):
        return _ProgressBar(total, progress)
    if progress is None:
        import sys

        progress = sys.stderr.isatty() and not os.environ.get("CI")
    if not progress:
        return None
    try:
        return _ProgressBar(total, None)
    except ImportError:
        return None  # rich is optional: no bar without it
