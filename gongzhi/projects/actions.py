"""Everything that changes a community project except its money (``projects.ledger``):
starting it from residents' needs, its states, leads, milestones and photos, disputes,
ratings and objections.

Each function is one transaction that checks the permission policy, refuses bad input with
a translated message naming the field, writes an audit event and the project's timeline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.consultations.models import Consultation
from gongzhi.core.audit import record_change
from gongzhi.core.money import clean_amount
from gongzhi.core.text import clean_text
from gongzhi.housing.models import Building, Compound, Unit
from gongzhi.meetings.models import Meeting, Resolution
from gongzhi.orgs import policy
from gongzhi.orgs.models import Organisation, Person
from gongzhi.projects.events import log_event
from gongzhi.projects.ledger import lock_project, missing_receipts, project_url, require, tell
from gongzhi.projects.models import (
    ZERO,
    Dispute,
    Expense,
    MediationStep,
    Milestone,
    MilestonePhoto,
    MilestoneUpdate,
    Objection,
    Project,
    ProjectLead,
    ProjectNeed,
    Rating,
    ServiceType,
)
from gongzhi.tickets.models import Ticket
from gongzhi.volunteers.models import HoursEntry

P = Project.State
# Moves a project can make; everything else is refused.
MOVES: dict[str, tuple[str, ...]] = {
    P.PREPARING: (P.RAISING, P.CANCELLED),
    P.RAISING: (P.UNDERWAY, P.CANCELLED),
    P.UNDERWAY: (P.ACCEPTANCE,),
    P.ACCEPTANCE: (P.UNDERWAY, P.CLOSED),
    P.CLOSED: (),
    P.CANCELLED: (),
}
OPEN_STATES = (P.PREPARING, P.RAISING, P.UNDERWAY, P.ACCEPTANCE)
MAX_MILESTONES = 30


def _text(value: Any, field: str, *, required: bool = True, limit: int = 4000) -> str:
    return clean_text(value, field, required=required, limit=limit)


def _open(project: Project) -> None:
    if project.state not in OPEN_STATES:
        raise ValidationError(
            _("The project is “%(state)s”; its record no longer changes.") % {"state": P(project.state).label}
        )


def _bump(project: Project, *fields: str) -> None:
    project.version += 1
    project.save(update_fields=["version", *fields])


def may_start(actor: Any, compounds: Iterable[Compound]) -> bool:
    compounds = list(compounds)
    return bool(compounds) and all(policy.can_within(actor, "project", policy.MANAGE, c) for c in compounds)


def _needs(
    actor: Any,
    compounds: list[Compound],
    tickets: Iterable[Ticket],
    consultations: Iterable[Consultation],
    resolutions: Iterable[Resolution],
) -> list[dict[str, Any]]:
    ids = {c.pk for c in compounds}
    out: list[dict[str, Any]] = []
    for ticket in tickets:
        if not policy.can(actor, policy.VIEW, ticket):
            raise ValidationError(
                {"tickets": _("Request %(code)s is not yours to see.") % {"code": f"#{ticket.pk}"}}
            )
        if ticket.compound_id not in ids:
            raise ValidationError(
                {
                    "tickets": _("Request %(code)s is from a compound outside the project.")
                    % {"code": f"#{ticket.pk}"}
                }
            )
        out.append({"ticket": ticket})
    for consultation in consultations:
        if not policy.can(actor, policy.VIEW, consultation):
            raise ValidationError({"consultations": _("That consultation is not yours to see.")})
        out.append({"consultation": consultation})
    for resolution in resolutions:
        meeting = resolution.item.meeting
        if not policy.can(actor, policy.VIEW, meeting):
            raise ValidationError({"resolutions": _("That resolution is not yours to see.")})
        if not resolution.adopted:
            raise ValidationError({"resolutions": _("A motion that was not adopted cannot start a project.")})
        out.append({"resolution": resolution})
    if not out:
        raise ValidationError(
            {
                "tickets": _(
                    "A project starts from residents' needs: "
                    "link at least one request, consultation or resolution."
                )
            }
        )
    return out


@transaction.atomic
def create_project(
    actor: Any,
    *,
    party_org: Organisation,
    title: str,
    kind: str,
    summary: str,
    compounds: Sequence[Compound],
    buildings: Sequence[Building] = (),
    branch: Organisation | None = None,
    committee: Organisation | None = None,
    member_units: Sequence[Organisation] = (),
    service_types: Sequence[ServiceType] = (),
    budget: Any = "0",
    approvals_required: int = 2,
    levies_owners: bool = False,
    tickets: Sequence[Ticket] = (),
    consultations: Sequence[Consultation] = (),
    resolutions: Sequence[Resolution] = (),
    leads: Sequence[tuple[Person, str]] = (),
    now: dt.datetime | None = None,
) -> Project:
    """The community party organisation starts a project from residents' needs."""
    now = now or timezone.now()
    compounds = list(compounds)
    if not compounds:
        raise ValidationError({"compounds": _("Choose the compounds the project serves.")})
    if not may_start(actor, compounds):
        raise PermissionDenied
    if party_org.kind != Organisation.Kind.PARTY_ORG:
        raise ValidationError({"party_org": _("A project is started by a community party organisation.")})
    community = compounds[0].community
    if any(c.community_id != community.pk for c in compounds):
        raise ValidationError({"compounds": _("All compounds of a project must be in one community.")})
    if not community.path.startswith(party_org.area.path):
        raise ValidationError({"party_org": _("That party organisation does not lead this community.")})
    ids = {c.pk for c in compounds}
    if any(b.compound_id not in ids for b in buildings):
        raise ValidationError({"buildings": _("Every building must be in one of the project's compounds.")})
    if branch is not None and branch.kind != Organisation.Kind.JOINT_BRANCH:
        raise ValidationError({"branch": _("Choose a joint party branch.")})
    if committee is not None and (
        committee.kind not in Organisation.COMMITTEE_KINDS or committee.compound_id not in ids
    ):
        raise ValidationError(
            {"committee": _("Choose the owners' committee of one of the project's compounds.")}
        )
    if any(u.kind != Organisation.Kind.MEMBER_UNIT for u in member_units):
        raise ValidationError({"member_units": _("Only member units can be involved as units.")})
    if any(not service.active for service in service_types):
        raise ValidationError({"service_types": _("That service type is no longer in use.")})
    if kind not in Project.Kind.values:
        raise ValidationError({"kind": _("Choose the kind of project.")})
    try:
        approvals = int(approvals_required)
    except (TypeError, ValueError):
        approvals = 0
    if not 1 <= approvals <= 5:
        raise ValidationError({"approvals_required": _("Between 1 and 5 approvers.")})
    needs = _needs(actor, compounds, tickets, consultations, resolutions)
    project = Project.objects.create(
        code=f"tmp-{now.timestamp()}-{getattr(actor, 'pk', 0)}",
        title=_text(title, "title", limit=120),
        kind=kind,
        summary=_text(summary, "summary"),
        party_org=party_org,
        community=community,
        area_path=community.path,
        branch=branch,
        committee=committee,
        budget=clean_amount(budget, "budget", allow_zero=True),
        approvals_required=approvals,
        levies_owners=bool(levies_owners),
        created_by=actor,
        created_at=now,
        state_changed_at=now,
    )
    project.code = f"XM{timezone.localdate(now):%Y}{project.pk:05d}"
    project.save(update_fields=["code"])
    project.compounds.set(compounds)
    project.buildings.set(buildings)
    project.member_units.set(member_units)
    project.service_types.set(service_types)
    ProjectNeed.objects.bulk_create(ProjectNeed(project=project, **need) for need in needs)
    for person, role in leads:
        ProjectLead.objects.create(project=project, person=person, role=_text(role, "leads", limit=60))
    record_change(actor, "projects.create", project, after={"code": project.code, "needs": len(needs)})
    log_event(project, "created", actor, now, data={"needs": len(needs)})
    return project


