"""The consultation and opinion workflows as tables: which move is allowed from which state.

Pure rules with no database access; ``actions`` looks every move up here before it locks
the row and writes the audit event.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext

from gongzhi.consultations.models import Consultation, Opinion

C = Consultation.State
O = Opinion.State  # noqa: E741 - the opinion states, read as O.NEW, O.ANSWERED


@dataclass(frozen=True)
class Move:
    sources: frozenset[str]
    target: str | None  # None: the state does not change

    @property
    def to(self) -> str:
        """The state the move leads to (for moves that change the state)."""
        if self.target is None:
            raise ValueError("this move keeps the state")
        return self.target


def _m(sources: set[str], target: str | None) -> Move:
    return Move(frozenset(sources), target)


CONSULTATION_MOVES: dict[str, Move] = {
    # Opening freezes the households in scope and issues their response codes.
    "open": _m({C.DRAFT}, C.OPEN),
    "close": _m({C.OPEN}, C.CLOSED),
    "publish_results": _m({C.CLOSED}, C.PUBLISHED),
    # Plan, scope, questions and documents are fixed once households may answer.
    "edit": _m({C.DRAFT}, None),
    "respond": _m({C.OPEN}, None),
    "raise_opinion": _m({C.OPEN}, None),
    # Answering opinions goes on after the round closes.
    "reply": _m({C.OPEN, C.CLOSED, C.PUBLISHED}, None),
    "reissue_code": _m({C.OPEN}, None),
}

OPINION_MOVES: dict[str, Move] = {
    "assign": _m({O.NEW, O.ASSIGNED, O.DRAFTED}, None),  # keeps a draft; NEW becomes ASSIGNED
    "draft": _m({O.NEW, O.ASSIGNED, O.DRAFTED}, O.DRAFTED),
    "publish": _m({O.DRAFTED}, O.ANSWERED),
    # Draft and publish at once, for a bulk reply.
    "answer": _m({O.NEW, O.ASSIGNED, O.DRAFTED}, O.ANSWERED),
}


class MoveRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_consultation(action: str, state: str) -> Move:
    """The consultation move for ``action`` from ``state``, or ``MoveRefused`` saying why."""
    move = CONSULTATION_MOVES.get(action)
    if move is None:
        raise MoveRefused(gettext("Unknown action “%(action)s”.") % {"action": action})
    if state not in move.sources:
        label = dict(C.choices).get(state, state)
        if action == "respond":
            raise MoveRefused(
                gettext("This consultation is not open for responses (it is “%(state)s”).") % {"state": label}
            )
        raise MoveRefused(
            gettext("This cannot be done while the consultation is “%(state)s”.") % {"state": label}
        )
    return move


def check_opinion(action: str, state: str) -> Move:
    """The opinion move for ``action`` from ``state``, or ``MoveRefused`` saying why."""
    move = OPINION_MOVES.get(action)
    if move is None:
        raise MoveRefused(gettext("Unknown action “%(action)s”.") % {"action": action})
    if state not in move.sources:
        if state == O.ANSWERED:
            raise MoveRefused(gettext("This opinion already has a published reply."))
        raise MoveRefused(
            gettext("This cannot be done while the opinion is “%(state)s”.")
            % {"state": dict(O.choices).get(state, state)}
        )
    return move
