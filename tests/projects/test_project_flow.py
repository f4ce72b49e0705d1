"""A lighting project of 育才新村 from request to closing, through the actions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from gongzhi.consultations.uploads import clean_document
from gongzhi.projects import actions, ledger
from gongzhi.projects.models import Expense, LedgerEntry, Project


def test_a_request_becomes_a_project_funded_spent_and_closed(make_project, users, yucai):
    project = make_project(levies=True)
    assert project.needs.get().ticket is not None
    community, branch, committee = users["community"], users["branch"], users["committee"]
    levy = ledger.set_levy(community, project, total="3000.00")
    shares = list(levy.shares.all())
    assert sum(s.amount for s in shares) == Decimal("3000.00")
    first = shares[0]
    ledger.record_income(
        community,
        project,
        source="household",
        amount=first.amount,
        unit=first.unit,
        method="cash",
        payer_consents=True,
    )
    ledger.record_income(
        community, project, source="member_unit", amount="5000", organisation=project.member_units.get()
    )
    assert ledger.paid_by_unit(project)[first.unit_id] == first.amount
    expense = ledger.submit_expense(
        community,
        project,
        purpose="LED路灯12盏",
        expense_type="materials",
        vendor="岱山县某照明器材店",
        amount="4200",
    )
    with pytest.raises(ValidationError):
        ledger.pay_expense(community, expense)
    ledger.decide_expense(branch, expense, approve=True)
    assert Expense.objects.get(pk=expense.pk).state == Expense.State.SUBMITTED
    ledger.decide_expense(committee, expense, approve=True)
    assert Expense.objects.get(pk=expense.pk).state == Expense.State.APPROVED
    entry = ledger.pay_expense(community, expense)
    project.refresh_from_db()
    assert entry.balance_after == project.balance == first.amount + Decimal("5000") - Decimal("4200")
    assert ledger.totals(project)["balance"] == project.balance
    assert [e.seq for e in project.entries.all()] == [1, 2, 3]
    assert LedgerEntry.objects.filter(project=project).count() == 3
    # Work done, checked, a resident objects, the objection blocks closing until answered.
    project = actions.move(community, project, Project.State.UNDERWAY)
    milestone = actions.add_milestone(community, project, title="更换路灯", weight=3)
    actions.report_progress(community, milestone, progress=100)
    assert actions.progress(project) == 100
    project = actions.move(community, project, Project.State.ACCEPTANCE)
    objection = actions.raise_objection(users["resident"], project, text="3幢门口那盏灯还是不亮")
    receipt = clean_document(
        SimpleUploadedFile("发票.pdf", b"%PDF-1.4 invoice", content_type="application/pdf")
    )
    ledger.add_receipts(community, expense, [receipt])
    with pytest.raises(ValidationError) as refused:
        actions.move(community, project, Project.State.CLOSED)
    assert "异议" in str(refused.value)  # "objections not yet answered"
    actions.answer_objection(branch, objection, answer="已于次日更换灯泡，现已正常")
    actions.rate_as_household(
        users["resident"],
        project,
        scores={t if o is None else f"unit:{o.pk}": 5 for t, o in actions.resident_targets(project)}
        | {"committee": 4, "branch": 5, "project": 5},
    )
    project = actions.move(community, project, Project.State.CLOSED)
    assert project.state == Project.State.CLOSED
