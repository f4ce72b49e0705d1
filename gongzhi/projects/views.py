"""Staff pages of community projects."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from gongzhi.orgs import policy


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    projects = policy.scope(request.user, "project").select_related("community").order_by("-id")[:200]
    return render(request, "projects/list.html", {"projects": projects})
