"""The arithmetic behind a tally, line by line, for the result page and the public notice.

Pure like ``tally``: each line is an English template (a msgid) with its values; the web
page translates the template with gettext and fills it in.
"""

from __future__ import annotations

from decimal import Decimal

from gongzhi.decisions.tally import Choice, DeemedResult, TallyResult, _area_text, _reaches

__all__ = ["EXPLAIN_TEMPLATES", "ExplainLine", "explain"]


def gettext_noop(message: str) -> str:
    """Mark ``message`` for translation without translating it (this module imports no Django).

    ``makemessages`` extracts the calls of any function of this name, so the explanation
    templates below reach the catalogue; the web page translates them when it shows them.
    """
    return message


# ---- explanation ---------------------------------------------------------------------------
# Each line of ``explain`` is one of these templates (English msgids, marked for makemessages
# by ``gettext_noop`` above) with its values; the web page translates the template, then fills
# it in. Areas are given as "1234.50" text, headcounts as int.

ELECTORATE = gettext_noop(
    "Electorate: units %(units)s, exclusive area %(total_area)s m², owners %(total_owners)s"
)
PARKING_LEFT_OUT = gettext_noop(
    "Parking left out of the area and the headcount: units %(units)s, area %(area)s m²"
)
PARKING_COUNTED = gettext_noop(
    "Parking counted in the area and the headcount: units %(units)s, area %(area)s m²"
)
VOTES_CAST = gettext_noop(
    "Ballots: agree %(agree_area)s m², owners %(agree_owners)s; disagree %(disagree_area)s m², "
    "owners %(disagree_owners)s; abstain %(abstain_area)s m², owners %(abstain_owners)s "
    "(of which spoiled %(spoiled_area)s m², owners %(spoiled_owners)s)"
)
NO_ELECTORATE = gettext_noop("No unit is eligible to vote, so the quorum cannot be met")
QUORUM_AREA_MET = gettext_noop(
    "Participating area %(part)s m² of %(total)s m²: 3 × %(part)s = %(lhs)s ≥ 2 × %(total)s = %(rhs)s, "
    "so the area quorum is met"
)
QUORUM_AREA_NOT_MET = gettext_noop(
    "Participating area %(part)s m² of %(total)s m²: 3 × %(part)s = %(lhs)s < 2 × %(total)s = %(rhs)s, "
    "so the area quorum is not met"
)
QUORUM_OWNERS_MET = gettext_noop(
    "Participating owners %(part)s of %(total)s: 3 × %(part)s = %(lhs)s ≥ 2 × %(total)s = %(rhs)s, "
    "so the headcount quorum is met"
)
QUORUM_OWNERS_NOT_MET = gettext_noop(
    "Participating owners %(part)s of %(total)s: 3 × %(part)s = %(lhs)s < 2 × %(total)s = %(rhs)s, "
    "so the headcount quorum is not met"
)
NO_PARTICIPANTS = gettext_noop("Nobody took part, so the matter cannot be approved")
APPROVAL_AREA_3_4_MET = gettext_noop(
    "Agreeing area %(agree)s m² of %(part)s m² participating: 4 × %(agree)s = %(lhs)s ≥ "
    "3 × %(part)s = %(rhs)s, so at least three quarters of the participating area agree"
)
APPROVAL_AREA_3_4_NOT_MET = gettext_noop(
    "Agreeing area %(agree)s m² of %(part)s m² participating: 4 × %(agree)s = %(lhs)s < "
    "3 × %(part)s = %(rhs)s, so less than three quarters of the participating area agree"
)
APPROVAL_OWNERS_3_4_MET = gettext_noop(
    "Agreeing owners %(agree)s of %(part)s participating: 4 × %(agree)s = %(lhs)s ≥ "
    "3 × %(part)s = %(rhs)s, so at least three quarters of the participating owners agree"
)
APPROVAL_OWNERS_3_4_NOT_MET = gettext_noop(
    "Agreeing owners %(agree)s of %(part)s participating: 4 × %(agree)s = %(lhs)s < "
    "3 × %(part)s = %(rhs)s, so less than three quarters of the participating owners agree"
)
APPROVAL_AREA_HALF_MET = gettext_noop(
    "Agreeing area %(agree)s m² of %(part)s m² participating: 2 × %(agree)s = %(lhs)s > %(part)s, "
    "so more than half of the participating area agrees"
)
APPROVAL_AREA_HALF_NOT_MET = gettext_noop(
    "Agreeing area %(agree)s m² of %(part)s m² participating: 2 × %(agree)s = %(lhs)s ≤ %(part)s, "
    "so no more than half of the participating area agrees"
)
APPROVAL_OWNERS_HALF_MET = gettext_noop(
    "Agreeing owners %(agree)s of %(part)s participating: 2 × %(agree)s = %(lhs)s > %(part)s, "
    "so more than half of the participating owners agree"
)
APPROVAL_OWNERS_HALF_NOT_MET = gettext_noop(
    "Agreeing owners %(agree)s of %(part)s participating: 2 × %(agree)s = %(lhs)s ≤ %(part)s, "
    "so no more than half of the participating owners agree"
)
APPROVED = gettext_noop("Matter %(matter)s is approved")
NOT_APPROVED = gettext_noop("Matter %(matter)s is not approved")
DEEMED_AGREE = gettext_noop(
    "Deemed votes: the %(area)s m² and the owners (%(owners)s) without a ballot are counted as "
    "agreeing, the side that leads by both area and headcount"
)
DEEMED_DISAGREE = gettext_noop(
    "Deemed votes: the %(area)s m² and the owners (%(owners)s) without a ballot are counted as "
    "disagreeing, the side that leads by both area and headcount"
)
DEEMED_NONE = gettext_noop(
    "Deemed votes: neither agree nor disagree leads by both area and headcount, so no vote is deemed"
)
DEEMED_APPROVED = gettext_noop("With deemed votes, matter %(matter)s is approved")
DEEMED_NOT_APPROVED = gettext_noop("With deemed votes, matter %(matter)s is not approved")
PASSES_ONLY_WITH_DEEMED = gettext_noop(
    "Matter %(matter)s passes only with deemed votes: the ballots cast do not approve it"
)

