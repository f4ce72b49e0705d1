"""Staff pages of consultations: list, create and edit, and the detail with its rates.
Views read through ``policy``/``queries`` and change only through ``actions``. The
households' side is in ``views_households``, opinions in ``views_opinions``, the public
pages in ``views_public``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, OuterRef, Subquery
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.consultations import actions, queries
from gongzhi.consultations import workflow as W
from gongzhi.consultations.forms import ConsultationForm, DocumentForm, QuestionForm
from gongzhi.consultations.models import Consultation, Document, Household, Opinion, Question
from gongzhi.housing.models import Building, Compound
from gongzhi.orgs import policy


def error_text(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "；".join(str(m) for msgs in error.message_dict.values() for m in msgs)
    return "；".join(str(m) for m in error.messages)


def form_errors(form: Any, error: ValidationError) -> None:
    """Put an action's field errors on the form (unknown fields go to the top)."""
    if hasattr(error, "error_dict"):
        for name, msgs in error.message_dict.items():
            form.add_error(name if name in form.fields else None, msgs)
    else:
        form.add_error(None, error.messages)


def _count(rows: Any) -> Subquery:
    return Subquery(rows.values("consultation").annotate(n=Count("id")).values("n")[:1])


def _counted(qs: Any) -> Any:
    """Responses and opinions per consultation, as subqueries (no row multiplication)."""
    households = Household.objects.filter(consultation=OuterRef("pk"))
    opinions = Opinion.objects.filter(consultation=OuterRef("pk"))
    return qs.annotate(
        responded=_count(households.exclude(willingness="")),
        willing=_count(households.filter(willingness="willing")),
        opinions_total=_count(opinions),
        opinions_answered=_count(opinions.filter(state=Opinion.State.ANSWERED)),
    )


@login_required
def consultation_list(request: HttpRequest) -> HttpResponse:
    """The consultations in the user's scope, rounds of one plan together. Users who take no
    part in organising them (residents, volunteers) get the public pages of their compounds."""
    user = request.user
    if not (policy.has_any(user, "consultation") or policy.has_any(user, "opinion")):
        compounds = policy.scope(user, "compound").values("id")
        public = (
            Consultation.objects.exclude(state=Consultation.State.DRAFT)
            .filter(scope_items__compound__in=compounds)
            .distinct()
            .order_by("-id")[:50]
        )
        return render(request, "consultations/list_public.html", {"consultations": list(public)})
    visible = policy.scope(user, "consultation")
    rows = list(_counted(visible).order_by("-id")[:200])
    rows.sort(key=lambda c: (-(c.series_id or c.pk), c.round_number))
    return render(
        request,
        "consultations/list.html",
        {
            "rows": rows,
            "can_create": policy.has_any(user, "consultation", policy.MANAGE),
            "my_opinions": policy.has_any(user, "opinion", policy.CHANGE),
            "can_template": policy.has_any(user, "opinion", policy.MANAGE),
        },
    )


def _manageable_compounds(user: Any) -> list[Compound]:
    compounds = policy.scope(user, "compound").select_related("community").order_by("area_path", "code")[:300]
    return [c for c in compounds if policy.can_within(user, "consultation", policy.MANAGE, c)]


def _decisions_for(user: Any, compounds: list[Compound]) -> list[Any]:
    try:
        visible = policy.scope(user, "decision")
    except (ValueError, KeyError):
        return []
    return list(visible.filter(compound__in=[c.pk for c in compounds]).order_by("-id")[:100])


def _consultation_form(request: HttpRequest, initial: dict[str, Any] | None = None) -> ConsultationForm:
    compounds = _manageable_compounds(request.user)
    buildings = list(
        Building.objects.filter(compound__in=[c.pk for c in compounds])
        .select_related("compound")
        .order_by("compound__code", "id")
    )
    return ConsultationForm(
        request.POST or None,
        compounds=compounds,
        buildings=buildings,
        decisions=_decisions_for(request.user, compounds),
        initial=initial,
    )


def _form_fields(form: ConsultationForm) -> dict[str, Any]:
    data = form.cleaned_data
    num, den = data["threshold"]
    decision = None
    if data.get("decision"):
        decision = next((d for d in _decision_choices(form) if d.pk == data["decision"]), None)
    return {
        "title": data["title"],
        "body": data["body"],
        "compounds": list(Compound.objects.filter(pk__in=data["compounds"])),
        "buildings": list(Building.objects.filter(pk__in=data["buildings"]).select_related("compound")),
        "threshold_num": num,
        "threshold_den": den,
        "opens_on": data["opens_on"],
        "closes_on": data["closes_on"],
        "statutory_note": data["statutory_note"],
        "decision": decision,
    }


def _decision_choices(form: ConsultationForm) -> list[Any]:
    from django.apps import apps

    model = apps.get_model("decisions", "Decision")
    ids = [pk for pk, _label in form.fields["decision"].choices if pk]  # type: ignore[attr-defined]
    return list(model.objects.filter(pk__in=ids))


@login_required
def consultation_new(request: HttpRequest) -> HttpResponse:
    """Create a draft consultation, or (``?after=<id>``) the next round of one."""
    if not policy.has_any(request.user, "consultation", policy.MANAGE):
        raise PermissionDenied
    previous = None
    initial: dict[str, Any] = {}
    if request.GET.get("after"):
        previous = policy.get_or_404(
            request.user, "consultation", policy.MANAGE, pk=int_or_404(request.GET["after"])
        )
        initial = {
            "title": previous.title,
            "body": previous.body,
            "threshold": f"{previous.threshold_num}/{previous.threshold_den}",
            "statutory_note": previous.statutory_note,
            "compounds": [i.compound_id for i in previous.scope_items.all() if i.building_id is None],
            "buildings": [i.building_id for i in previous.scope_items.all() if i.building_id],
        }
    form = _consultation_form(request, initial)
    if request.method == "POST" and form.is_valid():
        try:
            consultation = actions.create_consultation(request.user, previous=previous, **_form_fields(form))
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Draft saved. Add questions and documents, then open it."))
            return redirect("consultation-detail", pk=consultation.pk)
    return render(
        request,
        "consultations/form.html",
        {"form": form, "previous": previous},
        status=400 if form.errors else 200,
    )


