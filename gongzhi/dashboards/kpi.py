"""KPI arithmetic for resident requests (DOMAIN §4). Pure Python: no Django, no floats.

* Rates are exact ``Fraction``s (``None`` when nothing was counted).
* The weighted score is 100 × the weighted mean of response, resolution and satisfaction.
* Percentiles use the nearest-rank method: the P-th percentile of n sorted values is the
  value at rank ⌈P·n/100⌉.
* Durations are kept in fixed log-scale buckets, four per doubling from one minute up to
  about 91 days, so medians and P90s can be read from summed counts. A percentile read from
  the buckets is the geometric middle of the bucket the exact percentile falls in: within
  10 % of the exact value at one minute and above, within 30 seconds below one minute, and
  "at least 91 days" in the last, open bucket.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from math import isqrt
from typing import Any, TypeVar

K = TypeVar("K")

# ---------------------------------------------------------------------------------- rates


def rate(numerator: int, denominator: int) -> Fraction | None:
    """``numerator ÷ denominator`` as an exact fraction; ``None`` when the denominator is 0."""
    if denominator < 0 or numerator < 0:
        raise ValueError("counts cannot be negative")
    if denominator == 0:
        return None
    return Fraction(numerator, denominator)


def weighted_score(rates: Sequence[Fraction | None], weights: Sequence[int]) -> Fraction | None:
    """The weighted score out of 100 of (response, resolution, satisfaction) rates.

    ``None`` when any rate is missing: a unit with no dispatched task or no follow-up in the
    period is not scored, rather than scored on part of its work.
    """
    if len(rates) != len(weights):
        raise ValueError("one weight per rate")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError("weights must be non-negative and not all zero")
    if any(r is None for r in rates):
        return None
    total = sum((Fraction(w) * r for w, r in zip(weights, rates, strict=True) if r is not None), Fraction(0))
    return 100 * total / sum(weights)


def decimal_text(value: Fraction, places: int = 1) -> str:
    """A fraction in decimals, rounded half up: ``Fraction(7, 8)`` → ``"0.9"``."""
    scaled = value * 10**places
    whole = (scaled.numerator * 2 + scaled.denominator) // (2 * scaled.denominator)
    sign = "-" if whole < 0 else ""
    whole = abs(whole)
    if places == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole // 10**places}.{whole % 10**places:0{places}d}"


def percent(value: Fraction, places: int = 1) -> str:
    """A fraction as a percentage rounded half up: ``Fraction(7, 8)`` → ``"87.5"``."""
    return decimal_text(value * 100, places)


def ranking(scores: Mapping[K, Fraction | None]) -> list[tuple[int | None, K]]:
    """League order: best score first; equal scores share a rank (1, 2, 2, 4); keys without
    a score come last with rank ``None``. Ties keep the mapping's order."""
    scored = sorted(
        ((s, k) for k, s in scores.items() if s is not None), key=lambda pair: pair[0], reverse=True
    )
    out: list[tuple[int | None, K]] = []
    previous: Fraction | None = None
    rank = 0
    for position, (score, key) in enumerate(scored, start=1):
        if score != previous:
            rank, previous = position, score
        out.append((rank, key))
    out.extend((None, k) for k, s in scores.items() if s is None)
    return out


# ---------------------------------------------------------------------------------- percentiles


