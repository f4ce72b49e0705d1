"""The hot-issue warning on the Django side: signals from the database, the warnings a user
sees, their translated words, and the two things staff do with one — take it onto a
meeting's agenda, or set it aside with a reason.

The rules themselves are pure, in ``hotissues``. What a user sees starts from the policy's
``scope`` of requests and opinions, so a warning only ever counts what its reader may see.
A warning set aside stays hidden until its count grows past the count it was set aside
with; a warning taken onto the agenda of a meeting that is not cancelled stays hidden for a
window after it was taken.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, F, Q, QuerySet, When
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.audit import record_change
from gongzhi.core.paths import under
from gongzhi.core.text import clean_text
from gongzhi.housing.models import Building
from gongzhi.meetings import actions, hotissues
from gongzhi.meetings.hotissues import OPINION, TICKET, Signal, Thresholds, Warning
from gongzhi.meetings.models import AgendaItem, DismissedWarning, HotIssueSettings, Meeting
from gongzhi.orgs import policy
from gongzhi.orgs.models import Area
from gongzhi.tickets import workflow as W

# Meetings whose agenda can still take an item.
OPEN_MEETING_STATES = (Meeting.State.DRAFT, Meeting.State.ANNOUNCED, Meeting.State.IN_SESSION)
# Keys per ``IN`` query: well under the parameter limits of SQLite and PostgreSQL.
CHUNK = 500


def thresholds_of(row: HotIssueSettings) -> Thresholds:
    return Thresholds(
        window_days=row.window_days,
        cluster_min=row.cluster_min,
        building_cluster_min=row.building_cluster_min,
        rise_min=row.rise_min,
        # An unsaved default row holds the field's default as an int, a stored one a Decimal.
        rise_factor=Decimal(str(row.rise_factor)),
        reopen_min=row.reopen_min,
        compound_reopen_min=row.compound_reopen_min,
        dispute_min=row.dispute_min,
        dispute_categories=hotissues.parse_codes(row.dispute_categories),
    )


def _building_label(number: str | None) -> str:
    return _("Building %(number)s") % {"number": number} if number else ""


def signals_in(
    tickets: QuerySet[Any],
    opinions: QuerySet[Any],
    since: dt.datetime,
    *,
    active_since: dt.datetime | None = None,
) -> list[Signal]:
    """The signals of ``tickets`` and ``opinions`` (already scoped) reported after ``since``,
    plus the reopened requests changed after ``active_since``: two ``values()`` queries.

    Requests withdrawn by the resident or judged unreasonable by staff are left out. A
    request's ``active_at`` is read only once it has been reopened (the only requests the
    rules look at it for), and neither query is sorted: the rules do not depend on the order.
    At a county's scale both save real time: a sort of every row, and a timestamp parsed per row.
    """
    reported = Q(created_at__gt=since)
    if active_since is not None:
        reported |= Q(reopen_count__gt=0, updated_at__gt=active_since)
    ticket_rows = (
        tickets.filter(reported)
        .exclude(state=W.State.WITHDRAWN)
        .exclude(unreasonable=True)
        .order_by()
        .annotate(active_at=Case(When(reopen_count__gt=0, then=F("updated_at"))))
        .values(
            "id",
            "compound_id",
            "compound__name",
            "compound__area_path",
            "building_id",
            "building__number",
            "category__code",
            "category__name",
            "created_at",
            "active_at",
            "reopen_count",
            "satisfaction",
            "area_path",
        )
    )
    labels: dict[str | None, str] = {}  # translated once per building number, not per row

    def label(number: str | None) -> str:
        if number not in labels:
            labels[number] = _building_label(number)
        return labels[number]

    signals = [
        Signal(
            source=TICKET,
            id=row["id"],
            compound_id=row["compound_id"],
            compound_name=row["compound__name"] or "",
            building_id=row["building_id"],
            building_label=label(row["building__number"]),
            category_code=row["category__code"],
            category_name=row["category__name"],
            at=row["created_at"],
            reopen_count=row["reopen_count"],
            dissatisfied=row["satisfaction"] == "dissatisfied",
            area_path=row["compound__area_path"] or row["area_path"],
            active_at=row["active_at"],
        )
        for row in ticket_rows
    ]
    opinion_rows = (
        opinions.filter(created_at__gt=since)
        .order_by()
        .values(
            "id",
            "compound_id",
            "compound__name",
            "compound__area_path",
            "building_id",
            "building__number",
            "category__code",
            "category__name",
            "created_at",
            "outcome",
            "area_path",
        )
    )
    signals += [
        Signal(
            source=OPINION,
            id=row["id"],
            compound_id=row["compound_id"],
            compound_name=row["compound__name"] or "",
            building_id=row["building_id"],
            building_label=label(row["building__number"]),
            category_code=row["category__code"],
            category_name=row["category__name"],
            at=row["created_at"],
            dispute=row["outcome"] == "rejected",
            area_path=row["compound__area_path"] or row["area_path"],
        )
        for row in opinion_rows
    ]
    return signals


def _chunks(keys: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(keys), CHUNK):
        yield keys[i : i + CHUNK]


def _still_open(found: Iterable[Warning], window_start: dt.datetime) -> list[Warning]:
    """``found`` without the warnings set aside (and not grown since) or taken onto an agenda."""
    found = list(found)
    keys = sorted({w.key for w in found})
    dismissed: dict[str, int] = {}
    adopted: set[str] = set()
    for chunk in _chunks(keys):
        # The latest dismissal of a key is the one that counts.
        rows = DismissedWarning.objects.filter(key__in=chunk).order_by("dismissed_at", "id")
        dismissed.update(rows.values_list("key", "count"))
        # Adoption on any meeting hides the warning, also from staff who cannot see that
        # meeting: it is on an agenda, not waiting for one.
        adopted.update(
            AgendaItem.objects.filter(suggestion_key__in=chunk, created_at__gt=window_start)
            .exclude(meeting__state=Meeting.State.CANCELLED)
            .values_list("suggestion_key", flat=True)
        )
    return [w for w in found if w.key not in adopted and w.count > dismissed.get(w.key, -1)]


def warnings_for(
    user: Any,
    *,
    now: dt.datetime | None = None,
    within: Area | None = None,
    narrow: tuple[Q, Q] | None = None,
) -> list[Warning]:
    """The warnings over what ``user`` may see, most urgent first, without those set aside
    (unless grown since) or already taken onto an agenda.

    Requests and opinions come through ``policy.scope``; two windows are loaded so that the
    rising rule can compare, plus the reopened requests changed within the window. ``within``
    keeps to one area of the user's (a community, for staff whose scope is a whole town or
    county); ``narrow`` to the requests and opinions of one warning's place.
    """
    now = now or timezone.now()
    thresholds = thresholds_of(HotIssueSettings.current())
    window = dt.timedelta(days=thresholds.window_days)
    tickets, opinions = policy.scope(user, "ticket"), policy.scope(user, "opinion")
    if within is not None:
        tickets = tickets.filter(under("area_path", within.path))
        opinions = opinions.filter(under("area_path", within.path))
    if narrow is not None:
        tickets, opinions = tickets.filter(narrow[0]), opinions.filter(narrow[1])
    signals = signals_in(tickets, opinions, now - 2 * window, active_since=now - window)
    return _still_open(hotissues.detect(signals, thresholds, now), now - window)


# A warning's key names its place: a compound, a building or one request.
_PLACE = re.compile(
    r"^[a-z]+:(?:c(?P<compound>\d{1,18})|b(?P<building>\d{1,18})|t(?P<ticket>\d{1,18}))(?::|$)"
)


def _narrowing(key: str) -> tuple[Q, Q] | None:
    """Filters over requests and opinions that hold every signal the warning ``key`` can
    count: every rule looks at one compound (or one of its buildings) or one request."""
    place = _PLACE.match(key)
    if place is None:
        return None
    if place["ticket"]:
        return Q(pk=int(place["ticket"])), Q(pk__in=[])
    compound_id = int(place["compound"]) if place["compound"] else None
    if place["building"]:
        compound_id = (
            Building.objects.filter(pk=int(place["building"])).values_list("compound_id", flat=True).first()
        )
    return Q(compound_id=compound_id), Q(compound_id=compound_id)


def find_warning(user: Any, key: str, *, now: dt.datetime | None = None) -> Warning | None:
    """The warning ``key`` as it fires for ``user`` now, or None. Only the signals of the
    key's place are read, so this costs the same for a county's staff as for a grid's."""
    narrow = _narrowing(key)
    if narrow is None:
        return None
    return next((w for w in warnings_for(user, now=now, narrow=narrow) if w.key == key), None)


