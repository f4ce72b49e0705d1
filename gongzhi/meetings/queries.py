"""Scoped reads of meetings and action items for the staff pages.

Every list starts from ``policy.scope``; pages are keyset pages on (sort field, id) so a
county's years of meetings cost what one page costs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.utils import timezone

from gongzhi.core.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, KeysetPage, parse_int
from gongzhi.meetings.models import ActionItem, AgendaItem, Meeting, Resolution
from gongzhi.orgs import policy
from gongzhi.orgs.models import Area, Organisation, Person, Role

UPCOMING, PAST, ALL = "upcoming", "past", "all"
WHEN = (UPCOMING, PAST, ALL)
# Action item statuses as shown (``ActionItem.status``), plus "not done" and everything.
PENDING = "pending"
STATUSES = (PENDING, "open", "in_progress", "overdue", "done", ALL)
# Kinds of body that convene meetings for compounds and areas.
CONVENER_KINDS = (
    Organisation.Kind.PARTY_ORG,
    Organisation.Kind.JOINT_BRANCH,
    Organisation.Kind.OWNERS_COMMITTEE,
    Organisation.Kind.RESIDENTS_COMMITTEE,
    Organisation.Kind.MANAGEMENT_COMMITTEE,
    Organisation.Kind.GRID_GROUP,
)
CHOICES_LIMIT = 500


def _keyset(
    queryset: QuerySet[Any], field: str, after: Any, size: Any, *, descending: bool
) -> tuple[list[int], int | None, int | None, int]:
    """The ids of one page ordered by (``field``, id), after the row with id ``after``."""
    requested = parse_int(size, DEFAULT_PAGE_SIZE)
    page_size = min(max(DEFAULT_PAGE_SIZE if requested is None else requested, 1), MAX_PAGE_SIZE)
    start = parse_int(after)
    sign = "-" if descending else ""
    ids_qs = queryset.order_by(f"{sign}{field}", f"{sign}pk")
    if start is not None:
        anchor = queryset.filter(pk=start).values_list(field, flat=True).first()
        if anchor is not None:
            op = "lt" if descending else "gt"
            ids_qs = ids_qs.filter(Q(**{f"{field}__{op}": anchor}) | Q(**{field: anchor, f"pk__{op}": start}))
        else:
            start = None
    ids = list(ids_qs.values_list("pk", flat=True)[: page_size + 1])
    next_after = ids[page_size - 1] if len(ids) > page_size else None
    return ids[:page_size], next_after, start, page_size


def _count(rows: QuerySet[Any], key: str) -> Any:
    """A correlated count per meeting (no row multiplication between the counts)."""
    return Coalesce(Subquery(rows.values(key).annotate(n=Count("id")).values("n")[:1]), 0)


@dataclass
class MeetingFilters:
    kind: str = ""
    state: str = ""
    when: str = UPCOMING

    @classmethod
    def from_query(cls, query: QueryDict) -> MeetingFilters:
        kind = query.get("kind", "")
        state = query.get("state", "")
        when = query.get("when", UPCOMING)
        return cls(
            kind=kind if kind in Meeting.Kind.values else "",
            state=state if state in Meeting.State.values else "",
            when=when if when in WHEN else UPCOMING,
        )


def start_of_today() -> dt.datetime:
    now = timezone.localtime()
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def meeting_page(user: Any, filters: MeetingFilters, after: Any = None, size: Any = None) -> KeysetPage:
    """One page of the meetings in scope: upcoming ones soonest first, past ones latest
    first, with their counts of agenda items, resolutions and action items not done."""
    qs = policy.scope(user, "meeting")
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.state:
        qs = qs.filter(state=filters.state)
    today = start_of_today()
    if filters.when == UPCOMING:
        qs = qs.filter(starts_at__gte=today)
    elif filters.when == PAST:
        qs = qs.filter(starts_at__lt=today)
    descending = filters.when != UPCOMING
    ids, next_after, start, page_size = _keyset(qs, "starts_at", after, size, descending=descending)
    rows = (
        Meeting.objects.filter(pk__in=ids)
        .select_related("convener", "compound", "area")
        .annotate(
            agenda_count=_count(AgendaItem.objects.filter(meeting=OuterRef("pk")), "meeting"),
            resolution_count=_count(Resolution.objects.filter(item__meeting=OuterRef("pk")), "item__meeting"),
            open_actions=_count(
                ActionItem.objects.filter(meeting=OuterRef("pk")).exclude(state=ActionItem.State.DONE),
                "meeting",
            ),
        )
    )
    order = {pk: i for i, pk in enumerate(ids)}
    return KeysetPage(
        rows=sorted(rows, key=lambda m: order[m.pk]), next_after=next_after, after=start, size=page_size
    )


def status_filter(status: str) -> Q:
    """The action items whose shown status is ``status`` (see ``ActionItem.status``)."""
    done = Q(state=ActionItem.State.DONE)
    if status == "done":
        return done
    if status == "overdue":
        return Q(overdue=True) & ~done
    if status in (ActionItem.State.OPEN, ActionItem.State.IN_PROGRESS):
        return Q(state=status, overdue=False)
    if status == PENDING:
        return ~done
    return Q()


def action_page(user: Any, status: str, after: Any = None, size: Any = None) -> KeysetPage:
    """One page of the action items in scope with the status asked for, soonest deadline
    first. A member unit's liaison gets the items given to their unit."""
    qs = policy.scope(user, "actionitem").filter(status_filter(status))
    ids, next_after, start, page_size = _keyset(qs, "deadline", after, size, descending=status == "done")
    rows = ActionItem.objects.filter(pk__in=ids).select_related(
        "meeting", "assignee_org", "assignee_person", "ticket", "compound"
    )
    order = {pk: i for i, pk in enumerate(ids)}
    return KeysetPage(
        rows=sorted(rows, key=lambda a: order[a.pk]), next_after=next_after, after=start, size=page_size
    )


