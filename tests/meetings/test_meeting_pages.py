"""The staff pages of meetings: who sees which meeting, convening through the form and its
refusals, the list and its pages, and what residents may read."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from gongzhi.meetings import actions, resolutions
from gongzhi.meetings.models import AgendaItem, Meeting
from gongzhi.orgs.models import Organisation, Person

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def detail(meeting: Meeting) -> str:
    return reverse("meeting-detail", args=[meeting.pk])


def png(name: str = "photo.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def pdf(name: str = "sign-in-sheet.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n% minutes\n%%EOF\n", content_type="application/pdf")


def person_for(user, name: str) -> Person:  # type: ignore[no-untyped-def]
    return Person.objects.get_or_create(user=user, defaults={"name": name})[0]


@pytest.fixture
def town_only_meeting(users, party_org, unit, in_days, yucai):  # type: ignore[no-untyped-def]
    """A joint meeting that invites only the town government (not the power company)."""
    return actions.create_meeting(
        users["community"],
        kind=Meeting.Kind.JOINT,
        title="育才新村加装电梯协调会",
        convener=party_org,
        area=yucai.community,
        starts_at=in_days(12),
        place="南峰社区会议室",
        organisations=[unit("高亭镇人民政府")],
    )


@pytest.fixture
def hall(users, party_org, in_days, yucai):  # type: ignore[no-untyped-def]
    return actions.create_meeting(
        users["community"],
        kind=Meeting.Kind.HALL,
        title="育才新村红色议事厅（停车）",
        convener=party_org,
        compound=yucai,
        starts_at=in_days(6),
        place="育才新村红色议事厅",
    )


def test_a_liaison_sees_only_the_meetings_their_unit_is_invited_to(users, town_only_meeting):
    title = town_only_meeting.title
    assert title in client_for(users["liaison2"]).get(reverse("meeting-list")).content.decode()
    assert title in client_for(users["community"]).get(reverse("meeting-list")).content.decode()
    outsider = client_for(users["liaison"])
    assert title not in outsider.get(reverse("meeting-list")).content.decode()
    assert title not in outsider.get(reverse("meeting-list") + "?when=all").content.decode()
    assert outsider.get(detail(town_only_meeting)).status_code == 403


def test_a_resident_reads_the_discussion_hall_of_their_compound_but_cannot_convene(users, hall):
    resident = client_for(users["resident"])
    page = resident.get(reverse("meeting-list")).content.decode()
    assert hall.title in page
    assert 'data-testid="convene"' not in page
    response = resident.get(detail(hall))
    assert response.status_code == 200
    assert 'data-testid="agenda-form"' not in response.content.decode()
    assert resident.get(reverse("meeting-new")).status_code == 403
    assert resident.post(reverse("meeting-act", args=[hall.pk, "cancel"]), {"reason": "x"}).status_code == 403
    hall.refresh_from_db()
    assert hall.state == Meeting.State.DRAFT


def test_the_list_filters_by_kind_and_when(users, hall, joint_meeting):
    community = client_for(users["community"])
    halls = community.get(reverse("meeting-list") + "?kind=hall").content.decode()
    assert hall.title in halls and joint_meeting.title not in halls
    past = community.get(reverse("meeting-list") + "?when=past").content.decode()
    assert hall.title not in past


def test_community_staff_convene_a_joint_meeting_through_the_form(users, party_org, unit, yucai, in_days):
    community = client_for(users["community"])
    form = community.get(reverse("meeting-new"))
    assert form.status_code == 200 and 'data-testid="meeting-form"' in form.content.decode()
    power, town = unit("国网岱山县供电公司"), unit("高亭镇人民政府")
    response = community.post(
        reverse("meeting-new"),
        {
            "kind": Meeting.Kind.JOINT,
            "title": "南峰社区联席会议（表单）",
            "convener": party_org.pk,
            "area": yucai.community_id,
            "starts_at": in_days(9).strftime("%Y-%m-%dT%H:%M"),
            "place": "南峰社区党群服务中心",
            "organisations": [power.pk, town.pk],
        },
    )
    meeting = Meeting.objects.get(title="南峰社区联席会议（表单）")
    assert response.status_code == 302 and response["Location"] == detail(meeting)
    assert meeting.convener == party_org and meeting.area == yucai.community
    assert set(meeting.invitees.values_list("organisation_id", flat=True)) == {power.pk, town.pk}
    page = community.get(detail(meeting)).content.decode()
    assert "The notice must be published 3 days ahead" in page


def test_bad_input_comes_back_with_the_field_error_and_creates_nothing(users, party_org, yucai):
    community = client_for(users["community"])
    before = Meeting.objects.count()
    yesterday = timezone.localtime() - dt.timedelta(days=1)
    response = community.post(
        reverse("meeting-new"),
        {
            "kind": Meeting.Kind.HALL,
            "title": "补开的议事厅",
            "convener": party_org.pk,
            "starts_at": yesterday.strftime("%Y-%m-%dT%H:%M"),
            "place": "议事厅",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "A meeting cannot be scheduled in the past." in page
    assert 'value="补开的议事厅"' in page
    # A hall without its compound is refused next to the compound field.
    response = community.post(
        reverse("meeting-new"),
        {
            "kind": Meeting.Kind.HALL,
            "title": "补开的议事厅",
            "convener": party_org.pk,
            "starts_at": (timezone.localtime() + dt.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M"),
            "place": "议事厅",
        },
    )
    assert response.status_code == 400
    assert "A discussion hall is held for one compound." in response.content.decode()
    # A convener outside the user's scope is not a valid choice.
    other = (
        Organisation.objects.exclude(area__path__startswith=yucai.community.path)
        .filter(kind=Organisation.Kind.PARTY_ORG)
        .first()
    )
    if other is not None:
        response = community.post(
            reverse("meeting-new"),
            {"kind": Meeting.Kind.JOINT, "title": "越权", "convener": other.pk, "place": "x"},
        )
        assert response.status_code == 400
    assert Meeting.objects.count() == before


def test_a_hot_issue_item_shows_its_stored_explanation(users, hall):
    actions.add_agenda_item(
        users["community"],
        hall,
        title="育才新村停车问题集中",
        source=AgendaItem.Source.HOT_ISSUE,
        suggestion_key="cluster:test",
        evidence={"explanation": {"msgid": "Stored explanation for the test.", "params": {}}},
    )
    page = client_for(users["community"]).get(detail(hall)).content.decode()
    assert 'data-testid="hot-evidence"' in page and "Stored explanation for the test." in page


def test_a_notice_published_too_late_is_refused_on_the_page(users, committee_body, in_days):
    meeting = actions.create_meeting(
        users["committee"],
        kind=Meeting.Kind.COMMITTEE,
        title="业委会临时会议",
        convener=committee_body,
        body=committee_body,
        starts_at=in_days(5),
        place="育才新村红色议事厅",
    )
    actions.add_agenda_item(users["committee"], meeting, title="楼道堆物清理")
    meeting.refresh_from_db()
    committee = client_for(users["committee"])
    response = committee.post(
        reverse("meeting-act", args=[meeting.pk, "announce"]), {"version": meeting.version}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-testid="page-errors"' in page and "at least 7 days ahead" in page
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.DRAFT and meeting.announced_at is None
    # A form from before someone else's change is refused too.
    response = committee.post(
        reverse("meeting-act", args=[meeting.pk, "announce"]), {"version": meeting.version - 1}
    )
    assert response.status_code == 400 and "Reload the page" in response.content.decode()


def test_the_meeting_list_pages_by_start_time(users, party_org, yucai, in_days):
    titles = []
    for days in (3, 5, 4):
        meeting = actions.create_meeting(
            users["community"],
            kind=Meeting.Kind.HALL,
            title=f"议事厅第{days}天",
            convener=party_org,
            compound=yucai,
            starts_at=in_days(days),
            place="议事厅",
        )
        titles.append((meeting.starts_at, meeting.title))
    soonest_first = [t for _at, t in sorted(titles)]
    community = client_for(users["community"])
    seen = []
    url = reverse("meeting-list") + "?kind=hall&size=1"
    for _page in range(100):
        response = community.get(url)
        page = response.context["page"]
        seen += [m.title for m in page.rows if m.title in soonest_first]
        if not page.has_next:
            break
        url = reverse("meeting-list") + f"?kind=hall&size=1&after={page.next_after}"
    assert [t for t in seen if t in soonest_first] == soonest_first


def test_residents_read_the_minutes_only_once_signed_off(users, hall):
    item = actions.add_agenda_item(users["community"], hall, title="停车秩序")
    actions.announce(users["community"], hall)
    actions.open_session(users["community"], hall)
    actions.write_minutes(users["community"], item, minutes="居民代表发言：晚上车辆乱停。")
    resident = client_for(users["resident"])
    page = resident.get(detail(hall)).content.decode()
    assert "居民代表发言" not in page and 'data-testid="minutes-form"' not in page
    # Residents see how many came, not who.
    assert 'data-testid="attendance"' not in page
    for rest in hall.agenda_items.all():
        resolutions.resolve(users["community"], rest, text="施划停车位")
    actions.end_session(users["community"], hall)
    actions.sign_off(users["community"], hall)
    assert "居民代表发言" in resident.get(detail(hall)).content.decode()


def test_an_agenda_item_about_a_request_out_of_reach_is_refused(users, joint_meeting):
    community = client_for(users["community"])
    response = community.post(
        reverse("meeting-agenda-add", args=[joint_meeting.pk]),
        {"source": "ticket", "ticket": 99999999, "title": "别处的诉求", "description": "背景"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "You can see no request #99999999." in page and 'value="别处的诉求"' in page
    assert not joint_meeting.agenda_items.filter(title="别处的诉求").exists()
    # A number left in the request field does not matter for a free topic.
    response = community.post(
        reverse("meeting-agenda-add", args=[joint_meeting.pk]),
        {"source": "free", "ticket": 99999999, "title": "自由议题"},
    )
    assert response.status_code == 302
    assert joint_meeting.agenda_items.get(title="自由议题").ticket is None
