"""The meeting's record, posted from its page: minutes with attachments, resolutions, the
action items they give, the re-dispatch of a request as agreed, and addenda after sign-off.
Each view calls one action; on an error the meeting's page comes back with the form as the
user filled it and the action's message.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.consultations.uploads import clean_document
from gongzhi.meetings import actions, queries, resolutions
from gongzhi.meetings.forms import ActionItemForm, AddendumForm, MinutesForm, ResolutionForm
from gongzhi.meetings.models import AgendaItem, MinutesAttachment, Resolution
from gongzhi.meetings.views import (
    back_to,
    error_text,
    form_errors,
    meeting_or_404,
    person_choices,
    render_detail,
    shows_record,
)
from gongzhi.orgs import policy


@require_POST
@login_required
def minutes(request: HttpRequest, pk: int) -> HttpResponse:
    """Write an agenda item's minutes, with documents or photos attached."""
    item = get_object_or_404(AgendaItem, pk=pk)
    meeting = meeting_or_404(request, item.meeting_id, policy.CHANGE)
    form = MinutesForm(request.POST, request.FILES, auto_id=f"m{item.pk}_%s")
    if form.is_valid():
        try:
            documents = [(f.name, clean_document(f, "attachments")) for f in form.cleaned_data["attachments"]]
            actions.write_minutes(
                request.user, item, minutes=form.cleaned_data["minutes"], attachments=documents
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Minutes saved."))
            return back_to(meeting, f"item-{item.pk}")
    return render_detail(request, meeting, bound={f"minutes-{item.pk}": form}, status=400)


@require_POST
@login_required
def resolve(request: HttpRequest, pk: int) -> HttpResponse:
    """Record how an agenda item ended: by agreement, or by the show of hands of a deciding
    body's members present."""
    item = get_object_or_404(AgendaItem, pk=pk)
    meeting = meeting_or_404(request, item.meeting_id, policy.CHANGE)
    form = ResolutionForm(request.POST, auto_id=f"r{item.pk}_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            resolution = resolutions.resolve(
                request.user,
                item,
                text=data["text"],
                votes_for=data["votes_for"],
                votes_against=data["votes_against"],
                votes_abstain=data["votes_abstain"],
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            if resolution.adopted:
                messages.success(request, _("Resolution recorded: adopted."))
            else:
                messages.success(request, _("Resolution recorded: not adopted."))
            return back_to(meeting, f"item-{item.pk}")
    return render_detail(request, meeting, bound={f"resolve-{item.pk}": form}, status=400)


@require_POST
@login_required
def action_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Give the work of an adopted resolution to a body or a person, with a deadline."""
    resolution = get_object_or_404(Resolution.objects.select_related("item"), pk=pk)
    meeting = meeting_or_404(request, resolution.item.meeting_id, policy.CHANGE)
    orgs = queries.invitable_orgs(request.user)
    people = queries.people_of(meeting)
    form = ActionItemForm(
        request.POST,
        organisations=queries.grouped(orgs),
        people=person_choices(people),
        auto_id=f"a{resolution.pk}_%s",
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            item = resolutions.add_action_item(
                request.user,
                resolution,
                title=data["title"],
                deadline=data["deadline"],
                assignee_org=orgs.filter(pk=data["assignee_org"]).first() if data["assignee_org"] else None,
                assignee_person=people.filter(pk=data["assignee_person"]).first()
                if data["assignee_person"]
                else None,
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(
                request,
                _("Action item given to %(owner)s, due %(deadline)s.")
                % {"owner": item.owner_label, "deadline": item.deadline.isoformat()},
            )
            return back_to(meeting, f"item-{resolution.item_id}")
    return render_detail(request, meeting, bound={f"action-{resolution.pk}": form}, status=400)


@require_POST
@login_required
def redispatch(request: HttpRequest, pk: int) -> HttpResponse:
    """Send the item's requests to the member units the resolution gave work to."""
    resolution = get_object_or_404(Resolution.objects.select_related("item"), pk=pk)
    meeting = meeting_or_404(request, resolution.item.meeting_id, policy.CHANGE)
    try:
        tickets = resolutions.redispatch_ticket(request.user, resolution)
    except ValidationError as error:
        return render_detail(request, meeting, errors=[error_text(error)], status=400)
    messages.success(
        request,
        _("Sent to the agreed units: %(requests)s.") % {"requests": "、".join(f"#{t.pk}" for t in tickets)},
    )
    return back_to(meeting, f"item-{resolution.item_id}")


@require_POST
@login_required
def addendum(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct signed-off minutes with an addendum printed after them."""
    meeting = meeting_or_404(request, pk, policy.MANAGE)
    form = AddendumForm(request.POST)
    if form.is_valid():
        try:
            actions.add_addendum(request.user, meeting, text=form.cleaned_data["text"])
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Addendum added."))
            return back_to(meeting, "addenda")
    return render_detail(request, meeting, bound={"addendum": form}, status=400)


@login_required
def attachment(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A document or photo of the minutes, for those who may read the record."""
    doc = get_object_or_404(MinutesAttachment.objects.select_related("item"), pk=pk)
    meeting = meeting_or_404(request, doc.item.meeting_id)
    if not shows_record(request.user, meeting):
        raise PermissionDenied
    response = FileResponse(doc.file.open("rb"), content_type=doc.content_type, filename=doc.name)
    response["X-Content-Type-Options"] = "nosniff"
    return response
