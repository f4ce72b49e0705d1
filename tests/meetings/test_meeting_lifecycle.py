"""A joint meeting from convening to signed-off minutes, and an owners' committee meeting
with its quorum, told as the community staff and the committee would live it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import override

from gongzhi.core.models import AppendOnlyError
from gongzhi.meetings import actions, resolutions
from gongzhi.meetings.models import ActionItem, AgendaItem, Attendance, Meeting
from gongzhi.meetings.sweep import sweep
from gongzhi.orgs.models import Person
from gongzhi.tickets import timeline
from gongzhi.tickets.models import Notification
from tests.meetings.conftest import member_people

pytestmark = pytest.mark.django_db


def test_a_committee_meeting_needs_seven_days_notice(users, committee_body, convene_committee):
    meeting, _ = convene_committee("业委会12月例会", "楼道堆物清理", days=5)
    with (
        override("en"),
        pytest.raises(ValidationError, match=r"at least 7 days ahead, and this meeting starts in [45] days"),
    ):
        actions.announce(users["committee"], meeting)
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.DRAFT
    # Every member of the committee is invited with the committee itself.
    invited = set(meeting.invitees.filter(person__isnull=False).values_list("person_id", flat=True))
    assert invited == {p.pk for p in member_people(committee_body)}


def test_a_meeting_cannot_be_scheduled_in_the_past(users, party_org, yucai):
    with override("en"), pytest.raises(ValidationError, match="in the past"):
        actions.create_meeting(
            users["community"],
            kind=Meeting.Kind.JOINT,
            title="补开的会",
            convener=party_org,
            area=yucai.community,
            starts_at=timezone.now() - dt.timedelta(hours=1),
            place="社区",
        )
    assert not Meeting.objects.filter(title="补开的会").exists()


def _held(meeting, actor, now):  # type: ignore[no-untyped-def]
    actions.announce(actor, meeting, now=now)
    return actions.open_session(actor, meeting, now=meeting.starts_at)


def test_committee_quorum_and_show_of_hands(users, committee_body, convene_committee):
    committee = users["committee"]
    members = member_people(committee_body)
    total = len(members)
    needed = total // 2 + 1
    meeting, item = convene_committee(stage="present", present=needed - 1)
    # A resident who happens to come is an observer and is not counted.
    outsider = (
        Person.objects.exclude(pk__in=[p.pk for p in members])
        .exclude(memberships__organisation__kind="member_unit")
        .first()
    )
    seen = actions.sign_in(committee, meeting, person=outsider, now=meeting.starts_at)
    assert seen.capacity == Attendance.Capacity.OBSERVER
    assert actions.presence(meeting).members_present == needed - 1
    with override("en"), pytest.raises(ValidationError, match="must be present before the body can decide"):
        resolutions.resolve(committee, item, text="同意增设", votes_for=needed - 1, votes_against=0)
    actions.sign_in(committee, meeting, person=members[needed - 1], now=meeting.starts_at)
    with override("en"), pytest.raises(ValidationError, match="already signed in"):
        actions.sign_in(committee, meeting, person=members[0], now=meeting.starts_at)
    # Present: more than half. Adopted only with at least half of ALL members in favour.
    votes_needed = (total + 1) // 2
    if votes_needed > 1:
        short = resolutions.resolve(
            committee, item, text="同意增设", votes_for=votes_needed - 1, votes_against=1
        )
        assert short.adopted is False and short.members_total == total
        with override("en"), pytest.raises(ValidationError, match="already has its resolution"):
            resolutions.resolve(committee, item, text="再表决", votes_for=votes_needed)


def test_from_agenda_to_action_items_to_the_next_meeting(users, joint_meeting, unit, ticket, in_days):
    community = users["community"]
    police, town = unit("县公安局高亭派出所"), unit("高亭镇人民政府")
    item = actions.add_agenda_item(
        community, joint_meeting, title="育才新村消防通道被占", source=AgendaItem.Source.TICKET, ticket=ticket
    )
    meeting = _held(joint_meeting, community, timezone.now())
    # The town government's liaison signs in with their own phone (the demo gives them a person).
    liaison2_person, _ = Person.objects.get_or_create(user=users["liaison2"], defaults={"name": "陈建国"})
    attendance = actions.sign_in(users["liaison2"], meeting, method=Attendance.Method.QR)
    assert attendance.person == liaison2_person
    assert attendance.capacity == Attendance.Capacity.INVITEE and attendance.represents == town
    actions.write_minutes(community, item, minutes="派出所介绍夜间巡查情况；镇政府同意施划禁停标线。")
    resolution = resolutions.resolve(community, item, text="施划禁停标线，派出所每周夜查两次")
    with override("en"), pytest.raises(ValidationError, match="Name the body or the person"):
        resolutions.add_action_item(community, resolution, title="夜查", deadline=in_days(20).date())
    with override("en"), pytest.raises(ValidationError, match="is in the past"):
        resolutions.add_action_item(
            community,
            resolution,
            title="夜查",
            assignee_org=police,
            deadline=timezone.localdate() - dt.timedelta(days=1),
        )
    lines = resolutions.add_action_item(
        community, resolution, title="施划消防通道禁停标线", assignee_org=town, deadline=in_days(7).date()
    )
    patrol = resolutions.add_action_item(
        community,
        resolution,
        title="每周夜查两次并劝离车辆",
        assignee_org=police,
        deadline=in_days(14).date(),
    )
    assert Notification.objects.filter(recipient=users["liaison2"], subject__contains=meeting.title).exists()
    resolutions.redispatch_ticket(community, resolution)
    ticket.refresh_from_db()
    assert ticket.lead_unit == town and ticket.state == "dispatched"
    resolutions.complete(users["liaison2"], lines, evidence="已施划黄色禁停网格线40米")
    actions.end_session(community, meeting)
    actions.sign_off(community, meeting)
    # Signed off: the record does not change; a correction is an addendum.
    with override("en"), pytest.raises(ValidationError, match="signed off"):
        actions.write_minutes(community, item, minutes="改写")
    with pytest.raises(AppendOnlyError):
        resolution.delete()
    actions.add_addendum(community, meeting, text="更正：标线长度为45米")

    # The next month's meeting is convened before the patrol's deadline; it carries the item.
    nxt = actions.create_meeting(
        community,
        kind=Meeting.Kind.JOINT,
        title="南峰社区联席会议（1月）",
        convener=meeting.convener,
        area=meeting.area,
        starts_at=in_days(40),
        place="社区",
    )
    carried = nxt.agenda_items.get(source=AgendaItem.Source.CARRIED)
    assert carried.carried_item == patrol
    # The patrol's deadline passes: the sweep marks it overdue, once.
    later = timezone.now() + dt.timedelta(days=16)
    assert sweep(later)["overdue"] == 1
    assert sweep(later)["overdue"] == 0
    patrol.refresh_from_db()
    assert patrol.status == "overdue" and patrol.state == ActionItem.State.OPEN
    lines.refresh_from_db()
    assert lines.status == "done"

    with override("en"):
        texts = [line.text for line in timeline.build(ticket, audience="public")]
    expected = [
        "Put on the agenda of 南峰社区联席会议（12月）",
        "南峰社区联席会议（12月） answered the referral with a resolution.",
        "gave 高亭镇人民政府 the task “施划消防通道禁停标线”",
        "gave 县公安局高亭派出所 the task “每周夜查两次并劝离车辆”",
        "As the meeting agreed, sent to 高亭镇人民政府 to lead, with 县公安局高亭派出所 helping.",
        "高亭镇人民政府 finished “施划消防通道禁停标线”.",
        "“每周夜查两次并劝离车辆” is not done yet and is back on the agenda of 南峰社区联席会议（1月）.",
        "“每周夜查两次并劝离车辆” (县公安局高亭派出所) is overdue",
    ]
    joined = "\n".join(texts)
    for fragment in expected:
        assert fragment in joined, (fragment, texts)
    # In that order, after the referral.
    positions = [joined.index(f) for f in expected]
    assert positions[0] > joined.index("Referred to the joint meeting")


def test_every_request_behind_a_hot_issue_follows_it(users, joint_meeting, yucai, unit, in_days):
    """Five neighbours report the same problem; the warning goes onto the joint meeting's
    agenda, and each of the five timelines shows the agenda, the resolution and the work."""
    from gongzhi.meetings import warnings
    from gongzhi.orgs.models import ServiceCategory
    from gongzhi.tickets import actions as ticket_actions

    category = ServiceCategory.objects.get(code="stray_animals")
    filed = [
        ticket_actions.file_ticket(
            users["resident"],
            channel="phone_page",
            category=category,
            description=f"{n}幢附近流浪狗成群，晚上追咬路人",
            building=yucai.buildings.get(number=str(n)),
            reporter_phone=f"1385700{n:04d}",
        )
        for n in range(1, 6)
    ]
    community = users["community"]
    found = [
        w
        for w in warnings.warnings_for(community)
        if w.compound_id == yucai.pk and w.category_code == category.code
    ]
    assert found, "five reports of one category in one compound within the window raise a warning"
    item = warnings.adopt_warning(community, joint_meeting, found[0].key)
    assert {t.pk for t in filed} <= set(item.related_tickets.values_list("pk", flat=True))
    meeting = _held(joint_meeting, community, timezone.now())
    resolution = resolutions.resolve(community, item, text="开展流浪犬集中收容")
    resolutions.add_action_item(
        community,
        resolution,
        title="集中收容流浪犬",
        assignee_org=unit("高亭镇人民政府"),
        deadline=in_days(10).date(),
    )
    for ticket in filed:
        actions_seen = list(ticket.events.values_list("action", flat=True))
        assert {"agenda", "meeting_resolution", "action_item"} <= set(actions_seen), (ticket.pk, actions_seen)
    assert meeting.state == Meeting.State.IN_SESSION
