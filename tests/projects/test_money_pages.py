"""The fund pages of 育才新村's lighting project, through the test client.

The community (``community``) records income, submits and pays expenses and sets the levy;
the joint branch (``branch``) and the owners' committee (``committee``) approve; the town
(``town``) confirms emergencies; the power company's liaison (``liaison``) takes part and
only looks; the town government's liaison (``liaison2``) has nothing to do with it.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse
from openpyxl import load_workbook
from PIL import Image

from gongzhi.consultations.uploads import clean_document
from gongzhi.core.models import AuditEvent
from gongzhi.decisions.models import Decision
from gongzhi.orgs.models import Organisation
from gongzhi.projects import ledger, views_money
from gongzhi.projects.models import Expense, ExpenseApproval, LedgerEntry, Levy, Project, Receipt


def png(name: str = "receipt.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


@pytest.fixture
def as_user(users):  # type: ignore[no-untyped-def]
    def client(name: str) -> Client:
        c = Client()
        c.force_login(users[name])
        return c

    return client


@pytest.fixture
def funded(make_project, users):  # type: ignore[no-untyped-def]
    """A project whose fund holds 5000 yuan from the power company."""

    def make(**options: Any) -> Project:
        project = make_project(**options)
        ledger.record_income(
            users["community"],
            project,
            source="member_unit",
            amount="5000",
            organisation=project.member_units.get(),
        )
        project.refresh_from_db()
        return project

    return make


def url(name: str, project: Project, *more: Any) -> str:
    return reverse(name, args=[project.pk, *more])


def household(project: Project, building: str = "3") -> Any:
    return ledger.scope_units(project).filter(building__number=building).select_related("entrance").first()


def household_post(project: Project, unit: Any, **extra: Any) -> dict[str, Any]:
    return {
        "source": "household",
        "amount": "120.50",
        "occurred_on": "2026-01-05",
        "method": "cash",
        "building": unit.building_id,
        "entrance": unit.entrance.number,
        "room": unit.number,
        "payer_name": "林美华",
        "payer_consents": "on",
        **extra,
    }


# ---- who sees what ------------------------------------------------------------------------


def test_every_fund_page_renders_for_staff_and_is_refused_to_an_unrelated_liaison(funded, users, as_user):  # type: ignore[no-untyped-def]
    project = funded(levies=True)
    community = users["community"]
    ledger.set_levy(community, project, total="3000")
    unit = household(project)
    ledger.record_income(
        community,
        project,
        source="household",
        amount="10",
        unit=unit,
        method="cash",
        receipts=[clean_document(png(), "receipts")],
    )
    expense = ledger.submit_expense(
        community, project, purpose="LED路灯12盏", expense_type="materials", vendor="岱山照明", amount="800"
    )
    receipt = Receipt.objects.get(project=project)
    pages = [
        url("project-ledger", project),
        url("project-income-new", project),
        url("project-expenses", project),
        url("project-expense-new", project),
        url("project-expense-detail", project, expense.pk),
        url("project-levy", project),
        url("project-levy-export", project),
        url("project-receipt", project, receipt.pk),
    ]
    staff, outsider = as_user("community"), as_user("liaison2")
    for page in pages:
        assert staff.get(page).status_code == 200, page
        assert outsider.get(page).status_code in (403, 404), page
    # The liaison of a member unit taking part reads the fund but records nothing.
    partner = as_user("liaison")
    assert partner.get(url("project-ledger", project)).status_code == 200
    assert partner.get(url("project-income-new", project)).status_code == 403
    assert partner.get(url("project-levy-export", project)).status_code == 403
    # The notification to approvers points at the expense's page.
    assert (
        url("project-expense-detail", project, expense.pk) == f"/projects/{project.pk}/expenses/{expense.pk}/"
    )
    # Only the town (and the county) confirm emergencies.
    assert as_user("town").get(url("project-emergency-new", project)).status_code == 200
    assert staff.get(url("project-emergency-new", project)).status_code == 403


def test_the_project_page_summary_shows_the_fund_and_asks_an_approver(funded, users):  # type: ignore[no-untyped-def]
    project = funded(levies=True)
    ledger.set_levy(users["community"], project, total="3000")
    expense = ledger.submit_expense(
        users["community"], project, purpose="灯杆", expense_type="materials", vendor="岱山照明", amount="700"
    )

    def summary(name: str) -> str:
        request = RequestFactory().get(f"/projects/{project.pk}/")
        request.user = users[name]
        return render_to_string(
            "projects/money/_summary.html",
            {**views_money.money_context(request, project), "project": project},
            request=request,
        )

    committee_sees = summary("committee")
    assert "5000.00" in committee_sees and "700.00" in committee_sees
    assert 'data-testid="fund-check"><span class="badge ok">' in committee_sees
    assert url("project-expense-act", project, expense.pk, "approve") in committee_sees
    households = ledger.scope_units(project).count()
    assert f'data-paid="0" data-partly="0" data-unpaid="{households}"' in committee_sees
    # The community submitted it and sits on neither body: no buttons.
    assert url("project-expense-act", project, expense.pk, "approve") not in summary("community")


# ---- income -------------------------------------------------------------------------------


def test_a_household_pays_with_a_receipt_photo(make_project, users, as_user):  # type: ignore[no-untyped-def]
    project = make_project()
    unit = household(project)
    community = as_user("community")
    response = community.post(
        url("project-income-new", project), household_post(project, unit, receipts=png())
    )
    assert response.status_code == 302
    entry = LedgerEntry.objects.get(project=project)
    assert (entry.unit, entry.amount, entry.method, entry.payer_consents) == (
        unit,
        Decimal("120.50"),
        "cash",
        True,
    )
    receipt = entry.receipts.get()
    shown = community.get(url("project-receipt", project, receipt.pk))
    assert shown.status_code == 200 and shown["Content-Type"] == "image/png"
    page = community.get(url("project-ledger", project)).content.decode()
    assert unit.address_label in page and "林美华" in page and "+120.50" in page
    assert AuditEvent.objects.filter(action="projects.ledger.payers", object_id=str(project.pk)).exists()
    # A second household pays but does not want to be listed by unit.
    shy = household(project, "4")
    assert (
        community.post(
            url("project-income-new", project),
            household_post(project, shy, payer_name="周建国", payer_consents=""),
        ).status_code
        == 302
    )
    # A resident of the compound sees the first household by unit (it consented), no names,
    # and the second only as a household.
    seen = as_user("resident").get(url("project-ledger", project)).content.decode()
    assert unit.address_label in seen and "林美华" not in seen
    assert shy.address_label not in seen and "周建国" not in seen
    assert shy.address_label in community.get(url("project-ledger", project)).content.decode()


def test_a_household_outside_the_project_is_refused(make_project, as_user):  # type: ignore[no-untyped-def]
    project = make_project()
    unit = household(project)
    response = as_user("community").post(
        url("project-income-new", project), household_post(project, unit, room="9999")
    )
    assert response.status_code == 400
    assert "9999" in response.content.decode()
    assert not LedgerEntry.objects.filter(project=project).exists()


def test_member_unit_subsidy_and_shared_income_are_recorded(make_project, as_user):  # type: ignore[no-untyped-def]
    project = make_project()
    community = as_user("community")
    power = project.member_units.get()
    posts = [
        {"source": "member_unit", "amount": "5000", "organisation": power.pk, "method": "transfer"},
        {"source": "subsidy", "amount": "3000", "purpose": "镇老旧小区微改造补助"},
        {"source": "shared_income", "amount": "860.00", "purpose": "小区广告位收入"},
    ]
    for post in posts:
        response = community.post(url("project-income-new", project), {"occurred_on": "2026-01-05", **post})
        assert response.status_code == 302, response.content.decode()[:2000]
    entries = list(LedgerEntry.objects.filter(project=project).order_by("seq"))
    assert [e.source for e in entries] == ["member_unit", "subsidy", "shared_income"]
    assert entries[0].organisation == power
    assert [e.balance_after for e in entries] == [Decimal("5000"), Decimal("8000"), Decimal("8860")]
    project.refresh_from_db()
    assert project.balance == Decimal("8860.00")


def test_the_maintenance_fund_needs_a_decision_or_the_towns_confirmation(make_project, yucai, as_user):  # type: ignore[no-untyped-def]
    project = make_project()
    community = as_user("community")
    fund = {"source": "maintenance_fund", "amount": "20000", "occurred_on": "2026-01-05"}
    refused = community.post(url("project-income-new", project), fund)
    assert refused.status_code == 400
    assert "decision" in refused.context["form"].errors
    # The roof vote of 育才新村 is still open: it is not offered, and cannot be slipped in.
    voting = Decision.objects.get(compound=yucai, matter=5)
    assert voting.state != Decision.State.PUBLISHED
    assert (
        community.post(url("project-income-new", project), {**fund, "decision": voting.pk}).status_code == 400
    )
    assert not LedgerEntry.objects.filter(project=project).exists()
    # The town confirms the leaking roof as an emergency; then the fund can pay.
    town = as_user("town")
    confirmed = town.post(
        url("project-emergency-new", project),
        {"hazard": "leak", "description": "3幢屋面大面积渗漏", "reference": "高政急〔2026〕3号"},
    )
    assert confirmed.status_code == 302
    emergency = project.emergencies.get()
    form = community.get(url("project-income-new", project) + "?source=maintenance_fund").content.decode()
    assert "高政急〔2026〕3号" in form
    recorded = community.post(url("project-income-new", project), {**fund, "emergency": emergency.pk})
    assert recorded.status_code == 302
    assert LedgerEntry.objects.get(project=project).emergency == emergency


# ---- expenses -----------------------------------------------------------------------------


def test_an_expense_is_submitted_approved_twice_paid_and_shows_in_the_ledger(funded, users, as_user):  # type: ignore[no-untyped-def]
    project = funded()
    community = as_user("community")
    submitted = community.post(
        url("project-expense-new", project),
        {
            "purpose": "LED路灯12盏",
            "expense_type": "materials",
            "vendor": "岱山照明",
            "amount": "4200",
            "receipts": png(),
        },
    )
    assert submitted.status_code == 302
    expense = Expense.objects.get(project=project)
    detail = url("project-expense-detail", project, expense.pk)
    # The branch secretary approves from the project page and comes back to it.
    back = as_user("branch").post(
        url("project-expense-act", project, expense.pk, "approve"),
        {"version": expense.version, "next": f"/projects/{project.pk}/"},
    )
    assert back.status_code == 302 and back["Location"] == f"/projects/{project.pk}/"
    page = community.get(detail).content.decode()
    assert 'data-testid="approval-count" data-yes="1" data-required="2"' in page
    expense.refresh_from_db()
    assert expense.state == Expense.State.SUBMITTED
    committee = as_user("committee")
    assert (
        committee.post(
            url("project-expense-act", project, expense.pk, "approve"),
            {"version": expense.version, "note": "价格已比对三家"},
        ).status_code
        == 302
    )
    expense.refresh_from_db()
    assert expense.state == Expense.State.APPROVED
    trail = community.get(detail).content.decode()
    assert "育才新村第一兼合式党支部" in trail and "育才新村业主委员会" in trail and "价格已比对三家" in trail
    paid = community.post(
        url("project-expense-act", project, expense.pk, "pay"),
        {"version": expense.version, "occurred_on": "2026-01-06", "method": "transfer"},
    )
    assert paid.status_code == 302
    project.refresh_from_db()
    assert project.balance == Decimal("800.00")
    entry = LedgerEntry.objects.get(project=project, expense=expense)
    assert (entry.seq, entry.balance_after) == (2, Decimal("800.00"))
    shown = community.get(url("project-ledger", project)).content.decode()
    assert "−4200.00" in shown and 'data-testid="balance-after">800.00<' in shown
    # The quotation sent with it counts as its receipt.
    assert ledger.missing_receipts(project).count() == 0


def test_a_paid_expense_without_a_receipt_is_flagged_until_one_is_added(funded, users, as_user):  # type: ignore[no-untyped-def]
    project = funded()
    expense = ledger.submit_expense(
        users["community"], project, purpose="电缆", expense_type="materials", vendor="岱山电料", amount="300"
    )
    ledger.decide_expense(users["branch"], expense, approve=True)
    ledger.decide_expense(users["committee"], expense, approve=True)
    ledger.pay_expense(users["community"], expense)
    community = as_user("community")
    detail = url("project-expense-detail", project, expense.pk)
    assert 'data-testid="missing-receipt"' in community.get(detail).content.decode()
    added = community.post(url("project-expense-act", project, expense.pk, "receipts"), {"receipts": png()})
    assert added.status_code == 302
    assert 'data-testid="missing-receipt"' not in community.get(detail).content.decode()
    assert ledger.missing_receipts(project).count() == 0


def test_the_submitter_cannot_approve_their_own_expense(funded, users, as_user):  # type: ignore[no-untyped-def]
    project = funded(approvals=1)
    branch = as_user("branch")
    assert (
        branch.post(
            url("project-expense-new", project),
            {"purpose": "灯泡", "expense_type": "materials", "vendor": "岱山照明", "amount": "90"},
        ).status_code
        == 302
    )
    expense = Expense.objects.get(project=project)
    refused = branch.post(
        url("project-expense-act", project, expense.pk, "approve"), {"version": expense.version}
    )
    assert refused.status_code == 400
    assert 'data-testid="page-errors"' in refused.content.decode()
    assert not ExpenseApproval.objects.filter(expense=expense).exists()
    expense.refresh_from_db()
    assert expense.state == Expense.State.SUBMITTED


def test_approving_twice_paying_early_and_refusing_without_a_note_are_refused(funded, users, as_user):  # type: ignore[no-untyped-def]
    project = funded()
    expense = ledger.submit_expense(
        users["community"], project, purpose="灯杆", expense_type="materials", vendor="岱山照明", amount="700"
    )
    committee = as_user("committee")
    act = url("project-expense-act", project, expense.pk, "approve")
    assert committee.post(act, {}).status_code == 302
    assert committee.post(act, {}).status_code == 400
    assert ExpenseApproval.objects.filter(expense=expense).count() == 1
    early = as_user("community").post(
        url("project-expense-act", project, expense.pk, "pay"),
        {"occurred_on": "2026-01-06", "method": "cash"},
    )
    assert early.status_code == 400
    assert not LedgerEntry.objects.filter(expense=expense).exists()
    silent = as_user("branch").post(url("project-expense-act", project, expense.pk, "reject"), {"note": ""})
    assert silent.status_code == 400
    expense.refresh_from_db()
    assert expense.state == Expense.State.SUBMITTED
    # Someone outside the committee and branch has no seat to approve from.
    assert as_user("community").post(act, {}).status_code == 403


def test_a_withdrawn_expense_no_longer_holds_money(funded, users, as_user):  # type: ignore[no-untyped-def]
    project = funded()
    expense = ledger.submit_expense(
        users["community"],
        project,
        purpose="灯杆",
        expense_type="materials",
        vendor="岱山照明",
        amount="4000",
    )
    community = as_user("community")
    withdraw = url("project-expense-act", project, expense.pk, "withdraw")
    assert community.post(withdraw, {"reason": ""}).status_code == 400
    assert community.post(withdraw, {"reason": "改由供电公司直接供货"}).status_code == 302
    assert ledger.committed(project) == Decimal("0")


# ---- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["-50", "0", "12.345", "999999999999", "一百元", ""])
def test_bad_amounts_are_refused_and_change_nothing(funded, users, as_user, amount):  # type: ignore[no-untyped-def]
    project = funded()
    community = as_user("community")
    before = (LedgerEntry.objects.filter(project=project).count(), Expense.objects.count(), project.balance)
    income = community.post(
        url("project-income-new", project),
        {"source": "subsidy", "amount": amount, "occurred_on": "2026-01-05"},
    )
    assert income.status_code == 400
    assert 'class="errorlist' in income.content.decode()
    expense = community.post(
        url("project-expense-new", project),
        {"purpose": "灯杆", "expense_type": "materials", "vendor": "岱山照明", "amount": amount},
    )
    assert expense.status_code == 400
    project.refresh_from_db()
    assert (
        LedgerEntry.objects.filter(project=project).count(),
        Expense.objects.count(),
        project.balance,
    ) == before


def test_an_expense_over_the_available_balance_is_refused(funded, users, as_user):  # type: ignore[no-untyped-def]
    project = funded()
    ledger.submit_expense(
        users["community"],
        project,
        purpose="灯杆",
        expense_type="materials",
        vendor="岱山照明",
        amount="3000",
    )
    response = as_user("community").post(
        url("project-expense-new", project),
        {"purpose": "灯泡", "expense_type": "materials", "vendor": "岱山照明", "amount": "2500"},
    )
    assert response.status_code == 400
    assert "2000.00" in response.content.decode()
    assert Expense.objects.filter(project=project).count() == 1


# ---- reversal -----------------------------------------------------------------------------


def test_a_reversal_appends_an_entry_and_the_balance_returns(funded, users, as_user):  # type: ignore[no-untyped-def]
    project = funded()
    wrong = ledger.record_income(users["community"], project, source="subsidy", amount="300")
    reverse_url = url("project-entry-reverse", project, wrong.pk)
    community = as_user("community")
    assert community.post(reverse_url, {"reason": ""}).status_code == 400
    assert as_user("branch").post(reverse_url, {"reason": "重复录入"}).status_code == 403
    assert community.post(reverse_url, {"reason": "重复录入"}).status_code == 302
    project.refresh_from_db()
    assert project.balance == Decimal("5000.00")
    entries = list(LedgerEntry.objects.filter(project=project).order_by("seq"))
    assert [(e.seq, e.amount, e.reverses_id) for e in entries] == [
        (1, Decimal("5000.00"), None),
        (2, Decimal("300.00"), None),
        (3, Decimal("-300.00"), wrong.pk),
    ]
    page = community.get(url("project-ledger", project)).content.decode()
    assert 'data-testid="reversed-by"' in page and 'data-testid="reverses"' in page
    again = community.post(reverse_url, {"reason": "再冲一次"})
    assert again.status_code == 400
    assert LedgerEntry.objects.filter(project=project).count() == 3


# ---- levy ---------------------------------------------------------------------------------


def test_the_levy_is_shared_by_area_tracked_by_household_and_exported(make_project, users, as_user):  # type: ignore[no-untyped-def]
    project = make_project(levies=True)
    levy_url = url("project-levy", project)
    assert as_user("branch").post(levy_url, {"total": "3000"}).status_code == 403
    community = as_user("community")
    assert community.post(levy_url, {"total": "30.001"}).status_code == 400
    assert (
        community.post(levy_url, {"total": "3000.00", "note": "按预算的四分之一由业主分摊"}).status_code
        == 302
    )
    levy = Levy.objects.get(project=project)
    shares = list(levy.shares.select_related("unit"))
    assert sum(s.amount for s in shares) == Decimal("3000.00")
    assert len(shares) == ledger.scope_units(project).count()
    assert community.post(levy_url, {"total": "5000"}).status_code == 400
    full, part = shares[0], shares[1]
    ledger.record_income(
        users["community"], project, source="household", amount=full.amount, unit=full.unit, method="cash"
    )
    prefilled = community.get(url("project-income-new", project) + f"?unit={part.unit_id}").content.decode()
    assert f'value="{part.amount}"' in prefilled
    ledger.record_income(
        users["community"], project, source="household", amount="1.00", unit=part.unit, method="transfer"
    )
    page = community.get(levy_url).content.decode()
    assert f'data-unit="{full.unit_id}" data-status="paid"' in page
    assert f'data-unit="{part.unit_id}" data-status="partly"' in page
    unpaid = community.get(levy_url + "?status=unpaid").content.decode()
    assert (
        f'data-unit="{full.unit_id}"' not in unpaid
        and unpaid.count('data-status="unpaid"') == len(shares) - 2
    )

    export = community.get(url("project-levy-export", project))
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == len(shares) + 1
    by_room = {(r[1], r[2], r[3]): r for r in rows[1:]}
    first = by_room[(full.unit.building.number, full.unit.entrance.number, full.unit.number)]
    assert Decimal(str(first[5])) == full.amount and Decimal(str(first[6])) == full.amount
    assert sum(Decimal(str(r[5])) for r in rows[1:]) == Decimal("3000.00")
    assert AuditEvent.objects.filter(
        kind=AuditEvent.Kind.EXPORT, action="projects.levy.export", object_id=str(project.pk)
    ).exists()


def test_a_project_that_does_not_levy_has_no_levy_form(make_project, as_user):  # type: ignore[no-untyped-def]
    project = make_project()
    community = as_user("community")
    assert 'data-testid="levy-form"' not in community.get(url("project-levy", project)).content.decode()
    assert community.post(url("project-levy", project), {"total": "3000"}).status_code == 400
    assert not Levy.objects.filter(project=project).exists()
    assert community.get(url("project-levy-export", project)).status_code == 404


def test_member_units_offered_are_member_units(make_project, as_user):  # type: ignore[no-untyped-def]
    project = make_project()
    branch_org = project.branch
    assert branch_org is not None and branch_org.kind != Organisation.Kind.MEMBER_UNIT
    response = as_user("community").post(
        url("project-income-new", project),
        {
            "source": "member_unit",
            "amount": "100",
            "organisation": branch_org.pk,
            "occurred_on": "2026-01-05",
        },
    )
    assert response.status_code == 400
    assert not LedgerEntry.objects.filter(project=project).exists()