def is_local(user: Any) -> bool:
    """Whether ``user``'s scope is a community or smaller (a grid, a compound, a unit):
    their warnings are worked out on every home page. Town and county staff choose a
    community first — at a county's scale the whole scope takes seconds (docs/performance.md)."""
    if getattr(user, "is_superuser", False):
        return False
    wide = (Area.Level.COUNTY, Area.Level.TOWN)
    return not any(g.area is not None and g.area.level in wide for g in policy.active_grants(user))


def communities_of(user: Any) -> QuerySet[Area]:
    """The communities a user may look at warnings for."""
    return policy.scoped_areas(user).filter(level=Area.Level.COMMUNITY).order_by("path")


# ---- words ---------------------------------------------------------------------------------


def _fill(template: str, values: dict[str, Any]) -> str:
    return _(template) % values


def explain(warning: Warning) -> str:
    """Why the warning fired, with its numbers and threshold, in the current language."""
    return _fill(*warning.explanation)


def title_of(warning: Warning) -> str:
    """A short title for the warning, and for the agenda item it becomes."""
    return _fill(*warning.title)


def label_of(warning: Warning) -> str:
    """The rule's name in the current language."""
    return _(warning.label)


def evidence_of(warning: Warning) -> dict[str, Any]:
    """What is stored on the agenda item: the rule, the counts, the signals and the
    explanation as a msgid with its values (so it can be shown in either language later)."""
    return {
        "key": warning.key,
        "rule": warning.rule,
        "count": warning.count,
        "threshold": warning.threshold,
        "previous_count": warning.previous_count,
        "compound": warning.compound_id,
        "building": warning.building_id,
        "category": warning.category_code,
        "tickets": list(warning.ticket_ids),
        "opinions": list(warning.opinion_ids),
        "first_at": warning.first_at.isoformat(),
        "last_at": warning.last_at.isoformat(),
        "explanation": {"msgid": warning.explanation[0], "params": dict(warning.explanation[1])},
        "title": {"msgid": warning.title[0], "params": dict(warning.title[1])},
    }


