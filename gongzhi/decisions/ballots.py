"""Pure rules over ballot entries: which entry of a unit counts, and the hash chain.

No Django import: ``gongzhi verify-vote`` runs these over an export, and the web app over
the database, so both reach the same verdict.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS = "0" * 64
ONLINE = "online"
CORRECTION = "correction"
PRECEDENCE_LATER = "later"
PRECEDENCE_ONLINE = "online"

# The fields of an entry the chain covers, in this order.
CHAINED_FIELDS = (
    "seq",
    "unit_id",
    "choice",
    "channel",
    "cast_at",
    "recorded_at",
    "recorded_by",
    "collector",
    "reason",
    "photo_sha256",
    "authorisation_sha256",
)


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    unit_id: str
    choice: str  # "" for a correction that voids the unit's ballot
    channel: str
    cast_at: datetime


def entry_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """sha256 over the previous hash and the entry's chained fields as canonical JSON."""
    payload = json.dumps(
        [prev_hash, *(fields.get(name, "") for name in CHAINED_FIELDS)],
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def effective(entries: Iterable[Entry], precedence: str = PRECEDENCE_LATER) -> dict[str, Entry]:
    """The entry that counts for each unit.

    A staff correction replaces everything recorded for the unit before it (a void
    correction, with no choice, leaves the unit without a ballot). Among the owner's own
    ballots after the last correction, ``later`` takes the one cast last (ties by sequence);
    ``online`` takes the last online ballot if there is one, else the last other one.
    """
    by_unit: dict[str, list[Entry]] = {}
    for entry in sorted(entries, key=lambda e: e.seq):
        if entry.channel == CORRECTION:
            by_unit[entry.unit_id] = [entry]
        else:
            by_unit.setdefault(entry.unit_id, []).append(entry)
    chosen: dict[str, Entry] = {}
    for unit_id, items in by_unit.items():
        pick = _pick(items, precedence)
        if pick is not None and pick.choice:
            chosen[unit_id] = pick
    return chosen


def _pick(items: list[Entry], precedence: str) -> Entry | None:
    correction = items[0] if items[0].channel == CORRECTION else None
    own = [e for e in items if e.channel != CORRECTION]
    if not own:
        return correction
    if precedence == PRECEDENCE_ONLINE:
        online = [e for e in own if e.channel == ONLINE]
        own = online or own
    return max(own, key=lambda e: (e.cast_at, e.seq))


def conflicts(entries: Iterable[Entry]) -> set[str]:
    """Units that hold both an online ballot and a paper, door-to-door or proxy one."""
    channels: dict[str, set[bool]] = {}
    for entry in sorted(entries, key=lambda e: e.seq):
        if entry.channel == CORRECTION:
            channels[entry.unit_id] = set()
        else:
            channels.setdefault(entry.unit_id, set()).add(entry.channel == ONLINE)
    return {unit for unit, kinds in channels.items() if kinds == {True, False}}
