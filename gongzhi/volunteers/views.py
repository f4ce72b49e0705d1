"""Volunteer activities: the list, organising one (also a labour shift of a community
project), and the activity's page with sign-up, the attendance desk, verification and
cancelling. The QR poster and scan page are in ``views_checkin``; hours, points and branch
boards in ``views_points``; party members' posts in ``views_posts``. Views read through
``policy``/``queries`` and change state only through ``volunteers.actions``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.orgs import policy
from gongzhi.orgs.models import Person
from gongzhi.projects.models import Project
from gongzhi.volunteers import actions, queries
from gongzhi.volunteers.forms import ActivityForm, CancelActivityForm, DeskForm, PersonForm
from gongzhi.volunteers.models import Activity

A = Activity.State
LIMIT = queries.CHOICES_LIMIT


def error_text(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "；".join(str(m) for msgs in error.message_dict.values() for m in msgs)
    return "；".join(str(m) for m in error.messages)


def form_errors(form: forms.Form, error: ValidationError) -> None:
    """Put an action's field errors on the form (unknown fields go to the top)."""
    if hasattr(error, "error_dict"):
        for name, msgs in error.message_dict.items():
            form.add_error(name if name in form.fields else None, msgs)
    else:
        form.add_error(None, error.messages)


def page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """Render a volunteer page with the links between the volunteer pages."""
    context["vnav"] = queries.sub_nav(request.user)
    return render(request, template, context, status=status)


def activity_or_404(request: HttpRequest, pk: int, action: str = policy.VIEW) -> Activity:
    return policy.get_or_404(request.user, "activity", action, pk=pk)


def back_to(activity: Activity, anchor: str = "") -> HttpResponse:
    url = reverse("activity-detail", args=[activity.pk])
    return redirect(f"{url}#{anchor}" if anchor else url)


def project_url(project_id: int) -> str:
    return f"/projects/{project_id}/"


# --------------------------------------------------------------------------- list and new


@login_required
def activity_list(request: HttpRequest) -> HttpResponse:
    """Activities in the user's scope: those still to come (or under way), and past ones."""
    user = request.user
    if not policy.has_any(user, "activity"):
        raise PermissionDenied
    when = queries.PAST if request.GET.get("when") == queries.PAST else queries.UPCOMING
    now = timezone.now()
    listing = queries.activity_page(user, when, request.GET.get("after"), request.GET.get("size"), now)
    return page(
        request,
        "volunteers/list.html",
        {
            "page": listing,
            "when": when,
            "now": now,
            "A": A,
            "tabs": [(queries.UPCOMING, _("Upcoming")), (queries.PAST, _("Past"))],
            "may_organise": queries.may_organise_somewhere(user),
            "may_board": queries.branch_choices(user).exists(),
        },
    )


def _project_of(request: HttpRequest) -> Project | None:
    value = request.GET.get("project", "")
    if not value:
        return None
    if not value.isdigit():
        raise Http404
    return policy.get_or_404(request.user, "project", policy.CHANGE, pk=int(value))


