"""The project fund: income, expenses, approvals, payments, reversals, receipts and levies.

Every write locks the project's row first (then the expense's), appends a ledger entry with
the next sequence number and the running balance after it, and moves ``Project.balance`` to
that balance — in one transaction with its audit event. The database refuses a negative
balance on both the entry and the project, so concurrent payments cannot overdraw the fund
even if a check here were wrong.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.audit import record_change
from gongzhi.core.money import CENT, clean_amount
from gongzhi.core.text import clean_text
from gongzhi.decisions.models import Decision
from gongzhi.housing.models import Unit
from gongzhi.orgs import policy
from gongzhi.orgs.models import Area, Membership, Organisation, Role
from gongzhi.projects import sharing
from gongzhi.projects.events import log_event
from gongzhi.projects.models import (
    ZERO,
    EmergencyConfirmation,
    Expense,
    ExpenseApproval,
    LedgerEntry,
    Levy,
    LevyShare,
    Project,
    Receipt,
)
from gongzhi.tickets.notify import enqueue

P, E = Project.State, Expense.State
Src, Dir = LedgerEntry.Source, LedgerEntry.Direction
# Money moves while the project raises funds, is under way or is being checked.
MONEY_STATES = (P.RAISING, P.UNDERWAY, P.ACCEPTANCE)
# Use of the maintenance fund is matter 5 of Civil Code Art. 278.
FUND_USE_MATTER = 5


def _fen(total: Decimal | None) -> Decimal:
    """A sum of amounts in whole fen (SQLite adds decimals as floats)."""
    return (total or ZERO).quantize(CENT)


def lock_project(project: Project, version: int | None = None) -> Project:
    locked = Project.objects.select_for_update().get(pk=project.pk)
    if version is not None and locked.version != version:
        raise ValidationError(
            _("Someone else changed this project a moment ago. Reload the page and try again.")
        )
    return locked


def require(actor: Any, action: str, project: Project) -> None:
    if not policy.can(actor, action, project):
        raise PermissionDenied


def _money_state(project: Project) -> None:
    if project.state not in MONEY_STATES:
        raise ValidationError(
            _("No money moves while the project is “%(state)s”.") % {"state": P(project.state).label}
        )


def _append(project: Project, *, signed: Decimal, actor: Any, now: dt.datetime, **fields: Any) -> LedgerEntry:
    """Append one entry to a locked project and move its balance."""
    balance = project.balance + signed
    if balance < 0:
        raise ValidationError(
            {
                "amount": _("This would take the fund below zero: the balance is %(balance)s yuan.")
                % {"balance": project.balance}
            }
        )
    project.entries_count += 1
    entry = LedgerEntry.objects.create(
        project=project,
        seq=project.entries_count,
        balance_after=balance,
        recorded_by=actor,
        recorded_at=now,
        **fields,
    )
    project.balance = balance
    project.save(update_fields=["balance", "entries_count"])
    return entry


def _date(value: dt.date | None, field: str, now: dt.datetime) -> dt.date:
    today = timezone.localdate(now)
    day = value or today
    if day > today:
        raise ValidationError({field: _("The date cannot be in the future.")})
    return day


def _in_scope(project: Project) -> Q:
    """Q over Unit for the households the project concerns."""
    buildings = list(project.buildings.values_list("id", flat=True))
    q = Q(compound__in=project.compounds.values("id"))
    if buildings:
        q &= Q(building_id__in=buildings)
    return q & ~Q(kind=Unit.Kind.PARKING)


def scope_units(project: Project) -> Any:
    return Unit.objects.filter(_in_scope(project))


def decision_passed(decision: Decision) -> bool:
    """Published, and its last count (a recount supersedes) approved the matter."""
    if decision.state != Decision.State.PUBLISHED:
        return False
    last = decision.results.order_by("-id").first()
    return bool(last and last.approved)


def _store_files(project: Project, files: Sequence[Any], actor: Any, now: dt.datetime, **owner: Any) -> int:
    for doc in files:
        Receipt.objects.create(
            project=project,
            file=doc.content,
            content_type=doc.content_type,
            extension=doc.extension,
            size=doc.size,
            sha256=doc.sha256,
            uploaded_by=actor,
            uploaded_at=now,
            **owner,
        )
    return len(files)


@transaction.atomic
def record_income(
    actor: Any,
    project: Project,
    *,
    source: str,
    amount: Any,
    purpose: str = "",
    occurred_on: dt.date | None = None,
    method: str = "",
    unit: Unit | None = None,
    payer_name: str = "",
    payer_consents: bool = False,
    organisation: Organisation | None = None,
    decision: Decision | None = None,
    emergency: EmergencyConfirmation | None = None,
    receipts: Sequence[Any] = (),
    now: dt.datetime | None = None,
) -> LedgerEntry:
    """Record money received. ``receipts`` are cleaned photos or documents
    (``clean_photo``/``clean_document``)."""
    now = now or timezone.now()
    require(actor, policy.CHANGE, project)
    if source not in Src.values:
        raise ValidationError({"source": _("Choose where the money comes from.")})
    value = clean_amount(amount, "amount")
    project = lock_project(project)
    _money_state(project)
    fields: dict[str, Any] = {"source": source, "occurred_on": _date(occurred_on, "occurred_on", now)}
    label = str(Src(source).label)
    if source == Src.HOUSEHOLD:
        if unit is None:
            raise ValidationError({"unit": _("Choose the household that pays.")})
        if not scope_units(project).filter(pk=unit.pk).exists():
            raise ValidationError({"unit": _("This household is not in the project's scope.")})
        if method not in LedgerEntry.Method.values:
            raise ValidationError({"method": _("Say whether it was paid in cash or by transfer.")})
        fields |= {
            "unit": unit,
            "method": method,
            "payer_name": clean_text(payer_name, "payer_name", required=False, limit=60),
            "payer_consents": bool(payer_consents),
        }
    elif source == Src.MEMBER_UNIT:
        if organisation is None or organisation.kind != Organisation.Kind.MEMBER_UNIT:
            raise ValidationError({"organisation": _("Choose the member unit that gives the support.")})
        fields["organisation"] = organisation
        label = _("Support from %(unit)s") % {"unit": organisation.name}
    elif source == Src.MAINTENANCE_FUND:
        fields |= _fund_basis(project, decision, emergency)
    fields["purpose"] = clean_text(purpose, "purpose", required=False, limit=200) or label
    if method and source != Src.HOUSEHOLD:
        if method not in LedgerEntry.Method.values:
            raise ValidationError({"method": _("Say whether it was paid in cash or by transfer.")})
        fields["method"] = method
    entry = _append(project, signed=value, actor=actor, now=now, direction=Dir.INCOME, amount=value, **fields)
    _store_files(project, receipts, actor, now, entry=entry)
    record_change(
        actor,
        "projects.ledger.income",
        project,
        after={"seq": entry.seq, "source": source, "amount": str(value), "balance": str(project.balance)},
    )
    log_event(project, "income", actor, now, data={"seq": entry.seq, "amount": str(value), "source": source})
    return entry


def _fund_basis(
    project: Project, decision: Decision | None, emergency: EmergencyConfirmation | None
) -> dict[str, Any]:
    """The maintenance fund is used only on a passed owners' decision of matter 5 for one of
    the project's compounds, or on the town's confirmation of an emergency (DOMAIN §2)."""
    if decision is not None:
        if decision.matter != FUND_USE_MATTER:
            raise ValidationError(
                {
                    "decision": _(
                        "Using the maintenance fund needs an owners' decision on matter 5 (use of the fund)."
                    )
                }
            )
        if not project.compounds.filter(pk=decision.compound_id).exists():
            raise ValidationError({"decision": _("That owners' decision is for another compound.")})
        if not decision_passed(decision):
            raise ValidationError({"decision": _("That owners' decision has not passed and been published.")})
        return {"decision": decision}
    if emergency is not None:
        if emergency.project_id != project.pk:
            raise ValidationError({"emergency": _("That emergency confirmation is for another project.")})
        return {"emergency": emergency}
    raise ValidationError(
        {
            "decision": _(
                "The maintenance fund may be used only with a passed owners' decision (matter 5) "
                "or, in an emergency, the town's confirmation."
            )
        }
    )


def may_confirm_emergency(actor: Any, project: Project) -> bool:
    """Town staff above the project's community (or the county) confirm emergencies."""
    if getattr(actor, "is_superuser", False):
        return True
    for grant in policy.active_grants(actor):
        area = grant.area
        if (
            grant.role in (Role.TOWN_STAFF, Role.COUNTY_ADMIN)
            and area
            and project.area_path.startswith(area.path)
        ):
            return True
    return False


