"""Small checks shared by the consultation actions: refused moves, text, permissions."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model

from gongzhi.consultations import workflow as W
from gongzhi.core.text import clean_text  # noqa: F401 - used by the actions through this module
from gongzhi.orgs import policy

MAX_TEXT = 2000


class Refused(ValidationError):
    """A move refused by the workflow; carries a translated reason."""


def checked_consultation(action: str, state: str) -> W.Move:
    """The consultation's move, or ``Refused`` with its reason in the user's language."""
    try:
        return W.check_consultation(action, state)
    except W.MoveRefused as refused:
        raise Refused(refused.reason) from None


def checked_opinion(action: str, state: str) -> W.Move:
    try:
        return W.check_opinion(action, state)
    except W.MoveRefused as refused:
        raise Refused(refused.reason) from None


def require(actor: Any, action: str, obj: Model) -> None:
    """PermissionDenied unless the policy lets ``actor`` do ``action`` on ``obj``."""
    if actor is None or not policy.can(actor, action, obj):
        raise PermissionDenied


def require_within(actor: Any, action: str, compound: Any) -> None:
    """PermissionDenied unless ``actor`` may do ``action`` on consultation work in ``compound``."""
    if actor is None or not policy.can_within(actor, "consultation", action, compound):
        raise PermissionDenied


def is_signed_in(actor: Any) -> bool:
    return bool(getattr(actor, "is_authenticated", False))
