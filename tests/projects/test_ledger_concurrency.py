"""Approvals and payments of the same fund arriving at the same moment, on PostgreSQL with
real threads.

Every write locks the project's row, then the expense's, so concurrent approvers and payers
queue up: both approvals of a two-approver expense are recorded and it becomes approved once;
one approver tapping twice gives one word; two payments that together would overdraw the
fund leave one paid and the other refused, and the balance never goes below zero.

These tests commit (``transaction=True``) on the small county of ``tests/policy_world``;
when a later test of the session needs the demo county, it is put back afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from gongzhi.core.models import AuditEvent
from gongzhi.orgs.models import Organisation
from gongzhi.projects import actions, ledger
from gongzhi.projects.models import Expense, ExpenseApproval, LedgerEntry, Project
from tests.concurrency import COMMITTING, demo_county_afterwards, together  # noqa: F401 - the fixture is autouse
from tests.policy_world import build_world, seat_approvers

pytestmark = COMMITTING


@dataclass
class Fund:
    staff: Any
    branch: Any
    committee: Any
    treasurer: Any
    projects: dict[int, Project]

    def project(self, needed: int) -> Project:
        return self.projects[needed]


@pytest.fixture
def fund() -> Fund:
    """Road projects of compound X needing one and two approvals, started by A1's staff."""
    w = build_world()
    branch, committee, treasurer, _deputy = seat_approvers(w)
    staff = w.users["community_staff"]
    projects = {}
    for needed in (1, 2):
        project = actions.create_project(
            staff,
            party_org=Organisation.objects.get(kind=Organisation.Kind.PARTY_ORG, area=w.area("A1")),
            title="X小区道路修补",
            kind=Project.Kind.ROADS,
            summary="修补破损路面",
            compounds=[w.get("compound", "X")],
            branch=w.get("organisation", "X.branch"),
            committee=w.get("organisation", "X.committee"),
            approvals_required=needed,
            tickets=[w.get("ticket", "X.t1")],
        )
        projects[needed] = actions.move(staff, project, Project.State.RAISING)
    return Fund(staff, branch, committee, treasurer, projects)


def expense(fund: Fund, project: Project, amount: str) -> Expense:
    return ledger.submit_expense(
        fund.staff, project, purpose="沥青", expense_type="materials", vendor="某建材店", amount=amount
    )


def decide(who: Any, expense: Expense) -> Any:
    return lambda: ledger.decide_expense(who, Expense.objects.get(pk=expense.pk), approve=True)


def test_two_approvers_at_once_are_both_recorded_and_approve_it_once(fund: Fund) -> None:
    project = fund.project(2)
    ledger.record_income(fund.staff, project, source="subsidy", amount="1000")
    spend = expense(fund, project, "600")
    results = together(decide(fund.branch, spend), decide(fund.committee, spend))
    assert not [r for r in results if isinstance(r, Exception)], results
    spend = Expense.objects.get(pk=spend.pk)
    assert spend.state == Expense.State.APPROVED and spend.version == 2
    assert set(spend.approvals.values_list("approver", flat=True)) == {fund.branch.pk, fund.committee.pk}
    # Each saw the other's word or none: one counted one approval, the other two.
    counts = sorted(
        event.after["approvals"]
        for event in AuditEvent.objects.filter(action="projects.expense.approve", after__expense=spend.pk)
    )
    assert counts == [1, 2]
    assert project.events.filter(action="expense_approved", data__state="approved").count() == 1


def test_three_approvers_at_once_on_an_expense_needing_one(fund: Fund) -> None:
    project = fund.project(1)
    ledger.record_income(fund.staff, project, source="subsidy", amount="1000")
    spend = expense(fund, project, "600")
    results = together(*(decide(who, spend) for who in (fund.branch, fund.committee, fund.treasurer)))
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(refused) == 2 and len([r for r in results if isinstance(r, Expense)]) == 1, results
    spend = Expense.objects.get(pk=spend.pk)
    assert spend.state == Expense.State.APPROVED and spend.approvals.count() == 1 and spend.version == 1


