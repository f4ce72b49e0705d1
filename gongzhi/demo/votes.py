"""The demo's owners' votes, made through the same actions staff and owners use.

* 育才新村 adopted its rules of procedure last spring (matter 1): counted and published, with
  an answered objection.
* 育才新村 is now voting on using the maintenance fund to repair the roofs of buildings 2
  and 3 (matter 5): about half the owners have voted, online with their slip codes and on
  signed paper collected by the committee and door to door by volunteers; one unit has
  both, and one paper ballot was corrected.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw

from gongzhi.decisions import actions, codes
from gongzhi.decisions.models import Decision, DecisionStep, Elector
from gongzhi.housing.models import Compound

SEED = 278
VOLUNTEERS = ("志愿者 王海燕", "志愿者 陈国平", "网格员 李红")


def _signed_ballot(unit: str, choice: str) -> SimpleUploadedFile:
    """A small picture standing in for the photo of a signed paper ballot."""
    image = Image.new("RGB", (360, 240), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((8, 8, 351, 231), outline="black", width=2)
    draw.text((20, 20), f"Ballot {unit}", fill="black")
    draw.text(
        (20, 60), {"agree": "[x] agree", "disagree": "[x] disagree"}.get(choice, "[x] abstain"), fill="black"
    )
    draw.line((20, 190, 200, 170), fill="navy", width=3)  # the signature
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=70)
    return SimpleUploadedFile(f"{unit}.jpg", buffer.getvalue(), content_type="image/jpeg")


def _prepare(
    committee, compound: Compound, *, started: dt.datetime, window: dt.timedelta, **fields
) -> Decision:  # type: ignore[no-untyped-def]
    decision = actions.create_decision(committee, compound, **fields)
    actions.record_step(
        committee,
        decision,
        DecisionStep.Kind.BRANCH_PREDISCUSSION,
        "兼合式党支部召开会前讨论，党员业主带头表态",
        at=started - dt.timedelta(days=6),
    )
    actions.record_step(
        committee,
        decision,
        DecisionStep.Kind.COMMUNITY_OPINION,
        "社区党组织同意提交业主大会表决",
        at=started - dt.timedelta(days=4),
    )
    actions.record_step(
        committee,
        decision,
        DecisionStep.Kind.COMMITTEE_INFORMED,
        "书面告知居委会",
        at=started - dt.timedelta(days=3),
    )
    actions.post_notice(
        committee,
        decision,
        started + dt.timedelta(days=15),
        started + dt.timedelta(days=15) + window,
        now=started,
    )
    return actions.open_voting(committee, decision, now=started + dt.timedelta(days=15))


def _vote(
    decision: Decision, committee, rng: random.Random, *, share: float, agree: float, until: dt.datetime
) -> int:  # type: ignore[no-untyped-def]
    """Owners vote over the days since the window opened; returns the ballots cast."""
    assert decision.opens_at is not None
    electors = list(Elector.objects.filter(decision=decision).exclude(kind="parking").order_by("id"))
    seen: set[str] = set()
    cast = 0
    for elector in electors:
        if elector.owner_key in seen or rng.random() > share:
            continue
        seen.add(elector.owner_key)
        choice = "agree" if rng.random() < agree else rng.choice(["disagree", "disagree", "abstain"])
        span = max(60, int((until - decision.opens_at).total_seconds()) - 3600)
        at = decision.opens_at + dt.timedelta(seconds=rng.randrange(span))
        way = rng.random()
        if way < 0.55:
            code = codes.voting_code(decision.pk, elector.unit_id)
            actions.cast_online(code, choice, based_on=actions.latest_seq(elector), now=at)
        else:
            channel = "paper" if way < 0.85 else "door"
            actions.record_ballot(
                committee,
                decision,
                elector,
                choice=choice,
                channel=channel,
                cast_at=at,
                photo=_signed_ballot(elector.label, choice),
                collector="" if channel == "paper" else rng.choice(VOLUNTEERS),
                now=min(at + dt.timedelta(hours=2), timezone.now()),
            )
        cast += 1
    return cast


def seed_votes(log: Callable[[str], None] | None = None) -> dict[str, int]:
    rng = random.Random(SEED)
    committee = get_user_model().objects.get(username="committee")
    compound = Compound.objects.get(name="育才新村")
    now = timezone.now()

    rules = _prepare(
        committee,
        compound,
        matter=1,
        title="制定《育才新村业主大会议事规则》",
        text="经兼合式党支部会前讨论和业委会起草，提请业主大会表决《育才新村业主大会议事规则》全文（见附件）。",
        started=now - dt.timedelta(days=240),
        window=dt.timedelta(days=14),
    )
    assert rules.closes_at is not None
    closed = rules.closes_at
    counts = {"votes": 1, "ballots": _vote(rules, committee, rng, share=0.86, agree=0.82, until=closed)}
    actions.close_and_count(committee, rules, now=closed + dt.timedelta(hours=1))
    actions.publish_result(committee, rules)
    rules.refresh_from_db()
    some = Elector.objects.filter(decision=rules).order_by("id").first()
    assert some is not None
    objection = actions.file_objection(
        codes.voting_code(rules.pk, some.unit_id), rules, "我家是纸质投票，公示里的投票人数是否包含了纸质票？"
    )
    actions.answer_objection(committee, objection, "包含。纸质票和线上票一并计入，详见公示中的计算过程。")

    roofs = _prepare(
        committee,
        compound,
        matter=5,
        title="动用专项维修资金维修2、3幢屋面",
        text="2、3幢屋面防水层老化，雨季多户漏水。拟动用专项维修资金约18.6万元维修，费用按专有部分面积分摊，"
        "由2、3幢业主表决（列支范围）。",
        buildings=list(compound.buildings.filter(number__in=["2", "3"])),
        started=now - dt.timedelta(days=19),
        window=dt.timedelta(days=14),
    )
    counts["votes"] += 1
    counts["ballots"] += _vote(roofs, committee, rng, share=0.5, agree=0.75, until=now)
    # One owner voted online, then also signed a paper ballot the committee collected.
    both = (
        Elector.objects.filter(decision=roofs, current__entry__channel="online")
        .exclude(owner_key="dev")
        .order_by("id")
        .first()
    )
    if both is not None:
        actions.record_ballot(
            committee,
            roofs,
            both,
            choice="agree",
            channel="paper",
            cast_at=now - dt.timedelta(hours=3),
            photo=_signed_ballot(both.label, "agree"),
            now=now - dt.timedelta(hours=2),
        )
    paper = Elector.objects.filter(decision=roofs, current__entry__channel="paper").order_by("-id").first()
    if paper is not None:
        actions.correct_ballot(
            committee, roofs, paper, choice="abstain", reason="录入时选错，核对选票照片后更正为弃权"
        )
    if log:
        log(f"  votes: {counts['votes']} decisions, {counts['ballots']} ballots")
    return counts
