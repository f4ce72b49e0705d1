"""A meeting held through its pages: a joint meeting from its notice to the addendum after
sign-off, with the unit liaisons signing in by QR and finishing their action items; an
owners' committee meeting with its quorum and show of hands; the QR page's own rules."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from gongzhi.meetings import actions, queries, resolutions
from gongzhi.meetings.models import (
    ActionEvidence,
    ActionItem,
    Addendum,
    Attendance,
    Meeting,
    MinutesAttachment,
    Resolution,
)
from gongzhi.orgs.models import Person
from tests.meetings.test_meeting_pages import client_for, detail, pdf, person_for, png

pytestmark = pytest.mark.django_db


def test_a_joint_meeting_from_notice_to_addendum(users, joint_meeting, unit, ticket, in_days):
    community = client_for(users["community"])
    meeting = joint_meeting
    town, police, power = unit("高亭镇人民政府"), unit("县公安局高亭派出所"), unit("国网岱山县供电公司")

    # The agenda: the referred request (its title taken from the request) and a free topic.
    response = community.post(
        reverse("meeting-agenda-add", args=[meeting.pk]), {"source": "ticket", "ticket": ticket.pk}
    )
    assert response.status_code == 302
    fire_lane = meeting.agenda_items.get(ticket=ticket)
    assert fire_lane.title == ticket.title
    community.post(reverse("meeting-agenda-add", args=[meeting.pk]), {"source": "free", "title": "路灯维修"})
    lights = meeting.agenda_items.get(title="路灯维修")
    page = community.get(detail(meeting)).content.decode()
    assert f'href="/tickets/{ticket.pk}/"' in page and 'data-testid="agenda"' in page

    # Publish the notice, open the meeting.
    meeting.refresh_from_db()
    response = community.post(
        reverse("meeting-act", args=[meeting.pk, "announce"]), {"version": meeting.version}
    )
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.ANNOUNCED
    assert not meeting.invitees.filter(notified_at__isnull=True).exists()
    assert community.post(reverse("meeting-act", args=[meeting.pk, "open"])).status_code == 302

    # Staff sign in a power-company liaison from the list, and a resident without a record.
    power_person = Person.objects.filter(memberships__organisation=power).order_by("id").first()
    page = community.get(detail(meeting)).content.decode()
    assert 'data-testid="sign-in-form"' in page and f'<option value="{power_person.pk}"' in page
    assert power_person.phone not in page  # phones only masked
    assert (
        community.post(reverse("meeting-sign-in", args=[meeting.pk]), {"person": power_person.pk}).status_code
        == 302
    )
    community.post(reverse("meeting-sign-in", args=[meeting.pk]), {"name": "王阿姨"})
    assert meeting.attendances.get(person=power_person).capacity == Attendance.Capacity.INVITEE
    assert meeting.attendances.get(name="王阿姨").capacity == Attendance.Capacity.OBSERVER
    # Neither a person nor a name: the form says so, nothing is recorded.
    response = community.post(reverse("meeting-sign-in", args=[meeting.pk]), {"represents_label": "x"})
    assert (
        response.status_code == 400
        and "Choose a person from the list or write a name." in response.content.decode()
    )
    assert meeting.attendances.count() == 2

    # The QR code at the door leads to the self sign-in page.
    page = community.get(detail(meeting)).content.decode()
    qr_path = reverse("meeting-self-sign-in", args=[meeting.pk, meeting.checkin_token])
    assert 'data-testid="qr"' in page and "<svg" in page and qr_path in page

    # The town's liaison signs in by QR and counts for the town government.
    person_for(users["liaison2"], "陈建国")
    liaison2 = client_for(users["liaison2"])
    phone_page = liaison2.get(qr_path).content.decode()
    assert 'data-testid="sign-in-button"' in phone_page and 'name="viewport"' in phone_page
    assert liaison2.post(qr_path).status_code == 302
    signed = liaison2.get(qr_path).content.decode()
    assert "You are recorded as invited, for 高亭镇人民政府." in signed
    assert meeting.attendances.get(person__user=users["liaison2"]).method == Attendance.Method.QR

    # A volunteer who is not invited is recorded as an observer and not counted.
    person_for(users["volunteer"], "志愿者小李")
    volunteer = client_for(users["volunteer"])
    volunteer.post(qr_path)
    assert "You are recorded as an observer and are not counted." in volunteer.get(qr_path).content.decode()
    # A wrong code is no way in.
    assert volunteer.get(reverse("meeting-self-sign-in", args=[meeting.pk, "wrong"])).status_code == 404

    # Minutes with an attachment, then the resolution.
    response = community.post(
        reverse("meeting-item-minutes", args=[fire_lane.pk]),
        {"minutes": "派出所介绍夜间巡查情况。\n\n镇政府同意施划禁停标线。", "attachments": [pdf()]},
    )
    assert response.status_code == 302
    attachment = MinutesAttachment.objects.get(item=fire_lane)
    assert attachment.content_type == "application/pdf"
    assert community.get(reverse("meeting-attachment", args=[attachment.pk])).status_code == 200
    page = community.get(detail(meeting)).content.decode()
    assert "<p>派出所介绍夜间巡查情况。</p>" in page and 'data-testid="resolution-form"' in page
    # A file that is neither a PDF nor an image is refused and the minutes stay unwritten.
    response = community.post(
        reverse("meeting-item-minutes", args=[lights.pk]),
        {
            "minutes": "路灯",
            "attachments": [SimpleUploadedFile("x.exe", b"MZ\x90\x00", "application/octet-stream")],
        },
    )
    assert response.status_code == 400 and "neither a PDF document nor" in response.content.decode()
    lights.refresh_from_db()
    assert lights.minutes == ""

    assert (
        community.post(
            reverse("meeting-item-resolve", args=[fire_lane.pk]), {"text": "施划禁停标线，派出所每周夜查两次"}
        ).status_code
        == 302
    )
    resolution = Resolution.objects.get(item=fire_lane)
    assert resolution.adopted

    # Two action items; one with a deadline in the past is refused and not created.
    new_action = reverse("meeting-action-new", args=[resolution.pk])
    response = community.post(
        new_action,
        {
            "title": "夜查",
            "assignee_org": police.pk,
            "deadline": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 400 and "is in the past" in response.content.decode()
    assert 'value="夜查"' in response.content.decode()
    assert not ActionItem.objects.filter(resolution=resolution).exists()
    community.post(
        new_action,
        {"title": "施划消防通道禁停标线", "assignee_org": town.pk, "deadline": in_days(7).date().isoformat()},
    )
    community.post(
        new_action,
        {
            "title": "每周夜查两次并劝离车辆",
            "assignee_org": police.pk,
            "deadline": in_days(14).date().isoformat(),
        },
    )
    lines = resolution.action_items.get(title="施划消防通道禁停标线")
    patrol = resolution.action_items.get(title="每周夜查两次并劝离车辆")
    page = community.get(detail(meeting)).content.decode()
    assert 'data-testid="action-items"' in page and 'data-testid="action-item-form"' in page

    # The request goes to the agreed units, the town leading.
    assert community.post(reverse("meeting-redispatch", args=[resolution.pk])).status_code == 302
    ticket.refresh_from_db()
    assert ticket.lead_unit == town and ticket.state == "dispatched"

    # The town's liaison sees the town's item, not the police's, and finishes it with a photo.
    mine = liaison2.get(reverse("meeting-action-list")).content.decode()
    assert lines.title in mine and patrol.title not in mine
    assert liaison2.get(reverse("meeting-action-detail", args=[patrol.pk])).status_code == 403
    item_page = liaison2.get(reverse("meeting-action-detail", args=[lines.pk])).content.decode()
    assert 'data-testid="done-form"' in item_page
    done = reverse("meeting-action-act", args=[lines.pk, "done"])
    response = liaison2.post(done, {"evidence": "", "version": lines.version})
    assert response.status_code == 400
    lines.refresh_from_db()
    assert lines.state == ActionItem.State.OPEN
    response = liaison2.post(
        done, {"evidence": "已施划黄色禁停网格线40米", "photos": [png()], "version": lines.version}
    )
    assert response.status_code == 302
    lines.refresh_from_db()
    assert lines.state == ActionItem.State.DONE and lines.evidence == "已施划黄色禁停网格线40米"
    photo = ActionEvidence.objects.get(event__item=lines)
    assert liaison2.get(reverse("meeting-evidence", args=[photo.pk])).status_code == 200
    assert client_for(users["liaison"]).get(reverse("meeting-evidence", args=[photo.pk])).status_code == 403
    done_list = liaison2.get(reverse("meeting-action-list") + "?status=done").content.decode()
    assert lines.title in done_list
    # The power company's liaison has nothing to report on here.
    assert (
        liaison2.post(reverse("meeting-action-act", args=[patrol.pk, "progress"]), {"note": "x"}).status_code
        == 403
    )

    # Sign-off waits for every item's resolution.
    assert community.post(reverse("meeting-act", args=[meeting.pk, "close"])).status_code == 302
    response = community.post(reverse("meeting-act", args=[meeting.pk, "sign_off"]))
    assert response.status_code == 400 and "has no resolution yet" in response.content.decode()
    # The rest of the agenda (with any follow-ups of earlier meetings) is resolved too.
    for rest in meeting.agenda_items.filter(resolution__isnull=True):
        community.post(reverse("meeting-item-resolve", args=[rest.pk]), {"text": "由供电公司排查"})
    assert community.post(reverse("meeting-act", args=[meeting.pk, "sign_off"])).status_code == 302
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.SIGNED

    # Signed: nothing changes; corrections are addenda.
    response = community.post(reverse("meeting-item-minutes", args=[fire_lane.pk]), {"minutes": "改写"})
    assert response.status_code == 400
    assert (
        "The minutes are signed off and can no longer be changed; write an addendum."
        in response.content.decode()
    )
    fire_lane.refresh_from_db()
    assert fire_lane.minutes.startswith("派出所介绍")
    response = community.post(
        new_action, {"title": "补一条", "assignee_org": town.pk, "deadline": in_days(3).date().isoformat()}
    )
    assert response.status_code == 400
    assert not resolution.action_items.filter(title="补一条").exists()
    page = community.get(detail(meeting)).content.decode()
    assert 'data-testid="minutes-form"' not in page and 'data-testid="addendum-form"' in page
    assert (
        community.post(
            reverse("meeting-addendum", args=[meeting.pk]), {"text": "更正：标线长度为45米"}
        ).status_code
        == 302
    )
    assert Addendum.objects.filter(meeting=meeting, text="更正：标线长度为45米").exists()
    assert "更正：标线长度为45米" in community.get(detail(meeting)).content.decode()


def test_the_committee_meetings_quorum_box_and_show_of_hands(users, committee_body, in_days):
    committee = client_for(users["committee"])
    meeting = actions.create_meeting(
        users["committee"],
        kind=Meeting.Kind.COMMITTEE,
        title="业委会例会（页面）",
        convener=committee_body,
        body=committee_body,
        starts_at=in_days(8),
        place="育才新村红色议事厅",
    )
    item = actions.add_agenda_item(users["committee"], meeting, title="是否同意增设非机动车棚")
    meeting.refresh_from_db()
    committee.post(reverse("meeting-act", args=[meeting.pk, "announce"]), {"version": meeting.version})
    committee.post(reverse("meeting-act", args=[meeting.pk, "open"]))
    members = [m.person for m in committee_body.memberships.filter(left_on__isnull=True).order_by("id")]
    total, needed = len(members), len(members) // 2 + 1
    for person in members[: needed - 1]:
        committee.post(reverse("meeting-sign-in", args=[meeting.pk]), {"person": person.pk})
    page = committee.get(detail(meeting)).content.decode()
    assert 'data-quorate="0"' in page
    assert f"{needed - 1} of {total} members present — no quorum yet (more than half: {needed})" in page
    response = committee.post(
        reverse("meeting-item-resolve", args=[item.pk]), {"text": "同意", "votes_for": needed - 1}
    )
    assert (
        response.status_code == 400
        and "must be present before the body can decide" in response.content.decode()
    )
    assert not Resolution.objects.filter(item=item).exists()
    committee.post(reverse("meeting-sign-in", args=[meeting.pk]), {"person": members[needed - 1].pk})
    page = committee.get(detail(meeting)).content.decode()
    assert 'data-quorate="1"' in page
    assert f"{needed} of {total} members present — quorum reached (more than half: {needed})" in page
    assert 'data-testid="hands-needed"' in page
    votes = (total + 1) // 2
    response = committee.post(
        reverse("meeting-item-resolve", args=[item.pk]),
        {"text": "同意增设", "votes_for": votes, "votes_against": 0, "votes_abstain": needed - votes},
    )
    assert response.status_code == 302
    resolution = Resolution.objects.get(item=item)
    assert resolution.adopted and resolution.members_present == needed


def test_the_self_sign_in_page_asks_for_a_login_and_a_person_record(users, joint_meeting):
    actions.add_agenda_item(users["community"], joint_meeting, title="议题")
    actions.announce(users["community"], joint_meeting)
    path = reverse("meeting-self-sign-in", args=[joint_meeting.pk, joint_meeting.checkin_token])
    anonymous = Client().get(path)
    assert anonymous.status_code == 302 and reverse("login") in anonymous["Location"]
    assert "next=" in anonymous["Location"]
    # The power company's liaison has no person record in the demo.
    Person.objects.filter(user=users["liaison"]).update(user=None)
    page = client_for(users["liaison"]).get(path).content.decode()
    assert 'data-testid="no-person"' in page and 'data-testid="sign-in-button"' not in page
    response = client_for(users["liaison"]).post(path)
    assert response.status_code == 400
    assert not joint_meeting.attendances.exists()


def test_the_home_page_part_lists_a_liaisons_open_action_items(users, joint_meeting, unit, in_days):
    community = users["community"]
    item = actions.add_agenda_item(community, joint_meeting, title="路灯维修")
    actions.announce(community, joint_meeting)
    actions.open_session(community, joint_meeting)
    resolution = resolutions.resolve(community, item, text="镇政府负责更换路灯")
    given = resolutions.add_action_item(
        community,
        resolution,
        title="更换3幢路灯",
        assignee_org=unit("高亭镇人民政府"),
        deadline=in_days(5).date(),
    )
    with translation.override("en"):
        html = render_to_string(
            "meetings/_my_action_items.html",
            {"my_action_items": queries.open_action_items_for(users["liaison2"], limit=50)},
        )
    assert f'href="/meetings/actions/{given.pk}/"' in html and "更换3幢路灯" in html
    assert "更换3幢路灯" not in render_to_string(
        "meetings/_my_action_items.html",
        {"my_action_items": queries.open_action_items_for(users["liaison"], limit=50)},
    )
