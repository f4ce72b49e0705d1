"""Checks every change to a decision shares: permission, the row lock, the state, text."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.text import clean_text
from gongzhi.decisions.models import Decision, DecisionStep
from gongzhi.orgs import policy

MAX_TEXT = 5000


class Refused(ValidationError):
    """A change refused by the rules of the vote; carries a translated reason."""


def text(value: str, field: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    return clean_text(value, field, required=required, limit=limit)


def require_change(user: Any, decision: Decision) -> None:
    if not policy.can(user, policy.CHANGE, decision):
        raise PermissionDenied


def lock(decision: Decision, expected_version: int | None = None) -> Decision:
    locked = Decision.objects.select_for_update().get(pk=decision.pk)
    if expected_version is not None and locked.version != expected_version:
        raise Refused(_("Someone else changed this decision a moment ago. Reload the page and try again."))
    return locked


def save(decision: Decision, *fields: str) -> None:
    decision.version += 1
    decision.save(update_fields=[*fields, "version"])


def step(decision: Decision, kind: str, user: Any, note: str = "", at: dt.datetime | None = None) -> None:
    DecisionStep.objects.create(
        decision=decision,
        kind=kind,
        note=note,
        at=at or timezone.now(),
        recorded_by=user if getattr(user, "is_authenticated", False) else None,
    )


def expect(decision: Decision, *states: str) -> None:
    if decision.state not in states:
        raise Refused(
            _("Not possible while the decision is “%(state)s”.") % {"state": decision.get_state_display()}
        )


def fmt(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")
