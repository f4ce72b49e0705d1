"""The KPI page and the one-row-per-request exports: thin views over queries and exports."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from gongzhi.core.audit import record_access
from gongzhi.core.models import AuditEvent
from gongzhi.dashboards import exports, queries
from gongzhi.dashboards.kpi import Duration, decimal_text, enough, percent
from gongzhi.dashboards.queries import DIMENSIONS, KpiRow, Period
from gongzhi.dashboards.rollups import refresh_rollups
from gongzhi.orgs import policy
from gongzhi.orgs.models import Area

# Events the page folds in before it reads; a backlog larger than this is left to the sweep.
PAGE_REFRESH_BUDGET = 5_000


def _pct(value: Fraction | None) -> str:
    return "—" if value is None else percent(value) + "%"


def _score(value: Fraction | None) -> str:
    return "—" if value is None else decimal_text(value)


def format_duration(value: Duration) -> str:
    """A duration read from the buckets: minutes under an hour, hours under two days, else days."""
    seconds = value.seconds
    if seconds < 3600:
        text = _("%(n)s min") % {"n": max(1, (seconds + 30) // 60)}
    elif seconds < 48 * 3600:
        text = _("%(n)s h") % {"n": decimal_text(Fraction(seconds, 3600))}
    else:
        text = _("%(n)s d") % {"n": decimal_text(Fraction(seconds, 86400))}
    return ("≥ " + text) if value.at_least else text


def _duration(value: Duration | None, count: int) -> str:
    if count == 0:
        return "—"
    if value is None or not enough(count, queries.min_count()):
        return _("too few")
    return format_duration(value)


@dataclass
class RowView:
    """One table row as shown: counts, then every KPI as text."""

    label: str
    rank: int | None
    reported: int
    tasks: int
    rated: int
    response: str
    resolution: str
    satisfaction: str
    score: str
    on_time: str
    reopen: str
    sign_median: str
    sign_p90: str
    close_median: str
    close_p90: str

    @classmethod
    def of(cls, row: KpiRow) -> RowView:
        c, k = row.tally.counts, row.kpis
        signed = sum(row.tally.sign_hist.values())
        closed = sum(row.tally.close_hist.values())
        return cls(
            label=row.label,
            rank=row.rank,
            reported=c["reported"],
            tasks=c["tasks"],
            rated=c["rated"],
            response=_pct(k.response),
            resolution=_pct(k.resolution),
            satisfaction=_pct(k.satisfaction),
            score=_score(k.score),
            on_time=_pct(k.on_time),
            reopen=_pct(k.reopen),
            sign_median=_duration(k.sign_median, signed),
            sign_p90=_duration(k.sign_p90, signed),
            close_median=_duration(k.close_median, closed),
            close_p90=_duration(k.close_p90, closed),
        )


def _chosen_area(scope: queries.KpiScope, request: HttpRequest) -> Area:
    area = scope.area(request.GET.get("area"))
    if area is None:
        raise Http404
    return area


@login_required
def kpi_page(request: HttpRequest) -> HttpResponse:
    """KPIs of resident requests by unit, category, grid or community for an area and a run
    of months, with the league of member units. Liaisons see their unit's row and the league."""
    scope = queries.kpi_scope(request.user)
    if scope is None:
        raise PermissionDenied
    refreshed = refresh_rollups(max_events=PAGE_REFRESH_BUDGET, wait=False)
    period = Period.from_query(request.GET, timezone.localdate())
    area = _chosen_area(scope, request)
    dimension = request.GET.get("dim") or queries.UNIT
    if dimension not in DIMENSIONS or scope.liaison_only:
        dimension = queries.UNIT
    units = queries.unit_rows(area, period)
    if scope.liaison_only:
        assert scope.unit is not None
        rows = [r for r in units if r.key == scope.unit.pk]
    else:
        rows = units if dimension == queries.UNIT else queries.kpi_table(area, dimension, period)
    areas = scope.choices()
    if area not in areas:  # a grid picked from a link: keep it in the filter
        areas = sorted([*areas, area], key=lambda a: a.path)
    labels = {
        queries.UNIT: _("Member unit"),
        queries.CATEGORY: _("Category"),
        queries.GRID: _("Grid"),
        queries.COMMUNITY: _("Community"),
    }
    return render(
        request,
        "dashboards/kpi.html",
        {
            "scope": scope,
            "area": area,
            "areas": areas,
            "period": period,
            "from_value": f"{period.start:%Y-%m}",
            "to_value": f"{period.end:%Y-%m}",
            "dimension": dimension,
            "dimensions": [(d, labels[d]) for d in DIMENSIONS],
            "dimension_label": labels[dimension],
            "total": None if scope.liaison_only else RowView.of(queries.total_row(area, period)),
            "rows": [RowView.of(r) for r in rows],
            "league": [RowView.of(r) for r in queries.league(units)],
            "weights": queries.weights(),
            "min_count": queries.min_count(),
            "catching_up": not refreshed.caught_up,
            "can_export": policy.has_any(request.user, "ticket", policy.EXPORT),
        },
    )


# ------------------------------------------------------------------------------ exports


def _export_filters(request: HttpRequest) -> tuple[Area | None, Period | None]:
    if not policy.has_any(request.user, "ticket", policy.EXPORT):
        raise PermissionDenied
    area = None
    code = request.GET.get("area")
    if code:
        area = policy.scoped_areas(request.user).filter(code=code).first()
        if area is None:
            raise Http404
    period = None
    if request.GET.get("from") or request.GET.get("to"):
        period = Period.from_query(request.GET, timezone.localdate())
    return area, period


def _log_export(request: HttpRequest, fmt: str, area: Area | None, period: Period | None, rows: Any) -> None:
    record_access(
        request.user,
        "tickets.export",
        kind=AuditEvent.Kind.EXPORT,
        detail={
            "format": fmt,
            "rows": rows,
            "area": area.code if area else None,
            "from": f"{period.start:%Y-%m}" if period else None,
            "to": f"{period.end:%Y-%m}" if period else None,
        },
        object_type="export.tickets",
        area_path=area.path if area else None,
        request=request,
    )


def _filename(area: Area | None, period: Period | None, ext: str) -> str:
    parts = ["requests"]
    if area is not None:
        parts.append(area.code)
    if period is not None:
        parts.append(f"{period.start:%Y%m}-{period.end:%Y%m}")
    return "-".join(parts) + "." + ext


@login_required
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    """Stream the requests in the user's export scope as CSV, one row each; logged first (the
    number of rows is not known before the stream ends)."""
    area, period = _export_filters(request)
    labels = exports.Labels.current()
    qs = exports.export_queryset(request.user, area=area, period=period)
    _log_export(request, "csv", area, period, None)
    response = StreamingHttpResponse(
        exports.csv_chunks(exports.iter_rows(qs, labels), labels), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        content_disposition_header(True, _filename(area, period, "csv")) or "attachment"
    )
    return response


@login_required
def export_xlsx(request: HttpRequest) -> FileResponse:
    """The same rows as .xlsx, written row by row to a temporary file, then sent; logged."""
    area, period = _export_filters(request)
    labels = exports.Labels.current()
    qs = exports.export_queryset(request.user, area=area, period=period)
    out = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it once sent
    rows = exports.write_xlsx(exports.iter_rows(qs, labels), labels, out)
    out.seek(0)
    _log_export(request, "xlsx", area, period, rows)
    return FileResponse(
        out,
        as_attachment=True,
        filename=_filename(area, period, "xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
