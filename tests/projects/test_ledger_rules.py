"""The rules of a project's fund, one refusal at a time, on 育才新村's lighting project.

The community (``community``) records money and submits expenses; the joint branch's
secretary (``branch``) and an owners' committee member (``committee``) approve them. Every
refusal is checked twice: it names the field or says why, and it wrote nothing at all —
no entry, no expense, no approval, no event, no audit row, the balance untouched.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone, translation

from gongzhi.consultations.uploads import clean_document
from gongzhi.core.models import AppendOnlyError, AuditEvent
from gongzhi.decisions.models import Decision, Result
from gongzhi.housing.models import Compound, Unit
from gongzhi.orgs.models import Area, Membership, Person, Role, RoleGrant
from gongzhi.projects import actions, ledger
from gongzhi.projects.models import (
    Expense,
    ExpenseApproval,
    LedgerEntry,
    Levy,
    LevyShare,
    Project,
    ProjectEvent,
    Receipt,
)
from gongzhi.tickets.models import Notification

P, E = Project.State, Expense.State


# ---- helpers ------------------------------------------------------------------------------------


def footprint(project: Project) -> tuple[Any, ...]:
    """Everything a fund operation could write, to compare before and after a refusal."""
    p = Project.objects.get(pk=project.pk)
    return (
        p.balance,
        p.entries_count,
        p.state,
        list(LedgerEntry.objects.filter(project=p).values_list("seq", "amount", "balance_after")),
        list(Expense.objects.filter(project=p).values_list("id", "state", "version")),
        ExpenseApproval.objects.filter(expense__project=p).count(),
        Receipt.objects.filter(project=p).count(),
        Levy.objects.filter(project=p).count(),
        ProjectEvent.objects.filter(project=p).count(),
        AuditEvent.objects.count(),
        Notification.objects.count(),
    )


def refused(
    project: Project, call: Callable[[], Any], *, field: str | None = None, says: str = ""
) -> ValidationError:
    """Run ``call``, expect a ValidationError (naming ``field``, containing ``says``) and
    nothing written."""
    before = footprint(project)
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        call()
    error = caught.value
    if field is not None:
        assert field in error.message_dict, error
    assert says in " ".join(error.messages), error.messages
    assert footprint(project) == before
    return error


def forbidden(project: Project, call: Callable[[], Any]) -> None:
    before = footprint(project)
    with pytest.raises(PermissionDenied):
        call()
    assert footprint(project) == before


def receipt() -> Any:
    return clean_document(SimpleUploadedFile("发票.pdf", b"%PDF-1.4 invoice", content_type="application/pdf"))


@pytest.fixture
def community(users: dict[str, Any]) -> Any:
    return users["community"]


@pytest.fixture
def project(make_project: Callable[..., Project]) -> Project:
    return make_project()


def give(project: Project, who: Any, amount: str, source: str = "subsidy", **extra: Any) -> LedgerEntry:
    return ledger.record_income(who, project, source=source, amount=amount, **extra)


def ask(project: Project, who: Any, amount: str, purpose: str = "LED路灯") -> Expense:
    return ledger.submit_expense(
        who, project, purpose=purpose, expense_type="materials", vendor="岱山县照明器材店", amount=amount
    )


def approved(project: Project, who: Any, amount: str, users: dict[str, Any]) -> Expense:
    expense = ask(project, who, amount)
    ledger.decide_expense(users["branch"], expense, approve=True)
    return ledger.decide_expense(users["committee"], expense, approve=True)


def fresh(obj: Any) -> Any:
    return type(obj).objects.get(pk=obj.pk)


@pytest.fixture
def third_approver(yucai: Compound) -> Any:
    """赵静荣, a member of the project's joint branch, gets an account: a third approver."""
    user = get_user_model().objects.create_user(username="zhao_jingrong", password="x-not-used-1")  # noqa: S106
    RoleGrant.objects.create(user=user, role=Role.BRANCH_SECRETARY, compound=yucai)
    person = Person.objects.get(
        name="赵静荣", memberships__organisation__name="育才新村第一兼合式党支部", user__isnull=True
    )
    person.user = user
    person.save(update_fields=["user"])
    return user


