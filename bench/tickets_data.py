"""Resident requests for the benchmark: N tickets with their tasks and events, fast and deterministic.

    DATABASE_URL=... GONGZHI_ENV=test python bench/tickets_data.py --tickets 1000000 [--writer copy|orm]

Needs a database seeded with ``gongzhi seed-demo --scale N`` (the places, grids, member units,
routing rules and time limits come from it) and writes into it:

* tickets placed on real units, buildings or compounds of the seeded county, routed as
  ``gongzhi.tickets.routing.route`` would route them (grid, community, joint branch, area
  path, suggested lead unit and co-units), spread over the year before ``NOW``;
* for every ticket, the moves the workflow tables allow (``gongzhi.tickets.workflow``), each
  with a realistic delay: accept or reject, dispatch to the lead unit and co-units (a task
  each), the units' accept / start / reply, the derived ticket moves, verify, close, the
  follow-up rating (a dissatisfied one reopens to the lead unit in a second round), archive;
  a few are merged, withdrawn or flagged overdue. A ticket's state is wherever its timeline
  stands at ``NOW``, so the newest tickets are the open ones;
* one ``TicketEvent`` per move, in time order within the ticket, with the data the actions
  write.

Rows are built as plain tuples and written in batches, each batch one transaction: with
PostgreSQL's ``COPY`` (``--writer copy``, the default; ``executemany`` on SQLite) or with
Django's ``bulk_create`` (``--writer orm``), which is several times slower at this size.
Ids are assigned here, so tasks and events reference their ticket without a round trip;
PostgreSQL's identity sequences are moved past them at the end. Not generated: the audit log,
the notification outbox, photos and "me too" supporters.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

SEED = 20261120
NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)  # 10:00 in the county
SPAN = dt.timedelta(days=365)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)

# How often each category is reported (relative weights).
CATEGORY_WEIGHTS = {
    "garbage": 14,
    "parking": 12,
    "lighting": 8,
    "disputes": 7,
    "building_repair": 7,
    "environment": 6,
    "water": 6,
    "drainage": 6,
    "stairwell": 6,
    "power": 5,
    "facilities": 5,
    "greening": 4,
    "roads": 4,
    "stray_animals": 3,
    "telecom": 3,
    "illegal_construction": 3,
    "utilities": 2,
    "gas": 2,
    "public_security": 2,
    "welfare": 2,
    "safety": 1,
    "fire": 1,
    "market": 1,
    "typhoon": 1,
}
CHANNEL_WEIGHTS = {
    "phone_page": 45,
    "qr_poster": 20,
    "staff_call": 14,
    "door_to_door": 10,
    "paper": 5,
    "api": 5,
    "open311": 1,
}
STAFF_CHANNELS = frozenset({"staff_call", "door_to_door", "paper"})
SPOTS = ("小区大门口", "车棚", "绿化带", "垃圾分类点", "健身器材旁", "主干道", "围墙边", "篮球场")
COMPLAINTS = {
    "garbage": "垃圾桶满了好几天没人清运，气味很大",
    "parking": "车辆乱停占用消防通道",
    "lighting": "路灯不亮，晚上出行不安全",
    "disputes": "楼上漏水到我家，协商不成",
    "building_repair": "外墙瓷砖脱落，担心砸到人",
    "environment": "卫生死角长期没人打扫",
    "water": "水压很低，高层用不上水",
    "drainage": "下水道堵塞，污水外溢",
    "stairwell": "楼道灯坏了，单元门关不上",
    "power": "电线垂落，存在安全隐患",
    "facilities": "公共设施损坏需要维修",
    "greening": "树枝挡住窗户，需要修剪",
    "roads": "路面坑洼，老人容易摔倒",
    "stray_animals": "流浪狗聚集，晚上吵闹",
    "telecom": "通信线缆杂乱垂挂",
    "illegal_construction": "有人在楼顶违章搭建",
    "utilities": "水电表箱门损坏",
    "gas": "闻到燃气味道，请来检查",
    "public_security": "夜里有陌生人翻动电动车",
    "welfare": "独居老人需要帮扶",
    "safety": "消防栓被杂物遮挡",
    "fire": "楼道堆放杂物，有火灾隐患",
    "market": "流动摊贩占道经营",
    "typhoon": "台风前围墙有倒塌危险",
}
# Answers for the categories whose questions are required (gongzhi/demo/county.py).
ANSWERS = {"lighting": ("fixture", ("street", "stair", "yard")), "power": ("hazard", ("yes", "no"))}
SYSTEM_LABEL = "系统"
RESIDENT_LABEL = "居民"


# ---- the county the tickets are placed in ---------------------------------------------------


@dataclass
class County:
    """What the generator needs from the seeded county, loaded once (plain tuples)."""

    units: list[tuple[int, int, int]]  # (unit id, building id, compound id)
    building_number: dict[int, str]
    building_grid: dict[int, int | None]
    compound_name: dict[int, str]
    compound_community: dict[int, int]
    compound_grid: dict[int, int | None]  # the compound's only grid, if it has exactly one
    area_path: dict[int, str]
    area_name: dict[int, str]
    branch_of_building: dict[int, int]
    branch_of_compound: dict[int, int]
    grid_worker: dict[int, int]  # grid id -> user id
    residents: dict[int, list[tuple[int, str, str]]]  # unit id -> (id, name, phone)
    categories: list[tuple[int, str, str]]  # (id, code, name), weighted below
    category_weights: list[int]
    limits: dict[str, tuple[int, int, int]]  # code -> (id, accept hours, resolve hours)
    category_limit: dict[int, str]
    rules: dict[tuple[int, str | None], tuple[int, tuple[int, ...]]]  # (category, area code)
    category_parent: dict[int, int | None]
    unit_name: dict[int, str]
    unit_liaison: dict[int, int]  # member unit id -> a liaison's user id


def load_county() -> County:
    from gongzhi.housing.models import Building, Compound, CompoundGrid, Resident, Unit
    from gongzhi.orgs.models import Area, Organisation, Role, RoleGrant, ServiceCategory
    from gongzhi.tickets.models import CategorySetting, RoutingRule, TimeLimit

    grids: dict[int, list[int]] = {}
    for compound_id, grid_id in CompoundGrid.objects.values_list("compound_id", "grid_id"):
        grids.setdefault(compound_id, []).append(grid_id)
    residents: dict[int, list[tuple[int, str, str]]] = {}
    for rid, unit_id, name, phone in Resident.objects.order_by("id").values_list(
        "id", "unit_id", "name", "phone"
    ):
        residents.setdefault(unit_id, []).append((rid, name, phone))
    branch_of_building: dict[int, int] = {}
    through_b = Organisation.covered_buildings.through.objects.order_by("organisation_id")
    for org_id, building_id in through_b.values_list("organisation_id", "building_id"):
        branch_of_building.setdefault(building_id, org_id)
    branch_of_compound: dict[int, int] = {}
    through_c = Organisation.covered_compounds.through.objects.order_by("organisation_id")
    for org_id, compound_id in through_c.values_list("organisation_id", "compound_id"):
        branch_of_compound.setdefault(compound_id, org_id)
    grid_worker: dict[int, int] = {}
    liaison: dict[int, int] = {}
    for area_id, org_id, user_id, role in (
        RoleGrant.objects.filter(revoked_at__isnull=True)
        .order_by("id")
        .values_list("area_id", "organisation_id", "user_id", "role")
    ):
        if role == Role.GRID_WORKER and area_id is not None:
            grid_worker.setdefault(area_id, user_id)
        if role == Role.UNIT_LIAISON and org_id is not None:
            liaison.setdefault(org_id, user_id)
    cats = list(ServiceCategory.objects.order_by("id").values_list("id", "code", "name", "parent_id"))
    limits = {
        code: (pk, accept, resolve)
        for pk, code, accept, resolve in TimeLimit.objects.values_list(
            "id", "code", "accept_hours", "resolve_hours"
        )
    }
    limit_code = dict(TimeLimit.objects.values_list("id", "code"))
    rules: dict[tuple[int, str | None], tuple[int, tuple[int, ...]]] = {}
    for rule in RoutingRule.objects.select_related("area").prefetch_related("co_units"):
        co = tuple(sorted(u.pk for u in rule.co_units.all() if u.pk != rule.lead_unit_id))
        rules[(rule.category_id, rule.area.code if rule.area else None)] = (rule.lead_unit_id, co)
    areas = list(Area.objects.values_list("id", "path", "name"))
    return County(
        units=list(Unit.objects.order_by("id").values_list("id", "building_id", "compound_id")),
        building_number=dict(Building.objects.values_list("id", "number")),
        building_grid=dict(Building.objects.values_list("id", "grid_id")),
        compound_name=dict(Compound.objects.values_list("id", "name")),
        compound_community=dict(Compound.objects.values_list("id", "community_id")),
        compound_grid={c: (g[0] if len(g) == 1 else None) for c, g in grids.items()},
        area_path={pk: path for pk, path, _name in areas},
        area_name={pk: name for pk, _path, name in areas},
        branch_of_building=branch_of_building,
        branch_of_compound=branch_of_compound,
        grid_worker=grid_worker,
        residents=residents,
        categories=[(pk, code, name) for pk, code, name, _parent in cats],
        category_weights=[CATEGORY_WEIGHTS.get(code, 1) for _pk, code, _name, _parent in cats],
        limits=limits,
        category_limit={
            cat: limit_code[limit]
            for cat, limit in CategorySetting.objects.values_list("category_id", "time_limit_id")
        },
        rules=rules,
        category_parent={pk: parent for pk, _code, _name, parent in cats},
        unit_name=dict(
            Organisation.objects.filter(kind=Organisation.Kind.MEMBER_UNIT).values_list("id", "name")
        ),
        unit_liaison=liaison,
    )


# ---- one ticket's life ----------------------------------------------------------------------


@dataclass
class Move:
    """One event of the timeline, before it is cut at ``NOW``."""

    at: dt.datetime
    action: str
    to_state: str = ""  # the ticket's new state ("" for task moves and flags)
    task: int | None = None  # index into the ticket's tasks
    task_state: str = ""
    actor: str = "desk"  # desk, unit, reporter or system
    note: str = ""
    public: bool = True
    data: dict[str, Any] = field(default_factory=dict)
    sets: dict[str, Any] = field(default_factory=dict)  # ticket fields the move sets


@dataclass
class PlannedTask:
    unit: int
    role: str
    round: int
    dispatched_at: dt.datetime
    accept_due_at: dt.datetime
    due_at: dt.datetime
    state: str = ""
    accepted_at: dt.datetime | None = None
    replied_at: dt.datetime | None = None
    reply: str = ""


def _hours(rng: random.Random, median: float, spread: float) -> dt.timedelta:
    """A log-normally distributed delay: most near the median, a long tail of slow ones."""
    return dt.timedelta(hours=median * math.exp(rng.gauss(0.0, spread)))


class Generator:
    """Builds the rows of tickets ``first_id`` … in batches; deterministic for a given seed."""

    def __init__(
        self,
        county: County,
        count: int,
        seed: int = SEED,
        first_ids: dict[str, int] | None = None,
        to_db_datetime: Callable[[dt.datetime], Any] = lambda v: v,
        to_db_json: Callable[[dict[str, Any]], Any] = lambda v: v,
    ) -> None:
        self.c = county
        self.to_db_datetime, self.to_db_json = to_db_datetime, to_db_json
        self.count = count
        self.rng = random.Random(f"{seed}:{count}")
        ids = first_ids or {}
        self.next_ticket = ids.get("ticket", 1)
        self.next_task = ids.get("task", 1)
        self.next_event = ids.get("event", 1)
        self.next_link = ids.get("co_unit", 1)
        self.first_ticket = self.next_ticket
        self.start = NOW - SPAN
        self.last_in_compound: dict[int, int] = {}
        self.rule_cache: dict[tuple[int, str], tuple[int, tuple[int, ...]] | None] = {}
        self.states: Counter[str] = Counter()
        self.task_states: Counter[str] = Counter()
        self.channel_keys = list(CHANNEL_WEIGHTS)
        self.channel_weights = list(CHANNEL_WEIGHTS.values())

    # -- routing, as gongzhi.tickets.routing.route does it
    def rule(self, category: int, path: str) -> tuple[int, tuple[int, ...]] | None:
        key = (category, path)
        if key not in self.rule_cache:
            codes = [code for code in path.strip("/").split("/") if code]
            node: int | None = category
            found = None
            while node is not None and found is None:
                for code in [*reversed(codes), None]:
                    if (node, code) in self.c.rules:
                        found = self.c.rules[(node, code)]
                        break
                node = self.c.category_parent.get(node)
            self.rule_cache[key] = found
        return self.rule_cache[key]

    def place(self) -> dict[str, Any]:
        rng, c = self.rng, self.c
        unit_id, building_id, compound_id = c.units[rng.randrange(len(c.units))]
        roll = rng.random()
        if roll >= 0.6:
            unit_id = None
        if roll >= 0.85:
            building_id = None
        grid = c.building_grid.get(building_id) if building_id else None
        if grid is None:
            grid = c.compound_grid.get(compound_id)
        community = c.compound_community[compound_id]
        branch = c.branch_of_building.get(building_id) if building_id else None
        branch = branch or c.branch_of_compound.get(compound_id)
        where = c.compound_name[compound_id]
        if building_id:
            where += f" {c.building_number[building_id]}幢"
        reasons = []
        if grid is not None:
            reasons.append(f"网格：{c.area_name[grid]}，因为{where}位于该网格。")
        else:
            reasons.append(f"社区：{c.area_name[community]}，{where}不属于单一网格。")
        if branch is not None:
            reasons.append("兼合式党支部负责该处。")
        return {
            "unit_id": unit_id,
            "building_id": building_id,
            "compound_id": compound_id,
            "community_id": community,
            "grid_id": grid,
            "joint_branch_id": branch,
            "area_path": c.area_path[grid if grid is not None else community],
            "where": where,
            "reasons": reasons,
            "address_text": "" if building_id else rng.choice(SPOTS),
        }

    # -- one batch
    def batch(self, size: int) -> dict[str, list[Any]]:
        """Rows of the next ``size`` tickets: dicts of field values, events as ready tuples."""
        out: dict[str, list[Any]] = {"ticket": [], "co_unit": [], "task": [], "event": []}
        for _ in range(size):
            self.one(out)
        return out

    def one(self, out: dict[str, list[Any]]) -> None:
        rng, c = self.rng, self.c
        ticket_id = self.next_ticket
        self.next_ticket += 1
        position = (ticket_id - self.first_ticket + rng.random()) / self.count
        created = self.start + SPAN * position
        place = self.place()
        cat_id, cat_code, cat_name = rng.choices(c.categories, weights=c.category_weights)[0]
        urgency = "emergency" if rng.random() < 0.03 else "normal"
        limit_code = "emergency" if urgency == "emergency" else c.category_limit.get(cat_id, "general")
        if limit_code not in c.limits:
            limit_code = "general"
        limit_id, accept_hours, resolve_hours = c.limits[limit_code]
        channel = rng.choices(self.channel_keys, weights=self.channel_weights)[0]
        staff = channel in STAFF_CHANNELS
        grid_worker = c.grid_worker.get(place["grid_id"]) if place["grid_id"] else None
        residents = c.residents.get(place["unit_id"], []) if place["unit_id"] else []
        if residents and rng.random() < 0.7:
            resident_id, name, phone = rng.choice(residents)
        else:
            resident_id, name, phone = None, "", f"1{rng.randrange(30, 90)}{rng.randrange(10**8):08d}"
        rule = self.rule(cat_id, place["area_path"])
        reasons = list(place["reasons"])
        if rule is not None:
            reasons.append(f"按类别“{cat_name}”派往{c.unit_name.get(rule[0], '')}。")
        attributes = {}
        if cat_code in ANSWERS:
            key, choices = ANSWERS[cat_code]
            attributes[key] = rng.choice(choices)
        ticket: dict[str, Any] = {
            "id": ticket_id,
            "token": f"b{ticket_id:09x}{rng.getrandbits(40):010x}",
            "category_id": cat_id,
            "urgency": urgency,
            "description": f"{place['where']}{place['address_text']}{COMPLAINTS.get(cat_code, cat_name)}。",
            "attributes": attributes,
            "channel": channel,
            "reporter_resident_id": resident_id,
            "reporter_name": name,
            "reporter_phone": phone,
            "anonymous": rng.random() < 0.1,
            "entered_by_id": grid_worker if staff else None,
            "consent_note": "居民电话中同意由网格员代为登记" if staff else "",
            "compound_id": place["compound_id"],
            "building_id": place["building_id"],
            "unit_id": place["unit_id"],
            "address_text": place["address_text"],
            "community_id": place["community_id"],
            "grid_id": place["grid_id"],
            "joint_branch_id": place["joint_branch_id"],
            "area_path": place["area_path"],
            "routing_note": "\n".join(reasons),
            "suggested_lead_id": rule[0] if rule else None,
            "time_limit_id": limit_id,
            "created_at": created,
        }
        if rule is not None:
            for co in rule[1]:
                out["co_unit"].append({"id": self.next_link, "ticket_id": ticket_id, "organisation_id": co})
                self.next_link += 1
        moves, tasks = self.timeline(ticket, rule, accept_hours, resolve_hours, staff)
        self.apply(ticket, moves, tasks, grid_worker, out)
        self.last_in_compound[place["compound_id"]] = ticket_id
        out["ticket"].append(ticket)

    def timeline(
        self,
        ticket: dict[str, Any],
        rule: tuple[int, tuple[int, ...]] | None,
        accept_hours: int,
        resolve_hours: int,
        staff: bool,
    ) -> tuple[list[Move], list[PlannedTask]]:
        """Every move this ticket would ever make, with its time (cut at ``NOW`` later)."""
        rng = self.rng
        t = ticket["created_at"]
        moves = [
            Move(
                t,
                "report",
                "reported",
                actor="desk" if staff else "reporter",
                data={"channel": ticket["channel"]},
            )
        ]
        tasks: list[PlannedTask] = []
        t += _hours(rng, 1.5, 0.8)
        roll = rng.random()
        if roll < 0.03:
            moves.append(Move(t, "reject", "rejected", note="不属于受理范围，已告知居民向有关部门反映。"))
            return moves, tasks
        parent = self.last_in_compound.get(ticket["compound_id"])
        if roll < 0.045 and parent is not None:
            note = f"与诉求 #{parent} 重复，已合并。"
            data = {"parent": parent}
            moves.append(Move(t, "merge", "merged", note=note, data=data, sets={"merged_into_id": parent}))
            return moves, tasks
        moves.append(Move(t, "accept", "accepted"))
        t += _hours(rng, 1.0, 0.8)
        if rule is None:
            lead, co = rng.choice(sorted(self.c.unit_name)), ()
        else:
            lead, co = rule[0], rule[1] if rng.random() < 0.7 else ()
        units = [lead, *co]
        round_no = 1
        plan_end = t
        for attempt in range(2):
            dispatched = t
            accept_due = dispatched + accept_hours * HOUR
            due = dispatched + resolve_hours * HOUR
            start_index = len(tasks)
            for i, unit in enumerate(units):
                tasks.append(
                    PlannedTask(unit, "lead" if i == 0 else "co", round_no, dispatched, accept_due, due)
                )
            if attempt == 0:
                data = {"lead": lead, "co": list(units[1:]), "round": 1}
                moves.append(Move(t, "dispatch", "dispatched", data=data))
            replies = []
            for index in range(start_index, len(tasks)):
                task = tasks[index]
                base = {"unit": task.unit, "role": task.role, "round": task.round}
                accepted = dispatched + accept_hours * HOUR * 0.3 * math.exp(rng.gauss(0, 0.8))
                started = accepted + _hours(rng, 2.0, 1.0)
                replied = max(
                    started + 0.1 * HOUR,
                    dispatched + resolve_hours * HOUR * 0.45 * math.exp(rng.gauss(0, 0.6)),
                )
                reply = "已到现场处理完毕。" if task.role == "lead" else "已配合牵头单位处理。"
                moves.append(
                    Move(
                        accepted,
                        "task_accept",
                        task=index,
                        task_state="accepted",
                        actor="unit",
                        data={**base, "in_time": accepted <= accept_due},
                    )
                )
                moves.append(
                    Move(started, "task_start", task=index, task_state="in_progress", actor="unit", data=base)
                )
                moves.append(
                    Move(
                        replied,
                        "task_reply",
                        task=index,
                        task_state="replied",
                        actor="unit",
                        note=reply,
                        data={**base, "on_time": replied <= due},
                    )
                )
                if task.role == "lead":
                    moves.append(Move(accepted, "unit_accept", "unit_accepted", actor="system"))
                    moves.append(Move(started, "start", "in_progress", actor="system"))
                replies.append(replied)
            t = max(replies)
            moves.append(Move(t, "replied", "replied", actor="system"))
            lead_reply = next(
                m.at
                for m in moves
                if m.action == "task_reply"
                and tasks[m.task].round == round_no
                and tasks[m.task].role == "lead"
            )
            if lead_reply > due:
                moves.append(Move(due + 0.2 * HOUR, "overdue", actor="system", public=False))
            t += _hours(rng, 12, 0.8)
            if attempt == 0:
                plan_end = t  # a resident may withdraw until the request is verified
            moves.append(Move(t, "verify", "verified", note="现场核查属实，已处理。"))
            t += _hours(rng, 3, 1.0)
            moves.append(Move(t, "close", "closed"))
            if rng.random() < 0.12:  # nobody answered the follow-up calls
                t += 15 * DAY
                moves.append(Move(t, "archive", "archived", actor="system", sets={"unreachable": True}))
                break
            t += _hours(rng, 30, 0.7)
            unhappy = attempt == 0 and rng.random() < 0.04
            resolution = (
                "not" if unhappy and rng.random() < 0.5 else ("partly" if rng.random() < 0.08 else "resolved")
            )
            satisfaction = "dissatisfied" if unhappy else rng.choices(("satisfied", "basic"), (80, 20))[0]
            via = (
                "phone_page"
                if ticket["channel"] in ("phone_page", "qr_poster") and rng.random() < 0.6
                else "staff_call"
            )
            rate = {"resolution": resolution, "satisfaction": satisfaction, "via": via, "lead": lead}
            sets = {"resolution": resolution, "satisfaction": satisfaction, "rated_via": via}
            rater = "reporter" if via == "phone_page" else "desk"
            moves.append(Move(t, "rate", "followed_up", actor=rater, data=rate, sets=sets))
            if not unhappy:
                t += 7 * DAY
                moves.append(Move(t, "archive", "archived", actor="system"))
                break
            round_no += 1
            units = [lead]
            note = "回访不满意，退回牵头单位重新办理。"
            data = {"lead": lead, "round": round_no, "reopen_count": 1}
            moves.append(
                Move(
                    t, "reopen", "dispatched", actor="system", note=note, data=data, sets={"reopen_count": 1}
                )
            )
        if rng.random() < 0.015:  # withdrawn by the resident somewhere before the verification
            at = ticket["created_at"] + (plan_end - ticket["created_at"]) * rng.random()
            moves = [m for m in moves if m.at < at]
            moves.append(Move(at, "withdraw", "withdrawn", actor="reporter", note="问题已自行解决。"))
        moves.sort(key=lambda m: m.at)
        return moves, tasks

    def apply(
        self,
        ticket: dict[str, Any],
        moves: list[Move],
        tasks: list[PlannedTask],
        grid_worker: int | None,
        out: dict[str, list[Any]],
    ) -> None:
        """Cut the timeline at ``NOW``; set the ticket's and tasks' state and times; emit rows."""
        state = ""
        version = 1
        stamps: dict[str, dt.datetime] = {}
        task_ids: dict[int, int] = {}
        withdrawn = False
        last = ticket["created_at"]
        for move in moves:
            if move.at > NOW:
                break
            if move.action == "withdraw":
                withdrawn = True
            before = state
            if move.task is not None:
                task = tasks[move.task]
                if move.task not in task_ids:
                    task_ids[move.task] = self.next_task
                    self.next_task += 1
                before = task.state or "dispatched"
                task.state = move.task_state
                if move.task_state == "accepted":
                    task.accepted_at = move.at
                if move.task_state == "replied":
                    task.replied_at, task.reply = move.at, move.note
            elif move.action in ("dispatch", "reopen"):
                for index, task in enumerate(tasks):
                    if task.dispatched_at <= move.at and index not in task_ids:
                        task_ids[index] = self.next_task
                        self.next_task += 1
                        task.state = "dispatched"
            if move.action != "report" and move.task is None:
                version += 1
            if move.to_state:
                state = move.to_state
            ticket.update(move.sets)
            stamp = {
                "accept": "accepted_at",
                "dispatch": "dispatched_at",
                "unit_accept": "unit_accepted_at",
                "replied": "replied_at",
                "verify": "verified_at",
                "close": "closed_at",
                "rate": "rated_at",
                "archive": "archived_at",
            }.get(move.action)
            if stamp:
                stamps[stamp] = move.at
            if move.action == "reopen":
                for name in ("closed_at", "verified_at", "replied_at", "unit_accepted_at"):
                    stamps.pop(name, None)
            last = move.at
            after = move.task_state if move.task is not None else state
            self.event(ticket, move, before, after, task_ids, tasks, grid_worker, out)
        if withdrawn:
            for index in task_ids:
                before = tasks[index].state
                if before in ("dispatched", "accepted", "in_progress", "replied"):
                    tasks[index].state = "cancelled"
                    cancel = Move(
                        last,
                        "task_cancel",
                        task=index,
                        task_state="cancelled",
                        actor="system",
                        public=False,
                        data={
                            "unit": tasks[index].unit,
                            "role": tasks[index].role,
                            "round": tasks[index].round,
                        },
                    )
                    self.event(ticket, cancel, before, "cancelled", task_ids, tasks, grid_worker, out)
        # The lead unit of the latest round, as ``dispatch`` and ``reopen`` leave it on the ticket.
        latest = max((tasks[i].round for i in task_ids), default=0)
        lead = next(
            (tasks[i] for i in task_ids if tasks[i].round == latest and tasks[i].role == "lead"), None
        )
        open_with_units = state in ("dispatched", "unit_accepted", "in_progress")
        overdue = any(m.action == "overdue" and m.at <= NOW for m in moves) or (
            open_with_units and lead is not None and lead.due_at < NOW
        )
        ticket.update(stamps)
        ticket.update(
            state=state,
            version=version,
            updated_at=last,
            lead_unit_id=lead.unit if lead else None,
            accept_due_at=lead.accept_due_at if lead else None,
            due_at=lead.due_at if lead else None,
            overdue=overdue,
            warned_pct=100 if overdue else 0,
        )
        self.states[state] += 1
        for index, task_id in sorted(task_ids.items(), key=lambda kv: kv[1]):
            task = tasks[index]
            self.task_states[task.state] += 1
            out["task"].append(
                {
                    "id": task_id,
                    "ticket_id": ticket["id"],
                    "unit_id": task.unit,
                    "role": task.role,
                    "round": task.round,
                    "state": task.state,
                    "dispatched_at": task.dispatched_at,
                    "accept_due_at": task.accept_due_at,
                    "due_at": task.due_at,
                    "accepted_at": task.accepted_at,
                    "replied_at": task.replied_at,
                    "reply": task.reply,
                    "area_path": ticket["area_path"],
                }
            )

    def event(
        self,
        ticket: dict[str, Any],
        move: Move,
        before: str,
        after: str,
        task_ids: dict[int, int],
        tasks: list[PlannedTask],
        grid_worker: int | None,
        out: dict[str, list[Any]],
    ) -> None:
        """One ``TicketEvent`` row, as a tuple in the table's column order (``EVENT_COLUMNS``)."""
        c = self.c
        actor: int | None = None
        if move.actor == "desk":
            actor, label = grid_worker, c.area_name.get(ticket["grid_id"] or ticket["community_id"], "")
        elif move.actor == "unit" and move.task is not None:
            unit = tasks[move.task].unit
            actor, label = c.unit_liaison.get(unit), c.unit_name.get(unit, "")
        elif move.actor == "reporter":
            label = RESIDENT_LABEL
        else:
            label = SYSTEM_LABEL
        out["event"].append(
            (
                self.next_event,
                ticket["id"],
                task_ids.get(move.task) if move.task is not None else None,
                move.action,
                before,
                after,
                actor,
                label[:120],
                self.to_db_datetime(move.at),
                move.note,
                move.public,
                self.to_db_json(move.data),
            )
        )
        self.next_event += 1


