"""The KPI consumer: folds new request events into ``KpiRollup`` rows.

Events are the record. The consumer reads ``TicketEvent`` rows with an id above its cursor,
in id order, and adds what each one means to the monthly counters of every area on the
request's path, by unit, by category and in total. It runs in batches, each one transaction
that starts by locking the cursor row, so two consumers started at once take turns and
every event is counted exactly once.

Where an event counts (in the month it happened, local time, unless said otherwise):

* ``report`` – reported;
* ``dispatch`` – one task for the lead unit and each co-unit; ``reopen`` – a reopen and a new
  task for the lead unit;
* ``task_accept`` – signed for (in time or not) and the time from dispatch to sign-for, in
  the month the task was dispatched, so the response rate of a month only ever divides
  that month's tasks;
* ``task_reply`` – the first reply of each task, on time or not;
* ``close`` – the first close of each request and its time from the report, against the
  lead unit of the moment;
* ``rate`` – the follow-up's resolution and satisfaction, against the lead unit rated.

A request with no place (no area path) counts in no area, as no area's staff can see it.
A request marked unreasonable, merged as a duplicate or whose reporter was unreachable is
excluded from every KPI, whenever that happens: the consumer replays the request's earlier
events and subtracts exactly what they added (a compensating update), then ignores the
request from then on.

Ids are handed out before transactions commit, so on PostgreSQL a smaller id can become
visible after a larger one was consumed. The consumer remembers the ids it skipped over
(``RollupCursor.gaps``) and picks them up when they appear; ids that never appear (rolled
back) are forgotten after ``GAP_WAIT``. Events of one request are written under that
request's row lock, so they always become visible in id order.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from gongzhi.dashboards.kpi import COUNTERS, Tally, bucket_of
from gongzhi.dashboards.models import KpiRollup, RollupCursor, TicketFact
from gongzhi.orgs.models import Area
from gongzhi.tickets.models import Task, Ticket, TicketEvent

CURSOR_NAME = "ticket-kpis"
BATCH_SIZE = 5000
GAP_WAIT = dt.timedelta(minutes=10)
MAX_GAPS = 10_000
# Only ids this close to the newest event can belong to a transaction still in flight; holes
# further back (a backlog being caught up, deleted requests) are not waited for.
GAP_SCAN = 10_000
EXCLUDING = frozenset({"unreasonable", "merge", "unreachable"})
RESOLUTION_COUNTER = {"resolved": "resolved", "partly": "partly", "not": "unresolved"}
SATISFACTION_COUNTER = {"satisfied": "satisfied", "basic": "basic", "dissatisfied": "dissatisfied"}
_FACT_STATE = ["lead_unit", "closed", "replied_tasks", "excluded_by"]
_ROW_FIELDS = [*COUNTERS, "sign_hist", "close_hist"]


@dataclass
class RefreshResult:
    """What one call of ``refresh_rollups`` did."""

    events: int  # events consumed
    caught_up: bool  # nothing was left to read when it stopped
    busy: bool = False  # another consumer held the cursor (only with ``wait=False``)


def month_of(moment: dt.datetime) -> dt.date:
    """The first day of the month ``moment`` falls in, in the deployment's time zone."""
    return timezone.localtime(moment, timezone.get_default_timezone()).date().replace(day=1)


def _seconds(delta: dt.timedelta) -> int:
    return delta // dt.timedelta(seconds=1)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


# ------------------------------------------------------------------------------ the fold


@dataclass
class Fold:
    """One request as the consumer sees it: where it counts and what was counted already."""

    category_id: int
    area_path: str
    reported_at: dt.datetime
    lead: int | None = None
    closed: bool = False
    replied: set[int] = field(default_factory=set)

    @classmethod
    def fresh(cls, fact: TicketFact) -> Fold:
        return cls(fact.category_id, fact.area_path, fact.reported_at)

    @classmethod
    def of(cls, fact: TicketFact) -> Fold:
        return cls(
            fact.category_id,
            fact.area_path,
            fact.reported_at,
            fact.lead_unit_id,
            fact.closed,
            {int(t) for t in fact.replied_tasks},
        )

    def store(self, fact: TicketFact) -> None:
        fact.lead_unit_id = self.lead
        fact.closed = self.closed
        fact.replied_tasks = sorted(self.replied)


@dataclass(frozen=True)
class TaskInfo:
    unit_id: int
    dispatched_at: dt.datetime


