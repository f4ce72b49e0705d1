"""The project's page: what it is and why, its leads, progress and photos, disputes,
objections, two-way supervision, labour shifts, the fund summary and the timeline — with
the forms of what the user may do at the project's stage. The forms post to
``views_record``; an error there renders this page again with the form as it was filled.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.meetings.models import Meeting
from gongzhi.orgs import policy
from gongzhi.orgs.models import Organisation, Person
from gongzhi.projects import actions, ledger, timeline, views_money
from gongzhi.projects.forms import (
    PHOTO_ROWS,
    AnswerForm,
    ContributionForm,
    DisputeCloseForm,
    DisputeForm,
    LeadForm,
    MediationForm,
    MilestoneForm,
    MoveForm,
    ObjectionForm,
    ProgressForm,
    ResidentRatingForm,
)
from gongzhi.projects.models import Dispute, MediationStep, MilestoneUpdate, Project, Rating
from gongzhi.projects.views import LIMIT, person_label, project_or_404, shows_people
from gongzhi.volunteers.models import Attendance

P = Project.State
# What the button of each move says.
MOVE_LABELS: dict[str, Any] = {
    P.RAISING: gettext_lazy("Start raising funds and labour"),
    P.UNDERWAY: gettext_lazy("Start the work"),
    P.ACCEPTANCE: gettext_lazy("Work finished: hold the acceptance check"),
    P.CLOSED: gettext_lazy("Close the project"),
    P.CANCELLED: gettext_lazy("Cancel the project"),
}


def _move_label(state: str, to: str) -> str:
    if state == P.ACCEPTANCE and to == P.UNDERWAY:
        return _("Not accepted: back to work")
    return str(MOVE_LABELS[to])


def _url_or_none(name: str, pk: int) -> str | None:
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return None


def meeting_choices(user: Any, project: Project) -> list[tuple[int, str]]:
    """Meetings a dispute can be taken to: those in the user's scope held for the project's
    compounds, its community or the areas above it."""
    parts = [p for p in project.community.path.split("/") if p]
    prefixes = ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
    meetings = (
        policy.scope(user, "meeting")
        .filter(Q(compound__in=project.compounds.values("id")) | Q(area_path__in=prefixes))
        .exclude(state=Meeting.State.CANCELLED)
        .order_by("-starts_at")[:100]
    )
    return [(m.pk, f"{m.starts_at:%Y-%m-%d} · {m.title}") for m in meetings]


def household_choices(units: Any) -> list[tuple[int, str]]:
    return [
        (u.pk, f"{u.compound.name} {u.address_label}")
        for u in units.select_related("compound", "building", "entrance").order_by(
            "building_id", "entrance_id", "number"
        )[: LIMIT * 4]
    ]


def rating_targets(project: Project) -> list[tuple[str, str]]:
    """(key, label) of what a household rates, in the order of ``actions.resident_targets``."""
    out = []
    for target, org in actions.resident_targets(project):
        if target == Rating.Target.UNIT and org is not None:
            out.append((f"unit:{org.pk}", f"{Rating.Target(target).label}：{org.name}"))
        elif org is not None:
            out.append((str(target), f"{Rating.Target(target).label}：{org.name}"))
        else:
            out.append((str(target), f"{Rating.Target(target).label}：{project.title}"))
    return out


def contribution_targets(project: Project, units: list[Organisation]) -> list[tuple[str, str]]:
    """Member units and party members (leads and those who worked a shift) not yet rated."""
    rated = project.ratings.filter(direction=Rating.Direction.COMMUNITY)
    rated_orgs = set(rated.values_list("organisation_id", flat=True))
    rated_people = set(rated.values_list("person_id", flat=True))
    choices = [(f"org:{u.pk}", u.name) for u in units if u.pk not in rated_orgs]
    workers = Attendance.objects.filter(activity__project=project).values("person_id")
    members = (
        Person.objects.filter(Q(project_leads__project=project) | Q(id__in=workers), is_party_member=True)
        .distinct()
        .order_by("name", "id")
    )
    choices += [(f"person:{p.pk}", person_label(p)) for p in members if p.pk not in rated_people]
    return choices


def household_form_choices(
    user: Any, project: Project, may_change: bool, exclude: set[int]
) -> tuple[list[tuple[int, str]], bool]:
    """The households the user may speak for (their own first, then — for staff — every
    household in scope), and whether they are all the user's own."""
    own = actions.households_of(user, project).exclude(pk__in=exclude)
    choices = household_choices(own)
    own_only = True
    if may_change:
        own_ids = {pk for pk, _label in choices}
        others = ledger.scope_units(project).exclude(pk__in=exclude | own_ids)
        choices += household_choices(others)
        own_only = not others.exists()
    return choices, own_only


