"""Tally of an owners' vote under Civil Code Art. 278, in exact arithmetic (no Django here).

The rules (docs: DOMAIN.md §2):

- **Quorum**, of ALL owners: the participants hold at least 2/3 of the total exclusive area
  AND are at least 2/3 of the headcount (``3 × part ≥ 2 × total``, both).
- **Approval**, of the PARTICIPANTS: matters 6, 7 and 8 need at least 3/4 of the
  participating area AND headcount (``4 × agree ≥ 3 × part``); every other matter needs more
  than half of both (``2 × agree > part``: exactly half fails).
- **Headcount** (SPC interpretation on building ownership, Arts. 8–9): one exclusive unit is
  one owner, keyed by ``owner_id``, so co-owners (who share one ``owner_id``) are one head and
  an owner of several units is one head whose area counts in full. All developer-held units
  together are ONE head, whatever their ``owner_id``; a unit is developer-held or not by its
  flag alone, so a developer's unit without the flag counts under its ``owner_id``.
- **Parking** units (``kind == "parking"``) are left out of area and headcount unless
  ``include_parking``; an owner holding only parking is then no head. Ballots for left-out
  parking units are not errors: they are ignored and counted in ``ignored_parking_ballots``.
- **Participation** is by unit: the participating area is the sum of the areas of the units
  that have a ballot, so an owner of several units who returned a ballot for only one of them
  contributes that unit's area alone (and one head). Abstentions and spoiled ballots are
  participation without agreement; spoiled ballots are also counted on their own.
- One owner's ballots must all carry the same choice (an owner has one will); ballots that
  differ are refused, not reconciled.
- **Deemed votes** (随多数, only where the compound's adopted rules contain it): the area on
  no ballot and the owners with no ballot are added to the majority side of the votes cast,
  which is agree when agree beats disagree by BOTH area and headcount, disagree when
  disagree beats agree by both, and none otherwise (then nothing is added). The area on no
  ballot includes the unballoted units of an owner who voted for another unit, so that the
  deemed result has every unit and every owner taking part. The strict result is always
  reported beside it, and ``passes_only_with_deemed`` flags a matter the deemed votes carry.

Areas are ``Decimal`` square metres with at most two decimal places; they are summed as
integer hundredths of a square metre and compared by integer cross-multiplication, so no
result depends on rounding. No float is used anywhere, percentages included.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any, NamedTuple

__all__ = [
    "KINDS",
    "Choice",
    "DeemedResult",
    "TallyError",
    "TallyResult",
    "Thresholds",
    "VoterUnit",
    "tally",
    "thresholds",
]


class Choice(StrEnum):
    AGREE = "agree"
    DISAGREE = "disagree"
    ABSTAIN = "abstain"
    SPOILED = "spoiled"  # an unmarked or spoiled ballot: participation with abstention


KINDS = ("residential", "commercial", "parking")
PARKING = "parking"
MATTERS = range(1, 10)  # Art. 278 (1)–(9)
APPROVAL_INCLUSIVE_MATTERS = frozenset({6, 7, 8})  # raise the fund, rebuild, change common parts
QUORUM = Fraction(2, 3)
DEVELOPER_LABEL = "developer-held units"  # the developer group in messages (its key is None)
# Areas (in hundredths, each below 10^39) are turned back into m² under this context; any
# rounding at all would raise rather than pass unseen.
_EXACT = decimal.Context(prec=64, traps=[decimal.InvalidOperation, decimal.Inexact, decimal.Rounded])


class TallyError(ValueError):
    """Input the tally refuses: ``code`` says what is wrong, the other fields say where.

    Codes: ``bad_matter``, ``bad_unit``, ``duplicate_unit``, ``bad_kind``, ``bad_area``,
    ``bad_owner`` (units); ``bad_choice``, ``unknown_unit``, ``duplicate_ballot``,
    ``owner_conflict`` (ballots). ``source`` is ``"units"``, ``"ballots"`` or None (the
    matter) and ``index`` the 0-based position of the offending item in that input as
    iterated. ``row`` stays None here; a reader of files (``tally_io``) sets the file's row.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        source: str | None = None,
        index: int | None = None,
        unit: str | None = None,
        owner: str | None = None,
        units: tuple[str, ...] = (),
        row: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.source, self.index = code, message, source, index
        self.unit, self.owner, self.units, self.row = unit, owner, units, row


