"""The statistics behind gates and comparisons, in plain Python (no numpy needed).

pass@k is the unbiased estimator of Chen et al. (2021); pass^k (all k tries pass) follows
tau-bench; the interval is Wilson's score interval, which behaves at 0 and n passes where the
normal approximation does not; McNemar's exact test compares paired pass/fail outcomes.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from fractions import Fraction

__all__ = ["bootstrap_mean_diff", "mcnemar_p", "pass_at_k", "pass_pow_k", "wilson_interval"]


def wilson_interval(passes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% (by default) Wilson score interval for a pass rate of `passes` of `n`."""
    if n <= 0:
        return (0.0, 1.0)
    p = passes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # at 0 or n passes the bound is exact; float rounding must not cut it off
    low = 0.0 if passes == 0 else max(0.0, centre - half)
    high = 1.0 if passes == n else min(1.0, centre + half)
    return (low, high)


def pass_at_k(passes: int, n: int, k: int) -> float:
    """Probability that at least one of `k` tries passes, estimated from `passes` of `n`."""
    if not 1 <= k <= n:
        raise ValueError(f"myna: pass@k needs 1 <= k <= n repeats, got k={k}, n={n}.")
    if n - passes < k:
        return 1.0
    return float(1 - Fraction(math.comb(n - passes, k), math.comb(n, k)))


def pass_pow_k(passes: int, n: int, k: int) -> float:
    """Probability that all of `k` tries pass (pass^k), estimated from `passes` of `n`."""
    if not 1 <= k <= n:
        raise ValueError(f"myna: pass^k needs 1 <= k <= n repeats, got k={k}, n={n}.")
    return float(Fraction(math.comb(passes, k), math.comb(n, k)))


def mcnemar_p(regressed: int, improved: int) -> float:
    """Two-sided exact McNemar p-value for paired outcomes that changed.

    `regressed` cases went pass -> fail, `improved` fail -> pass; unchanged pairs carry no
    information. Under no real difference each change is a fair coin flip.
    """
    n = regressed + improved
    if n == 0:
        return 1.0
    low = min(regressed, improved)
    tail = sum(math.comb(n, i) for i in range(low + 1)) / 2**n
    return min(1.0, 2 * tail)


def bootstrap_mean_diff(
    deltas: Sequence[float], *, resamples: int = 2000, seed: int = 0, level: float = 0.95
) -> tuple[float, float, float]:
    """Mean of paired score differences with a bootstrap confidence interval (seeded)."""
    n = len(deltas)
    if n == 0:
        return (0.0, 0.0, 0.0)
    mean = sum(deltas) / n
    if n == 1:
        return (mean, mean, mean)
    rng = random.Random(seed)
    means = sorted(sum(rng.choices(deltas, k=n)) / n for _ in range(resamples))
    cut = (1 - level) / 2
    return (
        mean,
        means[int(cut * resamples)],
        means[min(resamples - 1, int((1 - cut) * resamples))],
    )
