"""Scoped reads for the volunteer pages: activity lists, the sign-up and attendance table,
hours and points of a person, branch boards and the needs list of posts.

Every list starts from ``policy.scope``. Totals come from ``PointsAccount`` (kept by the
actions under a row lock) rather than summing ledgers on every page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from gongzhi.core.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, KeysetPage, parse_int
from gongzhi.core.paths import under
from gongzhi.housing.models import Compound
from gongzhi.orgs import policy
from gongzhi.orgs.models import Area, Membership, Organisation, Person
from gongzhi.volunteers import actions
from gongzhi.volunteers.models import (
    Activity,
    Attendance,
    HoursEntry,
    PointsAccount,
    PointsEntry,
    Post,
    PostTaking,
    SignUp,
)

UPCOMING, PAST = "upcoming", "past"
CHOICES_LIMIT = 500
ZERO = Decimal("0")
TENTH = Decimal("0.1")

# Bodies that organise volunteer activities.
ORGANISER_KINDS = (
    Organisation.Kind.JOINT_BRANCH,
    Organisation.Kind.PARTY_ORG,
    Organisation.Kind.VOLUNTEER_TEAM,
    *Organisation.COMMITTEE_KINDS,
)


def hours_of(minutes: int) -> Decimal:
    """Minutes as hours to a tenth, rounded down like the points earned from them."""
    return (Decimal(minutes) / 60).quantize(TENTH, rounding=ROUND_DOWN)


# --------------------------------------------------------------------------- activities


def _taken() -> Any:
    rows = SignUp.objects.filter(activity=OuterRef("pk"), cancelled_at__isnull=True)
    return Coalesce(Subquery(rows.values("activity").annotate(n=Count("id")).values("n")[:1]), 0)


def activity_page(user: Any, when: str, after: Any, size: Any, now: dt.datetime) -> KeysetPage:
    """One page of the activities in scope: those not over yet soonest first, past ones
    latest first; keyset on (start, id)."""
    qs = policy.scope(user, "activity")
    descending = when == PAST
    qs = qs.filter(ends_at__lt=now) if descending else qs.filter(ends_at__gte=now)
    requested = parse_int(size, DEFAULT_PAGE_SIZE)
    page_size = min(max(DEFAULT_PAGE_SIZE if requested is None else requested, 1), MAX_PAGE_SIZE)
    start = parse_int(after)
    sign, op = ("-", "lt") if descending else ("", "gt")
    ids_qs = qs.order_by(f"{sign}starts_at", f"{sign}pk")
    if start is not None:
        anchor = qs.filter(pk=start).values_list("starts_at", flat=True).first()
        if anchor is None:
            start = None
        else:
            ids_qs = ids_qs.filter(
                Q(**{f"starts_at__{op}": anchor}) | Q(starts_at=anchor, **{f"pk__{op}": start})
            )
    ids = list(ids_qs.values_list("pk", flat=True)[: page_size + 1])
    next_after = ids[page_size - 1] if len(ids) > page_size else None
    order = {pk: i for i, pk in enumerate(ids[:page_size])}
    rows = Activity.objects.filter(pk__in=order).select_related("community", "compound", "organiser")
    rows = rows.annotate(taken=_taken())
    return KeysetPage(
        rows=sorted(rows, key=lambda a: order[a.pk]), next_after=next_after, after=start, size=page_size
    )


def may_organise_somewhere(user: Any) -> bool:
    """Whether any grant lets the user organise activities (the "New activity" button);
    ``actions.may_organise`` decides for the place chosen."""
    return policy.has_any(user, "activity", policy.MANAGE)


def organising_communities(user: Any) -> list[Area]:
    """Communities the user may organise for, as a whole or through one of its compounds."""
    communities = list(policy.scope(user, "area").filter(level=Area.Level.COMMUNITY).order_by("path"))
    return [
        c
        for c in communities
        if actions.may_organise(user, c, None) or organising_compounds(user).filter(community=c).exists()
    ]


def organising_compounds(user: Any) -> QuerySet[Compound]:
    """Compounds where the user may organise activities and list posts."""
    if getattr(user, "is_superuser", False):
        return Compound.objects.select_related("community").order_by("area_path", "name")
    q: Q | None = None
    for grant in policy.active_grants(user):
        if not policy.allows(grant.role, "activity", policy.MANAGE):
            continue
        node = (
            Q(pk=grant.compound_id)
            if grant.compound_id
            else under("area_path", grant.area.path)
            if grant.area is not None
            else None
        )
        if node is not None:
            q = node if q is None else q | node
    if q is None:
        return Compound.objects.none()
    return Compound.objects.filter(q).select_related("community").order_by("area_path", "name")


def organiser_choices(user: Any) -> list[Organisation]:
    """Bodies in scope that organise activities, and the volunteer teams of the towns above
    the user's places (a town's team serves all its communities)."""
    in_scope = list(
        policy.scope(user, "organisation")
        .filter(kind__in=ORGANISER_KINDS, dissolved_on__isnull=True)
        .order_by("kind", "name")[:CHOICES_LIMIT]
    )
    above = {a.pk for root in policy.area_roots(user) for a in root.ancestors()}
    teams = Organisation.objects.filter(
        kind=Organisation.Kind.VOLUNTEER_TEAM, area__in=above, dissolved_on__isnull=True
    ).exclude(pk__in=[o.pk for o in in_scope])
    return in_scope + list(teams.order_by("name"))


def grouped(orgs: list[Organisation]) -> list[tuple[str, list[tuple[int, str]]]]:
    groups: dict[str, list[tuple[int, str]]] = {}
    for org in orgs:
        groups.setdefault(org.kind, []).append((org.pk, org.name))
    return [(str(Organisation.Kind(kind).label), rows) for kind, rows in groups.items()]


def person_label(person: Person) -> str:
    return f"{person.name} ({person.masked_phone})" if person.phone else person.name


def people_in_scope(user: Any) -> QuerySet[Person]:
    return policy.scope(user, "person").order_by("name", "id")


# --------------------------------------------------------------------------- sign-ups and attendance


@dataclass
class AttendanceRow:
    person: Person
    signup: SignUp | None = None
    attendance: Attendance | None = None
    present: int = 0
    counting: int = 0
    hours: HoursEntry | None = None
    points: Decimal | None = None

    @property
    def signed_up(self) -> bool:
        return self.signup is not None and self.signup.cancelled_at is None


def attendance_rows(activity: Activity) -> list[AttendanceRow]:
    """Everyone signed up or present: sign-up, check-in and -out, minutes present, the
    minutes that will count (capped per activity) and, once verified, what was credited."""
    rows: dict[int, AttendanceRow] = {}
    for signup in activity.signups.select_related("person").order_by("signed_up_at", "id"):
        row = rows.setdefault(signup.person_id, AttendanceRow(person=signup.person))
        # A later active sign-up replaces a cancelled one.
        if row.signup is None or signup.cancelled_at is None:
            row.signup = signup
    cap = actions.max_minutes()
    for attendance in activity.attendances.select_related("person", "activity"):
        row = rows.setdefault(attendance.person_id, AttendanceRow(person=attendance.person))
        row.attendance = attendance
        row.present = actions.minutes_present(attendance)
        row.counting = min(row.present, cap)
    for hours in activity.hours_entries.select_related("person", "points_entry"):
        row = rows.setdefault(hours.person_id, AttendanceRow(person=hours.person))
        row.hours = hours
        entry = getattr(hours, "points_entry", None)
        row.points = entry.points if entry is not None else ZERO
    return list(rows.values())


def taken_places(activity: Activity) -> int:
    return activity.signups.filter(cancelled_at__isnull=True).count()


# --------------------------------------------------------------------------- hours and points


@dataclass
class Balances:
    minutes: int = 0
    points: Decimal = ZERO

    @property
    def hours(self) -> Decimal:
        return hours_of(self.minutes)


def balances(person: Person | None) -> Balances:
    account = PointsAccount.objects.filter(person=person).first() if person is not None else None
    return Balances(account.minutes, account.points) if account is not None else Balances()


def hours_entries(person: Person) -> list[HoursEntry]:
    entries = list(
        person.hours_entries.select_related("activity", "points_entry").order_by("-at", "-id")[:500]
    )
    for entry in entries:
        entry.hours_counted = hours_of(entry.minutes_counted)  # type: ignore[attr-defined]
    return entries


def account_names(user_ids: set[int]) -> dict[int, str]:
    """How to name the accounts that approved entries: their person's name, else the login."""
    names = {
        u.pk: u.get_full_name() or u.get_username() for u in get_user_model().objects.filter(pk__in=user_ids)
    }
    for person in Person.objects.filter(user_id__in=user_ids):
        if person.user_id is not None:
            names[person.user_id] = person.name
    return names


