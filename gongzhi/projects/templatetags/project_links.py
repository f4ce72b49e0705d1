"""``{% may_start_project user compound as ok %}``: whether to offer “Start a project from
this” on another app's page (a request, a meeting's resolution)."""

from __future__ import annotations

from typing import Any

from django import template

from gongzhi.orgs import policy
from gongzhi.projects import actions

register = template.Library()


@register.simple_tag
def may_start_project(user: Any, compound: Any = None) -> bool:
    """With a compound: whether the user may start a project there; without one (a meeting
    of a whole community or town): whether they may start projects anywhere."""
    if compound is not None:
        return actions.may_start(user, [compound])
    return policy.has_any(user, "project", policy.MANAGE)
