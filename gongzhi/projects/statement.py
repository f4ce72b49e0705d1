"""The statement of a project's accounts (账目公示) as plain data, in a staff and a public
version, shared by the public project page, the printable statement and its PDF.

The staff version is the record as kept: every household contribution with its unit and
payer, the approvers of each expense by name, who was paid. The public version keeps the
money and drops the people: a household contribution names its unit (building-entrance-room)
only when the payer agreed to it and is otherwise "a household", approvals show the body and
the date, no payer, approver, vendor or staff name appears, and every free text passes
through ``redact``, which turns the names known to the project into "surname + 某" and masks
mobile numbers and room numbers. Income receipts (which may show the payer) are never
public; expense receipts are.

``build`` reads the project in a fixed number of queries however many entries, expenses,
approvals and receipts it has.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.housing.models import Owner, Resident
from gongzhi.meetings import documents
from gongzhi.orgs.models import Person
from gongzhi.projects.models import (
    ZERO,
    Dispute,
    Expense,
    ExpenseApproval,
    LedgerEntry,
    LevyShare,
    MediationStep,
    MilestoneUpdate,
    Objection,
    Project,
    ProjectEvent,
    Rating,
    Receipt,
)

Src, Dir = LedgerEntry.Source, LedgerEntry.Direction
# Names shorter than this are not looked for in free text (one character matches everywhere).
SHORTEST_NAME = 2


# ---- pure helpers ---------------------------------------------------------------------------


def weighted_progress(rows: Iterable[tuple[int, int]]) -> int:
    """Whole percent, rounded down, of ``(weight, progress)`` pairs — the same rule as
    ``projects.actions.progress``, for rows already loaded."""
    pairs = list(rows)
    weights = sum(w for w, _p in pairs)
    if not weights:
        return 0
    return int(Fraction(sum(w * p for w, p in pairs), weights))


def unit_label(unit: Any) -> str:
    """A household as building-entrance-room, in the user's language."""
    return str(unit.address_label)


def public_text(text: str, names: Iterable[str]) -> str:
    """Free text for the public: known names to "surname + 某", mobiles and rooms masked."""
    return documents.redact_request_text(text or "", names)


# ---- the data -------------------------------------------------------------------------------


@dataclass
class ReceiptRef:
    pk: int
    is_pdf: bool
    uploaded_at: dt.datetime


@dataclass
class ApprovalLine:
    body: str
    approver: str  # empty in public
    approve: bool
    at: dt.datetime


@dataclass
class ExpenseLine:
    pk: int
    purpose: str
    type_label: str
    vendor: str  # empty in public
    amount: Decimal
    state: str
    state_label: str
    submitted_at: dt.datetime
    paid_at: dt.datetime | None
    approvals: list[ApprovalLine]
    receipts: list[ReceiptRef]
    missing_receipt: bool
    seq: int | None = None  # the ledger entry that paid it


@dataclass
class EntryLine:
    seq: int
    occurred_on: dt.date
    is_income: bool
    kind_label: str  # the source of income, or the type of expense
    purpose: str
    payer: str
    amount: Decimal  # as recorded: negative for a reversing entry
    change: Decimal  # what it did to the balance
    balance_after: Decimal
    reverses: int | None
    reversed_by: int | None
    expense: ExpenseLine | None
    receipts: list[ReceiptRef]  # expense receipts; income receipts for staff only

    @property
    def increases(self) -> bool:
        return self.change >= 0

    @property
    def magnitude(self) -> Decimal:
        return abs(self.change)

    @property
    def income(self) -> Decimal | None:
        return self.amount if self.is_income else None

    @property
    def spent(self) -> Decimal | None:
        return None if self.is_income else self.amount


@dataclass
class SourceTotal:
    source: str
    label: str
    amount: Decimal


@dataclass
class LevySummary:
    total: Decimal
    area_total: Decimal
    households: int
    paid: int
    partly: int
    unpaid: int
    collected: Decimal  # net household contributions of the households levied


