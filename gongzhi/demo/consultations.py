"""The 高亭镇 old-compound renovation of the source article, as a consultation in three rounds.

"48 buildings in 高亭镇 … renovation plans coordinated for 1,058 households, their
willingness solicited, 300+ renovation opinions handled." The scope is chosen from what the
seeder built: 48 buildings of 高亭镇's unmanaged compounds whose residential units (the
households) sum to 1,058 — whole compounds where possible, at most one compound in part —
or as close as the county allows. Three rounds (plan draft, revised plan, final plan) take
responses through every channel; the first two are closed with results published, the
final one is open on the demo date with most households answered. Every round raises
opinions, assigned to member units or the owners' committees; almost all are answered.

Rows are written in bulk (a few thousand), in a fixed order from a fixed random seed.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count, OuterRef, Q, Subquery
from PIL import Image, ImageDraw

from gongzhi.consultations import codes
from gongzhi.consultations.defaults import ensure_categories
from gongzhi.consultations.models import (
    BulkReply,
    Channel,
    Consultation,
    Document,
    Household,
    Opinion,
    Question,
    Reply,
    ReplyTemplate,
    Response,
    ScopeItem,
    Willingness,
)
from gongzhi.consultations.uploads import clean_document
from gongzhi.housing.models import Building, Unit
from gongzhi.orgs.models import Organisation, Person, Role

SEED = 20250208
TOWN = "330921100"
TARGET_BUILDINGS = 48
TARGET_HOUSEHOLDS = 1058
TZ = dt.timezone(dt.timedelta(hours=8))


@dataclass(frozen=True)
class RoundPlan:
    title: str
    opens: dt.date
    closes: dt.date
    state: str
    respond: float  # share of households that answer
    shift: float  # added to each building's leaning
    opinions: int
    answered: float  # share of the round's opinions with a published reply


# title, opens, closes, state, share answering, shift of leaning, opinions, share answered
# fmt: off
_STORY = [
    RoundPlan("高亭镇老旧小区改造方案（初稿）征求意见", dt.date(2026, 3, 10), dt.date(2026, 4, 10),
              "published", 0.80, -0.14, 150, 1.0),
    RoundPlan("高亭镇老旧小区改造方案（修改稿）征求意见", dt.date(2026, 6, 1), dt.date(2026, 6, 30),
              "published", 0.87, -0.06, 100, 0.97),
    RoundPlan("高亭镇老旧小区改造方案（最终稿）征求意见", dt.date(2026, 10, 12), dt.date(2026, 11, 20),
              "open", 0.93, 0.03, 76, 0.55),
]
# fmt: on
# The story is written as seen on 2026-11-01. Seeded on another day, every date moves with it
# (to "yesterday"), so the final round is always open and its close still ahead.
_STORY_DAY = dt.date(2026, 11, 1)
_SHIFT = (dt.datetime.now(TZ).date() - dt.timedelta(days=1)) - _STORY_DAY
ROUNDS = [replace(r, opens=r.opens + _SHIFT, closes=r.closes + _SHIFT) for r in _STORY]
TODAY = _STORY_DAY + _SHIFT

PLAN = (
    "改造范围：高亭镇48幢无物业老旧住宅楼，共1058户。\n"
    "基础类：屋面防水翻修、雨污分流管网改造、楼道照明和单元门禁更新、外墙渗漏修补。\n"
    "完善类：小区道路修补与停车位划线、增设电动自行车集中充电点、绿化补植、垃圾分类投放点改造。\n"
    "费用：由县、镇财政和安澜城投集团承担，不向居民收取费用；涉及改变共有部分用途的事项另行依法表决。\n"
    "施工：分片分批进行，每片约3个月，施工时间为每日7:30至18:00，午间12:00至13:30不进行噪声作业。"
)
CHANGES = [
    "",
    "\n修改说明：根据第一轮意见，增加楼道扶手和适老化改造；停车位方案改为不占用现有绿地；雨污管网改造先行。",
    "\n修改说明：根据第二轮意见，施工分片调整为按楼幢逐幢推进，每幢开工前七天张贴告示；增设临时停车区。",
]
STATUTORY = (
    "增设电动自行车充电棚占用共有场地、改变部分绿地用途，"
    "须由相关小区业主依法共同决定（民法典第二百七十八条第八项）。"
)

# fmt: off
QUESTIONS = [
    ("multiple", "您最希望改造的项目（可多选）",
     ["屋面防水", "雨污管网", "外立面", "楼道照明", "停车位", "绿化"], False),
    ("single", "施工期间您家是否有老人或行动不便者需要照顾？", ["有", "没有"], False),
]

# category, weight, who answers ("committee": the compound's owners' committee), texts
OPINION_LINES = """
roof 18 县住建局 顶楼漏水多年，希望屋面防水这次彻底做好|屋顶隔热层已经破损，夏天顶楼很热|防水做完后请保修至少五年|屋面太阳能热水器支架怎么处理
pipes 16 县自来水公司 下水管经常堵，希望整幢楼的主管一起更换|雨水管和污水管混接，下雨就返味|自来水管老化生锈，水质发黄|化粪池满溢，希望一并清理
facade 10 岱山县安澜城投集团 外墙瓷砖脱落，担心砸到行人|外墙颜色希望和周边小区协调|空调外机支架锈蚀，能否统一更换|防盗窗拆除后请给出统一样式
parking 16 县综合行政执法局 停车位太少，晚上车停到消防通道|希望划线停车并禁止外来车辆长期占位|电动自行车乱停，需要集中停放点|停车位划线不要占用绿地
greening 7 高亭镇人民政府 楼前的树太密挡光，希望修剪|绿地被占用种菜，希望恢复|增加几张休息座椅|补种的树种希望选耐台风的
lighting 9 国网岱山县供电公司 楼道灯坏了很久，晚上老人上下楼不安全|路灯太暗，小区入口一片黑|电表箱线路老化，希望一起改造|希望楼道灯改成声控感应
disturbance 10 岱山县安澜城投集团 施工时间希望避开午休|建筑垃圾堆在楼下，灰尘很大|施工车辆进出请注意老人小孩|脚手架搭建期间怎样防盗
cost 8 县住建局 改造是否需要居民出钱，请说清楚|以后的维修费用谁来承担|一楼住户是否也要分摊屋面费用|改造后会不会收物业费
other 6 committee 希望改造期间成立居民监督小组|改造方案请贴在每个单元门口|施工队的联系电话请公布|希望安装单元门禁
"""  # noqa: E501
_ROWS = [line.split(" ", 3) for line in OPINION_LINES.split("\n") if line]
OPINIONS = {code: (who, texts.split("|")) for code, _weight, who, texts in _ROWS}
WEIGHTS = {code: int(weight) for code, weight, _who, _texts in _ROWS}
REPLIES = {
    "accepted": "意见已采纳：{what}将纳入改造方案，施工前在单元门口公示具体安排。",
    "explained": "感谢您的意见。关于{what}，经联席会议研究，按方案第{n}条执行，具体说明已在议事会上通报。",
    "rejected": "经研究暂不采纳：{what}超出本次改造范围，已转有关部门另行研究。",
}
TEMPLATES = [
    ("屋面防水统一做法", "accepted",
     "意见已采纳：屋面防水按统一标准翻修，质保五年，施工前逐幢公示。", "roof"),
    ("不收费说明", "explained", "本次改造费用由县、镇财政和安澜城投集团承担，不向居民收取费用。", "cost"),
    ("超出范围", "rejected", "该事项超出本次老旧小区改造范围，已转有关部门另行研究，感谢您的参与。", None),
]
CHANNELS = [
    (Channel.PHONE_PAGE, 45), (Channel.DOOR_TO_DOOR, 35), (Channel.PAPER, 12), (Channel.PHONE_CALL, 8),
]
# fmt: on


# --------------------------------------------------------------------------- choosing the scope


def choose_scope(
    compounds: list[tuple[int, list[tuple[int, int]]]], buildings: int, households: int
) -> tuple[list[tuple[int, int]], int]:
    """Pick ``buildings`` buildings whose households sum to ``households`` (or the nearest
    sum possible): whole compounds, at most one compound taken in part (its first k
    buildings). ``compounds`` is [(compound id, [(building id, households), …]), …] in a
    fixed order. Returns [(compound id, buildings taken), …] and the sum reached.

    A subset-sum over (buildings, partial used) with the reachable sums kept as bits of one
    integer, so the search costs a few thousand big-integer shifts.
    """
    limit = (1 << (households * 2 + 1)) - 1
    layers: list[dict[tuple[int, int], int]] = [{(0, 0): 1}]
    options: list[list[tuple[int, int, int]]] = []
    for _cid, rows in compounds:
        sizes = [h for _b, h in rows]
        opts = [(len(sizes), sum(sizes), 0)] + [(k, sum(sizes[:k]), 1) for k in range(1, len(sizes))]
        options.append(opts)
        layer = dict(layers[-1])
        for (n, f), mask in layers[-1].items():
            for dn, ds, df in opts:
                if (f and df) or n + dn > buildings:
                    continue
                key = (n + dn, f | df)
                layer[key] = layer.get(key, 0) | ((mask << ds) & limit)
        layers.append(layer)
    final = layers[-1]
    best: tuple[int, int, int] | None = None  # (distance, partial, sum)
    for f in (0, 1):
        mask = final.get((buildings, f), 0)
        for s in range(mask.bit_length()):
            if mask >> s & 1:
                candidate = (abs(s - households), f, s)
                if best is None or candidate < best:
                    best = candidate
    if best is None:
        raise ValueError("too few buildings to choose from")
    _distance, f, s = best
    n = buildings
    taken: list[tuple[int, int]] = []
    for i in range(len(compounds) - 1, -1, -1):
        before = layers[i]
        if before.get((n, f), 0) >> s & 1:
            continue  # this compound is left out
        for dn, ds, df in options[i]:
            prev_f = 0 if df else f
            if df and not f:
                continue
            if n - dn >= 0 and s - ds >= 0 and before.get((n - dn, prev_f), 0) >> (s - ds) & 1:
                taken.append((compounds[i][0], dn))
                n, s, f = n - dn, s - ds, prev_f
                break
        else:  # pragma: no cover - the layers guarantee one option fits
            raise AssertionError("backtracking lost the path")
    taken.reverse()
    return taken, best[2]


# --------------------------------------------------------------------------- the seed


def _image(title: str, colour: str) -> SimpleUploadedFile:
    image = Image.new("RGB", (640, 400), colour)
    draw = ImageDraw.Draw(image)
    for i in range(8):
        draw.rectangle([30 + i * 75, 140, 90 + i * 75, 360], outline="#333", width=3)
    draw.rectangle([20, 110, 620, 130], fill="#b71c1c")
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return SimpleUploadedFile(f"{title}.png", buf.getvalue(), content_type="image/png")


def _at(day: dt.date, rng: random.Random) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(rng.randint(8, 20), rng.randint(0, 59)), tzinfo=TZ)


class RenovationSeeder:
    def __init__(self, log: Callable[[str], None] | None = None) -> None:
        self.rng = random.Random(SEED)
        self.log = log or (lambda _m: None)
        self.counts: dict[str, int] = {}

    def add(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    def run(self) -> dict[str, int]:
        self.categories = ensure_categories()
        communities = [f"{TOWN}{i:03d}" for i in range(1, 20)]
        rows = list(
            Building.objects.filter(compound__unmanaged=True, compound__community__code__in=communities)
            .annotate(h=Count("units", filter=Q(units__kind=Unit.Kind.RESIDENTIAL)))
            .values_list("compound_id", "id", "h")
            .order_by("compound__code", "id")
        )
        if not rows:
            return {}
        by_compound: dict[int, list[tuple[int, int]]] = {}
        for compound_id, building_id, h in rows:
            by_compound.setdefault(compound_id, []).append((building_id, h))
        taken, total = choose_scope(list(by_compound.items()), TARGET_BUILDINGS, TARGET_HOUSEHOLDS)
        self.scope = [
            (cid, [b for b, _h in by_compound[cid][:k]], k == len(by_compound[cid])) for cid, k in taken
        ]
        self.add("consultation_buildings", sum(len(b) for _c, b, _w in self.scope))
        self.add("consultation_households", total)
        self.town_user = get_user_model().objects.filter(username="town").first()
        self.units = {u.name: u for u in Organisation.objects.filter(kind=Organisation.Kind.MEMBER_UNIT)}
        compound_ids = [cid for cid, _b, _w in self.scope]
        self.committees = {
            o.compound_id: o
            for o in Organisation.objects.filter(
                kind__in=Organisation.COMMITTEE_KINDS, compound_id__in=compound_ids
            )
        }
        self.collectors = list(
            Person.objects.filter(user__role_grants__role=Role.GRID_WORKER, home_area__code__startswith=TOWN)
            .values_list("name", flat=True)
            .order_by("id")
        ) or ["网格员"]
        self.paper_photo = self._paper_photo()
        self.templates = [
            ReplyTemplate.objects.create(
                name=name,
                outcome=outcome,
                text=text,
                category=self.categories.get(code) if code else None,
                created_by=self.town_user,
                created_at=dt.datetime(2026, 3, 1, 9, tzinfo=TZ),
            )
            for name, outcome, text, code in TEMPLATES
        ]
        self.leaning = {}
        buildings = [b for _c, bs, _w in self.scope for b in bs]
        low = set(self.rng.sample(buildings, 4))
        for b in buildings:
            self.leaning[b] = self.rng.uniform(0.38, 0.58) if b in low else self.rng.uniform(0.72, 0.97)
        first: Consultation | None = None
        for number, plan in enumerate(ROUNDS, start=1):
            consultation = self._round(number, plan, first)
            first = first or consultation
        return self.counts

    def _paper_photo(self) -> str:
        """One photo of a signed paper form, stored once and shared by the paper responses."""
        image = Image.new("RGB", (480, 640), "white")
        draw = ImageDraw.Draw(image)
        for y in range(60, 600, 40):
            draw.line([40, y, 440, y], fill="#999", width=2)
        draw.rectangle([300, 520, 440, 580], outline="#b71c1c", width=4)
        buf = io.BytesIO()
        image.save(buf, "JPEG")
        return default_storage.save("consultations/paper/demo/signed-form.jpg", io.BytesIO(buf.getvalue()))

    def _round(self, number: int, plan: RoundPlan, first: Consultation | None) -> Consultation:
        rng = self.rng
        opened = dt.datetime.combine(plan.opens, dt.time(9), tzinfo=TZ)
        closed = dt.datetime.combine(plan.closes, dt.time(18), tzinfo=TZ)
        consultation = Consultation.objects.create(
            title=plan.title,
            body=PLAN + "".join(CHANGES[:number]),
            state=plan.state,
            series=first,
            round_number=number,
            opens_on=plan.opens,
            closes_on=plan.closes,
            opened_at=opened,
            closed_at=closed if plan.state != "open" else None,
            results_published_at=closed + dt.timedelta(days=3) if plan.state == "published" else None,
            statutory_note=STATUTORY,
            area_path=f"/330921/{TOWN}/",
            created_by=self.town_user,
            created_at=opened - dt.timedelta(days=7),
        )
        self.add("consultation_rounds")
        ScopeItem.objects.bulk_create(
            [
                ScopeItem(consultation=consultation, compound_id=cid, building_id=None if whole else b)
                for cid, bs, whole in self.scope
                for b in ([None] if whole else bs)
            ]
        )
        questions = [
            Question.objects.create(
                consultation=consultation,
                kind=kind,
                label=label,
                options=[{"key": chr(ord("a") + i), "label": o} for i, o in enumerate(options)],
                required=required,
                order=i,
            )
            for i, (kind, label, options, required) in enumerate(QUESTIONS, start=1)
        ]
        clean = clean_document(
            _image(f"第{number}轮改造效果示意图", ["#dfe9f3", "#e8f1e4", "#f3eadf"][number - 1])
        )
        Document.objects.create(
            consultation=consultation,
            title=f"改造效果示意图（第{number}轮）",
            kind=clean.kind,
            file=clean.content,
            content_type=clean.content_type,
            extension=clean.extension,
            size=clean.size,
            sha256=clean.sha256,
            uploaded_by=self.town_user,
            created_at=opened - dt.timedelta(days=2),
        )
        households, latest = self._households(
            consultation, plan, questions, opened, min(closed, _at(TODAY, rng))
        )
        self._opinions(consultation, plan, households, latest, opened, closed)
        return consultation

    def _households(
        self,
        consultation: Consultation,
        plan: RoundPlan,
        questions: list[Question],
        opened: dt.datetime,
        until: dt.datetime,
    ) -> tuple[list[Household], dict[int, Response]]:
        """The frozen households and their responses. Each household's current answer is
        known before anything is written, so both go in with plain inserts and one UPDATE
        links each household to its latest response."""
        buildings = [b for _c, bs, _w in self.scope for b in bs]
        units = Unit.objects.filter(kind=Unit.Kind.RESIDENTIAL, building_id__in=buildings).order_by("id")
        households: list[Household] = []
        planned: list[list[Response]] = []
        for unit_id, building_id, compound_id in units.values_list("id", "building_id", "compound_id"):
            salt = f"{self.rng.getrandbits(128):032x}"
            household = Household(
                consultation=consultation,
                unit_id=unit_id,
                building_id=building_id,
                compound_id=compound_id,
                code_salt=salt,
                code_digest=codes.digest_of(codes.code_for(salt)),
            )
            versions = self._responses(consultation, plan, household, questions, opened, until)
            if versions:
                last = versions[-1]
                household.willingness, household.responded_at = last.willingness, last.created_at
                household.response_count = last.version
            households.append(household)
            planned.append(versions)
        Household.objects.bulk_create(households, batch_size=1000)
        responses = []
        for household, versions in zip(households, planned, strict=True):
            for response in versions:
                response.household = household
                responses.append(response)
        Response.objects.bulk_create(responses, batch_size=1000)
        newest = Response.objects.filter(household=OuterRef("pk")).order_by("-version").values("pk")[:1]
        Household.objects.filter(consultation=consultation).update(latest_response=Subquery(newest))
        consultation.households_count = len(households)
        consultation.save(update_fields=["households_count"])
        self.add("consultation_household_rows", len(households))
        self.add("consultation_responses", len(responses))
        latest = {r.household_id: r for r in responses}  # in version order: the last one stays
        return households, latest

    def _channel_fields(self, channel: str, at: dt.datetime) -> dict[str, Any]:
        if channel == Channel.DOOR_TO_DOOR:
            return {"collector_name": self.rng.choice(self.collectors), "collected_at": at}
        if channel == Channel.PAPER:
            return {"collected_at": at, "photo": self.paper_photo, "photo_content_type": "image/jpeg"}
        if channel == Channel.PHONE_CALL:
            return {"staff_name": self.rng.choice(self.collectors), "collected_at": at}
        return {}

    def _responses(
        self,
        consultation: Consultation,
        plan: RoundPlan,
        household: Household,
        questions: list[Question],
        opened: dt.datetime,
        until: dt.datetime,
    ) -> list[Response]:
        """The responses of one household in one round (none, one, or a first "undecided"
        and a later answer after a visit)."""
        rng = self.rng
        if rng.random() >= plan.respond:
            return []
        span = max(1, int((until - opened).total_seconds() // 60))
        channels, weights = zip(*CHANNELS, strict=True)
        p_willing = min(0.99, max(0.05, self.leaning[household.building_id] + plan.shift))
        versions = 2 if rng.random() < 0.08 else 1
        at = opened + dt.timedelta(minutes=rng.randrange(span))
        out: list[Response] = []
        for version in range(1, versions + 1):
            roll = rng.random()
            if version < versions:
                willingness = Willingness.UNDECIDED
            elif roll < p_willing:
                willingness = Willingness.WILLING
            elif roll < p_willing + (1 - p_willing) * 0.6:
                willingness = Willingness.UNWILLING
            else:
                willingness = Willingness.UNDECIDED
            channel = rng.choices(channels, weights)[0] if version == 1 else Channel.DOOR_TO_DOOR
            answers = {
                str(questions[0].pk): sorted(rng.sample("abcdef", rng.randint(1, 3))),
                str(questions[1].pk): rng.choice("abbb"),
            }
            out.append(
                Response(
                    consultation=consultation,
                    version=version,
                    willingness=willingness,
                    answers=answers,
                    channel=channel,
                    recorded_by=self.town_user if channel != Channel.PHONE_PAGE else None,
                    created_at=at,
                    **self._channel_fields(channel, at),
                )
            )
            at = min(until, at + dt.timedelta(days=rng.randint(2, 9)))
        return out

    def _opinions(
        self,
        consultation: Consultation,
        plan: RoundPlan,
        households: list[Household],
        latest: dict[int, Response],
        opened: dt.datetime,
        closed: dt.datetime,
    ) -> None:
        rng = self.rng
        responded = [h for h in households if h.pk in latest]
        codes_, weights = zip(*WEIGHTS.items(), strict=True)
        last = min(closed, dt.datetime.combine(TODAY, dt.time(9), tzinfo=TZ))
        span = max(1, int((last - opened).total_seconds() // 60))
        area_of = dict(
            Household.objects.filter(consultation=consultation)
            .values_list("compound_id", "compound__area_path")
            .distinct()
        )
        opinions: list[Opinion] = []
        for _i in range(plan.opinions):
            code = rng.choices(codes_, weights)[0]
            target, texts = OPINIONS[code]
            at = opened + dt.timedelta(minutes=rng.randrange(span))
            from_meeting = rng.random() < 0.1
            h = None if from_meeting else rng.choice(responded)
            response = latest[h.pk] if h is not None else None
            compound_id = h.compound_id if h is not None else rng.choice(sorted(area_of))
            if target == "committee":
                assignee = self.committees.get(compound_id) or self.units.get("高亭镇人民政府")
            else:
                assignee = self.units.get(target)
            opinions.append(
                Opinion(
                    consultation=consultation,
                    household=h,
                    response=response,
                    compound_id=compound_id,
                    building_id=h.building_id if h is not None else None,
                    category=self.categories[code],
                    text=rng.choice(texts),
                    source=response.channel if response is not None else Opinion.Source.MEETING,
                    state=Opinion.State.ASSIGNED if assignee else Opinion.State.NEW,
                    assignee=assignee,
                    assigned_at=at + dt.timedelta(days=1) if assignee else None,
                    area_path=area_of[compound_id],
                    created_by=self.town_user if from_meeting else None,
                    created_at=at,
                )
            )
        replies = self._replies(consultation, plan, opinions)
        Opinion.objects.bulk_create(opinions, batch_size=500)
        Reply.objects.bulk_create(replies, batch_size=500)  # their opinions have ids now
        self.add("consultation_opinions", len(opinions))

    def _replies(self, consultation: Consultation, plan: RoundPlan, opinions: list[Opinion]) -> list[Reply]:
        """Decide which opinions are answered (the oldest first) and write their replies
        (unsaved); the rest wait, a third of them with a draft, a third not yet assigned."""
        rng = self.rng
        today = dt.datetime.combine(TODAY, dt.time(9), tzinfo=TZ)
        answered_n = round(len(opinions) * plan.answered)
        order = sorted(opinions, key=lambda o: o.created_at)
        to_answer, rest = order[:answered_n], order[answered_n:]
        # The roof opinions of the first round were answered together with a template.
        batch = None
        roofs = [o for o in to_answer if o.category.code == "roof"] if consultation.round_number == 1 else []
        if roofs:
            roof_template = self.templates[0]
            batch = BulkReply.objects.create(
                key=f"demo-bulk-{consultation.pk}",
                consultation=consultation,
                template=roof_template,
                outcome=roof_template.outcome,
                text=roof_template.text,
                count=len(roofs),
                created_by=self.town_user,
                created_at=consultation.closed_at or today,
            )
        replies: list[Reply] = []
        for o in to_answer:
            published = min(today, o.created_at + dt.timedelta(days=rng.randint(3, 14)))
            template: ReplyTemplate | None = None
            this_batch: BulkReply | None = None
            if batch is not None and o.category.code == "roof":
                outcome, text, template, this_batch = batch.outcome, batch.text, batch.template, batch
                published = batch.created_at
            else:
                outcome = rng.choices(["accepted", "explained", "rejected"], [45, 40, 15])[0]
                what = o.text[:14].rstrip("，,")
                text = REPLIES[outcome].format(what=f"“{what}”", n=rng.randint(2, 9))
            o.state, o.outcome, o.answered_at = Opinion.State.ANSWERED, outcome, published
            replies.append(
                Reply(
                    opinion=o,
                    state=Reply.State.PUBLISHED,
                    outcome=outcome,
                    text=text,
                    by_label=o.assignee.name if o.assignee else "高亭镇",
                    template=template,
                    batch=this_batch,
                    author=self.town_user,
                    drafted_at=published - dt.timedelta(days=1),
                    published_by=self.town_user,
                    published_at=published,
                )
            )
        for i, o in enumerate(rest):
            if i % 3 == 0:  # a draft waiting for the organisers' approval
                o.state = Opinion.State.DRAFTED
                replies.append(
                    Reply(
                        opinion=o,
                        state=Reply.State.DRAFT,
                        outcome="explained",
                        text=REPLIES["explained"].format(what=f"“{o.text[:14]}”", n=3),
                        by_label=o.assignee.name if o.assignee else "高亭镇",
                        author=self.town_user,
                        drafted_at=today - dt.timedelta(days=1),
                    )
                )
            elif i % 3 == 1:  # not assigned yet
                o.state, o.assignee, o.assigned_at = Opinion.State.NEW, None, None
        self.add("consultation_opinions_answered", len(to_answer))
        self.add("consultation_opinions_pending", len(rest))
        return replies


def seed_consultations(log: Callable[[str], None] | None = None) -> dict[str, int]:
    """Seed the renovation consultation into the demo county; returns what was created."""
    counts = RenovationSeeder(log=log).run()
    if counts:
        (log or (lambda _m: None))(
            f"  renovation: {counts['consultation_buildings']} buildings, "
            f"{counts['consultation_households']} households, {counts['consultation_opinions']} opinions"
        )
    return counts