@dataclass(frozen=True, slots=True)
class VoterUnit:
    unit_id: str
    owner_id: str  # co-owners of a unit share one owner_id
    area: Decimal  # m², positive, at most two decimal places
    kind: str  # residential | commercial | parking
    developer_held: bool = False


class Thresholds(NamedTuple):
    quorum: Fraction  # of total area and of total headcount, inclusive
    approval: Fraction  # of participating area and headcount
    approval_inclusive: bool  # True: at least (以上); False: more than (过半数)


def thresholds(matter: int) -> Thresholds:
    """The quorum and approval thresholds of Art. 278 matter ``matter`` (1–9)."""
    if isinstance(matter, bool) or not isinstance(matter, int) or matter not in MATTERS:
        raise TallyError("bad_matter", f"matter must be an integer from 1 to 9, not {matter!r}")
    if matter in APPROVAL_INCLUSIVE_MATTERS:
        return Thresholds(QUORUM, Fraction(3, 4), True)
    return Thresholds(QUORUM, Fraction(1, 2), False)


def _reaches(part: int | Decimal, whole: int | Decimal, threshold: Fraction, inclusive: bool) -> bool:
    """``part / whole`` reaches ``threshold`` (``≥``, or ``>`` unless ``inclusive``), by
    cross-multiplication; never of an empty whole (no quorum of nobody, no approval by none)."""
    if whole <= 0:
        return False
    lhs, rhs = threshold.denominator * part, threshold.numerator * whole
    return lhs >= rhs if inclusive else lhs > rhs


# ---- results -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeemedResult:
    """The result with deemed votes (随多数) added to the majority side of the votes cast."""

    deemed_side: Choice | None  # None: agree and disagree split or tie, so nothing was added
    deemed_area: Decimal
    deemed_owners: int
    participating_area: Decimal
    participating_owners: int
    agree_area: Decimal
    agree_owners: int
    disagree_area: Decimal
    disagree_owners: int
    abstain_area: Decimal
    abstain_owners: int
    quorum_area_met: bool
    quorum_owners_met: bool
    quorum_met: bool
    approval_area_met: bool
    approval_owners_met: bool
    approved: bool


@dataclass(frozen=True, slots=True)
class TallyResult:
    """Every number of one tally and every judgement made from them.

    ``*_area`` fields are m² (``Decimal`` with two decimal places), ``*_owners`` headcounts.
    ``abstain_*`` includes the spoiled ballots, which ``spoiled_*`` also counts alone.
    ``parking_*`` counts every parking unit listed; ``excluded_parking_*`` those left out.
    """

    matter: int
    quorum_threshold: Fraction
    approval_threshold: Fraction
    approval_inclusive: bool
    deemed_votes: bool
    include_parking: bool
    total_units: int
    total_area: Decimal
    total_owners: int
    parking_units: int
    parking_area: Decimal
    excluded_parking_units: int
    excluded_parking_area: Decimal
    ignored_parking_ballots: int
    participating_units: int
    participating_area: Decimal
    participating_owners: int
    agree_area: Decimal
    agree_owners: int
    disagree_area: Decimal
    disagree_owners: int
    abstain_area: Decimal
    abstain_owners: int
    spoiled_area: Decimal
    spoiled_owners: int
    quorum_area_met: bool
    quorum_owners_met: bool
    quorum_met: bool
    approval_area_met: bool
    approval_owners_met: bool
    approved: bool
    passes_only_with_deemed: bool = False
    deemed: DeemedResult | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: areas as "1234.50", heads as int, ratios as "a/b" with a percentage text.

        ``deemed`` is there only when deemed votes were asked for.
        """
        data: dict[str, Any] = {
            "matter": self.matter,
            "thresholds": {
                "quorum": _threshold(self.quorum_threshold, True),
                "approval": _threshold(self.approval_threshold, self.approval_inclusive),
            },
            **_plain(self),
            "ratios": _ratios(self, self.total_area, self.total_owners),
        }
        if self.deemed is not None:
            ratios = _ratios(self.deemed, self.total_area, self.total_owners)
            data["deemed"] = {**_plain(self.deemed), "ratios": ratios}
        return data


def _area_text(area: Decimal) -> str:
    return f"{area:.2f}"


def _plain(result: TallyResult | DeemedResult) -> dict[str, Any]:
    """The result's own fields as JSON values (thresholds and the deemed part are done apart)."""
    data: dict[str, Any] = {}
    for field in fields(result):
        value = getattr(result, field.name)
        if isinstance(value, Fraction) or field.name == "deemed":
            continue
        if isinstance(value, Decimal):
            value = _area_text(value)
        elif isinstance(value, Choice):
            value = value.value
        data[field.name] = value
    return data