# ---- amounts ------------------------------------------------------------------------------------

BAD_AMOUNTS = [
    pytest.param("-5", "more than zero", id="negative"),
    pytest.param("0", "more than zero", id="zero"),
    pytest.param("0.00", "more than zero", id="zero-fen"),
    pytest.param("12.345", "two decimals", id="three-decimals"),
    pytest.param("一百", "not an amount", id="not-a-number"),
    pytest.param("", "Enter an amount", id="empty"),
    pytest.param("NaN", "not an amount", id="nan"),
    pytest.param("10000000.01", "more than one entry may hold", id="absurd"),
]


@pytest.mark.parametrize(("amount", "says"), BAD_AMOUNTS)
def test_a_bad_income_amount_is_refused_naming_the_field(project, community, amount, says):
    refused(project, lambda: give(project, community, amount), field="amount", says=says)


@pytest.mark.parametrize(("amount", "says"), BAD_AMOUNTS)
def test_a_bad_expense_amount_is_refused_naming_the_field(project, community, amount, says):
    give(project, community, "9000")
    refused(project, lambda: ask(project, community, amount), field="amount", says=says)


def test_a_float_is_never_taken_for_money(project, community):
    before = footprint(project)
    with pytest.raises(TypeError):
        give(project, community, 10.5)  # type: ignore[arg-type]
    assert footprint(project) == before


@override_settings(GONGZHI_MAX_AMOUNT=5000)
def test_the_largest_amount_follows_the_setting(project, community):
    refused(project, lambda: give(project, community, "5000.01"), field="amount", says="5000")
    assert give(project, community, "5000").balance_after == Decimal("5000.00")


@pytest.mark.parametrize(("total", "says"), [("-1", "more than zero"), ("1.001", "two decimals")])
def test_a_bad_levy_total_is_refused_naming_the_field(make_project, community, total, says):
    project = make_project(levies=True)
    refused(project, lambda: ledger.set_levy(community, project, total=total), field="total", says=says)


# ---- what the fund holds -----------------------------------------------------------------------


def test_an_expense_may_ask_only_for_what_is_not_yet_promised(project, community, users):
    give(project, community, "1000")
    first = ask(project, community, "700")
    error = refused(project, lambda: ask(project, community, "300.01"), field="amount", says="300.00")
    assert "of which 700.00 are already promised" in " ".join(error.messages)
    ask(project, community, "300")
    refused(project, lambda: ask(project, community, "0.01"), field="amount")
    # Withdrawing the first frees what it held; a rejected one as well.
    ledger.withdraw_expense(community, first, reason="报价太高，重新询价")
    second = ask(project, community, "700")
    ledger.decide_expense(users["branch"], second, approve=False, note="型号不对")
    assert fresh(second).state == E.REJECTED
    ask(project, community, "700")


def test_paying_more_than_the_balance_is_impossible(project, community, users):
    income = give(project, community, "600")
    give(project, community, "600")
    first = approved(project, community, "600", users)
    second = approved(project, community, "600", users)
    # A wrong income is reversed after both were approved: the fund holds only one of them.
    ledger.reverse_entry(community, income, reason="重复登记")
    ledger.pay_expense(community, first)
    error = refused(project, lambda: ledger.pay_expense(community, second), field="amount", says="below zero")
    assert "0.00" in " ".join(error.messages)
    assert fresh(second).state == E.APPROVED
    assert fresh(project).balance == Decimal("0.00")


def test_an_expense_is_paid_once(project, community, users):
    give(project, community, "1000")
    expense = approved(project, community, "400", users)
    ledger.pay_expense(community, expense)
    refused(project, lambda: ledger.pay_expense(community, expense), says="Paid")
    assert fresh(project).balance == Decimal("600.00")


