"""In the browser: the community organises a clean-up of 育才新村 at the desk, prints the QR
poster; the volunteer, on a 360-px phone, scans it, checks in and out; the desk verifies;
every page the volunteer opens fits the phone without sideways scrolling."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from gongzhi.housing.models import Compound
from gongzhi.orgs.models import Organisation
from gongzhi.volunteers.models import Activity, Attendance
from tests.browser.conftest import DESK, PHONE, as_user, fits, screenshot


def local(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def signed_in(browser, seeded_live_server):  # type: ignore[no-untyped-def]
    """Pages signed in as demo logins; their windows close before the live server stops."""
    pages: list[Any] = []

    def open_as(username: str, device: dict[str, Any]) -> Any:
        page = as_user(browser, seeded_live_server.url, username, **device)
        pages.append(page)
        return page

    yield open_as
    for page in pages:
        page.context.close()


def test_a_clean_up_from_the_desk_to_the_volunteers_phone(seeded_live_server, signed_in):  # type: ignore[no-untyped-def]
    base = seeded_live_server.url
    yucai = Compound.objects.get(name="育才新村")
    branch = Organisation.objects.get(kind=Organisation.Kind.JOINT_BRANCH, name="育才新村第一兼合式党支部")
    now = timezone.now()

    # The community staff organise it on the office desktop.
    staff = signed_in("community", DESK)
    staff.goto(f"{base}/volunteers/new/")
    staff.fill("#id_title", "育才新村垃圾分类宣传")
    staff.select_option("#id_kind", Activity.Kind.OTHER)
    staff.select_option("#id_compound", str(yucai.pk))
    staff.select_option("#id_organiser", str(branch.pk))
    staff.fill("#id_place", "育才新村北门")
    staff.fill("#id_starts_at", local(now - dt.timedelta(minutes=20)))
    staff.fill("#id_ends_at", local(now + dt.timedelta(hours=2)))
    staff.fill("#id_capacity", "8")
    staff.click("[data-testid=activity-form] button[type=submit]")
    staff.wait_for_load_state()
    activity = Activity.objects.get(title="育才新村垃圾分类宣传")
    assert staff.url == f"{base}/volunteers/{activity.pk}/"
    staff.click("[data-testid=poster-link]")
    staff.wait_for_load_state()
    scan_url = staff.locator("[data-testid=scan-url]").inner_text().strip()
    assert scan_url.endswith(f"/volunteers/scan/{activity.checkin_code}/")
    screenshot(staff, "volunteers-poster")

    # The volunteer signs up and scans the code on a cheap phone.
    phone = signed_in("volunteer", PHONE)
    phone.goto(f"{base}/volunteers/{activity.pk}/")
    assert fits(phone)
    phone.click("[data-testid=sign-up]")
    phone.wait_for_load_state()
    assert phone.locator("[data-testid=signed-up]").is_visible()
    phone.goto(scan_url)
    assert fits(phone)
    phone.click("[data-testid=scan-in]")
    phone.wait_for_load_state()
    assert phone.locator("[data-testid=scan-out]").is_visible()
    screenshot(phone, "volunteers-scan-checked-in")
    volunteer = get_user_model().objects.get(username="volunteer")
    attendance = Attendance.objects.get(activity=activity, person__user=volunteer)
    assert attendance.checked_in_by == Attendance.Method.QR
    phone.click("[data-testid=scan-out]")
    phone.wait_for_load_state()
    assert phone.locator("[data-testid=scan-done]").is_visible()
    assert fits(phone)
    phone.goto(f"{base}/volunteers/{activity.pk}/")

    # The desk sees them in and out; every volunteer page fits the phone.
    staff.goto(f"{base}/volunteers/{activity.pk}/")
    row = staff.locator(f"[data-testid=attendance] tr[data-person='{attendance.person_id}']")
    assert row.locator("[data-testid=in]").inner_text().strip() != ""
    assert row.locator("[data-testid=out]").inner_text().strip() != ""
    screenshot(staff, "volunteers-desk")
    assert phone.locator("[data-testid=cancel-sign-up]").count() == 0  # present: no withdrawing
    for path in ("/volunteers/", "/volunteers/posts/", f"/volunteers/{activity.pk}/", "/volunteers/me/"):
        phone.goto(base + path)
        assert fits(phone), path
    screenshot(phone, "volunteers-me")
    desk_phone = signed_in("community", PHONE)
    for path in (f"/volunteers/{activity.pk}/", "/volunteers/board/", "/volunteers/party/register/"):
        desk_phone.goto(base + path)
        assert fits(desk_phone), path
    desk_phone.goto(f"{base}/volunteers/board/{branch.pk}/")
    assert fits(desk_phone)
    screenshot(desk_phone, "volunteers-board")
