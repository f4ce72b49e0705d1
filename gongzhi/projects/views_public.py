"""Public pages of a compound's community projects (``/c/<code>/projects/``), no sign-in.

What a resident sees after scanning the QR code on a posted statement: what each project
is, who runs it, how far the work is, and the open ledger — every entry, its balance and
the receipts of what was spent. No payer, approver, vendor or staff name, no phone, and a
household's unit only where the payer agreed (``projects.statement`` does the redaction).
A project is public once it leaves preparation; its photos and expense receipts are served
only through these pages. Each section is one query (or one aggregation) however much
there is to show.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet, Sum
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.utils.safestring import mark_safe

from gongzhi.coverage.views import qr_svg
from gongzhi.housing.models import Compound
from gongzhi.meetings import documents
from gongzhi.meetings.views_public import public_url
from gongzhi.projects import actions, statement
from gongzhi.projects.models import (
    ZERO,
    Dispute,
    LedgerEntry,
    Milestone,
    MilestonePhoto,
    Project,
    Rating,
    Receipt,
)

P = Project.State
# Not public: a project still being prepared. Listed: neither that nor a cancelled one.
HIDDEN_STATES = (P.PREPARING,)
UNLISTED_STATES = (P.PREPARING, P.CANCELLED)
LISTED = 200


def _compound(code: str) -> Compound:
    compound: Compound = get_object_or_404(Compound.objects.select_related("community"), code=code)
    return compound


def public_projects(compound: Compound) -> QuerySet[Project]:
    """The projects of a compound that are public (all but those being prepared)."""
    return Project.objects.filter(compounds=compound).exclude(state__in=HIDDEN_STATES)


def _project(code: str, pk: int) -> tuple[Compound, Project]:
    compound = _compound(code)
    project: Project = get_object_or_404(
        public_projects(compound).select_related("party_org", "branch", "committee"), pk=pk
    )
    return compound, project


def project_list(request: HttpRequest, code: str) -> HttpResponse:
    """The compound's projects with their state, progress and money, one line each."""
    compound = _compound(code)
    projects = list(
        Project.objects.filter(compounds=compound)
        .exclude(state__in=UNLISTED_STATES)
        .order_by("-created_at", "-id")[:LISTED]
    )
    ids = [p.pk for p in projects]
    money: dict[int, dict[str, Decimal]] = defaultdict(lambda: {"income": ZERO, "expense": ZERO})
    for project_id, direction, total in (
        LedgerEntry.objects.filter(project_id__in=ids)
        .values("project_id", "direction")
        .annotate(total=Sum("amount"))
        .values_list("project_id", "direction", "total")
    ):
        money[project_id][direction] += total
    weights: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for project_id, weight, progress in Milestone.objects.filter(project_id__in=ids).values_list(
        "project_id", "weight", "progress"
    ):
        weights[project_id].append((weight, progress))
    rows = [
        {
            "project": p,
            "state_label": P(p.state).label,
            "kind_label": Project.Kind(p.kind).label,
            "progress": statement.weighted_progress(weights[p.pk]),
            "raised": money[p.pk][LedgerEntry.Direction.INCOME],
            "spent": money[p.pk][LedgerEntry.Direction.EXPENSE],
        }
        for p in projects
    ]
    return render(request, "projects/public/list.html", {"compound": compound, "rows": rows})


def _milestones(project: Project, names: set[str]) -> list[dict[str, Any]]:
    photos = Prefetch("photos", queryset=MilestonePhoto.objects.order_by("taken_on", "id"))
    out = []
    for m in project.milestones.prefetch_related(photos).order_by("position", "id"):
        out.append(
            {
                "title": statement.public_text(m.title, names),
                "weight": m.weight,
                "progress": m.progress,
                "due_on": m.due_on,
                "done_on": m.done_on,
                "photos": [
                    {
                        "pk": ph.pk,
                        "stage": ph.stage,
                        "stage_label": MilestonePhoto.Stage(ph.stage).label,
                        "taken_on": ph.taken_on,
                        "caption": statement.public_text(ph.caption, names),
                    }
                    for ph in m.photos.all()
                ],
            }
        )
    return out


