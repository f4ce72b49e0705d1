"""The zero-out campaign page, QR posters for request channels."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.coverage.compute import LACK_LABELS, CoverageReport, compute_coverage
from gongzhi.housing.actions import issue_qr_poster
from gongzhi.housing.models import Building, Compound, ServiceChannel
from gongzhi.orgs import policy
from gongzhi.orgs.models import Area

# A phone page cannot carry thousands of rows; narrow by area or by what is lacking.
MAX_GAPS_SHOWN = 300


def area_rows(report: CoverageReport) -> list:
    """Two levels below the chosen area, or one when two would flood a phone screen."""
    rows = report.rows_below(2)
    if len(rows) > MAX_GAPS_SHOWN // 2:
        rows = report.rows_below(1)
    return rows[:MAX_GAPS_SHOWN]


def _area(request: HttpRequest) -> Area | None:
    code = request.GET.get("area") or request.POST.get("area")
    if not code:
        return None
    area = policy.scoped_areas(request.user).filter(code=code).first()
    if area is None:
        raise Http404
    return area


@login_required
def coverage_page(request: HttpRequest) -> HttpResponse:
    """Coverage % per grid, community, town and county in the user's scope, and the gaps."""
    if not policy.has_any(request.user, "channel"):
        raise PermissionDenied
    area = _area(request)
    report = compute_coverage(policy.scope(request.user, "compound"), area)
    lack = request.GET.get("lacks") or ""
    gaps = [g for g in report.gaps if not lack or lack in g.lacks]
    shown = gaps[:MAX_GAPS_SHOWN]
    return render(
        request,
        "coverage/coverage.html",
        {
            "report": report,
            "rows": area_rows(report),
            "area": area,
            "gaps": shown,
            "gap_count": len(gaps),
            "lack": lack,
            "lack_choices": [(key, label()) for key, label in LACK_LABELS.items()],
            "can_issue": policy.has_any(request.user, "channel", policy.CHANGE),
        },
    )


@login_required
@require_POST
def issue_posters(request: HttpRequest) -> HttpResponse:
    """Issue QR posters for every building in scope that still has no request channel."""
    area = _area(request)
    report = compute_coverage(policy.scope(request.user, "compound"), area)
    wanted = [g for g in report.gaps if "channel" in g.lacks]
    buildings = {
        b.pk: b
        for b in Building.objects.filter(id__in=[g.building_id for g in wanted]).select_related("compound")
    }
    issued = 0
    with transaction.atomic():
        for gap in wanted:
            building = buildings[gap.building_id]
            if policy.can_within(request.user, "channel", policy.CHANGE, building.compound):
                issue_qr_poster(request.user, building.compound, building)
                issued += 1
    messages.success(
        request, _("%(n)d QR posters issued; print them from the compound pages.") % {"n": issued}
    )
    target = reverse("coverage") + (f"?area={area.code}" if area else "")
    return redirect(target)


def public_url(request: HttpRequest, token: str) -> str:
    path = reverse("public-channel", args=[token])
    base = settings.GONGZHI_PUBLIC_URL.rstrip("/")
    return base + path if base else request.build_absolute_uri(path)


def qr_svg(data: str) -> str:
    import segno

    return segno.make(data, error="m").svg_inline(scale=8, border=2, dark="#000")


@login_required
def poster(request: HttpRequest, token: str) -> HttpResponse:
    """One printable A4 poster with the building's QR code."""
    channel = ServiceChannel.objects.select_related("compound", "building").filter(token=token).first()
    if channel is None or not policy.scope(request.user, "channel").filter(pk=channel.pk).exists():
        raise Http404
    return _render_posters(request, [channel])


@login_required
def compound_posters(request: HttpRequest, code: str) -> HttpResponse:
    """All active QR posters of a compound, one per page, ready to print."""
    compound = policy.get_or_404(request.user, "compound", code=code)
    channels = list(
        policy.scope(request.user, "channel")
        .filter(compound=compound, kind=ServiceChannel.Kind.QR_POSTER, retired_at__isnull=True)
        .select_related("compound", "building")
    )
    return _render_posters(request, channels, compound)


def _render_posters(
    request: HttpRequest, channels: list[ServiceChannel], compound: Compound | None = None
) -> HttpResponse:
    posters = [
        {
            "channel": c,
            "url": public_url(request, c.token),
            "svg": mark_safe(qr_svg(public_url(request, c.token))),
        }  # noqa: S308 - segno output
        for c in channels
    ]
    return render(request, "coverage/poster.html", {"posters": posters, "compound": compound})