def points_entries(person: Person) -> list[PointsEntry]:
    """The person's points ledger, newest first, each entry with its balance after it."""
    entries = list(person.points_entries.select_related("hours__activity").order_by("-seq")[:500])
    names = account_names({e.approved_by_id for e in entries})
    for entry in entries:
        entry.approver_name = names.get(entry.approved_by_id, "")  # type: ignore[attr-defined]
    return entries


def posts_held(person: Person | None) -> list[PostTaking]:
    if person is None:
        return []
    return list(
        person.posts_taken.filter(left_at__isnull=True)
        .select_related("post__community", "post__compound", "post__branch")
        .order_by("taken_at")
    )


def my_signups(person: Person | None, now: dt.datetime) -> list[SignUp]:
    if person is None:
        return []
    return list(
        person.signups.filter(
            cancelled_at__isnull=True, activity__ends_at__gte=now, activity__state=Activity.State.OPEN
        )
        .select_related("activity")
        .order_by("activity__starts_at")
    )


# --------------------------------------------------------------------------- branch boards


def branch_choices(user: Any) -> QuerySet[Organisation]:
    """Joint branches in scope whose members the user may see."""
    if not policy.has_any(user, "membership"):
        return Organisation.objects.none()
    return (
        policy.scope(user, "organisation")
        .filter(kind=Organisation.Kind.JOINT_BRANCH)
        .select_related("compound", "area")
        .order_by("area__path", "name")
    )