@transaction.atomic
def confirm_emergency(
    actor: Any,
    project: Project,
    *,
    hazard: str,
    description: str,
    reference: str,
    now: dt.datetime | None = None,
) -> EmergencyConfirmation:
    now = now or timezone.now()
    if not may_confirm_emergency(actor, project):
        raise PermissionDenied
    if hazard not in EmergencyConfirmation.Hazard.values:
        raise ValidationError({"hazard": _("Choose the kind of emergency.")})
    town = project.community.parent
    if town is None or town.level != Area.Level.TOWN:
        raise ValidationError({"hazard": _("The project's community has no town to confirm it.")})
    confirmation = EmergencyConfirmation.objects.create(
        project=project,
        hazard=hazard,
        description=clean_text(description, "description"),
        town=town,
        reference=clean_text(reference, "reference", limit=60),
        confirmed_by=actor,
        confirmed_at=now,
    )
    record_change(
        actor, "projects.emergency.confirm", project, after={"hazard": hazard, "reference": reference}
    )
    log_event(project, "emergency", actor, now, data={"hazard": hazard})
    return confirmation


def committed(project: Project) -> Decimal:
    """Money promised to expenses not yet paid (awaiting approval or approved)."""
    total = project.expenses.filter(state__in=Expense.OPEN).aggregate(s=Sum("amount"))["s"]
    return _fen(total)


