"""The seed of the evaluation run in progress, which fakes with varying replies follow."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["current_seed", "seed_var", "seeded"]

seed_var: ContextVar[int | None] = ContextVar("myna_fake_seed", default=None)
"""Set by `myna.evals` for each run of each case (and by `seeded`)."""


def current_seed() -> int | None:
    """The seed of the run in progress, or None outside an evaluation."""
    return seed_var.get()


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run the block as if it were an evaluation run with this seed.

    ```python
    with seeded(7):
        reply = SchemaChatModel().invoke("hi")   # the same reply for every seed-7 block
    ```
    """
    token = seed_var.set(seed)
    try:
        yield
    finally:
        seed_var.reset(token)
