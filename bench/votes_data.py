"""The data of the owners' vote benchmark: one compound of N units and a decision being voted on.

    DATABASE_URL=... GONGZHI_ENV=test python bench/votes_worker.py build --units 100000 --result out.json

Written as the actions would leave it (``actions.open_voting``, ``cast_online``,
``record_ballot``, ``correct_ballot``), with ``bulk_create`` in batches of 5,000: one
``Elector`` per unit with its owner key (owners of a flat and a parking space or of two
flats, co-owners, the developer's units as one owner), ballot entries in recording order
chained by ``ballots.entry_hash`` (each ballot covers all of the owner's units, as the
actions do): online and paper ballots, door-to-door and proxy ones, changed votes,
online/paper conflicts, staff corrections and voids; then the derived ``CurrentBallot``
rows. Ids are assigned here, so nothing is read back; PostgreSQL's sequences are moved past
them at the end. Not written: the registry's owners and ownerships (the electorate carries
the owner keys), audit events, photo files (their digests are in the chain).

Deterministic (a fixed seed, units laid out by arithmetic), and modest in memory: units and
electors are generated batch by batch; only the ballot events (a few small tuples per
voting owner) and each voting unit's entries (for its current ballot) are held at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import sys
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from measure import own_peak_rss_mb

SEED = 20261101
OPENS = dt.datetime(2026, 11, 1, 0, 0, tzinfo=dt.UTC)
WINDOW = dt.timedelta(days=14)
BATCH = 5000
# Layout: every building has 2 entrances of 19 floors × 5 flats and 5 parking spaces.
ENTRANCES, FLOORS, FLATS, SPACES = 2, 19, 5, 5
PER_ENTRANCE = FLOORS * FLATS + SPACES
PER_BUILDING = ENTRANCES * PER_ENTRANCE
COMPOUND_CODE = "BENCH-VOTES"
ADMIN, CLERK = "bench-admin", "bench-clerk"


def log(message: str) -> None:
    print(f"[{dt.datetime.now(dt.UTC).strftime('%H:%M:%SZ')}] {message}", file=sys.stderr, flush=True)


# ---- the electorate ------------------------------------------------------------------------


def place(i: int) -> tuple[int, int, int, str, int | None, str]:
    """Unit number ``i`` (0-based): building, entrance (0-based), place in the entrance, room,
    floor and kind. Every 10th building has shops on the ground floor."""
    building, rest = divmod(i, PER_BUILDING)
    entrance, k = divmod(rest, PER_ENTRANCE)
    if k >= FLOORS * FLATS:
        return building, entrance, k, f"B{k - FLOORS * FLATS + 1:02d}", -1, "parking"
    floor, flat = divmod(k, FLATS)
    kind = "commercial" if floor == 0 and building % 10 == 9 else "residential"
    return building, entrance, k, f"{floor + 1}{flat + 1:02d}", floor + 1, kind


def owner_key(i: int) -> str:
    """The headcount key ``actions._owner_keys`` would give unit ``i``: ``dev`` for the
    developer's units, the owner of a flat for its parking space, the neighbour for the
    second of two flats, ``o:a+b`` for co-owners."""
    _building, _entrance, k, _room, _floor, kind = place(i)
    if kind == "parking":
        return owner_key(i - k + (k - FLOORS * FLATS) * 19)  # a flat of the same entrance
    if i % 97 == 13:
        return "dev"
    if k % FLATS == 4 and (k // FLATS) % 7 == 3:
        return owner_key(i - 1)
    if i % 11 == 5:
        return f"o:{i}+{i + 1_000_000}"
    return f"o:{i}"


def area(i: int, kind: str) -> int:
    """Area in hundredths of a m²."""
    spread = (i * 7919) % 100
    return {"parking": 1200 + spread * 4, "commercial": 4000 + spread * 120}.get(kind, 5000 + spread * 90)


def owner_groups(units: int) -> Iterator[list[int]]:
    """The units of each owner, entrance by entrance; the developer's group comes last."""
    developer: list[int] = []
    for start in range(0, units, PER_ENTRANCE):
        groups: dict[str, list[int]] = {}
        for i in range(start, min(start + PER_ENTRANCE, units)):
            key = owner_key(i)
            (developer if key == "dev" else groups.setdefault(key, [])).append(i)
        yield from groups.values()
    if developer:
        yield developer