def approvers(project: Project) -> list[tuple[Any, Any, Organisation]]:
    """(account, person, body) of everyone who may approve the project's expenses: members
    in office of its owners' committee and joint branch who have an account."""
    bodies = [b for b in (project.committee, project.branch) if b is not None]
    rows = (
        Membership.objects.filter(organisation__in=bodies, left_on__isnull=True, person__user__isnull=False)
        .select_related("person__user", "organisation")
        .order_by("organisation_id", "id")
    )
    seen: set[int | None] = set()
    out = []
    for m in rows:
        if m.person.user_id in seen:
            continue
        seen.add(m.person.user_id)
        out.append((m.person.user, m.person, m.organisation))
    return out


def _approver_seat(project: Project, actor: Any) -> tuple[Any, Organisation] | None:
    for user, person, body in approvers(project):
        if user.pk == getattr(actor, "pk", None):
            return person, body
    return None


def tell(users: Iterable[Any], subject: str, body: str, url: str, now: dt.datetime) -> None:
    for user in users:
        enqueue(channel="inbox", recipient=user, subject=subject, body=body, url=url, now=now)


def project_url(project: Project) -> str:
    return f"/projects/{project.pk}/"


@transaction.atomic
def submit_expense(
    actor: Any,
    project: Project,
    *,
    purpose: str,
    expense_type: str,
    vendor: str,
    amount: Any,
    receipts: Sequence[Any] = (),
    now: dt.datetime | None = None,
) -> Expense:
    """Ask for money to be paid out. Refused when it is more than the fund holds after the
    expenses already waiting for approval or payment."""
    now = now or timezone.now()
    require(actor, policy.CHANGE, project)
    value = clean_amount(amount, "amount")
    purpose = clean_text(purpose, "purpose", limit=200)
    vendor = clean_text(vendor, "vendor", limit=120)
    if expense_type not in Expense.Type.values:
        raise ValidationError({"expense_type": _("Choose the type of expense.")})
    project = lock_project(project)
    _money_state(project)
    available = project.balance - committed(project)
    if value > available:
        raise ValidationError(
            {
                "amount": _(
                    "The fund holds %(balance)s yuan, of which %(committed)s are already promised to "
                    "other expenses; at most %(available)s yuan can be asked for."
                )
                % {
                    "balance": project.balance,
                    "committed": committed(project),
                    "available": max(available, ZERO),
                }
            }
        )
    if len(approvers(project)) - (1 if _approver_seat(project, actor) else 0) < project.approvals_required:
        raise ValidationError(
            _("Fewer than %(n)s members of the committee and branch besides you can approve it.")
            % {"n": project.approvals_required}
        )
    expense = Expense.objects.create(
        project=project,
        purpose=purpose,
        expense_type=expense_type,
        vendor=vendor,
        amount=value,
        submitted_by=actor,
        submitted_at=now,
    )
    _store_files(project, receipts, actor, now, expense=expense)
    record_change(
        actor, "projects.expense.submit", project, after={"expense": expense.pk, "amount": str(value)}
    )
    log_event(project, "expense_submitted", actor, now, data={"expense": expense.pk, "amount": str(value)})
    tell(
        [user for user, _p, _b in approvers(project) if user.pk != getattr(actor, "pk", None)],
        _("An expense awaits your approval"),
        _("%(project)s: %(purpose)s, %(amount)s yuan to %(vendor)s.")
        % {"project": project.title, "purpose": purpose, "amount": value, "vendor": vendor},
        f"{project_url(project)}expenses/{expense.pk}/",
        now,
    )
    return expense


