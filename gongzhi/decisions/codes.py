"""Voting codes printed on each unit's slip (see ``core.slipcodes``): derived from the
decision and the unit, so a lost slip can be reprinted; only the keyed digest is stored."""

from __future__ import annotations

from gongzhi.core import slipcodes
from gongzhi.core.slipcodes import LENGTH as LENGTH
from gongzhi.core.slipcodes import grouped as pretty


def voting_code(decision_id: int, unit_id: int) -> str:
    return slipcodes.derive("vote", f"{decision_id}:{unit_id}")


def normalise(text: str) -> str:
    """What the owner typed, as a code ("" when it cannot be one)."""
    return slipcodes.normalise(text) or ""


def digest(code: str) -> str:
    return slipcodes.keyed_digest("vote-digest", normalise(code))


__all__ = ["LENGTH", "digest", "normalise", "pretty", "voting_code"]
