"""InMemoryRateLimiter: a token bucket that starts full, timed on a fake clock."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from myna.exceptions import UserError
from myna.models._rate_limiter import BaseRateLimiter, InMemoryRateLimiter


class FakeClock:
    """A clock that only moves when something sleeps on it; records every sleep."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.start = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def elapsed(self) -> float:
        return self.now - self.start

    def sleep(self, seconds: float) -> None:
        assert seconds > 0, f"slept a non-positive {seconds!r}"
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)
        await asyncio.sleep(0)  # let other tasks run, as a real sleep would


def _no_sync_sleep(seconds: float) -> None:
    raise AssertionError(f"the async path called the blocking sleep({seconds})")


def _never_sleep(seconds: float) -> None:
    raise AssertionError(f"a non-blocking acquire slept({seconds})")


async def _no_async_sleep(seconds: float) -> None:
    raise AssertionError(f"the sync path called async_sleep({seconds})")


def make(clock: FakeClock, **kwargs: float) -> InMemoryRateLimiter:
    return InMemoryRateLimiter(
        clock=clock, sleep=clock.sleep, async_sleep=clock.async_sleep, **kwargs
    )


def test_is_a_base_rate_limiter() -> None:
    assert isinstance(InMemoryRateLimiter(), BaseRateLimiter)
    with pytest.raises(TypeError):
        BaseRateLimiter()  # type: ignore[abstract]


def test_custom_subclass_satisfies_the_contract() -> None:
    class Unlimited(BaseRateLimiter):
        def acquire(self, *, blocking: bool = True) -> bool:
            return True

        async def aacquire(self, *, blocking: bool = True) -> bool:
            return True

    assert Unlimited().acquire() is True
    assert asyncio.run(Unlimited().aacquire()) is True


def test_first_acquire_is_immediate() -> None:
    clock = FakeClock()
    limiter = make(clock, requests_per_second=0.01)
    assert limiter.acquire() is True
    assert clock.sleeps == []


async def test_first_aacquire_is_immediate() -> None:
    clock = FakeClock()
    limiter = make(clock, requests_per_second=0.01)
    assert await limiter.aacquire() is True
    assert clock.sleeps == []


@pytest.mark.parametrize("n", [2, 5, 21])
def test_n_acquires_at_10_rps_take_exact_time(n: int) -> None:
    clock = FakeClock()
    limiter = make(clock, requests_per_second=10)
    for _ in range(n):
        assert limiter.acquire() is True
    # the first is free, each later one waits exactly one token's worth
    assert clock.sleeps == pytest.approx([0.1] * (n - 1))
    assert clock.elapsed() == pytest.approx(0.1 * (n - 1))


@pytest.mark.parametrize("n", [2, 5, 21])
async def test_n_aacquires_at_10_rps_take_exact_time(n: int) -> None:
    clock = FakeClock()
    limiter = InMemoryRateLimiter(
        requests_per_second=10,
        clock=clock,
        sleep=_no_sync_sleep,
        async_sleep=clock.async_sleep,
    )
    for _ in range(n):
        assert await limiter.aacquire() is True
    assert clock.sleeps == pytest.approx([0.1] * (n - 1))
    assert clock.elapsed() == pytest.approx(0.1 * (n - 1))


def test_sync_path_never_uses_async_sleep() -> None:
    clock = FakeClock()
    limiter = InMemoryRateLimiter(
        requests_per_second=10, clock=clock, sleep=clock.sleep, async_sleep=_no_async_sleep
    )
    for _ in range(3):
        limiter.acquire()
    assert clock.elapsed() == pytest.approx(0.2)


def test_long_wait_is_split_into_check_intervals() -> None:
    clock = FakeClock()
    limiter = make(clock, requests_per_second=1, check_every_n_seconds=0.25)
    limiter.acquire()
    limiter.acquire()
    assert clock.sleeps == pytest.approx([0.25, 0.25, 0.25, 0.25])
    assert clock.elapsed() == pytest.approx(1.0)


