"""Volunteer pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from gongzhi.orgs import policy


@login_required
def activity_list(request: HttpRequest) -> HttpResponse:
    activities = (
        policy.scope(request.user, "activity").select_related("community").order_by("-starts_at")[:200]
    )
    return render(request, "volunteers/list.html", {"activities": activities})