@transaction.atomic
def add_lead(
    actor: Any, project: Project, person: Person, role: str, now: dt.datetime | None = None
) -> ProjectLead:
    now = now or timezone.now()
    require(actor, policy.CHANGE, project)
    _open(project)
    if project.leads.filter(person=person).exists():
        raise ValidationError(
            {"person": _("%(name)s already leads part of this project.") % {"name": person.name}}
        )
    lead = ProjectLead.objects.create(project=project, person=person, role=_text(role, "role", limit=60))
    record_change(actor, "projects.lead.add", project, after={"person": person.pk, "role": lead.role})
    log_event(project, "lead", actor, now, data={"person": person.name, "role": lead.role})
    return lead


def close_blockers(project: Project) -> list[str]:
    """Why the project cannot close yet, in words (empty when it can)."""
    reasons = []
    unanswered = project.objections.filter(answered_at__isnull=True).count()
    if unanswered:
        reasons.append(_("Residents' objections not yet answered: %(n)s.") % {"n": unanswered})
    disputes = project.disputes.filter(state=Dispute.State.OPEN).count()
    if disputes:
        reasons.append(_("Disputes still open: %(n)s.") % {"n": disputes})
    pending = project.expenses.filter(state__in=Expense.OPEN).count()
    if pending:
        reasons.append(_("Expenses awaiting approval or payment: %(n)s.") % {"n": pending})
    missing = missing_receipts(project).count()
    if missing:
        reasons.append(_("Paid expenses still without a receipt: %(n)s.") % {"n": missing})
    return reasons


