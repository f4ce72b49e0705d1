"""The notice and the minutes of a discussion hall in 育才新村, printed by the community staff
and published to the residents: the staff PDF reads in Chinese, a draft says it is one, and
the public version names nobody and masks the mobile number a speaker left in the minutes."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from pypdf import PdfReader

from gongzhi.core.models import AuditEvent
from gongzhi.meetings import actions, resolutions
from gongzhi.meetings.documents import masked_name, minutes_html, redact, redact_request_text
from gongzhi.meetings.models import AgendaItem, Attendance, Meeting
from gongzhi.orgs.models import Person

pytestmark = pytest.mark.django_db

SPOKEN_MOBILE = "139 0580 1234"
MINUTES = (
    "陈建国介绍了夜间巡查情况，联系电话 139 0580 1234。\n"
    "王秀英代表3幢居民发言，希望尽快施划标线。\n"
    "派出所值班电话0580-4472303，群众可随时反映。"
)
RESOLUTION = "施划消防通道禁停标线，派出所每周夜查两次"


def signed_in_as(user: Any, language: str = "zh-hans") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def pdf_text(pdf: bytes) -> str:
    """The PDF's text with all white space removed (extraction breaks lines anywhere)."""
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return "".join(text.split())


def flat(text: str) -> str:
    return "".join(text.split())


@pytest.fixture
def hall(users, yucai, unit, party_org, in_days, ticket):  # type: ignore[no-untyped-def]
    """A discussion hall for 育才新村 about the blocked fire lane, held and minuted (not yet
    signed off): the town's liaison signs in by QR, a resident by name, a passer-by watches."""
    community = users["community"]
    police, town = unit("县公安局高亭派出所"), unit("高亭镇人民政府")
    presenter = Person.objects.create(name="李卫东")
    meeting = actions.create_meeting(
        community,
        kind=Meeting.Kind.HALL,
        title="育才新村红色议事厅（消防通道）",
        convener=party_org,
        compound=yucai,
        starts_at=in_days(10),
        place="育才新村红色议事厅",
        organisations=[police, town],
    )
    item = actions.add_agenda_item(
        community,
        meeting,
        title="3幢消防通道被占",
        source=AgendaItem.Source.TICKET,
        ticket=ticket,
        presenter=presenter,
        presenter_org=police,
    )
    actions.announce(community, meeting)
    meeting = actions.open_session(community, meeting, now=meeting.starts_at)
    Person.objects.update_or_create(user=users["liaison2"], defaults={"name": "陈建国"})
    actions.sign_in(users["liaison2"], meeting, method=Attendance.Method.QR)
    actions.sign_in(community, meeting, name="王秀英", represents_label="3幢居民")
    passer_by = actions.sign_in(community, meeting, person=Person.objects.create(name="周晓梅"))
    assert passer_by.capacity == Attendance.Capacity.OBSERVER
    actions.write_minutes(community, item, minutes=MINUTES)
    resolution = resolutions.resolve(community, item, text=RESOLUTION)
    resolutions.add_action_item(
        community, resolution, title="施划消防通道禁停标线", assignee_org=town, deadline=in_days(7).date()
    )
    resolutions.add_action_item(
        community,
        resolution,
        title="每周两次夜间巡查",
        assignee_person=Person.objects.create(name="赵志刚"),
        deadline=in_days(14).date(),
    )
    for carried in meeting.agenda_items.filter(resolution__isnull=True):  # from earlier halls
        resolutions.resolve(community, carried, text="继续督办")
    actions.end_session(community, meeting)
    meeting.refresh_from_db()
    return meeting


def attendee_names(meeting: Meeting) -> list[str]:
    return list(meeting.attendances.values_list("name", flat=True))


def sign_off(users, meeting: Meeting) -> Meeting:  # type: ignore[no-untyped-def]
    actions.sign_off(users["community"], meeting)
    actions.add_addendum(
        users["community"], meeting, text="更正：陈建国的电话为13905801234，标线长度为45米。"
    )
    meeting.refresh_from_db()
    return meeting


def test_the_staff_minutes_pdf_reads_in_chinese_and_is_logged_as_an_export(users, hall, yucai):
    meeting = sign_off(users, hall)
    client = signed_in_as(users["community"])
    with translation.override("zh-hans"):
        response = client.get(reverse("meeting-minutes-pdf", args=[meeting.pk]))
        label = gettext("Resolution")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    for expected in (
        meeting.title,
        RESOLUTION,
        flat(label),
        yucai.name,
        "陈建国",
        "王秀英",
        "施划消防通道禁停标线",
    ):
        assert flat(expected) in text, expected
    # The staff version names those present; the mobile number is masked, the landline kept.
    assert "139****1234" in text and "0580-4472303" in text and "13905801234" not in text
    event = AuditEvent.objects.filter(action="meetings.minutes.export", object_id=str(meeting.pk)).get()
    assert event.kind == AuditEvent.Kind.EXPORT and event.actor == users["community"]