@dataclass
class BoardRow:
    rank: int
    membership: Membership
    minutes: int
    points: Decimal
    hours: Decimal = field(init=False)

    def __post_init__(self) -> None:
        self.hours = hours_of(self.minutes)


def board_rows(user: Any, branch: Organisation) -> list[BoardRow]:
    """The branch's members in office, ranked by volunteer hours (then points); members with
    equal hours share a rank."""
    members = list(
        policy.scope(user, "membership")
        .filter(organisation=branch, left_on__isnull=True)
        .select_related("person")
    )
    accounts = {
        a.person_id: a for a in PointsAccount.objects.filter(person__in=[m.person_id for m in members])
    }

    def totals(m: Membership) -> tuple[int, Decimal]:
        account = accounts.get(m.person_id)
        return (account.minutes, account.points) if account else (0, ZERO)

    members.sort(key=lambda m: (-totals(m)[0], -totals(m)[1], m.person.name, m.pk))
    rows: list[BoardRow] = []
    for position, m in enumerate(members, start=1):
        minutes, points = totals(m)
        rank = rows[-1].rank if rows and rows[-1].minutes == minutes else position
        rows.append(BoardRow(rank=rank, membership=m, minutes=minutes, points=points))
    return rows


# --------------------------------------------------------------------------- posts and party members


def post_rows(user: Any, community: Area | None, state: str) -> list[Post]:
    """Posts in scope with their holders (``post.holders``), open ones first."""
    qs = policy.scope(user, "post").select_related("community", "compound", "branch")
    if community is not None:
        qs = qs.filter(community=community)
    if state in Post.State.values:
        qs = qs.filter(state=state)
    posts = list(qs.order_by("state", "-id")[:CHOICES_LIMIT])
    holders: dict[int, list[PostTaking]] = {}
    for taking in (
        PostTaking.objects.filter(post__in=posts, left_at__isnull=True)
        .select_related("person")
        .order_by("taken_at", "id")
    ):
        holders.setdefault(taking.post_id, []).append(taking)
    for post in posts:
        post.holders = holders.get(post.pk, [])  # type: ignore[attr-defined]
    return posts


def post_communities(user: Any) -> list[Area]:
    """Communities whose posts the user sees (for the filter)."""
    ids = policy.scope(user, "post").values("community_id")
    return list(Area.objects.filter(pk__in=ids).order_by("path"))


def branches_for_posts(user: Any) -> QuerySet[Organisation]:
    return (
        policy.scope(user, "organisation")
        .filter(kind=Organisation.Kind.JOINT_BRANCH, dissolved_on__isnull=True)
        .order_by("name")
    )


def registered_members(user: Any, community: Area) -> list[Person]:
    """Party members registered with the community whom the user may see, with the posts
    they hold (``person.posts``)."""
    people = list(
        policy.scope(user, "person")
        .filter(is_party_member=True, party_registered_community=community)
        .order_by("name", "id")[:CHOICES_LIMIT]
    )
    held: dict[int, list[PostTaking]] = {}
    for taking in (
        PostTaking.objects.filter(person__in=people, left_at__isnull=True)
        .select_related("post")
        .order_by("taken_at")
    ):
        held.setdefault(taking.person_id, []).append(taking)
    for person in people:
        person.posts = held.get(person.pk, [])  # type: ignore[attr-defined]
    return people


def party_members_for_posts(user: Any, post: Post) -> QuerySet[Person]:
    """Registered party members of the post's community the user may assign."""
    return people_in_scope(user).filter(is_party_member=True, party_registered_community=post.community)


def sees_posts(user: Any) -> bool:
    """Whether the user has a needs list: by a role, or as a party member registered with a
    community (who sees its posts whatever their role)."""
    return policy.has_any(user, "post") or policy.scope(user, "post").exists()


def sub_nav(user: Any) -> dict[str, bool]:
    """Which volunteer pages the user has (the links above each of them)."""
    person = actions.person_of(user)
    return {
        "posts": sees_posts(user),
        "board": policy.has_any(user, "membership"),
        "party": may_organise_somewhere(user)
        or policy.has_any(user, "person")
        or bool(person and person.is_party_member),
    }