EXPLAIN_TEMPLATES = (
    ELECTORATE,
    PARKING_LEFT_OUT,
    PARKING_COUNTED,
    VOTES_CAST,
    NO_ELECTORATE,
    QUORUM_AREA_MET,
    QUORUM_AREA_NOT_MET,
    QUORUM_OWNERS_MET,
    QUORUM_OWNERS_NOT_MET,
    NO_PARTICIPANTS,
    APPROVAL_AREA_3_4_MET,
    APPROVAL_AREA_3_4_NOT_MET,
    APPROVAL_OWNERS_3_4_MET,
    APPROVAL_OWNERS_3_4_NOT_MET,
    APPROVAL_AREA_HALF_MET,
    APPROVAL_AREA_HALF_NOT_MET,
    APPROVAL_OWNERS_HALF_MET,
    APPROVAL_OWNERS_HALF_NOT_MET,
    APPROVED,
    NOT_APPROVED,
    DEEMED_AGREE,
    DEEMED_DISAGREE,
    DEEMED_NONE,
    DEEMED_APPROVED,
    DEEMED_NOT_APPROVED,
    PASSES_ONLY_WITH_DEEMED,
)

Values = dict[str, str | int]
ExplainLine = tuple[str, Values]

# (measure, approval inclusive) -> (template when reached, template when not)
_QUORUM_LINES = {
    "area": (QUORUM_AREA_MET, QUORUM_AREA_NOT_MET),
    "owners": (QUORUM_OWNERS_MET, QUORUM_OWNERS_NOT_MET),
}
_APPROVAL_LINES = {
    ("area", True): (APPROVAL_AREA_3_4_MET, APPROVAL_AREA_3_4_NOT_MET),
    ("owners", True): (APPROVAL_OWNERS_3_4_MET, APPROVAL_OWNERS_3_4_NOT_MET),
    ("area", False): (APPROVAL_AREA_HALF_MET, APPROVAL_AREA_HALF_NOT_MET),
    ("owners", False): (APPROVAL_OWNERS_HALF_MET, APPROVAL_OWNERS_HALF_NOT_MET),
}