def test_a_payment_with_a_stale_version_is_refused(project, community, users):
    give(project, community, "1000")
    expense = approved(project, community, "400", users)
    stale = expense.version - 1
    refused(project, lambda: ledger.pay_expense(community, expense, version=stale), says="Reload")


# ---- approvals ----------------------------------------------------------------------------------


def test_the_submitter_cannot_approve_their_own_expense(make_project, users):
    project = make_project(approvals=1)
    branch, committee = users["branch"], users["committee"]
    give(project, branch, "1000")
    expense = ask(project, branch, "300")  # the branch's secretary asks, and is an approver
    refused(project, lambda: ledger.decide_expense(branch, expense, approve=True), says="submitted")
    ledger.decide_expense(committee, expense, approve=True)
    assert fresh(expense).state == E.APPROVED
    assert [a.approver for a in fresh(expense).approvals.all()] == [committee]


def test_an_approver_who_submits_needs_enough_others(project, users):
    # Two approvers in all; the branch's secretary asking leaves one, and two are needed.
    give(project, users["branch"], "1000")
    refused(project, lambda: ask(project, users["branch"], "300"), says="Fewer than 2")


def test_each_approver_speaks_once(project, community, users):
    give(project, community, "1000")
    expense = ask(project, community, "300")
    ledger.decide_expense(users["branch"], expense, approve=True)
    refused(
        project,
        lambda: ledger.decide_expense(users["branch"], expense, approve=True),
        says="already given your word",
    )
    refused(
        project,
        lambda: ledger.decide_expense(users["branch"], expense, approve=False, note="改主意了"),
        says="already given your word",
    )
    assert fresh(expense).state == E.SUBMITTED


def test_the_database_refuses_a_second_word_from_the_same_approver(project, community, users):
    give(project, community, "1000")
    expense = ask(project, community, "300")
    first = ledger.decide_expense(users["branch"], expense, approve=True).approvals.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        ExpenseApproval.objects.create(
            expense=expense,
            approver=users["branch"],
            person=first.person,
            body=first.body,
            approve=True,
            at=timezone.now(),
        )


@pytest.mark.parametrize("who", ["liaison", "resident", "grid", "volunteer", "town"])
def test_only_a_member_of_the_committee_or_branch_approves(project, community, users, who):
    give(project, community, "1000")
    expense = ask(project, community, "300")
    forbidden(project, lambda: ledger.decide_expense(users[who], expense, approve=True))
    assert fresh(expense).state == E.SUBMITTED


def test_a_member_who_left_the_committee_no_longer_approves(project, community, users):
    give(project, community, "1000")
    expense = ask(project, community, "300")
    Membership.objects.filter(person__user=users["committee"], organisation=project.committee).update(
        left_on=timezone.localdate()
    )
    forbidden(project, lambda: ledger.decide_expense(users["committee"], expense, approve=True))


def test_one_refusal_rejects_the_expense(project, community, users):
    give(project, community, "1000")
    expense = ask(project, community, "300")
    ledger.decide_expense(users["branch"], expense, approve=True)
    refused(
        project,
        lambda: ledger.decide_expense(users["committee"], expense, approve=False),
        field="note",
    )
    ledger.decide_expense(users["committee"], expense, approve=False, note="价格高于市场价")
    expense = fresh(expense)
    assert expense.state == E.REJECTED
    refused(project, lambda: ledger.pay_expense(community, expense), says="Rejected")
    refused(project, lambda: ledger.withdraw_expense(community, expense, reason="x"), says="not yet paid")


