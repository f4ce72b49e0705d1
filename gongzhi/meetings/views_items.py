"""Pages of action items (督办事项): the list by status, one item with its trail of events
and evidence photos, and the responsible body's progress and completion reports."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.meetings import queries, resolutions
from gongzhi.meetings.forms import DoneForm, ProgressForm
from gongzhi.meetings.models import ActionEvidence, ActionItem, ActionItemEvent
from gongzhi.meetings.views import form_errors
from gongzhi.orgs import policy
from gongzhi.tickets.photos import clean_photos


def status_labels() -> dict[str, str]:
    """What each shown status is called (``ActionItem.status``)."""
    return {
        ActionItem.State.OPEN: _("To do"),
        ActionItem.State.IN_PROGRESS: _("In progress"),
        ActionItem.State.DONE: _("Completed"),
        "overdue": _("Past the deadline"),
    }


def event_text(event: ActionItemEvent) -> str:
    """One line of an action item's trail, in the reader's language."""
    data = event.data or {}
    texts = {
        "create": _("Given to %(owner)s, due %(deadline)s."),
        "progress": _("Progress reported."),
        "done": _("Marked done."),
        "carried": _("Not done yet: back on the agenda of %(meeting)s."),
        "warn": _("The deadline is near: a reminder was sent."),
        "overdue": _("The deadline has passed."),
    }
    text = texts.get(event.action)
    if text is None:
        return event.action
    return text % {
        "owner": data.get("owner", ""),
        "deadline": data.get("deadline", ""),
        "meeting": data.get("meeting", ""),
    }


@login_required
def action_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not policy.has_any(user, "actionitem"):
        raise PermissionDenied
    status = request.GET.get("status", queries.PENDING)
    if status not in queries.STATUSES:
        status = queries.PENDING
    page = queries.action_page(user, status, request.GET.get("after"), request.GET.get("size"))
    labels = status_labels()
    return render(
        request,
        "meetings/actions.html",
        {
            "page": page,
            "status": status,
            "labels": labels,
            "tabs": [
                (queries.PENDING, _("Not done")),
                (ActionItem.State.OPEN, labels[ActionItem.State.OPEN]),
                (ActionItem.State.IN_PROGRESS, labels[ActionItem.State.IN_PROGRESS]),
                ("overdue", labels["overdue"]),
                (ActionItem.State.DONE, labels[ActionItem.State.DONE]),
                (queries.ALL, _("All")),
            ],
        },
    )


def render_item(
    request: HttpRequest, item: ActionItem, *, bound: dict[str, forms.Form] | None = None, status: int = 200
) -> HttpResponse:
    bound = bound or {}
    item = ActionItem.objects.select_related(
        "meeting", "resolution__item", "assignee_org", "assignee_person", "ticket", "compound"
    ).get(pk=item.pk)
    may_report = not item.is_done and policy.can(request.user, policy.CHANGE, item)
    events = list(item.events.prefetch_related("evidence").order_by("id"))
    version: dict[str, Any] = {"version": item.version}
    return render(
        request,
        "meetings/action_detail.html",
        {
            "item": item,
            "status_label": status_labels()[item.status],
            "events": [(e, event_text(e)) for e in events],
            "may_report": may_report,
            "may_see_meeting": policy.scope(request.user, "meeting").filter(pk=item.meeting_id).exists(),
            "may_see_ticket": item.ticket_id is not None
            and policy.scope(request.user, "ticket").filter(pk=item.ticket_id).exists(),
            "progress_form": (bound.get("progress") or ProgressForm(initial=version, auto_id="p_%s"))
            if may_report
            else None,
            "done_form": (bound.get("done") or DoneForm(initial=version, auto_id="d_%s"))
            if may_report
            else None,
        },
        status=status,
    )


@login_required
def action_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_item(request, policy.get_or_404(request.user, "actionitem", pk=pk))


@require_POST
@login_required
def action_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """The responsible body reports progress, or that the work is done (with what was done
    and photos)."""
    item = policy.get_or_404(request.user, "actionitem", policy.CHANGE, pk=pk)
    form: forms.Form
    if action == "progress":
        form = ProgressForm(request.POST, request.FILES, auto_id="p_%s")
    elif action == "done":
        form = DoneForm(request.POST, request.FILES, auto_id="d_%s")
    else:
        raise Http404
    if form.is_valid():
        data = form.cleaned_data
        try:
            photos = clean_photos(data["photos"])
            if action == "progress":
                resolutions.report_progress(
                    request.user, item, note=data["note"], photos=photos, version=data["version"]
                )
                message = _("Progress reported.")
            else:
                resolutions.complete(
                    request.user, item, evidence=data["evidence"], photos=photos, version=data["version"]
                )
                message = _("The action item is done.")
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, message)
            return redirect("meeting-action-detail", pk=item.pk)
    return render_item(request, item, bound={action: form}, status=400)


@login_required
def evidence(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A photo of the work done, for those who may see the action item."""
    photo = get_object_or_404(ActionEvidence.objects.select_related("event"), pk=pk)
    policy.get_or_404(request.user, "actionitem", pk=photo.event.item_id)
    response = FileResponse(photo.file.open("rb"), content_type=photo.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response