# ---- writing --------------------------------------------------------------------------------

# TicketEvent's columns in model order: the generator builds its rows as tuples in this order.
EVENT_COLUMNS = (
    "id",
    "ticket_id",
    "task_id",
    "action",
    "from_state",
    "to_state",
    "actor_id",
    "actor_label",
    "at",
    "note",
    "public",
    "data",
)
_JSON = json.JSONEncoder(ensure_ascii=False).encode


def _sqlite_datetime(value: dt.datetime) -> str:
    """How Django stores an aware datetime in SQLite: naive UTC in ISO format with a space.
    (Every datetime made here is already in UTC, so dropping the offset is enough.)"""
    return str(value)[:-6]


class Table:
    """One model's table: its columns in order and a row template with the model's defaults."""

    def __init__(self, model: Any, vendor: str, method: str) -> None:
        from django.db import models

        self.model = model
        self.name = model._meta.db_table
        self.fields = list(model._meta.concrete_fields)
        self.columns = [f.column for f in self.fields]
        self.attnames = [f.attname for f in self.fields]
        self.template: dict[str, Any] = {}
        convert: list[Callable[[Any], Any] | None] = []
        for f in self.fields:
            self.template[f.attname] = None if f.primary_key else f.get_default()
            if method == "orm":
                convert.append(None)
            elif isinstance(f, models.JSONField):
                convert.append(_JSON)
            elif isinstance(f, models.DateTimeField) and vendor == "sqlite":
                convert.append(_sqlite_datetime)
            else:
                convert.append(None)
        self.convert = convert

    def tuples(self, rows: Iterable[dict[str, Any]]) -> list[tuple[Any, ...]]:
        names, convert, template = self.attnames, self.convert, self.template
        out = []
        for row in rows:
            full = {**template, **row}
            out.append(
                tuple(
                    full[name] if fn is None or full[name] is None else fn(full[name])
                    for name, fn in zip(names, convert, strict=True)
                )
            )
        return out


