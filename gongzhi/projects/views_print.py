"""The printable statement of a project's accounts (账目公示) for staff: a page to print and
its PDF.

Scoped by the permission policy like every staff page: anyone who may see the project may
print its statement. Those who may also export the project's data get the full record (the
payer of each contribution, the approvers by name, who was paid); everyone else gets the
public version. Until the project is closed the statement carries a "draft" band. Every PDF
is an export and leaves an audit event.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from gongzhi.core.audit import record_access
from gongzhi.core.models import AuditEvent
from gongzhi.orgs import policy
from gongzhi.projects import statement
from gongzhi.projects.models import Project
from gongzhi.projects.views_public import statement_context

TEMPLATE = "projects/print/statement.html"


def _statement(request: HttpRequest, pk: int) -> tuple[Project, dict[str, Any]]:
    project: Project = policy.get_or_404(request.user, "project", policy.VIEW, pk=pk)
    compound = project.compounds.order_by("id").first()
    if compound is None:  # every project serves at least one compound
        raise Http404
    public = not policy.can(request.user, policy.EXPORT, project)
    st = statement.build(project, public=public)
    return project, statement_context(request, st, compound)


@login_required
def statement_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The statement to print: every entry with its running balance, the approvals, the
    missing receipts, the levy in counts, signature lines and a QR code to the public page."""
    _project, context = _statement(request, pk)
    return render(request, TEMPLATE, {**context, "staff_page": True})


@login_required
def statement_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The same statement as a PDF (an export, logged)."""
    from gongzhi.notices.pdf import pdf_response

    project, context = _statement(request, pk)
    st: statement.Statement = context["st"]
    record_access(
        request.user,
        "projects.statement.export",
        project,
        kind=AuditEvent.Kind.EXPORT,
        detail={"format": "pdf", "public": st.public, "draft": not st.closed, "entries": len(st.entries)},
        request=request,
    )
    suffix = "" if st.closed else "-草稿"
    return pdf_response(TEMPLATE, context, request, f"账目公示-{project.code}{suffix}.pdf")
