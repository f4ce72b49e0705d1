"""The fund pages of a project: its summary on the project page, the ledger with reversals
and receipts, recording income (and the town's emergency confirmation), expenses with their
approvals and payment, and the owners' levy by area with its Excel export.

Views read through ``policy`` and change only through ``projects.ledger``; the ledger is
append-only, so there is no edit or delete anywhere, only reversing entries. On an error the
page comes back with status 400, the form as the user filled it and the ledger's message.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill

from gongzhi.consultations.uploads import clean_document
from gongzhi.core.audit import record_access
from gongzhi.core.models import AuditEvent
from gongzhi.decisions.models import Decision
from gongzhi.housing.importing.workbooks import safe_cell
from gongzhi.housing.models import Building, Unit
from gongzhi.orgs import policy
from gongzhi.orgs.models import Organisation
from gongzhi.projects import ledger
from gongzhi.projects.forms_money import (
    ApproveForm,
    EmergencyForm,
    ExpenseForm,
    IncomeForm,
    LevyForm,
    PayForm,
    ReasonForm,
    ReceiptsForm,
    RefuseForm,
    WithdrawForm,
)
from gongzhi.projects.models import (
    ZERO,
    Expense,
    ExpenseApproval,
    LedgerEntry,
    Levy,
    LevyShare,
    Project,
    Receipt,
)

E, Src = Expense.State, LedgerEntry.Source
PAID, PARTLY, UNPAID = "paid", "partly", "unpaid"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="9C2A2A")


# --------------------------------------------------------------------------- helpers


def _project(request: HttpRequest, pk: int, action: str = policy.VIEW) -> Project:
    return policy.get_or_404(request.user, "project", action, pk=pk)


def form_errors(form: forms.Form, error: ValidationError, aliases: dict[str, str] | None = None) -> None:
    """Put the ledger's field errors on the form; a field the form does not have (or an
    error without a field) goes to the top."""
    aliases = aliases or {}
    if hasattr(error, "error_dict"):
        for name, msgs in error.message_dict.items():
            name = aliases.get(name, name)
            form.add_error(name if name in form.fields else None, msgs)
    else:
        form.add_error(None, error.messages)


def unshown_errors(bound: dict[Any, forms.Form], shown: dict[Any, Any]) -> list[str]:
    """Messages of posted forms the page no longer shows (the expense moved on, the entry
    was reversed): they go to the top of the page."""
    return [
        str(message)
        for key, form in bound.items()
        if shown.get(key) is None
        for messages_ in form.errors.values()
        for message in messages_
    ]


def _receipts(files: list[Any]) -> list[Any]:
    """Uploaded receipts, each a PDF or a photo re-encoded without metadata."""
    if len(files) > settings.GONGZHI_MAX_PHOTOS:
        raise ValidationError({"receipts": _("At most %(n)s files.") % {"n": settings.GONGZHI_MAX_PHOTOS}})
    return [clean_document(f, "receipts") for f in files]


def _next_or(request: HttpRequest, default: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default)


def shows_payers(user: Any, project: Project) -> bool:
    """Payers' names are for staff who may see residents' personal data in the project's
    compounds; everyone else sees households by unit only."""
    return any(policy.can_within(user, "owner", policy.REVEAL, c) for c in project.compounds.all())


def shows_households(user: Any, project: Project) -> bool:
    """Those who run the project see which household paid; others only households that
    agreed to be listed by unit."""
    return policy.can(user, policy.CHANGE, project) or shows_payers(user, project)


def shows_receipt(user: Any, receipt: Receipt) -> bool:
    """A household's receipt may carry its name: shown like the household itself."""
    entry = receipt.entry
    if entry is None or entry.source != Src.HOUSEHOLD or entry.payer_consents:
        return True
    return shows_households(user, receipt.project)


def person_label(user: Any) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _base(request: HttpRequest, project: Project, tab: str) -> dict[str, Any]:
    """What every fund page shows around its content: the project and its tabs."""
    user = request.user
    return {
        "project": project,
        "tab": tab,
        "project_url": ledger.project_url(project),
        "may_change": policy.can(user, policy.CHANGE, project),
        "may_manage": policy.can(user, policy.MANAGE, project),
        "money_moves": project.state in ledger.MONEY_STATES,
        "has_levy": project.levies_owners or Levy.objects.filter(project=project).exists(),
    }


