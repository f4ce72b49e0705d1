"""The project's timeline in words: one readable sentence per ``ProjectEvent``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from gongzhi.projects.models import Dispute, EmergencyConfirmation, LedgerEntry, Project, ProjectEvent


@dataclass
class Line:
    at: Any
    text: str
    note: str
    who: str


def _label(choices: Any, value: Any) -> str:
    return str(choices(value).label) if value in choices.values else str(value or "")


def _state(data: dict[str, Any]) -> str:
    return _("Moved from “%(from)s” to “%(to)s”.") % {
        "from": _label(Project.State, data.get("from")),
        "to": _label(Project.State, data.get("to")),
    }


def _rated(data: dict[str, Any]) -> str:
    if data.get("direction") == "community":
        return _("The community rated a contribution to the project.")
    return _("A household rated the project at the acceptance check.")


def _dispute_closed(data: dict[str, Any]) -> str:
    if data.get("state") == Dispute.State.SETTLED:
        return _("A dispute was settled.")
    return _("A dispute was closed without agreement.")


def _expense_approved(data: dict[str, Any]) -> str:
    return _("An approver agreed to an expense (%(n)s approvals so far).") % {"n": data.get("approvals", "")}


SENTENCES: dict[str, Callable[[dict[str, Any]], str]] = {
    "created": lambda d: (
        _("The project was started from %(n)s residents' needs.") % {"n": d.get("needs", "")}
    ),
    "state": _state,
    "lead": lambda d: (
        _("%(person)s leads: %(role)s.") % {"person": d.get("person", ""), "role": d.get("role", "")}
    ),
    "milestone": lambda d: _("Milestone added: %(milestone)s.") % {"milestone": d.get("milestone", "")},
    "progress": lambda d: (
        _("%(milestone)s is %(progress)s%% done.")
        % {"milestone": d.get("milestone", ""), "progress": d.get("progress", "")}
    ),
    "dispute_opened": lambda d: _("Dispute logged: %(title)s.") % {"title": d.get("title", "")},
    "mediation": lambda d: _("Mediation in the dispute “%(title)s”.") % {"title": d.get("title", "")},
    "dispute_closed": _dispute_closed,
    "rated": _rated,
    "objection": lambda d: _("A resident raised an objection."),
    "objection_answered": lambda d: _("An objection was answered."),
    "shift": lambda d: _("Labour shift planned: %(title)s.") % {"title": d.get("title", "")},
    "income": lambda d: (
        _("Income no. %(seq)s: %(amount)s yuan, %(source)s.")
        % {
            "seq": d.get("seq", ""),
            "amount": d.get("amount", ""),
            "source": _label(LedgerEntry.Source, d.get("source")),
        }
    ),
    "emergency": lambda d: (
        _("The town confirmed an emergency: %(hazard)s.")
        % {"hazard": _label(EmergencyConfirmation.Hazard, d.get("hazard"))}
    ),
    "expense_submitted": lambda d: (
        _("An expense of %(amount)s yuan was submitted for approval.") % {"amount": d.get("amount", "")}
    ),
    "expense_approved": _expense_approved,
    "expense_rejected": lambda d: _("An expense was rejected."),
    "expense_withdrawn": lambda d: _("An expense was withdrawn."),
    "expense_paid": lambda d: (
        _("An expense of %(amount)s yuan was paid from the fund.") % {"amount": d.get("amount", "")}
    ),
    "receipt": lambda d: _("Receipts added to an expense: %(n)s.") % {"n": d.get("files", "")},
    "reversal": lambda d: (
        _("Entry no. %(reverses)s was reversed by entry no. %(seq)s.")
        % {"reverses": d.get("reverses", ""), "seq": d.get("seq", "")}
    ),
    "levy": lambda d: (
        _("Owners' shares set: %(total)s yuan over %(n)s households.")
        % {"total": d.get("total", ""), "n": d.get("households", "")}
    ),
}


def sentence(event: ProjectEvent) -> str:
    data = event.data if isinstance(event.data, dict) else {}
    write = SENTENCES.get(event.action)
    if write is None:
        return event.action
    try:
        return write(data)
    except (TypeError, ValueError):
        return event.action


def build(events: Iterable[ProjectEvent], *, show_people: bool) -> list[Line]:
    """The lines of the timeline; who did it only for those who see people by name."""
    lines = []
    for event in events:
        actor: Any = event.actor
        who = actor.get_username() if show_people and actor is not None else ""
        lines.append(Line(at=event.at, text=sentence(event), note=event.note, who=who))
    return lines
