"""Staff pages of community projects: the list, starting a project from residents' needs,
and the photos of its milestones. The project's own page is ``views_detail``; the forms
on it post to ``views_record``. Views read through ``policy`` and change only through
``actions``.
"""

from __future__ import annotations

import io
from fractions import Fraction
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from gongzhi.consultations.models import Consultation, ScopeItem
from gongzhi.core.pagination import keyset_page, parse_int
from gongzhi.housing.models import Building, Compound
from gongzhi.meetings.models import Resolution
from gongzhi.orgs import policy
from gongzhi.orgs.models import Area, Organisation, Person, Role
from gongzhi.projects import actions
from gongzhi.projects.forms import ProjectForm
from gongzhi.projects.models import Dispute, Milestone, MilestonePhoto, Project, ServiceType
from gongzhi.tickets.models import Ticket

LIMIT = 500
THUMB_SIDE = 240
# Stored photos are re-encoded by ``tickets.photos.clean_photo`` into one of these.
PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


# --------------------------------------------------------------------------- shared helpers


def error_text(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "；".join(str(m) for msgs in error.message_dict.values() for m in msgs)
    return "；".join(str(m) for m in error.messages)


def form_errors(form: forms.Form, error: ValidationError, rename: dict[str, str] | None = None) -> None:
    """Put an action's field errors on the form (unknown fields go to the top)."""
    rename = rename or {}
    if hasattr(error, "error_dict"):
        for name, msgs in error.message_dict.items():
            field = rename.get(name, name)
            form.add_error(field if field in form.fields else None, msgs)
    else:
        form.add_error(None, error.messages)


def project_or_404(request: HttpRequest, pk: int, action: str = policy.VIEW) -> Project:
    return policy.get_or_404(request.user, "project", action, pk=pk)


def shows_people(user: Any) -> bool:
    """Staff and the bodies' liaisons see who did what by name; residents and volunteers
    see the record without names."""
    if getattr(user, "is_superuser", False):
        return True
    return bool(policy.roles_of(user) - {Role.RESIDENT, Role.VOLUNTEER})


def person_label(person: Person) -> str:
    return f"{person.name} · {_('party member')}" if person.is_party_member else person.name


def startable_compounds(user: Any) -> QuerySet[Compound]:
    """The compounds the user may start a project in: those their project-managing grants
    cover (the same coverage ``policy.can_within`` checks)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Compound.objects.none()
    if user.is_superuser:
        return Compound.objects.all()
    covered = Q(pk__in=[])
    for grant in policy.active_grants(user):
        if policy.allows(grant.role, "project", policy.MANAGE):
            node = policy._compound_ids_for(grant)
            if node is not None:
                covered |= node
    return Compound.objects.filter(covered)


def weighted_progress(project_ids: list[int]) -> dict[int, int]:
    """``actions.progress`` for many projects in one query."""
    rows = (
        Milestone.objects.filter(project_id__in=project_ids)
        .values("project_id")
        .annotate(weights=Sum("weight"), done=Sum(F("weight") * F("progress")))
    )
    return {r["project_id"]: int(Fraction(r["done"], r["weights"])) if r["weights"] else 0 for r in rows}


# --------------------------------------------------------------------------- the list


def _load_rows(rows: QuerySet[Project]) -> QuerySet[Project]:
    open_disputes = (
        Dispute.objects.filter(project=OuterRef("pk"), state=Dispute.State.OPEN)
        .values("project")
        .annotate(n=Count("id"))
        .values("n")[:1]
    )
    return (
        rows.select_related("community")
        .prefetch_related("compounds")
        .annotate(open_disputes=Coalesce(Subquery(open_disputes), 0))
    )


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    """The projects in the user's scope, newest first, by state and community."""
    user = request.user
    if not policy.has_any(user, "project"):
        raise PermissionDenied
    projects = policy.scope(user, "project")
    communities = list(
        Area.objects.filter(pk__in=projects.values("community_id")).order_by("path").only("pk", "name")
    )
    state = request.GET.get("state", "")
    if state in Project.State.values:
        projects = projects.filter(state=state)
    else:
        state = ""
    community = parse_int(request.GET.get("community"))
    if community not in {a.pk for a in communities}:
        community = None
    else:
        projects = projects.filter(community_id=community)
    page = keyset_page(
        projects, request.GET.get("after"), request.GET.get("size"), load=_load_rows, descending=True
    )
    progress = weighted_progress([p.pk for p in page.rows])
    for row in page.rows:
        row.progress_pct = progress.get(row.pk, 0)
    return render(
        request,
        "projects/list.html",
        {
            "page": page,
            "states": Project.State.choices,
            "communities": communities,
            "chosen": {"state": state, "community": community},
            "may_start": policy.has_any(user, "project", policy.MANAGE)
            and startable_compounds(user).exists(),
        },
    )


# --------------------------------------------------------------------------- starting a project


def _prefill(request: HttpRequest) -> dict[str, Any]:
    """Initial values from the need the page was opened from (``?ticket=``,
    ``?consultation=`` or ``?resolution=``), when the user may see it."""
    user = request.user
    initial: dict[str, Any] = {}
    ticket_id = parse_int(request.GET.get("ticket"))
    if ticket_id is not None:
        ticket = policy.scope(user, "ticket").filter(pk=ticket_id).first()
        if ticket is not None:
            initial |= {"tickets": f"#{ticket.pk}", "summary": ticket.description, "title": ticket.title}
            if ticket.compound_id:
                initial["compounds"] = [ticket.compound_id]
    consultation_id = parse_int(request.GET.get("consultation"))
    if consultation_id is not None:
        consultation = policy.scope(user, "consultation").filter(pk=consultation_id).first()
        if consultation is not None:
            initial |= {"consultations": [consultation.pk], "title": consultation.title[:120]}
            initial.setdefault("summary", consultation.body[:4000])
            scope = ScopeItem.objects.filter(consultation=consultation).values_list("compound_id", flat=True)
            initial.setdefault("compounds", sorted({pk for pk in scope if pk}))
    resolution_id = parse_int(request.GET.get("resolution"))
    if resolution_id is not None:
        resolution = (
            Resolution.objects.filter(pk=resolution_id, adopted=True).select_related("item__meeting").first()
        )
        if resolution is not None and policy.can(user, policy.VIEW, resolution.item.meeting):
            initial |= {"resolutions": [resolution.pk], "title": resolution.item.title[:120]}
            initial.setdefault("summary", resolution.text)
            if resolution.item.meeting.compound_id:
                initial.setdefault("compounds", [resolution.item.meeting.compound_id])
    return initial


def _prefixes(path: str) -> list[str]:
    """``/a/b/c/`` → ``/a/``, ``/a/b/``, ``/a/b/c/``: the paths of an area and those above it."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def _start_form(request: HttpRequest) -> tuple[ProjectForm, dict[str, dict[int, Any]]]:
    """The start form with its choices from the user's scope, and the objects behind them."""
    user = request.user
    compounds = list(
        startable_compounds(user).select_related("community").order_by("area_path", "name")[:LIMIT]
    )
    if not compounds:
        raise PermissionDenied
    compound_ids = [c.pk for c in compounds]
    community_ids = sorted({c.community_id for c in compounds})
    prefixes = sorted({p for c in compounds for p in _prefixes(c.community.path)})
    party_orgs = list(
        Organisation.objects.filter(
            kind=Organisation.Kind.PARTY_ORG, dissolved_on__isnull=True, area__path__in=prefixes
        )
        .select_related("area")
        .order_by("area__path", "name")
    )
    branches = list(
        policy.scope(user, "organisation")
        .filter(kind=Organisation.Kind.JOINT_BRANCH, dissolved_on__isnull=True)
        .filter(Q(area_id__in=community_ids) | Q(covered_compounds__in=compound_ids))
        .distinct()
        .order_by("area__path", "name")[:LIMIT]
    )
    committees = list(
        Organisation.objects.filter(
            kind__in=Organisation.COMMITTEE_KINDS, dissolved_on__isnull=True, compound_id__in=compound_ids
        ).order_by("name")
    )
    units = list(
        Organisation.objects.filter(kind=Organisation.Kind.MEMBER_UNIT, dissolved_on__isnull=True).order_by(
            "name"
        )
    )
    services = list(ServiceType.objects.filter(active=True))
    buildings = list(
        Building.objects.filter(compound_id__in=compound_ids)
        .select_related("compound")
        .order_by("compound__name", "id")[: LIMIT * 2]
    )
    people = list(policy.scope(user, "person").order_by("name", "id")[:LIMIT])
    consultations = list(policy.scope(user, "consultation").order_by("-id")[:200])
    resolutions = list(
        Resolution.objects.filter(adopted=True, item__meeting__in=policy.scope(user, "meeting").values("pk"))
        .select_related("item__meeting")
        .order_by("-id")[:200]
    )
    initial: dict[str, Any] = {"budget": "0", "approvals_required": 2} | _prefill(request)
    # A need opened from its own page is offered even when it is older than the lists above.
    for pk in initial.get("consultations", []):
        if pk not in {c.pk for c in consultations}:
            consultations += list(Consultation.objects.filter(pk=pk))
    for pk in initial.get("resolutions", []):
        if pk not in {r.pk for r in resolutions}:
            resolutions += list(Resolution.objects.filter(pk=pk).select_related("item__meeting"))
    chosen = set(initial.get("compounds", []))
    leading = [o for o in party_orgs if any(c.community_id == o.area_id for c in compounds if c.pk in chosen)]
    if len(leading) == 1:
        initial["party_org"] = leading[0].pk
    elif len(party_orgs) == 1:
        initial["party_org"] = party_orgs[0].pk
    grouped_compounds: dict[str, list[tuple[int, str]]] = {}
    for c in compounds:
        grouped_compounds.setdefault(c.community.name, []).append((c.pk, c.name))
    grouped_buildings: dict[str, list[tuple[int, str]]] = {}
    for b in buildings:
        grouped_buildings.setdefault(b.compound.name, []).append((b.pk, b.label))
    form = ProjectForm(
        request.POST or None,
        compounds=list(grouped_compounds.items()),
        buildings=list(grouped_buildings.items()),
        party_orgs=[(o.pk, f"{o.name}（{o.area.name}）") for o in party_orgs],
        branches=[(o.pk, o.name) for o in branches],
        committees=[(o.pk, o.name) for o in committees],
        member_units=[(o.pk, o.name) for o in units],
        service_types=[(s.pk, s.name) for s in services],
        consultations=[(c.pk, c.title) for c in consultations],
        resolutions=[(r.pk, f"{r.item.meeting.title} · {r.text[:40]}") for r in resolutions],
        people=[(p.pk, person_label(p)) for p in people],
        initial=initial,
    )
    objects: dict[str, dict[int, Any]] = {
        "compounds": {c.pk: c for c in compounds},
        "buildings": {b.pk: b for b in buildings},
        "orgs": {o.pk: o for o in [*party_orgs, *branches, *committees, *units]},
        "services": {s.pk: s for s in services},
        "consultations": {c.pk: c for c in consultations},
        "resolutions": {r.pk: r for r in resolutions},
        "people": {p.pk: p for p in people},
    }
    return form, objects


def _tickets(user: Any, form: ProjectForm) -> list[Ticket]:
    numbers = form.cleaned_data["tickets"]
    found = {t.pk: t for t in policy.scope(user, "ticket").filter(pk__in=numbers)}
    missing = [n for n in numbers if n not in found]
    if missing:
        raise ValidationError(
            {
                "tickets": _("No request %(numbers)s among the requests you can see.")
                % {"numbers": "、".join(f"#{n}" for n in missing)}
            }
        )
    return [found[n] for n in numbers]


@login_required
def project_new(request: HttpRequest) -> HttpResponse:
    """The community party organisation starts a project from residents' needs."""
    user = request.user
    if not policy.has_any(user, "project", policy.MANAGE):
        raise PermissionDenied
    form, objects = _start_form(request)
    if request.method == "POST" and form.is_valid():
        data, orgs = form.cleaned_data, objects["orgs"]
        try:
            project = actions.create_project(
                user,
                party_org=orgs[data["party_org"]],
                title=data["title"],
                kind=data["kind"],
                summary=data["summary"],
                compounds=[objects["compounds"][pk] for pk in data["compounds"]],
                buildings=[objects["buildings"][pk] for pk in data["buildings"]],
                branch=orgs.get(data["branch"]) if data["branch"] else None,
                committee=orgs.get(data["committee"]) if data["committee"] else None,
                member_units=[orgs[pk] for pk in data["member_units"]],
                service_types=[objects["services"][pk] for pk in data["service_types"]],
                budget=data["budget"],
                approvals_required=data["approvals_required"],
                levies_owners=data["levies_owners"],
                tickets=_tickets(user, form),
                consultations=[objects["consultations"][pk] for pk in data["consultations"]],
                resolutions=[objects["resolutions"][pk] for pk in data["resolutions"]],
                leads=[(objects["people"][pk], role) for pk, role in form.leads()],
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Project %(code)s started.") % {"code": project.code})
            return redirect("project-detail", pk=project.pk)
    return render(request, "projects/new.html", {"form": form}, status=400 if form.errors else 200)


# --------------------------------------------------------------------------- photos


def _thumbnail(picture: MilestonePhoto, fmt: str) -> bytes | None:
    """A small copy of the photo, or None when it cannot be read (the original is served)."""
    out = io.BytesIO()
    try:
        with picture.file.open("rb") as stored, Image.open(stored) as image:
            image.thumbnail((THUMB_SIDE, THUMB_SIDE))
            image.save(out, fmt)
    except (OSError, UnidentifiedImageError, ValueError):
        return None
    return out.getvalue()


@login_required
def photo(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A milestone photo for those who may see the project; ``?size=thumb`` gives a small
    copy for the project page."""
    picture = get_object_or_404(MilestonePhoto.objects.select_related("milestone"), pk=pk)
    project_or_404(request, picture.milestone.project_id)
    fmt = PIL_FORMATS.get(picture.content_type)
    response: HttpResponseBase
    if request.GET.get("size") == "thumb" and fmt:
        thumb = _thumbnail(picture, fmt)
        if thumb is not None:
            response = HttpResponse(thumb, content_type=picture.content_type)
            response["X-Content-Type-Options"] = "nosniff"
            response["Cache-Control"] = "private, max-age=3600"
            return response
    response = FileResponse(picture.file.open("rb"), content_type=picture.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response
