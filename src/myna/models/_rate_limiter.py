"""Client-side rate limiting: a token bucket shared by threads and asyncio tasks.

The bucket holds up to `max_bucket_size` tokens and refills continuously at
`requests_per_second`. Each request takes one token. Unlike LangChain's limiter, the bucket
starts FULL, so the first request never waits; only bursts beyond the bucket are spaced out.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable

from ..exceptions import UserError

__all__ = ["BaseRateLimiter", "InMemoryRateLimiter"]

# A refill computed from float sums can land a hair under one whole token
# (0.1 * 3 != 0.3); without this slack a waiter would sleep for ~1e-17 s forever.
_TOKEN_EPSILON = 1e-9


class BaseRateLimiter(ABC):
    """The contract a chat model calls before each request to the provider.

    Implement both methods; `acquire` may block the calling thread, `aacquire` must not
    block the event loop.

    ```python
    class Unlimited(BaseRateLimiter):
        def acquire(self, *, blocking: bool = True) -> bool:
            return True

        async def aacquire(self, *, blocking: bool = True) -> bool:
            return True
    ```
    """

    @abstractmethod
    def acquire(self, *, blocking: bool = True) -> bool:
        """Take permission for one request.

        Args:
            blocking: wait until permission is available; when False, return at once.

        Returns:
            True when permission was taken, False when `blocking=False` and none was available.
        """

    @abstractmethod
    async def aacquire(self, *, blocking: bool = True) -> bool:
        """Async twin of `acquire`: waits without blocking the event loop."""


def _check_positive(name: str, value: object, *, minimum: float = 0.0, hint: str) -> float:
    """Return `value` as a float, or raise `UserError` quoting `name=value`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UserError(f"{name}={value!r} ({type(value).__name__}) must be a number; {hint}")
    number = float(value)
    ok = math.isfinite(number) and (number >= minimum if minimum > 0 else number > 0)
    if not ok:
        bound = f">= {minimum:g}" if minimum > 0 else "> 0"
        raise UserError(f"{name}={value!r} must be a finite number {bound}; {hint}")
    return number


class InMemoryRateLimiter(BaseRateLimiter):
    """A token bucket in this process's memory, safe to share across threads and asyncio tasks.

    The bucket starts full with `max_bucket_size` tokens and refills at `requests_per_second`,
    so up to `max_bucket_size` requests go out at once and after that one every
    `1 / requests_per_second` seconds. A waiter sleeps until its token is due, in steps of at
    most `check_every_n_seconds` (so waiters sharing the bucket re-check it regularly).

    ```python
    limiter = InMemoryRateLimiter(requests_per_second=2, max_bucket_size=5)
    model = init_chat_model("openai:gpt-4.1", rate_limiter=limiter)
    ```

    Args:
        requests_per_second: refill rate; 0.5 means one request every two seconds.
        check_every_n_seconds: longest single sleep while waiting for a token.
        max_bucket_size: most requests that may go out in a burst; at least 1.
        clock: monotonic time source in seconds (inject a fake in tests).
        sleep: blocking sleep used by `acquire`.
        async_sleep: awaitable sleep used by `aacquire`.

    Raises:
        UserError: an argument is not a finite positive number (bucket below 1).
    """

    def __init__(
        self,
        *,
        requests_per_second: float = 1,
        check_every_n_seconds: float = 0.1,
        max_bucket_size: float = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.requests_per_second = _check_positive(
            "requests_per_second",
            requests_per_second,
            hint="it is how many requests may start per second (0.5 = one every 2 s).",
        )
        self.check_every_n_seconds = _check_positive(
            "check_every_n_seconds",
            check_every_n_seconds,
            hint="it is the longest single sleep while waiting (e.g. 0.1).",
        )
        self.max_bucket_size = _check_positive(
            "max_bucket_size",
            max_bucket_size,
            minimum=1.0,
            hint="it is how many requests may go out in one burst; use 1 for no bursts.",
        )
        self._clock = clock
        self._sleep = sleep
        self._async_sleep = async_sleep
        self._lock = threading.Lock()
        self._tokens = self.max_bucket_size
        self._last = clock()

    def __repr__(self) -> str:
        return (
            f"InMemoryRateLimiter(requests_per_second={self.requests_per_second:g}, "
            f"check_every_n_seconds={self.check_every_n_seconds:g}, "
            f"max_bucket_size={self.max_bucket_size:g})"
        )

    def _consume(self) -> tuple[bool, float]:
        """Refill, then take a token if one is there.

        Returns:
            ``(True, 0.0)`` when a token was taken, else ``(False, seconds until one is due)``.
        """
        with self._lock:
            now = self._clock()
            elapsed = now - self._last
            if elapsed > 0:
                # Refill continuously; time spent with a full bucket is not banked.
                self._tokens = min(
                    self.max_bucket_size, self._tokens + elapsed * self.requests_per_second
                )
                self._last = now
            if self._tokens >= 1.0 - _TOKEN_EPSILON:
                self._tokens = max(self._tokens - 1.0, 0.0)
                return True, 0.0
            return False, (1.0 - self._tokens) / self.requests_per_second

    def _next_sleep(self, wait: float) -> float:
        return min(wait, self.check_every_n_seconds)

    def acquire(self, *, blocking: bool = True) -> bool:
        """Take one token, sleeping the thread until one is due when `blocking` is True.

        Returns:
            True once a token was taken; False only when `blocking=False` and the bucket is empty.
        """
        while True:
            taken, wait = self._consume()
            if taken:
                return True
            if not blocking:
                return False
            self._sleep(self._next_sleep(wait))

    async def aacquire(self, *, blocking: bool = True) -> bool:
        """Take one token, awaiting `async_sleep` (never blocking the loop) until one is due.

        Returns:
            True once a token was taken; False only when `blocking=False` and the bucket is empty.
        """
        while True:
            taken, wait = self._consume()
            if taken:
                return True
            if not blocking:
                return False
            await self._async_sleep(self._next_sleep(wait))