@pytest.mark.parametrize("needed", [1, 3])
def test_an_expense_is_paid_only_after_the_approvals_it_needs(
    make_project, community, users, third_approver, needed
):
    project = make_project(approvals=needed)
    give(project, community, "1000")
    expense = ask(project, community, "300")
    deciders = [users["branch"], users["committee"], third_approver][:needed]
    for i, approver in enumerate(deciders):
        assert fresh(expense).state == E.SUBMITTED
        refused(project, lambda: ledger.pay_expense(community, expense), says="Only an approved expense")
        ledger.decide_expense(approver, expense, approve=True)
        assert fresh(expense).approvals.filter(approve=True).count() == i + 1
    assert fresh(expense).state == E.APPROVED
    entry = ledger.pay_expense(community, expense)
    assert entry.amount == Decimal("300.00") and entry.balance_after == Decimal("700.00")
    approvals = fresh(expense).approvals.all()
    assert {a.approver for a in approvals} == set(deciders)
    assert all(a.person.user == a.approver for a in approvals)
    assert {a.body for a in approvals} <= {project.branch, project.committee}


def test_three_approvals_are_refused_when_only_two_could_be_given(make_project, community):
    project = make_project(approvals=3)
    give(project, community, "1000")
    refused(project, lambda: ask(project, community, "300"), says="Fewer than 3")


# ---- the ledger is append-only ------------------------------------------------------------------


def test_ledger_entries_approvals_and_levy_shares_are_never_edited_or_deleted(make_project, community, users):
    project = make_project(levies=True)
    entry = give(project, community, "1000")
    expense = ask(project, community, "300")
    approval = ledger.decide_expense(users["branch"], expense, approve=True).approvals.get()
    levy = ledger.set_levy(community, project, total="2000")
    share = levy.shares.first()
    assert share is not None
    before = footprint(project)
    shares_before = list(LevyShare.objects.filter(levy=levy).values_list("unit_id", "amount"))

    entry.amount = Decimal("1.00")
    approval.approve = False
    share.amount = Decimal("0.01")
    levy.total = Decimal("1.00")
    for row in (entry, approval, share, levy):
        with pytest.raises(AppendOnlyError):
            row.save()
        with pytest.raises(AppendOnlyError):
            row.delete()
    for queryset in (
        LedgerEntry.objects.filter(pk=entry.pk),
        ExpenseApproval.objects.filter(pk=approval.pk),
        LevyShare.objects.filter(levy=levy),
        Levy.objects.filter(pk=levy.pk),
    ):
        with pytest.raises(AppendOnlyError):
            queryset.update(pk=queryset.first().pk)  # type: ignore[union-attr]
        with pytest.raises(AppendOnlyError):
            queryset.delete()

    assert footprint(project) == before
    assert fresh(entry).amount == Decimal("1000.00")
    assert fresh(approval).approve is True
    assert list(LevyShare.objects.filter(levy=levy).values_list("unit_id", "amount")) == shares_before
    refused(project, lambda: ledger.set_levy(community, project, total="1000"), says="already set")


# ---- reversals ----------------------------------------------------------------------------------


def test_a_reversal_appends_the_opposite_and_is_done_once(project, community):
    give(project, community, "200")
    wrong = give(project, community, "500", source="member_unit", organisation=project.member_units.get())
    reversal = ledger.reverse_entry(community, wrong, reason="单位记错")
    assert (reversal.seq, reversal.amount, reversal.balance_after) == (
        3,
        Decimal("-500.00"),
        Decimal("200.00"),
    )
    assert (reversal.direction, reversal.source, reversal.organisation) == (
        wrong.direction,
        wrong.source,
        wrong.organisation,
    )
    assert reversal.reverses == wrong and fresh(wrong).amount == Decimal("500.00")
    assert ledger.totals(fresh(project))["balance"] == fresh(project).balance == Decimal("200.00")
    refused(project, lambda: ledger.reverse_entry(community, wrong, reason="再冲一次"), says="already")
    refused(project, lambda: ledger.reverse_entry(community, reversal, reason="冲销冲销"), says="itself")


def test_an_income_already_spent_cannot_be_reversed(project, community, users):
    income = give(project, community, "1000")
    ledger.pay_expense(community, approved(project, community, "800", users))
    refused(
        project,
        lambda: ledger.reverse_entry(community, income, reason="记错"),
        field="amount",
        says="below zero",
    )


