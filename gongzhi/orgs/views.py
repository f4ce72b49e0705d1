"""Organisation pages: member units, branches, committees, party groups, teams."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from gongzhi.core.pagination import keyset_page
from gongzhi.orgs import policy
from gongzhi.orgs.models import Organisation, membership_rank


@login_required
def org_list(request: HttpRequest) -> HttpResponse:
    qs = policy.scope(request.user, "organisation")
    kind = request.GET.get("kind") or ""
    if kind in Organisation.Kind.values:
        qs = qs.filter(kind=kind)
    q = (request.GET.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(code__icontains=q))
    page = keyset_page(
        qs,
        request.GET.get("after"),
        request.GET.get("size"),
        load=lambda rows: rows.select_related("area", "compound").annotate(
            n_members=Count("memberships", filter=Q(memberships__left_on__isnull=True))
        ),
    )
    return render(
        request,
        "orgs/org_list.html",
        {
            "page": page,
            "kinds": Organisation.Kind.choices,
            "kind": kind,
            "q": q,
        },
    )


@login_required
def org_detail(request: HttpRequest, code: str) -> HttpResponse:
    org = policy.get_or_404(request.user, "organisation", code=code)
    members = (
        policy.scope(request.user, "membership")
        .filter(organisation=org, left_on__isnull=True)
        .select_related("person")
        .order_by(membership_rank(), "id")
    )
    return render(
        request,
        "orgs/org_detail.html",
        {
            "org": org,
            "members": members,
            "categories": org.service_categories.all(),
            "compounds": policy.scope(request.user, "compound")
            .filter(Q(id=org.compound_id) | Q(covering_branches=org))
            .distinct(),
            "buildings": org.covered_buildings.select_related("compound"),
        },
    )