@dataclass
class Statement:
    project: Project
    public: bool
    title: str
    code: str
    kind_label: str
    state_label: str
    closed: bool
    compounds: list[str]
    party_org: str
    branch: str
    committee: str
    period_start: dt.date
    period_end: dt.date
    prepared_on: dt.date
    opening_balance: Decimal
    income_by_source: list[SourceTotal]
    income: Decimal
    expenses_total: Decimal
    computed_balance: Decimal
    balance: Decimal  # the stored running balance
    entries: list[EntryLine]
    expenses: list[ExpenseLine]
    open_expenses: list[ExpenseLine]
    missing_receipts: list[ExpenseLine]
    levies_owners: bool
    levy: LevySummary | None
    names: set[str] = field(default_factory=set)

    @property
    def balanced(self) -> bool:
        """Income − expenses worked out from the entries equals the running balance."""
        return self.computed_balance == self.balance


# ---- names known to a project ---------------------------------------------------------------


def known_names(project: Project) -> set[str]:
    """The names of every person attached to the project: leads, members of its bodies,
    approvers, payers, the staff who recorded anything, and the owners and residents of the
    households that paid, objected or rated. Five queries however big the project."""
    p = project.pk
    users = (
        Q(user__in=LedgerEntry.objects.filter(project_id=p).values("recorded_by"))
        | Q(user__in=Expense.objects.filter(project_id=p).values("submitted_by"))
        | Q(user__in=Expense.objects.filter(project_id=p).values("paid_by"))
        | Q(user__in=Objection.objects.filter(project_id=p).values("answered_by"))
        | Q(user__in=Objection.objects.filter(project_id=p).values("raised_by"))
        | Q(user__in=Dispute.objects.filter(project_id=p).values("opened_by"))
        | Q(user__in=MediationStep.objects.filter(dispute__project_id=p).values("by"))
        | Q(user__in=MilestoneUpdate.objects.filter(milestone__project_id=p).values("by"))
        | Q(user__in=ProjectEvent.objects.filter(project_id=p).values("actor"))
    )
    bodies = [project.party_org_id, project.branch_id, project.committee_id]
    people = (
        users
        | Q(project_leads__project_id=p)
        | Q(memberships__organisation_id__in=[b for b in bodies if b])
        | Q(memberships__organisation__unit_projects=p)
        | Q(id__in=ExpenseApproval.objects.filter(expense__project_id=p).values("person"))
        | Q(id__in=Rating.objects.filter(project_id=p, person__isnull=False).values("person"))
    )
    names: set[str] = set(Person.objects.filter(people).values_list("name", flat=True).distinct())
    households = (
        Q(unit__in=LedgerEntry.objects.filter(project_id=p, unit__isnull=False).values("unit"))
        | Q(unit__in=Objection.objects.filter(project_id=p, household__isnull=False).values("household"))
        | Q(unit__in=Rating.objects.filter(project_id=p, household__isnull=False).values("household"))
    )
    names |= set(Resident.objects.filter(households).values_list("name", flat=True).distinct())
    owned = Q(
        ownerships__unit__in=LedgerEntry.objects.filter(project_id=p, unit__isnull=False).values("unit")
    ) | Q(
        ownerships__unit__in=Objection.objects.filter(project_id=p, household__isnull=False).values(
            "household"
        )
    )
    names |= set(Owner.objects.filter(owned).values_list("name", flat=True).distinct())
    names |= set(
        LedgerEntry.objects.filter(project_id=p).exclude(payer_name="").values_list("payer_name", flat=True)
    )
    staff = (
        get_user_model()
        .objects.filter(
            Q(id__in=LedgerEntry.objects.filter(project_id=p).values("recorded_by"))
            | Q(id__in=Expense.objects.filter(project_id=p).values("submitted_by"))
            | Q(id__in=ExpenseApproval.objects.filter(expense__project_id=p).values("approver"))
            | Q(id__in=ProjectEvent.objects.filter(project_id=p).values("actor"))
        )
        .values_list("last_name", "first_name")
    )
    for last, first in staff:
        names |= {last + first, first + last, first, last}
    return {n.strip() for n in names if n and len(n.strip()) >= SHORTEST_NAME}