def _lock_expense(expense: Expense, version: int | None) -> tuple[Project, Expense]:
    project = lock_project(expense.project)
    locked = Expense.objects.select_for_update().get(pk=expense.pk)
    if version is not None and locked.version != version:
        raise ValidationError(
            _("Someone else changed this expense a moment ago. Reload the page and try again.")
        )
    return project, locked


def _bump(expense: Expense, *fields: str) -> None:
    expense.version += 1
    expense.save(update_fields=["version", *fields])


@transaction.atomic
def decide_expense(
    actor: Any,
    expense: Expense,
    *,
    approve: bool,
    note: str = "",
    version: int | None = None,
    now: dt.datetime | None = None,
) -> Expense:
    """One approver's word. The submitter cannot approve their own; each approver once;
    ``approvals_required`` approvals make it payable, one refusal rejects it."""
    now = now or timezone.now()
    project, expense = _lock_expense(expense, version)
    require(actor, policy.VIEW, project)
    seat = _approver_seat(project, actor)
    if seat is None:
        raise PermissionDenied
    if expense.submitted_by_id == getattr(actor, "pk", None):
        raise ValidationError(_("You submitted this expense, so you cannot approve it."))
    if expense.state != E.SUBMITTED:
        raise ValidationError(
            _("This expense is “%(state)s” and no longer awaits approval.")
            % {"state": E(expense.state).label}
        )
    if expense.approvals.filter(approver=actor).exists():
        raise ValidationError(_("You have already given your word on this expense."))
    note = clean_text(note, "note", required=not approve, limit=1000)
    person, body = seat
    try:
        with transaction.atomic():
            ExpenseApproval.objects.create(
                expense=expense, approver=actor, person=person, body=body, approve=approve, note=note, at=now
            )
    except IntegrityError:
        raise ValidationError(_("You have already given your word on this expense.")) from None
    yes = expense.approvals.filter(approve=True).count()
    if not approve:
        expense.state = E.REJECTED
        expense.decided_at = now
    elif yes >= project.approvals_required:
        expense.state = E.APPROVED
        expense.decided_at = now
    _bump(expense, "state", "decided_at")
    record_change(
        actor,
        "projects.expense.approve" if approve else "projects.expense.reject",
        project,
        after={"expense": expense.pk, "state": expense.state, "approvals": yes},
        reason=note,
    )
    log_event(
        project,
        "expense_approved" if approve else "expense_rejected",
        actor,
        now,
        note=note,
        data={"expense": expense.pk, "approvals": yes, "state": expense.state},
    )
    if expense.state != E.SUBMITTED and expense.submitted_by is not None:
        tell(
            [expense.submitted_by],
            _("Expense approved") if approve else _("Expense rejected"),
            f"{project.title}: {expense.purpose}",
            f"{project_url(project)}expenses/{expense.pk}/",
            now,
        )
    return expense


