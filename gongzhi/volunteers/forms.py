"""Forms of the volunteer pages. They check shapes and that a choice is one offered (taken
from the user's scope by the view); the rules — times, places, balances, who may take a
post — are checked by ``volunteers.actions``, whose messages land on the same fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.volunteers.models import Activity, PointsEntry

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
Choices = list[tuple[Any, Any]]


def _set_choices(form: forms.Form, name: str, choices: Choices, *, blank: bool = True) -> None:
    field = form.fields[name]
    field.choices = [("", "—"), *choices] if blank else list(choices)  # type: ignore[attr-defined]


def _when(label: Any, *, required: bool = True, help_text: Any = "") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        help_text=help_text,
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


def _choice(label: Any, *, required: bool = True, help_text: Any = "") -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label, coerce=int, required=required, empty_value=None, help_text=help_text
    )


# A labour shift of a project is made from the project's page, not chosen here.
KINDS = [(value, label) for value, label in Activity.Kind.choices if value != Activity.Kind.PROJECT_SHIFT]


class ActivityForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind of activity"), choices=KINDS)
    community = _choice(
        _("Community"), required=False, help_text=_("Left empty: the community of the compound.")
    )
    compound = _choice(_("Compound"), required=False, help_text=_("Left empty: the whole community."))
    organiser = _choice(_("Organised by"))
    place = forms.CharField(label=_("Place"), max_length=120)
    starts_at = _when(_("Starts at"))
    ends_at = _when(_("Ends at"))
    # Not limited here: the action says how many places are allowed.
    capacity = forms.IntegerField(label=_("Places"), initial=20)
    description = forms.CharField(
        label=_("What volunteers will do"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
    )

    def __init__(
        self,
        *args: Any,
        organisers: Choices = (),  # type: ignore[assignment]
        communities: Choices = (),  # type: ignore[assignment]
        compounds: Choices = (),  # type: ignore[assignment]
        shift: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "organiser", organisers)
        if shift:
            # The project decides the kind, the community and the compound.
            for name in ("kind", "community", "compound"):
                del self.fields[name]
        else:
            _set_choices(self, "community", communities)
            _set_choices(self, "compound", compounds)


class PersonForm(forms.Form):
    """Staff sign someone up, or assign someone to a post."""

    person = _choice(_("Person"))

    def __init__(self, *args: Any, people: Choices = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        _set_choices(self, "person", people)


class DeskForm(forms.Form):
    """The attendance desk: check a person in or out at a time (now when left empty)."""

    MOVES = [("in", _("Check in")), ("out", _("Check out"))]

    person = _choice(_("Person"))
    at = _when(_("At"), required=False, help_text=_("Left empty: now."))
    move = forms.ChoiceField(choices=MOVES, widget=forms.HiddenInput)

    def __init__(self, *args: Any, people: Choices = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        _set_choices(self, "person", people)


class CancelActivityForm(forms.Form):
    reason = forms.CharField(label=_("Why it is cancelled"), max_length=500)


ADJUSTMENTS = [
    (PointsEntry.Kind.BONUS, _("Bonus")),
    (PointsEntry.Kind.DEDUCT, _("Deduction")),
    (PointsEntry.Kind.REDEEM, _("Redemption")),
]


class AdjustPointsForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ADJUSTMENTS, widget=forms.RadioSelect)
    # Text, not a number field: the action reads it exactly (no floats) and explains errors.
    points = forms.CharField(
        label=_("Points"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)
    evidence = forms.CharField(
        label=_("Evidence"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        required=False,
        help_text=_("What it rests on: the service record, the approving meeting, the goods handed over."),
    )


class PostForm(forms.Form):
    title = forms.CharField(label=_("Post"), max_length=120)
    community = _choice(
        _("Community"), required=False, help_text=_("Left empty: the community of the compound.")
    )
    compound = _choice(_("Compound"), required=False)
    branch = _choice(_("Assigned by branch"), required=False)
    slots = forms.IntegerField(label=_("People needed"), initial=1)
    description = forms.CharField(
        label=_("What it needs"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False
    )

    def __init__(
        self,
        *args: Any,
        communities: Choices = (),  # type: ignore[assignment]
        compounds: Choices = (),  # type: ignore[assignment]
        branches: Choices = (),  # type: ignore[assignment]
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "community", communities)
        _set_choices(self, "compound", compounds)
        _set_choices(self, "branch", branches)


class PartyRegisterForm(forms.Form):
    """双报到: staff register a party member with a community; a member registers themselves
    (no person chosen)."""

    person = _choice(_("Party member"), required=False)
    community = _choice(_("Community where they live"))

    def __init__(
        self,
        *args: Any,
        people: Choices = (),  # type: ignore[assignment]
        communities: Choices = (),  # type: ignore[assignment]
        staff: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "community", communities)
        if staff:
            self.fields["person"].required = True
            _set_choices(self, "person", people)
        else:
            del self.fields["person"]