def test_sleeps_only_until_the_partial_token_is_due() -> None:
    clock = FakeClock()
    limiter = make(clock, requests_per_second=10, check_every_n_seconds=1.0)
    limiter.acquire()
    clock.now += 0.07  # 0.7 of a token refilled while idle
    limiter.acquire()
    assert clock.sleeps == pytest.approx([0.03])


def test_burst_up_to_bucket_size_then_spaced() -> None:
    clock = FakeClock()
    limiter = make(clock, requests_per_second=10, max_bucket_size=3)
    for _ in range(3):
        limiter.acquire()
    assert clock.sleeps == []  # full bucket: three at once
    limiter.acquire()
    limiter.acquire()
    assert clock.sleeps == pytest.approx([0.1, 0.1])


def test_idle_time_refills_but_never_past_bucket_size() -> None:
    clock = FakeClock()
    limiter = make(clock, requests_per_second=10, max_bucket_size=3)
    for _ in range(3):
        limiter.acquire(blocking=False)
    clock.now += 60.0  # long idle: the bucket refills to 3, not 600
    results = [limiter.acquire(blocking=False) for _ in range(5)]
    assert results == [True, True, True, False, False]
    assert clock.sleeps == []


def test_fractional_bucket_size_allows_whole_tokens_only() -> None:
    clock = FakeClock()
    limiter = make(clock, requests_per_second=1, max_bucket_size=1.5)
    assert [limiter.acquire(blocking=False) for _ in range(2)] == [True, False]


def test_non_blocking_returns_false_when_empty_and_never_sleeps() -> None:
    clock = FakeClock()
    limiter = InMemoryRateLimiter(
        requests_per_second=10, clock=clock, sleep=_never_sleep, async_sleep=_no_async_sleep
    )
    assert limiter.acquire(blocking=False) is True
    assert limiter.acquire(blocking=False) is False
    clock.now += 0.05
    assert limiter.acquire(blocking=False) is False
    clock.now += 0.05
    assert limiter.acquire(blocking=False) is True
    assert limiter.acquire(blocking=False) is False


async def test_async_non_blocking_returns_false_when_empty_and_never_sleeps() -> None:
    clock = FakeClock()
    limiter = InMemoryRateLimiter(
        requests_per_second=10, clock=clock, sleep=_no_sync_sleep, async_sleep=_no_async_sleep
    )
    assert await limiter.aacquire(blocking=False) is True
    assert await limiter.aacquire(blocking=False) is False
    clock.now += 0.1
    assert await limiter.aacquire(blocking=False) is True


def test_sync_and_async_share_one_bucket() -> None:
    clock = FakeClock()
    limiter = make(clock, requests_per_second=10)
    assert limiter.acquire(blocking=False) is True
    assert asyncio.run(limiter.aacquire(blocking=False)) is False


def test_clock_going_backwards_does_not_add_tokens() -> None:
    clock = FakeClock()
    limiter = make(clock, requests_per_second=10)
    limiter.acquire()
    clock.now -= 5.0
    assert limiter.acquire(blocking=False) is False


def _assert_within_rate(times: list[float], start: float, rps: float, bucket: float) -> None:
    """The k-th grant (0-based) can come no sooner than (k + 1 - bucket) / rps after start."""
    for k, t in enumerate(sorted(times)):
        earliest = start + (k + 1 - bucket) / rps
        assert t >= earliest - 1e-6, (
            f"grant {k} at +{t - start:.4f}s, before +{earliest - start:.4f}s"
        )


async def test_asyncio_tasks_sharing_a_limiter_never_exceed_the_rate() -> None:
    clock = FakeClock()
    limiter = InMemoryRateLimiter(
        requests_per_second=20,
        max_bucket_size=2,
        check_every_n_seconds=0.02,
        clock=clock,
        sleep=_no_sync_sleep,
        async_sleep=clock.async_sleep,
    )
    grants: list[tuple[int, float]] = []

    async def worker(i: int) -> None:
        for _ in range(6):
            await limiter.aacquire()
            grants.append((i, clock()))

    await asyncio.gather(*(worker(i) for i in range(5)))
    assert len(grants) == 30
    assert {i for i, _ in grants} == {0, 1, 2, 3, 4}
    _assert_within_rate([t for _, t in grants], clock.start, rps=20, bucket=2)


