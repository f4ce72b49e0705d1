"""Forms of the request pages: the resident's phone form, staff entry, and the desk's moves."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.orgs.models import Organisation, ServiceCategory
from gongzhi.tickets.models import CategoryQuestion, Ticket


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos in one input; each is checked by ``photos.clean_photo`` in the action."""

    widget = MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"})

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if not data:
            return []
        files = data if isinstance(data, (list, tuple)) else [data]
        return [super(PhotosField, self).clean(f, initial) for f in files]


def category_choices() -> list[tuple[Any, Any]]:
    """Categories grouped under their top level, for a select a phone can handle."""
    cats = list(ServiceCategory.objects.select_related("parent").order_by("code"))
    tops = sorted((c for c in cats if c.parent_id is None), key=lambda c: c.code)
    children: dict[int, list[ServiceCategory]] = {}
    for c in cats:
        if c.parent_id is not None:
            children.setdefault(c.parent_id, []).append(c)
    choices: list[tuple[Any, Any]] = [("", "—")]
    for top in tops:
        kids = children.get(top.pk, [])
        if kids:
            choices.append((top.name, [(top.pk, top.name), *[(k.pk, k.name) for k in kids]]))
        else:
            choices.append((top.pk, top.name))
    return choices


def question_field(question: CategoryQuestion) -> forms.Field:
    """A form field for a category's extra question; whether it is required is checked by
    the action for the chosen category only."""
    label = f"{question.category.name}: {question.label}"
    choices = [(c.get("key"), c.get("name")) for c in question.choices]
    if question.datatype == CategoryQuestion.Datatype.SINGLE:
        return forms.ChoiceField(label=label, choices=[("", "—"), *choices], required=False)
    if question.datatype == CategoryQuestion.Datatype.MULTI:
        return forms.MultipleChoiceField(
            label=label, choices=choices, required=False, widget=forms.CheckboxSelectMultiple
        )
    if question.datatype == CategoryQuestion.Datatype.NUMBER:
        return forms.DecimalField(label=label, required=False)
    return forms.CharField(label=label, required=False, max_length=500)


class IntakeForm(forms.Form):
    """The resident's form: what, where, a photo, and how to reach them."""

    category = forms.TypedChoiceField(label=_("What kind of problem?"), coerce=int)
    description = forms.CharField(
        label=_("Describe the problem"),
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 2000}),
        max_length=2000,
        error_messages={"max_length": _("At most %(limit_value)d characters (this has %(show_value)d).")},
    )
    photos = PhotosField(label=_("Photos"), required=False)
    building = forms.TypedChoiceField(label=_("Building"), coerce=int, required=False, empty_value=None)
    at_home = forms.BooleanField(label=_("It is at my home"), required=False)
    address_text = forms.CharField(label=_("Where exactly?"), max_length=200, required=False)
    plan_x = forms.IntegerField(required=False, min_value=0, max_value=1000, widget=forms.HiddenInput)
    plan_y = forms.IntegerField(required=False, min_value=0, max_value=1000, widget=forms.HiddenInput)
    reporter_name = forms.CharField(label=_("Your name"), max_length=60, required=False)
    reporter_phone = forms.RegexField(
        label=_("Your mobile number"),
        regex=r"^1\d{10}$",
        required=False,
        error_messages={"invalid": _("Enter an 11-digit mobile number.")},
    )
    anonymous = forms.BooleanField(label=_("Do not show my name to the public"), required=False)
    urgent = forms.BooleanField(label=_("Urgent: danger to people or property"), required=False)
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    confirm_new = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def answers(self, category_id: int) -> dict[str, Any]:
        """The answers to the chosen category's questions (and its parent's)."""
        out: dict[str, Any] = {}
        for question in self.questions:
            if question.category_id == category_id:
                value = self.cleaned_data.get(f"q_{question.pk}")
                out[question.code] = (
                    str(value) if isinstance(value, (int, float)) or hasattr(value, "as_tuple") else value
                )
        return out

    def question_fields(self) -> list[tuple[int, Any]]:
        return [(q.category_id, self[f"q_{q.pk}"]) for q in self.questions]

    def __init__(self, *args: Any, buildings: list[Any] = (), phone_required: bool = True, **kwargs: Any):  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices()  # type: ignore[attr-defined]
        building_choices = [("", "—"), *[(b.pk, b.label) for b in buildings]]
        self.fields["building"].choices = building_choices  # type: ignore[attr-defined]
        if not buildings:
            del self.fields["building"]
        self.fields["reporter_phone"].required = phone_required
        self.questions = list(CategoryQuestion.objects.select_related("category"))
        for question in self.questions:
            self.fields[f"q_{question.pk}"] = question_field(question)
        if not self.is_bound:
            self.initial.setdefault("key", uuid.uuid4().hex)


class StaffIntakeForm(IntakeForm):
    """Staff entering a request for a resident who called, was visited or wrote on paper."""

    channel = forms.ChoiceField(
        label=_("How did the resident contact you?"),
        choices=[(c, Ticket.Channel(c).label) for c in Ticket.STAFF_CHANNELS],
    )
    consent_note = forms.CharField(
        label=_("Resident's consent"),
        max_length=200,
        help_text=_("How the resident agreed to you filing this for them, e.g. “agreed on the phone”."),
    )
    compound = forms.TypedChoiceField(label=_("Compound"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, compounds: list[Any] = (), **kwargs: Any):  # type: ignore[assignment]
        super().__init__(*args, phone_required=False, **kwargs)
        compound_choices = [("", "—"), *[(c.pk, c.name) for c in compounds]]
        self.fields["compound"].choices = compound_choices  # type: ignore[attr-defined]
        self.fields.pop("at_home", None)


class DispatchForm(forms.Form):
    lead_unit = forms.ModelChoiceField(label=_("Lead unit"), queryset=Organisation.objects.none())
    co_units = forms.ModelMultipleChoiceField(
        label=_("Co-units"),
        queryset=Organisation.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    instructions = forms.CharField(
        label=_("Instructions"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        units = Organisation.objects.filter(kind=Organisation.Kind.MEMBER_UNIT, dissolved_on__isnull=True)
        self.fields["lead_unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["co_units"].queryset = units  # type: ignore[attr-defined]


class RatingForm(forms.Form):
    resolution = forms.ChoiceField(
        label=_("Was it resolved?"), choices=Ticket.Resolution.choices, widget=forms.RadioSelect
    )
    satisfaction = forms.ChoiceField(
        label=_("How satisfied are you?"), choices=Ticket.Satisfaction.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("Anything to add?"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000
    )
