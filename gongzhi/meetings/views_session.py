"""Preparing and holding a meeting, posted from its page: invitations, the agenda and the
staff sign-in; and the self sign-in page behind the QR code at the venue. Each view calls
one action; on an error the meeting's page comes back with the form as the user filled it.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.meetings import actions, queries
from gongzhi.meetings.forms import AgendaItemForm, InviteForm, SignInForm
from gongzhi.meetings.models import AgendaItem, Attendance, Meeting
from gongzhi.meetings.views import (
    back_to,
    error_text,
    form_errors,
    meeting_or_404,
    person_choices,
    render_detail,
)
from gongzhi.orgs import policy
from gongzhi.orgs.models import Person

S = Meeting.State


@require_POST
@login_required
def invite(request: HttpRequest, pk: int) -> HttpResponse:
    """Invite more bodies; once the notice is out they are told at once."""
    meeting = meeting_or_404(request, pk, policy.MANAGE)
    orgs = queries.invitable_orgs(request.user)
    form = InviteForm(request.POST, organisations=queries.grouped(orgs))
    if form.is_valid():
        try:
            actions.invite(
                request.user,
                meeting,
                organisations=list(orgs.filter(pk__in=form.cleaned_data["organisations"])),
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Invited."))
            return back_to(meeting, "invitations")
    return render_detail(request, meeting, bound={"invite": form}, status=400)


def _record(visible: Any, pk: int | None, field: str, message: str) -> Any:
    """The record numbered ``pk`` among those the user can see (None when not asked for)."""
    if pk is None:
        return None
    found = visible.filter(pk=pk).first()
    if found is None:
        raise ValidationError({field: message % {"n": pk}})
    return found


@require_POST
@login_required
def agenda_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Put an item on the agenda: a free topic, a request, a consultation or an opinion."""
    meeting = meeting_or_404(request, pk, policy.MANAGE)
    user = request.user
    consultations = queries.consultation_choices(user)
    orgs = queries.invitable_orgs(user)
    form = AgendaItemForm(
        request.POST,
        consultations=[(c.pk, c.title) for c in consultations[:200]],
        organisations=queries.grouped(orgs),
    )
    if form.is_valid():
        data = form.cleaned_data
        source = data["source"]
        try:
            # Only the record of the chosen source counts; a number left in another field is ignored.
            ticket = opinion = consultation = None
            if source == AgendaItem.Source.TICKET:
                ticket = _record(
                    policy.scope(user, "ticket"),
                    data["ticket"],
                    "ticket",
                    _("You can see no request #%(n)s."),
                )
            elif source == AgendaItem.Source.OPINION:
                opinion = _record(
                    policy.scope(user, "opinion"),
                    data["opinion"],
                    "opinion",
                    _("You can see no opinion #%(n)s."),
                )
            elif source == AgendaItem.Source.CONSULTATION and data["consultation"]:
                consultation = consultations.filter(pk=data["consultation"]).first()
            title = data["title"]
            if not title and source == AgendaItem.Source.TICKET and ticket is not None:
                title = ticket.title
            elif not title and source == AgendaItem.Source.CONSULTATION and consultation is not None:
                title = consultation.title
            elif not title and source == AgendaItem.Source.OPINION and opinion is not None:
                title = opinion.text
            title = title[:160]
            actions.add_agenda_item(
                user,
                meeting,
                title=title,
                description=data["description"],
                source=source,
                ticket=ticket,
                consultation=consultation,
                opinion=opinion,
                presenter_org=orgs.filter(pk=data["presenter_org"]).first()
                if data["presenter_org"]
                else None,
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Added to the agenda."))
            return back_to(meeting, "agenda")
    return render_detail(request, meeting, bound={"agenda": form}, status=400)


@require_POST
@login_required
def sign_in(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff record someone present: a person on the list, or the name of someone without
    a record."""
    meeting = meeting_or_404(request, pk, policy.CHANGE)
    people = queries.people_of(meeting)
    form = SignInForm(request.POST, people=person_choices(people))
    if form.is_valid():
        data = form.cleaned_data
        person = people.filter(pk=data["person"]).first() if data["person"] else None
        try:
            attendance = actions.sign_in(
                request.user,
                meeting,
                person=person,
                name=data["name"],
                represents_label=data["represents_label"],
                method=Attendance.Method.STAFF,
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(
                request,
                _("%(name)s signed in: %(capacity)s.")
                % {"name": attendance.name, "capacity": attendance.get_capacity_display()},
            )
            return back_to(meeting, "attendance")
    return render_detail(request, meeting, bound={"sign_in": form}, status=400)


def _counted_as(attendance: Attendance) -> str:
    C = Attendance.Capacity
    if attendance.capacity == C.MEMBER:
        return _("You are recorded as a member of %(body)s and count toward its quorum.") % {
            "body": attendance.represents.name if attendance.represents else ""
        }
    if attendance.capacity == C.INVITEE:
        if attendance.represents is not None:
            return _("You are recorded as invited, for %(body)s.") % {"body": attendance.represents.name}
        return _("You are recorded as invited.")
    return _("You are recorded as an observer and are not counted.")


@login_required
def self_sign_in(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    """The page behind the QR code at the venue: the person signs themselves in. The code
    is the key, so someone not invited can sign in too — as an observer, not counted."""
    meeting = get_object_or_404(Meeting.objects.select_related("convener"), pk=pk)
    if not secrets.compare_digest(meeting.checkin_token, token):
        raise Http404
    user: Any = request.user
    person = Person.objects.filter(user=user).first()
    attendance = (
        meeting.attendances.select_related("represents").filter(person=person).first() if person else None
    )
    error = ""
    if request.method == "POST" and attendance is None:
        try:
            actions.sign_in(user, meeting, method=Attendance.Method.QR)
        except ValidationError as exc:
            error = error_text(exc)
        else:
            return redirect(request.path)
    return render(
        request,
        "meetings/sign_in.html",
        {
            "meeting": meeting,
            "person": person,
            "attendance": attendance,
            "counted_as": _counted_as(attendance) if attendance else "",
            "open": meeting.state in (S.ANNOUNCED, S.IN_SESSION),
            "error": error,
        },
        status=400 if error else 200,
    )