def _ratio(part: int | Decimal, whole: int | Decimal) -> dict[str, str]:
    """``{"ratio": "a/b", "percent": "66.66"}``: the exact reduced ratio, and its percentage cut
    (not rounded) to two decimals so that a percentage shown never overstates a share."""
    share = Fraction(part) / Fraction(whole)
    percent = Decimal(share.numerator * 10_000 // share.denominator).scaleb(-2, _EXACT)
    return {"ratio": f"{share.numerator}/{share.denominator}", "percent": _area_text(percent)}


def _threshold(threshold: Fraction, inclusive: bool) -> dict[str, Any]:
    return {**_ratio(threshold.numerator, threshold.denominator), "inclusive": inclusive}


def _ratios(result: TallyResult | DeemedResult, total_area: Decimal, total_owners: int) -> dict[str, Any]:
    """Shares of participation (of all) and of agreement (of participants); None of nobody."""
    pairs: dict[str, tuple[int | Decimal, int | Decimal]] = {
        "participating_area": (result.participating_area, total_area),
        "participating_owners": (result.participating_owners, total_owners),
        "agree_area": (result.agree_area, result.participating_area),
        "agree_owners": (result.agree_owners, result.participating_owners),
    }
    return {name: _ratio(part, whole) if whole else None for name, (part, whole) in pairs.items()}


def _m2(hundredths: int) -> Decimal:
    return Decimal(hundredths).scaleb(-2, _EXACT)


def _outcome(
    limits: Thresholds, total: tuple[int, int], part: tuple[int, int], agree: tuple[int, int]
) -> dict[str, Any]:
    """The quorum and approval judgements of (area in hundredths, heads) counts, as fields."""
    quorum_area = _reaches(part[0], total[0], limits.quorum, True)
    quorum_owners = _reaches(part[1], total[1], limits.quorum, True)
    approval_area = _reaches(agree[0], part[0], limits.approval, limits.approval_inclusive)
    approval_owners = _reaches(agree[1], part[1], limits.approval, limits.approval_inclusive)
    return {
        "participating_area": _m2(part[0]),
        "participating_owners": part[1],
        "agree_area": _m2(agree[0]),
        "agree_owners": agree[1],
        "quorum_area_met": quorum_area,
        "quorum_owners_met": quorum_owners,
        "quorum_met": quorum_area and quorum_owners,
        "approval_area_met": approval_area,
        "approval_owners_met": approval_owners,
        "approved": quorum_area and quorum_owners and approval_area and approval_owners,
    }


# ---- the tally -----------------------------------------------------------------------------

_OwnerKey = str | None  # the owner_id; None for the developer-held group


def _hundredths(area: object) -> int | None:
    """``area`` in integer hundredths of a m², or None unless it is a positive Decimal (or int)
    with at most two decimal places (zeros beyond them are fine: 1.500 is 1.50)."""
    if isinstance(area, Decimal):
        # Finite, and below 10^37 m² (the Earth has some 5 × 10^14), before it is made exact.
        if not area.is_finite() or area.adjusted() > 36:
            return None
    elif isinstance(area, bool) or not isinstance(area, int):
        return None
    numerator, denominator = area.as_integer_ratio()  # exact, reduced
    if numerator <= 0 or 100 % denominator:
        return None
    hundredths = numerator * (100 // denominator)
    return hundredths if hundredths < 10**39 else None


def _checked_area(unit: VoterUnit, index: int, electorate: Mapping[str, object]) -> int:
    """The unit's area in hundredths of a m², once the unit is found fit to vote."""
    unit_id, area = unit.unit_id, _hundredths(unit.area)
    problem = None
    if not isinstance(unit_id, str) or not unit_id:
        problem = "bad_unit", "a unit has no unit_id"
    elif unit_id in electorate:
        problem = "duplicate_unit", f"unit {unit_id!r} is listed twice"
    elif unit.kind not in KINDS:
        problem = "bad_kind", f"unit {unit_id!r} has kind {unit.kind!r}, not one of {', '.join(KINDS)}"
    elif area is None:
        problem = (
            "bad_area",
            (
                f"unit {unit_id!r} has area {unit.area!r}: an area is a positive number of m² "
                "with at most two decimal places"
            ),
        )
    elif not unit.developer_held and (not isinstance(unit.owner_id, str) or not unit.owner_id):
        problem = "bad_owner", f"unit {unit_id!r} has no owner_id"
    if problem is not None:
        raise TallyError(*problem, source="units", index=index, unit=unit_id or None)
    assert area is not None  # refused above otherwise
    return area


def _electorate(
    units: Iterable[VoterUnit], include_parking: bool
) -> tuple[dict[str, tuple[_OwnerKey, int] | None], dict[str, int]]:
    """unit_id → (owner key, area in hundredths), or None for a parking unit left out; and totals."""
    electorate: dict[str, tuple[_OwnerKey, int] | None] = {}
    owners: set[_OwnerKey] = set()
    units_counted = area_counted = parking_units = parking_area = 0
    for index, unit in enumerate(units):
        area = _checked_area(unit, index, electorate)
        key = None if unit.developer_held else unit.owner_id
        if unit.kind == PARKING:
            parking_units += 1
            parking_area += area
            if not include_parking:
                electorate[unit.unit_id] = None
                continue
        electorate[unit.unit_id] = (key, area)
        owners.add(key)
        units_counted += 1
        area_counted += area
    counts = {
        "units": units_counted,
        "area": area_counted,
        "owners": len(owners),
        "parking_units": parking_units,
        "parking_area": parking_area,
    }
    return electorate, counts


def _as_choice(value: object) -> Choice | None:
    """A ``Choice`` from its text ("agree" …), or None."""
    if not isinstance(value, str):
        return None
    try:
        return Choice(value)
    except ValueError:
        return None


def _refused_ballot(
    index: int, unit_id: str, raw_choice: object, electorate: Mapping[str, object]
) -> TallyError:
    """Why the ballot at ``index`` is refused: its choice, its unit, or a second ballot."""
    where: dict[str, Any] = {"source": "ballots", "index": index, "unit": unit_id}
    if _as_choice(raw_choice) is None:
        message = f"the ballot for unit {unit_id!r} says {raw_choice!r}, not one of {', '.join(Choice)}"
        return TallyError("bad_choice", message, **where)
    if unit_id not in electorate:
        return TallyError("unknown_unit", f"unit {unit_id!r} is not in the electorate", **where)
    return TallyError("duplicate_ballot", f"unit {unit_id!r} has a second ballot", **where)


def tally(
    units: Iterable[VoterUnit],
    ballots: Mapping[str, Choice] | Iterable[tuple[str, Choice]],
    matter: int,
    *,
    deemed_votes: bool = False,
    include_parking: bool = False,
) -> TallyResult:
    """Tally the ``ballots`` (unit_id → choice) of the electorate ``units`` on Art. 278 ``matter``.

    Both inputs are iterated once, units first, so either may be a generator reading a file.
    Raises ``TallyError`` for a matter outside 1–9, a unit listed twice or without id or
    owner, a bad area or kind, a choice that is not a ``Choice``, a ballot for a unit not
    listed, two ballots for one unit, and ballots of one owner (or of the developer-held
    group) with different choices. A pure function: it changes nothing; anyone may call it.
    """
    limits = thresholds(matter)
    electorate, counts = _electorate(units, include_parking)

    voted: set[str] = set()
    owner_choice: dict[_OwnerKey, tuple[Choice, str]] = {}  # owner -> (choice, first unit voted)
    area_of = dict.fromkeys(Choice, 0)
    ignored = 0
    pairs: Iterable[tuple[str, Choice]] = ballots.items() if isinstance(ballots, Mapping) else ballots
    for index, (unit_id, raw_choice) in enumerate(pairs):
        choice = raw_choice if raw_choice.__class__ is Choice else _as_choice(raw_choice)
        if choice is None or unit_id not in electorate or unit_id in voted:
            raise _refused_ballot(index, unit_id, raw_choice, electorate)
        voted.add(unit_id)
        entry = electorate[unit_id]
        if entry is None:
            ignored += 1  # a parking unit left out of the vote
            continue
        key, area = entry
        earlier = owner_choice.setdefault(key, (choice, unit_id))
        if earlier[0] is not choice:
            owner = DEVELOPER_LABEL if key is None else key
            who = f"the {DEVELOPER_LABEL}" if key is None else f"owner {key!r}"
            raise TallyError(
                "owner_conflict",
                f"{who} voted {earlier[0]} for unit {earlier[1]!r} but {choice} for unit {unit_id!r}",
                source="ballots",
                index=index,
                unit=unit_id,
                owner=owner,
                units=(earlier[1], unit_id),
            )
        area_of[choice] += area

    heads_of = dict.fromkeys(Choice, 0)
    for choice, _unit in owner_choice.values():
        heads_of[choice] += 1
    total = (counts["area"], counts["owners"])
    part = (sum(area_of.values()), len(owner_choice))
    agree = (area_of[Choice.AGREE], heads_of[Choice.AGREE])
    disagree = (area_of[Choice.DISAGREE], heads_of[Choice.DISAGREE])
    abstain = (
        area_of[Choice.ABSTAIN] + area_of[Choice.SPOILED],
        heads_of[Choice.ABSTAIN] + heads_of[Choice.SPOILED],
    )
    strict = _outcome(limits, total, part, agree)
    deemed = _deemed(limits, total, part, agree, disagree, abstain) if deemed_votes else None
    parking_left_out = (0, 0) if include_parking else (counts["parking_units"], counts["parking_area"])
    return TallyResult(
        matter=matter,
        quorum_threshold=limits.quorum,
        approval_threshold=limits.approval,
        approval_inclusive=limits.approval_inclusive,
        deemed_votes=deemed_votes,
        include_parking=include_parking,
        total_units=counts["units"],
        total_area=_m2(total[0]),
        total_owners=total[1],
        parking_units=counts["parking_units"],
        parking_area=_m2(counts["parking_area"]),
        excluded_parking_units=parking_left_out[0],
        excluded_parking_area=_m2(parking_left_out[1]),
        ignored_parking_ballots=ignored,
        participating_units=len(voted) - ignored,
        disagree_area=_m2(disagree[0]),
        disagree_owners=disagree[1],
        abstain_area=_m2(abstain[0]),
        abstain_owners=abstain[1],
        spoiled_area=_m2(area_of[Choice.SPOILED]),
        spoiled_owners=heads_of[Choice.SPOILED],
        passes_only_with_deemed=deemed is not None and deemed.approved and not strict["approved"],
        deemed=deemed,
        **strict,
    )


def _deemed(
    limits: Thresholds,
    total: tuple[int, int],
    part: tuple[int, int],
    agree: tuple[int, int],
    disagree: tuple[int, int],
    abstain: tuple[int, int],
) -> DeemedResult:
    """Everything on no ballot (area, and owners) added to the side leading by both measures."""
    if agree[0] > disagree[0] and agree[1] > disagree[1]:
        side: Choice | None = Choice.AGREE
    elif disagree[0] > agree[0] and disagree[1] > agree[1]:
        side = Choice.DISAGREE
    else:
        side = None
    extra = (total[0] - part[0], total[1] - part[1]) if side else (0, 0)

    def plus(counts: tuple[int, int], on: Choice) -> tuple[int, int]:
        return (counts[0] + extra[0], counts[1] + extra[1]) if side is on else counts

    deemed_disagree = plus(disagree, Choice.DISAGREE)
    return DeemedResult(
        deemed_side=side,
        deemed_area=_m2(extra[0]),
        deemed_owners=extra[1],
        disagree_area=_m2(deemed_disagree[0]),
        disagree_owners=deemed_disagree[1],
        abstain_area=_m2(abstain[0]),
        abstain_owners=abstain[1],
        **_outcome(limits, total, (part[0] + extra[0], part[1] + extra[1]), plus(agree, Choice.AGREE)),
    )
