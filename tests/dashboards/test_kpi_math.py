"""KPI arithmetic: exact rates, the weighted score, nearest-rank percentiles and buckets."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.dashboards import kpi

counts = st.integers(min_value=0, max_value=10**6)
durations = st.integers(min_value=0, max_value=200 * 86400)
rates = st.fractions(min_value=0, max_value=1)
weight_lists = st.lists(st.integers(min_value=0, max_value=100), min_size=3, max_size=3).filter(
    lambda w: sum(w) > 0
)


@given(counts, counts)
def test_a_rate_is_the_exact_fraction_between_zero_and_one(a, b):
    numerator, denominator = min(a, b), max(a, b)
    value = kpi.rate(numerator, denominator)
    if denominator == 0:
        assert value is None
    else:
        assert value is not None
        assert 0 <= value <= 1
        assert value * denominator == numerator


def test_negative_counts_are_refused():
    with pytest.raises(ValueError):
        kpi.rate(-1, 3)


@given(st.lists(rates, min_size=3, max_size=3), weight_lists)
def test_the_weighted_score_lies_between_the_lowest_and_highest_rate(values, weights):
    score = kpi.weighted_score(values, weights)
    assert score is not None
    used = [v for v, w in zip(values, weights, strict=True) if w > 0]
    assert 100 * min(used) <= score <= 100 * max(used)


@given(st.lists(rates, min_size=3, max_size=3), weight_lists, st.integers(min_value=1, max_value=9))
def test_scaling_the_weights_keeps_the_score(values, weights, factor):
    assert kpi.weighted_score(values, weights) == kpi.weighted_score(values, [w * factor for w in weights])


def test_the_default_weights_give_the_documented_score():
    score = kpi.weighted_score([Fraction(9, 10), Fraction(8, 10), Fraction(7, 10)], (30, 35, 35))
    assert score == Fraction(795, 10)  # 0.3·90 + 0.35·80 + 0.35·70


@given(st.lists(st.one_of(st.none(), rates), min_size=3, max_size=3).filter(lambda v: None in v))
def test_no_score_without_every_rate(values):
    assert kpi.weighted_score(values, (30, 35, 35)) is None


@given(st.lists(durations, min_size=1, max_size=60), st.integers(min_value=1, max_value=100))
def test_the_nearest_rank_percentile_is_a_value_with_p_percent_at_or_below_it(values, p):
    value = kpi.percentile(values, p)
    rank = kpi.nearest_rank(len(values), p)
    assert value in values
    assert sum(v <= value for v in values) >= rank
    assert sum(v < value for v in values) < rank
    assert 100 * rank >= p * len(values) > 100 * (rank - 1)


def test_nearest_rank_by_example():
    assert kpi.percentile([15, 20, 35, 40, 50], 30) == 20
    assert kpi.percentile([15, 20, 35, 40, 50], 50) == 35
    assert kpi.percentile([1, 2, 3, 4], 50) == 2  # the lower middle: a real case, never a mean
    assert kpi.percentile([7], 90) == 7


@given(durations)
def test_every_duration_falls_in_the_bucket_whose_range_holds_it(seconds):
    index = kpi.bucket_of(seconds)
    low, high = kpi.bucket_range(index)
    assert low <= seconds and (high is None or seconds < high)


@given(durations, durations)
def test_buckets_keep_the_order_of_durations(a, b):
    if a <= b:
        assert kpi.bucket_of(a) <= kpi.bucket_of(b)


@given(st.integers(min_value=kpi.FIRST_BOUND, max_value=kpi.BOUNDS[-1] - 1))
def test_a_bucket_stands_for_its_durations_within_the_stated_precision(seconds):
    value = kpi.bucket_value(kpi.bucket_of(seconds))
    assert Fraction(value, seconds) <= kpi.PRECISION
    assert Fraction(seconds, value) <= kpi.PRECISION


@given(st.integers(min_value=0, max_value=kpi.FIRST_BOUND - 1))
def test_under_a_minute_is_within_thirty_seconds(seconds):
    assert abs(kpi.bucket_value(kpi.bucket_of(seconds)) - seconds) <= 30


def test_the_buckets_run_from_a_minute_to_about_ninety_one_days():
    assert kpi.BOUNDS[0] == 60 and kpi.BOUNDS[4] == 120 and kpi.BOUNDS[-1] == 60 * 2**17
    assert all(a < b for a, b in zip(kpi.BOUNDS, kpi.BOUNDS[1:], strict=False))
    assert kpi.bucket_of(100 * 86400) == kpi.OPEN_BUCKET
    assert kpi.bucket_value(kpi.OPEN_BUCKET) == kpi.BOUNDS[-1]


@given(st.lists(durations, min_size=1, max_size=80), st.integers(min_value=1, max_value=100))
def test_a_percentile_read_from_buckets_is_in_the_bucket_of_the_exact_one(values, p):
    histogram: dict[int, int] = {}
    for v in values:
        histogram[kpi.bucket_of(v)] = histogram.get(kpi.bucket_of(v), 0) + 1
    assert kpi.histogram_percentile(histogram, p) == kpi.bucket_of(kpi.percentile(values, p))


@given(st.lists(durations, max_size=12), st.integers(min_value=1, max_value=12))
def test_percentiles_of_too_few_cases_are_not_shown(values, min_count):
    histogram: dict[int, int] = {}
    for v in values:
        histogram[kpi.bucket_of(v)] = histogram.get(kpi.bucket_of(v), 0) + 1
    shown = kpi.read_percentile(histogram, 50, min_count)
    assert (shown is not None) == (len(values) >= min_count and len(values) > 0)


@given(st.dictionaries(st.integers(min_value=0, max_value=50), st.fractions(min_value=0, max_value=100)))
def test_the_league_ranks_by_score_and_shares_ranks_on_ties(raw):
    scores: dict[int, Fraction | None] = {k: (None if v > 90 else v) for k, v in raw.items()}
    ranked = kpi.ranking(scores)
    assert [k for _r, k in ranked if _r is None] == [k for k, s in scores.items() if s is None]
    for rank, key in ranked:
        score = scores[key]
        if score is not None:
            assert rank == 1 + sum(1 for s in scores.values() if s is not None and s > score)
    ranks = [r for r, _k in ranked if r is not None]
    assert ranks == sorted(ranks)


@given(st.fractions(min_value=0, max_value=1))
def test_percent_text_rounds_half_up_to_one_decimal(value):
    text = kpi.percent(value)
    shown = Fraction(text)
    assert abs(shown - value * 100) <= Fraction(1, 20)
    assert len(text.split(".")[1]) == 1


def test_percent_text_by_example():
    assert kpi.percent(Fraction(7, 8)) == "87.5"
    assert kpi.percent(Fraction(1, 3)) == "33.3"
    assert kpi.percent(Fraction(2, 3)) == "66.7"
    assert kpi.percent(Fraction(1, 2000)) == "0.1"  # 0.05 % rounds up
    assert kpi.percent(Fraction(1)) == "100.0"


def tallies():
    return st.builds(
        lambda c, s, h: kpi.Tally(counts=dict(zip(kpi.COUNTERS, c, strict=True)), sign_hist=s, close_hist=h),
        st.lists(counts, min_size=len(kpi.COUNTERS), max_size=len(kpi.COUNTERS)),
        st.dictionaries(st.integers(0, kpi.OPEN_BUCKET), st.integers(1, 50), max_size=5),
        st.dictionaries(st.integers(0, kpi.OPEN_BUCKET), st.integers(1, 50), max_size=5),
    )


@given(tallies(), tallies())
def test_taking_back_a_tally_undoes_adding_it(base, delta):
    total = kpi.Tally()
    total.add(base)
    total.add(delta)
    total.add(delta, -1)
    assert total == base


def test_kpis_of_a_tally():
    tally = kpi.Tally()
    tally.counts.update(tasks=8, signed_in_time=6, rated=5, resolved=3, satisfied=2, basic=2, reopened=1)
    tally.counts.update(replied=4, replied_on_time=3)
    tally.close_hist = {kpi.bucket_of(3600): 4, kpi.bucket_of(86400): 1}
    result = kpi.kpis(tally, (30, 35, 35), min_count=5)
    assert result.response == Fraction(3, 4)
    assert result.resolution == Fraction(3, 5)
    assert result.satisfaction == Fraction(4, 5)
    assert result.on_time == Fraction(3, 4)
    assert result.reopen == Fraction(1, 5)
    assert (
        result.score
        == 100 * (Fraction(30) * Fraction(3, 4) + 35 * Fraction(3, 5) + 35 * Fraction(4, 5)) / 100
    )
    assert result.close_median == kpi.Duration(kpi.bucket_value(kpi.bucket_of(3600)))
    assert result.sign_median is None  # nothing counted
