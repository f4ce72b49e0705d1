"""Response and willingness rates of a consultation, in exact integer arithmetic.

Pure Python, no Django: the denominator is always the households in scope (DOMAIN §3), the
threshold an exact fraction (default 2/3), and "reaches the threshold" is decided by cross
multiplication, ``willing * den >= num * households``, never by a float.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Tally:
    households: int
    willing: int = 0
    unwilling: int = 0
    undecided: int = 0

    def __post_init__(self) -> None:
        if min(self.households, self.willing, self.unwilling, self.undecided) < 0:
            raise ValueError("counts cannot be negative")
        if self.responded > self.households:
            raise ValueError("more responses than households in scope")

    @property
    def responded(self) -> int:
        return self.willing + self.unwilling + self.undecided

    @property
    def not_responded(self) -> int:
        return self.households - self.responded

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.households + other.households,
            self.willing + other.willing,
            self.unwilling + other.unwilling,
            self.undecided + other.undecided,
        )


@dataclass(frozen=True)
class Threshold:
    num: int = 2
    den: int = 3

    def __post_init__(self) -> None:
        if not (0 < self.num <= self.den):
            raise ValueError("a threshold is a fraction between 0 (excluded) and 1")

    @property
    def fraction(self) -> Fraction:
        return Fraction(self.num, self.den)

    def reached_by(self, part: int, whole: int) -> bool:
        """``part / whole >= num / den``; nothing in scope reaches nothing."""
        return whole > 0 and part * self.den >= self.num * whole

    def needed(self, whole: int) -> int:
        """The smallest count that reaches the threshold out of ``whole`` (ceiling division)."""
        return -((-self.num * whole) // self.den)

    def __str__(self) -> str:
        return f"{self.num}/{self.den}"


def percent(part: int, whole: int, digits: int = 1) -> str:
    """``part / whole`` as a percentage rounded half up, for display only ("66.7")."""
    if whole <= 0:
        return "—"
    scale = 10**digits
    value = Fraction(part * 100 * scale, whole)
    rounded = int(value + Fraction(1, 2))
    whole_part, frac = divmod(rounded, scale)
    return f"{whole_part}.{frac:0{digits}d}" if digits else str(whole_part)


@dataclass(frozen=True)
class Rates:
    """What a rates table row shows: the counts, the two rates, and the threshold verdict."""

    tally: Tally
    threshold: Threshold

    @property
    def response_rate(self) -> str:
        return percent(self.tally.responded, self.tally.households)

    @property
    def willingness_rate(self) -> str:
        return percent(self.tally.willing, self.tally.households)

    @property
    def reached(self) -> bool:
        return self.threshold.reached_by(self.tally.willing, self.tally.households)

    @property
    def needed(self) -> int:
        return self.threshold.needed(self.tally.households)

    @property
    def short_by(self) -> int:
        return max(0, self.needed - self.tally.willing)


def rates(tally: Tally, threshold: Threshold) -> Rates:
    return Rates(tally, threshold)