class Writer:
    """Writes batches in one transaction each: COPY (PostgreSQL), executemany (SQLite) or the ORM."""

    def __init__(self, method: str) -> None:
        from django.db import connection

        from gongzhi.tickets.models import Task, Ticket, TicketEvent

        self.connection = connection
        self.vendor = connection.vendor
        self.method = method
        self.tables = {
            "ticket": Table(Ticket, self.vendor, method),
            "co_unit": Table(Ticket.suggested_co_units.through, self.vendor, method),
            "task": Table(Task, self.vendor, method),
            "event": Table(TicketEvent, self.vendor, method),
        }
        if tuple(self.tables["event"].attnames) != EVENT_COLUMNS:
            raise SystemExit(f"TicketEvent's columns changed: {self.tables['event'].attnames}")
        self.dropped: list[str] = []

    def converters(self) -> dict[str, Callable[[Any], Any]]:
        """How the generator should shape datetimes and JSON in the event tuples it builds."""
        if self.method == "orm":
            return {}
        if self.vendor == "sqlite":
            return {"to_db_datetime": _sqlite_datetime, "to_db_json": _JSON}
        return {"to_db_json": _JSON}

    def write(self, batch: dict[str, list[Any]]) -> None:
        from django.db import transaction

        with transaction.atomic():
            for key in ("ticket", "co_unit", "task", "event"):
                if batch[key]:
                    self._write(key, batch[key])

    def _write(self, key: str, rows: list[Any]) -> None:
        table = self.tables[key]
        if self.method == "orm":
            if key == "event":
                rows = [dict(zip(EVENT_COLUMNS, row, strict=True)) for row in rows]
            objects = [table.model(**{**table.template, **row}) for row in rows]
            table.model.objects.bulk_create(objects, batch_size=2000)
            return
        tuples = rows if key == "event" else table.tuples(rows)
        columns = ", ".join(self.connection.ops.quote_name(c) for c in table.columns)
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
                    for row in tuples:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in table.columns)
                sql = f"INSERT INTO {table.name} ({columns}) VALUES ({marks})"  # noqa: S608 - model tables
                self.connection.connection.executemany(sql, tuples)

    def first_ids(self) -> dict[str, int]:
        ids = {}
        with self.connection.cursor() as cursor:
            for key, table in self.tables.items():
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table.name}")  # noqa: S608 - model tables
                ids[key] = cursor.fetchone()[0] + 1
        return ids

    def drop_indexes(self) -> None:
        """Drop the secondary indexes of the four tables (not primary keys or unique
        constraints); ``restore_indexes`` builds them again in one sorted pass each, which is
        several times faster than keeping them up to date row by row during a bulk load."""
        names = [t.name for t in self.tables.values()]
        with self.connection.cursor() as cursor:
            if self.vendor == "sqlite":
                cursor.execute(
                    "SELECT name, sql, tbl_name FROM sqlite_master WHERE type = 'index' "
                    "AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%%'"
                )
                found = [(name, sql) for name, sql, table in cursor.fetchall() if table in names]
            else:
                cursor.execute(
                    "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(%s) "
                    "AND i.indexdef NOT LIKE 'CREATE UNIQUE%%' AND NOT EXISTS "
                    "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
                    [names],
                )
                found = cursor.fetchall()
            for name, sql in found:
                cursor.execute(f"DROP INDEX {self.connection.ops.quote_name(name)}")
                self.dropped.append(sql)

    def restore_indexes(self) -> float:
        started = time.perf_counter()
        with self.connection.cursor() as cursor:
            for sql in self.dropped:
                cursor.execute(sql)
        self.dropped = []
        return time.perf_counter() - started

    def finish(self) -> None:
        """Move PostgreSQL's id sequences past the ids written here."""
        if self.vendor != "postgresql":
            return
        with self.connection.cursor() as cursor:
            for table in self.tables.values():
                cursor.execute(f"SELECT COALESCE(MAX(id), 1) FROM {table.name}")  # noqa: S608 - model tables
                last = cursor.fetchone()[0]
                cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table.name, last])


