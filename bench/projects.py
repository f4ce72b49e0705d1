"""Community projects and volunteers benchmark: the fund's ledger and the volunteer points at
a county's scale, each figure against a baseline measured in the same run.

    .venv/bin/python bench/projects.py --quick                      # smoke run, both databases
    .venv/bin/python bench/projects.py --db postgres                # the full run (~1 M + ~1 M rows)
    .venv/bin/python bench/projects.py --db sqlite --scale 0.25     # a quarter of the data
    .venv/bin/python bench/projects.py --db postgres --phases indexes   # index candidates, same data
    .venv/bin/python bench/projects.py --report bench/results/projects-postgres.json   # tables

For each database: a fresh database with the demo county (scale 1: 51 compounds, 49 joint
branches), then, written in bulk by this file, ``--scale`` × (2,000 projects with 1,000,000
ledger entries, their paid expenses with two approvals each, receipts and timeline events;
50,000 people in the joint branches with about 500,000 verified hours, their attendances and
the points entries earned, given and redeemed). Each table is written in time order, so that
a project's (or a person's) rows lie among everyone else's as after years of use. Before
anything is measured, one SQL query per invariant checks the generated data (and the demo's):
ledger sequence numbers contiguous per project, running balances right and never negative,
``Project.balance`` the last running balance, every paid expense paid once and approved; the
same for points per person and for ``PointsAccount``. A failed check stops the run for that
database. The checks run again after the measured writes.

The same file is the driver (no Django imported) and, given a task name first, the worker
that runs one task per process: each measurement has a clean interpreter and its own peak
RSS. The demo county comes from ``bench/tickets_worker.py seed``. Cases of one phase are
measured in turn, round by round (a, b, c, a, b, c…), so that a change in the machine's load
touches a figure and its baseline alike. The JSON is written after every phase.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import math
import random
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from measure import (
    BENCH,
    ROOT,
    TMP,
    BenchError,
    Database,
    loadavg,
    log,
    own_peak_rss_mb,
    ratio,
    sqlite_url,
    summarise_ms,
)

PHASES = ("data", "check", "writes", "reads", "pages", "volunteers", "memory")
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/gongzhi_bench_projects"
MEMORY_MODES = ("idle", "read", "public_page", "ledger_page", "public_largest", "ledger_largest", "board")

# What scale 1 generates.
FULL_PROJECTS = 2_000
FULL_LEDGER = 1_000_000
FULL_PEOPLE = 50_000
FULL_HOURS = 485_000  # with the points earned from them, bonuses, deductions and redemptions: > 1 M rows
FULL_ACTIVITIES = 25_000
LARGE_PROJECTS = (60_000, 40_000, 30_000, 25_000, 20_000, 20_000)  # entries, at scale 1
SMALL_ENTRIES = 300
HEAVY_HOURS = 3_000  # the volunteer with many entries
BIG_BRANCH_SHARE = 0.08  # of the people, in the largest branch
SEED = 20261127

# Fixed points of the generated data, found again by every measuring process.
LARGEST_CODE = "BENCH-L1"
PAGE_CODE = "BENCH-PAGE"
SMALL_CODE = "BENCH-SMALL"
HEAVY_USER = "bench_volunteer"
DEMO_COMMUNITY = "南峰社区"
DEMO_COMPOUND = "育才新村"
BIG_BRANCH = "育才新村第一兼合式党支部"
PAGE_BRANCH = "育才新村第二兼合式党支部"
STAFF, BRANCH_USER, COMMITTEE_USER = "community", "branch", "committee"
LEDGER_PROBE, POINTS_PROBE = "bench_ledger_probe", "bench_points_probe"


# =============================================================================================
# Worker side: Django-side tasks, one per process
# =============================================================================================


def _setup() -> None:
    from worker import setup_django

    setup_django()


def _user(username: str) -> Any:
    from worker import get_user

    return get_user(username)


def _fresh(user: Any) -> Any:
    from worker import fresh

    return fresh(user)


def interleaved(calls: dict[str, Callable[[int], object]], repeats: int, budget_s: float) -> dict[str, Any]:
    """p50/p95 of several cases measured in turn, after one unmeasured round; up to ``repeats``
    rounds within ``budget_s`` seconds (at least 5)."""
    load = loadavg()
    for call in calls.values():
        call(-1)
    samples: dict[str, list[float]] = {name: [] for name in calls}
    started = time.perf_counter()
    for i in range(repeats):
        for name, call in calls.items():
            t0 = time.perf_counter()
            call(i)
            samples[name].append(time.perf_counter() - t0)
        if i + 1 >= 5 and time.perf_counter() - started > budget_s:
            break
    return {name: {**summarise_ms(values), "loadavg": load} for name, values in samples.items()}


def against(results: dict[str, Any], baseline: str) -> dict[str, Any]:
    """Every case with its p50 and p95 as multiples of the baseline's."""
    base = results[baseline]
    return {
        name: {
            **v,
            "ratio_p50": ratio(v["p50_ms"], base["p50_ms"]),
            "ratio_p95": ratio(v["p95_ms"], base["p95_ms"]),
        }
        for name, v in results.items()
    }


def queries_of(call: Callable[[], object]) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        call()
    return [q["sql"] for q in captured.captured_queries]


def explain(sql: str) -> str:
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                # A line may carry a list of thousands of ids: the start of it says enough.
                return "\n".join(_clip(row[0]) for row in cursor.fetchall())
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
    except Exception as exc:  # noqa: BLE001 - a plan is informative only
        return f"(no plan: {exc})"


def _clip(line: str, limit: int = 240) -> str:
    return line if len(line) <= limit else f"{line[:limit]}… ({len(line):,} characters)"


def profile(call: Callable[[], object], top: int = 20) -> dict[str, Any]:
    """One call under cProfile: the functions with the most own time."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    call()
    profiler.disable()
    seconds = time.perf_counter() - started
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    lines = [line.replace(str(ROOT) + "/", "") for line in out.getvalue().splitlines() if line.strip()]
    return {"seconds_under_profiler": round(seconds, 3), "by_own_time": lines[-top - 1 :]}


# ---- bulk writing ----------------------------------------------------------------------------


class Writer:
    """Rows written in bulk with explicit ids (COPY on PostgreSQL, ``executemany`` on SQLite),
    in the order of ``models`` so that references are written before what refers to them.
    Values are given by field attname; a field left out gets its default. The database
    checks every constraint as it would for the ORM's inserts."""

    FLUSH_ROWS = 100_000

    def __init__(self, models: list[Any]) -> None:
        from django.db import connection
        from django.db import models as m
        from django.db.models import Max

        self.connection = connection
        self.sqlite = connection.vendor == "sqlite"
        self.models = models
        self.columns: dict[Any, list[tuple[str, str, Any, Any]]] = {}
        for model in models:
            cols = []
            for f in model._meta.concrete_fields:
                default = f.get_default()  # "" for a string that may not be null, else None
                conv: Any = None
                if isinstance(f, m.JSONField):
                    conv = json.dumps
                elif self.sqlite and isinstance(f, m.DateTimeField):
                    conv = _sqlite_datetime
                elif self.sqlite and isinstance(f, m.DateField):
                    conv = dt.date.isoformat
                cols.append((f.attname, f.column, default, conv))
            self.columns[model] = cols
        self.rows: dict[Any, list[dict[str, Any]]] = {model: [] for model in models}
        self.next_id = {model: (model.objects.aggregate(n=Max("id"))["n"] or 0) + 1 for model in models}
        self.written = dict.fromkeys((model._meta.label for model in models), 0)
        self.pending = 0

    def add(self, model: Any, values: dict[str, Any]) -> int:
        pk = self.next_id[model]
        self.next_id[model] = pk + 1
        values["id"] = pk
        self.rows[model].append(values)
        self.pending += 1
        if self.pending >= self.FLUSH_ROWS:
            self.flush()
        return pk

    def _tuples(self, model: Any) -> Iterable[tuple[Any, ...]]:
        cols = self.columns[model]
        for row in self.rows[model]:
            out = []
            for attname, _column, default, conv in cols:
                value = row.get(attname, default)
                out.append(conv(value) if conv is not None and value is not None else value)
            yield tuple(out)

    def flush(self) -> None:
        from django.db import transaction

        with transaction.atomic(), self.connection.cursor() as cursor:
            for model in self.models:
                rows = self.rows[model]
                if not rows:
                    continue
                table = model._meta.db_table
                names = ", ".join(f'"{column}"' for _a, column, _d, _c in self.columns[model])
                if self.sqlite:
                    marks = ", ".join("%s" for _ in self.columns[model])
                    insert = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'  # noqa: S608 - model names
                    cursor.executemany(insert, list(self._tuples(model)))
                else:
                    with cursor.cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                        for values in self._tuples(model):
                            copy.write_row(values)
                self.written[model._meta.label] += len(rows)
                rows.clear()
        self.pending = 0

    def finish(self) -> None:
        self.flush()
        if not self.sqlite:
            from django.core.management.color import no_style

            with self.connection.cursor() as cursor:
                for sql in self.connection.ops.sequence_reset_sql(no_style(), self.models):
                    cursor.execute(sql)


def _sqlite_datetime(value: dt.datetime) -> str:
    """As Django stores an aware datetime in SQLite: naive UTC."""
    return str(value.astimezone(dt.UTC).replace(tzinfo=None))


