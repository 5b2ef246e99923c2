"""Results of a run: `RunResult` (one repeat of one case) and `CaseResult` (all its repeats).

Both turn into plain JSON data and back: runs are the lines of the results JSONL file, cases
the rows of the JSON report.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._context import EvalResult
from ._stats import pass_at_k, pass_pow_k, wilson_interval

__all__ = ["CaseResult", "RunResult", "jsonable", "required_passes"]


def jsonable(value: Any, _depth: int = 0) -> Any:
    """`value` as JSON data: messages and pydantic models dumped, unknown objects as repr."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if _depth > 20:
        return repr(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [jsonable(v, _depth + 1) for v in items]
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return jsonable(dump(mode="json", exclude_none=True), _depth + 1)
        except Exception:
            return repr(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value), _depth + 1)
    if isinstance(value, enum.Enum):
        return jsonable(value.value, _depth + 1)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return repr(value)


def required_passes(repeats: int, min_pass_rate: float) -> int:
    """How many of `repeats` runs must pass for a rate of at least `min_pass_rate`."""
    # the epsilon keeps 0.8 * 5 = 4.000000000000001 from asking for 5
    return max(0, math.ceil(min_pass_rate * repeats - 1e-9))


def call_summary(record: Any) -> dict[str, Any]:
    """What a report keeps of one model call: model, last message sent, reply, tools, usage."""
    output = record.output
    data: dict[str, Any] = {"model": f"{record.provider}:{record.model or ''}".rstrip(":")}
    messages = record.messages or []
    if messages:
        data["input"] = messages[-1].text[:2000]
        data["messages"] = len(messages)
    if output is not None:
        data["output"] = output.text[:2000]
        if output.tool_calls:
            data["tool_calls"] = [
                {"name": call["name"], "args": jsonable(call["args"])} for call in output.tool_calls
            ]
        if output.usage_metadata:
            data["usage"] = jsonable(dict(output.usage_metadata))
    if record.error is not None:
        data["error"] = f"{type(record.error).__name__}: {record.error}"
    return data


@dataclass
class RunResult:
    """One run (one repeat) of one case: its output, every evaluator's result, and its cost."""

    case: str
    repeat: int
    output: Any = None
    results: list[EvalResult] = field(default_factory=list)
    error: str | None = None
    """The target's exception (``Type: message``) when it raised or timed out."""
    raised_at: str | None = None
    """Where the target raised (``app.py:12 in answer``); not part of the fingerprint."""
    latency: float = 0.0
    usage: dict[str, int] = field(default_factory=dict)
    judge_usage: dict[str, int] = field(default_factory=dict)
    cost: float | None = 0.0
    judge_cost: float | None = 0.0
    calls: list[dict[str, Any]] = field(default_factory=list)
    seed: int = 0
    _digest: bytes | None = field(default=None, init=False, repr=False, compare=False)

    @functools.cached_property
    def status(self) -> str:
        """``"error"`` (the target or an evaluator raised), ``"pass"`` or ``"fail"``."""
        if self.error is not None:
            return "error"
        failed = False
        for result in self.results:
            if result.error is not None:
                return "error"
            if result.passed is False:
                failed = True
        return "fail" if failed else "pass"

    def to_dict(self) -> dict[str, Any]:
        """The run as plain JSON data (a line of the results file)."""
        data: dict[str, Any] = {
            "case": self.case,
            "repeat": self.repeat,
            "status": self.status,
            "output": jsonable(self.output),
            "results": [r.to_dict() for r in self.results],
            "latency": round(self.latency, 6),
            "seed": self.seed,
        }
        if self.error is not None:
            data["error"] = self.error
        if self.raised_at is not None:
            data["raised_at"] = self.raised_at
        if self.usage:
            data["usage"] = self.usage
        if self.judge_usage:
            data["judge_usage"] = self.judge_usage
        data["cost"] = self.cost
        data["judge_cost"] = self.judge_cost
        if self.calls:
            data["calls"] = self.calls
        return data

    def digest(self, data: dict[str, Any] | None = None) -> bytes:
        """A hash of this run's deterministic parts; `data` is its `to_dict()` when at hand."""
        if self._digest is None:
            data = dict(data if data is not None else self.to_dict())
            data.pop("latency", None)
            data.pop("raised_at", None)  # a line number moves when unrelated code does
            output = data.get("output")
            if isinstance(output, dict) and output.get("type") == "ai":
                # a message id names the call (fakes count calls), not what was said
                data["output"] = {k: v for k, v in output.items() if k != "id"}
            text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=repr)
            self._digest = hashlib.blake2b(text.encode(), digest_size=16).digest()
        return self._digest

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunResult:
        """The inverse of `to_dict`."""
        return cls(
            case=data["case"],
            repeat=int(data["repeat"]),
            output=data.get("output"),
            results=[EvalResult.from_dict(r) for r in data.get("results", ())],
            error=data.get("error"),
            raised_at=data.get("raised_at"),
            latency=float(data.get("latency", 0.0)),
            usage=dict(data.get("usage") or {}),
            judge_usage=dict(data.get("judge_usage") or {}),
            cost=data.get("cost"),
            judge_cost=data.get("judge_cost"),
            calls=list(data.get("calls") or ()),
            seed=int(data.get("seed", 0)),
        )