# ---- building the statement -----------------------------------------------------------------


def _receipt(r: Receipt) -> ReceiptRef:
    return ReceiptRef(pk=r.pk, is_pdf=r.content_type == "application/pdf", uploaded_at=r.uploaded_at)


def _expense_line(e: Expense, *, public: bool, names: set[str]) -> ExpenseLine:
    receipts = [_receipt(r) for r in e.receipts.all()]
    return ExpenseLine(
        pk=e.pk,
        purpose=public_text(e.purpose, names) if public else documents.mask_mobiles(e.purpose),
        type_label=str(Expense.Type(e.expense_type).label),
        vendor="" if public else e.vendor,
        amount=e.amount,
        state=e.state,
        state_label=str(Expense.State(e.state).label),
        submitted_at=e.submitted_at,
        paid_at=e.paid_at,
        approvals=[
            ApprovalLine(
                body=a.body.name,
                approver="" if public else a.person.name,
                approve=a.approve,
                at=a.at,
            )
            for a in e.approvals.all()
        ],
        receipts=receipts,
        missing_receipt=e.state == Expense.State.PAID and not receipts,
    )


def _payer(entry: LedgerEntry, consents: bool, *, public: bool) -> str:
    """Who the money came from. In public a household is named by its unit only with the
    payer's consent (a reversal follows the consent of the entry it corrects)."""
    if entry.source == Src.HOUSEHOLD and entry.unit is not None:
        if public:
            return unit_label(entry.unit) if consents else _("a household")
        label = unit_label(entry.unit)
        if entry.payer_name:
            label = f"{label}（{entry.payer_name}）"
        hidden = _("not to be named publicly")
        return label if consents else f"{label} · {hidden}"
    if entry.source == Src.MEMBER_UNIT and entry.organisation is not None:
        return entry.organisation.name
    if entry.source == Src.MAINTENANCE_FUND:
        if entry.decision is not None:
            return _("Owners' decision: %(title)s") % {"title": entry.decision.title}
        if entry.emergency is not None:
            return _("Town's emergency confirmation %(reference)s") % {"reference": entry.emergency.reference}
    return ""


def _purpose(entry: LedgerEntry, reversed_seq: int | None, *, public: bool, names: set[str]) -> str:
    if not public:
        return documents.mask_mobiles(entry.purpose)
    if entry.source == Src.HOUSEHOLD:
        # The stored purpose of a contribution names its unit; the payer column says
        # whether the unit may be shown.
        if reversed_seq is not None:
            return _("Reversal of no. %(seq)s") % {"seq": reversed_seq}
        return str(Src.HOUSEHOLD.label)
    return public_text(entry.purpose, names)