def _move_blockers(project: Project, to: str) -> list[str]:
    if to == P.ACCEPTANCE:
        unfinished = project.milestones.filter(progress__lt=100).count()
        if not project.milestones.exists():
            return [_("Add the project's milestones first.")]
        if unfinished:
            return [_("Milestones not finished: %(n)s.") % {"n": unfinished}]
    if to == P.CLOSED:
        return close_blockers(project)
    if to == P.CANCELLED:
        if project.balance > ZERO:
            return [
                _("The fund still holds %(balance)s yuan; return it with reversing entries first.")
                % {"balance": project.balance}
            ]
        if project.expenses.filter(state__in=Expense.OPEN).exists():
            return [_("Withdraw the expenses awaiting approval or payment first.")]
    return []


@transaction.atomic
def move(
    actor: Any,
    project: Project,
    to: str,
    *,
    note: str = "",
    version: int | None = None,
    now: dt.datetime | None = None,
) -> Project:
    """Move the project to another state (the table ``MOVES``), with the checks of each."""
    now = now or timezone.now()
    require(actor, policy.MANAGE, project)
    project = lock_project(project, version)
    if to not in MOVES.get(project.state, ()):
        raise ValidationError(
            _("A project that is “%(state)s” cannot become “%(to)s”.")
            % {"state": P(project.state).label, "to": P(to).label if to in P.values else to}
        )
    blockers = _move_blockers(project, to)
    if blockers:
        raise ValidationError(blockers)
    note = _text(
        note, "note", required=to in (P.CANCELLED,) or (project.state == P.ACCEPTANCE and to == P.UNDERWAY)
    )
    before = project.state
    project.state = to
    project.state_changed_at = now
    if to == P.CLOSED:
        project.closed_at = now
    _bump(project, "state", "state_changed_at", "closed_at")
    record_change(actor, "projects.move", project, before={"state": before}, after={"state": to}, reason=note)
    log_event(project, "state", actor, now, note=note, data={"from": before, "to": to})
    return project


# ---- milestones -------------------------------------------------------------------------------


def progress(project: Project) -> int:
    """Weighted progress of the milestones, in whole percent (rounded down)."""
    rows = list(project.milestones.values_list("weight", "progress"))
    weights = sum(w for w, _p in rows)
    if not weights:
        return 0
    return int(Fraction(sum(w * p for w, p in rows), weights))


