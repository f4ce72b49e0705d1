"""An owners' committee publishes its decisions within 3 days (DOMAIN §2): the meeting page
says by when, the sweep reminds the convener once a day after that, and signing off the
minutes — the publication — ends it. Signed-off minutes cannot be changed by any path."""

from __future__ import annotations

import datetime as dt

import pytest

from gongzhi.core.models import AppendOnlyError
from gongzhi.meetings import actions, resolutions
from gongzhi.meetings.sweep import late_committee_decisions
from tests.meetings.conftest import member_people

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(users, committee_body, convene_committee):  # type: ignore[no-untyped-def]
    committee = users["committee"]
    meeting, item = convene_committee("业委会临时会议", "楼道灯更换", stage="present")
    total = len(member_people(committee_body))
    resolutions.resolve(committee, item, text="同意更换", votes_for=total)
    actions.end_session(committee, meeting, now=meeting.starts_at + dt.timedelta(hours=2))
    meeting.refresh_from_db()
    return meeting


def test_the_convener_is_reminded_once_a_day_until_the_minutes_are_signed(users, held, client):
    due = actions.publication_due(held)
    assert due == held.opened_at + dt.timedelta(days=3)
    client.force_login(users["committee"])
    page = client.get(f"/meetings/{held.pk}/").content.decode()
    assert 'data-testid="publish-by"' in page
    assert late_committee_decisions(due - dt.timedelta(hours=1)) == 0
    assert late_committee_decisions(due + dt.timedelta(hours=1)) == 1
    assert late_committee_decisions(due + dt.timedelta(hours=5)) == 0  # not again the same day
    actions.sign_off(users["committee"], held)
    held.refresh_from_db()
    assert actions.publication_due(held) is None
    assert late_committee_decisions(due + dt.timedelta(days=2)) == 0


def test_signed_minutes_refuse_a_change_from_any_path(users, held):
    actions.sign_off(users["committee"], held)
    item = held.agenda_items.get()
    item.minutes = "事后改写"
    with pytest.raises(AppendOnlyError):
        item.save()
    assert held.agenda_items.get().minutes == ""
