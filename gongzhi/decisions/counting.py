"""Counting a decision, from the database or from its tamper-evident export.

Both paths feed the same pure functions (``ballots.effective`` then ``tally.tally``), so
``gongzhi verify-vote`` reaches the verdict the web app published, or says where they part.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from gongzhi.decisions import ballots as B
from gongzhi.decisions.tally import Choice, TallyResult, VoterUnit, tally

EXPORT_FORMAT = "gongzhi-vote-export/1"


def _voter(unit_id: Any, owner_key: str, area: Decimal, kind: str, developer_held: bool) -> VoterUnit:
    return VoterUnit(
        unit_id=str(unit_id), owner_id=owner_key, area=Decimal(area), kind=kind, developer_held=developer_held
    )


def count_decision(decision: Any) -> TallyResult:
    """The tally of a decision's effective ballots, read straight from its entries."""
    from gongzhi.decisions.models import BallotEntry, Elector

    voters = [
        _voter(*row)
        for row in Elector.objects.filter(decision=decision)
        .values_list("unit_id", "owner_key", "area_m2", "kind", "developer_held")
        .iterator(chunk_size=5000)
    ]
    entries = (
        B.Entry(seq, str(unit_id), choice, channel, cast_at)
        for seq, unit_id, choice, channel, cast_at in BallotEntry.objects.filter(decision=decision)
        .values_list("seq", "elector__unit_id", "choice", "channel", "cast_at")
        .iterator(chunk_size=5000)
    )
    chosen = B.effective(entries, decision.precedence)
    return tally(
        voters,
        {unit: Choice(entry.choice) for unit, entry in chosen.items()},
        decision.matter,
        deemed_votes=decision.deemed_votes,
        include_parking=decision.include_parking,
    )


# --------------------------------------------------------------------------- export


def export_rows(decision: Any) -> Iterator[str]:
    """The export as JSON lines: a header, every elector, every entry in chain order, and the
    published results. Streamed, so a large electorate never sits in memory as one string."""
    import json

    from gongzhi.decisions.models import BallotEntry, Elector

    def line(obj: Mapping[str, Any]) -> str:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str) + "\n"

    yield line(
        {
            "type": "decision",
            "format": EXPORT_FORMAT,
            "id": decision.pk,
            "title": decision.title,
            "matter": decision.matter,
            "deemed_votes": decision.deemed_votes,
            "include_parking": decision.include_parking,
            "precedence": decision.precedence,
            "chain_head": decision.chain_head,
            "chain_length": decision.chain_length,
        }
    )
    for unit_id, label, owner_key, area, kind, dev in (
        Elector.objects.filter(decision=decision)
        .order_by("id")
        .values_list("unit_id", "label", "owner_key", "area_m2", "kind", "developer_held")
        .iterator(chunk_size=5000)
    ):
        yield line(
            {
                "type": "elector",
                "unit_id": str(unit_id),
                "label": label,
                "owner_key": owner_key,
                "area_m2": f"{area:.2f}",
                "kind": kind,
                "developer_held": dev,
            }
        )
    for entry in (
        BallotEntry.objects.filter(decision=decision)
        .select_related("elector", "recorded_by")
        .order_by("seq")
        .iterator(chunk_size=2000)
    ):
        yield line(
            {
                "type": "entry",
                "seq": entry.seq,
                "unit_id": str(entry.elector.unit_id),
                "choice": entry.choice,
                "channel": entry.channel,
                "cast_at": entry.cast_at.isoformat(),
                "recorded_at": entry.recorded_at.isoformat(),
                "recorded_by": entry.recorded_by.get_username() if entry.recorded_by else "",
                "collector": entry.collector,
                "reason": entry.reason,
                "photo_sha256": entry.photo_sha256,
                "authorisation_sha256": entry.authorisation_sha256,
                "prev_hash": entry.prev_hash,
                "hash": entry.hash,
            }
        )
    for result in decision.results.order_by("id"):
        yield line(
            {
                "type": "result",
                "id": result.pk,
                "recount_of": result.recount_of_id,
                "approved": result.approved,
                "chain_head": result.chain_head,
                "chain_length": result.chain_length,
                "figures": result.figures,
            }
        )


@dataclass
class Verification:
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    entries: int = 0
    electors: int = 0
    recomputed: dict[str, Any] = field(default_factory=dict)

    def fail(self, problem: str) -> None:
        self.ok = False
        self.problems.append(problem)


def verify_export(lines: Iterator[str]) -> Verification:
    """Recompute the hash chain and the tally of an export and compare them with what it
    claims. Reports every problem found (in English: this is an auditor's tool)."""
    import json

    report = Verification()
    header: dict[str, Any] | None = None
    voters: list[VoterUnit] = []
    units: set[str] = set()
    entries: list[B.Entry] = []
    results: list[dict[str, Any]] = []
    prev = B.GENESIS
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except ValueError:
            report.fail(f"line {number}: not JSON")
            continue
        kind = obj.get("type")
        if kind == "decision":
            header = obj
        elif kind == "elector":
            units.add(obj["unit_id"])
            voters.append(
                _voter(
                    obj["unit_id"],
                    obj["owner_key"],
                    Decimal(obj["area_m2"]),
                    obj["kind"],
                    obj["developer_held"],
                )
            )
        elif kind == "entry":
            report.entries += 1
            if obj["seq"] != report.entries:
                report.fail(f"line {number}: entry {obj['seq']} out of sequence (expected {report.entries})")
            if obj["prev_hash"] != prev:
                report.fail(f"line {number}: entry {obj['seq']} does not follow the previous entry's hash")
            digest = B.entry_hash(obj["prev_hash"], obj)
            if digest != obj["hash"]:
                report.fail(
                    f"line {number}: entry {obj['seq']} was altered (its hash does not match its content)"
                )
            if obj["unit_id"] not in units:
                report.fail(
                    f"line {number}: entry {obj['seq']} is for unit {obj['unit_id']}, not in the electorate"
                )
            prev = obj["hash"]
            entries.append(
                B.Entry(
                    obj["seq"],
                    obj["unit_id"],
                    obj["choice"],
                    obj["channel"],
                    dt.datetime.fromisoformat(obj["cast_at"]),
                )
            )
        elif kind == "result":
            results.append(obj)
        else:
            report.fail(f"line {number}: unknown record type {kind!r}")
    report.electors = len(voters)
    if header is None:
        report.fail("no decision header: this is not a vote export")
        return report
    if header.get("chain_length") != report.entries or (report.entries and header.get("chain_head") != prev):
        report.fail("the chain ends differently from what the header says: entries were removed or added")

    def recount(upto: int) -> dict[str, Any]:
        chosen = B.effective(entries[:upto], header["precedence"])
        outcome = tally(
            voters,
            {unit: Choice(e.choice) for unit, e in chosen.items()},
            int(header["matter"]),
            deemed_votes=bool(header["deemed_votes"]),
            include_parking=bool(header["include_parking"]),
        )
        # Through JSON, as the stored figures went.
        return dict(json.loads(json.dumps(outcome.to_dict())))

    report.recomputed = recount(len(entries))
    for result in results:
        if result["chain_length"] > len(entries):
            report.fail(
                f"result {result['id']}: counted {result['chain_length']} entries, the export has fewer"
            )
        elif result["figures"] != recount(result["chain_length"]):
            report.fail(f"result {result['id']}: the figures differ from a recount of the ballots it covered")
    return report