def test_the_staff_minutes_page_lists_observers_apart_and_the_addendum_after_the_sign_off(users, hall):
    meeting = sign_off(users, hall)
    page = signed_in_as(users["community"], "en").get(reverse("meeting-minutes", args=[meeting.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="draft-band"' not in body
    observers = body[body.index('data-testid="observers"') :]
    assert "周晓梅" in observers and "周晓梅" not in body[: body.index('data-testid="observers"')]
    assert body.index('data-testid="sign-off"') < body.index('data-testid="addendum"')
    assert "Minutes signed off by" in body
    assert "a named person" not in body and "赵志刚" in body  # staff see who was given the work


def test_before_sign_off_the_minutes_are_a_draft_on_the_page_and_in_the_pdf(users, hall):
    client = signed_in_as(users["community"])
    with translation.override("zh-hans"):
        page = client.get(reverse("meeting-minutes", args=[hall.pk]))
        pdf = client.get(reverse("meeting-minutes-pdf", args=[hall.pk]))
        band = gettext("Draft — not signed off")
    assert 'data-testid="draft-band"' in page.content.decode()
    assert band in page.content.decode()
    assert flat(band) in pdf_text(pdf.content)
    assert "草稿" in pdf["Content-Disposition"] or "filename*" in pdf["Content-Disposition"]


def test_a_meeting_not_yet_held_has_no_minutes_and_an_unpublished_one_no_notice(users, joint_meeting):
    actions.add_agenda_item(users["community"], joint_meeting, title="楼道堆物清理")
    client = signed_in_as(users["community"])
    assert client.get(reverse("meeting-notice", args=[joint_meeting.pk])).status_code == 404
    assert client.get(reverse("meeting-notice-pdf", args=[joint_meeting.pk])).status_code == 404
    assert client.get(reverse("meeting-minutes", args=[joint_meeting.pk])).status_code == 404
    assert not AuditEvent.objects.filter(
        action="meetings.notice.export", object_id=str(joint_meeting.pk)
    ).exists()


def test_the_minutes_are_for_staff_in_scope_only(users, hall):
    assert Client().get(reverse("meeting-minutes", args=[hall.pk])).status_code == 302  # to the sign-in page
    # A member unit that was not invited does not see the meeting.
    assert signed_in_as(users["liaison"]).get(reverse("meeting-minutes", args=[hall.pk])).status_code in (
        403,
        404,
    )


def test_the_public_minutes_name_nobody_and_mask_the_mobile_but_keep_the_resolution(users, hall, yucai):
    meeting = sign_off(users, hall)
    url = reverse("public-meeting-minutes", args=[yucai.code, meeting.pk])
    with translation.override("zh-hans"):
        page = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get(url)
        pdf = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get(
            reverse("public-meeting-minutes-pdf", args=[yucai.code, meeting.pk])
        )
    assert page.status_code == 200 and pdf.status_code == 200
    body, text = page.content.decode(), pdf_text(pdf.content)
    hidden = [*attendee_names(meeting), "李卫东", "赵志刚", "13905801234", SPOKEN_MOBILE, flat(SPOKEN_MOBILE)]
    for leak in hidden:
        assert leak not in body, leak
        assert flat(leak) not in text, leak
    for kept in (RESOLUTION, "陈某", "王某", "139****1234", "0580-4472303", "施划消防通道禁停标线"):
        assert kept in body, kept
        assert flat(kept) in text, kept
    # Attendance as counts and bodies; the person given work is "a named person"; the request
    # is "#id title" without its tracking link.
    assert "高亭镇人民政府" in body and 'data-testid="attendance-counts"' in body
    with translation.override("zh-hans"):
        assert gettext("a named person") in body
    ticket = meeting.agenda_items.get(title="3幢消防通道被占").ticket
    assert f"#{ticket.pk}" in body and ticket.token not in body and "/t/" not in body
    assert 'data-testid="addendum"' in body and "陈某的电话为139****1234" in body


def test_public_minutes_are_only_for_signed_off_meetings_of_that_compound(users, hall, yucai):
    from gongzhi.housing.models import Compound

    url = reverse("public-meeting-minutes", args=[yucai.code, hall.pk])
    assert Client().get(url).status_code == 404  # not signed off yet
    sign_off(users, hall)
    assert Client().get(url).status_code == 200
    other = Compound.objects.exclude(pk=yucai.pk).first()
    assert Client().get(reverse("public-meeting-minutes", args=[other.code, hall.pk])).status_code == 404


def test_the_notice_lists_the_agenda_and_the_rules_with_a_qr_code_to_the_compound_page(users, hall, yucai):
    client = signed_in_as(users["community"], "en")
    page = client.get(reverse("meeting-notice", args=[hall.pk])).content.decode()
    assert "3幢消防通道被占" in page and "李卫东" in page and "县公安局高亭派出所" in page
    assert "高亭镇人民政府" in page and "育才新村红色议事厅" in page
    announced = timezone.localtime(hall.announced_at).strftime("%Y-%m-%d")
    days = actions.notice_days(Meeting.Kind.HALL)
    assert (
        f"published at least {days} {'day' if days == 1 else 'days'} before the meeting, on {announced}"
        in page
    )
    assert "<svg" in page and reverse("public-compound", args=[yucai.code]) in page
    assert 'data-testid="quorum-rule"' not in page  # a discussion hall decides by agreement
    pdf = client.get(reverse("meeting-notice-pdf", args=[hall.pk]))
    assert pdf.status_code == 200 and flat(hall.title) in pdf_text(pdf.content)
    event = AuditEvent.objects.filter(action="meetings.notice.export", object_id=str(hall.pk)).get()
    assert event.kind == AuditEvent.Kind.EXPORT


def test_a_committee_notice_states_the_quorum_in_words(users, committee_body, convene_committee):
    from tests.meetings.conftest import member_people

    committee = users["committee"]
    meeting, _ = convene_committee(days=9, stage="announced")
    total = len(member_people(committee_body))
    page = signed_in_as(committee, "en").get(reverse("meeting-notice", args=[meeting.pk])).content.decode()
    assert f"has {total} members" in page
    assert f"at least {total // 2 + 1}) are present" in page
    assert f"at least half of all members (at least {(total + 1) // 2})" in page
    assert "published at least 7 days before the meeting" in page


# ---- redaction: a pure function -----------------------------------------------------------


def test_redact_masks_names_to_surname_and_mou():
    assert redact("王建国主持会议，李四发言。", ["王建国", "李四"]) == "王某主持会议，李某发言。"


def test_redact_finds_names_inside_longer_words():
    assert redact("由王建国同志负责，请王建国们注意", ["王建国"]) == "由王某同志负责，请王某们注意"


def test_redact_replaces_the_longest_of_overlapping_names_first():
    # 建国 is also someone's name; 王建国 must not become 王建某.
    assert redact("王建国和建国都到了", ["建国", "王建国"]) == "王某和建某都到了"
    assert redact("欧阳明发言", ["欧阳明", "欧阳"]) == "欧阳某发言"


def test_redact_replaces_every_occurrence_and_ignores_empty_names():
    assert redact("陈红说，陈红认为", ["陈红", "", "  ", "陈红"]) == "陈某说，陈某认为"
    assert redact("无人发言", []) == "无人发言"
    assert redact("", ["王建国"]) == ""


def test_one_character_and_compound_surnames():
    assert masked_name("丽") == "某"
    assert masked_name("欧阳修文") == "欧阳某"
    assert masked_name("司马光") == "司马某"
    assert masked_name("王五") == "王某"


@pytest.mark.parametrize(
    "written, shown",
    [
        ("电话13857001986", "电话138****1986"),
        ("电话 138 5700 1986。", "电话 138****1986。"),
        ("138-5700-1986", "138****1986"),
        ("+86 13857001986", "138****1986"),
        ("值班电话0580-4472303", "值班电话0580-4472303"),
        ("两个号码13857001986、15906801234", "两个号码138****1986、159****1234"),
        ("编号1234567890123不是手机", "编号1234567890123不是手机"),
    ],
)
def test_redact_masks_mobiles_and_keeps_landlines(written, shown):
    assert redact(written, []) == shown


def test_masked_numbers_survive_the_minutes_rich_text():
    html = minutes_html(redact("**决定**：联系13857001986或15906801234", []))
    assert html == "<p><strong>决定</strong>：联系138****1986或159****1234</p>"


def test_request_text_also_loses_the_room_number():
    assert (
        redact_request_text("3幢2单元401室楼上漏水，电话13857001986", [])
        == "3幢2单元***室楼上漏水，电话138****1986"
    )
    assert redact_request_text("3-2-401 门口堆物", []) == "*** 门口堆物"