def test_reversing_a_payment_puts_the_money_back_and_marks_the_expense(project, community, users):
    give(project, community, "1000")
    expense = approved(project, community, "800", users)
    payment = ledger.pay_expense(community, expense)
    reversal = ledger.reverse_entry(community, payment, reason="商家退款")
    assert reversal.direction == LedgerEntry.Direction.EXPENSE and reversal.expense == expense
    assert reversal.amount == Decimal("-800.00") and reversal.balance_after == Decimal("1000.00")
    assert fresh(expense).state == E.REVERSED
    assert ledger.totals(fresh(project))["expenses"] == Decimal("0.00")
    refused(project, lambda: ledger.pay_expense(community, expense), says="reversed")


def test_only_those_who_steer_the_project_reverse_entries(project, community, users):
    entry = give(project, community, "100")
    for who in ("branch", "committee", "grid", "resident"):
        forbidden(project, lambda who=who: ledger.reverse_entry(users[who], entry, reason="记错"))


# ---- the maintenance fund -----------------------------------------------------------------------


def owners_decision(
    compound: Compound,
    *,
    matter: int = 5,
    state: str = Decision.State.PUBLISHED,
    counts: tuple[bool, ...] = (True,),
) -> Decision:
    """An owners' decision as the decisions app leaves it after counting (and recounting)."""
    decision = Decision.objects.create(
        compound=compound,
        matter=matter,
        title="动用维修资金更换路灯",
        text="使用专项维修资金",
        area_path=compound.area_path,
        state=state,
    )
    previous = None
    for approved_ in counts:
        previous = Result.objects.create(
            decision=decision,
            recount_of=previous,
            figures={},
            approved=approved_,
            chain_head="",
            chain_length=0,
            counted_at=timezone.now(),
        )
    return decision


def fund(project: Project, who: Any, **basis: Any) -> LedgerEntry:
    return give(project, who, "3000", source="maintenance_fund", **basis)


def test_the_maintenance_fund_needs_a_basis(project, community):
    refused(project, lambda: fund(project, community), field="decision", says="passed owners' decision")


@pytest.mark.parametrize(
    ("make", "says"),
    [
        pytest.param(lambda y: owners_decision(y, matter=6), "matter 5", id="wrong-matter"),
        pytest.param(
            lambda y: owners_decision(Compound.objects.exclude(pk=y.pk).order_by("id")[0]),
            "another compound",
            id="other-compound",
        ),
        pytest.param(
            lambda y: owners_decision(y, state=Decision.State.COUNTED), "not passed", id="not-published"
        ),
        pytest.param(lambda y: owners_decision(y, counts=(False,)), "not passed", id="rejected"),
        pytest.param(lambda y: owners_decision(y, counts=()), "not passed", id="never-counted"),
        pytest.param(lambda y: owners_decision(y, counts=(True, False)), "not passed", id="recount-rejects"),
    ],
)
def test_the_maintenance_fund_refuses_a_decision_that_does_not_allow_it(
    project, community, yucai, make, says
):
    decision = make(yucai)
    refused(project, lambda: fund(project, community, decision=decision), field="decision", says=says)


def test_the_maintenance_fund_is_used_on_a_passed_decision_of_matter_5(project, community, yucai):
    decision = owners_decision(yucai, counts=(False, True))  # a recount that approves
    entry = fund(project, community, decision=decision)
    assert entry.decision == decision and entry.balance_after == Decimal("3000.00")


def test_the_maintenance_fund_is_used_in_an_emergency_the_town_confirmed(project, community, users):
    confirmation = ledger.confirm_emergency(
        users["town"], project, hazard="leak", description="3幢屋面大面积渗漏", reference="高政〔2027〕12号"
    )
    assert confirmation.town == project.community.parent
    entry = fund(project, community, emergency=confirmation)
    assert entry.emergency == confirmation and entry.decision is None


