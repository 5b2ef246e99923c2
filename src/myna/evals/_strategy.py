"""Values drawn from a hypothesis strategy, the same ones for the same seed: the cases of
`Dataset.from_strategy` (property-based evals).

Hypothesis's own runner does the drawing (`given` with a fixed `seed`, generation only, no
example database), so the draws do not depend on the process, the hash seed or the machine.
One thing in hypothesis would make them depend on the program: now and then it draws a
constant found in the source of the caller's own imported modules, so `pytest` and
`myna eval run` (which import different modules) would get different cases for one seed.
While we draw, those constants are left out (hypothesis's built-in ones stay). The draws
may still change with the hypothesis version, which is why a dataset worth keeping is saved
to a file.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from ..exceptions import UserError

__all__ = ["draw_values"]


class _Enough(BaseException):
    """Stops hypothesis's runner once `n` distinct values are in (never seen by callers).

    A BaseException, because hypothesis treats an Exception as a failing example and would
    start shrinking it."""


def _hypothesis() -> Any:
    try:
        import hypothesis
    except ImportError:
        raise UserError(
            "Dataset.from_strategy needs hypothesis: pip install 'myna[hypothesis]'."
        ) from None
    return hypothesis


_patch_lock = threading.Lock()


@contextlib.contextmanager
def _without_local_constants() -> Iterator[None]:
    """Hypothesis draws only its own constants, not those of the caller's modules."""
    try:
        from hypothesis.internal.conjecture import choice, providers

        provider = providers.HypothesisProvider
        original = provider._maybe_draw_constant
        pool_of = providers.GLOBAL_CONSTANTS.set_for_type
        permitted, key_of = choice.choice_permitted, choice.choice_constraints_key
    except (ImportError, AttributeError):  # pragma: no cover - another hypothesis layout
        yield  # the draws are still seeded; they may then vary with the imported code
        return
    pools: dict[Any, tuple[Any, ...]] = {}

    def draw_constant(self: Any, choice_type: Any, constraints: Any, *, p: float = 0.05) -> Any:
        if self._random.random() > p:
            return None
        key = (choice_type, key_of(choice_type, constraints))
        pool = pools.get(key)
        if pool is None:
            pool = pools[key] = tuple(c for c in pool_of(choice_type) if permitted(c, constraints))
        return self._random.choice(pool) if pool else None

    with _patch_lock:
        provider._maybe_draw_constant = draw_constant
        try:
            yield
        finally:
            provider._maybe_draw_constant = original


def draw_values(strategy: Any, n: int, seed: int = 0) -> list[Any]:
    """`n` values from a hypothesis `strategy`, the same ones for the same `seed`.

    Values are distinct (by ``repr``) as long as the strategy has enough of them; a
    strategy with fewer (``st.booleans()``) has its values repeated in order. The first
    values are hypothesis's simplest (``""``, ``0``, ``[]``), then varied ones, as in a
    property test.

    ```python
    from hypothesis import strategies as st
    draw_values(st.integers(0, 9), 3, seed=1)  # the same three integers on every run
    ```
    """
    hypothesis = _hypothesis()
    from hypothesis.errors import Unsatisfiable
    from hypothesis.strategies import SearchStrategy

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise UserError(f"draw_values: n={n!r} must be a whole number >= 1.")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise UserError(f"draw_values: seed={seed!r} must be a whole number.")
    if not isinstance(strategy, SearchStrategy):
        raise UserError(
            f"Dataset.from_strategy needs a hypothesis strategy, got {type(strategy).__name__} "
            "(e.g. hypothesis.strategies.text(min_size=1))."
        )
    in_test = getattr(hypothesis, "currently_in_test_context", None)
    if in_test is not None and in_test():
        raise UserError(
            "Dataset.from_strategy cannot run inside a hypothesis test (@given): build the "
            "dataset outside it, at module level or in a fixture."
        )
    distinct: dict[str, Any] = {}

    def collect(value: Any) -> None:
        key = repr(value)
        if key not in distinct:
            distinct[key] = value
            if len(distinct) >= n:
                raise _Enough

    settings = hypothesis.settings(
        database=None,
        max_examples=max(2 * n, n + 10),  # room for duplicates before giving up
        phases=(hypothesis.Phase.generate,),
        derandomize=False,  # the explicit seed below decides
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        verbosity=hypothesis.Verbosity.quiet,
        print_blob=False,
        report_multiple_bugs=False,
    )
    run = hypothesis.seed(seed)(settings(hypothesis.given(strategy)(collect)))
    try:
        with _without_local_constants():
            run()
    except _Enough:
        pass
    except Unsatisfiable as exc:
        raise UserError(
            f"The strategy {strategy!r} gave no values: {exc} Loosen its filters."
        ) from None
    values = list(distinct.values())
    if not values:  # pragma: no cover - hypothesis raises Unsatisfiable first
        raise UserError(f"The strategy {strategy!r} gave no values; loosen its filters.")
    # a strategy with fewer distinct values than asked for: repeat them in order
    return [values[i % len(values)] for i in range(n)]
