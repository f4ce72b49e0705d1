"""The project's own timeline, written by the actions in the same transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gongzhi.projects.models import Project, ProjectEvent


def log_event(
    project: Project, action: str, actor: Any, at: dt.datetime, *, note: str = "", data: dict | None = None
) -> ProjectEvent:
    return ProjectEvent.objects.create(
        project=project,
        action=action,
        note=note,
        data=data or {},
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        at=at,
    )
