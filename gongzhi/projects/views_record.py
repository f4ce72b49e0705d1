"""What is recorded from the project's page: state moves, leads, milestones and progress
with photos, disputes and their mediation, residents' objections and answers, and the
ratings of two-way supervision. Each view calls one action; on an error the project's
page comes back with status 400, the form as the user filled it and the action's message.
A refusal by the policy is a 403.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.housing.models import Unit
from gongzhi.meetings.models import Meeting
from gongzhi.orgs import policy
from gongzhi.orgs.models import Organisation, Person
from gongzhi.projects import actions
from gongzhi.projects.forms import (
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
    score_field_name,
)
from gongzhi.projects.models import Dispute, Milestone, Objection, Project, Rating
from gongzhi.projects.views import LIMIT, form_errors, person_label, project_or_404
from gongzhi.projects.views_detail import (
    contribution_targets,
    household_form_choices,
    meeting_choices,
    rating_targets,
    render_detail,
)
from gongzhi.tickets.photos import clean_photo


def back_to(project: Project, anchor: str = "") -> HttpResponse:
    url = reverse("project-detail", args=[project.pk])
    return redirect(f"{url}#{anchor}" if anchor else url)


def again(request: HttpRequest, project: Project, key: str, form: forms.Form) -> HttpResponse:
    """The project's page with the form that failed, as filled, and status 400."""
    return render_detail(request, project, bound={key: form}, status=400)


def _meeting(pk: int | None) -> Meeting | None:
    return Meeting.objects.filter(pk=pk).first() if pk is not None else None


def _unit(pk: int | None) -> Unit | None:
    return Unit.objects.filter(pk=pk).first() if pk is not None else None