@login_required
def consultation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    consultation = policy.get_or_404(request.user, "consultation", policy.MANAGE, pk=pk)
    initial = {
        "title": consultation.title,
        "body": consultation.body,
        "threshold": f"{consultation.threshold_num}/{consultation.threshold_den}",
        "opens_on": consultation.opens_on,
        "closes_on": consultation.closes_on,
        "statutory_note": consultation.statutory_note,
        "decision": consultation.decision_id,
        "compounds": [i.compound_id for i in consultation.scope_items.all() if i.building_id is None],
        "buildings": [i.building_id for i in consultation.scope_items.all() if i.building_id],
    }
    form = _consultation_form(request, initial)
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_consultation(request.user, consultation, **_form_fields(form))
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("consultation-detail", pk=consultation.pk)
    return render(
        request,
        "consultations/form.html",
        {"form": form, "consultation": consultation},
        status=400 if form.errors else 200,
    )


def int_or_404(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


def decision_url(consultation: Consultation) -> str:
    if consultation.decision_id is None:
        return ""
    for name in ("decision-detail", "decisions:detail"):
        try:
            return reverse(name, args=[consultation.decision_id])
        except NoReverseMatch:
            continue
    return ""


@login_required
def consultation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    consultation = policy.get_or_404(user, "consultation", pk=pk)
    manage = policy.can(user, policy.MANAGE, consultation)
    within = [c.pk for c in queries.compounds_within(user, consultation, policy.VIEW)]
    table = queries.rates_table(consultation, None if manage else within)
    offered = {
        name
        for name, move in W.CONSULTATION_MOVES.items()
        if consultation.state in move.sources and move.target is not None
    }
    return render(
        request,
        "consultations/detail.html",
        {
            "c": consultation,
            "rounds": queries.rounds_of(consultation, policy.scope(user, "consultation")),
            "scope": queries.scope_label(consultation),
            "questions": list(consultation.questions.all()),
            "documents": list(consultation.documents.all()),
            "table": table,
            "overall_only": not manage and not within,
            "overall": table.overall if (manage or within) else queries.rates_table(consultation).overall,
            "opinions": queries.opinion_counts(consultation),
            "manage": manage,
            "moves": offered if manage else set(),
            "can_edit": manage and consultation.state == Consultation.State.DRAFT,
            "can_respond": consultation.state == Consultation.State.OPEN
            and policy.can(user, policy.CHANGE, consultation)
            and bool(queries.compounds_within(user, consultation, policy.CHANGE)),
            "can_print": consultation.state != Consultation.State.DRAFT
            and policy.can(user, policy.EXPORT, consultation),
            "question_form": QuestionForm() if manage else None,
            "document_form": DocumentForm() if manage else None,
            "decision_url": decision_url(consultation),
        },
    )


@require_POST
@login_required
def consultation_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Open, close or publish the results: one organiser move, posted from the detail page."""
    consultation = policy.get_or_404(request.user, "consultation", policy.MANAGE, pk=pk)
    try:
        if action == "open":
            n = actions.open_consultation(request.user, consultation)
            messages.success(request, _("Open: %(n)s households may respond. Print their slips.") % {"n": n})
        elif action == "close":
            actions.close_consultation(request.user, consultation)
            messages.success(request, _("Closed: no more responses are taken."))
        elif action == "publish_results":
            actions.publish_results(request.user, consultation)
            messages.success(request, _("Results published."))
        else:
            raise Http404
    except ValidationError as error:
        messages.error(request, error_text(error))
    return redirect("consultation-detail", pk=pk)


@require_POST
@login_required
def question_add(request: HttpRequest, pk: int) -> HttpResponse:
    consultation = policy.get_or_404(request.user, "consultation", policy.MANAGE, pk=pk)
    form = QuestionForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors.as_data().popitem()[1])
        actions.add_question(request.user, consultation, **form.cleaned_data)
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, _("Question added."))
    return redirect("consultation-detail", pk=pk)


@require_POST
@login_required
def question_remove(request: HttpRequest, pk: int, question: int) -> HttpResponse:
    consultation = policy.get_or_404(request.user, "consultation", policy.MANAGE, pk=pk)
    try:
        actions.remove_question(
            request.user, get_object_or_404(Question, pk=question, consultation=consultation)
        )
    except ValidationError as error:
        messages.error(request, error_text(error))
    return redirect("consultation-detail", pk=pk)


@require_POST
@login_required
def document_add(request: HttpRequest, pk: int) -> HttpResponse:
    consultation = policy.get_or_404(request.user, "consultation", policy.MANAGE, pk=pk)
    form = DocumentForm(request.POST, request.FILES)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors.as_data().popitem()[1])
        actions.add_document(
            request.user, consultation, upload=form.cleaned_data["file"], title=form.cleaned_data["title"]
        )
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, _("Document added."))
    return redirect("consultation-detail", pk=pk)


def document(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A plan document: public once the consultation is open, staff only while a draft."""
    doc = get_object_or_404(Document.objects.select_related("consultation"), pk=pk)
    if doc.consultation.state == Consultation.State.DRAFT:
        policy.get_or_404(request.user, "consultation", pk=doc.consultation_id)
    response = FileResponse(doc.file.open("rb"), content_type=doc.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response
