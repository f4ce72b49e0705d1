"""Registry pages: thin views over the policy's scoped querysets and the housing actions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core.pagination import keyset_page
from gongzhi.core.paths import under
from gongzhi.coverage.compute import compute_coverage
from gongzhi.housing import actions
from gongzhi.housing.models import Compound, Owner, Ownership, Resident
from gongzhi.orgs import policy
from gongzhi.orgs.models import Area, Membership, Organisation, Role, RoleGrant, membership_rank


def _area_filter(request: HttpRequest) -> Area | None:
    code = request.GET.get("area")
    if not code:
        return None
    area = policy.scoped_areas(request.user).filter(code=code).first()
    if area is None:
        raise Http404
    return area


def _compounds_in(qs: QuerySet[Compound], area: Area | None) -> QuerySet[Compound]:
    if area is None:
        return qs
    if area.level == Area.Level.GRID:
        return qs.filter(grid_links__grid=area)
    return qs.filter(under("area_path", area.path))


@login_required
def compound_list(request: HttpRequest) -> HttpResponse:
    """Compounds the user may see; search by name or code, filter by area, keyset-paged."""
    qs = policy.scope(request.user, "compound")
    area = _area_filter(request)
    qs = _compounds_in(qs, area)
    q = (request.GET.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(code__icontains=q) | Q(address__contains=q))
    managed = request.GET.get("managed")
    if managed == "no":
        qs = qs.filter(unmanaged=True)
    elif managed == "yes":
        qs = qs.filter(unmanaged=False)
    page = keyset_page(
        qs,
        request.GET.get("after"),
        request.GET.get("size"),
        load=lambda rows: rows.select_related("community").annotate(
            n_buildings=Count("buildings", distinct=True)
        ),
    )
    # The filter offers the towns in scope, and the communities of the town chosen: a county
    # has hundreds of communities, too many for one drop-down on a phone.
    levels = [Area.Level.COUNTY, Area.Level.TOWN]
    areas = policy.scoped_areas(request.user).filter(level__in=levels)
    if area is not None:
        areas = areas | policy.scoped_areas(request.user).filter(
            Q(parent=area) | Q(pk=area.pk) | Q(pk=area.parent_id)
        )
    areas = areas.exclude(level=Area.Level.GRID).order_by("path")
    return render(
        request,
        "housing/compound_list.html",
        {
            "page": page,
            "q": q,
            "area": area,
            "areas": areas,
            "managed": managed,
            "can_export": policy.has_any(request.user, "compound", policy.EXPORT),
            "can_import": policy.has_any(request.user, "unit", policy.IMPORT),
        },
    )


def _branches_of(compound: Compound) -> QuerySet[Organisation]:
    return Organisation.objects.filter(
        Q(compound=compound) | Q(covered_compounds=compound) | Q(covered_buildings__compound=compound),
        kind=Organisation.Kind.JOINT_BRANCH,
        dissolved_on__isnull=True,
    ).distinct()


def committee_overlap(compound: Compound) -> tuple[list[Organisation], Organisation | None, list[Any]]:
    """The branches and committee of a compound and the people active in both — the overlap
    ("交叉任职") that red-property evaluations look for."""
    active = (
        Membership.objects.filter(left_on__isnull=True)
        .select_related("person")
        .order_by(membership_rank(), "id")
    )
    branches = list(_branches_of(compound).prefetch_related(Prefetch("memberships", queryset=active)))
    committee = (
        Organisation.objects.filter(
            compound=compound, kind__in=Organisation.COMMITTEE_KINDS, dissolved_on__isnull=True
        )
        .prefetch_related(Prefetch("memberships", queryset=active))
        .first()
    )
    branch_people = {m.person_id: m for b in branches for m in b.memberships.all()}
    overlap = []
    if committee is not None:
        overlap = [
            (branch_people[m.person_id], m)
            for m in committee.memberships.all()
            if m.person_id in branch_people
        ]
    return branches, committee, overlap


@login_required
def compound_detail(request: HttpRequest, code: str) -> HttpResponse:
    """A compound: buildings, its organisations and their overlap, grids and coverage."""
    compound = policy.get_or_404(request.user, "compound", code=code)
    buildings = (
        policy.scope(request.user, "building")
        .filter(compound=compound)
        .select_related("grid")
        .annotate(n_units=Count("units", distinct=True), n_entrances=Count("entrances", distinct=True))
        .order_by("id")
    )
    branches, committee, overlap = committee_overlap(compound)
    grids = list(compound.grids.all())
    workers = RoleGrant.objects.filter(
        role=Role.GRID_WORKER, area__in=grids, revoked_at__isnull=True
    ).select_related("user__person", "area")
    report = compute_coverage(Compound.objects.filter(pk=compound.pk)) if compound.unmanaged else None
    gaps_by_building = {g.building_id: g for g in report.gaps} if report else {}
    buildings = list(buildings)
    for building in buildings:
        building.gap = gaps_by_building.get(building.pk)  # type: ignore[attr-defined]
    channels = policy.scope(request.user, "channel").filter(compound=compound, retired_at__isnull=True)
    return render(
        request,
        "housing/compound_detail.html",
        {
            "compound": compound,
            "buildings": buildings,
            "branches": branches,
            "committee": committee,
            "overlap": overlap,
            "grids": grids,
            "workers": workers,
            "report": report,
            "channels": channels.select_related("building"),
            "units_total": policy.scope(request.user, "unit").filter(compound=compound).count(),
            "can_issue": policy.can_within(request.user, "channel", policy.CHANGE, compound),
        },
    )


@login_required
def building_detail(request: HttpRequest, pk: int) -> HttpResponse:
    building = policy.get_or_404(request.user, "building", pk=pk)
    units = (
        policy.scope(request.user, "unit")
        .filter(building=building)
        .select_related("entrance")
        .prefetch_related(Prefetch("ownerships", queryset=Ownership.objects.select_related("owner")))
        .annotate(n_residents=Count("residents", filter=Q(residents__moved_out__isnull=True)))
        .order_by("entrance__number", "floor", "number")
    )
    return render(
        request,
        "housing/building_detail.html",
        {
            "building": building,
            "compound": building.compound,
            "units": units,
            "show_owners": policy.has_any(request.user, "owner"),
        },
    )


@login_required
def unit_list(request: HttpRequest) -> HttpResponse:
    """Units in scope, searchable by compound, room number or owner name; keyset-paged."""
    qs = policy.scope(request.user, "unit")
    area = _area_filter(request)
    if area is not None:
        qs = qs.filter(compound__in=_compounds_in(Compound.objects.all(), area).values("id"))
    compound_code = request.GET.get("compound")
    if compound_code:
        qs = qs.filter(compound__code=compound_code)
    q = (request.GET.get("q") or "").strip()
    if q:
        # Owners by name first (indexed), then their units: no join over every unit.
        owned = Ownership.objects.filter(owner__in=Owner.objects.filter(name=q).values("id")).values(
            "unit_id"
        )
        qs = qs.filter(Q(number=q) | Q(id__in=owned))
    page = keyset_page(
        qs,
        request.GET.get("after"),
        request.GET.get("size"),
        load=lambda rows: rows.select_related("compound", "building", "entrance"),
    )
    return render(
        request,
        "housing/unit_list.html",
        {
            "page": page,
            "q": q,
            "area": area,
            "compound_code": compound_code,
            "can_export": policy.has_any(request.user, "unit", policy.EXPORT),
        },
    )


@login_required
def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    unit = policy.get_or_404(request.user, "unit", pk=pk)
    owners = policy.scope(request.user, "owner").filter(ownerships__unit=unit)
    residents = policy.scope(request.user, "resident").filter(unit=unit).order_by("-is_household_head", "id")
    return render(
        request,
        "housing/unit_detail.html",
        {
            "unit": unit,
            "compound": unit.compound,
            "owners": owners,
            "residents": residents,
            "can_reveal_owner": policy.has_any(request.user, "owner", policy.REVEAL),
            "can_reveal_resident": policy.has_any(request.user, "resident", policy.REVEAL),
        },
    )


@login_required
def owner_list(request: HttpRequest) -> HttpResponse:
    qs = policy.scope(request.user, "owner")
    q = (request.GET.get("q") or "").strip()
    if q:
        qs = qs.filter(name__contains=q)
    page = keyset_page(
        qs,
        request.GET.get("after"),
        request.GET.get("size"),
        load=lambda rows: rows.annotate(n_units=Count("ownerships")),
    )
    return render(request, "housing/owner_list.html", {"page": page, "q": q})


_REVEALABLE: dict[str, type[Owner] | type[Resident]] = {"owner": Owner, "resident": Resident}


@login_required
@require_POST
def reveal(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Show one unmasked phone number, with a reason, and log the view (htmx fragment)."""
    if kind not in _REVEALABLE:
        raise Http404
    obj = policy.get_or_404(request.user, kind, pk=pk)
    try:
        phone = actions.reveal_phone(
            request.user, obj, reason=request.POST.get("reason", ""), request=request
        )
    except ValidationError as exc:
        return HttpResponse(format_html('<span class="errorlist">{}</span>', exc.messages[0]), status=400)
    except PermissionDenied:
        return HttpResponse(
            format_html('<span class="errorlist">{}</span>', _("You may not see this number.")), status=403
        )
    return HttpResponse(format_html('<a href="tel:{0}">{0}</a>', phone))