def _percent(value: Any, field: str) -> int:
    try:
        number = int(str(value).strip().rstrip("%"))
    except (TypeError, ValueError):
        raise ValidationError({field: _("Enter a whole percentage from 0 to 100.")}) from None
    if not 0 <= number <= 100:
        raise ValidationError({field: _("Enter a whole percentage from 0 to 100.")})
    return number


@transaction.atomic
def add_milestone(
    actor: Any,
    project: Project,
    *,
    title: str,
    weight: Any = 1,
    due_on: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Milestone:
    now = now or timezone.now()
    require(actor, policy.CHANGE, project)
    project = lock_project(project)
    _open(project)
    if project.milestones.count() >= MAX_MILESTONES:
        raise ValidationError({"title": _("At most %(n)s milestones.") % {"n": MAX_MILESTONES}})
    try:
        weight = int(weight)
    except (TypeError, ValueError):
        weight = 0
    if not 1 <= weight <= 100:
        raise ValidationError({"weight": _("The weight is a whole number from 1 to 100.")})
    milestone = Milestone.objects.create(
        project=project,
        title=_text(title, "title", limit=120),
        weight=weight,
        due_on=due_on,
        position=project.milestones.count(),
    )
    record_change(
        actor, "projects.milestone.add", project, after={"milestone": milestone.title, "weight": weight}
    )
    log_event(project, "milestone", actor, now, data={"milestone": milestone.title})
    return milestone


@transaction.atomic
def report_progress(
    actor: Any,
    milestone: Milestone,
    *,
    progress: Any,
    note: str = "",
    photos: Sequence[tuple[str, dt.date, Any]] = (),
    now: dt.datetime | None = None,
) -> MilestoneUpdate:
    """New progress of a milestone, with dated before/during/after photos. Going back needs
    a note saying why."""
    now = now or timezone.now()
    project = milestone.project
    require(actor, policy.CHANGE, project)
    project = lock_project(project)
    _open(project)
    milestone = Milestone.objects.select_for_update().get(pk=milestone.pk)
    value = _percent(progress, "progress")
    note = _text(note, "note", required=value < milestone.progress, limit=2000)
    today = timezone.localdate(now)
    for stage, taken_on, _photo in photos:
        if stage not in MilestonePhoto.Stage.values:
            raise ValidationError(
                {"photos": _("Say whether the photo is from before, during or after the work.")}
            )
        if taken_on is None or taken_on > today:
            raise ValidationError({"photos": _("Give the date the photo was taken (not in the future).")})
    update = MilestoneUpdate.objects.create(milestone=milestone, progress=value, note=note, by=actor, at=now)
    for stage, taken_on, photo in photos:
        MilestonePhoto.objects.create(
            milestone=milestone,
            stage=stage,
            taken_on=taken_on,
            file=photo.content,
            content_type=photo.content_type,
            extension=photo.extension,
            size=photo.size,
            sha256=photo.sha256,
            uploaded_by=actor,
            uploaded_at=now,
        )
    before = milestone.progress
    milestone.progress = value
    milestone.done_on = today if value == 100 else None
    milestone.save(update_fields=["progress", "done_on"])
    record_change(
        actor,
        "projects.milestone.progress",
        project,
        before={"progress": before},
        after={"milestone": milestone.title, "progress": value, "photos": len(photos)},
        reason=note,
    )
    log_event(
        project, "progress", actor, now, note=note, data={"milestone": milestone.title, "progress": value}
    )
    return update


# ---- disputes (矛盾纠纷) ------------------------------------------------------------------------


def _meeting(actor: Any, meeting: Meeting | None) -> Meeting | None:
    if meeting is not None and not policy.can(actor, policy.VIEW, meeting):
        raise ValidationError({"meeting": _("That meeting is not yours to see.")})
    return meeting


@transaction.atomic
def open_dispute(
    actor: Any,
    project: Project,
    *,
    title: str,
    parties: str,
    issue: str,
    meeting: Meeting | None = None,
    now: dt.datetime | None = None,
) -> Dispute:
    now = now or timezone.now()
    require(actor, policy.CHANGE, project)
    _open(project)
    dispute = Dispute.objects.create(
        project=project,
        title=_text(title, "title", limit=120),
        parties=_text(parties, "parties", limit=1000),
        issue=_text(issue, "issue"),
        meeting=_meeting(actor, meeting),
        opened_by=actor,
        opened_at=now,
    )
    record_change(
        actor, "projects.dispute.open", project, after={"dispute": dispute.pk, "title": dispute.title}
    )
    log_event(project, "dispute_opened", actor, now, data={"dispute": dispute.pk, "title": dispute.title})
    return dispute


def _open_dispute(dispute: Dispute) -> Dispute:
    locked = Dispute.objects.select_for_update().get(pk=dispute.pk)
    if locked.state != Dispute.State.OPEN:
        raise ValidationError(_("This dispute is closed; open a new one if it flares up again."))
    return locked


@transaction.atomic
def add_mediation_step(
    actor: Any,
    dispute: Dispute,
    *,
    text: str,
    mediator: str = "",
    meeting: Meeting | None = None,
    now: dt.datetime | None = None,
) -> MediationStep:
    now = now or timezone.now()
    require(actor, policy.CHANGE, dispute.project)
    dispute = _open_dispute(dispute)
    step = MediationStep.objects.create(
        dispute=dispute,
        text=_text(text, "text"),
        mediator=_text(mediator, "mediator", required=False, limit=120),
        by=actor,
        at=now,
    )
    if meeting is not None:
        dispute.meeting = _meeting(actor, meeting)
        dispute.save(update_fields=["meeting"])
    record_change(actor, "projects.dispute.step", dispute.project, after={"dispute": dispute.pk})
    log_event(dispute.project, "mediation", actor, now, data={"dispute": dispute.pk, "title": dispute.title})
    return step


@transaction.atomic
def close_dispute(
    actor: Any,
    dispute: Dispute,
    *,
    settled: bool,
    outcome: str,
    meeting: Meeting | None = None,
    now: dt.datetime | None = None,
) -> Dispute:
    now = now or timezone.now()
    require(actor, policy.CHANGE, dispute.project)
    dispute = _open_dispute(dispute)
    dispute.state = Dispute.State.SETTLED if settled else Dispute.State.UNSETTLED
    dispute.outcome = _text(outcome, "outcome")
    if meeting is not None:
        dispute.meeting = _meeting(actor, meeting)
    dispute.closed_by = actor
    dispute.closed_at = now
    dispute.save(update_fields=["state", "outcome", "meeting", "closed_by", "closed_at"])
    record_change(
        actor,
        "projects.dispute.close",
        dispute.project,
        after={"dispute": dispute.pk, "state": dispute.state},
    )
    log_event(
        dispute.project, "dispute_closed", actor, now, data={"dispute": dispute.pk, "state": dispute.state}
    )
    return dispute


# ---- two-way supervision ----------------------------------------------------------------------


def households_of(user: Any, project: Project) -> QuerySet[Unit]:
    """The households of the project's compounds a resident lives in or owns. Every
    household of the compounds may object and rate, also where the work concerns only some
    buildings: the common parts are everyone's."""
    if not getattr(user, "is_authenticated", False):
        return Unit.objects.none()
    mine = Q(residents__user=user, residents__moved_out__isnull=True) | Q(ownerships__owner__user=user)
    return Unit.objects.filter(mine, compound__in=project.compounds.values("id")).distinct()


def resident_targets(project: Project) -> list[tuple[str, Organisation | None]]:
    """What residents rate at acceptance: the project, its committee, branch and units."""
    targets: list[tuple[str, Organisation | None]] = [(Rating.Target.PROJECT, None)]
    if project.committee is not None:
        targets.append((Rating.Target.COMMITTEE, project.committee))
    if project.branch is not None:
        targets.append((Rating.Target.BRANCH, project.branch))
    targets += [(Rating.Target.UNIT, unit) for unit in project.member_units.order_by("name")]
    return targets


def _score(value: Any, field: str) -> int:
    try:
        score = int(value)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise ValidationError({field: _("Give 1 to 5 stars.")})
    return score


def _household(actor: Any, project: Project, household: Unit | None) -> tuple[Unit, bool]:
    """The household speaking and whether staff record it for them."""
    own = households_of(actor, project)
    if household is None:
        household = own.first()
        if household is None:
            raise ValidationError({"household": _("Choose the household.")})
    if own.filter(pk=household.pk).exists():
        return household, False
    if not policy.can(actor, policy.CHANGE, project):
        raise PermissionDenied
    if household.compound_id not in set(project.compounds.values_list("id", flat=True)):
        raise ValidationError({"household": _("This household is not in the project's compounds.")})
    return household, True


@transaction.atomic
def rate_as_household(
    actor: Any,
    project: Project,
    *,
    scores: dict[str, Any],
    comment: str = "",
    household: Unit | None = None,
    now: dt.datetime | None = None,
) -> list[Rating]:
    """A household's ratings at acceptance. ``scores`` maps ``target`` or ``unit:<id>`` to
    1–5 stars; every target must be rated. Once per household."""
    now = now or timezone.now()
    if project.state not in (P.ACCEPTANCE,):
        raise ValidationError(_("Residents rate the project at its acceptance check."))
    household, staff = _household(actor, project, household)
    project = lock_project(project)
    if project.ratings.filter(direction=Rating.Direction.RESIDENT, household=household).exists():
        raise ValidationError(_("This household has already rated the project."))
    comment = _text(comment, "comment", required=False, limit=1000)
    rows = []
    for target, org in resident_targets(project):
        key = f"unit:{org.pk}" if target == Rating.Target.UNIT and org is not None else target
        rows.append(
            Rating(
                project=project,
                direction=Rating.Direction.RESIDENT,
                target=target,
                organisation=org,
                score=_score(scores.get(key), key),
                comment=comment,
                household=household,
                staff_assisted=staff,
                rated_by=actor,
                at=now,
            )
        )
    Rating.objects.bulk_create(rows)
    record_change(actor, "projects.rate.resident", project, after={"household": household.pk, "staff": staff})
    log_event(project, "rated", actor, now, data={"direction": "resident"})
    return rows


def involved_people(project: Project) -> QuerySet[Person]:
    """Who took part in the project: its leads, the members in office of its joint branch
    and owners' committee, and those credited hours on its labour shifts."""
    bodies = [body.pk for body in (project.branch, project.committee) if body is not None]
    shifts = HoursEntry.objects.filter(activity__project=project).values("person_id")
    return Person.objects.filter(
        Q(project_leads__project=project)
        | Q(memberships__organisation__in=bodies, memberships__left_on__isnull=True)
        | Q(pk__in=shifts)
    ).distinct()


@transaction.atomic
def rate_contribution(
    actor: Any,
    project: Project,
    *,
    score: Any,
    comment: str = "",
    organisation: Organisation | None = None,
    person: Person | None = None,
    now: dt.datetime | None = None,
) -> Rating:
    """The community rates a member unit's or a party member's contribution; once each."""
    now = now or timezone.now()
    require(actor, policy.MANAGE, project)
    if project.state not in (P.ACCEPTANCE, P.CLOSED):
        raise ValidationError(_("Contributions are rated at the acceptance check or after closing."))
    if (organisation is None) == (person is None):
        raise ValidationError({"target": _("Rate either a member unit or a party member.")})
    if organisation is not None:
        if not project.member_units.filter(pk=organisation.pk).exists():
            raise ValidationError({"target": _("That unit is not involved in the project.")})
        target, found = (
            Rating.Target.UNIT,
            project.ratings.filter(direction="community", organisation=organisation),
        )
    else:
        assert person is not None
        if not person.is_party_member:
            raise ValidationError({"target": _("%(name)s is not a party member.") % {"name": person.name}})
        if not involved_people(project).filter(pk=person.pk).exists():
            raise ValidationError(
                {"target": _("%(name)s took no part in this project.") % {"name": person.name}}
            )
        target, found = (
            Rating.Target.PARTY_MEMBER,
            project.ratings.filter(direction="community", person=person),
        )
    if found.exists():
        raise ValidationError({"target": _("That contribution has already been rated.")})
    rating = Rating.objects.create(
        project=project,
        direction=Rating.Direction.COMMUNITY,
        target=target,
        organisation=organisation,
        person=person,
        score=_score(score, "score"),
        comment=_text(comment, "comment", required=False, limit=1000),
        rated_by=actor,
        at=now,
    )
    record_change(actor, "projects.rate.community", project, after={"target": target, "score": rating.score})
    log_event(project, "rated", actor, now, data={"direction": "community"})
    return rating


def rating_summary(project: Project) -> list[dict[str, Any]]:
    """Average and count per rated target and direction, averages exact to one decimal."""
    groups: dict[tuple[str, str, int | None, int | None], list[int]] = {}
    names: dict[tuple[str, str, int | None, int | None], str] = {}
    for r in project.ratings.select_related("organisation", "person"):
        key = (r.direction, r.target, r.organisation_id, r.person_id)
        groups.setdefault(key, []).append(r.score)
        names[key] = r.organisation.name if r.organisation else r.person.name if r.person else project.title
    out = []
    for key, scores in groups.items():
        average = Fraction(sum(scores), len(scores))
        out.append(
            {
                "direction": key[0],
                "target": key[1],
                "target_label": Rating.Target(key[1]).label,
                "name": names[key],
                "count": len(scores),
                "average": f"{float(round(average, 1)):.1f}",
            }
        )
    out.sort(key=lambda row: (row["direction"] != "resident", row["target"], row["name"]))
    return out


@transaction.atomic
def raise_objection(
    actor: Any,
    project: Project,
    *,
    text: str,
    household: Unit | None = None,
    now: dt.datetime | None = None,
) -> Objection:
    """A resident objects; the project cannot close until it is answered."""
    now = now or timezone.now()
    require(actor, policy.VIEW, project)
    project = lock_project(project)
    _open(project)
    household, staff = _household(actor, project, household)
    objection = Objection.objects.create(
        project=project,
        text=_text(text, "text", limit=2000),
        household=household,
        raised_by=actor,
        staff_assisted=staff,
        raised_at=now,
    )
    record_change(
        actor, "projects.objection.raise", project, after={"objection": objection.pk, "staff": staff}
    )
    log_event(project, "objection", actor, now, data={"objection": objection.pk})
    return objection


@transaction.atomic
def answer_objection(
    actor: Any, objection: Objection, *, answer: str, now: dt.datetime | None = None
) -> Objection:
    now = now or timezone.now()
    require(actor, policy.CHANGE, objection.project)
    objection = Objection.objects.select_for_update().get(pk=objection.pk)
    if objection.answered_at is not None:
        raise ValidationError(_("This objection has been answered; its answer is not changed."))
    objection.answer = _text(answer, "answer", limit=2000)
    objection.answered_by = actor
    objection.answered_at = now
    objection.save(update_fields=["answer", "answered_by", "answered_at"])
    record_change(actor, "projects.objection.answer", objection.project, after={"objection": objection.pk})
    log_event(objection.project, "objection_answered", actor, now, data={"objection": objection.pk})
    if objection.raised_by is not None and not objection.staff_assisted:
        tell(
            [objection.raised_by],
            _("Your objection has been answered"),
            f"{objection.project.title}: {objection.answer[:200]}",
            project_url(objection.project),
            now,
        )
    return objection
