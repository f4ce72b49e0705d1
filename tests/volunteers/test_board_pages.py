"""Branch boards: the members in office of a joint branch ranked by volunteer hours (equal
hours share a rank), with points and party membership, for those who see the branch's
members — not for residents, volunteers or an unrelated member unit."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from gongzhi.orgs.models import Membership, Organisation, Person
from gongzhi.volunteers import actions

pytestmark = pytest.mark.django_db


@pytest.fixture
def third_branch(users, yucai, nanfeng, make_activity):  # type: ignore[no-untyped-def]
    """A new joint branch of 育才新村 with four members after one verified clean-up: 周红
    stayed 150 minutes (2 h count), 陈立 and 吴敏 an hour each, 孙强 did not come; 吴敏 is not
    a party member."""
    branch = Organisation.objects.create(
        kind=Organisation.Kind.JOINT_BRANCH,
        name="育才新村第三兼合式党支部",
        code="JB-TEST-3",
        area=nanfeng,
        compound=yucai,
    )
    people = {}
    for name, party in (("周红", True), ("陈立", True), ("吴敏", False), ("孙强", True)):
        person = Person.objects.create(name=name, is_party_member=party, home_area=nanfeng)
        Membership.objects.create(organisation=branch, person=person)
        people[name] = person
    activity = make_activity(start=dt.timedelta(hours=-5), end=dt.timedelta(hours=-1))
    desk = users["community"]
    for name, minutes in (("周红", 150), ("陈立", 60), ("吴敏", 60)):
        actions.check_in(desk, activity, person=people[name], at=activity.starts_at)
        actions.check_out(
            desk, activity, person=people[name], at=activity.starts_at + dt.timedelta(minutes=minutes)
        )
    actions.verify_activity(desk, activity)
    # A member who left the branch is not on its board.
    gone = Person.objects.create(name="已调离", is_party_member=True, home_area=nanfeng)
    Membership.objects.create(organisation=branch, person=gone, left_on=dt.date(2026, 1, 1))
    return branch


def board_of(page: str) -> list[tuple[str, str, str]]:
    """(rank, name, hours) of each row of the board."""
    rows = re.findall(
        r'data-testid="rank">(\d+)</td>\s*<td>([^<\s]+).*?data-testid="board-hours">([\d.]+)<', page, re.S
    )
    return [(rank, name, hours) for rank, name, hours in rows]


def test_members_are_ranked_by_hours_and_equal_hours_share_a_rank(users, third_branch, client_for):
    page = client_for(users["branch"]).get(reverse("volunteer-board-branch", args=[third_branch.pk]))
    assert page.status_code == 200
    rows = board_of(page.content.decode())
    assert rows[0] == ("1", "周红", "2.0")
    assert sorted(rows[1:3]) == [("2", "吴敏", "1.0"), ("2", "陈立", "1.0")]
    assert rows[3] == ("4", "孙强", "0.0")
    assert "已调离" not in page.content.decode()


def test_party_members_are_flagged(users, third_branch, client_for):
    page = client_for(users["community"]).get(reverse("volunteer-board-branch", args=[third_branch.pk]))
    text = page.content.decode()
    flagged = re.findall(r'<td>([^<\s]+) <span class="badge warn" data-testid="party-flag"', text)
    assert sorted(flagged) == sorted(["周红", "陈立", "孙强"])


def test_the_chooser_lists_the_branches_in_scope_and_leads_to_the_board(users, third_branch, client_for):
    client = client_for(users["committee"])
    chooser = client.get(reverse("volunteer-board")).content.decode()
    assert "育才新村第一兼合式党支部" in chooser and third_branch.name in chooser
    assert "渔港新村第一兼合式党支部" not in chooser
    chosen = client.get(reverse("volunteer-board") + f"?branch={third_branch.pk}")
    assert chosen["Location"] == reverse("volunteer-board-branch", args=[third_branch.pk])


def test_the_board_is_for_those_who_see_the_branchs_members(users, third_branch, client_for):
    url = reverse("volunteer-board-branch", args=[third_branch.pk])
    for name in ("admin", "county", "town", "community", "grid", "branch", "committee"):
        assert client_for(users[name]).get(url).status_code == 200, name
    for name in ("liaison", "volunteer", "resident"):
        assert client_for(users[name]).get(url).status_code == 403, name


def test_a_branch_of_another_community_is_out_of_scope(users, client_for):
    elsewhere = Organisation.objects.filter(kind=Organisation.Kind.JOINT_BRANCH).exclude(
        area__name="南峰社区"
    )[0]
    url = reverse("volunteer-board-branch", args=[elsewhere.pk])
    assert client_for(users["community"]).get(url).status_code == 403
    assert client_for(users["town"]).get(url).status_code == (
        200 if elsewhere.area.parent.name == "高亭镇" else 403
    )
    committee = Organisation.objects.filter(kind=Organisation.Kind.OWNERS_COMMITTEE)[0]
    assert (
        client_for(users["county"]).get(reverse("volunteer-board-branch", args=[committee.pk])).status_code
        == 404
    )
