"""Evaluations: run an app or a model over a dataset of cases, score every output, gate on it.

```python
from myna.evals import Case, Dataset, evaluate, evaluators as ev

dataset = Dataset(
    [Case("paris", {"city": "Paris"}, expected="sunny")],
    evaluators=[ev.contains(ignore_case=True)],
)
report = evaluate(weather_app.answer, dataset, repeat=5, min_pass_rate=0.8)
assert report.passed, report.summary()
```

Offline and deterministic by default (fakes, emulators, cassettes; judge verdicts replayed
from cassettes), with `repeat=n` gates that allow for random variation. Names load on first
use, so ``import myna.evals`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY = {
    "Case": "._case",
    "CaseChange": "._compare",
    "CaseResult": "._results",
    "Comparison": "._compare",
    "Dataset": "._case",
    "EvalCase": "._pytest",
    "EvalContext": "._context",
    "EvalResult": "._context",
    "Judge": "._judge",
    "Pairwise": "._judge",
    "Report": "._report",
    "RunResult": "._results",
    "ScoreDelta": "._compare",
    "aevaluate": "._runner",
    "cases": "._pytest",
    "compare": "._compare",
    "evaluate": "._runner",
    "run_seed": "._runner",
}

__all__ = sorted([*_LAZY, "evaluators"])

if TYPE_CHECKING:
    from . import evaluators
    from ._case import Case, Dataset
    from ._compare import CaseChange, Comparison, ScoreDelta, compare
    from ._context import EvalContext, EvalResult
    from ._judge import Judge, Pairwise
    from ._pytest import EvalCase, cases
    from ._report import Report
    from ._results import CaseResult, RunResult
    from ._runner import aevaluate, evaluate, run_seed


def __getattr__(name: str) -> Any:
    if name == "evaluators":
        return importlib.import_module(".evaluators", __name__)
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'myna.evals' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, "evaluators"})