@login_required
def import_view(request: HttpRequest) -> HttpResponse:
    """Upload a registry workbook; all rows go in, or none do and the errors come back."""
    from gongzhi.housing.importer import import_registry

    if not policy.has_any(request.user, "unit", policy.IMPORT):
        raise PermissionDenied
    result = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("Choose a file to import."))
        else:
            result = import_registry(
                upload,
                filename=upload.name or "upload",
                actor=request.user,
                request=request,
                dry_run=bool(request.POST.get("dry_run")),
            )
            if result.ok and not request.POST.get("dry_run"):
                messages.success(
                    request,
                    _(
                        "Imported %(rows)d rows: %(created)d units created, %(updated)d updated, "
                        "%(unchanged)d unchanged."
                    )
                    % result.__dict__,
                )
                return redirect("registry-import")
            if not result.ok:
                request.session["import_errors"] = {
                    "fatal": result.fatal,
                    "errors": [e.__dict__ for e in result.errors],
                    "error_count": result.error_count,
                    "rows": result.rows,
                }
    return render(request, "housing/import.html", {"result": result})


@login_required
def import_template(request: HttpRequest) -> HttpResponse:
    from gongzhi.housing.importer import template_workbook

    if not policy.has_any(request.user, "unit", policy.IMPORT):
        raise PermissionDenied
    return _xlsx_response(template_workbook(), _("registry-import-template.xlsx"))