def hide_single_household(form: forms.Form, choices: list[tuple[int, str]], own_only: bool) -> None:
    """A resident with one household does not choose it."""
    if own_only and len(choices) == 1:
        form.fields["household"].widget = forms.HiddenInput()
        form.fields["household"].initial = choices[0][0]


def render_detail(
    request: HttpRequest,
    project: Project,
    *,
    bound: dict[str, forms.Form] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The project's page. ``bound`` holds forms posted with an error, by key, shown with
    the user's input kept; ``errors`` are shown at the top."""
    user = request.user
    bound = bound or {}
    project = Project.objects.select_related(
        "community", "party_org", "branch", "committee", "created_by"
    ).get(pk=project.pk)
    state = project.state
    is_open = state in actions.OPEN_STATES
    may_manage = policy.can(user, policy.MANAGE, project)
    may_change = policy.can(user, policy.CHANGE, project)
    people_shown = shows_people(user)
    compounds = list(project.compounds.order_by("id"))
    units = list(project.member_units.order_by("name"))

    needs = list(
        project.needs.select_related(
            "ticket__compound", "consultation", "resolution__item__meeting"
        ).order_by("id")
    )
    tickets_seen = set(
        policy.scope(user, "ticket")
        .filter(pk__in=[n.ticket_id for n in needs if n.ticket_id])
        .values_list("pk", flat=True)
    )
    consultations_seen = set(
        policy.scope(user, "consultation")
        .filter(pk__in=[n.consultation_id for n in needs if n.consultation_id])
        .values_list("pk", flat=True)
    )
    meetings_seen = set(
        policy.scope(user, "meeting")
        .filter(pk__in=[n.resolution.item.meeting_id for n in needs if n.resolution is not None])
        .values_list("pk", flat=True)
    )

    milestones = list(
        project.milestones.prefetch_related(
            Prefetch("updates", queryset=MilestoneUpdate.objects.select_related("by").order_by("at", "id")),
            "photos",
        ).order_by("position", "id")
    )
    today = timezone.localdate()
    taken_today = {f"taken{row}": today for row in range(1, PHOTO_ROWS + 1)}
    milestone_rows = [
        {
            "m": m,
            "overdue": m.due_on is not None and m.progress < 100 and m.due_on < today,
            "form": (
                bound.get(f"progress-{m.pk}")
                or ProgressForm(
                    auto_id=f"p{m.pk}_%s",
                    initial={"progress": m.progress, **taken_today},
                )
            )
            if may_change and is_open
            else None,
        }
        for m in milestones
    ]

    disputes = sorted(
        project.disputes.select_related("meeting").prefetch_related(
            Prefetch("steps", queryset=MediationStep.objects.select_related("by").order_by("at", "id"))
        ),
        key=lambda d: (d.state != Dispute.State.OPEN, -d.pk),
    )
    meetings = meeting_choices(user, project) if may_change else []
    dispute_meetings_seen = set(
        policy.scope(user, "meeting")
        .filter(pk__in=[d.meeting_id for d in disputes if d.meeting_id])
        .values_list("pk", flat=True)
    )
    dispute_rows = [
        {
            "d": d,
            "meeting_visible": d.meeting_id in dispute_meetings_seen,
            "step_form": (
                bound.get(f"step-{d.pk}") or MediationForm(meetings=meetings, auto_id=f"s{d.pk}_%s")
            )
            if may_change and d.state == Dispute.State.OPEN
            else None,
            "close_form": (bound.get(f"close-{d.pk}") or DisputeCloseForm(auto_id=f"c{d.pk}_%s"))
            if may_change and d.state == Dispute.State.OPEN
            else None,
        }
        for d in disputes
    ]

    objections = list(
        project.objections.select_related("household__compound", "household__building", "household__entrance")
    )
    objection_rows = [
        {
            "o": o,
            "answer_form": (bound.get(f"answer-{o.pk}") or AnswerForm(auto_id=f"o{o.pk}_%s"))
            if may_change and o.answered_at is None
            else None,
        }
        for o in objections
    ]
    objection_form = None
    if is_open:
        choices, own_only = household_form_choices(user, project, may_change, set())
        if choices:
            objection_form = bound.get("objection") or ObjectionForm(households=choices, auto_id="ob_%s")
            hide_single_household(objection_form, choices, own_only)

    rated_households = set(
        project.ratings.filter(direction=Rating.Direction.RESIDENT).values_list("household_id", flat=True)
    )
    own_households = set(actions.households_of(user, project).values_list("pk", flat=True))
    rating_form = None
    if state == P.ACCEPTANCE:
        choices, own_only = household_form_choices(user, project, may_change, rated_households)
        if choices:
            rating_form = bound.get("rate") or ResidentRatingForm(
                targets=rating_targets(project), households=choices, auto_id="rt_%s"
            )
            hide_single_household(rating_form, choices, own_only)
    contribution_form = None
    if may_manage and state in (P.ACCEPTANCE, P.CLOSED):
        targets = contribution_targets(project, units)
        if targets:
            contribution_form = bound.get("contribution") or ContributionForm(
                targets=targets, auto_id="cb_%s"
            )

    moves = []
    if may_manage:
        for to in actions.MOVES.get(state, ()):
            moves.append(
                {
                    "to": to,
                    "label": _move_label(state, to),
                    "note_required": to == P.CANCELLED or (state == P.ACCEPTANCE and to == P.UNDERWAY),
                    "blockers": actions.close_blockers(project) if to == P.CLOSED else [],
                    "form": bound.get(f"move-{to}")
                    or MoveForm(initial={"version": project.version}, auto_id=f"mv{to}_%s"),
                }
            )

    shifts = list(
        policy.scope(user, "activity")
        .filter(project=project)
        .annotate(signed_up=Count("signups", filter=Q(signups__cancelled_at__isnull=True)))
        .order_by("starts_at", "id")
    )
    for shift in shifts:
        shift.url = _url_or_none("activity-detail", shift.pk)

    page_errors = list(errors or [])
    for form in bound.values():
        for field_errors in form.errors.values():
            page_errors.extend(str(e) for e in field_errors)

    people = (
        [(p.pk, person_label(p)) for p in policy.scope(user, "person").order_by("name", "id")[:LIMIT]]
        if (may_change and is_open)
        else []
    )
    context: dict[str, Any] = views_money.money_context(request, project)
    context.update(
        {
            "project": project,
            "P": P,
            "is_open": is_open,
            "may_manage": may_manage,
            "may_change": may_change,
            "show_people": people_shown,
            "page_errors": page_errors,
            "compounds": compounds,
            "buildings": list(project.buildings.select_related("compound").order_by("compound_id", "id")),
            "member_units": units,
            "services": list(project.service_types.all()),
            "needs": needs,
            "tickets_seen": tickets_seen,
            "consultations_seen": consultations_seen,
            "meetings_seen": meetings_seen,
            "leads": list(project.leads.select_related("person")),
            "lead_form": (bound.get("lead") or LeadForm(people=people, auto_id="ld_%s")) if people else None,
            "progress": actions.progress(project),
            "milestone_rows": milestone_rows,
            "milestone_form": (bound.get("milestone") or MilestoneForm(auto_id="ms_%s"))
            if may_change and is_open
            else None,
            "dispute_rows": dispute_rows,
            "open_disputes": sum(1 for d in disputes if d.state == Dispute.State.OPEN),
            "dispute_form": (bound.get("dispute") or DisputeForm(meetings=meetings, auto_id="dp_%s"))
            if may_change and is_open
            else None,
            "objection_rows": objection_rows,
            "unanswered": sum(1 for o in objections if o.answered_at is None),
            "objection_form": objection_form,
            "own_households": own_households,
            "rated_own": bool(own_households) and own_households <= rated_households,
            "rating_form": rating_form,
            "contribution_form": contribution_form,
            "rating_summary": actions.rating_summary(project),
            "moves": moves,
            "shifts": shifts,
            "may_add_shift": may_change and is_open,
            "lines": timeline.build(
                project.events.select_related("actor").order_by("at", "id"), show_people=people_shown
            ),
            "public_links": [(c, f"/c/{c.code}/projects/{project.pk}/") for c in compounds],
        }
    )
    return render(request, "projects/detail.html", context, status=status)


@login_required
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_detail(request, project_or_404(request, pk))
