"""A hot issue through a discussion hall to work done — and not done — in the browser.

Five households of 育才新村 report leaning poles and sagging wires within days. The community
sees the warning on its home page and takes it onto the agenda of the compound's discussion
hall; the hall is announced, held with sign-in (the town's liaison by QR on a phone),
minuted, and resolves; the resolution gives work to two member units. The power company
reports its part done with a photo; the town's part runs past its deadline, is marked overdue
and comes back on the next discussion hall's agenda. Each request's timeline tells all of it,
the minutes print as a Chinese PDF, and the compound's public page shows the resolution
without anyone's name.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.utils import timezone
from PIL import Image
from pypdf import PdfReader

from gongzhi.housing.models import Compound
from gongzhi.meetings import actions
from gongzhi.meetings.models import ActionItem, AgendaItem, Attendance, Meeting
from gongzhi.meetings.sweep import sweep
from gongzhi.orgs.models import Organisation, Person, ServiceCategory
from gongzhi.tickets import actions as ticket_actions
from tests.browser.conftest import DESK, PHONE, as_user, fits, screenshot

POWER, TOWN = "国网岱山县供电公司", "高亭镇人民政府"


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "pole-straightened.jpg"
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), "gray").save(buf, "JPEG")
    path.write_bytes(buf.getvalue())
    return path


@pytest.fixture
def poles(seeded_live_server):  # type: ignore[no-untyped-def]
    """Five reports of leaning poles in five buildings of 育才新村, from residents' phones."""
    from django.contrib.auth import get_user_model

    resident = get_user_model().objects.get(username="resident")
    yucai = Compound.objects.get(name="育才新村")
    category = ServiceCategory.objects.get(code="power")
    return [
        ticket_actions.file_ticket(
            resident,
            channel="phone_page",
            category=category,
            description=f"{n}幢门口电线杆倾斜，电线垂到晾衣杆高度",
            building=yucai.buildings.get(number=str(n)),
            reporter_phone=f"1385800{n:04d}",
            attributes={"hazard": "yes"},
        )
        for n in range(1, 6)
    ]


@pytest.fixture
def hall(seeded_live_server):  # type: ignore[no-untyped-def]
    """The discussion hall of 育才新村, convened by its owners' committee in four days."""
    from django.contrib.auth import get_user_model

    community = get_user_model().objects.get(username="community")
    yucai = Compound.objects.get(name="育才新村")
    committee = Organisation.objects.get(compound=yucai, kind=Organisation.Kind.OWNERS_COMMITTEE)
    units = Organisation.objects.filter(name__in=[POWER, TOWN])
    starts = (timezone.localtime() + dt.timedelta(days=4)).replace(hour=19, minute=0, second=0, microsecond=0)
    return actions.create_meeting(
        community,
        kind=Meeting.Kind.HALL,
        title="育才新村红色议事厅：线杆安全",
        convener=committee,
        compound=yucai,
        starts_at=starts,
        place="育才新村红色议事厅",
        organisations=list(units),
    )