def _money(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def _tenths(n: int) -> str:
    sign = "-" if n < 0 else ""
    n = abs(n)
    return f"{sign}{n // 10}.{n % 10}"


def _sizes(
    total: int, count: int, rng: random.Random, minimum: int = 1, maximum: int | None = None
) -> list[int]:
    """``count`` sizes from ``minimum`` to ``maximum`` adding up to about ``total`` (at least
    it), skewed: a few large, many small."""
    if count <= 0:
        return []
    weights = [rng.lognormvariate(0, 1) for _ in range(count)]
    scale = total / sum(weights)
    top = maximum or total
    sizes = [min(top, max(minimum, int(w * scale))) for w in weights]
    while sum(sizes) < total and any(n < top for n in sizes):  # what the cap took, spread
        room = [k for k, n in enumerate(sizes) if n < top]
        share = -(-(total - sum(sizes)) // len(room))
        for k in room:
            sizes[k] = min(top, sizes[k] + share)
    return sizes


class Generator:
    """The county's projects and volunteers at ``scale``, on top of the demo county."""

    def __init__(self, scale: float, page_entries: int) -> None:
        from django.utils import timezone

        self.scale = scale
        self.page_entries = page_entries
        self.rng = random.Random(SEED)
        self.end = timezone.now().astimezone(dt.UTC).replace(microsecond=0) - dt.timedelta(days=1)
        self.start = self.end - dt.timedelta(days=3 * 365)
        self.stats: dict[str, Any] = {}

    # ---- common ---------------------------------------------------------------------------
    def load_county(self) -> None:
        from gongzhi.demo import county as C  # noqa: N812 - the demo's own alias
        from gongzhi.housing.models import Compound, Resident, Unit
        from gongzhi.orgs.models import Area, Membership, Organisation

        self.names_pool = [s + g for s in C.SURNAMES for g in C.GIVEN]
        self.staff = _user(STAFF)
        self.nanfeng = Area.objects.get(level=Area.Level.COMMUNITY, name=DEMO_COMMUNITY)
        self.party_orgs = {
            o.area_id: o for o in Organisation.objects.filter(kind=Organisation.Kind.PARTY_ORG)
        }
        self.member_units = list(
            Organisation.objects.filter(kind=Organisation.Kind.MEMBER_UNIT).values_list("id", flat=True)
        )
        branches: dict[int | None, list[Any]] = {}
        for b in Organisation.objects.filter(kind=Organisation.Kind.JOINT_BRANCH).order_by("code"):
            branches.setdefault(b.compound_id, []).append(b)
        committees = {
            c.compound_id: c
            for c in Organisation.objects.filter(
                kind__in=Organisation.COMMITTEE_KINDS, compound__isnull=False
            )
        }
        self.branches = [b for bs in branches.values() for b in bs]
        self.units: dict[int, list[int]] = {}
        for uid, cid in Unit.objects.exclude(kind=Unit.Kind.PARKING).values_list("id", "compound_id"):
            self.units.setdefault(cid, []).append(uid)
        self.payer_names: dict[int, str] = dict(
            Resident.objects.filter(moved_out__isnull=True).values_list("unit_id", "name")
        )
        # Compounds that can run a project with expenses: a joint branch and a committee whose
        # leaders hold accounts to approve with.
        self.compounds = list(
            Compound.objects.filter(pk__in=set(branches) & set(committees)).select_related("community")
        )
        self.compounds.sort(key=lambda c: c.code)
        self.seats: dict[int, list[tuple[int, int, int]]] = {}
        for c in self.compounds:
            self.seats[c.pk] = self._approvers(branches[c.pk][0], committees[c.pk])
        self.project_bodies = {c.pk: (branches[c.pk][0].pk, committees[c.pk].pk) for c in self.compounds}
        self.by_name = {c.name: c for c in self.compounds}
        big = Organisation.objects.get(kind=Organisation.Kind.JOINT_BRANCH, name=BIG_BRANCH)
        page = Organisation.objects.get(kind=Organisation.Kind.JOINT_BRANCH, name=PAGE_BRANCH)
        self.big_branch, self.page_branch = big, page
        # The demo's approvers of 育才新村's projects: its branch secretary and committee member.
        yucai = self.by_name[DEMO_COMPOUND]
        branch_user, committee_user = _user(BRANCH_USER), _user(COMMITTEE_USER)
        seat = Membership.objects.select_related("person")
        self.yucai_seats = [
            (branch_user.pk, seat.get(organisation=big, person__user=branch_user).person_id, big.pk),
            (
                committee_user.pk,
                seat.get(organisation_id=committees[yucai.pk].pk, person__user=committee_user).person_id,
                committees[yucai.pk].pk,
            ),
        ]

    def _approvers(self, branch: Any, committee: Any) -> list[tuple[int, int, int]]:
        """(account, person, body) of two different people: the branch's first member (its
        secretary) and the committee's first member who is someone else, each with an account
        made if they have none (approving needs one)."""
        from django.contrib.auth import get_user_model

        from gongzhi.orgs.models import Membership

        seats: list[tuple[int, int, int]] = []
        for body in (branch, committee):
            members = Membership.objects.filter(organisation=body, left_on__isnull=True).select_related(
                "person"
            )
            taken = {person for _user, person, _body in seats}
            m = next(m for m in members.order_by("id") if m.person_id not in taken)
            person = m.person
            if person.user_id is None:
                user = get_user_model()(username=f"bench_ap_{person.pk}", is_active=True)
                user.set_unusable_password()
                user.save()
                person.user = user
                person.save(update_fields=["user"])
            assert person.user_id is not None
            seats.append((person.user_id, person.pk, body.pk))
        return seats

    def at(self, fraction: float) -> dt.datetime:
        return self.start + (self.end - self.start) * min(max(fraction, 0.0), 1.0)

    # ---- projects and the fund --------------------------------------------------------------
    def projects(self) -> None:
        from gongzhi.projects.models import (
            Expense,
            ExpenseApproval,
            LedgerEntry,
            Project,
            ProjectEvent,
            Receipt,
        )

        rng = self.rng
        through = Project.compounds.through
        w = Writer([Project, through, Expense, ExpenseApproval, LedgerEntry, Receipt, ProjectEvent])
        self.w, self.M = w, (Project, through, Expense, ExpenseApproval, LedgerEntry, Receipt, ProjectEvent)
        s = self.scale
        yucai = self.by_name[DEMO_COMPOUND]
        nanfeng = [c for c in self.compounds if c.community_id == self.nanfeng.pk]
        large = [max(50, round(n * s)) for n in LARGE_PROJECTS]
        target = max(round(FULL_LEDGER * s), sum(large) + self.page_entries + SMALL_ENTRIES + 1_000)
        n_rest = max(10, round(FULL_PROJECTS * s) - len(large) - 2)
        left = target - sum(large) - self.page_entries - SMALL_ENTRIES
        # The large ones stay the only ones over their size (unless the scale leaves no room).
        top = min(large[0] - 1, max(min(large) - 1, 3 * left // n_rest))
        rest = _sizes(left, n_rest, rng, minimum=3, maximum=top)
        plan: list[tuple[str, list[Any], tuple[int, int] | None, list[Any] | None, int, str]] = []
        big_bodies = (self.big_branch.pk, self.project_bodies[yucai.pk][1])
        plan.append((LARGEST_CODE, nanfeng, big_bodies, self.yucai_seats, large[0], "underway"))
        for k, n in enumerate(large[1:], start=2):
            compound = nanfeng[k % len(nanfeng)]
            plan.append((f"BENCH-L{k}", [compound], None, None, n, "underway"))
        page_bodies = (self.page_branch.pk, self.project_bodies[yucai.pk][1])
        plan.append((PAGE_CODE, [yucai], page_bodies, self.yucai_seats, self.page_entries, "underway"))
        plan.append((SMALL_CODE, [yucai], None, self.yucai_seats, SMALL_ENTRIES, "underway"))
        states = (
            ["closed"] * 55 + ["underway"] * 20 + ["raising"] * 12 + ["acceptance"] * 8 + ["cancelled"] * 5
        )
        for k, n in enumerate(rest, start=1):
            compound = self.compounds[rng.randrange(len(self.compounds))]
            plan.append((f"BENCH-{k:05d}", [compound], None, None, n, rng.choice(states)))
        started = time.perf_counter()
        self.q_expenses: list[dict[str, Any]] = []
        self.q_approvals: list[dict[str, Any]] = []
        self.q_receipts: list[dict[str, Any]] = []
        self.q_entries: list[dict[str, Any]] = []
        self.receipts = 0
        for code, compounds, bodies, seats, n, state in plan:
            self.project(code, compounds, bodies, seats, n, state)
        self.write_fund()
        w.finish()
        self.stats["projects"] = {
            "seconds": round(time.perf_counter() - started, 1),
            "written": dict(w.written),
            "large_projects": large,
            "page_entries": self.page_entries,
        }

    def project(
        self,
        code: str,
        compounds: list[Any],
        bodies: tuple[int, int] | None,
        seats: list[Any] | None,
        n: int,
        state: str,
    ) -> None:
        """One project: its row now; its expenses, approvals, receipts and entries queued for
        ``write_fund``, which writes every project's in time order as a real ledger grows."""
        Project, through, _e, _a, _l, _r, ProjectEvent = self.M  # noqa: N806
        rng, w, staff = self.rng, self.w, self.staff.pk
        home = compounds[0]
        branch_id, committee_id = bodies or self.project_bodies[home.pk]
        seats = seats or self.seats[home.pk]
        units = [u for c in compounds for u in self.units.get(c.pk, [])]
        # A project runs for a stretch of the three years; its entries spread over it in order.
        # The named projects (the large ones, the page's, the small one) run the whole time.
        named = not code.startswith("BENCH-0")
        begin = 0.0 if named else rng.random() * 0.6
        span = 0.99 if named else rng.uniform(0.1, 0.4)
        created = self.at(begin)
        project_id = w.next_id[Project]
        times = sorted(self.at(begin + span * rng.random()) for _ in range(n))
        entries: list[dict[str, Any]] = []
        balance = 0
        reversible: list[dict[str, Any]] = []
        for seq, when in enumerate(times, start=1):
            row: dict[str, Any] = {
                "project_id": project_id,
                "seq": seq,
                "occurred_on": when.date(),
                "recorded_by_id": staff,
                "recorded_at": when,
            }
            r = rng.random()
            if balance >= 20_000 and r < 0.14:
                amount = rng.randint(5_000, max(5_000, min(balance // 2, 2_000_000)))
                submitted = when - dt.timedelta(days=3)
                expense = {
                    "project_id": project_id,
                    "purpose": rng.choice(PURPOSES),
                    "expense_type": rng.choice(EXPENSE_TYPES),
                    "vendor": rng.choice(VENDORS),
                    "amount": _money(amount),
                    "state": "paid",
                    "submitted_by_id": staff,
                    "submitted_at": submitted,
                    "decided_at": submitted + dt.timedelta(days=1),
                    "paid_by_id": staff,
                    "paid_at": when,
                    "version": 3,
                }
                self.q_expenses.append(expense)
                for k, (user, person, body) in enumerate(seats):
                    self.q_approvals.append(
                        {
                            "_expense": expense,
                            "approver_id": user,
                            "person_id": person,
                            "body_id": body,
                            "approve": True,
                            "at": submitted + dt.timedelta(hours=2 + 20 * k),
                        }
                    )
                if rng.random() < 0.9:
                    self.q_receipts.append(self._receipt(project_id, expense, when))
                row |= {
                    "direction": "expense",
                    "source": "",
                    "amount": _money(amount),
                    "purpose": expense["purpose"],
                    "method": "transfer",
                    "_expense": expense,
                    "_action": "expense_paid",
                }
                balance -= amount
            elif r < 0.15 and reversible and balance >= reversible[-1]["_fen"]:
                original = reversible.pop()
                fen = original["_fen"]
                copied = ("direction", "source", "method", "unit_id", "payer_name", "organisation_id")
                row |= {k: original[k] for k in copied if k in original}
                row |= {
                    "payer_consents": original.get("payer_consents", False),
                    "amount": _money(-fen),
                    "_reverses": original,
                    "purpose": f"冲正第{original['seq']}笔：金额录错",
                    "_action": "reversal",
                }
                balance -= fen
            else:
                self._income(row, units, reversible)
                balance += row["_fen"]
            row["balance_after"] = _money(balance)
            entries.append(row)
        self.q_entries.extend(entries)
        closed = state in ("closed", "cancelled")
        last = entries[-1]["recorded_at"] if entries else created
        w.add(
            Project,
            {
                "code": code,
                "title": f"{home.name}{rng.choice(TITLES)}",
                "kind": rng.choice(KINDS),
                "summary": "由居民需求发起，党组织牵头，居民筹资筹劳，联建单位支持。",
                "party_org_id": self.party_orgs[home.community_id].pk,
                "community_id": home.community_id,
                "area_path": home.community.path,
                "branch_id": branch_id,
                "committee_id": committee_id,
                "budget": _money(max(balance, 100_000) * 2),
                "approvals_required": 2,
                "state": state,
                "balance": _money(balance),
                "entries_count": len(entries),
                "created_by_id": staff,
                "created_at": created,
                "state_changed_at": last,
                "closed_at": last if closed else None,
            },
        )
        for compound in compounds:
            w.add(through, {"project_id": project_id, "compound_id": compound.pk})
        w.add(
            ProjectEvent,
            {"project_id": project_id, "action": "created", "data": {}, "actor_id": staff, "at": created},
        )
        if not closed and balance >= 40_000 and (rng.random() < 0.3 or code in (LARGEST_CODE, PAGE_CODE)):
            # One expense still waiting for its second approval.
            submitted = last + dt.timedelta(hours=1)
            expense = {
                "project_id": project_id,
                "purpose": rng.choice(PURPOSES),
                "expense_type": rng.choice(EXPENSE_TYPES),
                "vendor": rng.choice(VENDORS),
                "amount": _money(rng.randint(1_000, balance // 4)),
                "state": "submitted",
                "submitted_by_id": staff,
                "submitted_at": submitted,
                "version": 1,
            }
            self.q_expenses.append(expense)
            user, person, body = seats[0]
            self.q_approvals.append(
                {
                    "_expense": expense,
                    "approver_id": user,
                    "person_id": person,
                    "body_id": body,
                    "approve": True,
                    "at": submitted + dt.timedelta(hours=3),
                }
            )

    def write_fund(self) -> None:
        """Every project's expenses, approvals, receipts, entries and timeline events, each
        table in time order (ids grow with time, a project's rows lie among the others')."""
        _p, _t, Expense, ExpenseApproval, LedgerEntry, Receipt, ProjectEvent = self.M  # noqa: N806
        w = self.w
        for expense in sorted(self.q_expenses, key=lambda e: e["submitted_at"]):
            w.add(Expense, expense)
        for approval in sorted(self.q_approvals, key=lambda a: a["at"]):
            approval["expense_id"] = approval.pop("_expense")["id"]
            w.add(ExpenseApproval, approval)
        for receipt in sorted(self.q_receipts, key=lambda r: r["uploaded_at"]):
            receipt["expense_id"] = receipt.pop("_expense")["id"]
            w.add(Receipt, receipt)
        self.q_expenses = self.q_approvals = self.q_receipts = []
        entries, self.q_entries = self.q_entries, []
        entries.sort(key=lambda e: (e["recorded_at"], e["project_id"], e["seq"]))
        staff = self.staff.pk
        for row in entries:
            if "_expense" in row:
                row["expense_id"] = row["_expense"]["id"]
            if "_reverses" in row:
                row["reverses_id"] = row["_reverses"]["id"]
            w.add(LedgerEntry, row)
            data = {"seq": row["seq"], "amount": row["amount"]}
            if row["direction"] == "income":
                data["source"] = row["source"]
            w.add(
                ProjectEvent,
                {
                    "project_id": row["project_id"],
                    "action": row.get("_action", "income"),
                    "data": data,
                    "actor_id": staff,
                    "at": row["recorded_at"],
                },
            )
        for row in entries:  # what the references held can go now
            row.pop("_expense", None)
            row.pop("_reverses", None)

    def _income(self, row: dict[str, Any], units: list[int], reversible: list[dict[str, Any]]) -> None:
        """Make ``row`` an income entry (``_fen``: its amount in fen); a household's may be
        reversed later."""
        rng = self.rng
        r = rng.random()
        if r < 0.78 and units:
            unit = units[rng.randrange(len(units))]
            fen = rng.choice((5_000, 10_000, 20_000, 30_000, 50_000)) + rng.randrange(0, 10_000, 100)
            row |= {
                "direction": "income",
                "source": "household",
                "unit_id": unit,
                "method": rng.choice(("cash", "transfer")),
                "payer_name": self.payer_names.get(unit, ""),
                "payer_consents": rng.random() < 0.6,
                "purpose": "住户筹资",
            }
        elif r < 0.88:
            fen = rng.randint(50_000, 2_000_000)
            row |= {
                "direction": "income",
                "source": "member_unit",
                "organisation_id": self.member_units[rng.randrange(len(self.member_units))],
                "method": "transfer",
                "purpose": "联建单位支持",
            }
        elif r < 0.95:
            fen = rng.randint(100_000, 5_000_000)
            row |= {"direction": "income", "source": "subsidy", "method": "transfer", "purpose": "政府补助"}
        else:
            fen = rng.randint(10_000, 500_000)
            row |= {
                "direction": "income",
                "source": "shared_income",
                "method": "transfer",
                "purpose": "共有部分经营收益",
            }
        row["amount"] = _money(fen)
        row["_fen"] = fen
        if row["source"] == "household" and len(reversible) < 64:
            reversible.append(row)

    def _receipt(self, project_id: int, expense: dict[str, Any], at: dt.datetime) -> dict[str, Any]:
        self.receipts += 1
        digest = f"{self.receipts:064x}"
        return {
            "project_id": project_id,
            "_expense": expense,
            "file": f"projects/{at:%Y/%m}/{digest[:2]}/{digest}.jpg",
            "content_type": "image/jpeg",
            "extension": ".jpg",
            "size": 180_000 + self.receipts % 50_000,
            "sha256": digest,
            "uploaded_by_id": self.staff.pk,
            "uploaded_at": at,
        }

    # ---- volunteers -----------------------------------------------------------------------------
    def volunteers(self) -> None:
        from django.conf import settings
        from django.contrib.auth import get_user_model

        from gongzhi.orgs.models import Membership, Person
        from gongzhi.volunteers.models import (
            Activity,
            Attendance,
            HoursEntry,
            PointsAccount,
            PointsEntry,
            SignUp,
        )

        rng, s, staff = self.rng, self.scale, self.staff.pk
        started = time.perf_counter()
        per_hour = int(getattr(settings, "GONGZHI_POINTS_PER_HOUR", 1))
        cap = 60 * int(getattr(settings, "GONGZHI_MAX_HOURS_PER_ACTIVITY", 2))
        n_people = max(200, round(FULL_PEOPLE * s))
        n_activities = max(200, round(FULL_ACTIVITIES * s))
        n_hours = max(2_000, round(FULL_HOURS * s))
        heavy_hours = min(HEAVY_HOURS, n_activities // 2)
        w = Writer([Person, Membership, Activity, SignUp, Attendance, HoursEntry, PointsEntry, PointsAccount])
        # People: the largest branch takes a share, the others the rest evenly.
        branches = sorted(self.branches, key=lambda b: b.code)
        others = [b for b in branches if b.pk != self.big_branch.pk]
        big_n = round(n_people * BIG_BRANCH_SHARE)
        member_of = [self.big_branch] * big_n + [others[k % len(others)] for k in range(n_people - big_n)]
        account = get_user_model()(username=HEAVY_USER, is_active=True)
        account.set_unusable_password()
        account.save()
        people: list[tuple[int, Any]] = []
        for k, branch in enumerate(member_of):
            pk = w.add(
                Person,
                {
                    "name": self.names_pool[rng.randrange(len(self.names_pool))],
                    "phone": f"13{rng.randrange(10**9):09d}",
                    "user_id": account.pk if k == 0 else None,
                    "is_party_member": True,
                    "party_registered_community_id": branch.area_id,
                    "party_registered_on": dt.date(2023, 4, 1),
                    "home_area_id": branch.area_id,
                },
            )
            w.add(
                Membership,
                {
                    "organisation_id": branch.pk,
                    "person_id": pk,
                    "role": "member",
                    "started_on": dt.date(2023, 7, 1),
                },
            )
            people.append((pk, branch))
        # Activities, in each community in proportion to its volunteers; a hundred still to come.
        by_community: dict[int, int] = {}
        for _pk, branch in people:
            by_community[branch.area_id] = by_community.get(branch.area_id, 0) + 1
        organisers: dict[int, list[Any]] = {}
        for b in branches:
            organisers.setdefault(b.area_id, []).append(b)
        paths = {b.area_id: b.area.path for b in branches}
        done: list[dict[str, Any]] = []
        communities = sorted(by_community)
        for community_id in communities:
            share = max(20, round(n_activities * by_community[community_id] / len(people)))
            for _k in range(share):
                starts = self.at(rng.random() * 0.99).replace(minute=0, second=0) + dt.timedelta(
                    minutes=30 * rng.randrange(2)
                )
                ends = starts + dt.timedelta(minutes=rng.choice((120, 150, 180, 240)))
                done.append(self._activity(community_id, organisers, paths, starts, ends, "verified"))
        pools: dict[int, list[tuple[int, dt.datetime, dt.datetime]]] = {}
        everything: list[tuple[int, dt.datetime, dt.datetime]] = []
        for activity in sorted(done, key=lambda a: a["created_at"]):  # ids grow with time
            activity["checkin_code"] = f"bench{w.next_id[Activity]:011d}"
            pk = w.add(Activity, activity)
            pools.setdefault(activity["community_id"], []).append(
                (pk, activity["starts_at"], activity["ends_at"])
            )
            everything.append((pk, activity["starts_at"], activity["ends_at"]))
        upcoming = []
        for k in range(100):
            community_id = communities[k % len(communities)]
            starts = self.end + dt.timedelta(days=2 + k % 30, hours=9)
            ends = starts + dt.timedelta(hours=2)
            activity = self._activity(community_id, organisers, paths, starts, ends, "open")
            activity["checkin_code"] = f"bench{w.next_id[Activity]:011d}"
            upcoming.append(w.add(Activity, activity))
        # How many activities each person served: one heavy volunteer, a few keen ones, the
        # rest skewed; one in ten never came.
        counts = [0] * len(people)
        counts[0] = heavy_hours
        keen = list(range(1, min(21, len(people))))
        for k in keen:
            counts[k] = min(rng.randint(300, 1_200), n_activities // 3)
        rest = [k for k in range(len(people)) if counts[k] == 0 and rng.random() >= 0.1]
        remaining = max(len(rest), n_hours - sum(counts))
        for k, n in zip(rest, _sizes(remaining, len(rest), rng), strict=True):
            counts[k] = n
        # Attendance, hours and points are written after, each table in time order: a
        # person's rows lie among everyone else's, as they do after years of use.
        attendances: list[dict[str, Any]] = []
        hours_rows: list[dict[str, Any]] = []
        points_rows: list[dict[str, Any]] = []
        for k, (person_id, branch) in enumerate(people):
            n = counts[k]
            if n <= 0:
                continue
            pool = pools[branch.area_id]
            chosen = rng.sample(pool if n <= len(pool) else everything, min(n, len(everything)))
            chosen.sort(key=lambda a: (a[2], a[0]))
            minutes_total = balance = seq = 0
            for activity_id, starts, ends in chosen:
                checked_in = starts - dt.timedelta(minutes=rng.randrange(16))
                checked_out = ends + dt.timedelta(minutes=rng.randrange(-60, 21))
                present = int((min(checked_out, ends) - max(checked_in, starts)).total_seconds() // 60)
                counted = min(present, cap)
                verified = ends + dt.timedelta(days=1)
                attendances.append(
                    {
                        "activity_id": activity_id,
                        "person_id": person_id,
                        "checked_in_at": checked_in,
                        "checked_in_by": "qr",
                        "checked_out_at": checked_out,
                        "checked_out_by": "qr",
                    },
                )
                hours = {
                    "person_id": person_id,
                    "activity_id": activity_id,
                    "minutes_present": present,
                    "minutes_counted": counted,
                    "verified_by_id": staff,
                    "at": verified,
                }
                hours_rows.append(hours)
                earned = counted * per_hour * 10 // 60
                minutes_total += counted
                balance += earned
                seq += 1
                points_rows.append(self._points(person_id, seq, "earn", earned, balance, verified, hours))
                r = rng.random()
                extra = None
                if r < 0.03:
                    extra = ("bonus", rng.choice((10, 20, 50)))
                elif r < 0.10 and balance >= 100:
                    extra = ("redeem", -rng.randint(50, balance // 2))
                elif r < 0.105 and balance >= 10:
                    extra = ("deduct", -10)
                if extra is not None:
                    balance += extra[1]
                    seq += 1
                    later = verified + dt.timedelta(hours=1)
                    points_rows.append(self._points(person_id, seq, extra[0], extra[1], balance, later))
            w.add(
                PointsAccount,
                {
                    "person_id": person_id,
                    "minutes": minutes_total,
                    "points": _tenths(balance),
                    "entries_count": seq,
                },
            )
        attendances.sort(key=lambda a: (a["checked_in_at"], a["activity_id"], a["person_id"]))
        for row in attendances:
            w.add(Attendance, row)
        del attendances
        hours_rows.sort(key=lambda h: (h["at"], h["activity_id"], h["person_id"]))
        for row in hours_rows:
            w.add(HoursEntry, row)
        points_rows.sort(key=lambda e: (e["at"], e["person_id"], e["seq"]))
        for row in points_rows:
            if row["hours_id"] is not None:
                row["hours_id"] = row["hours_id"]["id"]
            w.add(PointsEntry, row)
        del points_rows, hours_rows
        heavy_id = people[0][0]
        for activity_id in upcoming[:3]:
            w.add(
                SignUp,
                {
                    "activity_id": activity_id,
                    "person_id": heavy_id,
                    "signed_up_at": self.end,
                    "recorded_by_id": None,
                },
            )
        w.finish()
        self.stats["volunteers"] = {
            "seconds": round(time.perf_counter() - started, 1),
            "written": dict(w.written),
            "people": len(people),
            "largest_branch_members": big_n,
            "heavy_volunteer_hours": heavy_hours,
        }

    def _activity(
        self,
        community_id: int,
        organisers: dict[int, list[Any]],
        paths: dict[int, str],
        starts: dt.datetime,
        ends: dt.datetime,
        state: str,
    ) -> dict[str, Any]:
        rng = self.rng
        verified = state == "verified"
        return {
            "title": rng.choice(ACTIVITY_TITLES),
            "kind": rng.choice(("cleanup", "visit", "patrol", "other")),
            "community_id": community_id,
            "organiser_id": rng.choice(organisers[community_id]).pk,
            "place": "小区活动室门口",
            "starts_at": starts,
            "ends_at": ends,
            "capacity": 50,
            "checkin_code": "",  # set from the id once it is known
            "area_path": paths[community_id],
            "state": state,
            "verified_by_id": self.staff.pk if verified else None,
            "verified_at": ends + dt.timedelta(days=1) if verified else None,
            "created_by_id": self.staff.pk,
            "created_at": starts - dt.timedelta(days=7),
            "version": 1 if verified else 0,
        }

    def _points(
        self,
        person_id: int,
        seq: int,
        kind: str,
        points: int,
        balance: int,
        at: dt.datetime,
        hours: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return {
            "person_id": person_id,
            "seq": seq,
            "kind": kind,
            "points": _tenths(points),
            "balance_after": _tenths(balance),
            "hours_id": hours,  # the hours row; its id once written
            "reason": POINT_REASONS[kind],
            "evidence": "活动签到签退记录" if kind == "earn" else "社区审核记录",
            "approved_by_id": self.staff.pk,
            "at": at,
        }


PURPOSES = (
    "采购LED路灯",
    "更换排水管",
    "防水卷材及人工",
    "绿化补植苗木",
    "划线及标识牌",
    "垃圾亭改造材料",
    "活动室桌椅",
)
EXPENSE_TYPES = ("materials", "labour", "equipment", "services", "other")
VENDORS = ("岱山县明亮五金店", "舟山市海宏建材有限公司", "岱山县绿源园林工程队", "高亭镇顺达水电维修部")
TITLES = ("路灯更新", "楼顶防水", "停车位施划", "垃圾分类投放点改造", "绿化提升", "道路修补", "活动室改造")
KINDS = ("lighting", "waterproofing", "parking", "garbage", "greening", "roads", "activity_room")
ACTIVITY_TITLES = ("小区环境大扫除", "走访慰问独居老人", "夜间平安巡逻", "楼道杂物清理", "垃圾分类宣传")
POINT_REASONS = {
    "earn": "志愿服务",
    "bonus": "表现突出奖励",
    "redeem": "积分兑换生活用品",
    "deduct": "无故缺席",
}


def task_generate(args: argparse.Namespace) -> dict[str, Any]:
    """The projects and volunteers at ``--scale`` (the demo county must be seeded)."""
    import gc

    _setup()
    gc.disable()  # millions of rows held at once, none of them in a cycle
    started = time.perf_counter()
    gen = Generator(args.scale, args.page_entries)
    gen.load_county()
    gen.projects()
    log(f"projects written: {gen.stats['projects']}")
    gen.volunteers()
    log(f"volunteers written: {gen.stats['volunteers']}")
    return {"seconds": round(time.perf_counter() - started, 1), **gen.stats}


def task_counts(args: argparse.Namespace) -> dict[str, Any]:
    _setup()
    from django.db import connection
    from django.db.models import Count

    from gongzhi.orgs.models import Membership, Organisation, Person
    from gongzhi.projects.models import Expense, ExpenseApproval, LedgerEntry, Project, ProjectEvent, Receipt
    from gongzhi.volunteers.models import Activity, Attendance, HoursEntry, PointsAccount, PointsEntry

    counts: dict[str, Any] = {
        m._meta.label: m.objects.count()
        for m in (
            Project,
            LedgerEntry,
            Expense,
            ExpenseApproval,
            Receipt,
            ProjectEvent,
            Person,
            Membership,
            Activity,
            Attendance,
            HoursEntry,
            PointsEntry,
            PointsAccount,
        )
    }
    counts["joint_branches"] = Organisation.objects.filter(kind=Organisation.Kind.JOINT_BRANCH).count()
    counts["volunteer_rows"] = counts["volunteers.HoursEntry"] + counts["volunteers.PointsEntry"]
    sizes = Project.objects.order_by("-entries_count").values_list("code", "entries_count")
    counts["largest_projects"] = list(sizes[:8])
    counts["projects_over_20000"] = Project.objects.filter(entries_count__gte=20_000).count()
    counts["branch_sizes_top"] = list(
        Organisation.objects.filter(kind=Organisation.Kind.JOINT_BRANCH)
        .annotate(n=Count("memberships"))
        .order_by("-n")
        .values_list("name", "n")[:3]
    )
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("select page_count * page_size from pragma_page_count(), pragma_page_size()")
        else:
            cursor.execute("select pg_database_size(current_database())")
        counts["database_mb"] = round(cursor.fetchone()[0] / 1024 / 1024, 1)
    return counts


# ---- invariants ------------------------------------------------------------------------------


# One query per invariant; each counts the rows that break it (0 when it holds). Placeholders
# are the models' table names and two settings.
INVARIANTS = {
    # (project, seq) is unique, so 1..n without a gap is: min 1 and max = count.
    "ledger_seq_contiguous": """
        SELECT COUNT(*) FROM (SELECT project_id, COUNT(*) AS n, MIN(seq) AS lo, MAX(seq) AS hi
        FROM {le} GROUP BY project_id) t WHERE lo <> 1 OR hi <> n""",
    "ledger_running_balance": """
        SELECT COUNT(*) FROM (SELECT balance_after, SUM(CASE WHEN direction = 'income'
        THEN amount ELSE -amount END) OVER (PARTITION BY project_id ORDER BY seq
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running FROM {le}) t
        WHERE ABS(running - balance_after) > 0.001 OR balance_after < 0""",
    "project_balance_is_last_entry": """
        SELECT COUNT(*) FROM {pj} p
        LEFT JOIN {le} l ON l.project_id = p.id AND l.seq = p.entries_count
        WHERE ABS(p.balance - COALESCE(l.balance_after, 0)) > 0.001 OR p.balance < 0
        OR (p.entries_count > 0 AND l.id IS NULL)
        OR p.entries_count <> (SELECT COUNT(*) FROM {le} c WHERE c.project_id = p.id)""",
    "paid_expense_paid_once_and_approved": """
        SELECT COUNT(*) FROM {ex} e JOIN {pj} p ON p.id = e.project_id
        LEFT JOIN (SELECT expense_id, COUNT(*) AS n, SUM(amount) AS total FROM {le}
                   WHERE expense_id IS NOT NULL AND reverses_id IS NULL GROUP BY expense_id) l
          ON l.expense_id = e.id
        LEFT JOIN (SELECT expense_id, COUNT(*) AS n FROM {ap} WHERE approve GROUP BY expense_id) a
          ON a.expense_id = e.id
        WHERE e.state = 'paid' AND (COALESCE(l.n, 0) <> 1 OR ABS(l.total - e.amount) > 0.001
        OR COALESCE(a.n, 0) < p.approvals_required)""",
    "points_seq_contiguous": """
        SELECT COUNT(*) FROM (SELECT person_id, COUNT(*) AS n, MIN(seq) AS lo, MAX(seq) AS hi
        FROM {pe} GROUP BY person_id) t WHERE lo <> 1 OR hi <> n""",
    "points_running_balance": """
        SELECT COUNT(*) FROM (SELECT balance_after, SUM(points) OVER (PARTITION BY person_id
        ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running FROM {pe}) t
        WHERE ABS(running - balance_after) > 0.001 OR balance_after < 0""",
    "points_account_totals": """
        SELECT COUNT(*) FROM {pa} a
        LEFT JOIN (SELECT person_id, COUNT(*) AS n FROM {pe} GROUP BY person_id) e
          ON e.person_id = a.person_id
        LEFT JOIN {pe} last ON last.person_id = a.person_id AND last.seq = a.entries_count
        LEFT JOIN (SELECT person_id, SUM(minutes_counted) AS m FROM {he} GROUP BY person_id) h
          ON h.person_id = a.person_id
        WHERE a.entries_count <> COALESCE(e.n, 0) OR a.points < 0
        OR ABS(a.points - COALESCE(last.balance_after, 0)) > 0.001 OR a.minutes <> COALESCE(h.m, 0)""",
    "points_entries_have_account": """
        SELECT COUNT(*) FROM (SELECT DISTINCT person_id FROM {pe}) e
        WHERE NOT EXISTS (SELECT 1 FROM {pa} a WHERE a.person_id = e.person_id)""",
    "earned_points_match_hours": """
        SELECT COUNT(*) FROM {pe} p JOIN {he} h ON h.id = p.hours_id
        WHERE p.kind <> 'earn' OR h.minutes_counted > {cap} OR h.minutes_counted > h.minutes_present
        OR ABS(p.points - (h.minutes_counted * {per_hour} * 10 / 60) / 10.0) > 0.001""",
}


def invariant_queries() -> dict[str, str]:
    from django.conf import settings

    from gongzhi.projects.models import Expense, ExpenseApproval, LedgerEntry, Project
    from gongzhi.volunteers.models import HoursEntry, PointsAccount, PointsEntry

    names = {
        key: model._meta.db_table
        for key, model in (
            ("le", LedgerEntry),
            ("pj", Project),
            ("ex", Expense),
            ("ap", ExpenseApproval),
            ("pe", PointsEntry),
            ("pa", PointsAccount),
            ("he", HoursEntry),
        )
    }
    names["per_hour"] = str(int(getattr(settings, "GONGZHI_POINTS_PER_HOUR", 1)))
    names["cap"] = str(60 * int(getattr(settings, "GONGZHI_MAX_HOURS_PER_ACTIVITY", 2)))
    return {name: sql.format(**names) for name, sql in INVARIANTS.items()}


def task_check(args: argparse.Namespace) -> dict[str, Any]:
    """Every invariant, one query each; exits non-zero (after writing the result) if any fails."""
    _setup()
    from django.db import connection

    out: dict[str, Any] = {}
    failed = []
    for name, sql in invariant_queries().items():
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql)
            bad = cursor.fetchone()[0]
        out[name] = {"violations": bad, "seconds": round(time.perf_counter() - started, 2)}
        log(f"check {name}: {bad} violations in {out[name]['seconds']} s")
        if bad:
            failed.append(name)
    out["failed"] = failed
    if failed:
        args.result.write_text(json.dumps(out, indent=1))
        log(f"INVARIANTS BROKEN: {', '.join(failed)}")
        raise SystemExit(3)
    return out


# ---- the fixed points of the data ------------------------------------------------------------


def _project(code: str) -> Any:
    from gongzhi.projects.models import Project

    return Project.objects.select_related("community").get(code=code)


def _probe(table: str, owner: str) -> None:
    """A table shaped like the ledger (or the points ledger), for the plain-INSERT baseline."""
    from django.db import connection

    serial = "INTEGER PRIMARY KEY AUTOINCREMENT" if connection.vendor == "sqlite" else "BIGSERIAL PRIMARY KEY"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(
            f"CREATE TABLE {table} (id {serial}, {owner} INTEGER NOT NULL, seq INTEGER NOT NULL, "
            "kind VARCHAR(16) NOT NULL, amount NUMERIC(12, 2) NOT NULL, "
            "balance_after NUMERIC(12, 2) NOT NULL, purpose VARCHAR(200) NOT NULL, "
            "at TIMESTAMP WITH TIME ZONE NOT NULL)"
        )
        cursor.execute(f"CREATE UNIQUE INDEX {table}_seq ON {table} ({owner}, seq)")


def _probe_insert(table: str, owner: str, owner_id: int, seq: int) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({owner}, seq, kind, amount, balance_after, purpose, at) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [owner_id, seq, "income", "50.00", "1000.00", "住户筹资", timezone.now()],
        )


# ---- 1. appending to the ledger --------------------------------------------------------------


def task_writes(args: argparse.Namespace) -> dict[str, Any]:
    """``record_income`` and ``pay_expense`` on the largest project (and income on a small one)
    against a plain one-row INSERT in its own transaction."""
    _setup()
    from gongzhi.housing.models import Unit
    from gongzhi.projects import ledger
    from gongzhi.projects.models import LedgerEntry

    largest, small = _project(LARGEST_CODE), _project(SMALL_CODE)
    staff, branch, committee = _user(STAFF), _user(BRANCH_USER), _user(COMMITTEE_USER)
    before = {"largest": largest.entries_count, "small": small.entries_count}
    units_l = list(Unit.objects.filter(pk__in=ledger.scope_units(largest).values("id")[:200]))
    units_s = list(Unit.objects.filter(pk__in=ledger.scope_units(small).values("id")[:200]))
    _probe(LEDGER_PROBE, "project_id")
    started = time.perf_counter()
    rounds = args.repeats + 2  # the unmeasured round, the measured ones and one for the query count
    expenses = []
    for k in range(rounds):
        expense = ledger.submit_expense(
            _fresh(staff),
            largest,
            purpose=f"基准支出 {k}",
            expense_type="materials",
            vendor="岱山县明亮五金店",
            amount="10.00",
        )
        ledger.decide_expense(_fresh(branch), expense, approve=True)
        ledger.decide_expense(_fresh(committee), expense, approve=True)
        expenses.append(expense)
    prepared_s = round(time.perf_counter() - started, 1)

    def income(project: Any, units: list[Any]) -> Callable[[int], object]:
        return lambda i: ledger.record_income(
            _fresh(staff),
            project,
            source="household",
            amount="50.00",
            unit=units[i % len(units)],
            method="cash",
            payer_name="基准",
        )

    def pay(i: int) -> object:
        return ledger.pay_expense(_fresh(staff), expenses[i + 1])

    calls = {
        "baseline_insert": lambda i: _probe_insert(LEDGER_PROBE, "project_id", largest.pk, i + 2),
        "record_income_largest": income(largest, units_l),
        "pay_expense_largest": pay,
        "record_income_small": income(small, units_s),
    }
    results = against(interleaved(calls, args.repeats, args.case_seconds), "baseline_insert")
    queries = {
        "record_income_largest": queries_of(lambda: calls["record_income_largest"](0)),
        "pay_expense_largest": queries_of(lambda: ledger.pay_expense(_fresh(staff), expenses[-1])),
    }
    largest.refresh_from_db()
    small.refresh_from_db()
    return {
        "cases": results,
        "queries": {k: {"count": len(v), "sql": v} for k, v in queries.items()},
        "prepared_expenses": len(expenses),
        "prepare_seconds": prepared_s,
        "entries_before": before,
        "entries_after": {"largest": largest.entries_count, "small": small.entries_count},
        "ledger_rows": LedgerEntry.objects.count(),
    }


# ---- 2. totals -------------------------------------------------------------------------------


def task_reads(args: argparse.Namespace) -> dict[str, Any]:
    """``ledger.totals`` and ``ledger.paid_by_unit`` of the largest project against a plain
    ``SELECT SUM(amount)`` over the same rows."""
    _setup()
    from django.db import connection
    from django.db.models import Sum

    from gongzhi.projects import ledger
    from gongzhi.projects.models import LedgerEntry

    largest = _project(LARGEST_CODE)
    table = LedgerEntry._meta.db_table

    def plain_sum(i: int) -> object:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT SUM(amount) FROM {table} WHERE project_id = %s", [largest.pk])  # noqa: S608
            return cursor.fetchone()[0]

    calls = {
        "baseline_sum": plain_sum,
        "totals": lambda i: ledger.totals(largest),
        "paid_by_unit": lambda i: ledger.paid_by_unit(largest),
        "committed": lambda i: ledger.committed(largest),
        # ``totals`` without the join to the project that the model's ordering brings in.
        "totals_unordered": lambda i: list(
            LedgerEntry.objects.filter(project_id=largest.pk)
            .order_by()
            .values("direction", "source")
            .annotate(total=Sum("amount"))
        ),
    }
    results = against(interleaved(calls, args.repeats, args.case_seconds), "baseline_sum")
    plans = {}
    for name in ("totals", "paid_by_unit"):
        sql = queries_of(functools.partial(calls[name], 0))
        plans[name] = {"sql": sql, "plan": explain(sql[-1]) if sql else ""}
    plain = f"SELECT SUM(amount) FROM {table} WHERE project_id = {int(largest.pk)}"  # noqa: S608
    plans["baseline_sum"] = {"plan": explain(plain)}
    totals = ledger.totals(largest)
    return {
        "cases": results,
        "plans": plans,
        "entries": LedgerEntry.objects.filter(project=largest).count(),
        "households_paid": len(ledger.paid_by_unit(largest)),
        "balanced": totals["balance"] == largest.balance,
    }


# ---- 3. the pages ------------------------------------------------------------------------------


def _entries_plain(project: Any) -> list[tuple[Any, ...]]:
    from gongzhi.projects.models import LedgerEntry

    return list(
        LedgerEntry.objects.filter(project_id=project.pk)
        .order_by("seq")
        .values_list("seq", "occurred_on", "direction", "source", "amount", "balance_after", "purpose")
    )


def _get(client: Any, url: str) -> Any:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} -> {response.status_code}")
    return response


def _page_urls(project: Any) -> tuple[str, str]:
    code = project.compounds.order_by("id").values_list("code", flat=True).first()
    return f"/c/{code}/projects/{project.pk}/", f"/projects/{project.pk}/ledger/"


def task_pages(args: argparse.Namespace) -> dict[str, Any]:
    """The public project page and the staff ledger page of the project with ``--page-entries``
    entries, against a plain read of the same entries."""
    _setup()
    from django.test import Client
    from worker import client_for

    from gongzhi.projects import statement

    project = _project(PAGE_CODE)
    public_url, ledger_url = _page_urls(project)
    anonymous = Client(HTTP_HOST="localhost")
    staff = client_for(_user(STAFF))
    calls = {
        "baseline_read": lambda i: _entries_plain(project),
        "statement_public": lambda i: statement.build(project, public=True),
        "known_names": lambda i: statement.known_names(project),
        "public_page": lambda i: _get(anonymous, public_url),
        "ledger_page": lambda i: _get(staff, ledger_url),
    }
    results = against(interleaved(calls, args.repeats, args.case_seconds), "baseline_read")
    pages = {}
    for name, client, url in (("public_page", anonymous, public_url), ("ledger_page", staff, ledger_url)):
        fetch: Callable[[], object] = functools.partial(_get, client, url)
        sql = queries_of(fetch)
        pages[name] = {
            "url": url,
            "queries": len(sql),
            "kb": round(len(_get(client, url).content) / 1024, 1),
            "profile": profile(fetch),
        }
    return {
        "cases": results,
        "pages": pages,
        "entries": project.entries_count,
        "known_names": len(statement.known_names(project)),
        "expenses": project.expenses.count(),
    }


# ---- 4 and 5. volunteers ---------------------------------------------------------------------


def _volunteer_fixtures(redemptions: int) -> tuple[Any, Any, Any, Any]:
    """The largest branch, the heavy volunteer, a light one with points enough for
    ``redemptions`` of 0.1, and the community's staff who looks after both."""
    from decimal import Decimal

    from gongzhi.orgs.models import Organisation, Person
    from gongzhi.volunteers.models import PointsAccount

    branch = Organisation.objects.get(kind=Organisation.Kind.JOINT_BRANCH, name=BIG_BRANCH)
    heavy = Person.objects.select_related("home_area", "party_registered_community").get(
        user__username=HEAVY_USER
    )
    light_id = (
        PointsAccount.objects.filter(
            person__home_area=heavy.home_area_id,
            entries_count__range=(5, 12),
            points__gte=Decimal(redemptions) / 10,
        )
        .order_by("person_id")
        .values_list("person_id", flat=True)
        .first()
    )
    if light_id is None:
        raise RuntimeError("no volunteer with a few entries and points enough to redeem")
    light = Person.objects.select_related("home_area", "party_registered_community").get(pk=light_id)
    return branch, heavy, light, _user(STAFF)


def task_volunteers(args: argparse.Namespace) -> dict[str, Any]:
    """The branch board and "my volunteering" against plain reads; redeeming points against a
    plain INSERT."""
    _setup()
    from django.db import connection
    from worker import client_for

    from gongzhi.volunteers import actions, queries
    from gongzhi.volunteers.models import PointsAccount, PointsEntry

    branch, heavy, light, staff = _volunteer_fixtures(args.repeats * 2 + 4)
    heavy_client, staff_client = client_for(heavy.user), client_for(staff)
    table = PointsEntry._meta.db_table

    def plain_board(i: int) -> object:
        return list(
            PointsAccount.objects.filter(
                person__memberships__organisation=branch, person__memberships__left_on__isnull=True
            ).values_list("person_id", "minutes", "points")
        )

    def count(i: int) -> object:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE person_id = %s", [heavy.pk])  # noqa: S608
            return cursor.fetchone()[0]

    reads = {
        "baseline_count": count,
        "baseline_board_read": plain_board,
        "board_rows": lambda i: queries.board_rows(_fresh(staff), branch),
        "board_page": lambda i: _get(staff_client, f"/volunteers/board/{branch.pk}/"),
        "my_volunteering_page": lambda i: _get(heavy_client, "/volunteers/me/"),
        "person_page_staff": lambda i: _get(staff_client, f"/volunteers/people/{heavy.pk}/"),
    }
    read_results = against(interleaved(reads, args.repeats, args.case_seconds), "baseline_count")
    for v in read_results.values():
        v["ratio_p50_vs_board_read"] = ratio(v["p50_ms"], read_results["baseline_board_read"]["p50_ms"])
    _probe(POINTS_PROBE, "person_id")

    def redeem(person: Any) -> Callable[[int], object]:
        return lambda i: actions.adjust_points(
            _fresh(staff), person, kind="redeem", points="0.1", reason="积分兑换", evidence="兑换登记表"
        )

    writes = {
        "baseline_insert": lambda i: _probe_insert(POINTS_PROBE, "person_id", heavy.pk, i + 2),
        "redeem_heavy": redeem(heavy),
        "redeem_light": redeem(light),
    }
    before = {p: PointsAccount.objects.get(person=p).entries_count for p in (heavy, light)}
    write_results = against(interleaved(writes, args.repeats * 2, args.case_seconds), "baseline_insert")
    pages = {
        "board_page": {
            "queries": len(queries_of(lambda: reads["board_page"](0))),
            "profile": profile(lambda: reads["board_page"](0)),
        },
        "my_volunteering_page": {
            "queries": len(queries_of(lambda: reads["my_volunteering_page"](0))),
            "profile": profile(lambda: reads["my_volunteering_page"](0)),
        },
        "person_page_staff": {"queries": len(queries_of(lambda: reads["person_page_staff"](0)))},
        "redeem_heavy": {"queries": len(queries_of(lambda: writes["redeem_heavy"](0)))},
    }
    board_sql = queries_of(lambda: queries.board_rows(_fresh(staff), branch))
    me_sql = queries_of(lambda: reads["my_volunteering_page"](0))
    return {
        "reads": read_results,
        "writes": write_results,
        "queries": pages,
        "plans": {
            "board_accounts": explain(board_sql[-1]) if board_sql else "",
            "my_hours": next(
                (explain(q) for q in me_sql if 'FROM "volunteers_hoursentry"' in q and "LIMIT" in q), ""
            ),
            "my_points": next(
                (explain(q) for q in me_sql if 'FROM "volunteers_pointsentry"' in q and "LIMIT" in q), ""
            ),
        },
        "branch_members": len(queries.board_rows(_fresh(staff), branch)),
        "heavy_entries": {
            "points": before[heavy],
            "hours": heavy.hours_entries.count(),
        },
        "light_entries": before[light],
    }


# ---- index candidates (not a default phase) -----------------------------------------------------

# (name, table, columns): created for the measurement and dropped after it. The same key on both
# databases, as ``models.Index(fields=[...])`` would create it (Django ignores ``include`` on
# SQLite, so the covered columns are part of the key).
INDEX_CANDIDATES = (
    ("bench_ledger_totals_idx", "projects_ledgerentry", "project_id, source, direction, amount, unit_id"),
    ("bench_hours_person_at_idx", "volunteers_hoursentry", "person_id, at DESC, id DESC"),
)


def _indexes(create: bool) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for name, table, columns in INDEX_CANDIDATES:
            if create:
                cursor.execute(f"CREATE INDEX {name} ON {table} ({columns})")
            else:
                cursor.execute(f"DROP INDEX IF EXISTS {name}")
        cursor.execute("ANALYZE")


def task_indexes(args: argparse.Namespace) -> dict[str, Any]:
    """The same calls without and with the index candidates (dropped again at the end)."""
    _setup()
    from worker import client_for

    from gongzhi.projects import ledger
    from gongzhi.volunteers import queries

    largest = _project(LARGEST_CODE)
    _branch, heavy, _light, _staff = _volunteer_fixtures(0)
    client = client_for(heavy.user)
    calls = {
        "totals": lambda i: ledger.totals(largest),
        "paid_by_unit": lambda i: ledger.paid_by_unit(largest),
        "hours_entries": lambda i: queries.hours_entries(heavy),
        "my_volunteering_page": lambda i: _get(client, "/volunteers/me/"),
    }
    out: dict[str, Any] = {"candidates": [list(c) for c in INDEX_CANDIDATES]}
    _indexes(False)
    try:
        for state in ("without", "with"):
            if state == "with":
                started = time.perf_counter()
                _indexes(True)
                out["create_seconds"] = round(time.perf_counter() - started, 1)
            out[state] = interleaved(calls, args.repeats, args.case_seconds)
            out[f"plans_{state}"] = {
                name: explain(sql[-1]) if (sql := queries_of(functools.partial(calls[name], 0))) else ""
                for name in ("totals", "paid_by_unit")
            }
    finally:
        _indexes(False)
    out["with_vs_without_p50"] = {
        name: ratio(out["with"][name]["p50_ms"], out["without"][name]["p50_ms"]) for name in calls
    }
    return out


# ---- memory ----------------------------------------------------------------------------------


def task_memory(args: argparse.Namespace) -> dict[str, Any]:
    """One thing in this process, so that its peak RSS is that thing's."""
    _setup()
    from django.test import Client
    from worker import client_for

    staff = _user(STAFF)
    client = client_for(staff)
    anonymous = Client(HTTP_HOST="localhost")
    page, largest = _project(PAGE_CODE), _project(LARGEST_CODE)
    out: dict[str, Any] = {"mode": args.mode, "loadavg_at_start": loadavg()}
    started = time.perf_counter()
    if args.mode == "read":
        out["rows"] = len(_entries_plain(largest))
    elif args.mode in ("public_page", "public_largest", "ledger_page", "ledger_largest"):
        project = page if args.mode.endswith("_page") else largest
        public_url, ledger_url = _page_urls(project)
        public = args.mode.startswith("public")
        response = _get(anonymous if public else client, public_url if public else ledger_url)
        out["entries"] = project.entries_count
        out["kb"] = round(len(response.content) / 1024, 1)
    elif args.mode == "board":
        from gongzhi.orgs.models import Organisation

        branch = Organisation.objects.get(kind=Organisation.Kind.JOINT_BRANCH, name=BIG_BRANCH)
        out["kb"] = round(len(_get(client, f"/volunteers/board/{branch.pk}/").content) / 1024, 1)
    out["seconds"] = round(time.perf_counter() - started, 3)
    out["self_peak_rss_mb"] = own_peak_rss_mb()
    return out


TASKS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "generate": task_generate,
    "counts": task_counts,
    "check": task_check,
    "writes": task_writes,
    "reads": task_reads,
    "pages": task_pages,
    "volunteers": task_volunteers,
    "memory": task_memory,
    "indexes": task_indexes,
}


def worker_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="one task of bench/projects.py")
    parser.add_argument("task", choices=sorted(TASKS))
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--page-entries", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--case-seconds", type=float, default=60.0)
    parser.add_argument("--mode", choices=MEMORY_MODES, default="idle")
    args = parser.parse_args(argv)
    result = TASKS[args.task](args)
    args.result.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str))
    return 0


# =============================================================================================
# Driver side: no Django here
# =============================================================================================


@dataclass
class Params:
    scale: float
    page_entries: int
    dbs: list[str]
    repeats: int
    case_seconds: float
    page_repeats: int
    page_seconds: float
    phases: list[str]
    pg_url: str
    quick: bool
    big_pages: bool
    out: Path = field(repr=False)


def open_database(name: str, params: Params) -> Database:
    url = sqlite_url("projects", params.quick) if name == "sqlite" else params.pg_url
    return Database(name, url, params, prefix="projects", worker_script="projects.py")


def _measure_args(db: Database, pages: bool = False) -> tuple[str, ...]:
    p = db.params
    repeats, seconds = (p.page_repeats, p.page_seconds) if pages else (p.repeats, p.case_seconds)
    return ("--repeats", str(repeats), "--case-seconds", str(seconds))


def phase_data(db: Database) -> dict[str, Any]:
    p = db.params
    if db.name == "sqlite":
        path = Path(db.url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        db.tickets_worker("pg-reset", "--url", db.url)
    migrate = db.gongzhi("migrate", "--noinput", "-v", "0")
    seed = db.tickets_worker("seed", "--scale", "1")
    log(f"{db.name}: demo county seeded in {seed['seconds']:.0f}s; generating at scale {p.scale}")
    generated = db.worker("generate", "--scale", str(p.scale), "--page-entries", str(p.page_entries))
    log(f"{db.name}: generated in {generated['seconds']:.0f}s")
    analyze = db.tickets_worker("analyze")
    counts = db.worker("counts")
    log(
        f"{db.name}: {counts['projects.LedgerEntry']:,} ledger entries, "
        f"{counts['volunteer_rows']:,} hours + points entries, {counts['database_mb']} MB"
    )
    return {
        "migrate_s": round(migrate.seconds, 1),
        "seed_s": seed["seconds"],
        "generate": generated,
        "analyze_s": analyze["seconds"],
        "counts": counts,
    }


def phase_check(db: Database) -> dict[str, Any]:
    return db.worker("check")


def phase_writes(db: Database) -> dict[str, Any]:
    return db.worker("writes", *_measure_args(db))


def phase_reads(db: Database) -> dict[str, Any]:
    return db.worker("reads", *_measure_args(db))


def phase_pages(db: Database) -> dict[str, Any]:
    return db.worker("pages", *_measure_args(db, pages=True))


def phase_volunteers(db: Database) -> dict[str, Any]:
    return db.worker("volunteers", *_measure_args(db, pages=True))


def phase_memory(db: Database) -> dict[str, Any]:
    modes = [m for m in MEMORY_MODES if db.params.big_pages or not m.endswith("_largest")]
    runs = {mode: db.worker("memory", "--mode", mode) for mode in modes}
    floor = runs["idle"]["process"]["peak_rss_mb"]
    return {
        "runs": runs,
        "floor_rss_mb": floor,
        "above_floor_mb": {m: round(r["process"]["peak_rss_mb"] - floor, 1) for m, r in runs.items()},
    }


PHASE_FUNCTIONS: dict[str, Callable[[Database], dict[str, Any]]] = {
    "data": phase_data,
    "check": phase_check,
    "writes": phase_writes,
    "reads": phase_reads,
    "pages": phase_pages,
    "volunteers": phase_volunteers,
    "memory": phase_memory,
    "indexes": lambda db: db.worker("indexes", *_measure_args(db)),
}


def run_phase(db: Database, phase: str, results: dict[str, Any], key: str | None = None) -> bool:
    key = key or phase
    log(f"{db.name}: {key}")
    load = loadavg()
    started = time.perf_counter()
    ok = True
    try:
        results[key] = PHASE_FUNCTIONS[phase](db)
    except (BenchError, KeyError, json.JSONDecodeError) as exc:
        results[key] = {"error": str(exc)}
        log(f"{db.name}: {key} failed: {exc}")
        ok = False
    results[key]["phase_s"] = round(time.perf_counter() - started, 1)
    results[key]["loadavg_at_start"] = load
    results[key]["loadavg_at_end"] = loadavg()
    return ok


# ---- report ----------------------------------------------------------------------------------


def _ms(v: dict[str, Any]) -> str:
    return f"{v['p50_ms']:,.1f} / {v['p95_ms']:,.1f}"


def _x(v: dict[str, Any], key: str = "ratio_p50") -> str:
    return f"×{v[key]:,}" if v.get(key) is not None else ""


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


LABELS = {
    "baseline_insert": "baseline: plain one-row INSERT, own transaction",
    "record_income_largest": "`record_income` (household), largest project",
    "pay_expense_largest": "`pay_expense`, largest project",
    "record_income_small": "`record_income` (household), small project",
    "baseline_sum": "baseline: plain `SELECT SUM(amount)` of its entries",
    "totals": "`ledger.totals`",
    "paid_by_unit": "`ledger.paid_by_unit`",
    "committed": "`ledger.committed`",
    "totals_unordered": "the `totals` query without the join to the project (`.order_by()`)",
    "hours_entries": "`queries.hours_entries`, heavy volunteer",
    "baseline_read": "baseline: plain read of the entries (`values_list`)",
    "statement_public": "`statement.build(public=True)` alone",
    "known_names": "`statement.known_names` alone",
    "public_page": "public page `/c/<code>/projects/<pk>/`, anonymous",
    "ledger_page": "staff ledger page `/projects/<pk>/ledger/`",
    "baseline_count": "baseline: `COUNT(*)` of the person's points entries",
    "baseline_board_read": "plain read: the branch members' account totals (one join)",
    "board_rows": "`queries.board_rows`, largest branch",
    "board_page": "board page `/volunteers/board/<pk>/`",
    "my_volunteering_page": "my volunteering `/volunteers/me/`, heavy volunteer",
    "person_page_staff": "staff page of that person `/volunteers/people/<pk>/`",
    "redeem_heavy": "`adjust_points` redeem, heavy volunteer",
    "redeem_light": "`adjust_points` redeem, light volunteer",
}


def _case_rows(
    cases: dict[str, Any], extra: Callable[[str, dict[str, Any]], str] | None = None
) -> list[list[Any]]:
    rows = []
    for name, v in cases.items():
        row = [LABELS.get(name, name), _ms(v), _x(v) if not name.startswith("baseline") else "×1"]
        if extra is not None:
            row.append(extra(name, v))
        rows.append(row)
    return rows


def markdown(report: dict[str, Any]) -> str:
    """Tables for docs/performance.md from a result file (``--report``)."""
    parts = []
    for name, data in report["databases"].items():
        counts = data.get("data", {}).get("counts", {})
        gen = data.get("data", {}).get("generate", {})
        if counts:
            parts.append(
                f"**{name}** {data.get('engine', {}).get('version', '')} — "
                f"{counts['projects.Project']:,} projects, "
                f"{counts['projects.LedgerEntry']:,} ledger entries "
                f"(largest {counts['largest_projects'][0][1]:,}; "
                f"{counts['projects_over_20000']} over 20,000), "
                f"{counts['projects.Expense']:,} expenses, "
                f"{counts['projects.ExpenseApproval']:,} approvals; "
                f"{counts['orgs.Person']:,} people, {counts['volunteers.HoursEntry']:,} hours entries + "
                f"{counts['volunteers.PointsEntry']:,} points entries; "
                f"database {counts['database_mb']:,} MB; "
                f"generated in {gen.get('seconds', '?')} s\n"
            )
        check = data.get("check", {})
        if "failed" in check:
            timed = [v["seconds"] for v in check.values() if isinstance(v, dict) and "violations" in v]
            parts.append(
                f"Invariants ({name}): {len(timed)} checks, {len(check['failed'])} failed "
                f"(slowest {max(timed, default=0)} s)"
                + (
                    f"; after the measured writes: {len(data['check_after'].get('failed', ['?']))} failed"
                    if "check_after" in data
                    else ""
                )
                + "\n"
            )
        writes = data.get("writes", {})
        if "cases" in writes:
            q = writes["queries"]
            parts.append(
                f"Appending to the ledger ({name}; {q['record_income_largest']['count']} queries per income, "
                f"{q['pay_expense_largest']['count']} per payment):\n\n"
                + _table(["case", "p50 / p95 ms", "÷ baseline (p50)"], _case_rows(writes["cases"]))
                + "\n"
            )
        reads = data.get("reads", {})
        if "cases" in reads:
            parts.append(
                f"Totals of the largest project ({name}; {reads['entries']:,} entries, "
                f"{reads['households_paid']:,} households):\n\n"
                + _table(["case", "p50 / p95 ms", "÷ baseline (p50)"], _case_rows(reads["cases"]))
                + "\n"
            )
        pages = data.get("pages", {})
        if "cases" in pages:

            def page_extra(case: str, v: dict[str, Any], pages: dict[str, Any] = pages) -> str:
                info = pages["pages"].get(case)
                return f"{info['queries']} queries, {info['kb']:,} KB" if info else ""

            parts.append(
                f"Project pages ({name}; {pages['entries']:,} entries, {pages['expenses']:,} expenses, "
                f"{pages['known_names']:,} names to redact):\n\n"
                + _table(
                    ["case", "p50 / p95 ms", "÷ baseline (p50)", "page"],
                    _case_rows(pages["cases"], page_extra),
                )
                + "\n"
            )
        vol = data.get("volunteers", {})
        if "reads" in vol:

            def vol_extra(case: str, v: dict[str, Any]) -> str:
                return f"×{v['ratio_p50_vs_board_read']:,}" if v.get("ratio_p50_vs_board_read") else ""

            parts.append(
                f"Volunteer pages ({name}; branch of {vol['branch_members']:,} members; "
                f"the heavy volunteer has {vol['heavy_entries']['points']:,} points "
                f"and {vol['heavy_entries']['hours']:,} hours entries):\n\n"
                + _table(
                    ["case", "p50 / p95 ms", "÷ COUNT (p50)", "÷ plain board read (p50)"],
                    _case_rows(vol["reads"], vol_extra),
                )
                + "\n\n"
                + _table(["case", "p50 / p95 ms", "÷ baseline (p50)"], _case_rows(vol["writes"]))
                + "\n"
            )
        idx = data.get("indexes", {})
        if "with" in idx:
            rows = [
                [
                    LABELS.get(case, case),
                    _ms(idx["without"][case]),
                    _ms(v),
                    f"×{idx['with_vs_without_p50'][case]}",
                ]
                for case, v in idx["with"].items()
            ]
            made = "; ".join(f"`{table} ({columns})`" for _name, table, columns in idx["candidates"])
            parts.append(
                f"Index candidates ({name}; {made}; built in {idx['create_seconds']} s, dropped after):\n\n"
                + _table(["case", "without p50 / p95 ms", "with p50 / p95 ms", "with ÷ without (p50)"], rows)
                + "\n"
            )
        mem = data.get("memory", {})
        if "runs" in mem:
            rows = []
            for mode, run in mem["runs"].items():
                rows.append(
                    [
                        MEMORY_LABELS.get(mode, mode),
                        f"{run.get('entries', run.get('rows')):,}"
                        if "entries" in run or "rows" in run
                        else "",
                        run.get("seconds", ""),
                        run["process"]["peak_rss_mb"],
                        mem["above_floor_mb"][mode],
                    ]
                )
            parts.append(
                f"Peak RSS ({name}, one process each):\n\n"
                + _table(["process", "entries", "s", "peak RSS MB", "above floor MB"], rows)
                + "\n"
            )
    return "\n".join(parts)


MEMORY_LABELS = {
    "idle": "floor: Django set up, staff signed in",
    "read": "plain read of the largest project's entries",
    "public_page": "public page, page project",
    "ledger_page": "staff ledger page, page project",
    "public_largest": "public page, largest project",
    "ledger_largest": "staff ledger page, largest project",
    "board": "board page, largest branch",
}


def summary_lines(report: dict[str, Any]) -> list[str]:
    lines = []
    for name, data in report["databases"].items():
        lines.append(f"== {name}")
        for phase in ("writes", "reads", "pages"):
            for case, v in data.get(phase, {}).get("cases", {}).items():
                lines.append(f"  {phase:<6} {case:<24} {_ms(v)} ms  {_x(v)}")
        for group in ("reads", "writes"):
            for case, v in data.get("volunteers", {}).get(group, {}).items():
                lines.append(f"  vol    {case:<24} {_ms(v)} ms  {_x(v)}")
        for phase in (*PHASES, "check_after"):
            if isinstance(data.get(phase), dict) and "error" in data[phase]:
                lines.append(f"  {phase}: {data[phase]['error']}")
    return lines


def parse_args(argv: list[str]) -> Params:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="postgres")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="1.0: 1 M ledger entries, 1 M hours + points"
    )
    parser.add_argument(
        "--page-entries", type=int, default=5_000, help="entries of the project whose pages are measured"
    )
    parser.add_argument("--repeats", type=int, default=100, help="rounds of the quick cases (at most)")
    parser.add_argument(
        "--case-seconds", type=float, default=40.0, help="time budget of a phase's quick cases"
    )
    parser.add_argument("--page-repeats", type=int, default=20, help="rounds of the page cases (at most)")
    parser.add_argument(
        "--page-seconds", type=float, default=60.0, help="time budget of a phase's page cases"
    )
    parser.add_argument("--phases", default=",".join(PHASES), help="subset of " + ",".join(PHASES))
    parser.add_argument(
        "--no-big-pages", action="store_true", help="skip rendering the largest project's pages"
    )
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--quick", action="store_true", help="scale 0.02, 1,000-entry page project, both databases"
    )
    args = parser.parse_args(argv)
    given = set(argv)
    if args.quick:
        args.scale = 0.02 if "--scale" not in given else args.scale
        args.page_entries = 1_000 if "--page-entries" not in given else args.page_entries
        args.repeats, args.case_seconds, args.page_repeats, args.page_seconds = 20, 10.0, 5, 15.0
        if "--db" not in given:
            args.db = "both"
        if args.pg_url == DEFAULT_PG_URL:  # a smoke run leaves the full data set alone
            args.pg_url += "_quick"
    if args.out is None:
        args.out = BENCH / "results" / (f"projects-{args.db}" + ("-quick" if args.quick else "") + ".json")
    phases = [phase for phase in args.phases.split(",") if phase]
    if unknown := set(phases) - {*PHASES, "indexes"}:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    if not args.pg_url.rsplit("/", 1)[-1].startswith("gongzhi_bench_"):
        parser.error("the PostgreSQL database name must start with gongzhi_bench_ (it is dropped)")
    if not 0 < args.scale <= 10 or not math.isfinite(args.scale):
        parser.error("--scale must be in (0, 10]")
    return Params(
        scale=args.scale,
        page_entries=args.page_entries,
        dbs=["sqlite", "postgres"] if args.db == "both" else [args.db],
        repeats=args.repeats,
        case_seconds=args.case_seconds,
        page_repeats=args.page_repeats,
        page_seconds=args.page_seconds,
        phases=phases,
        pg_url=args.pg_url,
        quick=args.quick,
        big_pages=not args.no_big_pages,
        out=args.out,
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] and args[0] in TASKS:
        return worker_main(args)
    if args[:1] == ["--report"]:
        print(markdown(json.loads(Path(args[1]).read_text())))
        return 0
    from run import git_state, machine

    params = parse_args(args)
    TMP.mkdir(parents=True, exist_ok=True)
    (TMP / ".gitignore").write_text("*\n")  # scratch space: databases, logs
    report: dict[str, Any] = {
        "benchmark": "gongzhi-projects",
        "schema": 1,
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python", "bench/projects.py", *args]),
        "machine": machine(),
        "git": git_state(),
        "parameters": {k: v for k, v in asdict(params).items() if k != "out"},
        "databases": {},
    }

    def save() -> None:
        report["driver_peak_rss_mb"] = own_peak_rss_mb()
        params.out.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(report, ensure_ascii=False, indent=1, default=str).replace(str(ROOT) + "/", "")
        params.out.write_text(text + "\n")

    existing = json.loads(params.out.read_text()) if params.out.exists() else {}
    earlier = existing.get("databases", {}) if "data" not in params.phases else {}
    if earlier:  # the invocations that measured what is kept
        report["earlier_invocations"] = existing.get("earlier_invocations", []) + [
            {k: existing.get(k) for k in ("command", "started_at", "finished_at", "git")}
        ]
    failures = 0
    for name in params.dbs:
        db = open_database(name, params)
        db.log_path.write_text("")
        results: dict[str, Any] = {"url": db.url, "git": git_state()}
        for phase in (*PHASES, "indexes", "check_after"):  # what is not re-run is kept
            if phase in earlier.get(name, {}) and phase not in params.phases:
                results[phase] = {**earlier[name][phase], "from_earlier_invocation": True}
        report["databases"][name] = results
        for phase in params.phases:
            if phase != "data" and "engine" not in results:
                try:
                    results["engine"] = db.tickets_worker("dbinfo")
                except BenchError as exc:
                    results["engine"] = {"error": str(exc)}
            ok = run_phase(db, phase, results)
            save()
            if not ok and phase in ("data", "check"):
                failures += 1
                log(f"{name}: nothing measured: the {phase} phase failed")
                break
            if not ok:
                failures += 1
        else:
            if {"writes", "volunteers", "indexes"} & set(params.phases):
                if not run_phase(db, "check", results, key="check_after"):
                    failures += 1
                save()
    report["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    report["git_at_end"] = git_state()
    states = [report["git"], report["git_at_end"]] + [d.get("git", {}) for d in report["databases"].values()]
    report["code_changed_during_run"] = len({state.get("app_code") for state in states}) > 1
    save()
    print("\n".join(summary_lines(report)))
    print(f"results: {params.out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