def build(project: Project, *, public: bool, now: dt.datetime | None = None) -> Statement:
    """The statement of ``project``: the public version (``public=True``) or the staff one."""
    now = now or timezone.now()
    project = (
        Project.objects.select_related("party_org", "branch", "committee")
        .prefetch_related("compounds")
        .get(pk=project.pk)
    )
    names = known_names(project) if public else set()
    approvals = ExpenseApproval.objects.select_related("body", "person").order_by("at", "id")
    expense_rows = list(
        Expense.objects.filter(project=project)
        .prefetch_related(
            Prefetch("approvals", queryset=approvals),
            Prefetch("receipts", queryset=Receipt.objects.order_by("id")),
        )
        .order_by("submitted_at", "id")
    )
    expenses = {e.pk: _expense_line(e, public=public, names=names) for e in expense_rows}
    entry_rows = list(
        LedgerEntry.objects.filter(project=project)
        .select_related("unit__building", "unit__entrance", "organisation", "decision", "emergency")
        .order_by("seq")
    )
    income_receipts: dict[int, list[ReceiptRef]] = {}
    if not public:
        for r in Receipt.objects.filter(project=project, entry__isnull=False).order_by("id"):
            income_receipts.setdefault(r.entry_id or 0, []).append(_receipt(r))
    by_id = {e.pk: e for e in entry_rows}
    reversed_by = {e.reverses_id: e.seq for e in entry_rows if e.reverses_id is not None}
    by_source: dict[str, Decimal] = dict.fromkeys(Src.values, ZERO)
    spent = ZERO
    paid_by_unit: dict[int, Decimal] = {}
    entries = []
    for e in entry_rows:
        original = by_id.get(e.reverses_id) if e.reverses_id is not None else None
        consents = (original or e).payer_consents
        expense = expenses.get(e.expense_id) if e.expense_id is not None else None
        if e.direction == Dir.INCOME:
            by_source[e.source] += e.amount
            if e.source == Src.HOUSEHOLD and e.unit_id is not None:
                paid_by_unit[e.unit_id] = paid_by_unit.get(e.unit_id, ZERO) + e.amount
        else:
            spent += e.amount
            if expense is not None and e.reverses_id is None:
                expense.seq = e.seq
        entries.append(
            EntryLine(
                seq=e.seq,
                occurred_on=e.occurred_on,
                is_income=e.direction == Dir.INCOME,
                kind_label=str(Src(e.source).label)
                if e.direction == Dir.INCOME
                else (expense.type_label if expense is not None else str(Dir.EXPENSE.label)),
                purpose=_purpose(e, original.seq if original else None, public=public, names=names),
                payer=_payer(e, consents, public=public),
                amount=e.amount,
                change=e.signed_amount,
                balance_after=e.balance_after,
                reverses=original.seq if original else None,
                reversed_by=reversed_by.get(e.pk),
                expense=expense,
                receipts=list(expense.receipts) if expense is not None else income_receipts.get(e.pk, []),
            )
        )
    income = sum(by_source.values(), ZERO)
    lines = list(expenses.values())
    local = timezone.localdate(now)
    return Statement(
        project=project,
        public=public,
        title=project.title,
        code=project.code,
        kind_label=str(Project.Kind(project.kind).label),
        state_label=str(Project.State(project.state).label),
        closed=project.state == Project.State.CLOSED,
        compounds=[c.name for c in project.compounds.all()],
        party_org=project.party_org.name,
        branch=project.branch.name if project.branch else "",
        committee=project.committee.name if project.committee else "",
        period_start=timezone.localdate(project.created_at),
        period_end=timezone.localdate(project.closed_at) if project.closed_at else local,
        prepared_on=local,
        opening_balance=ZERO,  # a project's fund starts empty
        income_by_source=[
            SourceTotal(source=s, label=str(Src(s).label), amount=by_source[s])
            for s in Src.values
            if by_source[s]
        ],
        income=income,
        expenses_total=spent,
        computed_balance=income - spent,
        balance=project.balance,
        entries=entries,
        expenses=lines,
        open_expenses=[x for x in lines if x.state in Expense.OPEN],
        missing_receipts=[x for x in lines if x.missing_receipt],
        levies_owners=project.levies_owners,
        levy=_levy(project, paid_by_unit),
        names=names,
    )


def _levy(project: Project, paid_by_unit: dict[int, Decimal]) -> LevySummary | None:
    """How many households have paid their share, in part or not at all — counts only."""
    if not project.levies_owners:
        return None
    shares = list(
        LevyShare.objects.filter(levy__project=project).values_list(
            "unit_id", "amount", "levy__total", "levy__area_total"
        )
    )
    if not shares:
        return None
    paid = partly = unpaid = 0
    collected = ZERO
    for unit_id, amount, _total, _area in shares:
        net = paid_by_unit.get(unit_id, ZERO)
        collected += max(net, ZERO)
        if net >= amount:
            paid += 1
        elif net > ZERO:
            partly += 1
        else:
            unpaid += 1
    return LevySummary(
        total=shares[0][2],
        area_total=shares[0][3],
        households=len(shares),
        paid=paid,
        partly=partly,
        unpaid=unpaid,
        collected=collected,
    )