# --------------------------------------------------------------------------- levy status


def levy_rows(project: Project) -> tuple[Levy | None, list[dict[str, Any]]]:
    """Each household's share of the levy, what it has paid so far and its status."""
    levy = Levy.objects.filter(project=project).first()
    if levy is None:
        return None, []
    paid = ledger.paid_by_unit(project)
    rows = []
    shares = levy.shares.select_related("unit__compound", "unit__building", "unit__entrance").order_by(
        "unit__compound_id", "unit__building_id", "unit__entrance_id", "unit__floor", "unit__number", "id"
    )
    for share in shares:
        got = paid.get(share.unit_id, ZERO)
        status = PAID if got >= share.amount else PARTLY if got > 0 else UNPAID
        rows.append(
            {
                "share": share,
                "unit": share.unit,
                "paid": got,
                "outstanding": max(share.amount - got, ZERO),
                "status": status,
            }
        )
    return levy, rows


def status_labels() -> dict[str, str]:
    return {PAID: _("Paid"), PARTLY: _("Partly paid"), UNPAID: _("Not paid")}


def levy_counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys((PAID, PARTLY, UNPAID), 0)
    for row in rows:
        counts[row["status"]] += 1
    return counts


# --------------------------------------------------------------------------- summary


def _awaiting(user: Any, project: Project) -> list[Any]:
    """Expenses awaiting approval, each marked whether ``user`` may give their word now."""
    seats = {u.pk for u, _person, _body in ledger.approvers(project)}
    pending = list(
        project.expenses.filter(state=E.SUBMITTED)
        .select_related("submitted_by")
        .annotate(yes=Count("approvals", filter=Q(approvals__approve=True)))
        .order_by("submitted_at", "id")
    )
    given = set(
        ExpenseApproval.objects.filter(expense__in=pending, approver_id=user.pk).values_list(
            "expense_id", flat=True
        )
    )
    for expense in pending:
        expense.may_decide = (  # type: ignore[attr-defined]
            user.pk in seats and expense.submitted_by_id != user.pk and expense.pk not in given
        )
    return pending


def money_context(request: HttpRequest, project: Project) -> dict[str, Any]:
    """What the project page shows of the fund (rendered by ``projects/money/_summary.html``):
    the balance and how it comes about, money promised to open expenses, paid expenses still
    without a receipt, the expenses awaiting approval (with the buttons for an approver), and
    how the households stand with the levy."""
    user = request.user
    # The page's project may have been read before a payment; the fund shows the balance now.
    balance = Project.objects.values_list("balance", flat=True).get(pk=project.pk)
    totals = ledger.totals(project)
    committed = ledger.committed(project)
    levy, rows = levy_rows(project)
    return {
        "fund": {
            "balance": balance,
            "totals": totals,
            "sources": [(label, totals[value]) for value, label in Src.choices],
            "balanced": totals["balance"] == balance,
            "committed": committed,
            "available": max(balance - committed, ZERO),
            "approved_unpaid": project.expenses.filter(state=E.APPROVED).count(),
            "missing_receipts": ledger.missing_receipts(project).count(),
            "awaiting": _awaiting(user, project),
            "required": project.approvals_required,
            "levy": levy,
            "levy_counts": levy_counts(rows) if levy else None,
            "may_change": policy.can(user, policy.CHANGE, project),
            "money_moves": project.state in ledger.MONEY_STATES,
            "may_confirm_emergency": ledger.may_confirm_emergency(user, project),
            "back": request.get_full_path(),
        }
    }


# --------------------------------------------------------------------------- ledger


