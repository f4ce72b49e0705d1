"""Properties of the tally over generated electorates (hypothesis; derandomized by the profile).

The reference at the bottom recomputes every figure independently, with ``Fraction`` ratios
compared against the thresholds directly, from nothing but the rules in DOMAIN.md §2.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from hypothesis import assume, given
from hypothesis import strategies as st

from gongzhi.decisions.tally import Choice, TallyResult, VoterUnit, tally

AGREE, DISAGREE = Choice.AGREE, Choice.DISAGREE
AREA = re.compile(r"[0-9]+\.[0-9]{2}")


@dataclass
class Election:
    units: list[VoterUnit]
    ballots: dict[str, Choice]
    matter: int
    include_parking: bool
    deemed_votes: bool


def owner_key(unit: VoterUnit) -> tuple[str, ...]:
    return ("developer",) if unit.developer_held else ("owner", unit.owner_id)


def hundredths(n: int) -> Decimal:
    return Decimal(n).scaleb(-2)


@st.composite
def elections(draw: st.DrawFn, max_units: int = 24) -> Election:
    owners = [f"owner{i}" for i in range(draw(st.integers(1, 8)))]
    units = []
    for i in range(draw(st.integers(0, max_units))):
        units.append(
            VoterUnit(
                unit_id=f"u{i}",
                owner_id=draw(st.sampled_from(owners)),
                area=hundredths(draw(st.integers(1, 30_000))),
                kind=draw(st.sampled_from(["residential", "residential", "commercial", "parking"])),
                developer_held=draw(st.integers(0, 5)) == 0,
            )
        )
    # One will per owner (the developer group being one owner), cast for some of their units;
    # the mood of the compound varies, so that passes, fails and missed quorums all come up.
    mood = [None] * draw(st.integers(0, 2)) + [AGREE] * draw(st.integers(0, 6)) + list(Choice)
    will: dict[tuple[str, ...], Choice | None] = {}
    for key in sorted({owner_key(u) for u in units}):
        will[key] = draw(st.sampled_from(mood))
    ballots = {}
    for unit in units:
        choice = will[owner_key(unit)]
        if choice is not None and draw(st.integers(0, 7)) > 0:
            ballots[unit.unit_id] = choice
    return Election(units, ballots, draw(st.integers(1, 9)), draw(st.booleans()), draw(st.booleans()))


def run(election: Election, **changes: object) -> TallyResult:
    args: dict[str, object] = {
        "units": election.units,
        "ballots": election.ballots,
        "matter": election.matter,
        "include_parking": election.include_parking,
        "deemed_votes": election.deemed_votes,
    } | changes
    return tally(
        args["units"],  # type: ignore[arg-type]
        args["ballots"],  # type: ignore[arg-type]
        args["matter"],  # type: ignore[arg-type]
        include_parking=bool(args["include_parking"]),
        deemed_votes=bool(args["deemed_votes"]),
    )


# ---- monotonicity and symmetry --------------------------------------------------------------


@given(elections(), st.data())
def test_an_extra_agree_ballot_never_turns_a_pass_into_a_fail(election, data):
    before = run(election)
    agreeing_or_silent = {
        owner_key(u)
        for u in election.units
        if all(
            election.ballots.get(v.unit_id, AGREE) is AGREE
            for v in election.units
            if owner_key(v) == owner_key(u)
        )
    }
    candidates = [
        u.unit_id
        for u in election.units
        if u.unit_id not in election.ballots and owner_key(u) in agreeing_or_silent
    ]
    assume(candidates)
    extra = data.draw(st.sampled_from(candidates))
    after = run(election, ballots={**election.ballots, extra: AGREE})
    if before.approved:
        assert after.approved
    if before.quorum_met:
        assert after.quorum_met


@given(elections(), st.data())
def test_an_owner_turning_from_agree_to_disagree_never_turns_a_fail_into_a_pass(election, data):
    agreeing = sorted({owner_key(u) for u in election.units if election.ballots.get(u.unit_id) is AGREE})
    assume(agreeing)
    turncoat = data.draw(st.sampled_from(agreeing))
    ballots = {
        unit.unit_id: DISAGREE if owner_key(unit) == turncoat else election.ballots[unit.unit_id]
        for unit in election.units
        if unit.unit_id in election.ballots
    }
    before, after = run(election), run(election, ballots=ballots)
    if not before.approved:
        assert not after.approved
    assert after.quorum_met == before.quorum_met


@given(elections(), st.data())
def test_the_result_does_not_depend_on_the_order_of_units_or_ballots(election, data):
    units = data.draw(st.permutations(election.units))
    pairs = data.draw(st.permutations(sorted(election.ballots.items())))
    assert run(election, units=units, ballots=pairs).to_dict() == run(election).to_dict()


@given(elections())
def test_units_and_ballots_may_be_generators_read_once(election):
    once = run(election, units=iter(election.units), ballots=iter(list(election.ballots.items())))
    assert once == run(election)


# ---- boundaries ----------------------------------------------------------------------------


def owners_with(area: int, count: int, prefix: str = "o") -> list[VoterUnit]:
    return [VoterUnit(f"{prefix}{i}", f"{prefix}{i}", hundredths(area), "residential") for i in range(count)]


@given(st.integers(1, 30), st.integers(1, 100_000), st.integers(1, 9))
def test_exactly_two_thirds_taking_part_meets_the_quorum_and_one_fewer_does_not(k, area, matter):
    units = owners_with(area, 3 * k)
    exactly = tally(units, {f"o{i}": AGREE for i in range(2 * k)}, matter)
    assert exactly.quorum_area_met and exactly.quorum_owners_met and exactly.approved
    short = tally(units, {f"o{i}": AGREE for i in range(2 * k - 1)}, matter)
    assert not short.quorum_area_met and not short.quorum_owners_met and not short.approved


@given(st.integers(1, 20), st.integers(1, 100_000), st.sampled_from([6, 7, 8]))
def test_exactly_three_quarters_agreeing_passes_matters_six_to_eight_and_one_fewer_fails(m, area, matter):
    units = owners_with(area, 4 * m)
    exactly = {f"o{i}": AGREE if i < 3 * m else DISAGREE for i in range(4 * m)}
    assert tally(units, exactly, matter).approved
    below = {f"o{i}": AGREE if i < 3 * m - 1 else DISAGREE for i in range(4 * m)}
    result = tally(units, below, matter)
    assert not result.approval_area_met and not result.approval_owners_met and not result.approved


@given(st.integers(1, 20), st.integers(1, 100_000), st.sampled_from([1, 2, 3, 4, 5, 9]))
def test_exactly_half_agreeing_fails_ordinary_matters_and_one_more_passes(m, area, matter):
    units = owners_with(area, 2 * m)
    half = {f"o{i}": AGREE if i < m else DISAGREE for i in range(2 * m)}
    result = tally(units, half, matter)
    assert not result.approval_area_met and not result.approval_owners_met and not result.approved
    more = {f"o{i}": AGREE if i <= m else DISAGREE for i in range(2 * m)}
    assert tally(units, more, matter).approved


@given(st.lists(st.integers(1, 50_000), min_size=1, max_size=6), st.sampled_from([1, 5, 9]))
def test_one_hundredth_of_a_square_metre_decides_half_of_the_area(areas, matter):
    """Agreeing owners (one more than disagreeing ones) hold exactly the disagreeing area,
    then 0.01 m² more."""
    total = sum(areas)
    against = VoterUnit("against", "Zed", hundredths(total), "residential")
    spread = [VoterUnit(f"for{i}", f"for{i}", hundredths(a), "residential") for i, a in enumerate(areas)]
    extra = VoterUnit("tip", "Tip", hundredths(1), "residential")
    ballots = {u.unit_id: AGREE for u in spread} | {"against": DISAGREE}
    # heads: len(areas) agree vs 1 against; area: equal, so never more than half
    tie = tally([*spread, against], ballots, matter)
    assert not tie.approval_area_met and not tie.approved
    tipped = tally([*spread, against, extra], ballots | {"tip": AGREE}, matter)
    assert tipped.approval_area_met and tipped.approved


# ---- against an independent reference --------------------------------------------------------


def reference(election: Election) -> dict[str, object]:
    """Every figure again, from the rules alone, with Fractions compared to the thresholds."""
    counted = [u for u in election.units if election.include_parking or u.kind != "parking"]
    total_area = sum((Fraction(u.area) for u in counted), Fraction(0))
    owners = {owner_key(u) for u in counted}
    voted = [u for u in counted if u.unit_id in election.ballots]
    will = {owner_key(u): election.ballots[u.unit_id] for u in voted}
    part_area = sum((Fraction(u.area) for u in voted), Fraction(0))

    def area_for(*choices: Choice) -> Fraction:
        return sum((Fraction(u.area) for u in voted if election.ballots[u.unit_id] in choices), Fraction(0))

    def heads_for(*choices: Choice) -> int:
        return sum(1 for choice in will.values() if choice in choices)

    inclusive = election.matter in (6, 7, 8)

    def judge(part_a: Fraction, part_h: int, agree_a: Fraction, agree_h: int) -> dict[str, bool]:
        quorum_area = total_area > 0 and part_a / total_area >= Fraction(2, 3)
        quorum_heads = len(owners) > 0 and Fraction(part_h, len(owners)) >= Fraction(2, 3)

        def approves(agree: Fraction, part: Fraction) -> bool:
            if part == 0:
                return False
            return agree / part >= Fraction(3, 4) if inclusive else agree / part > Fraction(1, 2)

        approval_area = approves(agree_a, part_a)
        approval_heads = approves(Fraction(agree_h), Fraction(part_h))
        return {
            "quorum_met": quorum_area and quorum_heads,
            "approval_area_met": approval_area,
            "approval_owners_met": approval_heads,
            "approved": quorum_area and quorum_heads and approval_area and approval_heads,
        }

    agree_a, agree_h = area_for(AGREE), heads_for(AGREE)
    disagree_a, disagree_h = area_for(DISAGREE), heads_for(DISAGREE)
    expected: dict[str, object] = {
        "total_area": total_area,
        "total_owners": len(owners),
        "participating_area": part_area,
        "participating_owners": len(will),
        "agree_area": agree_a,
        "agree_owners": agree_h,
        "disagree_area": disagree_a,
        "disagree_owners": disagree_h,
        "abstain_area": area_for(Choice.ABSTAIN, Choice.SPOILED),
        "abstain_owners": heads_for(Choice.ABSTAIN, Choice.SPOILED),
        "spoiled_area": area_for(Choice.SPOILED),
        **judge(part_area, len(will), agree_a, agree_h),
    }
    if election.deemed_votes:
        if agree_a > disagree_a and agree_h > disagree_h:
            side = AGREE
        elif disagree_a > agree_a and disagree_h > agree_h:
            side = DISAGREE
        else:
            side = None
        if side is None:
            deemed = judge(part_area, len(will), agree_a, agree_h)
        elif side is AGREE:
            deemed = judge(
                total_area, len(owners), agree_a + total_area - part_area, agree_h + len(owners) - len(will)
            )
        else:
            deemed = judge(total_area, len(owners), agree_a, agree_h)
        expected["deemed"] = {"deemed_side": side, **deemed}
        expected["passes_only_with_deemed"] = deemed["approved"] and not expected["approved"]
    return expected


@given(elections(max_units=40))
def test_the_tally_equals_an_independent_reference(election):
    result = run(election)
    expected = reference(election)
    for name, value in expected.items():
        if name == "deemed":
            assert isinstance(value, dict) and result.deemed is not None
            for deemed_name, deemed_value in value.items():
                assert getattr(result.deemed, deemed_name) == deemed_value, deemed_name
            continue
        assert getattr(result, name) == value, name


# ---- the result as data ----------------------------------------------------------------------


def leaves(value: object, path: str = "") -> list[tuple[str, object]]:
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in leaves(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [leaf for i, item in enumerate(value) for leaf in leaves(item, f"{path}[{i}]")]
    return [(path, value)]


@given(elections())
def test_to_dict_holds_no_float_and_areas_have_exactly_two_decimals(election):
    data = run(election).to_dict()
    assert json.loads(json.dumps(data)) == data
    for path, value in leaves(data):
        assert not isinstance(value, float), path
        assert value is None or isinstance(value, str | int | bool), path
        if ".ratios." in path:
            assert value is None or isinstance(value, str), path
            continue
        if path.endswith("_area"):
            assert isinstance(value, str) and AREA.fullmatch(value), (path, value)
        if path.endswith("_owners") or path.endswith("_units"):
            assert isinstance(value, int) and not isinstance(value, bool), path


@given(elections())
def test_percentages_are_the_exact_ratio_cut_to_two_decimals(election):
    data = run(election).to_dict()
    for name, ratio in data["ratios"].items():
        if ratio is None:
            continue
        numerator, denominator = (int(n) for n in ratio["ratio"].split("/"))
        share = Fraction(numerator, denominator) * 100
        percent = Fraction(Decimal(ratio["percent"]))
        assert percent <= share < percent + Fraction(1, 100), name