def generate(
    count: int,
    *,
    batch_size: int = 5000,
    seed: int = SEED,
    method: str = "copy",
    keep_indexes: bool = False,
    log: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """Write ``count`` tickets with their tasks and events; counts, state mix and timings."""
    started = time.perf_counter()
    county = load_county()
    loaded = time.perf_counter() - started
    writer = Writer(method)
    generator = Generator(county, count, seed=seed, first_ids=writer.first_ids(), **writer.converters())
    if not keep_indexes and method != "orm":
        writer.drop_indexes()
    rows: Counter[str] = Counter()
    build_s = write_s = 0.0
    done = 0
    while done < count:
        size = min(batch_size, count - done)
        t0 = time.perf_counter()
        batch = generator.batch(size)
        t1 = time.perf_counter()
        writer.write(batch)
        write_s += time.perf_counter() - t1
        build_s += t1 - t0
        for key, items in batch.items():
            rows[key] += len(items)
        done += size
        if done % (batch_size * 20) == 0 or done == count:
            log(f"  {done:,} tickets, {rows['event']:,} events ({time.perf_counter() - started:.0f}s)")
    indexes = len(writer.dropped)
    index_s = writer.restore_indexes()
    writer.finish()
    seconds = time.perf_counter() - started
    total_rows = sum(rows.values())
    return {
        "tickets": rows["ticket"],
        "tasks": rows["task"],
        "events": rows["event"],
        "suggested_co_unit_links": rows["co_unit"],
        "rows": total_rows,
        "seconds": round(seconds, 3),
        "load_county_s": round(loaded, 3),
        "build_rows_s": round(build_s, 3),
        "write_rows_s": round(write_s, 3),
        "rebuild_indexes_s": round(index_s, 3),
        "indexes_rebuilt": indexes,
        "rows_per_s": round(total_rows / seconds, 1),
        "tickets_per_s": round(rows["ticket"] / seconds, 1),
        "writer": method if method == "orm" else ("copy" if writer.vendor == "postgresql" else "executemany"),
        "batch_size": batch_size,
        "seed": seed,
        "now": NOW.isoformat(),
        "states": dict(sorted(generator.states.items(), key=lambda kv: -kv[1])),
        "task_states": dict(sorted(generator.task_states.items(), key=lambda kv: -kv[1])),
        "places": {"units": len(county.units), "grids_with_worker": len(county.grid_worker)},
    }


def check_sample(limit: int = 2000) -> dict[str, Any]:
    """Read a sample back through the ORM and check it against the workflow tables."""
    from gongzhi.tickets import workflow as W
    from gongzhi.tickets.models import Task, Ticket, TicketEvent

    problems: list[str] = []
    tickets = list(Ticket.objects.order_by("-id")[:limit])
    ids = [t.pk for t in tickets]
    events: dict[int, list[TicketEvent]] = {}
    for event in TicketEvent.objects.filter(ticket_id__in=ids).order_by("ticket_id", "id"):
        events.setdefault(event.ticket_id, []).append(event)
    tasks: dict[int, list[Task]] = {}
    for task in Task.objects.filter(ticket_id__in=ids):
        tasks.setdefault(task.ticket_id, []).append(task)
    for ticket in tickets:
        state = ""
        for event in events.get(ticket.pk, []):
            if event.task_id is not None:
                continue
            move = W.TICKET_MOVES.get(event.action)
            if move is None:
                problems.append(f"#{ticket.pk}: unknown action {event.action}")
                continue
            if state and state not in move.sources and event.action != "report":
                problems.append(f"#{ticket.pk}: {event.action} from {state}")
            if move.target is not None:
                state = move.target
        if state != ticket.state:
            problems.append(f"#{ticket.pk}: events end in {state}, ticket is {ticket.state}")
        mine = tasks.get(ticket.pk, [])
        dispatched = any(e.action == "dispatch" for e in events.get(ticket.pk, []))
        if dispatched != bool(mine):
            problems.append(f"#{ticket.pk}: dispatched={dispatched} but {len(mine)} tasks")
        if ticket.state in W.WITH_UNITS and not any(t.is_active for t in mine):
            problems.append(f"#{ticket.pk}: {ticket.state} without an active task")
    return {"checked_tickets": len(tickets), "problems": len(problems), "first_problems": problems[:10]}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--writer", choices=("copy", "orm"), default="copy")
    parser.add_argument("--keep-indexes", action="store_true", help="load with the indexes in place")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongzhi.settings")
    os.environ.setdefault("GONGZHI_ENV", "test")
    import django

    django.setup()
    result = generate(
        args.tickets,
        batch_size=args.batch_size,
        seed=args.seed,
        method=args.writer,
        keep_indexes=args.keep_indexes,
        log=lambda m: print(m, file=sys.stderr, flush=True),
    )
    result["check"] = check_sample()
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
