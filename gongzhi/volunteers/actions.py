"""Volunteer activities, attendance, hours and points, and party members' posts.

Hours are credited only when the organiser verifies an activity as done: each attendee who
checked in and out gets the minutes present, at most ``GONGZHI_MAX_HOURS_PER_ACTIVITY``
hours counted, and earns ``GONGZHI_POINTS_PER_HOUR`` points per counted hour. Checking in
alone earns nothing. Bonuses, deductions and redemptions are points entries with an
approver and evidence; redemption never touches hours.
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.audit import record_change
from gongzhi.core.text import clean_text
from gongzhi.housing.models import Compound, Resident
from gongzhi.orgs import policy
from gongzhi.orgs.models import Area, Organisation, Person
from gongzhi.projects.models import Project
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

A = Activity.State
TENTH = Decimal("0.1")
MAX_POINTS = Decimal("10000")


def points_per_hour() -> int:
    return int(getattr(settings, "GONGZHI_POINTS_PER_HOUR", 1))


def max_minutes() -> int:
    return 60 * int(getattr(settings, "GONGZHI_MAX_HOURS_PER_ACTIVITY", 2))


def points_for(minutes_counted: int) -> Decimal:
    """Points for counted minutes, to a tenth of a point, rounded down."""
    return (Decimal(minutes_counted) * points_per_hour() / 60).quantize(TENTH, rounding=ROUND_DOWN)


def _require(actor: Any, action: str, obj: Any) -> None:
    if not policy.can(actor, action, obj):
        raise PermissionDenied


def _lock(activity: Activity, version: int | None = None) -> Activity:
    locked = Activity.objects.select_for_update().get(pk=activity.pk)
    if version is not None and locked.version != version:
        raise ValidationError(
            _("Someone else changed this activity a moment ago. Reload the page and try again.")
        )
    return locked


def may_organise(actor: Any, community: Area, compound: Compound | None) -> bool:
    if compound is not None:
        return policy.can_within(actor, "activity", policy.MANAGE, compound)
    if getattr(actor, "is_superuser", False):
        return True
    return any(
        grant.area is not None
        and policy.allows(grant.role, "activity", policy.MANAGE)
        and community.path.startswith(grant.area.path)
        for grant in policy.active_grants(actor)
    )


@transaction.atomic
def create_activity(
    actor: Any,
    *,
    title: str,
    kind: str,
    community: Area,
    organiser: Organisation,
    place: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    capacity: Any = 20,
    compound: Compound | None = None,
    project: Project | None = None,
    description: str = "",
    now: dt.datetime | None = None,
) -> Activity:
    now = now or timezone.now()
    if project is not None:
        community = project.community
        if compound is None:
            compound = project.compounds.order_by("id").first()
        kind = Activity.Kind.PROJECT_SHIFT
        if not policy.can(actor, policy.CHANGE, project):
            raise PermissionDenied
    elif not may_organise(actor, community, compound):
        raise PermissionDenied
    if community.level != Area.Level.COMMUNITY:
        raise ValidationError({"community": _("Choose a community.")})
    if compound is not None and compound.community_id != community.pk:
        raise ValidationError({"compound": _("That compound is in another community.")})
    if kind not in Activity.Kind.values:
        raise ValidationError({"kind": _("Choose the kind of activity.")})
    if starts_at is None or ends_at is None:
        raise ValidationError({"starts_at": _("Give the start and end time.")})
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": _("The activity must end after it starts.")})
    if ends_at - starts_at > dt.timedelta(hours=24):
        raise ValidationError({"ends_at": _("An activity lasts at most a day; make one per day.")})
    try:
        places = int(capacity)
    except (TypeError, ValueError):
        places = 0
    if not 1 <= places <= 500:
        raise ValidationError({"capacity": _("Between 1 and 500 places.")})
    activity = Activity.objects.create(
        title=clean_text(title, "title", limit=120),
        kind=kind,
        description=clean_text(description, "description", required=False),
        community=community,
        compound=compound,
        project=project,
        organiser=organiser,
        place=clean_text(place, "place", limit=120),
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=places,
        checkin_code=secrets.token_urlsafe(12)[:16],
        area_path=community.path,
        created_by=actor,
        created_at=now,
    )
    record_change(actor, "volunteers.activity.create", activity, after={"title": activity.title})
    if project is not None:
        from gongzhi.projects.events import log_event

        log_event(project, "shift", actor, now, data={"activity": activity.pk, "title": activity.title})
    return activity


def person_of(user: Any, *, create: bool = False) -> Person | None:
    """The person record of an account; a resident who volunteers for the first time gets one."""
    person = Person.objects.filter(user=user).first()
    if person is None and create and getattr(user, "is_authenticated", False):
        # Where they live (or the compound they serve) makes them the community's to look
        # after: its staff see their hours and adjust their points.
        home = Resident.objects.filter(user=user, moved_out__isnull=True).select_related("unit__compound")
        lived = home.order_by("id").first()
        grant = next((g for g in policy.active_grants(user) if g.compound is not None), None)
        compound = lived.unit.compound if lived else grant.compound if grant else None
        name = (lived.name if lived else user.get_full_name() or user.get_username())[:60]
        person = Person.objects.create(
            name=name, user=user, home_area_id=compound.community_id if compound else None
        )
    return person


def _open(activity: Activity) -> None:
    if activity.state != A.OPEN:
        raise ValidationError(_("This activity is “%(state)s”.") % {"state": A(activity.state).label})


@transaction.atomic
def sign_up(
    actor: Any, activity: Activity, person: Person | None = None, now: dt.datetime | None = None
) -> SignUp:
    """Sign yourself up (``person`` None) or, as staff, sign someone else up."""
    now = now or timezone.now()
    _require(actor, policy.VIEW, activity)
    if person is None:
        person = person_of(actor, create=True)
        assert person is not None
    elif person.user_id != getattr(actor, "pk", None):
        _require(actor, policy.CHANGE, activity)
    activity = _lock(activity)
    _open(activity)
    if now >= activity.ends_at:
        raise ValidationError(_("This activity is over."))
    _has_room(
        activity.signups.filter(cancelled_at__isnull=True),
        person,
        activity.capacity,
        already=_("%(name)s is already signed up.") % {"name": person.name},
        full=_("All %(n)s places are taken.") % {"n": activity.capacity},
    )
    signup = SignUp.objects.create(activity=activity, person=person, signed_up_at=now, recorded_by=actor)
    record_change(actor, "volunteers.signup", activity, after={"person": person.pk})
    return signup


def _has_room(active: Any, person: Person, places: int, *, already: Any, full: str) -> None:
    """Refuse a second place for the same person, and a place beyond the last one."""
    if active.filter(person=person).exists():
        raise ValidationError(already)
    if active.count() >= places:
        raise ValidationError(full)


def _end(
    actor: Any, record: Any, target: Any, *, field: str, ended: str, action: str, now: dt.datetime
) -> Any:
    """End a sign-up or a post held: the person themselves, or staff who may change ``target``."""
    if record.person.user_id != getattr(actor, "pk", None):
        _require(actor, policy.CHANGE, target)
    locked = type(record).objects.select_for_update().get(pk=record.pk)
    if getattr(locked, field) is not None:
        raise ValidationError(ended)
    setattr(locked, field, now)
    locked.save(update_fields=[field])
    record_change(actor, action, target, after={"person": locked.person_id})
    return locked


@transaction.atomic
def cancel_sign_up(actor: Any, signup: SignUp, now: dt.datetime | None = None) -> SignUp:
    return _end(
        actor,
        signup,
        signup.activity,
        field="cancelled_at",
        ended=_("This sign-up was already cancelled."),
        action="volunteers.signup.cancel",
        now=now or timezone.now(),
    )


def _window(activity: Activity, now: dt.datetime) -> None:
    # The QR code works from an hour before the start until three hours after the end.
    if not (activity.starts_at - dt.timedelta(hours=1) <= now <= activity.ends_at + dt.timedelta(hours=3)):
        raise ValidationError(
            _("Check-in is open from an hour before the start to three hours after the end.")
        )


@transaction.atomic
def check_in(
    actor: Any,
    activity: Activity,
    *,
    person: Person | None = None,
    code: str = "",
    at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Attendance:
    """Check in by the venue's QR code (``code``, yourself) or at the staff desk (``person``
    and optionally the time ``at``). Twice is refused."""
    now = now or timezone.now()
    activity = _lock(activity)
    _open(activity)
    if person is None:
        if not code or not secrets.compare_digest(code, activity.checkin_code):
            raise PermissionDenied
        _require(actor, policy.VIEW, activity)
        person = person_of(actor, create=True)
        assert person is not None
        method, when = Attendance.Method.QR, now
        _window(activity, now)
    else:
        _require(actor, policy.CHANGE, activity)
        method, when = Attendance.Method.STAFF, at or now
        if when > now:
            raise ValidationError({"at": _("The time cannot be in the future.")})
    if activity.attendances.filter(person=person).exists():
        raise ValidationError(_("%(name)s has already checked in.") % {"name": person.name})
    try:
        with transaction.atomic():
            attendance = Attendance.objects.create(
                activity=activity, person=person, checked_in_at=when, checked_in_by=method, recorded_by=actor
            )
    except IntegrityError:
        raise ValidationError(_("%(name)s has already checked in.") % {"name": person.name}) from None
    record_change(actor, "volunteers.checkin", activity, after={"person": person.pk, "method": method})
    return attendance


@transaction.atomic
def check_out(
    actor: Any,
    activity: Activity,
    *,
    person: Person | None = None,
    code: str = "",
    at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Attendance:
    now = now or timezone.now()
    activity = _lock(activity)
    _open(activity)
    if person is None:
        if not code or not secrets.compare_digest(code, activity.checkin_code):
            raise PermissionDenied
        person = person_of(actor)
        method, when = Attendance.Method.QR, now
        _window(activity, now)
    else:
        _require(actor, policy.CHANGE, activity)
        method, when = Attendance.Method.STAFF, at or now
        if when > now:
            raise ValidationError({"at": _("The time cannot be in the future.")})
    attendance = activity.attendances.select_for_update().filter(person=person).first() if person else None
    if attendance is None:
        raise ValidationError(_("Check in first."))
    if attendance.checked_out_at is not None:
        raise ValidationError(_("%(name)s has already checked out.") % {"name": attendance.person.name})
    if when <= attendance.checked_in_at:
        raise ValidationError({"at": _("The check-out must be after the check-in.")})
    attendance.checked_out_at = when
    attendance.checked_out_by = method
    attendance.save(update_fields=["checked_out_at", "checked_out_by"])
    record_change(
        actor, "volunteers.checkout", activity, after={"person": attendance.person_id, "method": method}
    )
    return attendance


def minutes_present(attendance: Attendance) -> int:
    """Whole minutes between check-in and check-out, inside the activity's time."""
    if attendance.checked_out_at is None:
        return 0
    start = max(attendance.checked_in_at, attendance.activity.starts_at)
    end = min(attendance.checked_out_at, attendance.activity.ends_at)
    return max(0, int((end - start).total_seconds() // 60))


def _account(person: Person) -> PointsAccount:
    account, _created = PointsAccount.objects.get_or_create(person=person)
    return PointsAccount.objects.select_for_update().get(pk=account.pk)


def _points_entry(
    account: PointsAccount,
    *,
    kind: str,
    points: Decimal,
    actor: Any,
    reason: str,
    evidence: str,
    at: dt.datetime,
    hours: HoursEntry | None = None,
) -> PointsEntry:
    balance = account.points + points
    if balance < 0:
        raise ValidationError(
            {"points": _("Only %(balance)s points are left.") % {"balance": account.points}}
        )
    account.entries_count += 1
    entry = PointsEntry.objects.create(
        person_id=account.person_id,
        seq=account.entries_count,
        kind=kind,
        points=points,
        balance_after=balance,
        hours=hours,
        reason=reason,
        evidence=evidence,
        approved_by=actor,
        at=at,
    )
    account.points = balance
    account.save(update_fields=["points", "entries_count", "minutes"])
    return entry


@transaction.atomic
def verify_activity(
    actor: Any, activity: Activity, *, version: int | None = None, now: dt.datetime | None = None
) -> list[HoursEntry]:
    """The organiser confirms the activity took place as recorded: hours and points are
    credited to everyone who checked in and out."""
    now = now or timezone.now()
    _require(actor, policy.MANAGE, activity)
    activity = _lock(activity, version)
    _open(activity)
    if now < activity.ends_at:
        raise ValidationError(_("An activity is verified after it ends."))
    credited = []
    attendances = activity.attendances.select_related("person").order_by("person_id")
    for attendance in attendances:
        present = minutes_present(attendance)
        if present <= 0:
            continue
        counted = min(present, max_minutes())
        hours = HoursEntry.objects.create(
            person=attendance.person,
            activity=activity,
            minutes_present=present,
            minutes_counted=counted,
            verified_by=actor,
            at=now,
        )
        account = _account(attendance.person)
        account.minutes += counted
        _points_entry(
            account,
            kind=PointsEntry.Kind.EARN,
            points=points_for(counted),
            actor=actor,
            reason=activity.title[:200],
            evidence=_("Attendance %(start)s–%(end)s, verified")
            % {
                "start": timezone.localtime(attendance.checked_in_at).strftime("%H:%M"),
                "end": timezone.localtime(attendance.checked_out_at).strftime("%H:%M"),
            },
            at=now,
            hours=hours,
        )
        credited.append(hours)
    activity.state = A.VERIFIED
    activity.verified_by = actor
    activity.verified_at = now
    activity.version += 1
    activity.save(update_fields=["state", "verified_by", "verified_at", "version"])
    record_change(actor, "volunteers.activity.verify", activity, after={"credited": len(credited)})
    if activity.project is not None:
        from gongzhi.projects.events import log_event

        log_event(
            activity.project,
            "shift_verified",
            actor,
            now,
            data={
                "activity": activity.pk,
                "people": len(credited),
                "minutes": sum(h.minutes_counted for h in credited),
            },
        )
    return credited


@transaction.atomic
def cancel_activity(
    actor: Any, activity: Activity, *, reason: str, now: dt.datetime | None = None
) -> Activity:
    _require(actor, policy.MANAGE, activity)
    activity = _lock(activity)
    _open(activity)
    reason = clean_text(reason, "reason")
    activity.state = A.CANCELLED
    activity.version += 1
    activity.save(update_fields=["state", "version"])
    record_change(actor, "volunteers.activity.cancel", activity, reason=reason)
    return activity


def may_adjust_points(actor: Any, person: Person) -> bool:
    """Community staff of the place the person lives or is registered with adjust points."""
    if getattr(actor, "is_superuser", False):
        return True
    places = [a.path for a in (person.party_registered_community, person.home_area) if a is not None]
    return any(
        grant.area is not None
        and policy.allows(grant.role, "activity", policy.MANAGE)
        and any(path.startswith(grant.area.path) for path in places)
        for grant in policy.active_grants(actor)
    )


def _points(value: Any) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except Exception:
        raise ValidationError({"points": _("Enter a number of points.")}) from None
    if not number.is_finite() or number <= 0:
        raise ValidationError({"points": _("Enter a number of points above zero.")})
    if number != number.quantize(TENTH):
        raise ValidationError({"points": _("Points go to one decimal at most.")})
    if number > MAX_POINTS:
        raise ValidationError({"points": _("At most %(n)s points at once.") % {"n": MAX_POINTS}})
    return number


@transaction.atomic
def adjust_points(
    actor: Any,
    person: Person,
    *,
    kind: str,
    points: Any,
    reason: str,
    evidence: str,
    now: dt.datetime | None = None,
) -> PointsEntry:
    """A bonus, a deduction or a redemption, each with its approver and evidence."""
    now = now or timezone.now()
    if not may_adjust_points(actor, person):
        raise PermissionDenied
    if kind not in (PointsEntry.Kind.BONUS, PointsEntry.Kind.DEDUCT, PointsEntry.Kind.REDEEM):
        raise ValidationError({"kind": _("Choose bonus, deduction or redemption.")})
    value = _points(points)
    reason = clean_text(reason, "reason", limit=200)
    evidence = clean_text(evidence, "evidence")
    account = _account(person)
    signed = value if kind == PointsEntry.Kind.BONUS else -value
    entry = _points_entry(
        account, kind=kind, points=signed, actor=actor, reason=reason, evidence=evidence, at=now
    )
    record_change(
        actor,
        f"volunteers.points.{kind}",
        person,
        after={"points": str(signed), "balance": str(entry.balance_after)},
        reason=reason,
    )
    return entry


# ---- party members: registration and posts -----------------------------------------------------


@transaction.atomic
def register_party_member(
    actor: Any, person: Person, community: Area, *, on: dt.date | None = None, now: dt.datetime | None = None
) -> Person:
    """双报到: a serving party member registers with the community where they live."""
    now = now or timezone.now()
    if not person.is_party_member:
        raise ValidationError(
            {"person": _("%(name)s is not recorded as a party member.") % {"name": person.name}}
        )
    if community.level != Area.Level.COMMUNITY:
        raise ValidationError({"community": _("Choose a community.")})
    if not may_organise(actor, community, None) and person.user_id != getattr(actor, "pk", None):
        raise PermissionDenied
    before = person.party_registered_community_id
    person.party_registered_community = community
    person.party_registered_on = on or timezone.localdate(now)
    person.save(update_fields=["party_registered_community", "party_registered_on"])
    record_change(
        actor,
        "volunteers.party.register",
        person,
        before={"community": before},
        after={"community": community.pk},
    )
    return person


@transaction.atomic
def create_post(
    actor: Any,
    *,
    community: Area,
    title: str,
    description: str = "",
    slots: Any = 1,
    compound: Compound | None = None,
    branch: Organisation | None = None,
    now: dt.datetime | None = None,
) -> Post:
    now = now or timezone.now()
    if not may_organise(actor, community, compound):
        raise PermissionDenied
    if branch is not None and branch.kind != Organisation.Kind.JOINT_BRANCH:
        raise ValidationError({"branch": _("Choose a joint party branch.")})
    try:
        slots = int(slots)
    except (TypeError, ValueError):
        slots = 0
    if not 1 <= slots <= 100:
        raise ValidationError({"slots": _("Between 1 and 100 people.")})
    post = Post.objects.create(
        community=community,
        compound=compound,
        branch=branch,
        title=clean_text(title, "title", limit=120),
        description=clean_text(description, "description", required=False),
        slots=slots,
        area_path=community.path,
        created_by=actor,
        created_at=now,
    )
    record_change(actor, "volunteers.post.create", post, after={"title": post.title})
    return post


@transaction.atomic
def take_post(
    actor: Any, post: Post, person: Person | None = None, now: dt.datetime | None = None
) -> PostTaking:
    """A registered party member takes a post (or the branch assigns one)."""
    now = now or timezone.now()
    _require(actor, policy.VIEW, post)
    if person is None:
        person = person_of(actor)
        if person is None:
            raise ValidationError(
                {"person": _("Your account has no person record; ask the community to add one.")}
            )
    elif person.user_id != getattr(actor, "pk", None):
        _require(actor, policy.CHANGE, post)
    post = Post.objects.select_for_update().get(pk=post.pk)
    if post.state != Post.State.OPEN:
        raise ValidationError(_("This post is closed."))
    if not person.is_party_member or person.party_registered_community_id is None:
        raise ValidationError(
            {
                "person": _("%(name)s must register with a community as a party member first.")
                % {"name": person.name}
            }
        )
    _has_room(
        post.takings.filter(left_at__isnull=True),
        person,
        post.slots,
        already={"person": _("%(name)s already holds this post.") % {"name": person.name}},
        full=_("The post is filled (%(n)s people).") % {"n": post.slots},
    )
    taking = PostTaking.objects.create(post=post, person=person, taken_at=now, recorded_by=actor)
    record_change(actor, "volunteers.post.take", post, after={"person": person.pk})
    return taking


@transaction.atomic
def leave_post(actor: Any, taking: PostTaking, now: dt.datetime | None = None) -> PostTaking:
    return _end(
        actor,
        taking,
        taking.post,
        field="left_at",
        ended=_("This post was already left."),
        action="volunteers.post.leave",
        now=now or timezone.now(),
    )


@transaction.atomic
def close_post(actor: Any, post: Post, now: dt.datetime | None = None) -> Post:
    _require(actor, policy.MANAGE, post)
    post = Post.objects.select_for_update().get(pk=post.pk)
    post.state = Post.State.CLOSED
    post.save(update_fields=["state"])
    record_change(actor, "volunteers.post.close", post)
    return post
