"""Staff pages of opinions: a consultation's queue with assignment and bulk replies, the
work list of a member unit or committee, one opinion with its reply, reply templates."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.consultations import actions, queries
from gongzhi.consultations.forms import BulkReplyForm, OpinionForm, ReplyForm, TemplateForm
from gongzhi.consultations.models import (
    Consultation,
    Opinion,
    OpinionCategory,
    Reply,
    ReplyTemplate,
    ScopeItem,
)
from gongzhi.consultations.views import error_text, form_errors, int_or_404
from gongzhi.core.pagination import keyset_page
from gongzhi.housing.models import Building
from gongzhi.orgs import policy
from gongzhi.orgs.models import Organisation

STATES = ("pending", "new", "assigned", "drafted", "answered")


def _filtered(request: HttpRequest, opinions: Any) -> tuple[Any, dict[str, str]]:
    chosen = {k: request.GET.get(k, "") for k in ("state", "category", "assignee", "compound")}
    state = chosen["state"]
    if state == "pending":
        opinions = opinions.exclude(state=Opinion.State.ANSWERED)
    elif state in Opinion.State.values:
        opinions = opinions.filter(state=state)
    if chosen["category"]:
        opinions = opinions.filter(category__code=chosen["category"])
    if chosen["assignee"].isdigit():
        opinions = opinions.filter(assignee_id=int(chosen["assignee"]))
    elif chosen["assignee"] == "none":
        opinions = opinions.filter(assignee__isnull=True)
    if chosen["compound"].isdigit():
        opinions = opinions.filter(compound_id=int(chosen["compound"]))
    return opinions, chosen


def _load(qs: Any) -> Any:
    return qs.select_related("category", "compound", "building", "assignee", "consultation")


def _assignees(consultation: Consultation) -> list[Organisation]:
    compounds = ScopeItem.objects.filter(consultation=consultation).values("compound_id")
    return list(
        Organisation.objects.filter(
            Q(kind=Organisation.Kind.MEMBER_UNIT, dissolved_on__isnull=True)
            | Q(kind__in=Organisation.COMMITTEE_KINDS, compound_id__in=compounds, dissolved_on__isnull=True)
        ).order_by("kind", "code")
    )


@login_required
def opinion_queue(request: HttpRequest, pk: int) -> HttpResponse:
    """A consultation's opinions in the user's scope, filterable, with the bulk reply form."""
    user = request.user
    consultation = policy.get_or_404(user, "consultation", pk=pk)
    mine = policy.scope(user, "opinion").filter(consultation=consultation)
    opinions, chosen = _filtered(request, mine)
    page = keyset_page(
        opinions, request.GET.get("after"), request.GET.get("size") or 100, load=_load, descending=True
    )
    may_bulk = policy.can(user, policy.MANAGE, consultation) or policy.has_any(user, "opinion", policy.MANAGE)
    bulk_form = BulkReplyForm() if may_bulk else None
    return render(
        request,
        "consultations/opinions.html",
        {
            "c": consultation,
            "page": page,
            "chosen": chosen,
            "states": [("pending", _("Waiting for a reply")), *Opinion.State.choices],
            "categories": list(OpinionCategory.objects.all()),
            "assignees": _assignees(consultation),
            "compounds": queries.scope_compounds(consultation),
            "counts": queries.opinion_counts(consultation, mine),
            "bulk_form": bulk_form,
            "may_raise": consultation.state == Consultation.State.OPEN
            and policy.can(user, policy.CHANGE, consultation),
        },
    )


@require_POST
@login_required
def opinion_bulk(request: HttpRequest, pk: int) -> HttpResponse:
    """Publish one reply to the ticked opinions: all of them or, with a reason, none."""
    consultation = policy.get_or_404(request.user, "consultation", pk=pk)
    form = BulkReplyForm(request.POST)
    back = reverse("consultation-opinions", args=[pk]) + "?" + request.POST.get("query", "")[:300]
    try:
        if not form.is_valid():
            raise ValidationError(form.errors.as_data().popitem()[1])
        reply = form.reply()
        batch = actions.bulk_reply(
            request.user,
            consultation,
            request.POST.getlist("opinions"),
            outcome=reply["outcome"],
            text=reply["text"],
            template=reply["template"],
            key=form.cleaned_data["key"],
        )
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, _("Reply published to %(n)s opinions.") % {"n": batch.count})
    return redirect(back)


@login_required
def opinion_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff enter an opinion heard at a discussion meeting, on a call or at the door."""
    consultation = policy.get_or_404(request.user, "consultation", policy.CHANGE, pk=pk)
    compound_ids = [c.pk for c in queries.compounds_within(request.user, consultation, policy.CHANGE)]
    buildings = list(
        Building.objects.filter(
            Q(
                compound_id__in=ScopeItem.objects.filter(
                    consultation=consultation, building__isnull=True
                ).values("compound_id")
            )
            | Q(id__in=ScopeItem.objects.filter(consultation=consultation).values("building_id")),
            compound_id__in=compound_ids,
        )
        .select_related("compound")
        .order_by("compound__code", "id")
    )
    form = OpinionForm(request.POST or None, buildings=buildings)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        building = next((b for b in buildings if b.pk == data["building"]), None)
        try:
            opinion = actions.raise_opinion(
                request.user,
                consultation,
                text=data["text"],
                category=data["category"],
                source=data["source"],
                building=building,
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Opinion #%(id)s entered.") % {"id": opinion.pk})
            return redirect("consultation-opinion", pk=opinion.pk)
    return render(
        request,
        "consultations/opinion_new.html",
        {"c": consultation, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def my_opinions(request: HttpRequest) -> HttpResponse:
    """The opinions the user may work on across consultations: for a member unit, those
    assigned to it; for staff, those of their area still waiting for a reply."""
    if not policy.has_any(request.user, "opinion", policy.CHANGE):
        raise PermissionDenied
    opinions = policy.scope(request.user, "opinion", policy.CHANGE)
    if request.GET.get("all") != "1":
        opinions = opinions.exclude(state=Opinion.State.ANSWERED)
    page = keyset_page(
        opinions, request.GET.get("after"), request.GET.get("size") or 100, load=_load, descending=True
    )
    return render(
        request, "consultations/my_opinions.html", {"page": page, "all": request.GET.get("all") == "1"}
    )


@login_required
def opinion_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    opinion = policy.get_or_404(user, "opinion", pk=pk)
    opinion = Opinion.objects.select_related(
        "consultation", "category", "compound", "building", "assignee", "household__unit__entrance"
    ).get(pk=opinion.pk)
    may_change = policy.can(user, policy.CHANGE, opinion)
    manage = policy.can(user, policy.MANAGE, opinion)
    draft = opinion.replies.filter(state=Reply.State.DRAFT).first()
    answered = opinion.state == Opinion.State.ANSWERED
    initial = {"outcome": draft.outcome, "text": draft.text, "summary": draft.summary} if draft else {}
    # Staff of the compound see the room; a member unit sees the building only.
    show_room = opinion.compound is not None and policy.can_within(
        user, "consultation", policy.VIEW, opinion.compound
    )
    return render(
        request,
        "consultations/opinion_detail.html",
        {
            "o": opinion,
            "c": opinion.consultation,
            "replies": list(opinion.replies.select_related("template").order_by("id")),
            "draft": draft,
            "reply_form": ReplyForm(initial=initial) if may_change and not answered else None,
            "may_publish": manage and draft is not None,
            "may_answer": manage and not answered,
            "assignees": _assignees(opinion.consultation) if manage and not answered else [],
            "show_room": show_room,
            "may_see_consultation": policy.can(user, policy.VIEW, opinion.consultation),
        },
    )


@require_POST
@login_required
def opinion_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One move on an opinion: assign it, draft a reply, publish the draft, or answer at once."""
    user = request.user
    opinion = policy.get_or_404(user, "opinion", pk=pk)
    try:
        if action == "assign":
            assignee = get_object_or_404(Organisation, pk=int_or_404(request.POST.get("assignee")))
            actions.assign_opinion(user, opinion, assignee)
            messages.success(request, _("Assigned to %(name)s.") % {"name": assignee.name})
        elif action in ("draft", "answer"):
            form = ReplyForm(request.POST)
            if not form.is_valid():
                raise ValidationError(form.errors.as_data().popitem()[1])
            if action == "draft":
                actions.draft_reply(user, opinion, **form.reply())
                messages.success(request, _("Draft saved. It is published once the organisers approve it."))
            else:
                actions.answer_opinion(user, opinion, **form.reply())
                messages.success(request, _("Reply published."))
        elif action == "publish":
            actions.publish_reply(user, opinion)
            messages.success(request, _("Reply published."))
        else:
            raise Http404
    except ValidationError as error:
        messages.error(request, error_text(error))
    return redirect("consultation-opinion", pk=pk)


@login_required
def reply_templates(request: HttpRequest) -> HttpResponse:
    """Reply templates: the organisers add them; everyone answering opinions uses them."""
    if not policy.has_any(request.user, "opinion", policy.CHANGE):
        raise PermissionDenied
    may_add = policy.has_any(request.user, "opinion", policy.MANAGE)
    form = TemplateForm(request.POST or None) if may_add else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                actions.add_template(request.user, **form.cleaned_data)
            except ValidationError as error:
                form_errors(form, error)
            else:
                messages.success(request, _("Template added."))
                return redirect("consultation-templates")
    return render(
        request,
        "consultations/templates.html",
        {"templates": list(ReplyTemplate.objects.select_related("category")), "form": form},
        status=400 if form is not None and form.errors else 200,
    )
