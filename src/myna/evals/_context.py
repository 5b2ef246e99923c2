"""What an evaluator sees (`EvalContext`), what it returns (`EvalResult`), and how a return
value becomes a result. Also the per-case capture of model calls, split target vs judge."""

from __future__ import annotations

import contextvars
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import UserError

__all__ = [
    "DEFAULT_MIN_SCORE",
    "CallCapture",
    "EvalContext",
    "EvalResult",
    "current_capture",
    "evaluator_name",
    "to_results",
]

DEFAULT_MIN_SCORE = 0.5
"""A float score passes at or above this, unless the evaluator has its own `min_score`."""


@dataclass(frozen=True)
class EvalResult:
    """One evaluator's verdict on one output.

    `passed` None means the result only informs (a label or a score with no threshold) and does
    not gate. `error` is set instead when the evaluator itself failed: an error is never a
    score of 0 or NaN.
    """

    passed: bool | None = None
    score: float | None = None
    reason: str | None = None
    label: str | None = None
    name: str = ""
    error: str | None = None

    @property
    def status(self) -> str:
        """``"pass"``, ``"fail"``, ``"error"`` or ``"info"`` (does not gate)."""
        if self.error is not None:
            return "error"
        if self.passed is None:
            return "info"
        return "pass" if self.passed else "fail"

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON data (empty fields left out)."""
        data: dict[str, Any] = {"name": self.name, "status": self.status}
        if self.score is not None:
            data["score"] = self.score
        if self.label is not None:
            data["label"] = self.label
        if self.reason is not None:
            data["reason"] = self.reason
        if self.error is not None:
            data["error"] = self.error
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvalResult:
        """The inverse of `to_dict`."""
        status = data.get("status")
        return cls(
            passed=None if status in ("info", "error") else status == "pass",
            score=data.get("score"),
            reason=data.get("reason"),
            label=data.get("label"),
            name=data.get("name", ""),
            error=data.get("error"),
        )


class CallCapture:
    """The model calls made while one case (one repeat) runs: the target's and the judges'."""

    __slots__ = ("judge", "lock", "target")

    def __init__(self) -> None:
        self.target: list[Any] = []
        self.judge: list[Any] = []
        self.lock = threading.Lock()


_capture: contextvars.ContextVar[tuple[CallCapture, bool] | None] = contextvars.ContextVar(
    "myna_eval_capture", default=None
)
"""(capture, is_judge) of the case running in this context; None outside an evaluation."""


def current_capture() -> contextvars.ContextVar[tuple[CallCapture, bool] | None]:
    """The context variable the runner and the judges set (internal to myna.evals)."""
    return _capture


_observers = 0
_observers_lock = threading.Lock()


def _observe(record: Any) -> None:
    found = _capture.get()
    if found is None:
        return
    capture, is_judge = found
    with capture.lock:
        (capture.judge if is_judge else capture.target).append(record)


def start_observing() -> None:
    """Attribute model calls to the running case (reference-counted across runs)."""
    global _observers
    with _observers_lock:
        if _observers == 0:
            from ..models import add_call_observer

            add_call_observer(_observe)
        _observers += 1


def stop_observing() -> None:
    """Undo one `start_observing`."""
    global _observers
    with _observers_lock:
        _observers -= 1
        if _observers == 0:
            from ..models import remove_call_observer

            remove_call_observer(_observe)


@dataclass
class EvalContext:
    """Everything an evaluator may look at for one run of one case.

    `calls` holds every model call the target made during this run (a
    `myna.testing.ModelCalls`: messages sent, tool calls, usage, ...); judges' calls are not
    in it. `usage` sums the target's calls; `cost` is their estimated US dollars (None when a
    model has no price); `latency` is the target's wall time in seconds.
    """

    case: Any
    inputs: Any
    expected: Any
    output: Any
    calls: Any
    usage: dict[str, Any]
    cost: float | None
    latency: float
    repeat_index: int
    metadata: Mapping[str, Any]
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    """Scratch space shared by the evaluators of this run (e.g. a judge's parsed verdicts)."""

    @property
    def name(self) -> str:
        """The case's name."""
        return str(self.case.name)

    @property
    def text(self) -> str:
        """The output as text: a message's text, else ``str(output)``."""
        output = self.output
        text = getattr(output, "text", None)
        if isinstance(text, str):
            return text
        return output if isinstance(output, str) else str(output)


def evaluator_name(evaluator: Any) -> str:
    """The name an evaluator's results carry: its `name`, its function name, or its type."""
    name = getattr(evaluator, "name", None)
    if isinstance(name, str) and name:
        return name
    name = getattr(evaluator, "__name__", None)
    if isinstance(name, str) and name:
        return "lambda" if name == "<lambda>" else name
    return type(evaluator).__name__


def _score(value: float, name: str) -> float:
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise UserError(
            f"evaluator {name!r} returned the score {value!r}; scores must be in [0, 1]. "
            "Return a bool, a score in [0, 1], or EvalResult(passed=..., score=..., reason=...)."
        )
    return float(value)


def to_results(value: Any, name: str, min_score: float) -> list[EvalResult]:
    """Turn what an evaluator returned into results named after it.

    A bool is a pass/fail, a number in [0, 1] a score that passes at `min_score`, a string a
    label (informs, does not gate), an `EvalResult` is kept, and a mapping gives one result
    per key (named ``name.key``).
    """
    if isinstance(value, EvalResult):
        score = value.score
        if score is not None:
            score = _score(score, name)
        passed = value.passed
        if passed is None and score is not None and value.error is None:
            passed = score >= min_score
        if score is None and passed is not None and value.error is None:
            score = 1.0 if passed else 0.0  # as for a bool: the mean score is the pass rate
        return [
            EvalResult(passed, score, value.reason, value.label, value.name or name, value.error)
        ]
    if isinstance(value, bool):
        return [EvalResult(passed=value, score=1.0 if value else 0.0, name=name)]
    if isinstance(value, (int, float)):
        score = _score(float(value), name)
        return [EvalResult(passed=score >= min_score, score=score, name=name)]
    if isinstance(value, str):
        return [EvalResult(label=value, name=name)]
    if isinstance(value, Mapping):
        results: list[EvalResult] = []
        for key, item in value.items():
            results.extend(to_results(item, f"{name}.{key}", min_score))
        return results
    raise UserError(
        f"evaluator {name!r} returned {type(value).__name__} ({value!r:.80}); return a bool, a "
        "score in [0, 1], a label string, an EvalResult, or a dict of those."
    )