# ---- writing ---------------------------------------------------------------------------------


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _registry(units: int) -> Any:
    """Area tree, one compound, its buildings, entrances and units; returns the compound."""
    from gongzhi.housing.models import Building, Compound, Entrance, Unit
    from gongzhi.orgs.models import Area

    parent = None
    path = "/"
    for level, code, name in (
        (Area.Level.COUNTY, "990000", "基准县"),
        (Area.Level.TOWN, "990000100", "基准镇"),
        (Area.Level.COMMUNITY, "990000100001", "基准社区"),
    ):
        path += code + "/"
        parent = Area.objects.create(
            code=code,
            name=name,
            level=level,
            parent=parent,
            path=path,
            depth=len(path.strip("/").split("/")) - 1,
        )
    compound = Compound.objects.create(code=COMPOUND_CODE, name="表决基准小区", community=parent)
    buildings = -(-units // PER_BUILDING)
    Building.objects.bulk_create(
        [Building(id=b + 1, compound=compound, number=str(b + 1), floors=FLOORS) for b in range(buildings)],
        batch_size=BATCH,
    )
    Entrance.objects.bulk_create(
        [
            Entrance(id=b * ENTRANCES + e + 1, building_id=b + 1, number=str(e + 1))
            for b in range(buildings)
            for e in range(ENTRANCES)
        ],
        batch_size=BATCH,
    )
    for start in range(0, units, BATCH):
        rows = []
        for i in range(start, min(start + BATCH, units)):
            building, entrance, _k, room, floor, kind = place(i)
            rows.append(
                Unit(
                    id=i + 1,
                    compound=compound,
                    building_id=building + 1,
                    entrance_id=building * ENTRANCES + entrance + 1,
                    number=room,
                    floor=floor,
                    area_m2=Decimal(area(i, kind)) / 100,
                    area_source="register",
                    kind=kind,
                )
            )
        Unit.objects.bulk_create(rows)
    return compound


def _electorate(decision: Any, units: int) -> None:
    from gongzhi.decisions.models import Elector

    for start in range(0, units, BATCH):
        rows = []
        for i in range(start, min(start + BATCH, units)):
            building, entrance, _k, room, _floor, kind = place(i)
            key = owner_key(i)
            rows.append(
                Elector(
                    id=i + 1,
                    decision=decision,
                    unit_id=i + 1,
                    building_id=building + 1,
                    label=f"{building + 1}-{entrance + 1}-{room}",
                    area_m2=Decimal(area(i, kind)) / 100,
                    area_source="register",
                    kind=kind,
                    owner_key=key,
                    developer_held=key == "dev",
                    owner_label="开发商" if key == "dev" else f"业主{i % 1000}",
                    code_digest=_sha(f"bench-votes:{decision.pk}:{i + 1}"),
                )
            )
        Elector.objects.bulk_create(rows)


CHOICES = ("agree", "disagree", "abstain", "spoiled")  # by index; -1 is a void correction
CHANNELS = ("online", "paper", "door", "proxy", "correction")
REASONS = ("纸质表决票录入错误，按原票更正", "业主书面申请撤回表决", "重复录入，作废")


def _events(units: int, rng: random.Random) -> tuple[list[tuple[int, ...]], list[list[int]]]:
    """Ballot events of the owners who vote, as (recorded s, cast s, group, choice, channel,
    reason) in seconds after opening; choice -1 is a void. The owner groups that vote."""
    window = int(WINDOW.total_seconds())
    events: list[tuple[int, ...]] = []
    groups: list[list[int]] = []
    for group in owner_groups(units):
        developer = owner_key(group[0]) == "dev"
        if not developer and rng.random() >= 0.68:
            continue
        g = len(groups)
        groups.append(group)
        choice = rng.choices(range(3), (75, 16, 9))[0]
        roll = rng.random()
        # online 60 %, paper 28 %, door-to-door 8 %, proxy 4 %; the developer signs a paper.
        channel = 1 if developer else sum(roll >= edge for edge in (0.6, 0.88, 0.96))
        cast = rng.randrange(window - 3 * 86400)
        if channel == 0:
            events.append((cast, cast, g, choice, 0, 0))
        else:
            if channel == 1 and rng.random() < 0.03:
                choice = 3  # spoiled
            events.append((cast + rng.randrange(1800, 2 * 86400), cast, g, choice, channel, 0))
        if channel == 0 and rng.random() < 0.03:  # the owner changes the vote online
            again = cast + rng.randrange(600, 86400)
            events.append((again, again, g, (choice + 1) % 3, 0, 0))
        if rng.random() < 0.02:  # online and paper both: a conflict for staff to see
            other = rng.randrange(window - 3 * 86400)
            if channel == 0:
                events.append((other + rng.randrange(1800, 86400), other, g, choice, 1, 0))
            else:
                events.append((other, other, g, choice, 0, 0))
        if rng.random() < 0.005:  # a staff correction, a fifth of them voids
            at = window - rng.randrange(1, 2 * 86400)
            void = rng.random() < 0.2
            events.append((at, at, g, -1 if void else rng.randrange(3), 4, 1 + rng.randrange(len(REASONS))))
    events.sort()
    return events, groups


def _ballots(decision: Any, units: int, users: dict[str, Any]) -> dict[str, Any]:
    """Ballot entries in recording order with their hash chain, then the current ballots."""
    from gongzhi.decisions import ballots as B
    from gongzhi.decisions.models import BallotEntry, CurrentBallot

    rng = random.Random(SEED)
    events, groups = _events(units, rng)
    per_elector: dict[int, list[B.Entry]] = {}
    prev, seq, batch = B.GENESIS, 0, []
    for recorded_s, cast_s, g, choice_i, channel_i, reason_i in events:
        channel = CHANNELS[channel_i]
        choice = "" if choice_i < 0 else CHOICES[choice_i]
        recorded_at, cast_at = OPENS + dt.timedelta(seconds=recorded_s), OPENS + dt.timedelta(seconds=cast_s)
        staff = channel != "online"
        collector = f"志愿者{g % 40}" if channel in ("door", "proxy") else ""
        reason = REASONS[reason_i - 1] if reason_i else ""
        for n, i in enumerate(sorted(groups[g])):
            seq += 1
            photo = _sha(f"photo:{g}:{seq}") if staff and channel != "correction" and n == 0 else ""
            authorisation = _sha(f"auth:{g}:{seq}") if channel == "proxy" and n == 0 else ""
            fields = {
                "seq": seq,
                "unit_id": str(i + 1),
                "choice": choice,
                "channel": channel,
                "cast_at": cast_at.isoformat(),
                "recorded_at": recorded_at.isoformat(),
                "recorded_by": CLERK if staff else "",
                "collector": collector,
                "reason": reason,
                "photo_sha256": photo,
                "authorisation_sha256": authorisation,
            }
            digest = B.entry_hash(prev, fields)
            batch.append(
                BallotEntry(
                    id=seq,
                    decision=decision,
                    elector_id=i + 1,
                    seq=seq,
                    choice=choice,
                    channel=channel,
                    cast_at=cast_at,
                    recorded_at=recorded_at,
                    recorded_by=users[CLERK] if staff else None,
                    collector=collector,
                    reason=reason,
                    photo_sha256=photo,
                    authorisation_sha256=authorisation,
                    prev_hash=prev,
                    hash=digest,
                )
            )
            prev = digest
            per_elector.setdefault(i + 1, []).append(B.Entry(seq, str(i + 1), choice, channel, cast_at))
        if len(batch) >= BATCH:
            BallotEntry.objects.bulk_create(batch)
            batch = []
    BallotEntry.objects.bulk_create(batch)
    decision.chain_head, decision.chain_length = prev, seq
    decision.save(update_fields=["chain_head", "chain_length"])

    current, conflicts = [], 0
    for elector_id, entries in per_elector.items():
        chosen = B.effective(entries, decision.precedence).get(str(elector_id))
        if chosen is None:
            continue
        conflict = bool(B.conflicts(entries))
        conflicts += conflict
        current.append(
            CurrentBallot(
                elector_id=elector_id,
                decision=decision,
                building_id=place(elector_id - 1)[0] + 1,
                entry_id=chosen.seq,
                choice=chosen.choice,
                latest_seq=entries[-1].seq,
                conflict=conflict,
            )
        )
        if len(current) >= BATCH:
            CurrentBallot.objects.bulk_create(current)
            current = []
    CurrentBallot.objects.bulk_create(current)
    channel_counts = {c: sum(1 for e in events if CHANNELS[e[4]] == c) for c in CHANNELS}
    return {
        "events": len(events),
        "voting_owners": len(groups),
        "entries": seq,
        "events_by_channel": channel_counts,
        "void_corrections": sum(1 for e in events if e[3] < 0),
        "electors_with_entries": len(per_elector),
        "conflict_units": conflicts,
    }


def build(units: int) -> dict[str, Any]:
    """Write the data into the (migrated, empty) database Django is set up with."""
    from django.contrib.auth import get_user_model
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from gongzhi.decisions.models import BallotEntry, CurrentBallot, Decision, Elector
    from gongzhi.housing.models import Building, Entrance, Unit

    started = time.perf_counter()
    users = {
        ADMIN: get_user_model().objects.create_superuser(ADMIN, "admin@bench.invalid", "bench-votes-2026"),
        CLERK: get_user_model().objects.create_user(CLERK, "clerk@bench.invalid", "bench-votes-2026"),
    }
    timings: dict[str, float] = {}

    def step(name: str, call: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        with transaction.atomic():
            out = call()
        timings[name] = round(time.perf_counter() - t0, 3)
        log(f"build: {name} in {timings[name]} s")
        return out

    compound = step("registry", lambda: _registry(units))
    decision = Decision.objects.create(
        compound=compound,
        matter=5,
        title="使用维修资金更换电梯",
        text="经业主大会表决，同意使用维修资金更换各楼幢电梯。",
        state=Decision.State.VOTING,
        committee_informed_at=OPENS - dt.timedelta(days=20),
        notice_posted_at=OPENS - dt.timedelta(days=16),
        opens_at=OPENS,
        closes_at=OPENS + WINDOW,
        area_path=compound.area_path,
    )
    step("electors", lambda: _electorate(decision, units))
    ballots = step("ballots", lambda: _ballots(decision, units, users))
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(
            no_style(), [Building, Entrance, Unit, Elector, BallotEntry]
        ):
            cursor.execute(sql)
    analyze = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.vendor == "sqlite" else "VACUUM ANALYZE")
    timings["analyze"] = round(time.perf_counter() - analyze, 3)
    seconds = time.perf_counter() - started
    generator_peak = own_peak_rss_mb()  # before the check, which holds every entry at once

    from gongzhi.decisions.counting import export_rows, verify_export

    check_started = time.perf_counter()
    verdict = verify_export(export_rows(decision))
    rows = units * 2 + ballots["entries"] + CurrentBallot.objects.count()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("select page_count * page_size from pragma_page_count(), pragma_page_size()")
        else:
            cursor.execute("select pg_database_size(current_database())")
        size = cursor.fetchone()[0]
    return {
        "decision": decision.pk,
        "units": Unit.objects.count(),
        "buildings": Building.objects.count(),
        "electors": Elector.objects.count(),
        "owners": Elector.objects.values("owner_key").distinct().count(),
        "current_ballots": CurrentBallot.objects.count(),
        **ballots,
        "seconds": round(seconds, 3),
        "rows_per_s": round(rows / seconds),
        "steps_s": timings,
        "database_mb": round(size / 2**20, 1),
        "export_check": {
            "ok": verdict.ok,
            "problems": verdict.problems[:5],
            "entries": verdict.entries,
            "electors": verdict.electors,
            "seconds": round(time.perf_counter() - check_started, 3),
        },
        "generator_peak_rss_mb": generator_peak,
    }
