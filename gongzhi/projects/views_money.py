"""The fund pages of a project."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from gongzhi.projects import ledger
from gongzhi.projects.models import Project


def money_context(request: HttpRequest, project: Project) -> dict[str, Any]:
    """What the project page shows of the fund (rendered by ``projects/money/_summary.html``)."""
    return {"totals": ledger.totals(project)}