def test_one_approver_tapping_twice_gives_one_word(fund: Fund) -> None:
    project = fund.project(2)
    ledger.record_income(fund.staff, project, source="subsidy", amount="1000")
    spend = expense(fund, project, "600")
    results = together(decide(fund.branch, spend), decide(fund.branch, spend))
    assert len([r for r in results if isinstance(r, ValidationError)]) == 1, results
    assert ExpenseApproval.objects.filter(expense=spend).count() == 1
    assert Expense.objects.get(pk=spend.pk).state == Expense.State.SUBMITTED


def approved(fund: Fund, project: Project, amount: str) -> Expense:
    spend = expense(fund, project, amount)
    ledger.decide_expense(fund.branch, spend, approve=True)
    return ledger.decide_expense(fund.committee, spend, approve=True)


def test_two_payments_that_would_overdraw_the_fund_leave_one_paid(fund: Fund) -> None:
    project = fund.project(2)
    wrong = ledger.record_income(fund.staff, project, source="subsidy", amount="600")
    ledger.record_income(fund.staff, project, source="subsidy", amount="600")
    first, second = approved(fund, project, "600"), approved(fund, project, "600")
    # A wrong income is reversed after both were approved: the fund holds one of them.
    ledger.reverse_entry(fund.staff, wrong, reason="重复登记")
    results = together(
        lambda: ledger.pay_expense(fund.staff, Expense.objects.get(pk=first.pk)),
        lambda: ledger.pay_expense(fund.staff, Expense.objects.get(pk=second.pk)),
    )
    paid = [r for r in results if isinstance(r, LedgerEntry)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(paid) == 1 and len(refused) == 1, results
    assert "amount" in refused[0].message_dict
    project = Project.objects.get(pk=project.pk)
    assert project.balance == Decimal("0.00") == paid[0].balance_after
    entries = list(LedgerEntry.objects.filter(project=project).order_by("seq"))
    assert [e.seq for e in entries] == [1, 2, 3, 4] and min(e.balance_after for e in entries) >= 0
    states = sorted(Expense.objects.filter(pk__in=[first.pk, second.pk]).values_list("state", flat=True))
    assert states == [Expense.State.APPROVED, Expense.State.PAID]


def test_one_expense_paid_twice_at_once_is_paid_once(fund: Fund) -> None:
    project = fund.project(2)
    ledger.record_income(fund.staff, project, source="subsidy", amount="1000")
    spend = approved(fund, project, "400")
    results = together(
        lambda: ledger.pay_expense(fund.staff, Expense.objects.get(pk=spend.pk)),
        lambda: ledger.pay_expense(fund.staff, Expense.objects.get(pk=spend.pk)),
    )
    assert len([r for r in results if isinstance(r, ValidationError)]) == 1, results
    assert LedgerEntry.objects.filter(expense=spend).count() == 1
    assert Project.objects.get(pk=project.pk).balance == Decimal("600.00")


def test_many_contributions_at_once_number_the_ledger_without_gaps(fund: Fund) -> None:
    project = fund.project(2)
    amounts = [Decimal(f"{n}.{n:02d}") for n in range(1, 9)]
    results = together(
        *(
            lambda amount=amount: ledger.record_income(fund.staff, project, source="subsidy", amount=amount)
            for amount in amounts
        )
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    project = Project.objects.get(pk=project.pk)
    entries = list(LedgerEntry.objects.filter(project=project).order_by("seq"))
    assert [e.seq for e in entries] == list(range(1, 9)) and project.entries_count == 8
    running = Decimal("0.00")
    for entry in entries:
        running += entry.amount
        assert entry.balance_after == running
    assert project.balance == sum(amounts) == running


def test_a_reversal_racing_a_payment_never_overdraws(fund: Fund) -> None:
    project = fund.project(2)
    income = ledger.record_income(fund.staff, project, source="subsidy", amount="1000")
    spend = approved(fund, project, "800")
    results = together(
        lambda: ledger.pay_expense(fund.staff, Expense.objects.get(pk=spend.pk)),
        lambda: ledger.reverse_entry(fund.staff, LedgerEntry.objects.get(pk=income.pk), reason="记错"),
    )
    assert len([r for r in results if isinstance(r, ValidationError)]) == 1, results
    project = Project.objects.get(pk=project.pk)
    assert project.balance in (Decimal("200.00"), Decimal("0.00"))
    assert ledger.totals(project)["balance"] == project.balance
    assert all(e.balance_after >= 0 for e in LedgerEntry.objects.filter(project=project))
