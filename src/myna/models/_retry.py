"""Retrying provider calls: which errors to retry, how long to wait, and the retry loops.

Only errors marked ``retryable = True`` in `myna.exceptions` are retried (rate limits,
overload, 5xx, timeouts, dropped connections). A `StreamInterruptedError` is not: part of the
answer was already handed to the caller, and a second request would repeat it.
"""

from __future__ import annotations

import asyncio
import math
import random as _random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from ..exceptions import UserError

__all__ = ["RetryPolicy", "acall_with_retry", "call_with_retry"]

T = TypeVar("T")

_OnRetry = Callable[[BaseException, int, float], None]
"""Called before each retry sleep with ``(error, attempt, delay)``; attempt 0 is the first retry."""


def _number(name: str, value: object, *, minimum: float, maximum: float | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UserError(f"RetryPolicy: {name}={value!r} ({type(value).__name__}) must be a number.")
    if not math.isfinite(value) or value < minimum or (maximum is not None and value > maximum):
        span = f">= {minimum:g}" if maximum is None else f"between {minimum:g} and {maximum:g}"
        raise UserError(f"RetryPolicy: {name}={value!r} must be a finite number {span}.")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a failed provider call.

    ```python
    policy = RetryPolicy(max_retries=5, initial_delay=1.0)
    reply = call_with_retry(lambda: model.invoke("hi"), policy)
    ```

    Waits grow as ``initial_delay * multiplier ** attempt`` with +/- `jitter`, never above
    `max_delay`. When the provider said how long to wait (``Retry-After``), that wait is used
    as is, up to `max_retry_after`.

    Raises:
        UserError: a field is out of range (quoted as ``name=value``).
    """

    max_retries: int = 2
    """Retries after the first attempt; 0 turns retrying off."""
    initial_delay: float = 0.5
    """Seconds to wait before the first retry when the provider gave no Retry-After."""
    max_delay: float = 30.0
    """Ceiling on a backoff wait, jitter included."""
    multiplier: float = 2.0
    """Growth of the backoff wait from one retry to the next (>= 1)."""
    jitter: float = 0.25
    """Fraction of the backoff wait added or removed at random (0 to 1), so clients spread out."""
    max_retry_after: float = 60.0
    """Ceiling on a wait the provider asked for with Retry-After."""
    random: Callable[[], float] = field(default=_random.random, repr=False, compare=False)
    """Source of uniform numbers in [0, 1) for jitter; inject a constant in tests."""

    def __post_init__(self) -> None:
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int):
            raise UserError(
                f"RetryPolicy: max_retries={self.max_retries!r} "
                f"({type(self.max_retries).__name__}) must be an int >= 0."
            )
        if self.max_retries < 0:
            raise UserError(
                f"RetryPolicy: max_retries={self.max_retries!r} must be >= 0; "
                "use 0 to turn retrying off."
            )
        _number("initial_delay", self.initial_delay, minimum=0.0)
        _number("max_delay", self.max_delay, minimum=0.0)
        _number("multiplier", self.multiplier, minimum=1.0)
        _number("jitter", self.jitter, minimum=0.0, maximum=1.0)
        _number("max_retry_after", self.max_retry_after, minimum=0.0)
        if not callable(self.random):
            raise UserError(
                f"RetryPolicy: random={self.random!r} must be a callable returning a float "
                "in [0, 1), such as random.random."
            )

    def should_retry(self, error: BaseException, attempt: int) -> bool:
        """Whether to retry after `error`, when `attempt` retries were already made.

        True only for errors marked ``retryable = True`` and while ``attempt < max_retries``.
        """
        return getattr(error, "retryable", False) is True and attempt < self.max_retries

    def delay(self, attempt: int, error: BaseException) -> float:
        """Seconds to wait before retry number `attempt` (0 for the first retry).

        A ``retry_after`` on the error (from the provider's Retry-After) is used exactly,
        capped by `max_retry_after`: no jitter, never shorter than the server asked. Otherwise
        exponential backoff with jitter, capped by `max_delay`.
        """
        retry_after = getattr(error, "retry_after", None)
        if (
            isinstance(retry_after, (int, float))
            and not isinstance(retry_after, bool)
            and math.isfinite(retry_after)
            and retry_after >= 0
        ):
            return float(min(retry_after, self.max_retry_after))
        try:
            base = self.initial_delay * self.multiplier ** max(attempt, 0)
        except OverflowError:
            base = self.max_delay
        base = min(base, self.max_delay)
        spread = self.jitter * (2.0 * self.random() - 1.0)
        return float(min(max(base * (1.0 + spread), 0.0), self.max_delay))


def _note_gave_up(error: BaseException, attempts: int, policy: RetryPolicy) -> None:
    # add_note exists from Python 3.11; on 3.10 the error goes out without the note.
    add_note = getattr(error, "add_note", None)
    if add_note is None:
        return
    plural = "attempt" if attempts == 1 else "attempts"
    add_note(
        f"myna: gave up after {attempts} {plural} (max_retries={policy.max_retries}); "
        "pass a larger max_retries= to retry more."
    )


def _check_policy(policy: object) -> None:
    if not isinstance(policy, RetryPolicy):
        raise UserError(
            f"policy={policy!r} ({type(policy).__name__}) is not a RetryPolicy; "
            "pass RetryPolicy(max_retries=...)."
        )


def call_with_retry(
    fn: Callable[[], T],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: _OnRetry | None = None,
    failed: Exception | None = None,
) -> T:
    """Call `fn` and retry it on retryable errors as `policy` says.

    Args:
        fn: the call to make, taking no arguments.
        policy: when to retry and how long to wait.
        sleep: blocking sleep (inject a fake in tests).
        on_retry: called with ``(error, attempt, delay)`` before each wait.
        failed: the error of a first attempt the caller already made itself (hot paths try
            once without this machinery); retrying continues from there.

    Returns:
        What `fn` returned on its first success.

    Raises:
        Exception: the last error, unchanged in type; once retries ran out it carries a note
            saying how many attempts were made.
    """
    _check_policy(policy)
    attempt = 0
    while True:
        try:
            if failed is not None:
                error, failed = failed, None
                raise error
            return fn()
        except Exception as err:
            if not policy.should_retry(err, attempt):
                if getattr(err, "retryable", False) is True:
                    _note_gave_up(err, attempt + 1, policy)
                raise
            wait = policy.delay(attempt, err)
            if on_retry is not None:
                on_retry(err, attempt, wait)
            sleep(wait)
            attempt += 1


async def acall_with_retry(
    fn: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    on_retry: _OnRetry | None = None,
) -> T:
    """Async twin of `call_with_retry`: awaits `fn()` and waits with `sleep` between tries.

    Args:
        fn: returns a fresh awaitable each call (e.g. ``lambda: model.ainvoke("hi")``).
        policy: when to retry and how long to wait.
        sleep: awaitable sleep (inject a fake in tests).
        on_retry: called with ``(error, attempt, delay)`` before each wait.

    Returns:
        What `fn` resolved to on its first success.

    Raises:
        Exception: the last error, unchanged in type; once retries ran out it carries a note
            saying how many attempts were made.
    """
    _check_policy(policy)
    attempt = 0
    while True:
        try:
            return await fn()
        except Exception as err:
            if not policy.should_retry(err, attempt):
                if getattr(err, "retryable", False) is True:
                    _note_gave_up(err, attempt + 1, policy)
                raise
            wait = policy.delay(attempt, err)
            if on_retry is not None:
                on_retry(err, attempt, wait)
            await sleep(wait)
            attempt += 1