@login_required
def activity_new(request: HttpRequest) -> HttpResponse:
    """Organise an activity; with ``?project=<pk>`` a labour shift of that project, for the
    people who run the project. Afterwards the activity's page."""
    user = request.user
    project = _project_of(request)
    if project is None and not queries.may_organise_somewhere(user):
        raise PermissionDenied
    organisers = queries.organiser_choices(user)
    communities = [] if project else queries.organising_communities(user)
    compounds = [] if project else list(queries.organising_compounds(user)[:LIMIT])
    form = ActivityForm(
        request.POST or None,
        organisers=queries.grouped(organisers),
        communities=[(c.pk, c.name) for c in communities],
        compounds=[(c.pk, f"{c.community.name} · {c.name}") for c in compounds],
        shift=project is not None,
        initial={"capacity": 20},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        orgs = {o.pk: o for o in organisers}
        try:
            if project is not None:
                activity = actions.create_activity(
                    user,
                    title=data["title"],
                    kind=Activity.Kind.PROJECT_SHIFT,
                    community=project.community,
                    organiser=orgs[data["organiser"]],
                    place=data["place"],
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                    capacity=data["capacity"],
                    project=project,
                    description=data["description"],
                )
            else:
                compound = next((c for c in compounds if c.pk == data["compound"]), None)
                community = next((c for c in communities if c.pk == data["community"]), None)
                if community is None and compound is not None:
                    community = compound.community
                if community is None:
                    raise ValidationError({"community": _("Choose a community or a compound.")})
                activity = actions.create_activity(
                    user,
                    title=data["title"],
                    kind=data["kind"],
                    community=community,
                    compound=compound,
                    organiser=orgs[data["organiser"]],
                    place=data["place"],
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                    capacity=data["capacity"],
                    description=data["description"],
                )
        except ValidationError as error:
            form_errors(form, error)
        except PermissionDenied:
            form.add_error(None, _("You may not organise an activity for this place."))
        else:
            messages.success(request, _("The activity is open for sign-up."))
            return redirect("activity-detail", pk=activity.pk)
    return page(
        request,
        "volunteers/new.html",
        {"form": form, "project": project, "project_url": project_url(project.pk) if project else ""},
        status=400 if form.errors else 200,
    )


# --------------------------------------------------------------------------- the activity page


def people_choices(
    user: Any, activity: Activity, rows: list[queries.AttendanceRow] | None = None
) -> tuple[list[Any], dict[int, Person]]:
    """Grouped person choices for the staff forms: those signed up or present first, then
    the people in the user's scope; and the people by id."""
    if rows is None:
        rows = queries.attendance_rows(activity)
    listed = [r.person for r in rows]
    listed_ids = {p.pk for p in listed}
    others = [p for p in queries.people_in_scope(user)[:LIMIT] if p.pk not in listed_ids]
    choices: list[Any] = []
    if listed:
        choices.append((_("Signed up or present"), [(p.pk, queries.person_label(p)) for p in listed]))
    if others:
        choices.append((_("Others"), [(p.pk, queries.person_label(p)) for p in others]))
    return choices, {p.pk: p for p in [*listed, *others]}


def render_detail(
    request: HttpRequest,
    activity: Activity,
    *,
    bound: dict[str, forms.Form] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The activity's page; ``bound`` holds forms posted with an error (by key), ``errors``
    are shown at the top."""
    user = request.user
    bound = bound or {}
    activity = Activity.objects.select_related(
        "community", "compound", "organiser", "project", "verified_by"
    ).get(pk=activity.pk)
    now = timezone.now()
    is_open = activity.state == A.OPEN
    over = now >= activity.ends_at
    may_change = policy.can(user, policy.CHANGE, activity)
    may_manage = policy.can(user, policy.MANAGE, activity)
    me = actions.person_of(user)
    my_signup = activity.signups.filter(person=me, cancelled_at__isnull=True).first() if me else None
    my_attendance = activity.attendances.filter(person=me).first() if me else None
    my_hours = activity.hours_entries.select_related("points_entry").filter(person=me).first() if me else None
    rows = queries.attendance_rows(activity) if may_change else []
    choices: list[Any] = []
    if may_change and is_open:
        choices, _people = people_choices(user, activity, rows)
    page_errors = list(errors or [])
    for form in bound.values():
        for field_errors in form.errors.values():
            page_errors.extend(str(e) for e in field_errors)
    signed_ids = {r.person.pk for r in rows if r.signed_up}
    context: dict[str, Any] = {
        "activity": activity,
        "A": A,
        "now": now,
        "over": over,
        "is_open": is_open,
        "may_change": may_change,
        "may_manage": may_manage,
        "taken": queries.taken_places(activity),
        "me": me,
        "my_signup": my_signup,
        "my_attendance": my_attendance,
        "my_hours": my_hours,
        "my_present": actions.minutes_present(my_attendance) if my_attendance else 0,
        "rows": rows,
        "max_hours": actions.max_minutes() // 60,
        "points_per_hour": actions.points_per_hour(),
        "page_errors": page_errors,
        "project_url": project_url(activity.project_id) if activity.project_id else "",
        "enrol_form": (
            bound.get("enrol")
            or PersonForm(
                people=[(g, [c for c in rows_ if c[0] not in signed_ids]) for g, rows_ in choices],
                auto_id="enrol_%s",
            )
        )
        if may_change and is_open and not over
        else None,
        "desk_form": (bound.get("desk") or DeskForm(people=choices, auto_id="desk_%s"))
        if may_change and is_open
        else None,
        "may_verify": may_manage and is_open and over,
        "cancel_form": (bound.get("cancel") or CancelActivityForm()) if may_manage and is_open else None,
        "credited": [r for r in rows if r.hours is not None],
    }
    return page(request, "volunteers/detail.html", context, status=status)


@login_required
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_detail(request, activity_or_404(request, pk))


@require_POST
@login_required
def sign_up(request: HttpRequest, pk: int) -> HttpResponse:
    """Sign yourself up (a person record is made for a first-time volunteer)."""
    activity = activity_or_404(request, pk)
    try:
        actions.sign_up(request.user, activity)
    except ValidationError as error:
        return render_detail(request, activity, errors=[error_text(error)], status=400)
    messages.success(request, _("You are signed up. Check in at the venue by scanning the QR code."))
    return back_to(activity)


@require_POST
@login_required
def cancel_sign_up(request: HttpRequest, pk: int) -> HttpResponse:
    """Withdraw your own sign-up."""
    activity = activity_or_404(request, pk)
    me = actions.person_of(request.user)
    signup = activity.signups.filter(person=me, cancelled_at__isnull=True).first() if me else None
    if signup is None:
        return render_detail(request, activity, errors=[_("You are not signed up.")], status=400)
    try:
        actions.cancel_sign_up(request.user, signup)
    except ValidationError as error:
        return render_detail(request, activity, errors=[error_text(error)], status=400)
    messages.success(request, _("Your sign-up is withdrawn."))
    return back_to(activity)


@require_POST
@login_required
def enrol(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff sign someone else up (a resident without a phone, at the desk)."""
    activity = activity_or_404(request, pk, policy.CHANGE)
    choices, people = people_choices(request.user, activity)
    form = PersonForm(request.POST, people=choices, auto_id="enrol_%s")
    if form.is_valid():
        person = people[form.cleaned_data["person"]]
        try:
            actions.sign_up(request.user, activity, person)
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("%(name)s is signed up.") % {"name": person.name})
            return back_to(activity, "attendance")
    return render_detail(request, activity, bound={"enrol": form}, status=400)


@require_POST
@login_required
def desk(request: HttpRequest, pk: int) -> HttpResponse:
    """The attendance desk: check a person in or out, at the time given or now."""
    activity = activity_or_404(request, pk, policy.CHANGE)
    choices, people = people_choices(request.user, activity)
    form = DeskForm(request.POST, people=choices, auto_id="desk_%s")
    if form.is_valid():
        data = form.cleaned_data
        person = people[data["person"]]
        move = actions.check_in if data["move"] == "in" else actions.check_out
        try:
            attendance = move(request.user, activity, person=person, at=data["at"])
        except ValidationError as error:
            form_errors(form, error)
        else:
            at: dt.datetime | None = attendance.checked_in_at
            text = _("%(name)s checked in at %(at)s.")
            if data["move"] == "out":
                at, text = attendance.checked_out_at, _("%(name)s checked out at %(at)s.")
            assert at is not None
            messages.success(
                request, text % {"name": person.name, "at": timezone.localtime(at).strftime("%H:%M")}
            )
            return back_to(activity, "attendance")
    return render_detail(request, activity, bound={"desk": form}, status=400)


@require_POST
@login_required
def verify(request: HttpRequest, pk: int) -> HttpResponse:
    """The organiser confirms the activity took place as recorded; hours and points are
    credited, and the page says to whom and how much."""
    activity = activity_or_404(request, pk, policy.MANAGE)
    version = request.POST.get("version", "")
    try:
        credited = actions.verify_activity(
            request.user, activity, version=int(version) if version.isdigit() else None
        )
    except ValidationError as error:
        return render_detail(request, activity, errors=[error_text(error)], status=400)
    if credited:
        parts = [
            _("%(name)s %(minutes)s min, %(points)s points")
            % {"name": h.person.name, "minutes": h.minutes_counted, "points": h.points_entry.points}
            for h in credited
        ]
        messages.success(request, _("Verified. Credited: %(list)s.") % {"list": "；".join(parts)})
    else:
        messages.success(request, _("Verified. Nobody checked in and out, so nothing was credited."))
    return back_to(activity, "attendance")


@require_POST
@login_required
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    activity = activity_or_404(request, pk, policy.MANAGE)
    form = CancelActivityForm(request.POST)
    if form.is_valid():
        try:
            actions.cancel_activity(request.user, activity, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("The activity is cancelled."))
            return back_to(activity)
    return render_detail(request, activity, bound={"cancel": form}, status=400)