def _ratings(project: Project) -> dict[str, list[dict[str, Any]]]:
    """The published ratings; a rated party member is named by surname only."""
    out: dict[str, list[dict[str, Any]]] = {"resident": [], "community": []}
    for row in actions.rating_summary(project):
        if row["target"] == Rating.Target.PARTY_MEMBER:
            row = {**row, "name": documents.masked_name(row["name"])}
        out[row["direction"]].append(row)
    return out


def project_page(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """One project, phone first: what and why, who runs it, progress with dated photos, the
    public ledger with its totals, the levy in counts, disputes, objections and ratings."""
    compound, project = _project(code, pk)
    st = statement.build(project, public=True)
    names = st.names
    milestones = _milestones(project, names)
    leads = [
        {
            "role": statement.public_text(lead.role, names),
            "name": documents.masked_name(lead.person.name),
            "party_member": lead.person.is_party_member,
        }
        for lead in project.leads.select_related("person").order_by("id")
    ]
    disputes = list(project.disputes.order_by("-opened_at", "-id").values_list("title", "state"))
    context = {
        "compound": compound,
        "project": project,
        "st": st,
        "summary": statement.public_text(project.summary, names),
        "services": [s.name for s in project.service_types.order_by("position", "id")],
        "member_units": [u.name for u in project.member_units.order_by("name")],
        "leads": leads,
        "progress": statement.weighted_progress((m["weight"], m["progress"]) for m in milestones),
        "milestones": milestones,
        "open_disputes": [
            {"title": statement.public_text(title, names), "state_label": Dispute.State(state).label}
            for title, state in disputes
            if state == Dispute.State.OPEN
        ],
        "closed_disputes": sum(1 for _t, state in disputes if state != Dispute.State.OPEN),
        "objections": [
            {
                "text": statement.public_text(o.text, names),
                "raised_at": o.raised_at,
                "answer": statement.public_text(o.answer, names),
                "answered_at": o.answered_at,
            }
            for o in project.objections.order_by("id")
        ],
        "ratings": _ratings(project),
    }
    return render(request, "projects/public/detail.html", context)


def _file(stored: Any) -> FileResponse:
    response = FileResponse(stored.file.open("rb"), content_type=stored.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "public, max-age=86400"
    return response


def photo(request: HttpRequest, code: str, pk: int, photo_id: int) -> HttpResponseBase:
    """A dated photo of a milestone of a public project."""
    _compound, project = _project(code, pk)
    found = MilestonePhoto.objects.filter(pk=photo_id, milestone__project=project).first()
    if found is None:
        raise Http404
    return _file(found)


def receipt(request: HttpRequest, code: str, pk: int, receipt_id: int) -> HttpResponseBase:
    """A receipt of an expense of a public project. Receipts of income are not public: a
    transfer slip shows the payer's name and account."""
    _compound, project = _project(code, pk)
    found = Receipt.objects.filter(pk=receipt_id, project=project, expense__isnull=False).first()
    if found is None:
        raise Http404
    return _file(found)


def statement_context(request: HttpRequest, st: statement.Statement, compound: Compound) -> dict[str, Any]:
    """What the printed statement needs besides its data: the QR code to the public page."""
    url = public_url(request, "public-project", compound.code, st.project.pk)
    return {"st": st, "public_url": url, "qr": mark_safe(qr_svg(url))}  # noqa: S308 - segno output


def statement_pdf(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """The public statement (账目公示) as a PDF, with the same redaction as the page."""
    from gongzhi.notices.pdf import pdf_response

    compound, project = _project(code, pk)
    st = statement.build(project, public=True)
    suffix = "" if st.closed else "-草稿"
    return pdf_response(
        "projects/print/statement.html",
        statement_context(request, st, compound),
        request,
        f"账目公示-{project.code}{suffix}.pdf",
    )