def nearest_rank(count: int, p: int | Fraction) -> int:
    """The 1-based rank of the P-th percentile among ``count`` values (P in (0, 100])."""
    if count <= 0:
        raise ValueError("no values")
    if not 0 < p <= 100:
        raise ValueError("percentile must be in (0, 100]")
    return max(1, -(-(p * count) // 100))


def percentile(values: Iterable[int], p: int | Fraction) -> int:
    """The nearest-rank P-th percentile of ``values``."""
    ordered = sorted(values)
    return ordered[nearest_rank(len(ordered), p) - 1]


# ---------------------------------------------------------------------------------- buckets

BUCKETS_PER_DOUBLING = 4
FIRST_BOUND = 60  # seconds: everything under a minute shares bucket 0
DOUBLINGS = 17  # 60 s × 2**17 ≈ 91 days
# Lower bounds of buckets 1…N in whole seconds: ⌊60·2^(i/4)⌋, computed with integers only so
# every platform files a duration in the same bucket.
BOUNDS: tuple[int, ...] = tuple(
    isqrt(isqrt(FIRST_BOUND**4 * 2**i)) for i in range(BUCKETS_PER_DOUBLING * DOUBLINGS + 1)
)
OPEN_BUCKET = len(BOUNDS)  # durations of ≥ BOUNDS[-1] seconds
# The worst ratio between the value read from a bucket and any value in it (from 1 minute).
PRECISION = Fraction(11, 10)


def bucket_of(seconds: int) -> int:
    """The bucket a duration falls in (negative durations, from clock skew, count as 0)."""
    return bisect_right(BOUNDS, max(0, seconds))


def bucket_range(index: int) -> tuple[int, int | None]:
    """``[low, high)`` seconds of a bucket; ``high`` is ``None`` for the open last bucket."""
    if not 0 <= index <= OPEN_BUCKET:
        raise ValueError("no such bucket")
    if index == 0:
        return 0, BOUNDS[0]
    return BOUNDS[index - 1], BOUNDS[index] if index < OPEN_BUCKET else None


def bucket_value(index: int) -> int:
    """The duration a bucket stands for: its geometric middle (its lower bound when open)."""
    low, high = bucket_range(index)
    if high is None:
        return low
    if low == 0:
        return high // 2
    return isqrt(low * high)


def histogram_percentile(histogram: Mapping[int, int], p: int | Fraction) -> int | None:
    """The bucket holding the nearest-rank P-th percentile of the counted durations."""
    total = sum(histogram.values())
    if total <= 0:
        return None
    wanted = nearest_rank(total, p)
    seen = 0
    for index in sorted(histogram):
        seen += histogram[index]
        if seen >= wanted:
            return index
    raise AssertionError("unreachable: the ranks add up to the total")


@dataclass(frozen=True)
class Duration:
    """A percentile read from buckets: ``seconds`` is the bucket's value, ``at_least`` marks
    the open last bucket."""

    seconds: int
    at_least: bool = False


def read_percentile(histogram: Mapping[int, int], p: int | Fraction, min_count: int) -> Duration | None:
    """The P-th percentile, or ``None`` when fewer than ``min_count`` durations were counted
    (a median of three mislead more than they tell)."""
    if not enough(sum(histogram.values()), min_count):
        return None
    index = histogram_percentile(histogram, p)
    if index is None:
        return None
    return Duration(bucket_value(index), at_least=index == OPEN_BUCKET)


def enough(count: int, min_count: int) -> bool:
    """Whether a sample is large enough to report a median or P90 from."""
    return count > 0 and count >= min_count


# ---------------------------------------------------------------------------------- tallies

COUNTERS: tuple[str, ...] = (
    "reported",  # requests reported
    "tasks",  # unit tasks dispatched (lead and co-units, each reopen adds one)
    "signed",  # tasks signed for
    "signed_in_time",  # … before the sign-for deadline
    "replied",  # tasks replied to (first reply of each task)
    "replied_on_time",  # … by the task's due time
    "closed",  # requests closed (first close of each)
    "rated",  # follow-ups with a rating
    "resolved",
    "partly",
    "unresolved",
    "satisfied",
    "basic",
    "dissatisfied",
    "reopened",  # reopened after a "not resolved" or "dissatisfied" rating
)
HISTOGRAMS: tuple[str, ...] = ("sign_hist", "close_hist")


def _zero_counts() -> dict[str, int]:
    return dict.fromkeys(COUNTERS, 0)


@dataclass
class Tally:
    """Counters and duration buckets for one cell of a KPI table (a unit, a category, …)."""

    counts: dict[str, int] = field(default_factory=_zero_counts)
    sign_hist: dict[int, int] = field(default_factory=dict)  # dispatch → unit signs for it
    close_hist: dict[int, int] = field(default_factory=dict)  # report → close

    def add(self, other: Tally, sign: int = 1) -> None:
        for name in COUNTERS:
            self.counts[name] += sign * other.counts[name]
        for mine, theirs in ((self.sign_hist, other.sign_hist), (self.close_hist, other.close_hist)):
            for index, n in theirs.items():
                left = mine.get(index, 0) + sign * n
                if left:
                    mine[index] = left
                else:
                    mine.pop(index, None)

    def is_zero(self) -> bool:
        return not any(self.counts.values()) and not self.sign_hist and not self.close_hist

    @classmethod
    def from_stored(
        cls, counts: Mapping[str, Any], sign_hist: Mapping[Any, int], close_hist: Mapping[Any, int]
    ) -> Tally:
        """From a stored row: JSON turns bucket numbers into strings."""
        return cls(
            counts={name: int(counts.get(name) or 0) for name in COUNTERS},
            sign_hist={int(k): int(v) for k, v in sign_hist.items() if int(v)},
            close_hist={int(k): int(v) for k, v in close_hist.items() if int(v)},
        )


@dataclass(frozen=True)
class Kpis:
    """What a KPI table shows for one cell."""

    response: Fraction | None  # signed in time ÷ tasks dispatched
    resolution: Fraction | None  # rated resolved ÷ followed up
    satisfaction: Fraction | None  # (satisfied + basically) ÷ followed up
    score: Fraction | None  # weighted score out of 100
    on_time: Fraction | None  # replied by due ÷ replied
    reopen: Fraction | None  # reopens ÷ followed up
    sign_median: Duration | None
    sign_p90: Duration | None
    close_median: Duration | None
    close_p90: Duration | None


def kpis(tally: Tally, weights: Sequence[int], min_count: int) -> Kpis:
    c = tally.counts
    response = rate(c["signed_in_time"], c["tasks"])
    resolution = rate(c["resolved"], c["rated"])
    satisfaction = rate(c["satisfied"] + c["basic"], c["rated"])
    return Kpis(
        response=response,
        resolution=resolution,
        satisfaction=satisfaction,
        score=weighted_score([response, resolution, satisfaction], weights),
        on_time=rate(c["replied_on_time"], c["replied"]),
        reopen=rate(c["reopened"], c["rated"]),
        sign_median=read_percentile(tally.sign_hist, 50, min_count),
        sign_p90=read_percentile(tally.sign_hist, 90, min_count),
        close_median=read_percentile(tally.close_hist, 50, min_count),
        close_p90=read_percentile(tally.close_hist, 90, min_count),
    )