@pytest.mark.parametrize("who", ["community", "grid", "branch", "committee"])
def test_only_town_staff_confirm_an_emergency(project, users, who):
    forbidden(
        project,
        lambda: ledger.confirm_emergency(
            users[who], project, hazard="leak", description="屋面渗漏", reference="无"
        ),
    )


def test_staff_of_another_town_do_not_confirm_an_emergency(project, yucai):
    town = yucai.community.parent
    elsewhere = Area.objects.filter(level=Area.Level.TOWN).exclude(pk=town.pk).order_by("id")[0]
    staff = get_user_model().objects.create_user(username="other_town", password="x-not-used-1")  # noqa: S106
    RoleGrant.objects.create(user=staff, role=Role.TOWN_STAFF, area=elsewhere)
    forbidden(
        project,
        lambda: ledger.confirm_emergency(
            staff, project, hazard="lift", description="电梯停运", reference="无"
        ),
    )


def test_an_emergency_of_another_project_is_no_basis(make_project, project, community, users):
    other = make_project()
    confirmation = ledger.confirm_emergency(
        users["town"], other, hazard="pipes", description="水管爆裂", reference="高政〔2027〕13号"
    )
    refused(
        project,
        lambda: fund(project, community, emergency=confirmation),
        field="emergency",
        says="another project",
    )


# ---- household contributions --------------------------------------------------------------------


def test_household_contributions_come_only_from_households_in_scope(make_project, community, yucai):
    building = yucai.buildings.get(number="3")
    project = make_project(buildings=[building])
    inside = Unit.objects.filter(building=building).first()
    other_building = Unit.objects.filter(compound=yucai).exclude(building=building).first()
    other_compound = Unit.objects.exclude(compound=yucai).first()
    for unit in (other_building, other_compound):
        refused(
            project,
            lambda unit=unit: give(project, community, "100", source="household", unit=unit, method="cash"),
            field="unit",
            says="not in the project's scope",
        )
    refused(project, lambda: give(project, community, "100", source="household", method="cash"), field="unit")
    refused(project, lambda: give(project, community, "100", source="household", unit=inside), field="method")
    entry = give(project, community, "100", source="household", unit=inside, method="transfer")
    assert entry.unit == inside


def test_parking_spaces_are_not_households(make_project, community, yucai):
    project = make_project()
    building = yucai.buildings.get(number="1")
    space = Unit.objects.create(
        compound=yucai,
        building=building,
        entrance=building.entrances.first(),
        number="P-01",
        area_source=Unit.AreaSource.SURVEY,
        area_m2=Decimal("12.00"),
        kind=Unit.Kind.PARKING,
    )
    refused(
        project,
        lambda: give(project, community, "100", source="household", unit=space, method="cash"),
        field="unit",
    )


def test_member_unit_support_names_a_member_unit(project, community):
    committee = project.committee
    refused(
        project,
        lambda: give(project, community, "100", source="member_unit", organisation=committee),
        field="organisation",
    )
    refused(project, lambda: give(project, community, "100", source="donation"), field="source")


def test_a_contribution_cannot_be_dated_in_the_future(project, community):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    refused(project, lambda: give(project, community, "100", occurred_on=tomorrow), field="occurred_on")


def test_income_and_expenses_need_the_right_to_change_the_project(project, community, users):
    give(project, community, "100")
    for who in ("resident", "volunteer", "liaison"):
        forbidden(project, lambda who=who: give(project, users[who], "100"))
        forbidden(project, lambda who=who: ask(project, users[who], "50"))


# ---- money moves only while the project raises, works or is checked ----------------------------


def closed(project: Project, community: Any) -> Project:
    project = actions.move(community, project, P.UNDERWAY)
    milestone = actions.add_milestone(community, project, title="更换路灯")
    actions.report_progress(community, milestone, progress=100)
    project = actions.move(community, project, P.ACCEPTANCE)
    return actions.move(community, project, P.CLOSED)


