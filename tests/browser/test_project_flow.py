"""A resident's need becomes a community project, funded, spent, worked on and closed — in the
browser.

The lamps along 育才新村's main path have been dark for weeks; a resident reports it. The
community starts a lighting project from the request. Two households contribute (one agrees to
be shown by its room on the public ledger), the power company gives support. The community
submits an expense for the lamps; the joint branch's secretary and an owners' committee member
approve it, each from their own account, and the community pays it. The public ledger shows the
payment with its receipt, and the balance equals income minus expenses. A Saturday labour shift
credits a volunteer with hours and points. At the acceptance check a resident objects; the
project cannot close until the objection is answered.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from gongzhi.housing.models import Compound, Unit
from gongzhi.orgs.models import Person, ServiceCategory
from gongzhi.projects.models import Expense, LedgerEntry, Project
from gongzhi.tickets import actions as ticket_actions
from gongzhi.volunteers.models import Activity, HoursEntry
from tests.browser.conftest import DESK, PHONE, as_user, fits, screenshot

POWER = "国网岱山县供电公司"


def _jpeg(colour: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (480, 320), colour).save(buf, "JPEG")
    return buf.getvalue()


@pytest.fixture
def receipt(tmp_path: Path) -> Path:
    path = tmp_path / "invoice.jpg"
    path.write_bytes(_jpeg("white"))
    return path


@pytest.fixture
def dark_lamps(seeded_live_server):  # type: ignore[no-untyped-def]
    from django.contrib.auth import get_user_model

    resident = get_user_model().objects.get(username="resident")
    yucai = Compound.objects.get(name="育才新村")
    return ticket_actions.file_ticket(
        resident,
        channel="phone_page",
        category=ServiceCategory.objects.get(code="lighting"),
        description="小区主路的路灯坏了好几个星期，晚上老人出门看不清路",
        building=yucai.buildings.get(number="3"),
        reporter_phone="13857001986",
        attributes={"fixture": "street"},
        photos=[SimpleUploadedFile("dark.jpg", _jpeg("black"), content_type="image/jpeg")],
    )


def _open(page, form: str) -> None:  # type: ignore[no-untyped-def]
    """Unfold the <details> a form sits in, as a person would click its summary."""
    summary = page.locator(f"details:has({form}) > summary")
    if summary.count() and not page.locator(form).first.is_visible():
        summary.first.click()


def _submit(page, form: str) -> None:  # type: ignore[no-untyped-def]
    page.click(f"{form} button[type=submit]")
    page.wait_for_load_state()


def test_need_to_project_to_public_ledger_and_closing(browser, seeded_live_server, dark_lamps, receipt):  # type: ignore[no-untyped-def]
    base = seeded_live_server.url
    yucai = dark_lamps.compound

    # The community starts a project from the request.
    staff = as_user(browser, base, "community", **DESK)
    staff.goto(f"{base}/tickets/{dark_lamps.pk}/")
    staff.click("[data-testid=start-project]")
    staff.wait_for_load_state()
    form = "[data-testid=project-form]"
    staff.fill(f"{form} [name=title]", "育才新村主路路灯更新")
    staff.select_option(f"{form} [name=kind]", "lighting")
    staff.fill(f"{form} [name=summary]", "更换主路12盏路灯，居民筹资、联建单位支持、党员志愿者筹劳")
    staff.check(f"{form} [name=compounds][value='{yucai.pk}']")
    staff.select_option(f"{form} [name=branch]", label="育才新村第一兼合式党支部")
    staff.select_option(f"{form} [name=committee]", label="育才新村业主委员会")
    _open(staff, "input[name=member_units]")
    staff.check(f"{form} label:has-text('{POWER}') input[name=member_units]")
    staff.fill(f"{form} [name=budget]", "12000")
    _submit(staff, form)
    project = Project.objects.get(title="育才新村主路路灯更新")
    assert project.needs.get().ticket_id == dark_lamps.pk
    staff.wait_for_url(f"{base}/projects/{project.pk}/")
    staff.click("[data-testid=move-raising] button[type=submit]")
    staff.wait_for_load_state()
    assert Project.objects.get(pk=project.pk).state == Project.State.RAISING

    # Two households contribute; the power company gives its support.
    units = list(Unit.objects.filter(compound=yucai, building__number="3").order_by("id")[:2])
    for unit, amount, consents in ((units[0], "300.00", True), (units[1], "200.50", False)):
        staff.goto(f"{base}/projects/{project.pk}/income/new/")
        income = "[data-testid=income-form]"
        staff.select_option(f"{income} [name=source]", "household")
        staff.select_option(f"{income} [name=building]", str(unit.building_id))
        staff.fill(f"{income} [name=entrance]", unit.entrance.number)
        staff.fill(f"{income} [name=room]", unit.number)
        staff.fill(f"{income} [name=payer_name]", "王秀英" if consents else "赵德明")
        staff.fill(f"{income} [name=amount]", amount)
        staff.select_option(f"{income} [name=method]", "cash" if consents else "transfer")
        if consents:
            staff.check(f"{income} [name=payer_consents]")
        _submit(staff, income)
        assert staff.locator(income).count() == 0, staff.locator(income).inner_text()
    staff.goto(f"{base}/projects/{project.pk}/income/new/")
    staff.select_option("[data-testid=income-form] [name=source]", "member_unit")
    staff.select_option("[data-testid=income-form] [name=organisation]", label=POWER)
    staff.fill("[data-testid=income-form] [name=amount]", "5000")
    _submit(staff, "[data-testid=income-form]")
    assert Project.objects.get(pk=project.pk).balance == Decimal("5500.50")

    # An expense: submitted by the community, approved by two others, paid.
    staff.goto(f"{base}/projects/{project.pk}/expenses/new/")
    staff.fill("[data-testid=expense-form] [name=purpose]", "LED路灯12盏及安装")
    staff.select_option("[data-testid=expense-form] [name=expense_type]", "materials")
    staff.fill("[data-testid=expense-form] [name=vendor]", "岱山县明亮照明器材店")
    staff.fill("[data-testid=expense-form] [name=amount]", "4200")
    _submit(staff, "[data-testid=expense-form]")
    expense = Expense.objects.get(project=project)
    for approver in ("branch", "committee"):
        page = as_user(browser, base, approver, **PHONE)
        page.goto(f"{base}/projects/{project.pk}/expenses/{expense.pk}/")
        _submit(page, "[data-testid=approve-form]")
        assert fits(page)
        page.context.close()
    assert Expense.objects.get(pk=expense.pk).state == Expense.State.APPROVED
    staff.goto(f"{base}/projects/{project.pk}/expenses/{expense.pk}/")
    trail = staff.locator("[data-testid=approval-trail]").inner_text()
    assert "育才新村第一兼合式党支部" in trail and "育才新村业主委员会" in trail
    staff.set_input_files("[data-testid=pay-form] input[type=file]", str(receipt))
    _submit(staff, "[data-testid=pay-form]")
    assert Expense.objects.get(pk=expense.pk).state == Expense.State.PAID
    project.refresh_from_db()
    assert project.balance == Decimal("1300.50")
    assert list(project.entries.values_list("seq", flat=True)) == [1, 2, 3, 4]
    screenshot(staff, "project-expense-paid")

    # The public ledger, without signing in: the payment, its receipt, the balance.
    visitor = browser.new_context(**PHONE).new_page()
    visitor.goto(f"{base}/c/{yucai.code}/projects/{project.pk}/")
    ledger = visitor.locator("[data-testid=ledger]").inner_text().replace(",", "")
    assert "LED路灯12盏及安装" in ledger and "4200.00" in ledger
    assert visitor.locator("[data-testid=balanced]").is_visible()
    assert "1300.50" in visitor.locator("[data-testid=balance]").inner_text().replace(",", "")
    page_text = visitor.locator("body").inner_text()
    assert units[0].number in page_text  # the consenting household, by its room
    for private in ("王秀英", "赵德明", "13857001986"):
        assert private not in page_text
    assert visitor.locator("[data-testid=receipt]").count() >= 1
    assert fits(visitor)
    screenshot(visitor, "project-public-ledger-phone")
    income = sum(e.amount for e in LedgerEntry.objects.filter(project=project, direction="income"))
    spent = sum(e.amount for e in LedgerEntry.objects.filter(project=project, direction="expense"))
    assert income - spent == Project.objects.get(pk=project.pk).balance

    # A labour shift of the project: the volunteer signs up from a phone, the desk records
    # three hours, the organiser verifies after the shift — two hours count, two points.
    staff.goto(f"{base}/projects/{project.pk}/")
    staff.click("[data-testid=add-shift]")
    staff.wait_for_load_state()
    now = timezone.localtime()
    started = (now - dt.timedelta(hours=3)).replace(second=0, microsecond=0)
    shift = "[data-testid=activity-form]"
    staff.fill(f"{shift} [name=title]", "路灯更换义务劳动：清理灯杆周边")
    staff.select_option(f"{shift} [name=organiser]", label="育才新村第一兼合式党支部")
    staff.fill(f"{shift} [name=place]", "育才新村主路")
    staff.fill(f"{shift} [name=starts_at]", started.strftime("%Y-%m-%dT%H:%M"))
    staff.fill(f"{shift} [name=ends_at]", (now + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    staff.fill(f"{shift} [name=capacity]", "10")
    _submit(staff, shift)
    activity = Activity.objects.get(project=project)
    volunteer = as_user(browser, base, "volunteer", **PHONE)
    volunteer.goto(f"{base}/volunteers/{activity.pk}/")
    volunteer.click("[data-testid=sign-up]")
    volunteer.wait_for_load_state()
    assert volunteer.locator("[data-testid=signed-up]").is_visible()
    assert fits(volunteer)
    person = Person.objects.get(user__username="volunteer")
    staff.goto(f"{base}/volunteers/{activity.pk}/")
    desk = "[data-testid=desk-form]"
    for move, at in (("in", started), ("out", now - dt.timedelta(minutes=1))):
        staff.select_option(f"{desk} [name=person]", str(person.pk))
        staff.fill(f"{desk} [name=at]", at.strftime("%Y-%m-%dT%H:%M"))
        staff.click(f"[data-testid=desk-{move}]")
        staff.wait_for_load_state()
    # The shift ends.
    Activity.objects.filter(pk=activity.pk).update(ends_at=timezone.now() - dt.timedelta(minutes=1))
    staff.reload()
    staff.click("[data-testid=verify]")
    staff.wait_for_load_state()
    hours = HoursEntry.objects.get(activity=activity, person=person)
    assert hours.minutes_present >= 170 and hours.minutes_counted == 120
    assert hours.points_entry.points == Decimal("2.0")
    volunteer.goto(f"{base}/volunteers/me/")
    assert "2" in volunteer.locator("[data-testid=points-balance]").inner_text()
    assert volunteer.locator("[data-testid=hours]").count() >= 1
    screenshot(volunteer, "project-volunteer-hours-phone")

    # The work: one milestone done; then the acceptance check.
    staff.goto(f"{base}/projects/{project.pk}/")
    staff.click("[data-testid=move-underway] button[type=submit]")
    staff.wait_for_load_state()
    _open(staff, "[data-testid=milestone-form]")
    staff.fill("[data-testid=milestone-form] [name=title]", "更换主路路灯")
    _submit(staff, "[data-testid=milestone-form]")
    _open(staff, "[data-testid=progress-form]")
    staff.fill("[data-testid=progress-form] [name=progress]", "100")
    _submit(staff, "[data-testid=progress-form]")
    staff.click("[data-testid=move-acceptance] button[type=submit]")
    staff.wait_for_load_state()
    assert Project.objects.get(pk=project.pk).state == Project.State.ACCEPTANCE

    # A resident objects from a phone; closing is refused until it is answered.
    resident = as_user(browser, base, "resident", **PHONE)
    resident.goto(f"{base}/projects/{project.pk}/")
    _open(resident, "[data-testid=objection-form]")
    resident.fill("[data-testid=objection-form] textarea[name=text]", "3幢门口那盏灯晚上还是不亮")
    _submit(resident, "[data-testid=objection-form]")
    assert fits(resident)
    staff.reload()
    assert staff.locator("[data-testid=close-blockers]").is_visible()
    assert "异议" in staff.locator("[data-testid=close-blockers]").inner_text()
    closing = staff.locator("[data-testid=move-closed] button[type=submit]")
    if closing.count():
        closing.click()
        staff.wait_for_load_state()
    assert Project.objects.get(pk=project.pk).state == Project.State.ACCEPTANCE
    staff.fill("[data-testid=answer-form] textarea[name=answer]", "已于次日更换灯泡，现已正常照明")
    _submit(staff, "[data-testid=answer-form]")
    staff.click("[data-testid=move-closed] button[type=submit]")
    staff.wait_for_load_state()
    assert Project.objects.get(pk=project.pk).state == Project.State.CLOSED
    screenshot(staff, "project-closed")
