"""The public page of 育才新村, as a resident sees it after scanning the QR code on a notice:
the meeting coming up, what the owners' committee resolved and how the work stands, what
was done about requests — and not one name or phone number of the people involved."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from gongzhi.housing.models import Compound
from gongzhi.meetings import actions, resolutions
from gongzhi.meetings.models import AgendaItem, Meeting
from gongzhi.orgs.models import Organisation, Person
from gongzhi.tickets.models import Ticket
from tests.meetings.conftest import member_people

pytestmark = pytest.mark.django_db

COMMITTEE_RESOLUTION = "同意在2幢东侧增设非机动车棚，由业委会联系施工"
DRAFT_RESOLUTION = "尚未签发的决议不应公开"


def resolve_the_rest(actor, meeting: Meeting, votes_for: int | None = None) -> None:  # type: ignore[no-untyped-def]
    """Items carried from earlier meetings of the series need a resolution too."""
    for item in meeting.agenda_items.filter(resolution__isnull=True):
        resolutions.resolve(actor, item, text="继续督办", votes_for=votes_for)


def page_of(compound: Compound) -> str:
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(reverse("public-compound", args=[compound.code]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def committee_meeting(users, committee_body, convene_committee, in_days):  # type: ignore[no-untyped-def]
    """The owners' committee of 育才新村 meets, decides by show of hands and gives the work to
    the committee and to one of its members; the minutes are signed off."""
    committee = users["committee"]
    meeting, item = convene_committee("育才新村业委会例会", stage="present")
    members = member_people(committee_body)
    chair = members[0]
    actions.write_minutes(
        committee, item, minutes=f"{chair.name}介绍了车棚方案，联系电话13857001986。各委员表示同意。"
    )
    resolution = resolutions.resolve(committee, item, text=COMMITTEE_RESOLUTION, votes_for=len(members))
    resolutions.add_action_item(
        committee,
        resolution,
        title="联系施工队报价",
        assignee_org=committee_body,
        deadline=in_days(20).date(),
    )
    resolutions.add_action_item(
        committee, resolution, title="征求2幢住户意见", assignee_person=chair, deadline=in_days(15).date()
    )
    resolve_the_rest(committee, meeting, votes_for=len(members))
    actions.end_session(committee, meeting)
    actions.sign_off(committee, meeting)
    meeting.refresh_from_db()
    return meeting


@pytest.fixture
def announced_hall(users, yucai, party_org, in_days):  # type: ignore[no-untyped-def]
    community = users["community"]
    meeting = actions.create_meeting(
        community,
        kind=Meeting.Kind.HALL,
        title="育才新村红色议事厅（停车）",
        convener=party_org,
        compound=yucai,
        starts_at=in_days(12),
        place="育才新村红色议事厅",
    )
    actions.add_agenda_item(
        community, meeting, title="夜间停车秩序", presenter=Person.objects.create(name="孙海燕")
    )
    actions.announce(community, meeting)
    return meeting


@pytest.fixture
def draft_meeting(users, committee_body, convene_committee, in_days):  # type: ignore[no-untyped-def]
    """A meeting held and resolved whose minutes are not signed off yet."""
    committee = users["committee"]
    meeting, item = convene_committee("育才新村业委会临时会议", "临时议题", days=9, stage="present")
    members = member_people(committee_body)
    resolution = resolutions.resolve(committee, item, text=DRAFT_RESOLUTION, votes_for=len(members))
    resolutions.add_action_item(
        committee,
        resolution,
        title="草稿会议的任务",
        assignee_org=committee_body,
        deadline=in_days(20).date(),
    )
    return meeting


def people_of(meeting: Meeting, body: Organisation) -> set[str]:
    """Everyone attached to the meeting by name, looked up independently of the page code."""
    names = set(meeting.attendances.values_list("name", flat=True))
    names |= set(meeting.invitees.filter(person__isnull=False).values_list("person__name", flat=True))
    names |= set(body.memberships.values_list("person__name", flat=True))
    names |= {p for p in meeting.action_items.values_list("assignee_person__name", flat=True) if p}
    return {n for n in names if n}


def test_a_resident_sees_the_meeting_coming_up_the_resolution_and_the_work(
    yucai, committee_body, committee_meeting, announced_hall
):
    page = page_of(yucai)
    upcoming = page[page.index('data-testid="upcoming-meeting"') :]
    assert announced_hall.title in upcoming and "夜间停车秩序" in upcoming
    assert announced_hall.place in upcoming
    resolution = page[page.index('data-testid="public-resolution"') :]
    assert COMMITTEE_RESOLUTION in resolution
    assert reverse("public-meeting-minutes", args=[yucai.code, committee_meeting.pk]) in resolution
    # The work: the committee's own, and the member's shown as "a named person".
    assert "联系施工队报价" in page and "征求2幢住户意见" in page
    assert "a named person" in page
    assert 'data-testid="action-status">Open<' in page
    assert committee_body.name in page


def test_the_page_names_none_of_the_people_of_the_meetings(
    yucai, committee_body, committee_meeting, announced_hall, ticket
):
    page = page_of(yucai)
    names = people_of(committee_meeting, committee_body) | {"孙海燕"}
    assert len(names) >= 3
    for name in names:
        assert name not in page, name
    # Nor the reporter of the request on the joint meeting's agenda, nor any demo reporter.
    reporters = set(
        Ticket.objects.filter(compound=yucai)
        .exclude(reporter_name="")
        .values_list("reporter_name", flat=True)
    )
    for name in reporters:
        assert name not in page, name
    assert "13857001986" not in page and ticket.reporter_phone not in page
    assert ticket.token not in page


def test_an_unsigned_meetings_resolution_and_work_are_not_published(yucai, committee_meeting, draft_meeting):
    page = page_of(yucai)
    assert COMMITTEE_RESOLUTION in page
    assert DRAFT_RESOLUTION not in page and "草稿会议的任务" not in page
    assert draft_meeting.title not in page


def test_what_was_done_about_requests_shows_counts_and_closed_ones_without_reporters(yucai):
    page = page_of(yucai)
    assert 'data-testid="request-counts"' in page
    closed = Ticket.objects.filter(
        compound=yucai, closed_at__isnull=False, state__in=["closed", "followed_up", "archived"]
    )
    if closed.exists():
        assert 'data-testid="closed-request"' in page
    for phone in (
        Ticket.objects.filter(compound=yucai)
        .exclude(reporter_phone="")
        .values_list("reporter_phone", flat=True)[:200]
    ):
        assert phone not in page
    assert "/t/" not in page  # no request tracking link (it carries the request's token)


def test_a_joint_meeting_without_a_compound_is_published_where_its_request_is(
    users, joint_meeting, unit, ticket, yucai
):
    community = users["community"]
    item = actions.add_agenda_item(
        community, joint_meeting, title="育才新村消防通道被占", source=AgendaItem.Source.TICKET, ticket=ticket
    )
    actions.announce(community, joint_meeting)
    meeting = actions.open_session(community, joint_meeting, now=joint_meeting.starts_at)
    resolution = resolutions.resolve(community, item, text="施划禁停标线，派出所每周夜查两次")
    resolutions.add_action_item(
        community,
        resolution,
        title="施划消防通道禁停标线",
        assignee_org=unit("高亭镇人民政府"),
        deadline=meeting.starts_at.date(),
    )
    resolve_the_rest(community, meeting)
    actions.end_session(community, meeting)
    actions.sign_off(community, meeting)
    assert meeting.compound is None
    page = page_of(yucai)
    assert "施划禁停标线，派出所每周夜查两次" in page and "施划消防通道禁停标线" in page
    assert Client().get(reverse("public-meeting-minutes", args=[yucai.code, meeting.pk])).status_code == 200
    other = Compound.objects.exclude(pk=yucai.pk).exclude(tickets__agenda_items__meeting=meeting).first()
    assert "施划禁停标线，派出所每周夜查两次" not in page_of(other)


def test_an_unknown_compound_is_not_found():
    assert Client().get(reverse("public-compound", args=["no-such-compound"])).status_code == 404


def test_the_page_runs_a_bounded_number_of_queries(
    yucai, committee_meeting, announced_hall, draft_meeting, django_assert_max_num_queries
):
    client = Client()
    with django_assert_max_num_queries(25):
        response = client.get(reverse("public-compound", args=[yucai.code]))
    assert response.status_code == 200


def test_the_page_fits_a_phone(yucai):
    page = page_of(yucai)
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page
    assert "overflow-wrap: anywhere" in page  # long titles wrap instead of scrolling sideways