def open_action_items_for(user: Any, limit: int = 5) -> list[ActionItem]:
    """The action items not done that ``user`` may report on — a unit's liaison their
    unit's, area staff those of their area — overdue first, then by deadline: for the home
    page."""
    qs = (
        policy.scope(user, "actionitem", policy.CHANGE)
        .exclude(state=ActionItem.State.DONE)
        .select_related("meeting", "assignee_org", "assignee_person")
        .order_by("-overdue", "deadline", "id")
    )
    return list(qs[:limit])


# ---- choices of the forms -------------------------------------------------------------------


def _is_area_staff_above_community(user: Any) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    return any(
        g.area is not None
        and g.area.level in (Area.Level.COUNTY, Area.Level.TOWN)
        and policy.allows(g.role, "meeting", policy.MANAGE)
        for g in policy.active_grants(user)
    )


def convener_choices(user: Any) -> QuerySet[Organisation]:
    """Bodies the user may convene a meeting as: the party organisations, branches and
    committees in their scope; for town and county staff the member units too."""
    kinds = list(CONVENER_KINDS)
    if _is_area_staff_above_community(user):
        kinds.append(Organisation.Kind.MEMBER_UNIT)
    return (
        policy.scope(user, "organisation")
        .filter(kind__in=kinds, dissolved_on__isnull=True)
        .select_related("compound", "area")
        .order_by("kind", "area__path", "name")
    )


def invitable_orgs(user: Any) -> QuerySet[Organisation]:
    """Bodies that can be invited or given an action item: every member unit (visible to
    all) and the bodies in the user's scope."""
    return (
        policy.scope(user, "organisation")
        .filter(dissolved_on__isnull=True)
        .exclude(kind=Organisation.Kind.VOLUNTEER_TEAM)
        .order_by("kind", "area__path", "name")
    )


def grouped(orgs: Any) -> list[tuple[str, list[tuple[int, str]]]]:
    """Organisations as choices grouped by kind (for a select with option groups)."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for org in orgs[:CHOICES_LIMIT]:
        groups.setdefault(org.kind, []).append((org.pk, org.name))
    return [(str(Organisation.Kind(kind).label), rows) for kind, rows in groups.items()]


def area_choices(user: Any) -> QuerySet[Area]:
    return (
        policy.scope(user, "area").filter(level__in=[Area.Level.TOWN, Area.Level.COMMUNITY]).order_by("path")
    )


def compound_choices(user: Any) -> QuerySet[Any]:
    return policy.scope(user, "compound").select_related("community").order_by("area_path", "name")


def decision_choices(user: Any) -> QuerySet[Any]:
    return policy.scope(user, "decision").select_related("compound").order_by("-id")


def consultation_choices(user: Any) -> QuerySet[Any]:
    return policy.scope(user, "consultation").order_by("-id")


def people_of(meeting: Meeting) -> QuerySet[Person]:
    """People who can be signed in or given work by name: the invited people and the
    current members of the invited bodies."""
    invited_people = meeting.invitees.filter(person__isnull=False).values("person_id")
    invited_orgs = meeting.invitees.filter(person__isnull=True).values("organisation_id")
    members = Person.objects.filter(
        memberships__organisation_id__in=invited_orgs, memberships__left_on__isnull=True
    ).values("id")
    return Person.objects.filter(Q(id__in=invited_people) | Q(id__in=members)).order_by("name", "id")


def shows_people(user: Any) -> bool:
    """Whether the user sees who was invited and who came by name (staff and the bodies'
    liaisons do; residents and volunteers see counts and bodies only)."""
    if getattr(user, "is_superuser", False):
        return True
    return bool(policy.roles_of(user) - {Role.RESIDENT, Role.VOLUNTEER})
