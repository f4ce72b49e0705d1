"""Requests of the demo written out by hand: the pole of the source article, and the work
waiting on the demo date (Sunday 1 November 2026, 08:30) for the demo logins.

Steps are ``((month, day, hour, minute), step, arguments)`` in 2026; "me_too" gets the phone
of a neighbour when the story is built. ``clock`` asks for the sweep runs of a time limit:
``(dispatched, hours, since, until)``, ``None`` for "from dispatch" and "until the demo date".
"""

from __future__ import annotations

from typing import Any

from gongzhi.demo import ticket_texts as X
from gongzhi.demo.ticket_plans import HOUR, YUCAI, Planner, Story

Moment = tuple[int, int, int, int]

# 育才新村, January 2026: a pole standing in the crossing by building 1 is moved within two
# weeks by the power company (lead), the town government and the transport bureau.
POLE: dict[str, Any] = {
    "compound": YUCAI,
    "building": "1",
    "category": "power",
    "channel": "phone_page",
    "desk": "grid",
    "text": "1幢旁边的电线杆就竖在交叉路口中间，车辆通过受阻，晚上看不清还容易撞上，希望能把电线杆移个位置",
    "answers": {"hazard": "yes"},
    "steps": [
        ((1, 12, 19, 40), "report", {}),
        ((1, 13, 8, 50), "accept", {"note": "电杆移位涉及多家单位，按联建机制协同办理"}),
        (
            (1, 13, 9, 5),
            "dispatch",
            {
                "lead": "MU03",
                "co": ["MU13", "MU11"],
                "instructions": "电杆移位需供电、镇政府、交通三家协同：供电公司牵头，镇政府和交通局协办",
            },
        ),
        ((1, 13, 10, 20), "task_accept", {"unit": "MU03", "round": 1}),
        ((1, 13, 11, 5), "task_accept", {"unit": "MU13", "round": 1}),
        ((1, 13, 12, 10), "me_too", {}),
        ((1, 13, 14, 30), "task_accept", {"unit": "MU11", "round": 1}),
        (
            (1, 13, 16, 0),
            "ext_request",
            {
                "unit": "MU03",
                "round": 1,
                "hours": 312,
                "reason": "电杆迁移需重新选址立杆、停电作业，并办理道路开挖手续，"
                "需与交通局、镇政府协同，申请延期至两周",
            },
        ),
        ((1, 13, 17, 10), "ext_decide", {"actor": "community", "note": "同意，请三家单位两周内办结"}),
        (
            (1, 14, 9, 0),
            "ext_request",
            {"unit": "MU13", "round": 1, "hours": 312, "reason": "需先征求沿线住户意见，配合确定新杆位置"},
        ),
        ((1, 14, 9, 30), "me_too", {}),
        ((1, 14, 9, 40), "ext_decide", {"actor": "community", "note": "同意"}),
        (
            (1, 14, 10, 0),
            "ext_request",
            {"unit": "MU11", "round": 1, "hours": 312, "reason": "需待新杆立好、旧杆拆除后恢复路面"},
        ),
        ((1, 14, 10, 30), "ext_decide", {"actor": "community", "note": "同意"}),
        (
            (1, 14, 15, 0),
            "refer",
            {"actor": "town", "reason": "涉及供电、交通、镇政府三家单位，提交红色物业党建联席会议协调"},
        ),
        ((1, 15, 20, 5), "me_too", {}),
        (
            (1, 16, 16, 30),
            "note",
            {
                "actor": "town",
                "note": "联席会议商定：供电公司负责新杆选址、立杆和线路迁移；镇政府负责征求沿线住户意见；"
                "交通局负责路口路面恢复和标线",
            },
        ),
        (
            (1, 21, 15, 20),
            "task_reply",
            {
                "unit": "MU13",
                "round": 1,
                "text": "已逐户征求沿线住户意见，新杆位置定在1幢东侧绿化带内，住户均无异议",
            },
        ),
        (
            (1, 22, 14, 0),
            "task_reply",
            {
                "unit": "MU03",
                "round": 1,
                "text": "新电杆已在1幢东侧绿化带内立好，线路已迁移，旧电杆已拆除；"
                "停电作业2小时，已提前通知住户",
            },
        ),
        (
            (1, 23, 16, 10),
            "task_reply",
            {"unit": "MU11", "round": 1, "text": "路口旧杆基坑已回填，路面已修复，并补划了减速标线"},
        ),
        ((1, 24, 9, 30), "verify", {"actor": "branch", "note": "现场核查：电杆已移至绿化带内，路口通行顺畅"}),
        ((1, 24, 10, 5), "close", {"note": "三家单位协同，十二天办结"}),
        (
            (1, 25, 10, 12),
            "rate",
            {
                "resolution": "resolved",
                "satisfaction": "satisfied",
                "via": "phone_page",
                "note": "路口宽敞了，车也好走了，过年回家的人都说好",
            },
        ),
        ((2, 1, 10, 15), "sweep", {}),
    ],
    # The extended clock of the power company: 24 hours and 13 days from dispatch.
    "clock": ((1, 13, 9, 5), 24 + 312, (1, 14, 10, 30), (1, 23, 16, 10)),
}


