"""The notice and the minutes of a meeting for staff: pages to print and PDFs.

Scoped by the permission policy like every staff page. The notice exists once it is
published, the minutes once the meeting has opened; until the minutes are signed off they
carry a "draft" band. Every PDF is an export and leaves an audit event.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from gongzhi.core.audit import record_access
from gongzhi.core.models import AuditEvent
from gongzhi.coverage.views import qr_svg
from gongzhi.meetings import documents
from gongzhi.meetings.models import Meeting
from gongzhi.meetings.views_public import public_url
from gongzhi.orgs import policy


def _meeting(request: HttpRequest, pk: int) -> Meeting:
    meeting: Meeting = policy.get_or_404(request.user, "meeting", policy.VIEW, pk=pk)
    return meeting


def _unavailable(request: HttpRequest, meeting: Meeting, message: str) -> HttpResponse:
    return render(
        request, "meetings/print_unavailable.html", {"meeting": meeting, "message": message}, status=404
    )


def _export(request: HttpRequest, meeting: Meeting, action: str, **detail: Any) -> None:
    record_access(
        request.user,
        action,
        meeting,
        kind=AuditEvent.Kind.EXPORT,
        detail={"format": "pdf", **detail},
        request=request,
    )


def _notice_context(request: HttpRequest, meeting: Meeting) -> dict[str, Any]:
    context: dict[str, Any] = {"doc": documents.notice(meeting), "public_url": "", "qr": ""}
    if meeting.compound is not None:
        url = public_url(request, "public-compound", meeting.compound.code)
        context["public_url"] = url
        context["qr"] = mark_safe(qr_svg(url))  # noqa: S308 - segno output
    return context


def _not_announced(request: HttpRequest, meeting: Meeting) -> HttpResponse | None:
    if meeting.announced_at is None:
        return _unavailable(request, meeting, _("The notice of this meeting is not published yet."))
    return None


@login_required
def notice(request: HttpRequest, pk: int) -> HttpResponse:
    """The notice (会议通知) to print: agenda, presenters, bodies invited, the rules."""
    meeting = _meeting(request, pk)
    refused = _not_announced(request, meeting)
    if refused is not None:
        return refused
    return render(request, "meetings/print_notice.html", _notice_context(request, meeting))


@login_required
def notice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The same notice as a PDF (an export)."""
    from gongzhi.notices.pdf import pdf_response

    meeting = _meeting(request, pk)
    refused = _not_announced(request, meeting)
    if refused is not None:
        return refused
    _export(request, meeting, "meetings.notice.export")
    return pdf_response(
        "meetings/print_notice.html", _notice_context(request, meeting), request, f"会议通知-{meeting.pk}.pdf"
    )


def _not_held(request: HttpRequest, meeting: Meeting) -> HttpResponse | None:
    if meeting.opened_at is None:
        return _unavailable(request, meeting, _("The meeting has not been held yet, so it has no minutes."))
    return None


@login_required
def minutes(request: HttpRequest, pk: int) -> HttpResponse:
    """The full minutes (会议纪要) to print, with the names of those present; marked as a
    draft until signed off."""
    meeting = _meeting(request, pk)
    refused = _not_held(request, meeting)
    if refused is not None:
        return refused
    return render(request, "meetings/print_minutes.html", {"doc": documents.minutes(meeting, public=False)})


@login_required
def minutes_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The full minutes as a PDF (an export); a draft's PDF carries the draft band too."""
    from gongzhi.notices.pdf import pdf_response

    meeting = _meeting(request, pk)
    refused = _not_held(request, meeting)
    if refused is not None:
        return refused
    doc = documents.minutes(meeting, public=False)
    _export(request, meeting, "meetings.minutes.export", draft=not doc.signed)
    suffix = "" if doc.signed else "-草稿"
    return pdf_response(
        "meetings/print_minutes.html", {"doc": doc}, request, f"会议纪要-{meeting.pk}{suffix}.pdf"
    )