class Deltas:
    """Changes to add, by (month, area path, category, unit or None)."""

    def __init__(self) -> None:
        self.cells: dict[tuple[dt.date, str, int, int | None], Tally] = defaultdict(Tally)

    def count(self, fold: Fold, month: dt.date, unit: int | None, name: str, sign: int) -> None:
        self.cells[(month, fold.area_path, fold.category_id, unit)].counts[name] += sign

    def duration(
        self, fold: Fold, month: dt.date, unit: int | None, histogram: str, seconds: int, sign: int
    ) -> None:
        buckets = getattr(self.cells[(month, fold.area_path, fold.category_id, unit)], histogram)
        index = bucket_of(seconds)
        buckets[index] = buckets.get(index, 0) + sign


def apply_event(event: TicketEvent, fold: Fold, tasks: dict[int, TaskInfo], out: Deltas, sign: int) -> None:
    """Add (``sign`` 1) or take back (``sign`` -1) what one event counts, and move the fold."""
    action, data = event.action, event.data or {}
    month = month_of(event.at)
    if action == "report":
        out.count(fold, month, None, "reported", sign)
    elif action == "dispatch":
        lead = _int(data.get("lead"))
        for unit in [lead, *(_int(u) for u in data.get("co") or [])]:
            if unit is not None:
                out.count(fold, month, unit, "tasks", sign)
        fold.lead = lead if lead is not None else fold.lead
    elif action == "reopen":
        lead = _int(data.get("lead")) or fold.lead
        out.count(fold, month, lead, "reopened", sign)
        out.count(fold, month, lead, "tasks", sign)  # the lead unit's new task
        fold.lead = lead
    elif action == "task_accept" and event.task_id in tasks:
        task = tasks[event.task_id]
        dispatched = month_of(task.dispatched_at)
        out.count(fold, dispatched, task.unit_id, "signed", sign)
        if data.get("in_time"):
            out.count(fold, dispatched, task.unit_id, "signed_in_time", sign)
        waited = _seconds(event.at - task.dispatched_at)
        out.duration(fold, dispatched, task.unit_id, "sign_hist", waited, sign)
    elif action == "task_reply" and event.task_id in tasks:
        if event.task_id not in fold.replied:
            fold.replied.add(event.task_id)
            unit = tasks[event.task_id].unit_id
            out.count(fold, month, unit, "replied", sign)
            if data.get("on_time"):
                out.count(fold, month, unit, "replied_on_time", sign)
    elif action == "close":
        if not fold.closed:
            fold.closed = True
            out.count(fold, month, fold.lead, "closed", sign)
            out.duration(fold, month, fold.lead, "close_hist", _seconds(event.at - fold.reported_at), sign)
    elif action == "rate":
        lead = _int(data.get("lead")) or fold.lead
        out.count(fold, month, lead, "rated", sign)
        if data.get("resolution") in RESOLUTION_COUNTER:
            out.count(fold, month, lead, RESOLUTION_COUNTER[data["resolution"]], sign)
        if data.get("satisfaction") in SATISFACTION_COUNTER:
            out.count(fold, month, lead, SATISFACTION_COUNTER[data["satisfaction"]], sign)


def _task_infos(events: Iterable[TicketEvent]) -> dict[int, TaskInfo]:
    ids = {e.task_id for e in events if e.task_id is not None and e.action in ("task_accept", "task_reply")}
    rows = Task.objects.filter(id__in=ids).values_list("id", "unit_id", "dispatched_at")
    return {pk: TaskInfo(unit, at) for pk, unit, at in rows}


def _compensate(fact: TicketFact, before: int, out: Deltas) -> None:
    """Take back everything the request's events below id ``before`` added."""
    earlier = list(TicketEvent.objects.filter(ticket_id=fact.ticket_id, id__lt=before).order_by("id"))
    fold = Fold.fresh(fact)
    tasks = _task_infos(earlier)
    for event in earlier:
        apply_event(event, fold, tasks, out, -1)


def _facts(ticket_ids: set[int]) -> tuple[dict[int, TicketFact], set[int]]:
    """The facts of these requests, made from the tickets for the ones seen the first time."""
    facts = {f.ticket_id: f for f in TicketFact.objects.filter(ticket_id__in=ticket_ids)}
    new: set[int] = set()
    missing = ticket_ids - set(facts)
    for pk, category, path, created in Ticket.objects.filter(id__in=missing).values_list(
        "id", "category_id", "area_path", "created_at"
    ):
        facts[pk] = TicketFact(ticket_id=pk, category_id=category, area_path=path, reported_at=created)
        new.add(pk)
    return facts, new