def test_hot_issue_to_meeting_to_work_done_and_overdue(browser, seeded_live_server, poles, hall, photo):  # type: ignore[no-untyped-def]
    base = seeded_live_server.url
    yucai = hall.compound
    key = f"cluster:c{yucai.pk}:cat:power"

    # The community's home page shows the warning, with why it fired.
    staff = as_user(browser, base, "community", **DESK)
    home = staff.locator("[data-testid=hot-issues]")
    assert "育才新村" in home.inner_text()
    staff.goto(f"{base}/meetings/warnings/")
    warning = staff.locator(f"[data-testid=warning][data-key='{key}']")
    assert "5" in warning.locator("[data-testid=explanation]").inner_text()
    warning.locator("[data-testid=adopt-form] select").select_option(str(hall.pk))
    warning.locator("[data-testid=adopt-form] button").click()
    staff.wait_for_url(f"{base}/meetings/{hall.pk}/")
    item = AgendaItem.objects.get(meeting=hall, suggestion_key=key)
    assert {t.pk for t in poles} <= set(item.related_tickets.values_list("pk", flat=True))
    assert staff.locator("[data-testid=hot-evidence]").is_visible()

    # Publish the notice, open the meeting.
    staff.click("[data-testid=act-announce]")
    staff.wait_for_load_state()
    assert Meeting.objects.get(pk=hall.pk).state == Meeting.State.ANNOUNCED
    Meeting.objects.filter(pk=hall.pk).update(starts_at=timezone.now() - dt.timedelta(minutes=5))
    staff.reload()
    staff.click("[data-testid=act-open]")
    staff.wait_for_load_state()
    assert Meeting.objects.get(pk=hall.pk).state == Meeting.State.IN_SESSION

    # The town's liaison signs in by scanning the QR code with a phone.
    from django.contrib.auth import get_user_model

    liaison2 = get_user_model().objects.get(username="liaison2")
    Person.objects.get_or_create(user=liaison2, defaults={"name": "陈建国"})
    phone = as_user(browser, base, "liaison2", **PHONE)
    hall.refresh_from_db()
    phone.goto(f"{base}/meetings/{hall.pk}/sign-in/{hall.checkin_token}/")
    phone.click("[data-testid=sign-in-button]")
    phone.wait_for_load_state()
    assert phone.locator("[data-testid=signed-in]").is_visible()
    assert fits(phone)
    attendance = Attendance.objects.get(meeting=hall, person__user=liaison2)
    assert attendance.capacity == Attendance.Capacity.INVITEE and attendance.represents.name == TOWN
    # A resident without an account is signed in at the desk by name.
    staff.reload()
    staff.fill("[data-testid=sign-in-form] [name=name]", "李阿姨")
    staff.click("[data-testid=sign-in-form] button[type=submit]")
    staff.wait_for_load_state()
    assert "李阿姨" in staff.locator("[data-testid=attendance]").inner_text()

    # Minutes, the resolution, and two action items for two units.
    row = staff.locator(f"[data-testid=agenda-item]:has(form[action$='/items/{item.pk}/minutes/'])")
    row.locator("[data-testid=minutes-form] textarea").fill(
        "居民反映线杆倾斜。会议认为：\n- 供电公司三日内扶正电杆、整理下垂线缆\n- 镇政府协调移除压线的树枝"
    )
    row.locator("[data-testid=minutes-form] button[type=submit]").click()
    staff.wait_for_load_state()
    row = staff.locator(f"[data-testid=agenda-item]:has(form[action$='/items/{item.pk}/resolve/'])")
    row.locator("[data-testid=resolution-form] textarea").fill("扶正倾斜电杆，整理线缆，清理压线树枝")
    row.locator("[data-testid=resolution-form] button[type=submit]").click()
    staff.wait_for_load_state()
    resolution = AgendaItem.objects.get(pk=item.pk).resolution
    today = timezone.localdate()
    for title, unit, days in (("扶正电杆并整理下垂线缆", POWER, 3), ("清理压在线缆上的树枝", TOWN, 6)):
        form = staff.locator(f"form[action$='/resolutions/{resolution.pk}/actions/new/']")
        staff.locator(
            f"details:has(form[action$='/resolutions/{resolution.pk}/actions/new/']) > summary"
        ).click()
        form.locator("[name=title]").fill(title)
        form.locator("[name=assignee_org]").select_option(label=unit)
        form.locator("[name=deadline]").fill((today + dt.timedelta(days=days)).isoformat())
        form.locator("button[type=submit]").click()
        staff.wait_for_load_state()
    work = {a.assignee_org.name: a for a in ActionItem.objects.filter(resolution=resolution)}
    assert set(work) == {POWER, TOWN}
    assert staff.locator("[data-testid=action-items] tr[data-action]").count() == 2
    staff.click("[data-testid=act-close]")
    staff.wait_for_load_state()
    staff.click("[data-testid=act-sign-off]")
    staff.wait_for_load_state()
    assert staff.locator("[data-testid=signed]").is_visible()
    screenshot(staff, "meeting-hall-signed")

    # The power company reports its part done, with a photo, from a phone.
    power = as_user(browser, base, "liaison", **PHONE)
    assert "扶正电杆并整理下垂线缆" in power.locator("[data-testid=my-action-items]").inner_text()
    power.goto(f"{base}/meetings/actions/{work[POWER].pk}/")
    power.fill("[data-testid=done-form] textarea[name=evidence]", "已扶正3根电杆，下垂线缆重新固定")
    power.set_input_files("[data-testid=done-form] input[type=file]", str(photo))
    power.click("[data-testid=done-form] button[type=submit]")
    power.wait_for_load_state()
    assert "已扶正3根电杆" in power.locator("[data-testid=evidence]").inner_text()
    assert fits(power)
    screenshot(power, "meeting-action-done-phone")
    assert ActionItem.objects.get(pk=work[POWER].pk).status == "done"

    # A week later the town's part is past its deadline: the sweep (cron) marks it overdue,
    # and the next discussion hall the committee convenes carries it on its agenda.
    later = timezone.now() + dt.timedelta(days=8)
    assert sweep(later)["overdue"] >= 1
    assert ActionItem.objects.get(pk=work[TOWN].pk).status == "overdue"
    next_hall = actions.create_meeting(
        get_user_model().objects.get(username="community"),
        kind=Meeting.Kind.HALL,
        title="育才新村红色议事厅：下月例会",
        convener=hall.convener,
        compound=yucai,
        starts_at=timezone.now() + dt.timedelta(days=20),
        place="育才新村红色议事厅",
    )
    staff.goto(f"{base}/meetings/{next_hall.pk}/")
    agenda = staff.locator("[data-testid=agenda]").inner_text()
    assert "清理压在线缆上的树枝" in agenda and "扶正电杆" not in agenda
    assert "已逾期" in agenda

    # Each request's timeline tells the whole story, in Chinese.
    staff.goto(f"{base}/tickets/{poles[0].pk}/")
    story = staff.locator("body").inner_text()
    for words in (
        "议程",
        "决议",
        "扶正电杆并整理下垂线缆",
        "已办结“扶正电杆并整理下垂线缆”",
        "“清理压在线缆上的树枝”（高亭镇人民政府）已逾期",
        "育才新村红色议事厅：下月例会",
    ):
        assert words in story, words
    screenshot(staff, "meeting-ticket-timeline")

    # The signed minutes as a PDF, in Chinese.
    response = staff.request.get(f"{base}/meetings/{hall.pk}/minutes.pdf")
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)
    assert "育才新村红色议事厅：线杆安全" in text and "扶正倾斜电杆" in text and "会议纪要" in text

    # The compound's public page, without signing in: the resolution and the work, no names.
    visitor = browser.new_context(**PHONE).new_page()
    visitor.goto(f"{base}/c/{yucai.code}/")
    page = visitor.locator("body").inner_text()
    assert "扶正倾斜电杆，整理线缆，清理压线树枝" in page
    assert "清理压在线缆上的树枝" in page
    for private in ("李阿姨", "陈建国", "13858000001", "张志毅"):
        assert private not in page
    assert fits(visitor)
    screenshot(visitor, "meeting-public-compound-phone")
