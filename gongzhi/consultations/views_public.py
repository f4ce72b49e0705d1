"""Public pages of consultations: the page of a round with its counters and published
replies, and the household's phone page reached with the code on its slip.

No login. Nothing here shows a name, a phone number or a room: counts, compounds and
buildings only. Wrong codes are counted per address and per consultation
(``gongzhi.core.ratelimit``); past the limit every code is refused for a while.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from gongzhi.consultations import actions, codes, queries
from gongzhi.consultations.forms import CodeForm, ResponseForm
from gongzhi.consultations.models import Channel, Consultation, Household
from gongzhi.consultations.views import form_errors
from gongzhi.core import ratelimit
from gongzhi.core.audit import client_ip

PUBLIC_REPLIES = 30  # the newest answers on a phone; "all" shows every one


def _limits() -> tuple[int, int, int]:
    """Wrong codes allowed per address, per consultation, and the window in seconds."""
    per_ip, per_consultation, window = getattr(settings, "GONGZHI_CODE_RATE", (10, 200, 900))
    return int(per_ip), int(per_consultation), int(window)


def _blocked(request: HttpRequest, consultation: Consultation | None) -> bool:
    per_ip, per_consultation, _window = _limits()
    if ratelimit.is_blocked("consult-code-ip", client_ip(request) or "?", per_ip):
        return True
    return consultation is not None and ratelimit.is_blocked(
        "consult-code-c", str(consultation.pk), per_consultation
    )


def _wrong_code(request: HttpRequest, consultation: Consultation | None) -> None:
    per_ip, per_consultation, window = _limits()
    ratelimit.hit("consult-code-ip", client_ip(request) or "?", per_ip, window)
    if consultation is not None:
        ratelimit.hit("consult-code-c", str(consultation.pk), per_consultation, window)


def _bound(code: str) -> CodeForm:
    """A code form holding ``code``, validated so that errors can be added to it."""
    form = CodeForm({"code": (code or "")[:40]})
    form.is_valid()
    return form


def _too_many(request: HttpRequest, form: CodeForm, consultation: Consultation | None = None) -> HttpResponse:
    _per_ip, _per_c, window = _limits()
    if not form.is_bound:
        form = _bound("")
    form.is_valid()
    form.add_error(
        None,
        _(
            "Too many wrong codes were tried from here. "
            "Please wait %(minutes)d minutes, or ask your grid worker."
        )
        % {"minutes": max(1, window // 60)},
    )
    return render(request, "consultations/code.html", {"form": form, "c": consultation}, status=429)


def _visible_or_404(pk: int) -> Consultation:
    consultation = get_object_or_404(Consultation, pk=pk)
    if consultation.state == Consultation.State.DRAFT:
        raise Http404
    return consultation


def public_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A round's public page: the plan, response and willingness counts, and the opinions
    answered and pending with the published replies."""
    consultation = _visible_or_404(pk)
    table = queries.rates_table(consultation)
    show_all = request.GET.get("all") == "1"
    replies = queries.published_replies(consultation, limit=1000 if show_all else PUBLIC_REPLIES + 1)
    rounds = [r for r in queries.rounds_of(consultation) if r.state != Consultation.State.DRAFT]
    return render(
        request,
        "consultations/public.html",
        {
            "c": consultation,
            "rounds": rounds,
            "scope": queries.scope_label(consultation),
            "table": table,
            "opinions": queries.opinion_counts(consultation),
            "replies": replies[: None if show_all else PUBLIC_REPLIES],
            "more_replies": not show_all and len(replies) > PUBLIC_REPLIES,
            "images": [d for d in consultation.documents.all() if d.kind == "image"],
            "pdfs": [d for d in consultation.documents.all() if d.kind == "pdf"],
            "code_form": CodeForm() if consultation.accepts_responses else None,
        },
    )


def _resolve(request: HttpRequest, raw: str, consultation: Consultation | None = None) -> Household | str:
    """The household of a typed code, or the reason it is refused (counted as a wrong code
    when it matches nothing)."""
    household = actions.household_by_code(raw)
    if household is None:
        _wrong_code(request, consultation)
        return _("This code is not known. Check the slip: 12 letters and digits, e.g. ABCD-EFGH-JKMN.")
    if consultation is not None and household.consultation_id != consultation.pk:
        return _("This code belongs to another consultation: “%(title)s”.") % {
            "title": household.consultation.title
        }
    return household


def code_entry(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Type the code from the slip (for slips read out or copied without the QR code)."""
    consultation = _visible_or_404(pk) if pk is not None else None
    form = CodeForm(request.POST or None)
    if request.method == "POST":
        if _blocked(request, consultation):
            return _too_many(request, form, consultation)
        if form.is_valid():
            found = _resolve(request, form.cleaned_data["code"], consultation)
            if isinstance(found, Household):
                return redirect("consultation-resident", code=codes.normalise(form.cleaned_data["code"]))
            form.add_error("code", found)
    return render(
        request,
        "consultations/code.html",
        {"form": form, "c": consultation},
        status=400 if form.errors else 200,
    )


def _later_open_round(household: Household) -> Consultation | None:
    consultation = household.consultation
    return next(
        (
            r
            for r in queries.rounds_of(consultation)
            if r.round_number > consultation.round_number and r.state == Consultation.State.OPEN
        ),
        None,
    )


def resident_page(request: HttpRequest, code: str) -> HttpResponse:
    """The household's phone page: the plan, its answer, and what it answered before. It may
    change its answer while the round is open; every answer is kept."""
    if _blocked(request, None):
        return _too_many(request, _bound(code))
    found = _resolve(request, code)
    if not isinstance(found, Household):
        code_form = _bound(code)
        code_form.add_error(None, found)
        return render(request, "consultations/code.html", {"form": code_form}, status=404)
    household = found
    consultation = household.consultation
    questions = list(consultation.questions.all())
    latest = household.latest_response
    initial: dict[str, Any] = {}
    if latest is not None:
        initial = {"willingness": latest.willingness, "comment": latest.comment}
        for question in questions:
            value = latest.answers.get(str(question.pk))
            if value is not None:
                initial[f"q_{question.pk}"] = value
    form = ResponseForm(request.POST or None, questions=questions, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.record_response(
                request.user if getattr(request.user, "is_authenticated", False) else None,
                household,
                willingness=data["willingness"],
                channel=Channel.PHONE_PAGE,
                answers=form.answers(),
                comment=data["comment"],
                opinion_text=data["opinion_text"],
                opinion_category=data["opinion_category"],
                idempotency_key=f"phone:{data['key']}",
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(
                request,
                _("Thank you. Your answer is recorded; you may change it while the consultation is open."),
            )
            return redirect("consultation-resident", code=codes.normalise(code))
    household.refresh_from_db()
    return render(
        request,
        "consultations/resident.html",
        {
            "c": consultation,
            "h": household,
            "form": form if consultation.accepts_responses else None,
            "latest": household.latest_response,
            "versions": list(household.responses.order_by("-version")),
            "opinions": list(actions.opinions_of(household).prefetch_related("replies")),
            "later_round": _later_open_round(household),
            "images": [d for d in consultation.documents.all() if d.kind == "image"],
            "pdfs": [d for d in consultation.documents.all() if d.kind == "pdf"],
            "questions": questions,
        },
        status=400 if form.errors else 200,
    )
