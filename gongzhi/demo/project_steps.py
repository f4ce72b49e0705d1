"""The machinery of the demo's community projects and volunteers (``gongzhi.demo.projects``):
a queue of steps played in time order, each through the actions at its own moment
(``now=``); the people the steps need; plain pictures standing in for site photos and
receipts; and the steps every project takes — create, move, milestones and progress, income,
the owners' levy and their payments, a reversal, expenses with their approvals.
"""

from __future__ import annotations

import datetime as dt
import functools
import heapq
import io
import random
from collections.abc import Callable, Sequence
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw

from gongzhi.demo import project_texts as X
from gongzhi.demo.meeting_plans import DAY, MINUTE, Planner
from gongzhi.demo.project_texts import ExpenseText
from gongzhi.housing.models import Compound, Ownership, Resident, Unit
from gongzhi.orgs.actions import grant_role
from gongzhi.orgs.models import Organisation, Person, Role
from gongzhi.projects import actions as PA
from gongzhi.projects import ledger as L
from gongzhi.tickets.models import Ticket
from gongzhi.tickets.photos import CleanPhoto, clean_photo

SEED = 20250206 + 283
YUCAI, NANFENG, YUGANG = "育才新村", "南峰小区", "渔港新村"
Step = Callable[[dt.datetime], None]


# ---- pictures ---------------------------------------------------------------------------------
def _jpeg(image: Image.Image, name: str) -> CleanPhoto:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=72)
    return clean_photo(SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg"))


def scene(seed: int, caption: str, *, after: bool) -> CleanPhoto:
    """A plain picture of a compound standing in for a site photo: dim and cluttered before
    the work, bright and tidy after it."""
    rng = random.Random(seed)
    width, height = 640, 480
    image = Image.new("RGB", (width, height), (178, 208, 232) if after else (84, 92, 108))
    draw = ImageDraw.Draw(image)
    horizon = rng.randint(250, 300)
    draw.rectangle((0, horizon, width, height), fill=(160, 160, 152) if after else (104, 98, 90))
    x = rng.randint(-40, 10)
    while x < width:
        w, h = rng.randint(90, 150), rng.randint(140, 220)
        draw.rectangle(
            (x, horizon - h, x + w, horizon),
            fill=(220, 206, 184) if after else (138, 126, 110),
            outline=(70, 70, 70),
        )
        for wy in range(horizon - h + 14, horizon - 24, 30):
            for wx in range(x + 10, x + w - 16, 28):
                lit = rng.random() < (0.5 if after else 0.15)
                draw.rectangle((wx, wy, wx + 14, wy + 16), fill=(250, 234, 160) if lit else (88, 98, 112))
        x += w + rng.randint(14, 40)
    for lx in range(60, width, 140):
        draw.line((lx, horizon + 40, lx, horizon - 110), fill=(56, 56, 56), width=4)
        lamp = (255, 228, 110) if after else (118, 118, 118)
        draw.ellipse((lx - 10, horizon - 122, lx + 10, horizon - 102), fill=lamp)
    if after:
        for px in range(30, width, 90):
            draw.line((px, height - 70, px + 40, height - 10), fill=(245, 245, 245), width=3)
    else:
        for _ in range(7):
            cx, cy = rng.randint(0, width - 60), rng.randint(horizon + 20, height - 50)
            draw.rectangle((cx, cy, cx + rng.randint(20, 60), cy + rng.randint(15, 40)), fill=(120, 84, 52))
    draw.rectangle((0, 0, width, 24), fill=(255, 255, 255))
    draw.text((8, 6), caption, fill=(0, 0, 0))
    return _jpeg(image, f"site-{seed}.jpg")


def receipt(seed: int, lines: Sequence[str]) -> CleanPhoto:
    """A plain picture standing in for the photo of a receipt or invoice."""
    image = Image.new("RGB", (480, 640), (252, 250, 244))
    draw = ImageDraw.Draw(image)
    draw.rectangle((16, 16, 463, 623), outline=(60, 60, 60), width=2)
    draw.text((36, 36), "RECEIPT", fill=(0, 0, 0))
    for i, line in enumerate(lines):
        draw.text((36, 80 + 28 * i), line, fill=(20, 20, 20))
        draw.line((36, 96 + 28 * i, 440, 96 + 28 * i), fill=(200, 200, 200))
    draw.ellipse((320, 480, 430, 590), outline=(200, 30, 30), width=4)  # the seal
    draw.text((346, 528), "PAID", fill=(200, 30, 30))
    return _jpeg(image, f"receipt-{seed}.jpg")


class DemoSteps(Planner):
    """The time-ordered queue of steps, the people and pictures, and the steps every
    project takes."""

    def __init__(self, log: Callable[[str], None] | None = None) -> None:
        super().__init__(random.Random(SEED))
        self.log = log or (lambda _m: None)
        self.queue: list[tuple[dt.datetime, int, Step]] = []
        self.seq = 0
        self.pictures = 0
        self.s: dict[str, Any] = {}  # what earlier steps made, for the later ones

    # ---- time ----------------------------------------------------------------------------------
    def ago(self, days: int, hour: int, minute: int = 0) -> dt.datetime:
        """``hour``:``minute`` on the day ``days`` days before the seeding day."""
        return self.at(self.today() - dt.timedelta(days=days), hour, minute)

    def saturday(self, days_ago: int) -> dt.date:
        """The Saturday on or before the day ``days_ago`` days back."""
        day = self.today() - dt.timedelta(days=days_ago)
        return day - dt.timedelta(days=(day.weekday() - 5) % 7)

    def later(self, when: dt.datetime, step: Step) -> None:
        """Queue ``step`` to be played at ``when``; what is not due yet is left out."""
        if when < self.now:
            self.seq += 1
            heapq.heappush(self.queue, (when, self.seq, step))

    def play(self) -> None:
        """Play every step in time order (a step may queue later ones)."""
        while self.queue:
            when, _seq, step = heapq.heappop(self.queue)
            step(when)

    # ---- people --------------------------------------------------------------------------------
    def load_more(self) -> bool:
        more = {
            u.username: u for u in get_user_model().objects.filter(username__in=["volunteer", "resident"])
        }
        self.users |= more
        return len(more) == 2 and all(n in self.compounds for n in (YUCAI, NANFENG, YUGANG))

    def person(self, username: str) -> Person:
        return Person.objects.select_related("user").get(user=self.users[username])

    def people_of(self, *orgs: Organisation) -> list[Person]:
        out: dict[int, Person] = {}
        for org in orgs:
            for m in self.members.get(org.pk, []):
                out.setdefault(m.person.pk, m.person)
        return list(out.values())

    def bodies(self, name: str) -> list[Organisation]:
        """The joint branches and the committee of a compound of 南峰社区 (none if managed)."""
        compound = self.compounds[name]
        committee = self.committees.get(compound.pk)
        return [*self.branches.get(compound.pk, []), *([committee] if committee is not None else [])]

    def ensure_people(self) -> None:
        """Person records for the ``volunteer`` and ``resident`` logins, and accounts for
        南峰小区's branch secretary and one committee member, who approve its expenses."""
        for username in ("volunteer", "resident"):
            user = self.users[username]
            if Person.objects.filter(user=user).exists():
                continue
            name = Resident.objects.filter(user=user).values_list("name", flat=True).first()
            person = Person.objects.create(name=name or X.VOLUNTEER_NAME, user=user, home_area=self.community)
            Resident.objects.filter(user=user, person__isnull=True).update(person=person)
            self.add("demo_people_added")
        nanfeng = self.compounds[NANFENG]
        branch, committee = self.branches[nanfeng.pk][0], self.committees[nanfeng.pk]
        secretary = self.members[branch.pk][0].person
        other = next(m.person for m in self.members[committee.pk] if m.person.pk != secretary.pk)
        self.account(f"jb{nanfeng.code.lower()}", secretary, Role.BRANCH_SECRETARY, nanfeng)
        self.account(f"oc{nanfeng.code.lower()}", other, Role.COMMITTEE_MEMBER, nanfeng)
        self.nanfeng_approvers = [secretary, other]

    def account(self, username: str, person: Person, role: str, compound: Compound) -> None:
        if person.user_id is not None:
            return
        user = get_user_model()(username=username, is_active=True)
        user.set_unusable_password()
        user.save()
        person.user = user
        person.save(update_fields=["user"])
        grant_role(self.users["community"], user, role, compound=compound, reason=X.ACCOUNT_REASON)
        self.add("project_accounts")

    # ---- pictures ------------------------------------------------------------------------------
    def photo(self, caption: str, *, after: bool) -> CleanPhoto:
        self.pictures += 1
        self.add("project_photos")
        return scene(SEED + self.pictures, caption, after=after)

    def invoice(self, amount: Any, day: dt.date) -> CleanPhoto:
        self.pictures += 1
        self.add("project_receipts")
        lines = [
            f"No. 3309{SEED % 10000:04d}{self.pictures:04d}",
            f"Amount CNY {amount}",
            f"Date {day.isoformat()}",
        ]
        return receipt(SEED + self.pictures, lines)

    # ---- steps shared by the projects ----------------------------------------------------------
    def tickets(self, compound: Compound, codes: Sequence[str], before: dt.datetime, n: int) -> list[Ticket]:
        found = Ticket.objects.filter(
            compound=compound, category__code__in=codes, created_at__lt=before - 3 * DAY
        ).order_by("-created_at", "-id")
        return list(found[:n])

    def create(self, key: str, t: dt.datetime, **fields: Any) -> None:
        self.s[key] = PA.create_project(self.users["community"], now=t, **fields)
        self.add("projects")

    def move(self, key: str, to: str, t: dt.datetime, note: str = "") -> None:
        self.s[key] = PA.move(self.users["community"], self.s[key], to, note=note, now=t)

    def milestones(self, key: str, rows: Sequence[tuple[str, int]], t: dt.datetime) -> None:
        self.s[f"{key}.ms"] = [
            PA.add_milestone(
                self.users["community"], self.s[key], title=title, weight=weight, now=t + i * MINUTE
            )
            for i, (title, weight) in enumerate(rows)
        ]
        self.add("milestones", len(rows))

    def progress(
        self,
        key: str,
        index: int,
        percent: int,
        note: str,
        actor: Any,
        shots: Sequence[tuple[str, dt.date]],
        t: dt.datetime,
    ) -> None:
        milestone = self.s[f"{key}.ms"][index]
        code = self.s[key].code
        photos = [
            (stage, day, self.photo(f"{code} M{index + 1} {stage} {day.isoformat()}", after=stage == "after"))
            for stage, day in shots
        ]
        PA.report_progress(actor, milestone, progress=percent, note=note, photos=photos, now=t)

    def income(self, key: str, source: str, amount: str, purpose: str, t: dt.datetime, **extra: Any) -> None:
        project = self.s[key]
        L.record_income(
            self.users["community"],
            project,
            source=source,
            amount=amount,
            purpose=purpose,
            method="transfer",
            occurred_on=timezone.localdate(t),
            receipts=[self.invoice(amount, timezone.localdate(t))],
            now=t,
            **extra,
        )
        self.add("ledger_incomes")

    def levy(
        self,
        key: str,
        total: str,
        note: str,
        t: dt.datetime,
        *,
        days: tuple[int, int],
        full: float,
        partial: float,
        desk: Any,
        mistype: bool = False,
    ) -> None:
        """Set the owners' shares, then queue the households' payments over ``days`` (days
        ago, from, to): most early, a share ``full`` paying in full, ``partial`` in part."""
        project = self.s[key]
        levy = L.set_levy(self.users["community"], project, total=total, note=note, now=t)
        compound = project.compounds.get()
        names: dict[int, str] = {}
        for unit_id, name in (
            Ownership.objects.filter(unit__compound=compound)
            .order_by("id")
            .values_list("unit_id", "owner__name")
        ):
            names.setdefault(unit_id, name)
        rng, first, last = self.rng, days[0], days[1]
        shares = levy.shares.select_related("unit__building", "unit__entrance").order_by("id")
        mistyped = False
        for share in shares:
            roll = rng.random()
            if roll >= full + partial:
                continue
            amount = share.amount
            if roll >= full:
                amount = (
                    (share.amount / 2).quantize(Decimal("1"), rounding=ROUND_DOWN).quantize(Decimal("0.01"))
                )
            day = first - round((first - last) * rng.random() ** 1.8)
            when = self.ago(day, rng.randint(8, 19), rng.randint(0, 59))
            cash = rng.random() < 0.45
            pay = functools.partial(
                self.pay,
                key,
                share.unit,
                amount,
                "cash" if cash else "transfer",
                names.get(share.unit_id, ""),
                rng.random() < 0.6,
                desk if cash else self.users["community"],
            )
            if mistype and not mistyped and roll < full and day < first - 5:
                mistyped = True
                name = names.get(share.unit_id, "")
                wrong = functools.partial(self.pay, key, share.unit, amount * 10, "cash", name, False, desk)
                self.later(when, functools.partial(wrong, store="mistyped"))
                self.later(when + 40 * MINUTE, functools.partial(self.reverse, key, amount))
                self.later(when + 45 * MINUTE, pay)
                continue
            self.later(when, pay)

    def pay(
        self,
        key: str,
        unit: Unit,
        amount: Decimal,
        method: str,
        name: str,
        consents: bool,
        desk: Any,
        t: dt.datetime,
        store: str = "",
    ) -> None:
        entry = L.record_income(
            desk,
            self.s[key],
            source="household",
            amount=amount,
            unit=unit,
            method=method,
            payer_name=name,
            payer_consents=consents,
            occurred_on=timezone.localdate(t),
            now=t,
        )
        if store:
            self.s[f"{key}.{store}"] = entry
        self.add("household_contributions")

    def reverse(self, key: str, amount: Decimal, t: dt.datetime) -> None:
        reason = X.MISTYPED_REASON.format(amount=amount)
        L.reverse_entry(self.users["community"], self.s[f"{key}.mistyped"], reason=reason, now=t)
        self.add("ledger_reversals")

    def expense(
        self,
        key: str,
        text: ExpenseText,
        submitter: Any,
        submitted: dt.datetime,
        approvals: Sequence[tuple[Any, dt.datetime]],
        paid: dt.datetime | None,
    ) -> None:
        """Queue one expense: submitted, approved by each of ``approvals`` in turn, paid
        with the receipt (unless ``paid`` is None)."""
        name = f"{key}.expense.{text.purpose}"

        def submit(t: dt.datetime) -> None:
            self.s[name] = L.submit_expense(
                submitter,
                self.s[key],
                purpose=text.purpose,
                expense_type=text.expense_type,
                vendor=text.vendor,
                amount=text.amount,
                now=t,
            )
            self.add("expenses")

        def approve(user: Any, t: dt.datetime) -> None:
            note = self.rng.choice(X.APPROVAL_NOTES)
            self.s[name] = L.decide_expense(user, self.s[name], approve=True, note=note, now=t)

        def pay(t: dt.datetime) -> None:
            proof = [self.invoice(text.amount, timezone.localdate(t))]
            L.pay_expense(
                self.users["community"],
                self.s[name],
                occurred_on=timezone.localdate(t),
                receipts=proof,
                now=t,
            )

        self.later(submitted, submit)
        for user, when in approvals:
            self.later(when, functools.partial(approve, user))
        if paid is not None:
            self.later(paid, pay)
