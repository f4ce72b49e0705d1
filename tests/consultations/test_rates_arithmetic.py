"""Rates are exact: the denominator is the households in scope and "reaches the threshold"
is decided by cross multiplication, so exactly 2/3 reaches 2/3 and one household less
does not."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.consultations.rates import Rates, Tally, Threshold, percent

TWO_THIRDS = Threshold(2, 3)


@pytest.mark.parametrize(
    ("willing", "households", "reached"),
    [
        (2, 3, True),  # exactly 2/3
        (20, 30, True),
        (19, 30, False),
        (22, 33, True),  # 育才新村 1幢 has 33 households: 22 is exactly 2/3
        (21, 33, False),
        (706, 1058, True),  # 1058 * 2 / 3 = 705.33…: 706 is the first that reaches it
        (705, 1058, False),
        (667, 1000, True),
        (666, 1000, False),  # 0.666 is below 2/3, though it prints as 66.6 %
        (0, 0, False),  # nobody in scope reaches nothing
    ],
)
def test_two_thirds_at_its_boundary(willing, households, reached):
    assert TWO_THIRDS.reached_by(willing, households) is reached


def test_needed_is_the_first_count_that_reaches_the_threshold():
    assert TWO_THIRDS.needed(33) == 22
    assert TWO_THIRDS.needed(1058) == 706
    assert Threshold(3, 4).needed(48) == 36
    assert Threshold(9, 10).needed(21) == 19


@given(households=st.integers(min_value=0, max_value=5000), num=st.integers(1, 20), den=st.integers(1, 20))
def test_reached_by_agrees_with_fractions(households, num, den):
    if num > den:
        num, den = den, num
    threshold = Threshold(num, den)
    needed = threshold.needed(households)
    for willing in {max(0, needed - 1), needed, min(households, needed + 1)}:
        if willing > households:
            continue
        expected = households > 0 and Fraction(willing, households) >= Fraction(num, den)
        assert threshold.reached_by(willing, households) is expected
    if households:
        assert threshold.reached_by(needed, households)
        assert needed == 0 or not threshold.reached_by(needed - 1, households)


def test_rates_use_all_households_in_scope_as_denominator():
    tally = Tally(households=30, willing=15, unwilling=3, undecided=2)
    rates = Rates(tally, TWO_THIRDS)
    assert (tally.responded, tally.not_responded) == (20, 10)
    assert rates.response_rate == "66.7"
    assert rates.willingness_rate == "50.0"  # 15 of 30 households, not 15 of the 20 who answered
    assert not rates.reached and rates.short_by == 5


def test_percent_rounds_half_up_without_floats():
    assert percent(1, 8) == "12.5"
    assert percent(1, 3) == "33.3"
    assert percent(2, 3) == "66.7"
    assert percent(1, 16, digits=2) == "6.25"
    assert percent(0, 0) == "—"


@pytest.mark.parametrize(("num", "den"), [(0, 3), (4, 3), (-1, 3)])
def test_a_threshold_is_a_fraction_between_zero_and_one(num, den):
    with pytest.raises(ValueError):
        Threshold(num, den)


def test_a_tally_refuses_more_answers_than_households():
    with pytest.raises(ValueError):
        Tally(households=2, willing=2, unwilling=1)
    assert Tally(3, 1) + Tally(4, 2, 1) == Tally(7, 3, 1)
