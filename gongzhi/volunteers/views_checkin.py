"""Check-in by QR code: the printable poster for the venue, and the phone page behind the
code where the signed-in volunteer checks in on arrival and out on leaving."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from gongzhi.coverage.views import qr_svg
from gongzhi.orgs import policy
from gongzhi.volunteers import actions
from gongzhi.volunteers.models import Activity
from gongzhi.volunteers.views import activity_or_404, error_text

# When the code works, as the actions check it: from an hour before the start until three
# hours after the end.
BEFORE, AFTER = dt.timedelta(hours=1), dt.timedelta(hours=3)


def scan_url(request: HttpRequest, activity: Activity) -> str:
    path = reverse("activity-scan", args=[activity.checkin_code])
    base = settings.GONGZHI_PUBLIC_URL.rstrip("/")
    return base + path if base else request.build_absolute_uri(path)


@login_required
def poster(request: HttpRequest, pk: int) -> HttpResponse:
    """An A4 poster for the venue with the activity's QR code (for the people who keep
    attendance)."""
    activity = activity_or_404(request, pk, policy.CHANGE)
    url = scan_url(request, activity)
    return render(
        request,
        "volunteers/poster.html",
        {
            "activity": activity,
            "url": url,
            "svg": mark_safe(qr_svg(url)),  # noqa: S308 - segno output
            "opens": activity.starts_at - BEFORE,
            "closes": activity.ends_at + AFTER,
        },
    )


@login_required
def scan(request: HttpRequest, code: str) -> HttpResponse:
    """The page behind the venue's QR code: "Check in", later "Check out", for the
    signed-in volunteer. The code is the key; the actions check the time window."""
    activity = (
        Activity.objects.select_related("community", "compound", "organiser")
        .filter(checkin_code=code)
        .first()
    )
    if activity is None:
        raise Http404
    user: Any = request.user
    if not policy.can(user, policy.VIEW, activity):
        raise PermissionDenied
    error = ""
    if request.method == "POST":
        move = request.POST.get("move")
        try:
            if move == "in":
                attendance = actions.check_in(user, activity, code=code)
                messages.success(
                    request,
                    _("Checked in at %(at)s. Scan again when you leave to check out.")
                    % {"at": timezone.localtime(attendance.checked_in_at).strftime("%H:%M")},
                )
            elif move == "out":
                attendance = actions.check_out(user, activity, code=code)
                messages.success(
                    request,
                    _(
                        "Checked out: %(minutes)s minutes present. "
                        "Hours are credited when the organiser verifies the activity."
                    )
                    % {"minutes": actions.minutes_present(attendance)},
                )
            else:
                raise ValidationError(_("Choose to check in or to check out."))
        except ValidationError as exc:
            error = error_text(exc)
        else:
            return redirect(request.path)
    person = actions.person_of(user)
    mine = activity.attendances.filter(person=person).first() if person else None
    now = timezone.now()
    return render(
        request,
        "volunteers/scan.html",
        {
            "activity": activity,
            "person": person,
            "attendance": mine,
            "present": actions.minutes_present(mine) if mine else 0,
            "is_open": activity.state == Activity.State.OPEN,
            "in_window": activity.starts_at - BEFORE <= now <= activity.ends_at + AFTER,
            "opens": activity.starts_at - BEFORE,
            "closes": activity.ends_at + AFTER,
            "error": error,
        },
        status=400 if error else 200,
    )
