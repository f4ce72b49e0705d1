"""The tally's rules, one boundary at a time, straight from Civil Code Art. 278 (DOMAIN.md §2).

Areas carry two decimals and the boundaries are crossed by 0.01 m², so only exact arithmetic
gets these right. Owners are named people: Alice, Bob, Charlie, Dora, Ed, Fay …; the
developer holds units as "dev-…".
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from fractions import Fraction

import pytest

from gongzhi.decisions import tally_explain as tally_module
from gongzhi.decisions.tally import (
    Choice,
    TallyError,
    VoterUnit,
    tally,
    thresholds,
)
from gongzhi.decisions.tally_explain import EXPLAIN_TEMPLATES, explain

AGREE, DISAGREE, ABSTAIN, SPOILED = Choice.AGREE, Choice.DISAGREE, Choice.ABSTAIN, Choice.SPOILED


def flat(unit_id: str, owner: str, area: str = "100.00", kind: str = "residential") -> VoterUnit:
    return VoterUnit(unit_id, owner, Decimal(area), kind)


def developer_unit(unit_id: str, area: str = "100.00") -> VoterUnit:
    return VoterUnit(unit_id, f"dev-{unit_id}", Decimal(area), "residential", developer_held=True)


def one_flat_each(*areas: str) -> list[VoterUnit]:
    """One flat per owner: flat i (1-based) belongs to owner i."""
    return [flat(str(i), f"owner{i}", area) for i, area in enumerate(areas, start=1)]


# ---- thresholds ----------------------------------------------------------------------------


@pytest.mark.parametrize("matter", [6, 7, 8])
def test_raising_the_fund_rebuilding_and_changing_common_parts_need_three_quarters_inclusive(matter):
    assert thresholds(matter) == (Fraction(2, 3), Fraction(3, 4), True)


@pytest.mark.parametrize("matter", [1, 2, 3, 4, 5, 9])
def test_other_matters_need_more_than_half(matter):
    assert thresholds(matter) == (Fraction(2, 3), Fraction(1, 2), False)


@pytest.mark.parametrize("matter", [0, 10, -1, True, "5", 5.0, None])
def test_a_matter_outside_one_to_nine_is_refused(matter):
    with pytest.raises(TallyError) as caught:
        tally(one_flat_each("10.00"), {}, matter)
    assert caught.value.code == "bad_matter"


# ---- quorum --------------------------------------------------------------------------------


def test_exactly_two_thirds_of_area_and_owners_meets_the_quorum():
    units = one_flat_each("100.01", "100.01", "100.01")
    result = tally(units, {"1": AGREE, "2": AGREE}, 5)
    # 3 × 200.02 = 600.06 = 2 × 300.03; 3 × 2 = 6 = 2 × 3
    assert result.participating_area == Decimal("200.02")
    assert result.total_area == Decimal("300.03")
    assert result.quorum_area_met and result.quorum_owners_met and result.quorum_met
    assert result.approved


def test_one_hundredth_of_a_square_metre_short_of_two_thirds_misses_the_area_quorum():
    units = one_flat_each("100.00", "100.01", "100.02")
    result = tally(units, {"1": AGREE, "2": AGREE}, 5)
    # 3 × 200.01 = 600.03 < 2 × 300.03 = 600.06, while 2 of 3 owners is exactly two thirds
    assert not result.quorum_area_met
    assert result.quorum_owners_met
    assert not result.quorum_met
    assert not result.approved


def test_one_owner_short_of_two_thirds_misses_the_headcount_quorum():
    units = one_flat_each(*["50.00"] * 6)
    result = tally(units, {"1": AGREE, "2": AGREE, "3": AGREE}, 1)
    assert (result.participating_owners, result.total_owners) == (3, 6)
    assert not result.quorum_owners_met and not result.quorum_met
    four = tally(units, {"1": AGREE, "2": AGREE, "3": AGREE, "4": AGREE}, 1)
    assert four.quorum_met and four.approved


def test_a_large_owner_alone_meets_the_area_quorum_but_not_the_headcount():
    units = [flat("big", "Alice", "1000.00"), *one_flat_each("10.00", "10.00", "10.00")]
    result = tally(units, {"big": AGREE}, 5)
    assert result.quorum_area_met
    assert not result.quorum_owners_met
    assert not result.quorum_met and not result.approved


def test_many_small_owners_meet_the_headcount_quorum_but_not_the_area():
    units = [flat("big", "Alice", "1000.00"), *one_flat_each("10.00", "10.00", "10.00")]
    result = tally(units, {"1": AGREE, "2": AGREE, "3": AGREE}, 5)
    assert result.quorum_owners_met
    assert not result.quorum_area_met
    assert not result.approved


def test_a_compound_with_no_eligible_unit_has_no_quorum_and_divides_by_nothing():
    result = tally([flat("P1", "Alice", "12.00", "parking")], {"P1": AGREE}, 5, deemed_votes=True)
    assert result.total_area == 0 and result.total_owners == 0
    assert not result.quorum_met and not result.approved
    assert result.deemed is not None and not result.deemed.approved
    data = result.to_dict()
    assert data["ratios"]["participating_area"] is None
    assert data["total_area"] == "0.00"
    nothing = tally([], [], 7)
    assert not nothing.quorum_met and not nothing.approval_area_met and not nothing.approved


# ---- approval ------------------------------------------------------------------------------


@pytest.mark.parametrize("matter", [6, 7, 8])
def test_exactly_three_quarters_of_participants_approves_matters_six_to_eight(matter):
    units = one_flat_each("25.01", "25.01", "25.01", "25.01")
    result = tally(units, {"1": AGREE, "2": AGREE, "3": AGREE, "4": DISAGREE}, matter)
    # 4 × 75.03 = 300.12 = 3 × 100.04; 4 × 3 = 12 = 3 × 4
    assert result.approval_area_met and result.approval_owners_met
    assert result.approved


@pytest.mark.parametrize("matter", [6, 7, 8])
def test_one_hundredth_of_a_square_metre_below_three_quarters_fails_matters_six_to_eight(matter):
    units = one_flat_each("25.00", "25.00", "25.00", "25.01")
    result = tally(units, {"1": AGREE, "2": AGREE, "3": AGREE, "4": DISAGREE}, matter)
    # 4 × 75.00 = 300.00 < 3 × 100.01 = 300.03, with exactly 3 of 4 owners
    assert not result.approval_area_met
    assert result.approval_owners_met
    assert not result.approved


@pytest.mark.parametrize("matter", [6, 7, 8])
def test_one_owner_below_three_quarters_fails_matters_six_to_eight(matter):
    units = one_flat_each("10.00", "10.00", "10.00", "10.00", "10.00", "50.00")
    # area 4 × 80.00 = 320.00 ≥ 3 × 100.00; heads 4 × 4 = 16 < 3 × 6 = 18
    ballots = {"1": AGREE, "2": AGREE, "3": DISAGREE, "4": DISAGREE, "5": AGREE, "6": AGREE}
    result = tally(units, ballots, matter)
    assert result.approval_area_met and not result.approval_owners_met and not result.approved


def test_exactly_half_of_participants_fails_for_ordinary_matters():
    units = one_flat_each("50.00", "50.00")
    result = tally(units, {"1": AGREE, "2": DISAGREE}, 5)
    assert result.quorum_met
    assert not result.approval_area_met and not result.approval_owners_met
    assert not result.approved


def test_exactly_half_of_the_participating_area_fails_even_with_most_owners():
    units = one_flat_each("30.00", "20.00", "50.00")
    result = tally(units, {"1": AGREE, "2": AGREE, "3": DISAGREE}, 5)
    # 2 × 50.00 = 100.00, not more than 100.00
    assert result.approval_owners_met and not result.approval_area_met and not result.approved


def test_one_hundredth_of_a_square_metre_above_half_passes_ordinary_matters():
    units = one_flat_each("30.00", "20.01", "50.00")
    result = tally(units, {"1": AGREE, "2": AGREE, "3": DISAGREE}, 5)
    # 2 × 50.01 = 100.02 > 100.01
    assert result.approval_area_met and result.approval_owners_met and result.approved


def test_exactly_half_of_the_participating_owners_fails_even_with_most_area():
    units = one_flat_each("40.00", "40.00", "10.00", "10.00")
    result = tally(units, {"1": AGREE, "2": AGREE, "3": DISAGREE, "4": DISAGREE}, 9)
    assert result.approval_area_met and not result.approval_owners_met and not result.approved


def test_area_and_headcount_can_disagree_and_both_are_needed():
    units = [flat("big", "Alice", "800.00"), flat("s1", "Bob", "100.00"), flat("s2", "Charlie", "100.00")]
    big_agrees = tally(units, {"big": AGREE, "s1": DISAGREE, "s2": DISAGREE}, 5)
    assert big_agrees.approval_area_met and not big_agrees.approval_owners_met
    assert not big_agrees.approved
    small_agree = tally(units, {"big": DISAGREE, "s1": AGREE, "s2": AGREE}, 5)
    assert small_agree.approval_owners_met and not small_agree.approval_area_met
    assert not small_agree.approved


def test_abstentions_and_spoiled_ballots_take_part_without_agreeing():
    units = one_flat_each("10.00", "10.00", "10.00", "10.00", "10.01")
    ballots = {"1": AGREE, "2": AGREE, "3": ABSTAIN, "4": SPOILED, "5": DISAGREE}
    result = tally(units, ballots, 5)
    assert result.participating_owners == 5 and result.participating_area == Decimal("50.01")
    assert (result.abstain_owners, result.abstain_area) == (2, Decimal("20.00"))
    assert (result.spoiled_owners, result.spoiled_area) == (1, Decimal("10.00"))
    # 2 of 5 agree: abstaining is not agreeing, so the matter fails
    assert result.quorum_met and not result.approved


def test_nobody_taking_part_approves_nothing_even_at_three_quarters():
    result = tally(one_flat_each("10.00", "10.00"), {}, 6)
    assert result.participating_owners == 0
    assert not result.approval_area_met and not result.approval_owners_met and not result.approved


# ---- headcount -----------------------------------------------------------------------------


def test_all_developer_held_units_together_are_one_owner():
    developer = [developer_unit(f"d{i}", "150.00") for i in (1, 2, 3)]
    units = [*developer, flat("1", "Alice"), flat("2", "Bob")]
    result = tally(units, {"d1": AGREE, "d2": AGREE, "d3": AGREE}, 5)
    assert result.total_owners == 3  # the developer, Alice, Bob
    assert result.total_area == Decimal("650.00")
    assert result.participating_owners == 1
    assert result.participating_area == Decimal("450.00")
    # 1 of 3 heads: a developer with most of the area cannot decide alone
    assert result.quorum_area_met and not result.quorum_owners_met and not result.approved


def test_the_developer_group_speaks_with_one_voice():
    units = [developer_unit("d1"), developer_unit("d2"), flat("1", "Alice")]
    with pytest.raises(TallyError) as caught:
        tally(units, [("d1", AGREE), ("d2", DISAGREE)], 5)
    assert caught.value.code == "owner_conflict"
    assert caught.value.units == ("d1", "d2")
    assert "developer" in caught.value.message


def test_an_owner_of_several_units_is_one_head_with_the_full_area():
    units = [flat("1", "Alice", "80.00"), flat("2", "Alice", "70.50"), flat("3", "Bob", "60.00")]
    result = tally(units, {"1": AGREE, "2": AGREE, "3": DISAGREE}, 5)
    assert result.total_owners == 2
    assert result.total_area == Decimal("210.50")
    assert (result.agree_owners, result.agree_area) == (1, Decimal("150.50"))
    # one head each: 2 × 1 = 2, not more than 2
    assert result.approval_area_met and not result.approval_owners_met and not result.approved


def test_an_owner_who_votes_for_one_of_two_units_takes_part_with_that_unit_only():
    units = [flat("1", "Alice", "80.00"), flat("2", "Alice", "70.50"), flat("3", "Bob", "60.00")]
    result = tally(units, {"1": AGREE}, 5)
    assert result.participating_owners == 1
    assert result.participating_area == Decimal("80.00")
    assert result.participating_units == 1


def test_a_co_owned_unit_is_one_owner():
    # Charlie and Dora own flat 3 together; the register gives the couple one owner_id.
    units = [flat("1", "Alice"), flat("2", "Bob"), flat("3", "Charlie+Dora")]
    result = tally(units, {"3": AGREE, "1": AGREE}, 5)
    assert result.total_owners == 3
    assert result.participating_owners == 2 and result.quorum_owners_met


def test_parking_is_left_out_of_area_and_headcount_by_default():
    units = [
        flat("1", "Alice", "90.00"),
        flat("2", "Bob", "90.00"),
        flat("3", "Charlie", "90.00"),
        flat("P1", "Alice", "15.00", "parking"),
        flat("P2", "Ed", "15.00", "parking"),  # Ed holds only a parking space
    ]
    result = tally(units, {"1": AGREE, "2": AGREE, "P2": AGREE}, 5)
    assert result.total_area == Decimal("270.00")
    assert result.total_owners == 3  # Ed is no head while parking is left out
    assert (result.excluded_parking_units, result.excluded_parking_area) == (2, Decimal("30.00"))
    assert result.ignored_parking_ballots == 1
    assert result.participating_owners == 2 and result.quorum_met


def test_parking_counts_when_the_compound_includes_it():
    units = [
        flat("1", "Alice", "90.00"),
        flat("2", "Bob", "90.00"),
        flat("3", "Charlie", "90.00"),
        flat("P1", "Alice", "15.00", "parking"),
        flat("P2", "Ed", "15.00", "parking"),
    ]
    result = tally(units, {"1": AGREE, "2": AGREE, "P2": AGREE}, 5, include_parking=True)
    assert result.total_area == Decimal("300.00")
    assert result.total_owners == 4
    assert result.excluded_parking_units == 0 and result.ignored_parking_ballots == 0
    assert result.participating_owners == 3 and result.participating_area == Decimal("195.00")


def test_an_owner_cannot_vote_two_ways_for_two_units():
    units = [flat("1", "Alice"), flat("2", "Alice"), flat("3", "Bob")]
    with pytest.raises(TallyError) as caught:
        tally(units, {"1": AGREE, "2": ABSTAIN}, 5)
    error = caught.value
    assert (error.code, error.owner, error.units, error.unit) == ("owner_conflict", "Alice", ("1", "2"), "2")
    assert "'Alice'" in error.message and "'1'" in error.message and "'2'" in error.message


# ---- refused input -------------------------------------------------------------------------


def test_a_ballot_for_a_unit_outside_the_electorate_is_refused():
    with pytest.raises(TallyError) as caught:
        tally([flat("1", "Alice")], [("1", AGREE), ("9-901", AGREE)], 5)
    assert (caught.value.code, caught.value.unit, caught.value.index) == ("unknown_unit", "9-901", 1)
    assert "9-901" in caught.value.message


def test_a_second_ballot_for_one_unit_is_refused_even_when_it_agrees():
    with pytest.raises(TallyError) as caught:
        tally([flat("1", "Alice")], [("1", AGREE), ("1", AGREE)], 5)
    assert (caught.value.code, caught.value.unit, caught.value.source) == ("duplicate_ballot", "1", "ballots")


def test_a_choice_that_is_no_choice_is_refused():
    with pytest.raises(TallyError) as caught:
        tally([flat("1", "Alice")], [("1", "yes")], 5)  # type: ignore[list-item]
    assert caught.value.code == "bad_choice"


def test_a_choice_may_be_given_as_its_text():
    assert tally([flat("1", "Alice")], [("1", "agree")], 5).approved  # type: ignore[list-item]


@pytest.mark.parametrize(
    "area", [Decimal("10.005"), Decimal("0"), Decimal("-1.00"), Decimal("NaN"), Decimal("Infinity"), 10.5]
)
def test_an_area_that_is_not_a_positive_number_of_hundredths_is_refused(area):
    with pytest.raises(TallyError) as caught:
        tally([VoterUnit("1", "Alice", area, "residential")], {}, 5)
    assert (caught.value.code, caught.value.unit, caught.value.source) == ("bad_area", "1", "units")


def test_trailing_zeros_beyond_two_decimals_are_the_same_area():
    result = tally([VoterUnit("1", "Alice", Decimal("10.500"), "residential")], {"1": AGREE}, 5)
    assert result.total_area == Decimal("10.50")
    assert result.to_dict()["total_area"] == "10.50"


def test_a_unit_listed_twice_or_of_an_unknown_kind_or_without_owner_is_refused():
    cases = [
        ([flat("1", "Alice"), flat("1", "Bob")], "duplicate_unit"),
        ([flat("1", "Alice", kind="garden")], "bad_kind"),
        ([flat("1", "")], "bad_owner"),
        ([flat("", "Alice")], "bad_unit"),
    ]
    for units, code in cases:
        with pytest.raises(TallyError) as caught:
            tally(units, {}, 5)
        assert caught.value.code == code


def test_a_developer_held_unit_needs_no_owner_id():
    unit = VoterUnit("d1", "", Decimal("50.00"), "commercial", developer_held=True)
    assert tally([unit], {"d1": AGREE}, 5).approved


# ---- deemed votes (随多数) ------------------------------------------------------------------


def test_deemed_votes_are_reported_beside_the_strict_result_and_flag_a_pass_they_alone_carry():
    units = one_flat_each("10.00", "10.00", "10.00", "10.00", "10.00", "10.00")
    result = tally(units, {"1": AGREE, "2": AGREE, "3": DISAGREE}, 5, deemed_votes=True)
    assert not result.quorum_met and not result.approved  # 3 of 6 took part
    deemed = result.deemed
    assert deemed is not None
    assert deemed.deemed_side is AGREE
    assert (deemed.deemed_area, deemed.deemed_owners) == (Decimal("30.00"), 3)
    assert deemed.participating_owners == 6 and deemed.participating_area == Decimal("60.00")
    assert (deemed.agree_owners, deemed.agree_area) == (5, Decimal("50.00"))
    assert deemed.quorum_met and deemed.approved
    assert result.passes_only_with_deemed
    data = result.to_dict()
    assert data["passes_only_with_deemed"] is True
    assert data["deemed"]["deemed_side"] == "agree"
    assert data["approved"] is False and data["deemed"]["approved"] is True


def test_deemed_votes_go_to_disagree_when_it_leads_by_area_and_heads():
    units = one_flat_each("10.00", "10.00", "10.00", "10.00", "10.00", "10.00")
    result = tally(units, {"1": AGREE, "2": DISAGREE, "3": DISAGREE, "4": DISAGREE}, 5, deemed_votes=True)
    assert result.deemed is not None and result.deemed.deemed_side is DISAGREE
    assert result.deemed.disagree_owners == 5 and not result.deemed.approved
    assert not result.passes_only_with_deemed


def test_when_area_and_heads_lead_to_different_sides_no_vote_is_deemed():
    units = [flat("big", "Alice", "500.00"), *one_flat_each("10.00", "10.00", "10.00", "10.00")]
    result = tally(units, {"big": AGREE, "1": DISAGREE, "2": DISAGREE}, 5, deemed_votes=True)
    deemed = result.deemed
    assert deemed is not None
    assert deemed.deemed_side is None
    assert (deemed.deemed_area, deemed.deemed_owners) == (Decimal("0.00"), 0)
    assert deemed.participating_owners == result.participating_owners
    assert deemed.approved == result.approved and not result.passes_only_with_deemed
    assert result.to_dict()["deemed"]["deemed_side"] is None


def test_a_tie_deems_no_vote():
    units = one_flat_each("10.00", "10.00", "10.00", "10.00")
    result = tally(units, {"1": AGREE, "2": DISAGREE}, 5, deemed_votes=True)
    assert result.deemed is not None and result.deemed.deemed_side is None


def test_deemed_votes_count_the_unballoted_flat_of_an_owner_who_voted():
    units = [flat("1", "Alice", "80.00"), flat("2", "Alice", "70.00"), flat("3", "Bob", "60.00")]
    result = tally(units, {"1": AGREE, "3": DISAGREE}, 5, deemed_votes=True)
    # agree 80.00 > 60.00 by area, but 1 = 1 by heads: no side, nothing deemed
    assert result.deemed is not None and result.deemed.deemed_side is None
    units.append(flat("4", "Charlie", "10.00"))
    result = tally(units, {"1": AGREE, "4": AGREE, "3": DISAGREE}, 5, deemed_votes=True)
    assert result.deemed is not None and result.deemed.deemed_side is AGREE
    # flat 2 (Alice's, no ballot) is deemed area; Alice herself already took part
    assert (result.deemed.deemed_area, result.deemed.deemed_owners) == (Decimal("70.00"), 0)
    assert result.deemed.participating_area == result.total_area


def test_without_deemed_votes_the_result_has_no_deemed_part():
    result = tally(one_flat_each("10.00"), {"1": AGREE}, 5)
    assert result.deemed is None
    assert "deemed" not in result.to_dict()


# ---- the result as data and as arithmetic ---------------------------------------------------


def test_to_dict_gives_areas_with_two_decimals_heads_as_ints_and_exact_ratios():
    units = one_flat_each("100.01", "100.01", "100.01")
    data = tally(units, {"1": AGREE, "2": DISAGREE}, 6).to_dict()
    assert json.loads(json.dumps(data)) == data
    for key in ("matter", "total_area", "total_owners", "participating_area", "participating_owners"):
        assert key in data
    assert data["total_area"] == "300.03" and data["participating_area"] == "200.02"
    assert data["agree_owners"] == 1 and data["quorum_met"] is True and data["approved"] is False
    assert data["ratios"]["participating_owners"] == {"ratio": "2/3", "percent": "66.66"}
    assert data["ratios"]["agree_area"] == {"ratio": "1/2", "percent": "50.00"}
    assert data["thresholds"]["approval"] == {"ratio": "3/4", "percent": "75.00", "inclusive": True}
    assert data["thresholds"]["quorum"]["inclusive"] is True


def test_explain_shows_the_cross_multiplication_of_each_judgement():
    units = one_flat_each("100.01", "100.01", "100.01")
    lines = explain(tally(units, {"1": AGREE, "2": AGREE}, 6))
    shown = [template % values for template, values in lines]
    assert (
        "Participating area 200.02 m² of 300.03 m²: 3 × 200.02 = 600.06 ≥ 2 × 300.03 = 600.06, "
        "so the area quorum is met"
    ) in shown
    assert "Participating owners 2 of 3: 3 × 2 = 6 ≥ 2 × 3 = 6, so the headcount quorum is met" in shown
    assert any("4 × 200.02 = 800.08 ≥ 3 × 200.02 = 600.06" in line for line in shown)
    assert shown[-1] == "Matter 6 is approved"


def test_explain_says_why_exactly_half_fails():
    lines = explain(tally(one_flat_each("50.00", "50.00"), {"1": AGREE, "2": DISAGREE}, 5))
    shown = [template % values for template, values in lines]
    assert any("2 × 50.00 = 100.00 ≤ 100.00, so no more than half" in line for line in shown)
    assert shown[-1] == "Matter 5 is not approved"


def test_explain_uses_only_the_module_templates_and_every_placeholder_is_filled():
    units = [
        flat("big", "Alice", "500.00"),
        flat("P1", "Bob", "12.00", "parking"),
        *one_flat_each("10.00", "10.00", "10.00"),
    ]
    results = [
        tally(units, {"1": AGREE, "2": AGREE}, 5, deemed_votes=True),
        tally(units, {"big": AGREE, "1": DISAGREE}, 7, deemed_votes=True, include_parking=True),
        tally(units, {"1": SPOILED, "2": DISAGREE, "big": DISAGREE}, 2, deemed_votes=True),
        tally(units, {}, 8, deemed_votes=True),
        tally([], {}, 1, deemed_votes=True),
    ]
    used = set()
    for result in results:
        for template, values in explain(result):
            assert template in EXPLAIN_TEMPLATES
            used.add(template)
            text = template % values
            assert "%(" not in text
            assert set(re.findall(r"%\((\w+)\)s", template)) <= set(values)
    assert tally_module.PASSES_ONLY_WITH_DEEMED in used
    assert tally_module.DEEMED_NONE in used
    assert tally_module.NO_ELECTORATE in used


def test_the_explanation_templates_are_module_constants_with_named_placeholders_only():
    assert len(set(EXPLAIN_TEMPLATES)) == len(EXPLAIN_TEMPLATES)
    for template in EXPLAIN_TEMPLATES:
        assert re.sub(r"%\(\w+\)s", "", template).count("%") == 0