@transaction.atomic
def withdraw_expense(actor: Any, expense: Expense, *, reason: str, now: dt.datetime | None = None) -> Expense:
    now = now or timezone.now()
    project, expense = _lock_expense(expense, None)
    require(actor, policy.CHANGE, project)
    if expense.state not in Expense.OPEN:
        raise ValidationError(_("Only an expense not yet paid can be withdrawn."))
    reason = clean_text(reason, "reason", limit=1000)
    expense.state = E.WITHDRAWN
    expense.decided_at = now
    _bump(expense, "state", "decided_at")
    record_change(actor, "projects.expense.withdraw", project, after={"expense": expense.pk}, reason=reason)
    log_event(project, "expense_withdrawn", actor, now, note=reason, data={"expense": expense.pk})
    return expense


@transaction.atomic
def pay_expense(
    actor: Any,
    expense: Expense,
    *,
    occurred_on: dt.date | None = None,
    method: str = LedgerEntry.Method.TRANSFER,
    receipts: Sequence[Any] = (),
    version: int | None = None,
    now: dt.datetime | None = None,
) -> LedgerEntry:
    """Pay an approved expense out of the fund: the ledger's expense entry."""
    now = now or timezone.now()
    project, expense = _lock_expense(expense, version)
    require(actor, policy.CHANGE, project)
    _money_state(project)
    if expense.state != E.APPROVED:
        raise ValidationError(
            _("Only an approved expense can be paid; this one is “%(state)s”.")
            % {"state": E(expense.state).label}
        )
    if method not in LedgerEntry.Method.values:
        raise ValidationError({"method": _("Say whether it was paid in cash or by transfer.")})
    entry = _append(
        project,
        signed=-expense.amount,
        actor=actor,
        now=now,
        direction=Dir.EXPENSE,
        amount=expense.amount,
        purpose=expense.purpose,
        method=method,
        expense=expense,
        occurred_on=_date(occurred_on, "occurred_on", now),
    )
    expense.state = E.PAID
    expense.paid_by = actor
    expense.paid_at = now
    _bump(expense, "state", "paid_by", "paid_at")
    _store_files(project, receipts, actor, now, expense=expense)
    record_change(
        actor,
        "projects.expense.pay",
        project,
        after={
            "expense": expense.pk,
            "seq": entry.seq,
            "amount": str(expense.amount),
            "balance": str(project.balance),
        },
    )
    log_event(
        project, "expense_paid", actor, now, data={"expense": expense.pk, "amount": str(expense.amount)}
    )
    return entry


@transaction.atomic
def add_receipts(
    actor: Any, expense: Expense, receipts: Sequence[Any], now: dt.datetime | None = None
) -> int:
    """Receipts that follow an expense (before or after it is paid)."""
    now = now or timezone.now()
    project = expense.project
    require(actor, policy.CHANGE, project)
    if not receipts:
        raise ValidationError({"receipts": _("Choose at least one photo or PDF of the receipt.")})
    count = _store_files(project, receipts, actor, now, expense=expense)
    record_change(actor, "projects.expense.receipt", project, after={"expense": expense.pk, "files": count})
    log_event(project, "receipt", actor, now, data={"expense": expense.pk, "files": count})
    return count


def missing_receipts(project: Project) -> Any:
    """Paid expenses with no receipt yet."""
    return project.expenses.filter(state=E.PAID).exclude(receipts__isnull=False)