def _d(lead: str, co: list[str]) -> dict[str, Any]:
    return {"lead": lead, "co": co}


def _u(unit: str, **extra: Any) -> dict[str, Any]:
    return {"unit": unit, "round": 1, **extra}


OPEN: list[dict[str, Any]] = [
    # New this morning and last night: the demo grid worker's first work.
    {
        "compound": YUCAI,
        "building": "3",
        "category": "lighting",
        "channel": "qr_poster",
        "desk": "grid",
        "text": "3幢前的路灯坏了好几天了，晚上黑乎乎的，老人出门不方便",
        "answers": {"fixture": "street"},
        "steps": [((10, 31, 20, 15), "report", {})],
    },
    {
        "compound": "渔港新村",
        "building": "2",
        "category": "garbage",
        "channel": "phone_page",
        "desk": "grid",
        "text": "2幢旁的垃圾桶满了没人清，味道很大，招苍蝇",
        "answers": {"bins": "2"},
        "steps": [((11, 1, 7, 40), "report", {})],
    },
    # Accepted on Saturday afternoon, to be dispatched on Monday.
    {
        "compound": YUCAI,
        "building": "5",
        "category": "stairwell",
        "channel": "staff_call",
        "desk": "grid",
        "text": "5幢2单元楼道里的声控灯全都不亮",
        "answers": {},
        "steps": [((10, 31, 15, 20), "report", {}), ((10, 31, 15, 25), "accept", {})],
    },
    # Replied by both units, waiting for the check on site.
    {
        "compound": "渔港新村",
        "building": "4",
        "category": "drainage",
        "channel": "door_to_door",
        "desk": "grid",
        "text": "4幢门口的下水道堵了，一下雨就积水，水漫到楼道口",
        "answers": {},
        "steps": [
            ((10, 27, 9, 10), "report", {}),
            ((10, 27, 10, 0), "accept", {}),
            ((10, 27, 10, 10), "dispatch", _d("MU04", ["MU12"])),
            ((10, 27, 14, 0), "task_accept", _u("MU04")),
            ((10, 28, 9, 0), "task_accept", _u("MU12")),
            ((10, 30, 16, 0), "task_reply", _u("MU04", text="已疏通下水管道，清出淤泥3车")),
            ((10, 31, 10, 30), "task_reply", _u("MU12", text="已配合清理现场并恢复路面")),
        ],
    },
    # Checked on site, waiting to be closed.
    {
        "compound": YUCAI,
        "building": "2",
        "category": "parking",
        "channel": "qr_poster",
        "desk": "grid",
        "text": "有车停在2幢1单元门口，老人推轮椅出不去",
        "answers": {},
        "steps": [
            ((10, 26, 18, 30), "report", {}),
            ((10, 27, 8, 40), "accept", {}),
            ((10, 27, 8, 50), "dispatch", _d("MU08", ["MU02"])),
            ((10, 27, 9, 30), "task_accept", _u("MU08")),
            ((10, 27, 10, 0), "task_accept", _u("MU02")),
            ((10, 28, 15, 0), "task_reply", _u("MU02", text="已对违停车辆进行劝导和处罚")),
            ((10, 29, 11, 0), "task_reply", _u("MU08", text="已联系车主挪车，并对乱停车辆张贴告知单")),
            ((10, 31, 16, 0), "verify", {"actor": "branch", "note": "现场核查，单元门口已畅通"}),
        ],
    },
    # Closed, waiting for the follow-up call.
    {
        "compound": YUCAI,
        "building": "4",
        "category": "lighting",
        "channel": "paper",
        "desk": "grid",
        "text": "4幢1单元门口的灯坏了，晚上看不清台阶",
        "answers": {"fixture": "stair"},
        "steps": [
            ((10, 25, 9, 0), "report", {}),
            ((10, 25, 9, 20), "accept", {}),
            ((10, 25, 9, 30), "dispatch", _d("MU03", ["MU12"])),
            ((10, 25, 11, 0), "task_accept", _u("MU03")),
            ((10, 26, 9, 0), "task_accept", _u("MU12")),
            ((10, 28, 15, 0), "task_reply", _u("MU03", text="已更换灯具并加装灯罩")),
            ((10, 29, 10, 0), "task_reply", _u("MU12", text="已配合修剪遮挡的树枝")),
            ((10, 30, 15, 0), "verify", {"actor": "desk", "note": "已拍照核实"}),
            ((10, 31, 11, 0), "close", {}),
        ],
    },
    # The power company (demo login "liaison"): one to sign for this morning…
    {
        "compound": YUCAI,
        "building": "6",
        "category": "power",
        "channel": "qr_poster",
        "desk": "grid",
        "text": "6幢旁边的电线垂得很低，下雨天担心漏电",
        "answers": {"hazard": "yes"},
        "steps": [
            ((11, 1, 7, 55), "report", {}),
            ((11, 1, 8, 5), "accept", {}),
            ((11, 1, 8, 10), "dispatch", _d("MU03", [])),
        ],
    },
    # …one past the time to sign for it…
    {
        "compound": "南峰小区",
        "building": "2",
        "category": "lighting",
        "channel": "phone_page",
        "desk": None,
        "text": "2幢和3幢之间的路灯白天亮着，晚上反而不亮",
        "answers": {"fixture": "street"},
        "steps": [
            ((10, 29, 19, 0), "report", {}),
            ((10, 30, 8, 40), "accept", {}),
            ((10, 30, 8, 50), "dispatch", _d("MU03", ["MU12"])),
            ((10, 30, 14, 0), "task_accept", _u("MU12")),
            ((10, 31, 9, 0), "sweep", {}),
        ],
    },
    # …one signed for but not started, at 85 % of its time limit…
    {
        "compound": "人民路小区",
        "building": "1",
        "category": "lighting",
        "channel": "staff_call",
        "desk": None,
        "text": "小区主路上连着4盏路灯不亮，晚上回家要打手电筒",
        "answers": {"fixture": "street"},
        "steps": [
            ((10, 26, 8, 30), "report", {}),
            ((10, 26, 8, 45), "accept", {}),
            ((10, 26, 9, 0), "dispatch", _d("MU03", [])),
            ((10, 26, 14, 0), "task_accept", _u("MU03")),
        ],
        "clock": ((10, 26, 9, 0), 168, None, None),
    },
    # …and one overdue, chased by the town.
    {
        "compound": YUCAI,
        "building": "1",
        "category": "power",
        "channel": "qr_poster",
        "desk": "grid",
        "text": "1幢墙上的电表箱门锈坏了，电线露在外面",
        "answers": {"hazard": "yes"},
        "steps": [
            ((10, 30, 17, 20), "report", {}),
            ((10, 30, 17, 45), "accept", {}),
            ((10, 30, 17, 50), "dispatch", _d("MU03", [])),
            ((10, 30, 19, 0), "task_accept", _u("MU03")),
            ((10, 31, 9, 0), "task_start", _u("MU03", note="已订购新电表箱，等待到货")),
            ((10, 31, 20, 30), "supervise", {"actor": "town", "note": "已超时限，请加快办理并说明原因"}),
        ],
        "clock": ((10, 30, 17, 50), 24, None, None),
    },
    # An extension waiting for the desk's decision, close to its deadline.
    {
        "compound": "渔港新村",
        "building": "1",
        "category": "lighting",
        "channel": "qr_poster",
        "desk": "grid",
        "text": "小区主路上连着3盏路灯不亮，晚上回家要打手电筒",
        "answers": {"fixture": "street"},
        "steps": [
            ((10, 24, 18, 30), "report", {}),
            ((10, 25, 8, 40), "accept", {}),
            ((10, 25, 8, 50), "dispatch", _d("MU03", ["MU12"])),
            ((10, 25, 10, 0), "task_accept", _u("MU03")),
            ((10, 26, 9, 0), "task_accept", _u("MU12")),
            ((10, 27, 9, 30), "task_start", _u("MU03", note="需更换地下电缆")),
            ((10, 28, 11, 0), "task_reply", _u("MU12", text="已配合修剪遮挡路灯的树枝")),
            (
                (10, 30, 15, 0),
                "ext_request",
                _u("MU03", hours=120, reason="需更换地下电缆，需采购电缆并办理开挖手续"),
            ),
        ],
        "clock": ((10, 25, 8, 50), 168, None, None),
    },
    # The town government (demo login "liaison2"): a dispute to sign for, a door to mend.
    {
        "compound": YUCAI,
        "building": "3",
        "category": "disputes",
        "channel": "staff_call",
        "desk": "grid",
        "text": "楼上空调外机一直滴水，滴在我家窗台上，说了也不改",
        "answers": {},
        "steps": [
            ((10, 31, 10, 0), "report", {}),
            ((10, 31, 10, 2), "accept", {}),
            ((10, 31, 10, 10), "dispatch", _d("MU13", ["MU08"])),
            ((10, 31, 15, 0), "task_accept", _u("MU08")),
        ],
    },
    {
        "compound": "渔港新村",
        "building": "3",
        "category": "stairwell",
        "channel": "door_to_door",
        "desk": "grid",
        "text": "3幢1单元的单元门关不上，门禁也坏了",
        "answers": {},
        "steps": [
            ((10, 29, 9, 30), "report", {}),
            ((10, 29, 10, 0), "accept", {}),
            ((10, 29, 10, 10), "dispatch", _d("MU13", [])),
            ((10, 29, 15, 0), "task_accept", _u("MU13")),
            ((10, 30, 9, 0), "task_start", _u("MU13", note="已联系门禁厂家上门维修")),
        ],
        "clock": ((10, 29, 10, 10), 168, None, None),
    },
    # Elsewhere in the county, for the town and county desks.
    {
        "compound": "大峧小区",
        "building": "2",
        "category": "water",
        "channel": "phone_page",
        "desk": None,
        "text": "2幢今天一早就停水了，也没看到停水通知",
        "answers": {},
        "steps": [((11, 1, 7, 10), "report", {})],
    },
    {
        "compound": "东沙老街小区",
        "building": "3",
        "category": "building_repair",
        "channel": "door_to_door",
        "desk": None,
        "text": "3幢外墙墙皮大块脱落，担心砸到人",
        "answers": {},
        "steps": [
            ((10, 28, 15, 0), "report", {}),
            ((10, 29, 9, 0), "accept", {}),
            ((10, 29, 9, 20), "dispatch", _d("MU01", ["MU12"])),
            ((10, 29, 14, 0), "task_accept", _u("MU12")),
            ((10, 31, 9, 30), "sweep", {}),
        ],
    },
    {
        "compound": "万良小区",
        "building": "1",
        "category": "garbage",
        "channel": "staff_call",
        "desk": None,
        "text": "小区垃圾点的垃圾已经3天没清运了，周边堆满了",
        "answers": {"bins": "4"},
        "steps": [
            ((10, 30, 10, 0), "report", {}),
            ((10, 30, 10, 30), "accept", {}),
            ((10, 30, 10, 40), "dispatch", _d("MU02", [])),
            ((10, 30, 13, 0), "task_accept", _u("MU02")),
            ((10, 31, 8, 0), "task_start", _u("MU02", note="已安排环卫车，周一上午清运")),
        ],
    },
    {
        "compound": "秀山新村",
        "building": "2",
        "category": "stray_animals",
        "channel": "qr_poster",
        "desk": None,
        "text": "小区里的流浪狗越来越多，晚上追着人叫",
        "answers": {},
        "steps": [
            ((10, 26, 20, 0), "report", {}),
            ((10, 27, 8, 30), "accept", {}),
            ((10, 27, 8, 40), "dispatch", _d("MU02", [])),
            ((10, 27, 11, 0), "task_accept", _u("MU02")),
            ((10, 30, 16, 30), "task_reply", _u("MU02", text="已联系流浪动物救助站捕捉安置3只")),
        ],
    },
    {
        "compound": "山外新村",
        "building": "4",
        "category": "illegal_construction",
        "channel": "paper",
        "desk": None,
        "text": "有人在4幢楼顶搭建彩钢房",
        "answers": {},
        "steps": [
            ((10, 22, 9, 0), "report", {}),
            ((10, 22, 10, 0), "accept", {}),
            ((10, 22, 10, 15), "dispatch", _d("MU02", ["MU01"])),
            ((10, 22, 15, 0), "task_accept", _u("MU02")),
            ((10, 23, 9, 0), "task_accept", _u("MU01")),
            ((10, 24, 19, 30), "me_too", {}),
            ((10, 26, 20, 0), "me_too", {}),
        ],
        "clock": ((10, 22, 10, 15), 360, None, None),
    },
    {
        "compound": "龙头小区",
        "building": "1",
        "category": "water",
        "channel": "qr_poster",
        "desk": None,
        "text": "1幢门口的自来水管爆了，水一直往外冒",
        "answers": {},
        "steps": [
            ((10, 31, 10, 40), "report", {}),
            ((10, 31, 11, 0), "accept", {}),
            ((10, 31, 11, 10), "dispatch", _d("MU04", [])),
            ((10, 31, 12, 30), "task_accept", _u("MU04")),
            ((10, 31, 13, 0), "task_start", _u("MU04", note="已关闭总阀，抢修队在路上")),
        ],
        "clock": ((10, 31, 11, 10), 24, None, None),
    },
    # Parking for the whole compound: referred to the joint meeting and extended.
    {
        "compound": YUCAI,
        "building": "2",
        "category": "parking",
        "channel": "paper",
        "desk": "grid",
        "text": "希望小区里能划一些停车位，现在停车全靠抢",
        "answers": {},
        "steps": [
            ((10, 12, 9, 0), "report", {}),
            ((10, 12, 9, 30), "accept", {}),
            ((10, 13, 9, 0), "dispatch", _d("MU08", ["MU02"])),
            ((10, 13, 10, 0), "task_accept", _u("MU08")),
            ((10, 13, 11, 0), "task_accept", _u("MU02")),
            ((10, 14, 10, 0), "refer", {"actor": "community", "reason": X.REFER_REASONS[1]}),
            (
                (10, 15, 10, 0),
                "ext_request",
                _u("MU08", hours=336, reason="需在红色议事厅征求业主意见后规划车位"),
            ),
            ((10, 15, 14, 0), "ext_decide", {"note": "同意，联席会议后继续办理"}),
            (
                (10, 22, 19, 0),
                "note",
                {"actor": "community", "note": "红色议事厅议事：业主同意利用2幢北侧空地规划车位12个"},
            ),
            ((10, 28, 16, 0), "task_reply", _u("MU02", text="已配合对路边违停车辆进行劝导")),
        ],
        "clock": ((10, 13, 9, 0), 168 + 336, (10, 15, 14, 0), None),
    },
]