@require_POST
@login_required
def move(request: HttpRequest, pk: int, to: str) -> HttpResponse:
    """Move the project to another state; what stands in the way is shown at the top."""
    project = project_or_404(request, pk)
    if to not in Project.State.values:
        raise Http404
    form = MoveForm(request.POST, auto_id=f"mv{to}_%s")
    if form.is_valid():
        try:
            project = actions.move(
                request.user,
                project,
                to,
                note=form.cleaned_data["note"],
                version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(
                request, _("The project is now “%(state)s”.") % {"state": Project.State(project.state).label}
            )
            return back_to(project)
    return again(request, project, f"move-{to}", form)


@require_POST
@login_required
def lead_add(request: HttpRequest, pk: int) -> HttpResponse:
    project = project_or_404(request, pk)
    people = policy.scope(request.user, "person").order_by("name", "id")[:LIMIT]
    form = LeadForm(request.POST, people=[(p.pk, person_label(p)) for p in people], auto_id="ld_%s")
    if form.is_valid():
        try:
            actions.add_lead(
                request.user,
                project,
                Person.objects.get(pk=form.cleaned_data["person"]),
                form.cleaned_data["role"],
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Lead added."))
            return back_to(project, "leads")
    return again(request, project, "lead", form)


@require_POST
@login_required
def milestone_add(request: HttpRequest, pk: int) -> HttpResponse:
    project = project_or_404(request, pk)
    form = MilestoneForm(request.POST, auto_id="ms_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.add_milestone(
                request.user, project, title=data["title"], weight=data["weight"], due_on=data["due_on"]
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Milestone added."))
            return back_to(project, "milestones")
    return again(request, project, "milestone", form)


@require_POST
@login_required
def progress_report(request: HttpRequest, pk: int) -> HttpResponse:
    """New progress of a milestone with dated before/during/after photos."""
    milestone = get_object_or_404(Milestone, pk=pk)
    project = project_or_404(request, milestone.project_id)
    form = ProgressForm(request.POST, request.FILES, auto_id=f"p{milestone.pk}_%s")
    if form.is_valid():
        uploads = form.photo_uploads()
        try:
            if len(uploads) > settings.GONGZHI_MAX_PHOTOS:
                raise ValidationError(
                    {"photos1": _("At most %(n)s photos.") % {"n": settings.GONGZHI_MAX_PHOTOS}}
                )
            photos = [(stage, taken, clean_photo(upload, field)) for field, stage, taken, upload in uploads]
            actions.report_progress(
                request.user,
                milestone,
                progress=form.cleaned_data["progress"],
                note=form.cleaned_data["note"],
                photos=photos,
            )
        except ValidationError as error:
            form_errors(form, error, {"photos": "photos1"})
        else:
            messages.success(
                request,
                _("Progress of “%(milestone)s” recorded.") % {"milestone": milestone.title},
            )
            return back_to(project, f"milestone-{milestone.pk}")
    return again(request, project, f"progress-{milestone.pk}", form)


@require_POST
@login_required
def dispute_open(request: HttpRequest, pk: int) -> HttpResponse:
    project = project_or_404(request, pk)
    form = DisputeForm(request.POST, meetings=meeting_choices(request.user, project), auto_id="dp_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            dispute = actions.open_dispute(
                request.user,
                project,
                title=data["title"],
                parties=data["parties"],
                issue=data["issue"],
                meeting=_meeting(data["meeting"]),
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Dispute logged."))
            return back_to(project, f"dispute-{dispute.pk}")
    return again(request, project, "dispute", form)


@require_POST
@login_required
def mediation_add(request: HttpRequest, pk: int) -> HttpResponse:
    dispute = get_object_or_404(Dispute, pk=pk)
    project = project_or_404(request, dispute.project_id)
    form = MediationForm(
        request.POST, meetings=meeting_choices(request.user, project), auto_id=f"s{dispute.pk}_%s"
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.add_mediation_step(
                request.user,
                dispute,
                text=data["text"],
                mediator=data["mediator"],
                meeting=_meeting(data["meeting"]),
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Mediation step recorded."))
            return back_to(project, f"dispute-{dispute.pk}")
    return again(request, project, f"step-{dispute.pk}", form)


@require_POST
@login_required
def dispute_close(request: HttpRequest, pk: int) -> HttpResponse:
    dispute = get_object_or_404(Dispute, pk=pk)
    project = project_or_404(request, dispute.project_id)
    form = DisputeCloseForm(request.POST, auto_id=f"c{dispute.pk}_%s")
    if form.is_valid():
        try:
            dispute = actions.close_dispute(
                request.user,
                dispute,
                settled=form.cleaned_data["settled"],
                outcome=form.cleaned_data["outcome"],
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(
                request, _("Dispute closed: %(state)s.") % {"state": dispute.get_state_display()}
            )
            return back_to(project, f"dispute-{dispute.pk}")
    return again(request, project, f"close-{dispute.pk}", form)


@require_POST
@login_required
def objection_raise(request: HttpRequest, pk: int) -> HttpResponse:
    """A resident objects from the page; staff record an objection for a household."""
    project = project_or_404(request, pk)
    may_change = policy.can(request.user, policy.CHANGE, project)
    choices, _own_only = household_form_choices(request.user, project, may_change, set())
    form = ObjectionForm(request.POST, households=choices, auto_id="ob_%s")
    if form.is_valid():
        try:
            actions.raise_objection(
                request.user,
                project,
                text=form.cleaned_data["text"],
                household=_unit(form.cleaned_data["household"]),
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(
                request, _("The objection is recorded; the project cannot close until it is answered.")
            )
            return back_to(project, "objections")
    return again(request, project, "objection", form)


@require_POST
@login_required
def objection_answer(request: HttpRequest, pk: int) -> HttpResponse:
    objection = get_object_or_404(Objection, pk=pk)
    project = project_or_404(request, objection.project_id)
    form = AnswerForm(request.POST, auto_id=f"o{objection.pk}_%s")
    if form.is_valid():
        try:
            actions.answer_objection(request.user, objection, answer=form.cleaned_data["answer"])
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Answer recorded."))
            return back_to(project, f"objection-{objection.pk}")
    return again(request, project, f"answer-{objection.pk}", form)


@require_POST
@login_required
def rate(request: HttpRequest, pk: int) -> HttpResponse:
    """A household's stars at the acceptance check (staff may record them for a household)."""
    project = project_or_404(request, pk)
    may_change = policy.can(request.user, policy.CHANGE, project)
    rated = set(
        project.ratings.filter(direction=Rating.Direction.RESIDENT).values_list("household_id", flat=True)
    )
    choices, _own_only = household_form_choices(request.user, project, may_change, rated)
    targets = rating_targets(project)
    form = ResidentRatingForm(request.POST, targets=targets, households=choices, auto_id="rt_%s")
    if form.is_valid():
        try:
            actions.rate_as_household(
                request.user,
                project,
                scores=form.scores(),
                comment=form.cleaned_data["comment"],
                household=_unit(form.cleaned_data["household"]),
            )
        except ValidationError as error:
            form_errors(form, error, {key: score_field_name(key) for key, _label in targets})
        else:
            messages.success(request, _("Thank you: the ratings are recorded and published in summary."))
            return back_to(project, "supervision")
    return again(request, project, "rate", form)


@require_POST
@login_required
def contribution_rate(request: HttpRequest, pk: int) -> HttpResponse:
    """The community rates a member unit's or a party member's contribution."""
    project = project_or_404(request, pk)
    units = list(project.member_units.order_by("name"))
    form = ContributionForm(request.POST, targets=contribution_targets(project, units), auto_id="cb_%s")
    if form.is_valid():
        kind, _sep, target_pk = form.cleaned_data["target"].partition(":")
        try:
            actions.rate_contribution(
                request.user,
                project,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
                organisation=Organisation.objects.filter(pk=target_pk).first() if kind == "org" else None,
                person=Person.objects.filter(pk=target_pk).first() if kind == "person" else None,
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Contribution rated."))
            return back_to(project, "supervision")
    return again(request, project, "contribution", form)