@transaction.atomic
def reverse_entry(
    actor: Any, entry: LedgerEntry, *, reason: str, now: dt.datetime | None = None
) -> LedgerEntry:
    """Correct a wrong entry by appending its opposite. Entries are never edited or deleted."""
    now = now or timezone.now()
    require(actor, policy.MANAGE, entry.project)
    reason = clean_text(reason, "reason", limit=200)
    project = lock_project(entry.project)
    _money_state(project)
    entry = LedgerEntry.objects.get(pk=entry.pk)
    if entry.reverses_id is not None:
        raise ValidationError(
            _("A reversing entry cannot itself be reversed; record the entry again instead.")
        )
    if LedgerEntry.objects.filter(reverses=entry).exists():
        raise ValidationError(_("Entry no. %(seq)s has already been reversed.") % {"seq": entry.seq})
    copied = {
        name: getattr(entry, name)
        for name in (
            "direction",
            "source",
            "method",
            "unit",
            "payer_name",
            "payer_consents",
            "organisation",
            "decision",
            "emergency",
        )
    }
    if entry.direction == Dir.EXPENSE:
        copied["expense"] = entry.expense
    reversal = _append(
        project,
        signed=-entry.signed_amount,
        actor=actor,
        now=now,
        amount=-entry.amount,
        reverses=entry,
        purpose=(_("Reversal of no. %(seq)s: %(reason)s") % {"seq": entry.seq, "reason": reason})[:200],
        occurred_on=timezone.localdate(now),
        **copied,
    )
    if entry.expense_id is not None:
        expense = Expense.objects.select_for_update().get(pk=entry.expense_id)
        expense.state = E.REVERSED
        _bump(expense, "state")
    record_change(
        actor,
        "projects.ledger.reverse",
        project,
        after={"seq": reversal.seq, "reverses": entry.seq, "balance": str(project.balance)},
        reason=reason,
    )
    log_event(project, "reversal", actor, now, note=reason, data={"seq": reversal.seq, "reverses": entry.seq})
    return reversal


# ---- cost sharing by area (Art. 283) ----------------------------------------------------------


@transaction.atomic
def set_levy(
    actor: Any, project: Project, *, total: Any, note: str = "", now: dt.datetime | None = None
) -> Levy:
    """Share ``total`` yuan over the households in scope by exclusive area; set once."""
    now = now or timezone.now()
    require(actor, policy.MANAGE, project)
    value = clean_amount(total, "total")
    project = lock_project(project)
    if not project.levies_owners:
        raise ValidationError(_("This project does not levy the owners; say so in its settings first."))
    if Levy.objects.filter(project=project).exists():
        raise ValidationError(_("The owners' shares are already set; they are not changed once published."))
    units = list(scope_units(project).values_list("id", "area_m2"))
    if not units:
        raise ValidationError({"total": _("There are no households in the project's scope.")})
    shares = sharing.split_by_area(value, units)
    area_total = sum((area for _id, area in units), ZERO)
    levy = Levy.objects.create(
        project=project,
        total=value,
        area_total=area_total,
        note=clean_text(note, "note", required=False),
        created_by=actor,
        created_at=now,
    )
    areas = dict(units)
    LevyShare.objects.bulk_create(
        LevyShare(levy=levy, unit_id=int(unit_id), area_m2=areas[unit_id], amount=amount)  # type: ignore[call-overload]
        for unit_id, amount in shares.items()
    )
    record_change(actor, "projects.levy.set", project, after={"total": str(value), "households": len(units)})
    log_event(project, "levy", actor, now, data={"total": str(value), "households": len(units)})
    return levy


def paid_by_unit(project: Project) -> dict[int, Decimal]:
    """Net household contributions (reversals netted) by unit id."""
    rows = (
        project.entries.filter(source=Src.HOUSEHOLD)
        .values("unit_id")
        .annotate(total=Sum("amount"))
        .values_list("unit_id", "total")
    )
    return {unit_id: _fen(total) for unit_id, total in rows}


def totals(project: Project) -> dict[str, Decimal]:
    """Income by source, expenses, and the balance they give — worked out from the entries,
    so a page can show that it equals the running balance."""
    out: dict[str, Decimal] = dict.fromkeys(Src.values, ZERO)
    expenses = ZERO
    for row in project.entries.values("direction", "source").annotate(total=Sum("amount")):
        if row["direction"] == Dir.INCOME:
            out[row["source"]] += _fen(row["total"])
        else:
            expenses += _fen(row["total"])
    income = sum(out.values(), ZERO)
    return {**out, "income": income, "expenses": expenses, "balance": income - expenses}