def _story(planner: Planner, spec: dict[str, Any], *, reporter_user: Any = None) -> Story:
    world = planner.world
    compound = world.by_name[spec["compound"]]
    building = next(b for b in world.buildings[compound.pk] if b.number == spec["building"])
    workers = world.grid_desks.get(building.grid_id or 0, [])
    desk = world.users[spec["desk"]] if spec["desk"] else (workers[0] if workers else world.users["county"])
    story = Story(
        category=spec["category"],
        compound=compound,
        building=building,
        channel=spec["channel"],
        text=spec["text"],
        answers=dict(spec["answers"]),
        reporter=world.demo_resident if reporter_user is not None else planner.pick_reporter(compound),
        reporter_user=reporter_user,
        desk=desk,
        scripted=True,
    )

    def moment(m: Moment) -> Any:
        return planner.at(2026, *m)

    for when, name, kwargs in spec["steps"]:
        if name == "report":
            planner.report(story, moment(when))
            continue
        if name == "me_too":
            kwargs = {"phone": planner.neighbour(story)}
        planner.step(story, moment(when), name, **kwargs)
    if "clock" in spec:
        start, hours, since, until = spec["clock"]
        began = moment(start)
        planner.clock_ticks(
            story,
            began,
            began + hours * HOUR,
            moment(since) if since else began,
            moment(until) if until else planner.now,
        )
    return story


def scripted_stories(planner: Planner) -> list[Story]:
    """The pole of 育才新村, reported by the demo resident, and the requests open on the
    demo date."""
    stories = [_story(planner, POLE, reporter_user=planner.world.users["resident"])]
    stories += [_story(planner, spec) for spec in OPEN]
    return stories