async def test_aacquire_does_not_block_the_event_loop() -> None:
    limiter = InMemoryRateLimiter(requests_per_second=50, check_every_n_seconds=0.005)
    ticks = 0
    done = False

    async def ticker() -> None:
        nonlocal ticks
        while not done:
            ticks += 1
            await asyncio.sleep(0.002)

    task = asyncio.create_task(ticker())
    start = time.monotonic()
    for _ in range(3):  # first free, then two waits of 0.02 s
        await limiter.aacquire()
    done = True
    await task
    assert time.monotonic() - start >= 0.04 - 1e-3
    assert ticks >= 2  # the loop kept running while aacquire waited (a blocking sleep gives 0)


def test_threads_sharing_a_limiter_never_exceed_the_rate() -> None:
    rps, bucket = 200.0, 2.0
    limiter = InMemoryRateLimiter(
        requests_per_second=rps, max_bucket_size=bucket, check_every_n_seconds=0.002
    )
    start = time.monotonic()  # the limiter was created (full) just before this
    grants: list[float] = []
    grants_lock = threading.Lock()

    def worker() -> None:
        for _ in range(8):
            limiter.acquire()
            with grants_lock:
                grants.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=5)
    assert not any(t.is_alive() for t in threads)
    assert len(grants) == 32
    # 32 grants with a bucket of 2 at 200/s need at least 0.15 s
    assert max(grants) - start >= (32 - bucket) / rps - 1e-3
    _assert_within_rate(grants, start, rps, bucket)


def test_threads_racing_on_a_frozen_clock_take_exactly_the_bucket() -> None:
    clock = FakeClock()
    limiter = make(clock, requests_per_second=1, max_bucket_size=50)
    wins: list[bool] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        mine = [limiter.acquire(blocking=False) for _ in range(100)]
        wins.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=5)
    assert len(wins) == 800
    assert sum(wins) == 50


def test_repr_reads_like_the_call() -> None:
    limiter = InMemoryRateLimiter(requests_per_second=2.5, max_bucket_size=4)
    assert repr(limiter) == (
        "InMemoryRateLimiter(requests_per_second=2.5, check_every_n_seconds=0.1, max_bucket_size=4)"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"requests_per_second": 0}, "requests_per_second=0 must be a finite number > 0"),
        ({"requests_per_second": -1.5}, "requests_per_second=-1.5 must be a finite number > 0"),
        (
            {"requests_per_second": float("inf")},
            "requests_per_second=inf must be a finite number > 0",
        ),
        ({"requests_per_second": "10"}, "requests_per_second='10' (str) must be a number"),
        ({"requests_per_second": True}, "requests_per_second=True (bool) must be a number"),
        ({"check_every_n_seconds": 0}, "check_every_n_seconds=0 must be a finite number > 0"),
        ({"max_bucket_size": 0.5}, "max_bucket_size=0.5 must be a finite number >= 1"),
        ({"max_bucket_size": 0}, "max_bucket_size=0 must be a finite number >= 1"),
        ({"max_bucket_size": float("nan")}, "max_bucket_size=nan must be a finite number >= 1"),
    ],
    ids=lambda v: repr(v) if isinstance(v, dict) else "",
)
def test_bad_arguments_raise_user_error_quoting_name_and_value(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(UserError) as exc:
        InMemoryRateLimiter(**kwargs)  # type: ignore[arg-type]
    assert message in str(exc.value)


def test_bad_rate_error_explains_the_fix() -> None:
    with pytest.raises(UserError, match=r"0\.5 = one every 2 s"):
        InMemoryRateLimiter(requests_per_second=0)