def _payer(entry: LedgerEntry, shown: bool, names: bool) -> str:
    if entry.direction == LedgerEntry.Direction.EXPENSE:
        return entry.expense.vendor if entry.expense else ""
    if entry.source == Src.HOUSEHOLD and entry.unit is not None:
        if not shown:
            return _("A household")
        label = f"{entry.unit.compound.name} {entry.unit.address_label}"
        if names and entry.payer_name:
            label += f" · {entry.payer_name}"
        return label
    if entry.organisation is not None:
        return entry.organisation.name
    return ""


def signed_text(value: Decimal) -> str:
    """+1200.00 or −450.00 (a real minus sign), as the ledger prints amounts."""
    return f"+{value}" if value >= 0 else f"−{-value}"


def _basis(entry: LedgerEntry) -> str:
    if entry.decision is not None:
        return _("Owners' decision: %(title)s") % {"title": entry.decision.title}
    if entry.emergency is not None:
        return _("Emergency confirmed by the town: %(what)s") % {"what": str(entry.emergency)}
    return ""


def render_ledger(
    request: HttpRequest,
    project: Project,
    *,
    bound: dict[int, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    bound = bound or {}
    user = request.user
    project.refresh_from_db()
    entries = list(
        project.entries.select_related(
            "unit__compound",
            "unit__building",
            "unit__entrance",
            "organisation",
            "decision",
            "emergency",
            "expense",
            "recorded_by",
        )
        .prefetch_related("receipts", "expense__receipts")
        .order_by("seq")
    )
    names = shows_payers(user, project)
    households = names or policy.can(user, policy.CHANGE, project)
    may_manage = policy.can(user, policy.MANAGE, project)
    seq_of = {e.pk: e.seq for e in entries}
    by_pk = {e.pk: e for e in entries}
    reversed_by = {e.reverses_id: e.seq for e in entries if e.reverses_id}
    rows = []
    named = 0
    for entry in entries:
        if entry.direction == LedgerEntry.Direction.EXPENSE:
            receipts = list(entry.expense.receipts.all()) if entry.expense else []
            kind = entry.expense.get_expense_type_display() if entry.expense else ""
        else:
            receipts = list(entry.receipts.all())
            kind = entry.get_source_display()
        if names and entry.payer_name and entry.source == Src.HOUSEHOLD:
            named += 1
        reversible = may_manage and entry.reverses_id is None and entry.pk not in reversed_by
        # A reversing entry is shown as its original agreed to be (``shows_receipt`` likewise).
        original = by_pk.get(entry.reverses_id or entry.pk, entry)
        shown = households or entry.source != Src.HOUSEHOLD or original.payer_consents
        visible = receipts if shown else []
        rows.append(
            {
                "entry": entry,
                "purpose": entry.purpose if shown else kind,
                "kind": kind,
                "payer": _payer(entry, shown, names),
                "basis": _basis(entry),
                "signed": entry.signed_amount,
                "amount_text": signed_text(entry.signed_amount),
                "reverses": seq_of.get(entry.reverses_id) if entry.reverses_id else None,
                "reversed_by": reversed_by.get(entry.pk),
                "receipts": visible,
                "hidden_receipts": len(receipts) - len(visible),
                "recorded_by": person_label(entry.recorded_by),
                "form": (bound.get(entry.pk) or ReasonForm(auto_id=f"rev{entry.pk}_%s"))
                if reversible
                else None,
            }
        )
    if named:
        record_access(user, "projects.ledger.payers", project, detail={"names": named}, request=request)
    totals = ledger.totals(project)
    return render(
        request,
        "projects/money/ledger.html",
        {
            **_base(request, project, "ledger"),
            "errors": unshown_errors(bound, {row["entry"].pk: row["form"] for row in rows}),
            "rows": rows,
            "totals": totals,
            "balanced": totals["balance"] == project.balance,
        },
        status=status,
    )


@login_required
def ledger_page(request: HttpRequest, pk: int) -> HttpResponse:
    return render_ledger(request, _project(request, pk))


@require_POST
@login_required
def reverse_entry(request: HttpRequest, pk: int, eid: int) -> HttpResponse:
    """Correct a wrong entry by appending its opposite, with the reason."""
    project = _project(request, pk, policy.MANAGE)
    entry = get_object_or_404(LedgerEntry, pk=eid, project=project)
    form = ReasonForm(request.POST, auto_id=f"rev{entry.pk}_%s")
    if form.is_valid():
        try:
            reversal = ledger.reverse_entry(request.user, entry, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(
                request,
                _("Entry no. %(seq)s reversed by entry no. %(new)s.")
                % {"seq": entry.seq, "new": reversal.seq},
            )
            return redirect(reverse("project-ledger", args=[project.pk]) + f"#entry-{reversal.seq}")
    return render_ledger(request, project, bound={entry.pk: form}, status=400)


@login_required
def receipt(request: HttpRequest, pk: int, rid: int) -> HttpResponseBase:
    """A receipt photo or PDF, for those who may see the project (and the household)."""
    project = _project(request, pk)
    doc = get_object_or_404(Receipt.objects.select_related("entry", "project"), pk=rid, project=project)
    if not shows_receipt(request.user, doc):
        raise PermissionDenied
    response = FileResponse(doc.file.open("rb"), content_type=doc.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --------------------------------------------------------------------------- income


def _scope_buildings(project: Project, units: Any) -> list[tuple[int, str]]:
    buildings = Building.objects.filter(id__in=units.values("building_id")).select_related("compound")
    several = project.compounds.count() > 1
    return [
        (b.pk, f"{b.compound.name} {b.label}" if several else b.label)
        for b in buildings.order_by("compound_id", "id")
    ]


def _member_units(user: Any, project: Project) -> Any:
    units = policy.scope(user, "organisation").filter(kind=Organisation.Kind.MEMBER_UNIT)
    involved = set(project.member_units.values_list("id", flat=True))
    return sorted(units, key=lambda o: (o.pk not in involved, o.name))


def fund_decisions(project: Project) -> list[Decision]:
    """Owners' decisions on using the maintenance fund (matter 5) for the project's compounds
    that passed and were published."""
    published = Decision.objects.filter(
        matter=ledger.FUND_USE_MATTER,
        compound__in=project.compounds.all(),
        state=Decision.State.PUBLISHED,
    ).order_by("-published_at", "-id")
    return [d for d in published if ledger.decision_passed(d)]


def _income_initial(request: HttpRequest, project: Project, units: Any) -> dict[str, Any]:
    initial: dict[str, Any] = {"occurred_on": timezone.localdate(), "source": Src.HOUSEHOLD}
    if request.GET.get("source") in Src.values:
        initial["source"] = request.GET["source"]
    unit_id = request.GET.get("unit", "")
    unit = units.filter(pk=int(unit_id)).select_related("entrance").first() if unit_id.isdigit() else None
    if unit is not None:
        initial |= {
            "source": Src.HOUSEHOLD,
            "building": unit.building_id,
            "entrance": unit.entrance.number,
            "room": unit.number,
        }
        due = (
            LevyShare.objects.filter(levy__project=project, unit=unit)
            .values_list("amount", flat=True)
            .first()
        )
        if due is not None:
            left = due - ledger.paid_by_unit(project).get(unit.pk, ZERO)
            if left > 0:
                initial["amount"] = str(left)
    return initial


@login_required
def income_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Record money received, with what each source needs: the household by its unit, the
    member unit, or for the maintenance fund the owners' decision or the town's confirmation."""
    project = _project(request, pk, policy.CHANGE)
    user = request.user
    units = ledger.scope_units(project)
    organisations = _member_units(user, project)
    decisions = fund_decisions(project)
    emergencies = list(project.emergencies.order_by("-confirmed_at"))
    form = IncomeForm(
        request.POST or None,
        request.FILES or None,
        scope_units=units,
        buildings=_scope_buildings(project, units),
        organisations=[(o.pk, o.name) for o in organisations],
        decisions=[
            (d.pk, f"{d.title}（{d.published_at:%Y-%m-%d}）" if d.published_at else d.title)
            for d in decisions
        ],
        emergencies=[(e.pk, f"{e} · {e.confirmed_at:%Y-%m-%d}") for e in emergencies],
        initial=_income_initial(request, project, units),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        source = data["source"]
        extra: dict[str, Any] = {}
        if source == Src.HOUSEHOLD:
            extra = {
                "unit": data["unit"],
                "payer_name": data["payer_name"],
                "payer_consents": data["payer_consents"],
            }
        elif source == Src.MEMBER_UNIT and data["organisation"] is not None:
            extra = {"organisation": next(o for o in organisations if o.pk == data["organisation"])}
        elif source == Src.MAINTENANCE_FUND:
            extra = {
                "decision": next((d for d in decisions if d.pk == data["decision"]), None),
                "emergency": next((e for e in emergencies if e.pk == data["emergency"]), None),
            }
        try:
            entry = ledger.record_income(
                user,
                project,
                source=source,
                amount=data["amount"],
                purpose=data["purpose"],
                occurred_on=data["occurred_on"],
                method=data["method"],
                receipts=_receipts(data["receipts"]),
                **extra,
            )
        except ValidationError as error:
            form_errors(form, error, {"unit": "room"})
        else:
            messages.success(
                request,
                _("Entry no. %(seq)s recorded: %(amount)s yuan. The balance is now %(balance)s yuan.")
                % {"seq": entry.seq, "amount": entry.amount, "balance": entry.balance_after},
            )
            return redirect(reverse("project-ledger", args=[project.pk]) + f"#entry-{entry.seq}")
    return render(
        request,
        "projects/money/income_new.html",
        {
            **_base(request, project, "income"),
            "form": form,
            "may_confirm_emergency": ledger.may_confirm_emergency(user, project),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def emergency_new(request: HttpRequest, pk: int) -> HttpResponse:
    """The town confirms an emergency repair, so the maintenance fund may pay for it
    without an owners' vote."""
    project = _project(request, pk)
    if not ledger.may_confirm_emergency(request.user, project):
        raise PermissionDenied
    form = EmergencyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            confirmation = ledger.confirm_emergency(request.user, project, **form.cleaned_data)
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(
                request,
                _("Emergency confirmed (%(what)s). The maintenance fund may now be recorded against it.")
                % {"what": str(confirmation)},
            )
            return redirect(
                reverse("project-income-new", args=[project.pk]) + f"?source={Src.MAINTENANCE_FUND}"
            )
    return render(
        request,
        "projects/money/emergency_new.html",
        {
            **_base(request, project, "income"),
            "form": form,
            "confirmations": project.emergencies.select_related("town", "confirmed_by").order_by(
                "-confirmed_at"
            ),
        },
        status=400 if request.method == "POST" else 200,
    )


# --------------------------------------------------------------------------- expenses


def _expense_rows(project: Project) -> Any:
    return project.expenses.select_related("submitted_by").annotate(
        yes=Count("approvals", filter=Q(approvals__approve=True), distinct=True),
        files=Count("receipts", distinct=True),
    )


@login_required
def expense_list(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project(request, pk)
    state = request.GET.get("state", "")
    rows = _expense_rows(project).order_by("-submitted_at", "-id")
    if state in E.values:
        rows = rows.filter(state=state)
    else:
        state = ""
    return render(
        request,
        "projects/money/expenses.html",
        {
            **_base(request, project, "expenses"),
            "expenses": rows,
            "state": state,
            "states": E.choices,
            "committed": ledger.committed(project),
        },
    )


@login_required
def expense_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask for money to be paid out; the committee and branch approve it."""
    project = _project(request, pk, policy.CHANGE)
    form = ExpenseForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            expense = ledger.submit_expense(
                request.user,
                project,
                purpose=data["purpose"],
                expense_type=data["expense_type"],
                vendor=data["vendor"],
                amount=data["amount"],
                receipts=_receipts(data["receipts"]),
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Expense submitted; the approvers have been told."))
            return redirect("project-expense-detail", pk=project.pk, eid=expense.pk)
    committed = ledger.committed(project)
    return render(
        request,
        "projects/money/expense_new.html",
        {
            **_base(request, project, "expenses"),
            "form": form,
            "committed": committed,
            "available": max(project.balance - committed, ZERO),
        },
        status=400 if request.method == "POST" else 200,
    )


def render_expense(
    request: HttpRequest,
    project: Project,
    expense: Expense,
    *,
    bound: dict[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    bound = bound or {}
    user = request.user
    expense = Expense.objects.select_related("submitted_by", "paid_by").get(pk=expense.pk)
    approvals = list(expense.approvals.select_related("person", "body", "approver"))
    seats = {u.pk for u, _person, _body in ledger.approvers(project)}
    may_change = policy.can(user, policy.CHANGE, project)
    is_open = expense.state == E.SUBMITTED
    already = any(a.approver_id == user.pk for a in approvals)
    may_decide = is_open and user.pk in seats and expense.submitted_by_id != user.pk and not already
    version = {"version": expense.version}
    receipts = list(expense.receipts.all())

    def form(name: str, cls: type[forms.Form], show: bool, initial: dict[str, Any] | None = None) -> Any:
        if not show:
            return None
        return bound.get(name) or cls(initial=initial, auto_id=f"{name}_%s")

    shown = {
        "approve": form("approve", ApproveForm, may_decide, version),
        "reject": form("reject", RefuseForm, may_decide, version),
        "pay": form(
            "pay",
            PayForm,
            may_change and expense.state == E.APPROVED,
            version | {"occurred_on": timezone.localdate()},
        ),
        "receipts": form("receipts", ReceiptsForm, may_change and expense.state in (*Expense.OPEN, E.PAID)),
        "withdraw": form("withdraw", WithdrawForm, may_change and expense.state in Expense.OPEN),
    }
    return render(
        request,
        "projects/money/expense_detail.html",
        {
            **_base(request, project, "expenses"),
            "errors": unshown_errors(bound, shown),
            "expense": expense,
            "approvals": approvals,
            "yes": sum(1 for a in approvals if a.approve),
            "required": project.approvals_required,
            "is_submitter": expense.submitted_by_id == user.pk,
            "is_approver": user.pk in seats,
            "already": already,
            "receipts": receipts,
            "missing_receipt": expense.state == E.PAID and not receipts,
            "entries": expense.entries.order_by("seq"),
            **{f"{name}_form": f for name, f in shown.items()},
        },
        status=status,
    )


@login_required
def expense_detail(request: HttpRequest, pk: int, eid: int) -> HttpResponse:
    project = _project(request, pk)
    return render_expense(request, project, get_object_or_404(Expense, pk=eid, project=project))


EXPENSE_FORMS: dict[str, type[forms.Form]] = {
    "approve": ApproveForm,
    "reject": RefuseForm,
    "pay": PayForm,
    "receipts": ReceiptsForm,
    "withdraw": WithdrawForm,
}


@require_POST
@login_required
def expense_act(request: HttpRequest, pk: int, eid: int, action: str) -> HttpResponse:
    """An approver's word (approve, or refuse with a note), paying an approved expense,
    adding receipts, or withdrawing it."""
    if action not in EXPENSE_FORMS:
        raise Http404
    # Approving is a seat on the committee or branch, not a role: the ledger checks it.
    project = _project(request, pk, policy.VIEW if action in ("approve", "reject") else policy.CHANGE)
    expense = get_object_or_404(Expense, pk=eid, project=project)
    form = EXPENSE_FORMS[action](request.POST, request.FILES, auto_id=f"{action}_%s")
    user = request.user
    if form.is_valid():
        data = form.cleaned_data
        try:
            if action in ("approve", "reject"):
                ledger.decide_expense(
                    user, expense, approve=action == "approve", note=data["note"], version=data["version"]
                )
                message = (
                    _("Your approval is recorded.") if action == "approve" else _("Your refusal is recorded.")
                )
            elif action == "pay":
                entry = ledger.pay_expense(
                    user,
                    expense,
                    occurred_on=data["occurred_on"],
                    method=data["method"],
                    receipts=_receipts(data["receipts"]),
                    version=data["version"],
                )
                message = _("Paid: entry no. %(seq)s, the balance is now %(balance)s yuan.") % {
                    "seq": entry.seq,
                    "balance": entry.balance_after,
                }
            elif action == "receipts":
                count = ledger.add_receipts(user, expense, _receipts(data["receipts"]))
                message = _("%(n)s receipt files added.") % {"n": count}
            else:
                ledger.withdraw_expense(user, expense, reason=data["reason"])
                message = _("The expense is withdrawn.")
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, message)
            return _next_or(request, reverse("project-expense-detail", args=[project.pk, expense.pk]))
    return render_expense(request, project, expense, bound={action: form}, status=400)


# --------------------------------------------------------------------------- levy


def _levy_filter(request: HttpRequest, rows: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    status = request.GET.get("status", "")
    if status not in (PAID, PARTLY, UNPAID):
        return "", rows
    return status, [r for r in rows if r["status"] == status]


@login_required
def levy_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The owners' shares of the cost by area (Art. 283): set once by area staff, then each
    household's share, what it has paid and whether it is paid up."""
    project = _project(request, pk, policy.MANAGE if request.method == "POST" else policy.VIEW)
    form = None
    if request.method == "POST":
        form = LevyForm(request.POST)
        if form.is_valid():
            try:
                levy = ledger.set_levy(
                    request.user, project, total=form.cleaned_data["total"], note=form.cleaned_data["note"]
                )
            except ValidationError as error:
                form_errors(form, error)
            else:
                messages.success(
                    request,
                    _("The owners' shares are set: %(total)s yuan over %(n)s households.")
                    % {"total": levy.total, "n": levy.shares.count()},
                )
                return redirect("project-levy", pk=project.pk)
    elif project.levies_owners and policy.can(request.user, policy.MANAGE, project):
        form = LevyForm()
    current, rows = levy_rows(project)
    status, shown = _levy_filter(request, rows)
    households = shows_households(request.user, project)
    form_shown = form if current is None and project.levies_owners else None
    return render(
        request,
        "projects/money/levy.html",
        {
            **_base(request, project, "levy"),
            "errors": unshown_errors({"levy": form}, {"levy": form_shown}) if form is not None else [],
            "form": form_shown,
            "levy": current,
            "rows": shown if households else [],
            "shows_rows": households,
            "shown_share": sum((r["share"].amount for r in shown), ZERO),
            "shown_paid": sum((r["paid"] for r in shown), ZERO),
            "status": status,
            "labels": status_labels(),
            "counts": levy_counts(rows),
            "share_total": sum((r["share"].amount for r in rows), ZERO),
            "paid_total": sum((min(r["paid"], r["share"].amount) for r in rows), ZERO),
            "outstanding_total": sum((r["outstanding"] for r in rows), ZERO),
            "may_export": policy.can(request.user, policy.EXPORT, project),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def levy_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The levy table as .xlsx (households by unit, no names), logged as an export."""
    project = _project(request, pk, policy.EXPORT)
    levy, rows = levy_rows(project)
    if levy is None:
        raise Http404
    status, rows = _levy_filter(request, rows)
    labels = status_labels()
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Owners' shares"))
    sheet.freeze_panes = "A2"
    headers = [
        _("Compound"),
        _("Building"),
        _("Entrance"),
        _("Room"),
        _("Area (m²)"),
        _("Share (yuan)"),
        _("Paid (yuan)"),
        _("Outstanding (yuan)"),
        _("Status"),
    ]
    header = []
    for title in headers:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        header.append(cell)
    sheet.append(header)
    for row in rows:
        unit: Unit = row["unit"]
        values: list[Any] = [
            unit.compound.name,
            unit.building.number,
            unit.entrance.number,
            unit.number,
            row["share"].area_m2,
            row["share"].amount,
            row["paid"],
            row["outstanding"],
            labels[row["status"]],
        ]
        sheet.append([safe_cell(sheet, v) for v in values])
    out = io.BytesIO()
    book.save(out)
    record_access(
        request.user,
        "projects.levy.export",
        project,
        kind=AuditEvent.Kind.EXPORT,
        detail={"rows": len(rows), "status": status or None, "total": str(levy.total)},
        request=request,
    )
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    suffix = f"-{status}" if status else ""
    response["Content-Disposition"] = f'attachment; filename="levy-{project.code}{suffix}.xlsx"'
    return response