@login_required
def import_errors(request: HttpRequest) -> HttpResponse:
    from gongzhi.housing.importer import ImportResult, RowError, error_workbook

    data = request.session.get("import_errors")
    if not data:
        raise Http404
    result = ImportResult(
        ok=False,
        rows=data["rows"],
        created=0,
        updated=0,
        unchanged=0,
        owners_created=0,
        errors=[RowError(**e) for e in data["errors"]],
        error_count=data["error_count"],
        fatal=data["fatal"],
    )
    return _xlsx_response(error_workbook(result), _("import-errors.xlsx"))


@login_required
def export_view(request: HttpRequest, kind: str) -> HttpResponseBase:
    """Stream a registry list as .xlsx through the policy's export scope; logged."""
    import tempfile

    from gongzhi.housing.exporter import EXPORTS, export_workbook

    if kind not in EXPORTS:
        raise Http404
    area = _area_filter(request)
    unmasked = request.GET.get("unmasked") == "1"
    out = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it once sent
    export_workbook(kind, request.user, area=area, unmasked=unmasked, request=request, out=out)
    out.seek(0)
    name = f"{kind}{'-' + area.code if area else ''}.xlsx"
    return FileResponse(
        out,
        as_attachment=True,
        filename=name,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _xlsx_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    return response