def test_no_money_moves_while_preparing(make_project, community):
    project = make_project(state=P.PREPARING)
    refused(project, lambda: give(project, community, "100"), says="Preparing")
    refused(project, lambda: ask(project, community, "100"), says="Preparing")


def test_no_money_moves_once_closed_or_cancelled(make_project, community, users):
    project = make_project()
    income = give(project, community, "1000")
    expense = approved(project, community, "300", users)
    payment = ledger.pay_expense(community, expense)
    ledger.add_receipts(community, expense, [receipt()])
    project = closed(project, community)
    refused(project, lambda: give(project, community, "100"), says="Closed")
    refused(project, lambda: ask(project, community, "100"), says="Closed")
    # The books of a closed project are closed: not even a reversal changes them.
    refused(project, lambda: ledger.reverse_entry(community, income, reason="记错"), says="Closed")
    refused(project, lambda: ledger.reverse_entry(community, payment, reason="退款"), says="Closed")

    cancelled = actions.move(community, make_project(), P.CANCELLED, note="居民另行解决")
    refused(cancelled, lambda: give(cancelled, community, "100"), says="Cancelled")


def test_a_project_holding_money_is_not_cancelled(project, community):
    income = give(project, community, "100")
    with translation.override("en"), pytest.raises(ValidationError, match="holds 100.00 yuan"):
        actions.move(community, project, P.CANCELLED, note="取消")
    ledger.reverse_entry(community, income, reason="退还居民")
    assert actions.move(community, project, P.CANCELLED, note="取消").state == P.CANCELLED


# ---- the database itself ------------------------------------------------------------------------


def raw_entry(project: Project, **fields: Any) -> LedgerEntry:
    values: dict[str, Any] = {
        "project": project,
        "seq": 99,
        "direction": "income",
        "source": "subsidy",
        "amount": Decimal("10.00"),
        "balance_after": Decimal("10.00"),
        "purpose": "直接写入",
        "occurred_on": timezone.localdate(),
        "recorded_at": timezone.now(),
    }
    values.update(fields)
    with transaction.atomic():
        return LedgerEntry.objects.create(**values)


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"balance_after": Decimal("-0.01")}, id="negative-balance"),
        pytest.param({"source": "maintenance_fund"}, id="fund-without-basis"),
        pytest.param({"source": "household"}, id="household-without-unit"),
        pytest.param({"amount": Decimal("-10.00")}, id="negative-without-reversal"),
        pytest.param({"amount": Decimal("0.00")}, id="zero"),
        pytest.param({"source": ""}, id="income-without-source"),
        pytest.param({"direction": "expense"}, id="expense-without-expense"),
    ],
)
def test_the_database_refuses_an_impossible_entry(project, fields):
    before = footprint(project)
    with pytest.raises(IntegrityError):
        raw_entry(project, **fields)
    assert footprint(project) == before


def test_the_database_refuses_a_second_entry_with_the_same_number(project):
    raw_entry(project)
    with pytest.raises(IntegrityError):
        raw_entry(project)


def test_the_database_refuses_a_negative_project_balance(project):
    with pytest.raises(IntegrityError), transaction.atomic():
        Project.objects.filter(pk=project.pk).update(balance=Decimal("-0.01"))
    assert fresh(project).balance == Decimal("0.00")


def test_the_database_refuses_an_expense_of_nothing(project, users):
    with pytest.raises(IntegrityError), transaction.atomic():
        Expense.objects.create(
            project=project,
            purpose="无",
            expense_type="other",
            vendor="无",
            amount=Decimal("0.00"),
            submitted_at=timezone.now(),
        )


def test_the_approvers_are_the_members_in_office_with_an_account(project, users):
    seats = ledger.approvers(project)
    assert {user for user, _person, _body in seats} == {users["branch"], users["committee"]}
    # 宋芳 sits on both the branch and the committee: she is one approver.
    assert len(seats) == 2
    assert {body for _u, _p, body in seats} <= {project.branch, project.committee}
    assert all(person.user == user for user, person, _body in seats)
