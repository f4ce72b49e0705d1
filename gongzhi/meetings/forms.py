"""Forms of the meeting pages. They check shapes and that a choice is one offered (taken
from the user's scope by the view); the actions check the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.meetings.models import AgendaItem, Meeting
from gongzhi.tickets.forms import MultipleFileInput, PhotosField

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
Choices = list[tuple[Any, Any]]


def _set_choices(form: forms.Form, name: str, choices: Choices, *, blank: bool = True) -> None:
    field = form.fields[name]
    field.choices = [("", "—"), *choices] if blank else list(choices)  # type: ignore[attr-defined]


class DocumentsField(forms.FileField):
    """Several PDF documents or photos in one input; each is checked by
    ``uploads.clean_document`` in the view."""

    widget = MultipleFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png,image/webp"})

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if not data:
            return []
        files = data if isinstance(data, (list, tuple)) else [data]
        return [super(DocumentsField, self).clean(f, initial) for f in files]


class MeetingForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of meeting"), choices=Meeting.Kind.choices)
    title = forms.CharField(label=_("Title"), max_length=120)
    convener = forms.TypedChoiceField(label=_("Convened by"), coerce=int)
    body = forms.TypedChoiceField(
        label=_("Deciding body"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("For an owners' committee meeting: the committee that decides by show of hands."),
    )
    decision = forms.TypedChoiceField(
        label=_("Owners' decision"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("For an owners' assembly: the decision it is held for."),
    )
    compound = forms.TypedChoiceField(
        label=_("Compound"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("A discussion hall is held for one compound."),
    )
    area = forms.TypedChoiceField(
        label=_("Or an area"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("For a meeting of a whole community or town."),
    )
    starts_at = forms.DateTimeField(
        label=_("Starts at"),
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    place = forms.CharField(label=_("Place"), max_length=120)
    residents_invited = forms.BooleanField(
        label=_("Residents of the compound are invited"),
        required=False,
        help_text=_("Always so for a discussion hall and an owners' assembly."),
    )
    organisations = forms.TypedMultipleChoiceField(
        label=_("Invited bodies"),
        coerce=int,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )

    def __init__(
        self,
        *args: Any,
        conveners: Choices = (),  # type: ignore[assignment]
        bodies: Choices = (),  # type: ignore[assignment]
        decisions: Choices = (),  # type: ignore[assignment]
        compounds: Choices = (),  # type: ignore[assignment]
        areas: Choices = (),  # type: ignore[assignment]
        organisations: Choices = (),  # type: ignore[assignment]
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "convener", conveners)
        _set_choices(self, "body", bodies)
        _set_choices(self, "decision", decisions)
        _set_choices(self, "compound", compounds)
        _set_choices(self, "area", areas)
        _set_choices(self, "organisations", organisations, blank=False)


class InviteForm(forms.Form):
    organisations = forms.TypedMultipleChoiceField(
        label=_("Invite bodies"), coerce=int, widget=forms.SelectMultiple(attrs={"size": 6})
    )

    def __init__(self, *args: Any, organisations: Choices = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        _set_choices(self, "organisations", organisations, blank=False)


# Where an agenda item put on by hand comes from (hot issues come from the warnings page,
# carried items by themselves).
AGENDA_SOURCES = [
    (AgendaItem.Source.FREE, AgendaItem.Source.FREE.label),
    (AgendaItem.Source.TICKET, AgendaItem.Source.TICKET.label),
    (AgendaItem.Source.CONSULTATION, AgendaItem.Source.CONSULTATION.label),
    (AgendaItem.Source.OPINION, AgendaItem.Source.OPINION.label),
]


class AgendaItemForm(forms.Form):
    title = forms.CharField(
        label=_("Topic"),
        max_length=160,
        required=False,
        help_text=_("Leave it empty to use the title of the request, consultation or opinion."),
    )
    description = forms.CharField(
        label=_("Background"), widget=forms.Textarea(attrs={"rows": 2}), max_length=4000, required=False
    )
    source = forms.ChoiceField(label=_("Comes from"), choices=AGENDA_SOURCES, initial=AgendaItem.Source.FREE)
    ticket = forms.IntegerField(
        label=_("Request number"), required=False, min_value=1, widget=forms.NumberInput(attrs={"size": 8})
    )
    consultation = forms.TypedChoiceField(
        label=_("Consultation"), coerce=int, required=False, empty_value=None
    )
    opinion = forms.IntegerField(label=_("Opinion number"), required=False, min_value=1)
    presenter_org = forms.TypedChoiceField(
        label=_("Presented by"), coerce=int, required=False, empty_value=None
    )

    def __init__(
        self,
        *args: Any,
        consultations: Choices = (),  # type: ignore[assignment]
        organisations: Choices = (),  # type: ignore[assignment]
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "consultation", consultations)
        _set_choices(self, "presenter_org", organisations)


class SignInForm(forms.Form):
    person = forms.TypedChoiceField(label=_("Person"), coerce=int, required=False, empty_value=None)
    name = forms.CharField(
        label=_("Or the name of someone without a record"),
        max_length=60,
        required=False,
        help_text=_("For example a resident who came without being on the list."),
    )
    represents_label = forms.CharField(label=_("Speaks for"), max_length=120, required=False)

    def __init__(self, *args: Any, people: Choices = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        _set_choices(self, "person", people)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("person") is None and not (data.get("name") or "").strip():
            raise forms.ValidationError(_("Choose a person from the list or write a name."))
        return data


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why it is called off"), max_length=500)


class MinutesForm(forms.Form):
    minutes = forms.CharField(
        label=_("Minutes"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=20000,
        required=False,
        help_text=_("Plain text; an empty line starts a new paragraph."),
    )
    attachments = DocumentsField(label=_("Attach documents or photos"), required=False)


class ResolutionForm(forms.Form):
    text = forms.CharField(label=_("Resolution"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    votes_for = forms.IntegerField(label=_("In favour"), required=False, min_value=0, max_value=999)
    votes_against = forms.IntegerField(label=_("Against"), required=False, min_value=0, max_value=999)
    votes_abstain = forms.IntegerField(label=_("Abstaining"), required=False, min_value=0, max_value=999)


class ActionItemForm(forms.Form):
    title = forms.CharField(label=_("What is to be done"), max_length=200)
    assignee_org = forms.TypedChoiceField(
        label=_("Responsible body"), coerce=int, required=False, empty_value=None
    )
    assignee_person = forms.TypedChoiceField(
        label=_("Or responsible person"), coerce=int, required=False, empty_value=None
    )
    deadline = forms.DateField(label=_("Deadline"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(
        self,
        *args: Any,
        organisations: Choices = (),  # type: ignore[assignment]
        people: Choices = (),  # type: ignore[assignment]
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "assignee_org", organisations)
        _set_choices(self, "assignee_person", people)


class AddendumForm(forms.Form):
    text = forms.CharField(
        label=_("Correction"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        help_text=_("The signed minutes stay as they are; the correction is printed after them."),
    )


class ProgressForm(forms.Form):
    note = forms.CharField(label=_("Progress"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    photos = PhotosField(label=_("Photos"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class DoneForm(forms.Form):
    evidence = forms.CharField(
        label=_("What was done"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )
    photos = PhotosField(label=_("Photos"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
