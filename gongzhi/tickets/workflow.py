"""The request workflow as tables: which move is allowed from which state, and for whom.

Pure rules with no database access. ``gongzhi.tickets.actions`` looks every move up here
before it locks the row and writes the event; a move that is not in the table is refused
with the reason ``check`` gives.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class State(models.TextChoices):
    REPORTED = "reported", _("Reported")
    ACCEPTED = "accepted", _("Accepted")
    DISPATCHED = "dispatched", _("Dispatched")
    UNIT_ACCEPTED = "unit_accepted", _("Signed for by the unit")
    IN_PROGRESS = "in_progress", _("In progress")
    REPLIED = "replied", _("Replied")
    VERIFIED = "verified", _("Verified on site")
    CLOSED = "closed", _("Closed")
    FOLLOWED_UP = "followed_up", _("Followed up")
    ARCHIVED = "archived", _("Archived")
    REJECTED = "rejected", _("Not accepted")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    MERGED = "merged", _("Merged into another request")


class TaskState(models.TextChoices):
    DISPATCHED = "dispatched", _("Waiting to be signed for")
    ACCEPTED = "accepted", _("Signed for")
    IN_PROGRESS = "in_progress", _("In progress")
    REPLIED = "replied", _("Replied")
    RETURNED = "returned", _("Returned for reassignment")
    CANCELLED = "cancelled", _("Cancelled")


# Who may make a move. DESK: staff who receive and coordinate requests (grid worker,
# community, town and county staff, the joint branch); UNIT: the liaison of the unit the task
# belongs to; REPORTER: the resident who filed it; SYSTEM: the sweep and derived moves.
DESK, UNIT, REPORTER, SYSTEM = "desk", "unit", "reporter", "system"

S = State
OPEN_STATES = frozenset(
    {S.REPORTED, S.ACCEPTED, S.DISPATCHED, S.UNIT_ACCEPTED, S.IN_PROGRESS, S.REPLIED, S.VERIFIED}
)
FINAL_STATES = frozenset({S.ARCHIVED, S.REJECTED, S.WITHDRAWN, S.MERGED})
# States in which the units are working on it (the resolve clock runs).
WITH_UNITS = frozenset({S.DISPATCHED, S.UNIT_ACCEPTED, S.IN_PROGRESS})
BEFORE_CLOSE = frozenset({S.REPORTED, S.ACCEPTED, S.DISPATCHED, S.UNIT_ACCEPTED, S.IN_PROGRESS, S.REPLIED})


@dataclass(frozen=True)
class Move:
    sources: frozenset[str]
    target: str | None  # None: the state does not change (a flag or a note)
    actors: frozenset[str]
    needs_note: bool = False
    public: bool = True  # shown on the reporter's timeline


def _m(sources, target, actors, needs_note=False, public=True):  # type: ignore[no-untyped-def]
    return Move(frozenset(sources), target, frozenset(actors), needs_note, public)


MEETING_ACTIONS = (
    "agenda",
    "meeting_resolution",
    "action_item",
    "action_done",
    "action_overdue",
    "action_carried",
)

TICKET_MOVES: dict[str, Move] = {
    "report": _m({""}, S.REPORTED, {DESK, REPORTER, SYSTEM}),
    "accept": _m({S.REPORTED}, S.ACCEPTED, {DESK}),
    "reject": _m({S.REPORTED}, S.REJECTED, {DESK}, needs_note=True),
    "dispatch": _m({S.ACCEPTED}, S.DISPATCHED, {DESK}),
    # Derived from the tasks: the lead unit signs for it, starts, and all units reply.
    "unit_accept": _m({S.DISPATCHED}, S.UNIT_ACCEPTED, {SYSTEM}),
    "start": _m({S.DISPATCHED, S.UNIT_ACCEPTED}, S.IN_PROGRESS, {SYSTEM}),
    "replied": _m({S.DISPATCHED, S.UNIT_ACCEPTED, S.IN_PROGRESS}, S.REPLIED, {SYSTEM}),
    # A unit's return for reassignment, once approved, puts the request back on the desk.
    "returned": _m({S.DISPATCHED, S.UNIT_ACCEPTED, S.IN_PROGRESS}, S.ACCEPTED, {SYSTEM}),
    "verify": _m({S.REPLIED}, S.VERIFIED, {DESK}),
    "send_back": _m({S.REPLIED, S.VERIFIED}, S.IN_PROGRESS, {DESK}, needs_note=True),
    "close": _m({S.VERIFIED}, S.CLOSED, {DESK}),
    "rate": _m({S.CLOSED}, S.FOLLOWED_UP, {DESK, REPORTER}),
    # Dissatisfied or not fixed: back to the same lead unit, counted against it.
    "reopen": _m({S.CLOSED, S.FOLLOWED_UP}, S.DISPATCHED, {DESK, REPORTER, SYSTEM}),
    "archive": _m({S.FOLLOWED_UP, S.CLOSED}, S.ARCHIVED, {DESK, SYSTEM}),
    "withdraw": _m(BEFORE_CLOSE, S.WITHDRAWN, {DESK, REPORTER}),
    "merge": _m(OPEN_STATES, S.MERGED, {DESK}, needs_note=False),
    # Flags and notes: no change of state.
    "refer": _m(OPEN_STATES, None, {DESK}, needs_note=True),
    "supervise": _m(OPEN_STATES, None, {DESK, SYSTEM}, needs_note=True, public=False),
    "warn": _m(OPEN_STATES, None, {SYSTEM}, public=False),
    "overdue": _m(OPEN_STATES, None, {SYSTEM}, public=False),
    "note": _m(OPEN_STATES | {S.CLOSED, S.FOLLOWED_UP}, None, {DESK, UNIT}, needs_note=True, public=False),
    "me_too": _m(OPEN_STATES, None, {REPORTER, DESK}),
    # An update posted by a partner system (Open311 servicerequestupdates): a public note.
    "partner_update": _m(OPEN_STATES | {S.CLOSED, S.FOLLOWED_UP}, None, {SYSTEM}),
    "request_unreasonable": _m(OPEN_STATES | {S.CLOSED, S.FOLLOWED_UP}, None, {DESK}, True, public=False),
    "unreasonable": _m(OPEN_STATES | {S.CLOSED, S.FOLLOWED_UP, S.ARCHIVED}, None, {DESK}, public=False),
    # The follow-up call could not reach the reporter: left out of the KPIs (DOMAIN §4).
    "unreachable": _m({S.CLOSED}, None, {DESK}, needs_note=True, public=False),
    "refuse_unreasonable": _m(
        OPEN_STATES | {S.CLOSED, S.FOLLOWED_UP, S.ARCHIVED}, None, {DESK}, public=False
    ),
    # What a meeting did about the request (gongzhi.meetings): put on an agenda, resolved,
    # work given to units with a deadline, done, overdue, carried to the next meeting.
    **{
        action: _m(OPEN_STATES | {S.CLOSED, S.FOLLOWED_UP, S.ARCHIVED}, None, {SYSTEM})
        for action in MEETING_ACTIONS
    },
    # A meeting's resolution sends the request to the units it agreed on: the tasks of the
    # earlier round are cancelled and a new round starts with its own clocks.
    "redispatch": _m(
        {S.ACCEPTED, S.DISPATCHED, S.UNIT_ACCEPTED, S.IN_PROGRESS},
        S.DISPATCHED,
        {DESK, SYSTEM},
    ),
}

T = TaskState
ACTIVE_TASK_STATES = frozenset({T.DISPATCHED, T.ACCEPTED, T.IN_PROGRESS, T.REPLIED})

TASK_MOVES: dict[str, Move] = {
    "accept": _m({T.DISPATCHED}, T.ACCEPTED, {UNIT}),
    "start": _m({T.ACCEPTED}, T.IN_PROGRESS, {UNIT}),
    "reply": _m({T.ACCEPTED, T.IN_PROGRESS}, T.REPLIED, {UNIT}, needs_note=True),
    "send_back": _m({T.REPLIED}, T.IN_PROGRESS, {DESK}, needs_note=True),
    "request_extension": _m({T.DISPATCHED, T.ACCEPTED, T.IN_PROGRESS}, None, {UNIT}, True, public=False),
    "extend": _m({T.DISPATCHED, T.ACCEPTED, T.IN_PROGRESS}, None, {DESK}, public=False),
    "refuse_extension": _m(ACTIVE_TASK_STATES, None, {DESK}, public=False),
    "request_return": _m({T.DISPATCHED, T.ACCEPTED, T.IN_PROGRESS}, None, {UNIT}, True, public=False),
    "return": _m({T.DISPATCHED, T.ACCEPTED, T.IN_PROGRESS}, T.RETURNED, {DESK}),
    "refuse_return": _m(ACTIVE_TASK_STATES, None, {DESK}, public=False),
    "cancel": _m(ACTIVE_TASK_STATES, T.CANCELLED, {DESK, SYSTEM}, public=False),
}


class MoveRefused(Exception):
    """A move the workflow does not allow; ``reason`` says why, in the user's language."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check(table: dict[str, Move], action: str, state: str, actors: set[str], note: str = "") -> Move:
    """Return the move for ``action`` from ``state`` or raise ``MoveRefused`` saying why."""
    move = table.get(action)
    if move is None:
        raise MoveRefused(gettext("Unknown action “%(action)s”.") % {"action": action})
    if state not in move.sources:
        labels = dict(State.choices) if table is TICKET_MOVES else dict(TaskState.choices)
        raise MoveRefused(
            gettext("This cannot be done while the request is “%(state)s”.")
            % {"state": labels.get(state, state)}
        )
    if not (move.actors & actors):
        raise MoveRefused(gettext("You may not do this on this request."))
    if move.needs_note and not note.strip():
        raise MoveRefused(gettext("Please give a reason or a note."))
    return move


def derived_ticket_action(ticket_state: str, lead_state: str | None, task_states: list[str]) -> str | None:
    """The ticket move the units' tasks imply, if any.

    ``lead_state`` is the state of the active lead task; ``task_states`` those of all active
    tasks (lead included). The ticket is "replied" only when every active unit has replied.
    """
    if ticket_state not in WITH_UNITS or lead_state is None:
        return None
    if task_states and all(s == T.REPLIED for s in task_states):
        return "replied"
    if lead_state in (T.IN_PROGRESS, T.REPLIED) and ticket_state != S.IN_PROGRESS:
        return "start"
    if lead_state == T.ACCEPTED and ticket_state == S.DISPATCHED:
        return "unit_accept"
    return None