def explain_evidence(evidence: dict[str, Any]) -> str:
    """The stored explanation of an agenda item's evidence, in the current language."""
    explanation = evidence.get("explanation") or {}
    if not explanation.get("msgid"):
        return ""
    return _fill(explanation["msgid"], explanation.get("params") or {})


# ---- actions -------------------------------------------------------------------------------


def _may_manage_meetings(actor: Any) -> None:
    if not policy.has_any(actor, "meeting", policy.MANAGE):
        raise PermissionDenied


@transaction.atomic
def dismiss_warning(
    actor: Any, warning_key: str, *, count: int, area_path: str, reason: str, now: dt.datetime | None = None
) -> DismissedWarning:
    """Set a warning aside with a reason: it stays hidden until its count grows past ``count``.

    Who: anyone who may manage meetings somewhere (the callers pass the count and area of the
    warning as it fired for that user). Writes the dismissal and its audit event.
    """
    _may_manage_meetings(actor)
    key = clean_text(warning_key, "key", limit=120)
    text = clean_text(reason, "reason")
    if count < 0:
        raise ValidationError({"count": _("The count cannot be negative.")})
    row = DismissedWarning.objects.create(
        key=key,
        count=count,
        area_path=area_path[:255],
        reason=text,
        dismissed_by=actor,
        dismissed_at=now or timezone.now(),
    )
    record_change(actor, "meetings.warning.dismiss", row, after={"key": key, "count": count}, reason=text)
    return row


def set_aside(actor: Any, key: str, *, reason: str, now: dt.datetime | None = None) -> DismissedWarning:
    """Dismiss the warning ``key`` as it fires for ``actor`` now (refused if it does not)."""
    _may_manage_meetings(actor)
    warning = find_warning(actor, key, now=now)
    if warning is None:
        raise ValidationError(_("This warning no longer fires, so there is nothing to set aside."))
    return dismiss_warning(
        actor, warning.key, count=warning.count, area_path=warning.area_path, reason=reason, now=now
    )


def upcoming_meetings(user: Any) -> QuerySet[Meeting]:
    """Meetings ``user`` manages whose agenda can still take an item, earliest first."""
    return (
        policy.scope(user, "meeting", policy.MANAGE)
        .filter(state__in=OPEN_MEETING_STATES)
        .order_by("starts_at", "id")
    )


def covers(meeting: Meeting, warning: Warning) -> bool:
    """Whether ``meeting`` is about the warning's place: its compound, or an area above it."""
    if meeting.compound_id is not None:
        return meeting.compound_id == warning.compound_id
    return bool(warning.area_path) and warning.area_path.startswith(meeting.area_path)


@transaction.atomic
def adopt_warning(actor: Any, meeting: Meeting, key: str, *, now: dt.datetime | None = None) -> AgendaItem:
    """Take the warning ``key`` onto ``meeting``'s agenda as a hot-issue item with its
    evidence, so it is not suggested again.

    Who: whoever may manage the meeting (checked by ``actions.add_agenda_item``). The warning
    is recomputed for the actor and refused if it no longer fires; a reopen warning links its
    request to the item.
    """
    _may_manage_meetings(actor)
    now = now or timezone.now()
    # Lock the meeting first, so two people taking the same warning onto it queue up and
    # the second finds it already adopted.
    Meeting.objects.select_for_update().filter(pk=meeting.pk).first()
    warning = find_warning(actor, key, now=now)
    if warning is None:
        raise ValidationError(
            _("This warning no longer fires (or is already on an agenda), so it cannot be taken.")
        )
    ticket = None
    if warning.rule == hotissues.REOPEN:
        ticket = policy.scope(actor, "ticket").get(pk=warning.ticket_ids[0])
    return actions.add_agenda_item(
        actor,
        meeting,
        title=title_of(warning)[:160],
        description=explain(warning),
        source=AgendaItem.Source.HOT_ISSUE,
        ticket=ticket,
        suggestion_key=warning.key,
        evidence=evidence_of(warning),
        now=now,
    )
