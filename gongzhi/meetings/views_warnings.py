"""Pages of the hot-issue warning: the full list with its evidence, taking a warning onto a
meeting's agenda, setting one aside; and the top few for the home page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from gongzhi.meetings import actions, warnings
from gongzhi.meetings.hotissues import Warning
from gongzhi.meetings.models import Meeting
from gongzhi.orgs import policy

# Evidence links shown per warning; the rest are counted ("and 12 more").
EVIDENCE_SHOWN = 30
HOME_SHOWN = 5


def _require_manager(user: Any) -> None:
    if not policy.has_any(user, "meeting", policy.MANAGE):
        raise PermissionDenied


def _error_text(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "；".join(str(m) for msgs in error.message_dict.values() for m in msgs)
    return "；".join(str(m) for m in error.messages)


def _row(w: Warning, meetings: list[Meeting] | None = None) -> dict[str, Any]:
    """What a template shows of one warning."""
    row: dict[str, Any] = {
        "w": w,
        "label": warnings.label_of(w),
        "title": warnings.title_of(w),
        "explanation": warnings.explain(w),
    }
    if meetings is not None:
        tickets, opinions = list(w.ticket_ids), list(w.opinion_ids)
        row["tickets"] = tickets[:EVIDENCE_SHOWN]
        row["opinions"] = opinions[: max(EVIDENCE_SHOWN - len(row["tickets"]), 0)]
        row["more"] = len(tickets) + len(opinions) - len(row["tickets"]) - len(row["opinions"])
        row["meetings"] = [m for m in meetings if warnings.covers(m, w)]
    return row


def hot_issues_summary(user: Any, *, limit: int = HOME_SHOWN) -> dict[str, Any]:
    """The top ``limit`` warnings of ``user`` and how many there are, for the home page; for
    town and county staff only the way to the page, where they choose a community."""
    if not warnings.is_local(user):
        return {"rows": [], "total": 0, "wide": True}
    found = warnings.warnings_for(user)
    return {"rows": [_row(w) for w in found[:limit]], "total": len(found), "wide": False}


@require_GET
@login_required
def hot_issues_page(request: HttpRequest) -> HttpResponse:
    """Every warning over the user's requests and opinions, with its explanation, evidence
    and the two things to do with it. For people who manage meetings; staff of a whole town
    or county see one community at a time (``?area=``)."""
    user = request.user
    _require_manager(user)
    communities = None if warnings.is_local(user) else list(warnings.communities_of(user))
    area = None
    if communities is not None:
        wanted = request.GET.get("area", "")
        area = next((c for c in communities if str(c.pk) == wanted), None)
        if area is None:
            return render(request, "meetings/warnings.html", {"communities": communities, "rows": None})
    meetings = list(warnings.upcoming_meetings(user))
    rows = [_row(w, meetings) for w in warnings.warnings_for(user, within=area)]
    return render(
        request,
        "meetings/warnings.html",
        {"rows": rows, "any_meeting": bool(meetings), "communities": communities, "area": area},
    )


@require_POST
@login_required
def adopt(request: HttpRequest) -> HttpResponse:
    """Take a warning onto the agenda of an upcoming meeting the user manages."""
    user = request.user
    _require_manager(user)
    key = request.POST.get("key", "")[:120]
    meeting_id = request.POST.get("meeting", "")
    # A number beyond the id column cannot name a meeting (and SQLite would overflow on it).
    known = meeting_id.isdigit() and len(meeting_id) <= 18
    meeting = warnings.upcoming_meetings(user).filter(pk=int(meeting_id)).first() if known else None
    if meeting is None:
        messages.error(request, _("Choose an upcoming meeting that you manage."))
        return redirect("meeting-warnings")
    try:
        item = warnings.adopt_warning(user, meeting, key)
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return redirect("meeting-warnings")
    messages.success(
        request,
        _("“%(item)s” is on the agenda of “%(meeting)s”.") % {"item": item.title, "meeting": meeting.title},
    )
    return redirect(actions.meeting_url(meeting))


@require_POST
@login_required
def dismiss(request: HttpRequest) -> HttpResponse:
    """Set a warning aside with a reason; it comes back if its count grows."""
    user = request.user
    _require_manager(user)
    try:
        warnings.set_aside(user, request.POST.get("key", "")[:120], reason=request.POST.get("reason", ""))
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("The warning is set aside. It comes back if more reports arrive."))
    return redirect(reverse("meeting-warnings"))
