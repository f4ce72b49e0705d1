"""Bad input and faults of the meeting workflow: each is refused with a clear message and
changes nothing."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone
from django.utils.translation import override

from gongzhi.meetings import actions, resolutions
from gongzhi.meetings.models import ActionItem, Attendance, Meeting
from gongzhi.orgs.models import Person
from tests.meetings.conftest import member_people

pytestmark = pytest.mark.django_db


def _refused(match: str):  # type: ignore[no-untyped-def]
    return pytest.raises(ValidationError, match=match)


def test_a_notice_without_an_agenda_is_refused(users, joint_meeting):
    with override("en"), _refused("at least one item on the agenda"):
        actions.announce(users["community"], joint_meeting)
    joint_meeting.refresh_from_db()
    assert joint_meeting.state == Meeting.State.DRAFT and joint_meeting.announced_at is None


def _in_session(users, meeting, title="议题"):  # type: ignore[no-untyped-def]
    item = actions.add_agenda_item(users["community"], meeting, title=title)
    actions.announce(users["community"], meeting)
    actions.open_session(users["community"], meeting, now=meeting.starts_at)
    meeting.refresh_from_db()
    return item


def test_qr_sign_in_needs_a_person_record(users, joint_meeting):
    _in_session(users, joint_meeting)
    with override("en"), _refused("no person record"):
        actions.sign_in(users["town"], joint_meeting, method=Attendance.Method.QR)
    assert not joint_meeting.attendances.exists()


def test_someone_not_invited_is_an_observer_and_not_counted(users, joint_meeting):
    _in_session(users, joint_meeting)
    # The volunteer (a resident volunteer of the demo) is invited to none of it.
    stranger, _ = Person.objects.get_or_create(user=users["volunteer"], defaults={"name": "过路人"})
    seen = actions.sign_in(users["volunteer"], joint_meeting, method=Attendance.Method.QR)
    assert seen.person == stranger and seen.capacity == Attendance.Capacity.OBSERVER and not seen.counted


def test_sign_in_closes_with_the_meeting(users, joint_meeting):
    _in_session(users, joint_meeting)
    actions.end_session(users["community"], joint_meeting)
    with override("en"), _refused("Sign-in is closed"):
        actions.sign_in(users["community"], joint_meeting, name="迟到的人")


def test_a_meeting_without_a_deciding_body_does_not_count_hands(users, joint_meeting):
    item = _in_session(users, joint_meeting)
    with override("en"), _refused("resolves by agreement"):
        resolutions.resolve(users["community"], item, text="同意", votes_for=3)
    assert not hasattr(item, "resolution") or item.resolution is None


def test_a_committee_decides_by_show_of_hands_only(users, committee_body, in_days, convene_committee):
    committee = users["committee"]
    meeting, item = convene_committee(topic="议题", days=9, stage="present")
    with override("en"), _refused("decides by show of hands"):
        resolutions.resolve(committee, item, text="同意")
    total = len(member_people(committee_body))
    rejected = resolutions.resolve(committee, item, text="同意", votes_for=0, votes_against=total)
    assert rejected.adopted is False
    with override("en"), _refused("not adopted"):
        resolutions.add_action_item(
            committee, rejected, title="做事", assignee_org=committee_body, deadline=in_days(5).date()
        )
    assert not ActionItem.objects.filter(meeting=meeting).exists()


def test_minutes_are_signed_off_only_when_every_item_is_resolved(users, joint_meeting):
    _in_session(users, joint_meeting, title="第一项")
    second = actions.add_agenda_item(users["community"], joint_meeting, title="第二项")
    first = joint_meeting.agenda_items.get(position=1)
    resolutions.resolve(users["community"], first, text="同意")
    actions.end_session(users["community"], joint_meeting)
    with override("en"), _refused("Agenda item 2 “第二项” has no resolution yet"):
        actions.sign_off(users["community"], joint_meeting)
    with override("en"), _refused("not signed off yet"):
        actions.add_addendum(users["community"], joint_meeting, text="更正")
    resolutions.resolve(users["community"], second, text="下次再议")
    actions.sign_off(users["community"], joint_meeting)
    joint_meeting.refresh_from_db()
    assert joint_meeting.state == Meeting.State.SIGNED


def test_work_is_reported_by_its_owner_only(users, joint_meeting, unit, in_days):
    item = _in_session(users, joint_meeting)
    resolution = resolutions.resolve(users["community"], item, text="同意")
    town = unit("高亭镇人民政府")
    work = resolutions.add_action_item(
        users["community"], resolution, title="清理楼道", assignee_org=town, deadline=in_days(3).date()
    )
    # The power company's liaison is not responsible for it.
    with pytest.raises(PermissionDenied):
        resolutions.complete(users["liaison"], work, evidence="已清理")
    with override("en"), _refused("evidence"):
        resolutions.complete(users["liaison2"], work, evidence="  ")
    resolutions.report_progress(users["liaison2"], work, note="已通知住户三天内自行清理")
    done = resolutions.complete(users["liaison2"], work, evidence="已清理完毕，见照片")
    assert done.status == "done" and [e.action for e in done.events.order_by("id")] == [
        "create",
        "progress",
        "done",
    ]
    with override("en"), _refused("done already"):
        resolutions.complete(users["liaison2"], work, evidence="again")


def test_a_stale_form_is_refused(users, joint_meeting):
    version = joint_meeting.version
    actions.add_agenda_item(users["community"], joint_meeting, title="议题")
    with override("en"), _refused("Someone else changed this meeting"):
        actions.announce(users["community"], joint_meeting, version=version)


def test_a_started_meeting_cannot_be_called_off(users, joint_meeting):
    _in_session(users, joint_meeting)
    with override("en"), _refused("cannot be called off"):
        actions.cancel(users["community"], joint_meeting, reason="改期")


def test_the_sweep_command_marks_overdue_work(users, joint_meeting, unit, in_days):
    item = _in_session(users, joint_meeting)
    resolution = resolutions.resolve(users["community"], item, text="同意")
    resolutions.add_action_item(
        users["community"],
        resolution,
        title="修路灯",
        assignee_org=unit("高亭镇人民政府"),
        deadline=in_days(1).date(),
    )
    out = StringIO()
    moment = (timezone.now() + dt.timedelta(days=3)).isoformat()
    call_command("sweep-meetings", "--now", moment, stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["overdue"] >= 1
    assert ActionItem.objects.get(title="修路灯").status == "overdue"