def consume(events: Sequence[TicketEvent]) -> None:
    """Fold ``events`` (in id order) into the rollups. Call with the cursor row locked."""
    facts, new = _facts({e.ticket_id for e in events})
    folds: dict[int, Fold] = {}
    changed: set[int] = set()
    tasks = _task_infos(events)
    out = Deltas()
    for event in events:
        fact = facts.get(event.ticket_id)
        if fact is None or fact.excluded_by:
            continue
        if event.action in EXCLUDING:
            _compensate(fact, event.id, out)
            fact.excluded_by = event.action
            folds.pop(event.ticket_id, None)
            changed.add(event.ticket_id)
            continue
        fold = folds.setdefault(event.ticket_id, Fold.of(fact))
        apply_event(event, fold, tasks, out, 1)
    for pk, fold in folds.items():
        fold.store(facts[pk])
    changed |= set(folds)
    TicketFact.objects.bulk_create(
        [facts[pk] for pk in sorted(changed | new)],
        batch_size=500,
        update_conflicts=True,
        unique_fields=["ticket"],
        update_fields=_FACT_STATE,
    )
    _write(out)


# ------------------------------------------------------------------------------ writing rows


def _area_ids(paths: set[str]) -> dict[str, list[int]]:
    """For each area path, the ids of the areas on it (the county down to the grid)."""
    prefixes: dict[str, list[str]] = {}
    for path in paths:
        codes = [c for c in path.strip("/").split("/") if c]
        prefixes[path] = ["/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes))]
    wanted = {p for ps in prefixes.values() for p in ps}
    ids = dict(Area.objects.filter(path__in=wanted).values_list("path", "id")) if wanted else {}
    return {path: [ids[p] for p in ps if p in ids] for path, ps in prefixes.items()}


Cell = tuple[int, str, dt.date, int]  # area, dimension, month, key


def _cells(out: Deltas) -> dict[Cell, Tally]:
    """Spread the deltas over every area on each path and every dimension."""
    areas = _area_ids({path for (_m, path, _c, _u) in out.cells})
    cells: dict[Cell, Tally] = defaultdict(Tally)
    for (month, path, category, unit), delta in out.cells.items():
        if delta.is_zero():
            continue
        for area in areas[path]:
            cells[(area, KpiRollup.Dimension.ALL, month, 0)].add(delta)
            cells[(area, KpiRollup.Dimension.CATEGORY, month, category)].add(delta)
            if unit is not None:
                cells[(area, KpiRollup.Dimension.UNIT, month, unit)].add(delta)
    return {cell: tally for cell, tally in cells.items() if not tally.is_zero()}


def _existing(cells: Iterable[Cell]) -> dict[Cell, dict[str, Any]]:
    """The stored rows of these cells: by month, every row of the areas touched (a few dozen
    per area at most), which is cheaper than naming each cell in the query."""
    areas_by_month: dict[dt.date, set[int]] = defaultdict(set)
    for area, _dimension, month, _key in cells:
        areas_by_month[month].add(area)
    found: dict[Cell, dict[str, Any]] = {}
    for month, areas in areas_by_month.items():
        ids = sorted(areas)
        for start in range(0, len(ids), 500):
            rows = KpiRollup.objects.filter(month=month, area_id__in=ids[start : start + 500]).values(
                "area_id", "dimension", "month", "key", *_ROW_FIELDS
            )
            for row in rows:
                found[(row["area_id"], row["dimension"], row["month"], row["key"])] = row
    return found


def _row(cell: Cell, tally: Tally) -> KpiRollup:
    area, dimension, month, key = cell
    return KpiRollup(
        area_id=area,
        dimension=dimension,
        month=month,
        key=key,
        sign_hist={str(k): v for k, v in sorted(tally.sign_hist.items())},
        close_hist={str(k): v for k, v in sorted(tally.close_hist.items())},
        **tally.counts,
    )


def _write(out: Deltas) -> None:
    """Add the deltas to the stored rows: read them, add in Python, write the sums back in one
    upsert per 500 rows. Only the consumer holding the cursor writes, so nothing changes the
    rows between the read and the write."""
    cells = _cells(out)
    if not cells:
        return
    existing = _existing(cells)
    rows = []
    for cell, delta in cells.items():
        stored = existing.get(cell)
        if stored is not None:
            tally = Tally.from_stored(stored, stored["sign_hist"] or {}, stored["close_hist"] or {})
            tally.add(delta)
        else:
            tally = delta
        rows.append(_row(cell, tally))
    KpiRollup.objects.bulk_create(
        rows,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["area", "dimension", "month", "key"],
        update_fields=_ROW_FIELDS,
    )


# ------------------------------------------------------------------------------ the cursor


def _cursor() -> RollupCursor:
    found = RollupCursor.objects.filter(name=CURSOR_NAME).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            cursor, _ = RollupCursor.objects.get_or_create(name=CURSOR_NAME)
    except IntegrityError:  # created by a consumer running at the same moment
        cursor = RollupCursor.objects.get(name=CURSOR_NAME)
    return cursor


def _has_work(cursor: RollupCursor) -> bool:
    return bool(cursor.gaps) or TicketEvent.objects.filter(id__gt=cursor.position).exists()


def _fetch_late(ids: list[int]) -> list[TicketEvent]:
    found: list[TicketEvent] = []
    for start in range(0, len(ids), 500):
        found.extend(TicketEvent.objects.filter(id__in=ids[start : start + 500]))
    return found


def _consume_batch(cursor: RollupCursor, size: int, wall: dt.datetime) -> tuple[int, bool]:
    """One batch on the locked cursor: the late events that turned up, then up to ``size`` new
    ones. Returns the number consumed and whether more may be waiting."""
    stamp = wall.timestamp()
    gaps = {int(k): float(v) for k, v in (cursor.gaps or {}).items()}
    late = _fetch_late(sorted(gaps)) if gaps else []
    for event in late:
        gaps.pop(event.id, None)
    fresh = list(TicketEvent.objects.filter(id__gt=cursor.position).order_by("id")[:size])
    if fresh:
        seen = {e.id for e in fresh}
        newest = TicketEvent.objects.order_by("-id").values_list("id", flat=True).first() or fresh[-1].id
        low = max(cursor.position + 1, newest - GAP_SCAN)
        for missing in range(low, fresh[-1].id):
            if missing not in seen:
                gaps[missing] = stamp
        cursor.position = fresh[-1].id
    wait = GAP_WAIT.total_seconds()
    gaps = {k: v for k, v in gaps.items() if stamp - v < wait}
    if len(gaps) > MAX_GAPS:  # keep the newest: older ids are the least likely still in flight
        gaps = dict(sorted(gaps.items())[-MAX_GAPS:])
    events = sorted([*late, *fresh], key=lambda e: e.id)
    consume(events)
    cursor.gaps = {str(k): v for k, v in sorted(gaps.items())}
    cursor.events_done += len(events)
    cursor.updated_at = wall
    cursor.save(update_fields=["position", "gaps", "events_done", "updated_at"])
    return len(events), len(fresh) == size


def refresh_rollups(
    *,
    max_events: int | None = None,
    wait: bool = True,
    batch_size: int = BATCH_SIZE,
    now: dt.datetime | None = None,
) -> RefreshResult:
    """Consume every request event not counted yet into the KPI rollups.

    Callers: the KPI page before it reads (with a budget, ``wait=False``), the SLA sweep and
    ``gongzhi refresh-kpi``. Idempotent and safe to run concurrently: each batch locks the
    cursor row, so a second caller waits (or, with ``wait=False``, returns ``busy``) and then
    finds the events already counted. Cheap when nothing is new: two small queries.
    ``max_events`` stops after about that many events; ``now`` is the wall clock for
    expiring gaps.
    """
    cursor = _cursor()
    if not _has_work(cursor):
        return RefreshResult(0, True)
    done = 0
    while True:
        with transaction.atomic():
            locked = RollupCursor.objects.select_for_update(skip_locked=not wait).filter(pk=cursor.pk).first()
            if locked is None:
                return RefreshResult(done, False, busy=True)
            consumed, more = _consume_batch(locked, batch_size, now or timezone.now())
        done += consumed
        if not more:
            return RefreshResult(done, True)
        if max_events is not None and done >= max_events:
            return RefreshResult(done, False)


def rebuild_rollups(*, batch_size: int = BATCH_SIZE) -> RefreshResult:
    """Forget every rollup and count all events again (after a change of definitions).
    For the ``refresh-kpi --rebuild`` command; waits for any running consumer."""
    cursor = _cursor()
    with transaction.atomic():
        locked = RollupCursor.objects.select_for_update().get(pk=cursor.pk)
        KpiRollup.objects.all().delete()
        TicketFact.objects.all().delete()
        locked.position, locked.gaps, locked.events_done = 0, {}, 0
        locked.save(update_fields=["position", "gaps", "events_done"])
    return refresh_rollups(batch_size=batch_size)
