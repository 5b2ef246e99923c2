"""`Case` and `Dataset`: what an evaluation runs, with stable, unique case names."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..exceptions import UserError

__all__ = ["Case", "Dataset"]


def _check_repeat(repeat: Any, where: str) -> None:
    if repeat is None:
        return
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise UserError(f"{where}: repeat={repeat!r} must be a whole number >= 1 (or None).")


def check_rate(value: Any, name: str = "min_pass_rate") -> float:
    """`value` as a float in [0, 1], or a UserError quoting it."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not 0 <= value <= 1
    ):
        raise UserError(
            f"{name}={value!r} must be a fraction between 0 and 1, e.g. 0.8 for 4 of 5 repeats."
        )
    return float(value)


@dataclass(frozen=True)
class Case:
    """One input to evaluate, with what to expect and how to judge it.

    ```python
    Case("paris", inputs={"city": "Paris"}, expected="sunny", evaluators=[contains("sun")])
    ```

    Args:
        name: unique within its dataset and stable across runs: the id in reports,
            baselines and pytest.
        inputs: given to the target; a dict is passed as keyword arguments, anything else
            as one argument.
        expected: what a correct output looks like (evaluators such as `equals` use it).
        metadata: free-form data for evaluators and reports (tags, difficulty, source).
        evaluators: applied to this case on top of the dataset's and the run's.
        repeat: how often to run this case (overrides the run's `repeat`).
    """

    name: str
    inputs: Any = None
    expected: Any = None
    metadata: Mapping[str, Any] | None = None
    evaluators: Sequence[Callable[..., Any]] = field(default=())
    repeat: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise UserError(
                f"Case name must be a non-empty string, got {self.name!r}: names are the ids in "
                "reports, baselines and pytest, e.g. Case('paris-weather', inputs=...)."
            )
        if self.metadata is not None and not isinstance(self.metadata, Mapping):
            raise UserError(
                f"Case {self.name!r}: metadata must be a mapping, "
                f"got {type(self.metadata).__name__}."
            )
        if callable(self.evaluators):
            object.__setattr__(self, "evaluators", (self.evaluators,))
        else:
            object.__setattr__(self, "evaluators", tuple(self.evaluators))
        for evaluator in self.evaluators:
            if not callable(evaluator):
                raise UserError(
                    f"Case {self.name!r}: evaluator {evaluator!r} is not callable; an evaluator "
                    "is a function taking an EvalContext (see myna.evals.evaluators)."
                )
        _check_repeat(self.repeat, f"Case {self.name!r}")


class Dataset:
    """An ordered collection of uniquely named cases, plus evaluators for all of them.

    ```python
    dataset = Dataset([Case("a", "hi", expected="HI")], evaluators=[equals()])
    dataset.save("evals/shout.yaml")
    assert Dataset.load("evals/shout.yaml").cases[0].expected == "HI"
    ```
    """

    def __init__(
        self,
        cases: Iterable[Case],
        evaluators: Sequence[Callable[..., Any]] = (),
        name: str | None = None,
    ) -> None:
        self.cases: list[Case] = list(cases)
        self.evaluators: tuple[Callable[..., Any], ...] = (
            (evaluators,) if callable(evaluators) else tuple(evaluators)
        )
        self.name = name
        seen: dict[str, int] = {}
        for index, case in enumerate(self.cases):
            if not isinstance(case, Case):
                raise UserError(
                    f"Dataset item {index} is a {type(case).__name__}, not a Case; build it with "
                    "Case(name, inputs, expected=...)."
                )
            if case.name in seen:
                raise UserError(
                    f"Dataset{_named(name)} has two cases named {case.name!r} (items "
                    f"{seen[case.name]} and {index}); names must be unique because they are the "
                    "ids in reports and baselines: rename one."
                )
            seen[case.name] = index
        for evaluator in self.evaluators:
            if not callable(evaluator):
                raise UserError(
                    f"Dataset{_named(name)}: evaluator {evaluator!r} is not callable; an evaluator "
                    "is a function taking an EvalContext (see myna.evals.evaluators)."
                )

    def __repr__(self) -> str:
        return f"Dataset({_named(self.name).strip() or 'unnamed'}, {len(self.cases)} cases)"

    def __len__(self) -> int:
        return len(self.cases)

    def __iter__(self) -> Iterator[Case]:
        return iter(self.cases)

    def __getitem__(self, key: int | str) -> Case:
        """A case by position or by name."""
        if isinstance(key, str):
            for case in self.cases:
                if case.name == key:
                    return case
            import difflib

            close = difflib.get_close_matches(key, [c.name for c in self.cases], n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise KeyError(f"myna: no case named {key!r} in {self!r}.{hint}")
        return self.cases[key]

    @classmethod
    def load(cls, path: str | Path) -> Dataset:
        """Read a dataset from YAML, JSON, JSONL or CSV (the format comes from the suffix).

        Evaluators in a file are written as ``{name: args}`` of the built-ins in
        `myna.evals.evaluators` (``contains: sunny``, ``judge: {rubric: ..., model: ...}``).
        A bad file raises `UserError` naming the file, the line and the field.
        """
        from ._files import load_dataset

        return load_dataset(path)

    def save(self, path: str | Path, *, schema: bool = False) -> Path:
        """Write the dataset as YAML, JSON, JSONL or CSV (the format comes from the suffix).

        With `schema`, the JSON Schema is written beside it and the file points at it, so
        editors validate and complete the dataset.
        """
        from ._save import save_dataset

        return save_dataset(self, path, schema=schema)

    @classmethod
    def from_strategy(
        cls,
        strategy: Any,
        n: int,
        seed: int = 0,
        *,
        name: str | None = None,
        evaluators: Sequence[Callable[..., Any]] = (),
        expected: Callable[[Any], Any] | None = None,
    ) -> Dataset:
        """`n` cases drawn from a hypothesis strategy, the same ones for the same seed.

        Each drawn value becomes a case's `inputs` (named ``{name or 'case'}-0``, ``-1``, ...);
        `expected(value)`, when given, computes the expected output. Property-based evals:
        the dataset is reproducible, and saving it freezes the draws for review.

        ```python
        from hypothesis import strategies as st
        dataset = Dataset.from_strategy(st.text(min_size=1), n=50, seed=1, expected=str.upper)
        ```
        """
        from ._strategy import draw_values

        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise UserError(f"Dataset.from_strategy: n={n!r} must be a whole number >= 1.")
        prefix = name or "case"
        values = draw_values(strategy, n, seed)
        cases = [
            Case(
                f"{prefix}-{index}",
                inputs=value,
                expected=expected(value) if expected is not None else None,
                metadata={"seed": seed, "draw": index},
            )
            for index, value in enumerate(values)
        ]
        return cls(cases, evaluators=evaluators, name=name)

    @staticmethod
    def schema() -> dict[str, Any]:
        """The JSON Schema of dataset files (what ``myna eval schema`` prints)."""
        from ._files import dataset_schema

        return dataset_schema()


def _named(name: str | None) -> str:
    return f" {name!r}" if name else ""
