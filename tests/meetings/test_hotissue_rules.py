"""The hot-issue rules, pure: which patterns of requests and opinions raise a warning, on
exactly which numbers, and what the explanation says.

The places: compound 1 is 育才新村 (buildings 11 and 12), compound 2 is 南峰小区 (building
21). Thresholds are the defaults unless a test says otherwise: a 30-day window, 5 of one
category per compound, 3 per building, rising at 4 and twice the window before, a request
reopened twice, 3 reopenings per compound, 2 disputes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from gongzhi.meetings.hotissue_texts import EXPLAIN, TEMPLATES, TITLE
from gongzhi.meetings.hotissues import OPINION, TICKET, Signal, Thresholds, Warning, detect, parse_codes

NOW = dt.datetime(2025, 6, 30, 12, 0, tzinfo=dt.UTC)
DEFAULTS = Thresholds()
COMPOUNDS = {1: ("育才新村", "/DS/GT/YC/"), 2: ("南峰小区", "/DS/GT/NF/")}
BUILDINGS = {11: (1, "1幢"), 12: (1, "2幢"), 21: (2, "1幢")}
CATEGORIES = {"lighting": "路灯照明", "parking": "停车管理", "disputes": "邻里纠纷"}


def signal(
    id: int,
    *,
    source: str = TICKET,
    compound: int | None = 1,
    building: int | None = None,
    category: str = "lighting",
    days_ago: float = 1,
    **extra: object,
) -> Signal:
    name, path = COMPOUNDS[compound] if compound is not None else ("", "/DS/GT/street/")
    return Signal(
        source=source,
        id=id,
        compound_id=compound,
        compound_name=name,
        building_id=building,
        building_label=BUILDINGS[building][1] if building is not None else "",
        category_code=category,
        category_name=CATEGORIES.get(category, category),
        at=NOW - dt.timedelta(days=days_ago),
        area_path=path,
        **extra,  # type: ignore[arg-type]
    )


def requests(n: int, *, start: int = 1, **kw: object) -> list[Signal]:
    return [signal(start + i, **kw) for i in range(n)]  # type: ignore[arg-type]


def by_key(
    signals: list[Signal], thresholds: Thresholds = DEFAULTS, now: dt.datetime = NOW
) -> dict[str, Warning]:
    return {w.key: w for w in detect(signals, thresholds, now)}


def english(text: tuple[str, dict[str, str | int]]) -> str:
    template, values = text
    return template % values


# ---- clusters ------------------------------------------------------------------------------


def test_five_reports_of_one_category_in_a_compound_are_a_cluster_exactly_at_the_threshold() -> None:
    signals = requests(3) + requests(2, start=100, source=OPINION)
    w = by_key(signals)["cluster:c1:cat:lighting"]
    assert (w.rule, w.count, w.threshold) == ("cluster", 5, 5)
    assert (w.ticket_ids, w.opinion_ids) == ((1, 2, 3), (100, 101))
    assert (w.compound_id, w.compound_name, w.area_path) == (1, "育才新村", "/DS/GT/YC/")
    assert (w.category_code, w.category_name, w.building_id) == ("lighting", "路灯照明", None)
    assert english(w.explanation) == (
        "5 requests and opinions about 路灯照明 in 育才新村 in the last 30 days "
        "(requests: 3, opinions: 2; threshold 5)"
    )
    assert english(w.title) == "育才新村: many reports about 路灯照明"


def test_four_reports_are_one_below_the_threshold_and_no_cluster() -> None:
    assert not any(w.rule == "cluster" for w in detect(requests(4), DEFAULTS, NOW))


def test_reports_of_other_categories_or_other_compounds_do_not_add_up() -> None:
    signals = requests(3) + requests(2, start=10, category="parking") + requests(2, start=20, compound=2)
    assert [w for w in detect(signals, DEFAULTS, NOW) if w.rule == "cluster"] == []


def test_a_report_exactly_window_days_old_is_outside_the_window() -> None:
    """The window is (now − 30 days, now]: the lower edge is out, now itself is in."""
    edge = requests(4, days_ago=0) + [signal(9, days_ago=30)]
    assert "cluster:c1:cat:lighting" not in by_key(edge)
    just_inside = requests(4, days_ago=0) + [signal(9, days_ago=30 - 1 / 86400)]
    assert by_key(just_inside)["cluster:c1:cat:lighting"].count == 5


def test_a_report_dated_after_now_is_in_no_window() -> None:
    assert "cluster:c1:cat:lighting" not in by_key(requests(4) + [signal(9, days_ago=-1)])


def test_the_window_follows_the_setting() -> None:
    signals = requests(5, days_ago=10)
    assert "cluster:c1:cat:lighting" in by_key(signals)
    assert "cluster:c1:cat:lighting" not in by_key(signals, replace(DEFAULTS, window_days=7))


def test_a_request_category_name_wins_over_an_opinion_category_name_of_the_same_code() -> None:
    opinions = [replace(s, category_name="照明") for s in requests(3, source=OPINION)]
    w = by_key(opinions + requests(2, start=50))["cluster:c1:cat:lighting"]
    assert w.category_name == "路灯照明"


# ---- buildings -----------------------------------------------------------------------------


def test_three_reports_in_one_building_warn_even_below_the_compound_threshold() -> None:
    signals = requests(3, building=11) + [signal(9, building=12)]
    found = by_key(signals)
    assert "cluster:c1:cat:lighting" not in found
    w = found["building:b11:cat:lighting"]
    assert (w.count, w.threshold, w.building_id, w.building_label) == (3, 3, 11, "1幢")
    assert english(w.explanation) == (
        "3 requests and opinions about 路灯照明 in 育才新村 1幢 in the last 30 days "
        "(requests: 3, opinions: 0; threshold 3)"
    )


def test_a_building_warning_that_repeats_the_compound_cluster_is_left_out() -> None:
    found = by_key(requests(5, building=11))
    assert "cluster:c1:cat:lighting" in found
    assert "building:b11:cat:lighting" not in found


def test_a_building_warning_that_narrows_the_compound_cluster_is_kept() -> None:
    found = by_key(requests(4, building=11) + [signal(9, building=12)])
    assert found["cluster:c1:cat:lighting"].count == 5
    assert found["building:b11:cat:lighting"].count == 4


def test_two_reports_in_a_building_are_one_below_its_threshold() -> None:
    assert not any(w.rule == "building" for w in detect(requests(2, building=11), DEFAULTS, NOW))


# ---- rising --------------------------------------------------------------------------------


def test_four_reports_after_none_before_are_rising() -> None:
    w = by_key(requests(4))["rise:c1:cat:lighting"]
    assert (w.count, w.previous_count, w.threshold) == (4, 0, 4)
    assert english(w.explanation) == (
        "4 requests and opinions about 路灯照明 in 育才新村 in the last 30 days, against 0 in the 30 days "
        "before (threshold: at least 4, and at least 2 times as many as before)"
    )


def test_three_reports_are_too_few_to_be_rising() -> None:
    assert "rise:c1:cat:lighting" not in by_key(requests(3))


def test_rising_by_exactly_the_factor_fires_and_one_less_does_not() -> None:
    one_and_a_half = replace(DEFAULTS, rise_factor=Decimal("1.50"))
    before = requests(4, start=100, days_ago=40)
    w = by_key(requests(6) + before, one_and_a_half)["rise:c1:cat:lighting"]
    assert (w.count, w.previous_count) == (6, 4)
    assert "at least 1.5 times as many" in english(w.explanation)
    assert "rise:c1:cat:lighting" not in by_key(requests(5) + before, one_and_a_half)


def test_the_factor_is_compared_exactly_not_in_floating_point() -> None:
    """1.1 × 10 is 11.000000000000002 in floating point; the rule says 11 is enough."""
    factor = replace(DEFAULTS, rise_factor=Decimal("1.1"))
    w = by_key(requests(11) + requests(10, start=100, days_ago=45), factor)["rise:c1:cat:lighting"]
    assert (w.count, w.previous_count) == (11, 10)


def test_the_previous_window_holds_the_report_exactly_window_days_old_and_ends_at_twice_that() -> None:
    # Previous window: (now − 60, now − 30]. Two reports in it need 4 × 1 ≥ 2 × 2 now.
    before = [signal(100, days_ago=30), signal(101, days_ago=59)]
    assert by_key(requests(4) + before)["rise:c1:cat:lighting"].previous_count == 2
    before_and_older = [signal(100, days_ago=30), signal(101, days_ago=60), signal(102, days_ago=61)]
    assert by_key(requests(4) + before_and_older)["rise:c1:cat:lighting"].previous_count == 1
    three_before = [signal(100 + i, days_ago=31 + i) for i in range(3)]
    assert "rise:c1:cat:lighting" not in by_key(requests(4) + three_before)


# ---- reopenings ----------------------------------------------------------------------------


def test_a_request_reopened_twice_warns_on_its_own() -> None:
    w = by_key([signal(991, reopen_count=2)])["reopen:t991"]
    assert (w.rule, w.count, w.threshold, w.ticket_ids, w.opinion_ids) == ("reopen", 2, 2, (991,), ())
    assert english(w.explanation) == "Request #991 was reopened 2 times after being closed (threshold 2)"
    assert english(w.title) == "Request #991 keeps being reopened"


def test_a_request_reopened_once_does_not() -> None:
    assert by_key([signal(991, reopen_count=1)]) == {}


def test_an_old_request_reopened_recently_counts_and_one_left_alone_does_not() -> None:
    recent = signal(991, days_ago=90, reopen_count=2, active_at=NOW - dt.timedelta(days=3))
    assert "reopen:t991" in by_key([recent])
    stale = signal(991, days_ago=90, reopen_count=2, active_at=NOW - dt.timedelta(days=40))
    assert by_key([stale]) == {}


def test_a_request_on_a_street_warns_with_its_own_area() -> None:
    w = by_key([signal(5, compound=None, reopen_count=3)])["reopen:t5"]
    assert (w.compound_id, w.compound_name, w.area_path) == (None, "", "/DS/GT/street/")


def test_three_reopenings_among_a_compounds_requests_warn_for_the_compound() -> None:
    signals = [
        signal(1, reopen_count=1),
        signal(2, reopen_count=1, category="parking"),
        signal(3, reopen_count=1),
    ]
    found = by_key(signals)
    w = found["reopens:c1"]
    assert (w.count, w.threshold, w.ticket_ids) == (3, 3, (1, 2, 3))
    assert english(w.explanation) == (
        "3 reopenings among 3 requests of 育才新村 reported or changed in the last 30 days (threshold 3)"
    )
    assert not any(key.startswith("reopen:") for key in found)


def test_one_request_reopened_three_times_warns_once_not_twice() -> None:
    assert set(by_key([signal(7, reopen_count=3)])) == {"reopen:t7"}


def test_one_request_reopened_twice_and_another_once_warn_for_both_the_request_and_the_compound() -> None:
    found = by_key([signal(7, reopen_count=2), signal(8, reopen_count=1)])
    assert set(found) == {"reopen:t7", "reopens:c1"}
    assert found["reopens:c1"].count == 3


def test_reopen_counts_of_opinions_are_ignored() -> None:
    assert by_key([signal(7, source=OPINION, reopen_count=5)]) == {}


# ---- disputes ------------------------------------------------------------------------------


def test_a_dispute_a_dissatisfied_rating_and_an_opinion_not_adopted_each_count() -> None:
    signals = [
        signal(1, category="disputes"),
        signal(2, category="parking", dissatisfied=True),
        signal(3, source=OPINION, category="parking", dispute=True),
        signal(4, category="parking"),
        signal(5, source=OPINION, category="parking"),
    ]
    w = by_key(signals)["dispute:c1"]
    assert (w.count, w.threshold, w.ticket_ids, w.opinion_ids) == (3, 2, (1, 2), (3,))
    assert english(w.explanation) == (
        "3 disputes in 育才新村 in the last 30 days (requests in a dispute category: 1, "
        "dissatisfied ratings: 1, opinions not adopted: 1; threshold 2)"
    )


def test_a_dispute_rated_dissatisfied_counts_once() -> None:
    w = by_key([signal(1, category="disputes", dissatisfied=True), signal(2, dissatisfied=True)])[
        "dispute:c1"
    ]
    assert w.count == 2
    assert (w.explanation[1]["disputes"], w.explanation[1]["dissatisfied"]) == (1, 1)


def test_one_dispute_is_below_the_threshold_of_two() -> None:
    assert "dispute:c1" not in by_key([signal(1, category="disputes")])


def test_the_dispute_categories_follow_the_setting() -> None:
    parking = replace(DEFAULTS, dispute_categories=parse_codes(" parking, ,noise "))
    assert parking.dispute_categories == frozenset({"parking", "noise"})
    signals = requests(2, category="parking")
    assert "dispute:c1" not in by_key(signals)
    assert by_key(signals, parking)["dispute:c1"].count == 2


def test_disputes_outside_the_window_do_not_count() -> None:
    assert "dispute:c1" not in by_key(
        [signal(1, category="disputes"), signal(2, category="disputes", days_ago=31)]
    )


# ---- keys, order, words --------------------------------------------------------------------


def test_keys_carry_no_date_and_stay_within_120_characters() -> None:
    code = "c" * 40
    signals = requests(5, category=code, building=11) + [signal(9, building=12, category=code)]
    later = [replace(s, at=s.at + dt.timedelta(days=2)) for s in signals]
    keys = set(by_key(signals))
    assert keys == set(by_key(later, now=NOW + dt.timedelta(days=2)))
    assert keys == {f"cluster:c1:cat:{code}", f"building:b11:cat:{code}", f"rise:c1:cat:{code}"}
    assert all(len(key) <= 120 for key in keys)


def test_the_warning_furthest_past_its_threshold_comes_first() -> None:
    signals = (
        requests(10, category="parking")  # cluster 10/5 = 2; rise 10/4 = 2.5
        + [signal(50, category="disputes"), signal(51, category="disputes")]  # dispute 2/2 = 1
        + requests(5, start=60, compound=2)  # cluster 5/5 = 1; rise 5/4
    )
    order = [w.key for w in detect(signals, DEFAULTS, NOW)]
    assert order == [
        "rise:c1:cat:parking",
        "cluster:c1:cat:parking",
        "rise:c2:cat:lighting",
        "dispute:c1",
        "cluster:c2:cat:lighting",
    ]


def test_every_explanation_and_title_fills_its_template() -> None:
    signals = (
        requests(4, building=11)
        + requests(2, start=20, source=OPINION, building=12)
        + [signal(30, category="disputes", reopen_count=2), signal(31, dissatisfied=True, reopen_count=1)]
    )
    found = detect(signals, DEFAULTS, NOW)
    assert {w.rule for w in found} == {"cluster", "building", "rise", "reopen", "reopens", "dispute"}
    for w in found:
        assert w.explanation[0] == EXPLAIN[w.rule] and w.title[0] == TITLE[w.rule]
        assert w.label in TEMPLATES
        assert "%(" not in english(w.explanation) and "%(" not in english(w.title)
        assert str(w.count) in english(w.explanation) and str(w.threshold) in english(w.explanation)


# ---- properties ----------------------------------------------------------------------------

signals_strategy = st.lists(
    st.builds(
        signal,
        st.integers(1, 40),
        source=st.sampled_from([TICKET, OPINION]),
        compound=st.sampled_from([1, 2, None]),
        building=st.sampled_from([None, 11, 12]),
        category=st.sampled_from(["lighting", "parking", "disputes"]),
        days_ago=st.integers(-1, 70),
        reopen_count=st.integers(0, 3),
        dissatisfied=st.booleans(),
    ).map(lambda s: replace(s, building_id=None, building_label="") if s.compound_id != 1 else s),
    max_size=30,
    unique_by=lambda s: (s.source, s.id),
)
small = replace(DEFAULTS, cluster_min=3, building_cluster_min=2, rise_min=2, dispute_min=2)


@given(signals_strategy, st.integers(41, 80), st.integers(0, 29))
def test_one_more_report_never_takes_a_cluster_away(signals: list[Signal], extra_id: int, days: int) -> None:
    before = {w.key: w.count for w in detect(signals, small, NOW) if w.rule in ("cluster", "dispute")}
    more = signals + [signal(extra_id, days_ago=days)]
    after = {w.key: w.count for w in detect(more, small, NOW) if w.rule in ("cluster", "dispute")}
    assert all(key in after and after[key] >= count for key, count in before.items())


@given(signals_strategy.flatmap(lambda s: st.tuples(st.just(s), st.permutations(s))))
def test_the_order_of_the_reports_does_not_matter(pair: tuple[list[Signal], list[Signal]]) -> None:
    signals, shuffled = pair
    assert detect(signals, small, NOW) == detect(shuffled, small, NOW)
