"""Staff pages of the households' side: responses entered by staff (paper, visit, call), a
household's history, its paper photos, non-responder lists and response slips to print.
Every page is limited to the compounds in which the user may do the work."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from gongzhi.consultations import actions, codes, queries
from gongzhi.consultations.forms import StaffResponseForm
from gongzhi.consultations.models import Consultation, Household, Response
from gongzhi.consultations.views import error_text, form_errors, int_or_404
from gongzhi.core.audit import record_access
from gongzhi.housing.models import Building, Compound
from gongzhi.orgs import policy

# --------------------------------------------------------------------------- households


def _households_for(user: Any, consultation: Consultation, action: str) -> tuple[list[Compound], Any]:
    compounds = queries.compounds_within(user, consultation, action)
    if not compounds:
        raise PermissionDenied
    return compounds, queries.households(consultation, [c.pk for c in compounds])


@login_required
def respond(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff enter a household's response from a paper form, a visit or a phone call."""
    user = request.user
    consultation = policy.get_or_404(user, "consultation", policy.CHANGE, pk=pk)
    compounds, households = _households_for(user, consultation, policy.CHANGE)
    buildings = list(
        Building.objects.filter(id__in=households.values("building_id"))
        .select_related("compound")
        .order_by("compound__code", "id")
    )
    raw_building = request.GET.get("building") or request.POST.get("building")
    building_id = int_or_404(raw_building) if raw_building else None
    shown = list(households.filter(building_id=building_id)) if building_id else []
    form = StaffResponseForm(
        request.POST or None,
        request.FILES or None,
        questions=list(consultation.questions.all()),
        households=[(h.pk, _household_choice(h)) for h in shown],
        initial={"household": int_or_404(request.GET["household"]) if request.GET.get("household") else None},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        household = (
            Household.objects.select_related("consultation", "compound", "building")
            .filter(pk=data["household"], consultation=consultation)
            .first()
        )
        try:
            if household is None:
                raise ValidationError(
                    {"household": _("This household is not in the scope of this consultation.")}
                )
            actions.record_response(
                user,
                household,
                willingness=data["willingness"],
                channel=data["channel"],
                answers=form.answers(),
                comment=data["comment"],
                collector_name=data["collector_name"],
                collected_at=data["collected_at"],
                staff_name=data["staff_name"],
                photo=data["photo"],
                opinion_text=data["opinion_text"],
                opinion_category=data["opinion_category"],
                idempotency_key=f"staff:{data['key']}",
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(
                request, _("Recorded for %(unit)s.") % {"unit": queries.unit_label(household.unit)}
            )
            return redirect(reverse("consultation-respond", args=[pk]) + f"?building={household.building_id}")
    return render(
        request,
        "consultations/respond_staff.html",
        {"c": consultation, "form": form, "buildings": buildings, "building_id": building_id, "shown": shown},
        status=400 if form.errors else 200,
    )


def _household_choice(household: Household) -> str:
    mark = f" ✓{household.get_willingness_display()}" if household.willingness else ""
    return f"{queries.unit_label(household.unit)}{mark}"


@login_required
def household_detail(request: HttpRequest, pk: int, household: int) -> HttpResponse:
    """A household's responses, every version, for staff of its compound."""
    user = request.user
    consultation = policy.get_or_404(user, "consultation", pk=pk)
    row = get_object_or_404(
        Household.objects.select_related("unit__building", "unit__entrance", "compound", "consultation"),
        pk=household,
        consultation=consultation,
    )
    if not policy.can_within(user, "consultation", policy.VIEW, row.compound):
        raise PermissionDenied
    may_change = policy.can(user, policy.CHANGE, consultation) and policy.can_within(
        user, "consultation", policy.CHANGE, row.compound
    )
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied
        try:
            code = actions.reissue_code(user, row)
        except ValidationError as error:
            messages.error(request, error_text(error))
        else:
            messages.success(
                request,
                _("New code issued: %(code)s. The old slip no longer works.") % {"code": codes.grouped(code)},
            )
        return redirect("consultation-household", pk=pk, household=household)
    versions = list(row.responses.select_related("recorded_by").order_by("-version"))
    return render(
        request,
        "consultations/household.html",
        {
            "c": consultation,
            "h": row,
            "versions": versions,
            "opinions": list(actions.opinions_of(row)),
            "may_change": may_change and consultation.state == Consultation.State.OPEN,
        },
    )


@login_required
def paper_photo(request: HttpRequest, pk: int) -> HttpResponseBase:
    response = get_object_or_404(Response.objects.select_related("household__compound"), pk=pk)
    policy.get_or_404(request.user, "consultation", pk=response.consultation_id)
    if not response.photo or not policy.can_within(
        request.user, "consultation", policy.VIEW, response.household.compound
    ):
        raise PermissionDenied
    return FileResponse(response.photo.open("rb"), content_type=response.photo_content_type or "image/jpeg")


def _chosen_households(
    request: HttpRequest, consultation: Consultation, action: str
) -> tuple[list[Compound], Any, Any]:
    compounds, households = _households_for(request.user, consultation, action)
    building = None
    if request.GET.get("building"):
        building = get_object_or_404(Building, pk=int_or_404(request.GET["building"]))
        households = households.filter(building=building)
    elif request.GET.get("compound"):
        households = households.filter(compound_id=int_or_404(request.GET["compound"]))
    if request.GET.get("household"):
        households = households.filter(pk=int_or_404(request.GET["household"]))
    return compounds, households, building


@login_required
def nonresponders(request: HttpRequest, pk: int) -> HttpResponse:
    """Households that have not answered, by building, to print for door-knocking. Units
    are listed by address only (no names, no phones)."""
    consultation = policy.get_or_404(request.user, "consultation", policy.EXPORT, pk=pk)
    compounds, households, building = _chosen_households(request, consultation, policy.EXPORT)
    undecided = request.GET.get("undecided") == "1"
    missing = (
        households.filter(Q(willingness="") | Q(willingness="undecided"))
        if undecided
        else households.filter(willingness="")
    )
    groups: dict[int, dict[str, Any]] = {}
    for h in missing:
        group = groups.setdefault(
            h.building_id, {"building": h.unit.building, "compound": h.compound, "rows": []}
        )
        group["rows"].append(h)
    record_access(
        request.user,
        "consultations.nonresponders.print",
        consultation,
        kind="export",
        detail={
            "building": building.pk if building else None,
            "count": sum(len(g["rows"]) for g in groups.values()),
        },
        request=request,
    )
    return render(
        request,
        "consultations/nonresponders.html",
        {
            "c": consultation,
            "groups": list(groups.values()),
            "compounds": compounds,
            "building": building,
            "undecided": undecided,
            "buildings": Building.objects.filter(id__in=households.values("building_id")).select_related(
                "compound"
            ),
        },
    )


def public_url(request: HttpRequest, path: str) -> str:
    base = settings.GONGZHI_PUBLIC_URL.rstrip("/")
    return base + path if base else request.build_absolute_uri(path)


@login_required
def slips(request: HttpRequest, pk: int) -> HttpResponse:
    """Response slips to print, one per household: its address, its code and a QR code to
    the phone page. Printed by building (or one household after a reissue)."""
    import segno

    consultation = policy.get_or_404(request.user, "consultation", policy.EXPORT, pk=pk)
    if consultation.state != Consultation.State.OPEN:
        messages.error(request, _("Slips can be printed only while the consultation is open."))
        return redirect("consultation-detail", pk=pk)
    compounds, households, building = _chosen_households(request, consultation, policy.EXPORT)
    if not (building or request.GET.get("household")):
        buildings = Building.objects.filter(id__in=households.values("building_id")).select_related(
            "compound"
        )
        return render(request, "consultations/slips_pick.html", {"c": consultation, "buildings": buildings})
    rows = []
    for h in households[:400]:
        code = codes.code_for(h.code_salt)
        if codes.digest_of(code) != h.code_digest:
            code = actions.reissue_code(request.user, h)  # the server key changed since it opened
        url = public_url(request, reverse("consultation-resident", args=[code]))
        rows.append(
            {
                "h": h,
                "code": codes.grouped(code),
                "url": url,
                "svg": mark_safe(segno.make(url, error="m").svg_inline(omitsize=True, border=2)),
            }
        )
    record_access(
        request.user,
        "consultations.slips.print",
        consultation,
        kind="export",
        detail={"building": building.pk if building else None, "count": len(rows)},
        request=request,
    )
    return render(
        request,
        "consultations/slips.html",
        {"c": consultation, "rows": rows, "entry_url": public_url(request, reverse("consultation-code"))},
    )
