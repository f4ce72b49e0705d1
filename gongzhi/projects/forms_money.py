"""Forms of the fund pages. They check shapes and that a choice is one the view offered
(taken from the project and the user's scope); ``projects.ledger`` checks the rules."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from gongzhi.core.money import clean_amount
from gongzhi.housing.models import Unit
from gongzhi.meetings.forms import DocumentsField
from gongzhi.projects.models import EmergencyConfirmation, Expense, LedgerEntry

Choices = list[tuple[Any, Any]]
SOURCES = LedgerEntry.Source
METHODS = LedgerEntry.Method
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# "3幢", "1单元", "301室": people write the numbers with their Chinese counters.
_COUNTERS = re.compile(r"(号楼|幢|栋|单元|号|室)$")


def _set_choices(form: forms.Form, name: str, choices: Choices, *, blank: bool = True) -> None:
    field = form.fields[name]
    field.choices = [("", "—"), *choices] if blank else list(choices)  # type: ignore[attr-defined]


def address_part(value: str) -> str:
    """A building, entrance or room number as typed, without spaces or its counter."""
    return _COUNTERS.sub("", "".join(str(value or "").split()))


class AmountField(forms.CharField):
    """Yuan as typed: checked by ``core.money.clean_amount`` (never a float)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "size": 12})
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Decimal:  # type: ignore[override]
        text = super().clean(value)
        try:
            return clean_amount(text, "amount")
        except ValidationError as error:
            raise ValidationError(error.message_dict["amount"]) from None


class ReceiptsField(DocumentsField):
    """Photos or PDFs of receipts and invoices; each is checked by ``uploads.clean_document``."""


class IncomeForm(forms.Form):
    source = forms.ChoiceField(label=_("Where the money comes from"), choices=SOURCES.choices)
    amount = AmountField(label=_("Amount (yuan)"))
    occurred_on = forms.DateField(label=_("Received on"), widget=DATE_INPUT)
    purpose = forms.CharField(
        label=_("Purpose"),
        max_length=200,
        required=False,
        help_text=_("Leave it empty to describe it by its source."),
    )
    method = forms.ChoiceField(
        label=_("Payment method"), choices=[("", "—"), *METHODS.choices], required=False
    )
    # A household's contribution.
    building = forms.TypedChoiceField(label=_("Building"), coerce=int, required=False, empty_value=None)
    entrance = forms.CharField(label=_("Entrance"), max_length=20, required=False)
    room = forms.CharField(label=_("Room"), max_length=20, required=False)
    payer_name = forms.CharField(
        label=_("Name of the payer"),
        max_length=60,
        required=False,
        help_text=_("Only staff who may see residents' names see it; no phone number is kept."),
    )
    payer_consents = forms.BooleanField(
        label=_("The payer agrees to be listed by unit on the public ledger"), required=False
    )
    # A member unit's support.
    organisation = forms.TypedChoiceField(
        label=_("Member unit"), coerce=int, required=False, empty_value=None
    )
    # The maintenance fund.
    decision = forms.TypedChoiceField(
        label=_("Owners' decision (matter 5, passed)"), coerce=int, required=False, empty_value=None
    )
    emergency = forms.TypedChoiceField(
        label=_("Or the town's emergency confirmation"), coerce=int, required=False, empty_value=None
    )
    receipts = ReceiptsField(label=_("Receipt photos or PDF"), required=False)

    def __init__(
        self,
        *args: Any,
        scope_units: Any = None,
        buildings: Choices = (),  # type: ignore[assignment]
        organisations: Choices = (),  # type: ignore[assignment]
        decisions: Choices = (),  # type: ignore[assignment]
        emergencies: Choices = (),  # type: ignore[assignment]
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.scope_units = scope_units if scope_units is not None else Unit.objects.none()
        _set_choices(self, "building", buildings)
        _set_choices(self, "organisation", organisations)
        _set_choices(self, "decision", decisions)
        _set_choices(self, "emergency", emergencies)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["unit"] = None
        if data.get("source") == SOURCES.HOUSEHOLD:
            data["unit"] = self._household(data)
        return data

    def _household(self, data: dict[str, Any]) -> Unit | None:
        """The unit the building, entrance and room name, among the project's households."""
        building = data.get("building")
        entrance = address_part(data.get("entrance", ""))
        room = address_part(data.get("room", ""))
        if building is None:
            self.add_error("building", _("Choose the building of the household that pays."))
        if not entrance:
            self.add_error("entrance", _("Write the entrance number."))
        if not room:
            self.add_error("room", _("Write the room number."))
        if building is None or not entrance or not room:
            return None
        unit = (
            self.scope_units.filter(building_id=building, entrance__number=entrance, number=room)
            .select_related("building", "entrance")
            .first()
        )
        if unit is None:
            self.add_error(
                "room",
                _("There is no household %(entrance)s-%(room)s in this building within the project.")
                % {"entrance": entrance, "room": room},
            )
        return unit


class EmergencyForm(forms.Form):
    hazard = forms.ChoiceField(label=_("Kind of emergency"), choices=EmergencyConfirmation.Hazard.choices)
    description = forms.CharField(
        label=_("What is wrong"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
    reference = forms.CharField(label=_("Town's document number"), max_length=60)


class ExpenseForm(forms.Form):
    purpose = forms.CharField(label=_("Purpose"), max_length=200)
    expense_type = forms.ChoiceField(label=_("Type"), choices=Expense.Type.choices)
    vendor = forms.CharField(label=_("Paid to"), max_length=120)
    amount = AmountField(label=_("Amount (yuan)"))
    receipts = ReceiptsField(
        label=_("Quotation or receipt (optional)"),
        required=False,
        help_text=_("Receipts can also be added after payment."),
    )


class ApproveForm(forms.Form):
    note = forms.CharField(
        label=_("Note (optional)"), widget=forms.Textarea(attrs={"rows": 2}), max_length=1000, required=False
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class RefuseForm(ApproveForm):
    note = forms.CharField(
        label=_("Why you refuse"), widget=forms.Textarea(attrs={"rows": 2}), max_length=1000
    )


class PayForm(forms.Form):
    occurred_on = forms.DateField(label=_("Paid on"), widget=DATE_INPUT)
    method = forms.ChoiceField(label=_("Payment method"), choices=METHODS.choices, initial=METHODS.TRANSFER)
    receipts = ReceiptsField(label=_("Receipt or invoice"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ReceiptsForm(forms.Form):
    receipts = ReceiptsField(label=_("Receipt or invoice"))


class ReasonForm(forms.Form):
    # The reversing entry's purpose quotes the reason after "Reversal of no. N: " (200 at most).
    reason = forms.CharField(label=_("Reason"), max_length=160)


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it is withdrawn"), widget=forms.Textarea(attrs={"rows": 2}), max_length=1000
    )


class LevyForm(forms.Form):
    total = AmountField(label=_("Total the owners share (yuan)"))
    note = forms.CharField(
        label=_("Basis"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        required=False,
        help_text=_("For example the owners' decision or the budget the total comes from."),
    )