def _add_usage(total: dict[str, int], usage: Mapping[str, Any]) -> None:
    for key in ("input_tokens", "output_tokens", "total_tokens"):
        value = usage.get(key)
        if isinstance(value, int):
            total[key] = total.get(key, 0) + value


def _add_cost(total: float | None, cost: float | None) -> float | None:
    return None if total is None or cost is None else total + cost


@dataclass
class CaseResult:
    """All runs of one case and its verdict.

    `status` is ``"pass"`` (enough runs passed), ``"flaky"`` (some passed, not enough),
    ``"fail"`` (none passed) or ``"error"`` (a run raised: the target or an evaluator). Errors
    are never counted as scores.
    """

    name: str
    runs: list[RunResult]
    min_pass_rate: float = 1.0
    metadata: dict[str, Any] = field(default_factory=dict)
    inputs: Any = None
    expected: Any = None

    def __post_init__(self) -> None:
        self.runs.sort(key=lambda run: run.repeat)

    @property
    def repeats(self) -> int:
        """How many runs there were."""
        return len(self.runs)

    @functools.cached_property
    def passes(self) -> int:
        """How many runs passed."""
        return sum(1 for run in self.runs if run.status == "pass")

    @property
    def errors(self) -> list[str]:
        """Each error of each run, as ``repeat i: evaluator: Type: message``."""
        found = []
        for run in self.runs:
            if run.error is not None:
                at = f" (at {run.raised_at})" if run.raised_at else ""
                found.append(f"repeat {run.repeat}: target: {run.error}{at}")
            for result in run.results:
                if result.error is not None:
                    found.append(f"repeat {run.repeat}: {result.name}: {result.error}")
        return found

    @functools.cached_property
    def status(self) -> str:
        """``"pass"``, ``"flaky"``, ``"fail"`` or ``"error"``."""
        if any(run.status == "error" for run in self.runs):
            return "error"
        passes = self.passes
        if passes >= required_passes(self.repeats, self.min_pass_rate):
            return "pass"
        return "flaky" if passes else "fail"

    @property
    def pass_rate(self) -> float:
        """Passing runs over all runs."""
        return self.passes / self.repeats if self.repeats else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        """95% Wilson interval of the pass rate."""
        return wilson_interval(self.passes, self.repeats)

    def pass_at(self, k: int) -> float:
        """pass@k: chance that at least one of k runs passes (1 <= k <= repeats)."""
        return pass_at_k(self.passes, self.repeats, k)

    def pass_pow(self, k: int) -> float:
        """pass^k: chance that all of k runs pass (1 <= k <= repeats)."""
        return pass_pow_k(self.passes, self.repeats, k)

    @functools.cached_property
    def scores(self) -> dict[str, float]:
        """Mean score per evaluator over the runs where it gave one (errors left out)."""
        sums: dict[str, list[float]] = {}
        for run in self.runs:
            for result in run.results:
                if result.score is not None and result.error is None:
                    sums.setdefault(result.name, []).append(result.score)
        return {name: sum(values) / len(values) for name, values in sums.items()}

    @property
    def reasons(self) -> list[str]:
        """Why runs failed: ``repeat i: evaluator: reason`` for each failing result."""
        found = []
        for run in self.runs:
            for result in run.results:
                if result.passed is False:
                    score = result.score
                    why = result.reason or (
                        "failed" if score in (None, 0.0, 1.0) else f"score {score:.2f} too low"
                    )
                    found.append(f"repeat {run.repeat}: {result.name}: {why}")
        return found

    @property
    def usage(self) -> dict[str, int]:
        """The target's tokens over all runs."""
        total: dict[str, int] = {}
        for run in self.runs:
            _add_usage(total, run.usage)
        return total

    @property
    def judge_usage(self) -> dict[str, int]:
        """The judges' tokens over all runs."""
        total: dict[str, int] = {}
        for run in self.runs:
            _add_usage(total, run.judge_usage)
        return total

    @property
    def cost(self) -> float | None:
        """The target's estimated US dollars over all runs; None if a model has no price."""
        total: float | None = 0.0
        for run in self.runs:
            total = _add_cost(total, run.cost)
        return total

    @property
    def judge_cost(self) -> float | None:
        """The judges' estimated US dollars over all runs; None if a model has no price."""
        total: float | None = 0.0
        for run in self.runs:
            total = _add_cost(total, run.judge_cost)
        return total

    @property
    def latency(self) -> float:
        """Mean seconds the target took per run."""
        return sum(run.latency for run in self.runs) / len(self.runs) if self.runs else 0.0

    def summary(self) -> str:
        """A few readable lines: the verdict, then which runs failed and why."""
        needed = required_passes(self.repeats, self.min_pass_rate)
        head = f"{self.name}: {self.status} ({self.passes}/{self.repeats} runs passed"
        head += f", {needed} needed)" if self.repeats > 1 else ")"
        lines = [head, *(f"  {line}" for line in self.errors + self.reasons)]
        return "\n".join(lines)

    def to_dict(self, *, runs: bool = True) -> dict[str, Any]:
        """The case as plain JSON data (a row of the JSON report)."""
        low, high = self.interval
        data: dict[str, Any] = {
            "name": self.name,
            "status": self.status,
            "passes": self.passes,
            "repeats": self.repeats,
            "min_pass_rate": self.min_pass_rate,
            "pass_rate": self.pass_rate,
            "interval": [round(low, 6), round(high, 6)],
            "scores": self.scores,
            "usage": self.usage,
            "judge_usage": self.judge_usage,
            "cost": self.cost,
            "judge_cost": self.judge_cost,
            "latency": round(self.latency, 6),
        }
        if self.metadata:
            data["metadata"] = jsonable(self.metadata)
        if self.inputs is not None:
            data["inputs"] = jsonable(self.inputs)
        if self.expected is not None:
            data["expected"] = jsonable(self.expected)
        if runs:
            data["runs"] = [run.to_dict() for run in self.runs]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CaseResult:
        """The inverse of `to_dict` (with runs)."""
        return cls(
            name=data["name"],
            runs=[RunResult.from_dict(r) for r in data.get("runs", ())],
            min_pass_rate=float(data.get("min_pass_rate", 1.0)),
            metadata=dict(data.get("metadata") or {}),
            inputs=data.get("inputs"),
            expected=data.get("expected"),
        )

    def digest(self) -> int:
        """A hash of everything deterministic about this case (timings left out)."""
        head = [self.name, self.min_pass_rate]
        head += [jsonable(self.inputs), jsonable(self.expected), jsonable(self.metadata or None)]
        hasher = hashlib.blake2b(
            json.dumps(head, separators=(",", ":"), default=repr).encode(), digest_size=32
        )
        for run in self.runs:
            hasher.update(run.digest())
        return int.from_bytes(hasher.digest(), "big")


def sort_worst_first(cases: Sequence[CaseResult]) -> list[CaseResult]:
    """Errors, then fails, then flaky, then passes; lower pass rate first; then by name."""
    return sorted(cases, key=worst_key)


_STATUS_ORDER = {"error": 0, "fail": 1, "flaky": 2, "pass": 3}


def worst_key(case: CaseResult) -> tuple[int, float, str]:
    """Sort key putting the worst cases first."""
    return (_STATUS_ORDER[case.status], case.pass_rate, case.name)
