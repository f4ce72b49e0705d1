"""Forms of the project pages. They check shapes and that a choice is one offered (the view
takes the choices from the user's scope); the actions check the rules."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.projects.models import MilestonePhoto, Project
from gongzhi.tickets.forms import PhotosField

Choices = list[tuple[Any, Any]]
# Rows of leads on the start form, and of photos on the progress form.
LEAD_ROWS = 3
PHOTO_ROWS = 3
STARS = [(n, f"{n}★") for n in range(1, 6)]


def set_choices(form: forms.Form, name: str, choices: Choices, *, blank: bool = True) -> None:
    field = form.fields[name]
    field.choices = [("", "—"), *choices] if blank else list(choices)  # type: ignore[attr-defined]


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def request_numbers(text: str) -> list[int]:
    """The request numbers in free text such as “#12, #15 20”, in order, once each."""
    seen: list[int] = []
    for number in (int(n) for n in re.findall(r"\d{1,12}", text or "")):
        if number not in seen:
            seen.append(number)
    return seen


class ProjectForm(forms.Form):
    """Start a project: what, where, who, and the needs behind it."""

    title = forms.CharField(label=_("Title"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind of project"), choices=[("", "—"), *Project.Kind.choices])
    summary = forms.CharField(
        label=_("What and why"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000
    )
    compounds = forms.TypedMultipleChoiceField(
        label=_("Compounds"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("All in one community."),
    )
    buildings = forms.TypedMultipleChoiceField(
        label=_("Buildings"),
        coerce=int,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("Leave empty for the whole compounds."),
    )
    party_org = forms.TypedChoiceField(
        label=_("Community party organisation"),
        coerce=int,
        help_text=_("The party organisation whose area covers the compounds starts the project."),
    )
    branch = forms.TypedChoiceField(
        label=_("Joint party branch"), coerce=int, required=False, empty_value=None
    )
    committee = forms.TypedChoiceField(
        label=_("Owners' committee"), coerce=int, required=False, empty_value=None
    )
    member_units = forms.TypedMultipleChoiceField(
        label=_("Member units involved"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    service_types = forms.TypedMultipleChoiceField(
        label=_("Services delivered"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    budget = forms.CharField(
        label=_("Budget (yuan)"),
        max_length=20,
        initial="0",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    approvals_required = forms.IntegerField(
        label=_("Approvals needed for an expense"),
        min_value=1,
        max_value=5,
        initial=2,
        help_text=_("Members of the owners' committee or the joint branch, never the one who submits it."),
    )
    levies_owners = forms.BooleanField(label=_("Owners share the cost by area"), required=False)
    tickets = forms.CharField(
        label=_("Resident requests"),
        max_length=500,
        required=False,
        help_text=_("Request numbers, for example “#1262 #1270”."),
    )
    consultations = forms.TypedMultipleChoiceField(
        label=_("Consultations"),
        coerce=int,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    resolutions = forms.TypedMultipleChoiceField(
        label=_("Resolutions of meetings"),
        coerce=int,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
        help_text=_("Only adopted resolutions are offered."),
    )

    def __init__(
        self,
        *args: Any,
        compounds: Choices = (),  # type: ignore[assignment]
        buildings: Choices = (),  # type: ignore[assignment]
        party_orgs: Choices = (),  # type: ignore[assignment]
        branches: Choices = (),  # type: ignore[assignment]
        committees: Choices = (),  # type: ignore[assignment]
        member_units: Choices = (),  # type: ignore[assignment]
        service_types: Choices = (),  # type: ignore[assignment]
        consultations: Choices = (),  # type: ignore[assignment]
        resolutions: Choices = (),  # type: ignore[assignment]
        people: Choices = (),  # type: ignore[assignment]
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "compounds", compounds, blank=False)
        set_choices(self, "buildings", buildings, blank=False)
        set_choices(self, "party_org", party_orgs)
        set_choices(self, "branch", branches)
        set_choices(self, "committee", committees)
        set_choices(self, "member_units", member_units, blank=False)
        set_choices(self, "service_types", service_types, blank=False)
        set_choices(self, "consultations", consultations, blank=False)
        set_choices(self, "resolutions", resolutions, blank=False)
        for row in range(1, LEAD_ROWS + 1):
            self.fields[f"lead{row}_person"] = forms.TypedChoiceField(
                label=_("Lead"), coerce=int, required=False, empty_value=None
            )
            set_choices(self, f"lead{row}_person", people)
            self.fields[f"lead{row}_role"] = forms.CharField(
                label=_("Role in the project"), max_length=60, required=False
            )

    def lead_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"lead{row}_person"], self[f"lead{row}_role"]) for row in range(1, LEAD_ROWS + 1)]

    def clean_tickets(self) -> list[int]:
        return request_numbers(self.cleaned_data.get("tickets") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for row in range(1, LEAD_ROWS + 1):
            person, role = data.get(f"lead{row}_person"), (data.get(f"lead{row}_role") or "").strip()
            if person is not None and not role:
                self.add_error(f"lead{row}_role", _("Say what this person leads."))
            if person is None and role:
                self.add_error(f"lead{row}_person", _("Choose who leads it."))
        return data

    def leads(self) -> list[tuple[int, str]]:
        """(person id, role) of the filled lead rows."""
        data = self.cleaned_data
        return [
            (data[f"lead{row}_person"], data[f"lead{row}_role"].strip())
            for row in range(1, LEAD_ROWS + 1)
            if data.get(f"lead{row}_person") is not None
        ]


class MoveForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=4000, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class LeadForm(forms.Form):
    person = forms.TypedChoiceField(label=_("Person"), coerce=int)
    role = forms.CharField(label=_("Role in the project"), max_length=60)

    def __init__(self, *args: Any, people: Choices = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        set_choices(self, "person", people)


class MilestoneForm(forms.Form):
    title = forms.CharField(label=_("Milestone"), max_length=120)
    weight = forms.IntegerField(
        label=_("Weight"),
        min_value=1,
        max_value=100,
        initial=1,
        help_text=_("How much of the whole work it is, compared with the other milestones."),
    )
    due_on = forms.DateField(label=_("Due on"), required=False, widget=_date_input())


class ProgressForm(forms.Form):
    """New progress of a milestone, with photos in up to three rows of stage and date."""

    progress = forms.IntegerField(label=_("Progress (%)"), min_value=0, max_value=100)
    note = forms.CharField(
        label=_("What was done"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        required=False,
        help_text=_("Needed when the progress goes back."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for row in range(1, PHOTO_ROWS + 1):
            self.fields[f"photos{row}"] = PhotosField(label=_("Photos"), required=False)
            self.fields[f"stage{row}"] = forms.ChoiceField(
                label=_("Stage"), choices=MilestonePhoto.Stage.choices, required=False
            )
            self.fields[f"taken{row}"] = forms.DateField(
                label=_("Taken on"), required=False, widget=_date_input()
            )

    def photo_rows(self) -> list[tuple[forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [
            (self[f"photos{row}"], self[f"stage{row}"], self[f"taken{row}"])
            for row in range(1, PHOTO_ROWS + 1)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for row in range(1, PHOTO_ROWS + 1):
            if not data.get(f"photos{row}"):
                continue
            if not data.get(f"stage{row}"):
                self.add_error(
                    f"stage{row}", _("Say whether the photo is from before, during or after the work.")
                )
            if not data.get(f"taken{row}"):
                self.add_error(f"taken{row}", _("Give the date the photo was taken."))
        return data

    def photo_uploads(self) -> list[tuple[str, str, Any, Any]]:
        """(field, stage, date taken, uploaded file) for every photo of the filled rows."""
        data = self.cleaned_data
        return [
            (f"photos{row}", data[f"stage{row}"], data[f"taken{row}"], upload)
            for row in range(1, PHOTO_ROWS + 1)
            for upload in data.get(f"photos{row}") or []
        ]


class DisputeForm(forms.Form):
    title = forms.CharField(label=_("Dispute"), max_length=120)
    parties = forms.CharField(
        label=_("Parties"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
        help_text=_("Who disagrees with whom, for example “residents of building 3 and the contractor”."),
    )
    issue = forms.CharField(
        label=_("What it is about"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )
    meeting = forms.TypedChoiceField(label=_("Meeting"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, meetings: Choices = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        set_choices(self, "meeting", meetings)


class MediationForm(forms.Form):
    text = forms.CharField(
        label=_("What was done"), widget=forms.Textarea(attrs={"rows": 2}), max_length=4000
    )
    mediator = forms.CharField(label=_("Mediated by"), max_length=120, required=False)
    meeting = forms.TypedChoiceField(
        label=_("Taken to a meeting"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, meetings: Choices = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        set_choices(self, "meeting", meetings)


class DisputeCloseForm(forms.Form):
    settled = forms.TypedChoiceField(
        label=_("How it ended"),
        coerce=lambda value: value == "1",
        choices=[("1", _("Settled")), ("0", _("Closed without agreement"))],
        widget=forms.RadioSelect,
    )
    outcome = forms.CharField(label=_("Outcome"), widget=forms.Textarea(attrs={"rows": 2}), max_length=4000)


class ObjectionForm(forms.Form):
    text = forms.CharField(label=_("Objection"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    household = forms.TypedChoiceField(label=_("Household"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, households: Choices = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        set_choices(self, "household", households)


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("Answer"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


def score_field_name(key: str) -> str:
    """The form field of a rating target key (``project``, ``unit:7`` → ``score_unit_7``)."""
    return "score_" + key.replace(":", "_")


class ResidentRatingForm(forms.Form):
    """A household's stars for each target of ``actions.resident_targets``."""

    household = forms.TypedChoiceField(label=_("Household"), coerce=int, required=False, empty_value=None)
    comment = forms.CharField(
        label=_("Comment"), widget=forms.Textarea(attrs={"rows": 2}), max_length=1000, required=False
    )

    def __init__(
        self,
        *args: Any,
        targets: list[tuple[str, str]] = (),  # type: ignore[assignment]
        households: Choices = (),  # type: ignore[assignment]
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "household", households)
        self.targets = list(targets)
        for key, label in self.targets:
            self.fields[score_field_name(key)] = forms.TypedChoiceField(
                label=label, coerce=int, choices=STARS, widget=forms.RadioSelect(attrs={"class": "star"})
            )

    def score_fields(self) -> list[forms.BoundField]:
        return [self[score_field_name(key)] for key, _label in self.targets]

    def scores(self) -> dict[str, int]:
        return {key: self.cleaned_data[score_field_name(key)] for key, _label in self.targets}


class ContributionForm(forms.Form):
    """The community's stars for a member unit's or a party member's contribution."""

    target = forms.ChoiceField(label=_("Whose contribution"))
    score = forms.TypedChoiceField(label=_("Stars"), coerce=int, choices=STARS, widget=forms.RadioSelect)
    comment = forms.CharField(
        label=_("Comment"), widget=forms.Textarea(attrs={"rows": 2}), max_length=1000, required=False
    )

    def __init__(self, *args: Any, targets: Choices = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        set_choices(self, "target", targets)