def _text(value: int | Decimal) -> str | int:
    return _area_text(value) if isinstance(value, Decimal) else value


def _judgement_lines(result: TallyResult, counts: TallyResult | DeemedResult) -> list[ExplainLine]:
    """The quorum and approval lines of one set of counts (the strict ones, or with deemed votes)."""
    if result.total_owners == 0:
        return [(NO_ELECTORATE, {})]
    lines: list[ExplainLine] = []
    quorum = result.quorum_threshold
    measures: tuple[tuple[str, int | Decimal, int | Decimal, int | Decimal], ...] = (
        ("area", counts.participating_area, result.total_area, counts.agree_area),
        ("owners", counts.participating_owners, result.total_owners, counts.agree_owners),
    )
    for measure, part, total, _agree in measures:
        lhs, rhs = quorum.denominator * part, quorum.numerator * total
        values: Values = {"part": _text(part), "total": _text(total), "lhs": _text(lhs), "rhs": _text(rhs)}
        met, not_met = _QUORUM_LINES[measure]
        lines.append((met if _reaches(part, total, quorum, True) else not_met, values))
    if counts.participating_owners == 0:
        return [*lines, (NO_PARTICIPANTS, {})]
    approval, inclusive = result.approval_threshold, result.approval_inclusive
    for measure, part, _total, agree in measures:
        lhs, rhs = approval.denominator * agree, approval.numerator * part
        values = {"agree": _text(agree), "part": _text(part), "lhs": _text(lhs), "rhs": _text(rhs)}
        met, not_met = _APPROVAL_LINES[measure, inclusive]
        lines.append((met if _reaches(agree, part, approval, inclusive) else not_met, values))
    return lines


def explain(result: TallyResult) -> list[ExplainLine]:
    """The arithmetic behind ``result``, line by line, as ``(template, values)`` pairs.

    Every template is a constant of this module, listed in ``EXPLAIN_TEMPLATES``; show a line
    as ``gettext(template) % values``. Areas come as "1234.50" text, headcounts as int.
    """
    electorate: Values = {
        "units": result.total_units,
        "total_area": _area_text(result.total_area),
        "total_owners": result.total_owners,
    }
    lines: list[ExplainLine] = [(ELECTORATE, electorate)]
    if result.parking_units:
        parking: Values = {"units": result.parking_units, "area": _area_text(result.parking_area)}
        lines.append((PARKING_COUNTED if result.include_parking else PARKING_LEFT_OUT, parking))
    cast: Values = {}
    for name in ("agree", "disagree", "abstain", "spoiled"):
        cast[f"{name}_area"] = _area_text(getattr(result, f"{name}_area"))
        cast[f"{name}_owners"] = getattr(result, f"{name}_owners")
    lines.append((VOTES_CAST, cast))
    lines += _judgement_lines(result, result)
    matter: Values = {"matter": result.matter}
    lines.append((APPROVED if result.approved else NOT_APPROVED, matter))
    deemed = result.deemed
    if deemed is None:
        return lines
    if deemed.deemed_side is None:
        lines.append((DEEMED_NONE, {}))
    else:
        side = DEEMED_AGREE if deemed.deemed_side is Choice.AGREE else DEEMED_DISAGREE
        lines.append((side, {"area": _area_text(deemed.deemed_area), "owners": deemed.deemed_owners}))
        lines += _judgement_lines(result, deemed)
    lines.append((DEEMED_APPROVED if deemed.approved else DEEMED_NOT_APPROVED, matter))
    if result.passes_only_with_deemed:
        lines.append((PASSES_ONLY_WITH_DEEMED, matter))
    return lines
