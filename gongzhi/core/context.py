from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def _nav(request: HttpRequest) -> dict[str, bool]:
    from gongzhi.dashboards.queries import may_view_kpis
    from gongzhi.orgs import policy

    user = request.user
    return {
        "registry": policy.has_any(user, "compound"),
        "orgs": policy.has_any(user, "organisation"),
        "coverage": policy.has_any(user, "channel"),
        "audit": policy.has_any(user, "audit"),
        "tickets": policy.has_any(user, "ticket")
        and (
            policy.has_any(user, "ticket", policy.CHANGE) or not policy.has_any(user, "task", policy.CHANGE)
        ),
        "tasks": policy.has_any(user, "task", policy.CHANGE),
        "routing": policy.has_any(user, "ticket", policy.MANAGE),
        "kpi": may_view_kpis(user),
        "votes": policy.has_any(user, "decision", policy.CHANGE),
        "meetings": policy.has_any(user, "meeting"),
        "projects": policy.has_any(user, "project"),
        "volunteers": policy.has_any(user, "activity"),
    }


def site(request: HttpRequest) -> dict[str, Any]:
    return {
        "DEMO": settings.DEMO,
        "SITE_NAME": settings.GONGZHI_NAME,
        "nav": SimpleLazyObject(lambda: _nav(request)),
    }
