"""RetryPolicy and the retry loops, with fake sleeps that record every wait."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any

import pytest

from myna.exceptions import (
    AuthenticationError,
    BadRequestError,
    ConnectionError,
    DecodeError,
    OverloadedError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
    TimeoutError,
    UserError,
)
from myna.models._retry import RetryPolicy, acall_with_retry, call_with_retry

NO_JITTER = {"jitter": 0.0}


class Script:
    """A callable that raises each scripted error in turn, then returns `result`."""

    def __init__(self, *errors: BaseException, result: Any = "ok") -> None:
        self.errors = list(errors)
        self.result = result
        self.calls = 0

    def __call__(self) -> Any:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.result

    async def acall(self) -> Any:
        await asyncio.sleep(0)
        return self()


class Sleeps(list):
    """Fake sleep (sync and async) that records the delays it was asked for."""

    def sleep(self, seconds: float) -> None:
        self.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.append(seconds)


def run_sync(script: Script, policy: RetryPolicy, **kwargs: Any) -> tuple[Any, Sleeps]:
    sleeps = Sleeps()
    return call_with_retry(script, policy, sleep=sleeps.sleep, **kwargs), sleeps


async def run_async(script: Script, policy: RetryPolicy, **kwargs: Any) -> tuple[Any, Sleeps]:
    sleeps = Sleeps()
    result = await acall_with_retry(script.acall, policy, sleep=sleeps.async_sleep, **kwargs)
    return result, sleeps


def rate_limited(retry_after: float | None = None) -> RateLimitError:
    return RateLimitError("slow down", status_code=429, retry_after=retry_after)


def server_error() -> ServerError:
    return ServerError("boom", status_code=500)


# -- RetryPolicy.delay -------------------------------------------------------------------


def test_defaults() -> None:
    policy = RetryPolicy()
    assert (policy.max_retries, policy.initial_delay, policy.max_delay) == (2, 0.5, 30.0)
    assert (policy.multiplier, policy.jitter, policy.max_retry_after) == (2.0, 0.25, 60.0)


def test_policy_is_frozen() -> None:
    policy = RetryPolicy()
    with pytest.raises(AttributeError):
        policy.max_retries = 5  # type: ignore[misc]


def test_exponential_growth_without_jitter() -> None:
    policy = RetryPolicy(initial_delay=0.5, multiplier=2.0, max_delay=100.0, **NO_JITTER)
    assert [policy.delay(n, server_error()) for n in range(5)] == [0.5, 1.0, 2.0, 4.0, 8.0]


def test_backoff_is_capped_by_max_delay() -> None:
    policy = RetryPolicy(initial_delay=1.0, multiplier=3.0, max_delay=10.0, **NO_JITTER)
    assert [policy.delay(n, server_error()) for n in range(4)] == [1.0, 3.0, 9.0, 10.0]
    assert policy.delay(10_000, server_error()) == 10.0  # no OverflowError for huge attempts


@pytest.mark.parametrize(
    ("r", "expected"),
    [(0.0, 0.75), (0.5, 1.0), (0.999999, pytest.approx(1.25, abs=1e-5))],
    ids=["lowest", "middle", "highest"],
)
def test_jitter_spreads_plus_or_minus_the_fraction(r: float, expected: float) -> None:
    policy = RetryPolicy(initial_delay=1.0, jitter=0.25, random=lambda: r)
    assert policy.delay(0, server_error()) == expected


def test_jitter_stays_within_bounds_for_real_random() -> None:
    policy = RetryPolicy(initial_delay=2.0, multiplier=2.0, jitter=0.5, max_delay=100.0)
    for attempt in range(4):
        base = 2.0 * 2.0**attempt
        for _ in range(200):
            assert base * 0.5 <= policy.delay(attempt, server_error()) <= base * 1.5


def test_jitter_never_goes_above_max_delay() -> None:
    policy = RetryPolicy(initial_delay=8.0, max_delay=8.0, jitter=0.5, random=lambda: 0.99)
    assert policy.delay(3, server_error()) == 8.0


@pytest.mark.parametrize("seconds", [0.0, 2.0, 7.25])
def test_retry_after_is_honoured_exactly_without_jitter(seconds: float) -> None:
    policy = RetryPolicy(jitter=1.0, random=lambda: 0.0)
    assert policy.delay(0, rate_limited(seconds)) == seconds
    assert policy.delay(5, rate_limited(seconds)) == seconds  # not scaled by the attempt


def test_retry_after_from_headers_is_honoured() -> None:
    err = RateLimitError("slow down", status_code=429, headers={"Retry-After-Ms": "1500"})
    assert RetryPolicy().delay(0, err) == 1.5


def test_retry_after_is_capped_by_max_retry_after() -> None:
    policy = RetryPolicy(max_retry_after=60.0)
    assert policy.delay(0, rate_limited(3600)) == 60.0


def test_retry_after_may_exceed_max_delay() -> None:
    policy = RetryPolicy(max_delay=1.0, max_retry_after=60.0)
    assert policy.delay(0, rate_limited(20)) == 20.0


def test_rate_limit_without_retry_after_backs_off() -> None:
    policy = RetryPolicy(initial_delay=0.5, **NO_JITTER)
    assert policy.delay(2, rate_limited(None)) == 2.0


def test_nonsense_retry_after_on_a_foreign_error_falls_back_to_backoff() -> None:
    class Odd(Exception):
        retryable = True
        retry_after = "soon"

    assert RetryPolicy(initial_delay=0.5, **NO_JITTER).delay(0, Odd()) == 0.5


# -- RetryPolicy.should_retry ------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        rate_limited(1),
        OverloadedError("busy", status_code=529),
        server_error(),
        TimeoutError("timed out"),
        ConnectionError("reset"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_retryable_errors_are_retried_while_attempts_remain(error: BaseException) -> None:
    policy = RetryPolicy(max_retries=2)
    assert policy.should_retry(error, 0) is True
    assert policy.should_retry(error, 1) is True
    assert policy.should_retry(error, 2) is False


@pytest.mark.parametrize(
    "error",
    [
        StreamInterruptedError("cut", partial=None),
        AuthenticationError("bad key", status_code=401),
        BadRequestError("bad", status_code=400),
        DecodeError("garbage"),
        UserError("oops"),
        ValueError("plain"),
        KeyError("k"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_non_retryable_errors_are_never_retried(error: BaseException) -> None:
    assert RetryPolicy(max_retries=5).should_retry(error, 0) is False


def test_max_retries_zero_retries_nothing() -> None:
    assert RetryPolicy(max_retries=0).should_retry(server_error(), 0) is False


# -- call_with_retry / acall_with_retry --------------------------------------------------


def test_success_first_time_never_sleeps() -> None:
    script = Script(result=42)
    assert run_sync(script, RetryPolicy()) == (42, [])
    assert script.calls == 1


async def test_async_success_first_time_never_sleeps() -> None:
    script = Script(result=42)
    assert await run_async(script, RetryPolicy()) == (42, [])
    assert script.calls == 1


def test_retries_then_succeeds_with_exponential_waits() -> None:
    script = Script(server_error(), server_error(), server_error(), result="done")
    policy = RetryPolicy(max_retries=3, initial_delay=0.5, **NO_JITTER)
    assert run_sync(script, policy) == ("done", [0.5, 1.0, 2.0])
    assert script.calls == 4


async def test_async_retries_then_succeeds_with_exponential_waits() -> None:
    script = Script(server_error(), server_error(), server_error(), result="done")
    policy = RetryPolicy(max_retries=3, initial_delay=0.5, **NO_JITTER)
    assert await run_async(script, policy) == ("done", [0.5, 1.0, 2.0])
    assert script.calls == 4


def test_retry_after_is_slept_exactly() -> None:
    script = Script(rate_limited(2), result="ok")
    assert run_sync(script, RetryPolicy()) == ("ok", [2.0])


async def test_async_retry_after_is_slept_exactly() -> None:
    script = Script(rate_limited(2), result="ok")
    assert await run_async(script, RetryPolicy()) == ("ok", [2.0])


def test_mixed_errors_use_retry_after_or_backoff_per_error() -> None:
    script = Script(rate_limited(3), TimeoutError("slow"), result="ok")
    policy = RetryPolicy(initial_delay=0.5, **NO_JITTER)
    assert run_sync(script, policy) == ("ok", [3.0, 1.0])


def test_jitter_injected_through_random() -> None:
    values = iter([0.0, 1.0])
    policy = RetryPolicy(
        initial_delay=1.0, max_delay=100.0, jitter=0.5, random=lambda: next(values)
    )
    script = Script(server_error(), server_error(), result="ok")
    assert run_sync(script, policy) == ("ok", [0.5, 3.0])


@pytest.mark.parametrize(
    "error",
    [AuthenticationError("bad key", status_code=401), StreamInterruptedError("cut")],
    ids=lambda e: type(e).__name__,
)
def test_non_retryable_error_is_raised_at_once_unchanged(error: BaseException) -> None:
    script = Script(error, result="never")
    sleeps = Sleeps()
    with pytest.raises(type(error)) as exc:
        call_with_retry(script, RetryPolicy(max_retries=5), sleep=sleeps.sleep)
    assert exc.value is error
    assert script.calls == 1
    assert sleeps == []
    assert getattr(exc.value, "__notes__", []) == []


@pytest.mark.parametrize(
    "error",
    [AuthenticationError("bad key", status_code=401), StreamInterruptedError("cut")],
    ids=lambda e: type(e).__name__,
)
async def test_async_non_retryable_error_is_raised_at_once_unchanged(error: BaseException) -> None:
    script = Script(error, result="never")
    sleeps = Sleeps()
    with pytest.raises(type(error)) as exc:
        await acall_with_retry(script.acall, RetryPolicy(max_retries=5), sleep=sleeps.async_sleep)
    assert exc.value is error
    assert script.calls == 1
    assert sleeps == []


def test_exhausted_retries_reraise_the_last_error_with_a_note() -> None:
    first, last = server_error(), OverloadedError("busy", status_code=529)
    script = Script(first, server_error(), last, result="never")
    sleeps = Sleeps()
    with pytest.raises(OverloadedError) as exc:
        call_with_retry(script, RetryPolicy(max_retries=2, **NO_JITTER), sleep=sleeps.sleep)
    assert exc.value is last
    assert script.calls == 3
    assert sleeps == [0.5, 1.0]
    if sys.version_info >= (3, 11):
        assert exc.value.__notes__ == [
            "myna: gave up after 3 attempts (max_retries=2); "
            "pass a larger max_retries= to retry more."
        ]


async def test_async_exhausted_retries_reraise_the_last_error_with_a_note() -> None:
    last = OverloadedError("busy", status_code=529)
    script = Script(server_error(), server_error(), last, result="never")
    sleeps = Sleeps()
    with pytest.raises(OverloadedError) as exc:
        await acall_with_retry(
            script.acall, RetryPolicy(max_retries=2, **NO_JITTER), sleep=sleeps.async_sleep
        )
    assert exc.value is last
    assert script.calls == 3
    assert sleeps == [0.5, 1.0]
    if sys.version_info >= (3, 11):
        assert exc.value.__notes__ == [
            "myna: gave up after 3 attempts (max_retries=2); "
            "pass a larger max_retries= to retry more."
        ]


def test_max_retries_zero_calls_once_and_notes_it() -> None:
    error = rate_limited(1)
    script = Script(error, result="never")
    sleeps = Sleeps()
    with pytest.raises(RateLimitError) as exc:
        call_with_retry(script, RetryPolicy(max_retries=0), sleep=sleeps.sleep)
    assert script.calls == 1
    assert sleeps == []
    if sys.version_info >= (3, 11):
        assert exc.value.__notes__ == [
            "myna: gave up after 1 attempt (max_retries=0); "
            "pass a larger max_retries= to retry more."
        ]


async def test_async_max_retries_zero_calls_once_and_notes_it() -> None:
    script = Script(rate_limited(1), result="never")
    sleeps = Sleeps()
    with pytest.raises(RateLimitError) as exc:
        await acall_with_retry(script.acall, RetryPolicy(max_retries=0), sleep=sleeps.async_sleep)
    assert script.calls == 1
    assert sleeps == []
    if sys.version_info >= (3, 11):
        assert "gave up after 1 attempt (max_retries=0)" in exc.value.__notes__[0]


def test_note_names_max_retries_in_the_traceback_text() -> None:
    import traceback

    script = Script(server_error(), server_error(), result="never")
    with pytest.raises(ServerError) as exc:
        call_with_retry(script, RetryPolicy(max_retries=1), sleep=Sleeps().sleep)
    text = "".join(traceback.format_exception(exc.value))
    if sys.version_info >= (3, 11):
        assert "gave up after 2 attempts (max_retries=1)" in text


def _recorder() -> tuple[list[tuple[str, int, float]], Callable[[BaseException, int, float], None]]:
    seen: list[tuple[str, int, float]] = []

    def on_retry(err: BaseException, attempt: int, delay: float) -> None:
        seen.append((type(err).__name__, attempt, delay))

    return seen, on_retry


def test_on_retry_sees_error_attempt_and_delay() -> None:
    seen, on_retry = _recorder()
    script = Script(rate_limited(4), TimeoutError("slow"), result="ok")
    run_sync(script, RetryPolicy(**NO_JITTER), on_retry=on_retry)
    assert seen == [("RateLimitError", 0, 4.0), ("TimeoutError", 1, 1.0)]


async def test_async_on_retry_sees_error_attempt_and_delay() -> None:
    seen, on_retry = _recorder()
    script = Script(rate_limited(4), TimeoutError("slow"), result="ok")
    await run_async(script, RetryPolicy(**NO_JITTER), on_retry=on_retry)
    assert seen == [("RateLimitError", 0, 4.0), ("TimeoutError", 1, 1.0)]


def test_keyboard_interrupt_is_not_caught() -> None:
    script = Script(KeyboardInterrupt(), result="never")
    with pytest.raises(KeyboardInterrupt):
        call_with_retry(script, RetryPolicy(), sleep=Sleeps().sleep)
    assert script.calls == 1


async def test_async_cancellation_is_not_retried() -> None:
    script = Script(asyncio.CancelledError(), result="never")
    with pytest.raises(asyncio.CancelledError):
        await acall_with_retry(script.acall, RetryPolicy(), sleep=Sleeps().async_sleep)
    assert script.calls == 1


def test_wrong_policy_type_is_a_user_error() -> None:
    with pytest.raises(UserError, match=r"policy=3 \(int\) is not a RetryPolicy"):
        call_with_retry(lambda: 1, 3)  # type: ignore[arg-type]


async def test_async_wrong_policy_type_is_a_user_error() -> None:
    async def fn() -> int:
        return 1

    with pytest.raises(UserError, match=r"policy=None \(NoneType\) is not a RetryPolicy"):
        await acall_with_retry(fn, None)  # type: ignore[arg-type]


# -- validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_retries": -1}, "max_retries=-1 must be >= 0; use 0 to turn retrying off"),
        ({"max_retries": 1.5}, "max_retries=1.5 (float) must be an int >= 0"),
        ({"max_retries": True}, "max_retries=True (bool) must be an int >= 0"),
        ({"initial_delay": -0.1}, "initial_delay=-0.1 must be a finite number >= 0"),
        ({"max_delay": float("inf")}, "max_delay=inf must be a finite number >= 0"),
        ({"multiplier": 0.5}, "multiplier=0.5 must be a finite number >= 1"),
        ({"jitter": 1.5}, "jitter=1.5 must be a finite number between 0 and 1"),
        ({"jitter": "lots"}, "jitter='lots' (str) must be a number"),
        ({"max_retry_after": -5}, "max_retry_after=-5 must be a finite number >= 0"),
        ({"random": 0.3}, "random=0.3 must be a callable returning a float in [0, 1)"),
    ],
    ids=lambda v: repr(v) if isinstance(v, dict) else "",
)
def test_bad_fields_raise_user_error_quoting_name_and_value(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(UserError) as exc:
        RetryPolicy(**kwargs)
    assert str(exc.value).startswith(f"RetryPolicy: {message}")
