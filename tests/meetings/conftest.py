from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from gongzhi.housing.models import Compound
from gongzhi.meetings import actions, resolutions
from gongzhi.meetings.models import ActionItem, Meeting
from gongzhi.orgs.models import Organisation, Person, ServiceCategory
from gongzhi.tickets import actions as ticket_actions


@pytest.fixture
def users(demo_county, db) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    User = get_user_model()
    return {
        u.username: u
        for u in User.objects.filter(
            username__in=[
                "admin",
                "county",
                "town",
                "community",
                "grid",
                "branch",
                "committee",
                "liaison",
                "liaison2",
                "volunteer",
                "resident",
            ]
        )
    }


@pytest.fixture
def yucai(demo_county, db) -> Compound:  # type: ignore[no-untyped-def]
    return Compound.objects.get(name="育才新村")


@pytest.fixture
def committee_body(yucai: Compound) -> Organisation:
    return Organisation.objects.get(compound=yucai, kind=Organisation.Kind.OWNERS_COMMITTEE)


@pytest.fixture
def unit(demo_county, db):  # type: ignore[no-untyped-def]
    return lambda name: Organisation.objects.get(kind=Organisation.Kind.MEMBER_UNIT, name=name)


@pytest.fixture
def party_org(yucai: Compound) -> Organisation:
    return Organisation.objects.get(kind=Organisation.Kind.PARTY_ORG, area=yucai.community)


@pytest.fixture
def in_days():  # type: ignore[no-untyped-def]
    return lambda days, hour=19: (timezone.localtime() + dt.timedelta(days=days)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )


@pytest.fixture
def ticket(users, yucai):  # type: ignore[no-untyped-def]
    """A resident's request about cars blocking the fire lane of 育才新村: accepted, sent to
    the police station, and referred to the joint meeting because one unit cannot solve it."""
    t = ticket_actions.file_ticket(
        users["resident"],
        channel="phone_page",
        category=ServiceCategory.objects.get(code="parking"),
        description="3幢楼下每天晚上都有车停在消防通道上，救护车进不来",
        building=yucai.buildings.get(number="3"),
        reporter_phone="13857001986",
    )
    desk = users["community"]
    ticket_actions.accept(desk, t)
    police = Organisation.objects.get(kind=Organisation.Kind.MEMBER_UNIT, name="县公安局高亭派出所")
    ticket_actions.dispatch(desk, t, lead_unit=police)
    ticket_actions.refer(desk, t, reason="占道停车反复发生，需要派出所和镇政府一起解决")
    t.refresh_from_db()
    return t


@pytest.fixture
def joint_meeting(users, party_org, unit, in_days, yucai):  # type: ignore[no-untyped-def]
    """The community's joint meeting in 10 days, inviting two member units. The demo's own
    meetings left work open; it is finished first, so none of it is carried onto this one."""
    for item in ActionItem.objects.exclude(state=ActionItem.State.DONE).order_by("id"):
        resolutions.complete(users["admin"], item, evidence="已完成")
    return actions.create_meeting(
        users["community"],
        kind=Meeting.Kind.JOINT,
        title="南峰社区联席会议（12月）",
        convener=party_org,
        area=yucai.community,
        starts_at=in_days(10),
        place="南峰社区党群服务中心三楼会议室",
        organisations=[unit("国网岱山县供电公司"), unit("高亭镇人民政府")],
    )


def member_people(body: Organisation) -> list[Person]:
    return [m.person for m in body.memberships.filter(left_on__isnull=True).order_by("id")]


@pytest.fixture
def convene_committee(users, committee_body, in_days):  # type: ignore[no-untyped-def]
    """The owners' committee of 育才新村 convenes a meeting of its own with one agenda item:
    ``convene(title, topic, days=8, stage=...)`` returns (meeting, item). ``stage`` "draft"
    stops there, "announced" publishes the notice, "open" also opens it at its start, and
    "present" signs in the members (``present`` of them, default all)."""

    def convene(
        title: str = "业委会例会",
        topic: str = "是否同意在2幢东侧增设非机动车棚",
        *,
        days: int = 8,
        stage: str = "draft",
        present: int | None = None,
    ) -> tuple[Meeting, Any]:
        committee = users["committee"]
        meeting = actions.create_meeting(
            committee,
            kind=Meeting.Kind.COMMITTEE,
            title=title,
            convener=committee_body,
            body=committee_body,
            starts_at=in_days(days),
            place="育才新村红色议事厅",
        )
        item = actions.add_agenda_item(committee, meeting, title=topic)
        if stage in ("announced", "open", "present"):
            actions.announce(committee, meeting)
        if stage in ("open", "present"):
            meeting = actions.open_session(committee, meeting, now=meeting.starts_at)
        if stage == "present":
            for person in member_people(committee_body)[:present]:
                actions.sign_in(committee, meeting, person=person, now=meeting.starts_at)
        meeting.refresh_from_db()
        return meeting, item

    return convene
