"""Forms of the consultation pages. They check shapes; the actions check the rules."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.consultations.models import (
    STAFF_CHANNELS,
    Channel,
    Opinion,
    OpinionCategory,
    Outcome,
    Question,
    ReplyTemplate,
    Willingness,
)

THRESHOLD = re.compile(r"^\s*(\d{1,3})\s*/\s*(\d{1,3})\s*$")


def _key_initial(form: forms.Form) -> None:
    if not form.is_bound:
        form.initial.setdefault("key", uuid.uuid4().hex)


class ConsultationForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(
        label=_("The plan"), widget=forms.Textarea(attrs={"rows": 8}), required=False, max_length=20000
    )
    compounds = forms.TypedMultipleChoiceField(
        label=_("Whole compounds"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    buildings = forms.TypedMultipleChoiceField(
        label=_("Or single buildings"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    threshold = forms.CharField(
        label=_("Threshold of willing households"),
        initial="2/3",
        max_length=9,
        help_text=_("A fraction of the households in scope, e.g. 2/3, 3/4 or 9/10."),
    )
    opens_on = forms.DateField(
        label=_("Opens on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    closes_on = forms.DateField(
        label=_("Planned close"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    statutory_note = forms.CharField(
        label=_("Items needing an owners' decision"),
        help_text=_(
            "Rebuilding, changing common parts or levying money on all owners also needs an owners' vote."
        ),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=4000,
    )
    decision = forms.TypedChoiceField(
        label=_("Owners' decision"), coerce=int, required=False, empty_value=None
    )

    def __init__(
        self,
        *args: Any,
        compounds: list[Any] = (),  # type: ignore[assignment]
        buildings: list[Any] = (),  # type: ignore[assignment]
        decisions: list[Any] = (),  # type: ignore[assignment]
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["compounds"].choices = [(c.pk, c.name) for c in compounds]  # type: ignore[attr-defined]
        self.fields["buildings"].choices = [  # type: ignore[attr-defined]
            (b.pk, f"{b.compound.name} {b.label}") for b in buildings
        ]
        self.fields["decision"].choices = [("", "—"), *[(d.pk, str(d)) for d in decisions]]  # type: ignore[attr-defined]

    def clean_threshold(self) -> tuple[int, int]:
        match = THRESHOLD.match(self.cleaned_data["threshold"])
        if match is None:
            raise forms.ValidationError(_("Give the threshold as a fraction such as 2/3."))
        return int(match.group(1)), int(match.group(2))


class QuestionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Question.Kind.choices)
    label = forms.CharField(label=_("Question"), max_length=200)
    options = forms.CharField(
        label=_("Options, one per line"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
    )
    required = forms.BooleanField(label=_("Required"), required=False)


class DocumentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120, required=False)
    file = forms.FileField(
        label=_("PDF document or image"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png,image/webp"}),
    )


def question_field(question: Question) -> forms.Field:
    choices = [(o["key"], o["label"]) for o in question.options]
    if question.kind == Question.Kind.SINGLE:
        return forms.ChoiceField(
            label=question.label, choices=choices, required=False, widget=forms.RadioSelect
        )
    if question.kind == Question.Kind.MULTIPLE:
        return forms.MultipleChoiceField(
            label=question.label, choices=choices, required=False, widget=forms.CheckboxSelectMultiple
        )
    return forms.CharField(
        label=question.label, required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class ResponseForm(forms.Form):
    """The household's answer: willingness, the questions, an optional opinion."""

    willingness = forms.ChoiceField(
        label=_("Do you agree with the plan?"), choices=Willingness.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Anything to add to your answer?"),
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 2000}),
        required=False,
        max_length=2000,
    )
    opinion_text = forms.CharField(
        label=_("Your opinion or suggestion on the plan"),
        help_text=_("It is answered publicly, without your name or room."),
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000}),
        required=False,
        max_length=2000,
    )
    opinion_category = forms.ModelChoiceField(
        label=_("What is it about?"), queryset=OpinionCategory.objects.none(), required=False
    )
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, questions: list[Question] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        for question in self.questions:
            self.fields[f"q_{question.pk}"] = question_field(question)
        self.fields["opinion_category"].queryset = OpinionCategory.objects.filter(active=True)  # type: ignore[attr-defined]
        _key_initial(self)

    def answers(self) -> dict[str, Any]:
        return {str(q.pk): self.cleaned_data.get(f"q_{q.pk}") for q in self.questions}

    def question_fields(self) -> list[Any]:
        return [self[f"q_{q.pk}"] for q in self.questions]


class StaffResponseForm(ResponseForm):
    """Staff recording a paper form, a door-to-door visit or a phone call for a household."""

    # Any id passes the form: the view refuses one outside the scope with its reason.
    household = forms.IntegerField(label=_("Household"), widget=forms.Select)
    channel = forms.ChoiceField(
        label=_("How was the answer given?"), choices=[(c, Channel(c).label) for c in STAFF_CHANNELS]
    )
    collector_name = forms.CharField(label=_("Collected by"), max_length=60, required=False)
    collected_at = forms.DateTimeField(
        label=_("When"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )
    staff_name = forms.CharField(label=_("Staff on the call"), max_length=60, required=False)
    photo = forms.FileField(
        label=_("Photo of the signed form"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )

    def __init__(self, *args: Any, households: list[tuple[int, str]] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["household"].widget.choices = [("", "—"), *households]  # type: ignore[attr-defined]
        self.fields["willingness"].label = _("Willingness")
        self.fields["opinion_text"].label = _("Opinion raised (optional)")
        self.fields["opinion_text"].help_text = ""


class OpinionForm(forms.Form):
    text = forms.CharField(label=_("Opinion"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    category = forms.ModelChoiceField(label=_("Category"), queryset=OpinionCategory.objects.none())
    source = forms.ChoiceField(
        label=_("Heard at"), choices=Opinion.Source.choices, initial=Opinion.Source.MEETING
    )
    building = forms.TypedChoiceField(label=_("Building"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, buildings: list[Any] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = OpinionCategory.objects.filter(active=True)  # type: ignore[attr-defined]
        self.fields["building"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *[(b.pk, f"{b.compound.name} {b.label}") for b in buildings],
        ]


class ReplyForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=Outcome.choices, widget=forms.RadioSelect, required=False
    )
    text = forms.CharField(
        label=_("Reply"), widget=forms.Textarea(attrs={"rows": 4}), max_length=2000, required=False
    )
    summary = forms.CharField(
        label=_("The opinion as published"),
        help_text=_(
            "Optional: how the public page shows the opinion, without names, phone numbers or rooms."
        ),
        max_length=300,
        required=False,
    )
    template = forms.ModelChoiceField(
        label=_("Or use a template"), queryset=ReplyTemplate.objects.none(), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = ReplyTemplate.objects.filter(active=True)  # type: ignore[attr-defined]

    def reply(self) -> dict[str, Any]:
        """Outcome and text, taken from the template where left empty."""
        data = self.cleaned_data
        template = data.get("template")
        return {
            "outcome": data.get("outcome") or (template.outcome if template else ""),
            "text": data.get("text") or (template.text if template else ""),
            "summary": data.get("summary") or "",
            "template": template,
        }


class BulkReplyForm(ReplyForm):
    """One reply for the opinions ticked in the queue (read from the POST by the view, and
    checked all together by the action)."""

    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["summary"]
        _key_initial(self)


class TemplateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices)
    text = forms.CharField(label=_("Reply"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=OpinionCategory.objects.none(), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = OpinionCategory.objects.filter(active=True)  # type: ignore[attr-defined]


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("The code on your slip"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )
