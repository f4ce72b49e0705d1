"""Staff pages of owners' decisions: prepare, run the vote, enter paper ballots, count,
publish. Views read through ``policy``/``queries`` and change through ``actions``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core.audit import record_access
from gongzhi.coverage.views import qr_svg
from gongzhi.decisions import actions, codes, queries
from gongzhi.decisions.counting import export_rows
from gongzhi.decisions.explain import notice_context
from gongzhi.decisions.models import MATTERS, BallotEntry, Decision, DecisionStep, Elector, Objection
from gongzhi.housing.models import Building
from gongzhi.orgs import policy


def error_text(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "；".join(str(m) for msgs in error.message_dict.values() for m in msgs)
    return "；".join(str(m) for m in error.messages)


def _when(value: str | None, field: str) -> dt.datetime:
    """A date-time typed into a form (``datetime-local``), in the local time zone."""
    parsed = parse_datetime((value or "").strip())
    if parsed is None:
        raise ValidationError({field: _("Enter a date and time such as 2026-12-01 09:00.")})
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def _decision(request: HttpRequest, pk: int, action: str = policy.VIEW) -> Decision:
    return policy.get_or_404(request.user, "decision", action, pk=pk)


@login_required
def decision_list(request: HttpRequest) -> HttpResponse:
    decisions = policy.scope(request.user, "decision").select_related("compound").order_by("-id")[:200]
    return render(
        request,
        "decisions/list.html",
        {"decisions": decisions, "may_create": policy.has_any(request.user, "decision", policy.CHANGE)},
    )


@login_required
def decision_new(request: HttpRequest) -> HttpResponse:
    if not policy.has_any(request.user, "decision", policy.CHANGE):
        raise PermissionDenied
    compounds = policy.scope(request.user, "compound").order_by("name")
    values: dict[str, Any] = {"matter": "5", "notice_days": "15", "objection_days": "7", "is_assembly": True}
    errors: list[str] = []
    if request.method == "POST":
        post = request.POST
        values = {**post.dict()}
        values["is_assembly"] = bool(post.get("is_assembly"))
        try:
            compound = compounds.filter(pk=int(post.get("compound") or 0)).first()
            if compound is None:
                raise ValidationError({"compound": _("Choose a compound.")})
            buildings = list(Building.objects.filter(compound=compound, pk__in=post.getlist("buildings")))
            decision = actions.create_decision(
                request.user,
                compound,
                matter=int(post.get("matter") or 0),
                title=post.get("title", ""),
                text=post.get("text", ""),
                buildings=buildings,
                is_assembly=bool(post.get("is_assembly")),
                notice_days=int(post.get("notice_days") or 0),
                deemed_votes=bool(post.get("deemed_votes")),
                include_parking=bool(post.get("include_parking")),
                precedence=post.get("precedence", Decision.Precedence.LATER),
                objection_days=int(post.get("objection_days") or 0),
            )
        except ValidationError as error:
            errors.append(error_text(error))
        except ValueError:
            errors.append(_("Numbers only in the matter, notice and objection fields."))
        else:
            return redirect("decision-detail", decision.pk)
    return render(
        request,
        "decisions/new.html",
        {
            "compounds": compounds,
            "matters": MATTERS,
            "precedences": Decision.Precedence.choices,
            "values": values,
            "errors": errors,
        },
    )


@login_required
def decision_detail(request: HttpRequest, pk: int) -> HttpResponse:
    decision = _decision(request, pk)
    may_change = policy.can(request.user, policy.CHANGE, decision)
    buildings, overall = queries.progress(decision)
    results = list(decision.results.order_by("id"))
    context = {
        "decision": decision,
        "may_change": may_change,
        "may_export": policy.can(request.user, policy.EXPORT, decision),
        "steps": decision.steps.select_related("recorded_by"),
        "documents": decision.documents.all(),
        "scope_buildings": list(decision.buildings.all()),
        "buildings": buildings,
        "overall": overall,
        "conflicts": queries.conflicts(decision)[:50],
        "results": results,
        "objections": decision.objections.select_related("elector"),
        "objection_deadline": actions.objection_deadline(decision),
        "step_kinds": [
            (k, label)
            for k, label in DecisionStep.Kind.choices
            if k in ("branch", "community", "informed", "other")
        ],
        "now": timezone.localtime(),
        "S": Decision.State,
    }
    if results:
        context.update(notice_context(decision, results[-1]))
    return render(request, "decisions/detail.html", context)


@login_required
def progress_partial(request: HttpRequest, pk: int) -> HttpResponse:
    """The live progress table (polled by the detail page)."""
    decision = _decision(request, pk)
    buildings, overall = queries.progress(decision)
    return render(
        request,
        "decisions/_progress.html",
        {"decision": decision, "buildings": buildings, "overall": overall},
    )


@login_required
@require_POST
def decision_act(request: HttpRequest, pk: int, action: str) -> HttpResponseBase:
    """One staff move on a decision, posted from its page."""
    decision = _decision(request, pk)
    user, post = request.user, request.POST
    try:
        if action == "step":
            actions.record_step(user, decision, post.get("kind", ""), post.get("note", ""))
        elif action == "document":
            upload = request.FILES.get("file")
            if upload is None:
                raise ValidationError({"file": _("Choose a file.")})
            actions.add_document(user, decision, post.get("title", ""), upload)
        elif action == "notice":
            actions.post_notice(
                user,
                decision,
                _when(post.get("opens_at"), "opens_at"),
                _when(post.get("closes_at"), "closes_at"),
            )
        elif action == "open":
            actions.open_voting(user, decision)
        elif action == "extend":
            actions.extend_window(
                user, decision, _when(post.get("closes_at"), "closes_at"), post.get("reason", "")
            )
        elif action == "close":
            actions.close_and_count(user, decision)
        elif action == "publish":
            actions.publish_result(user, decision)
        elif action == "recount":
            actions.recount(user, decision, post.get("reason", ""))
        elif action == "correct":
            elector = Elector.objects.filter(decision=decision, pk=int(post.get("elector") or 0)).first()
            if elector is None:
                raise ValidationError({"unit": _("This unit is not in the electorate of this decision.")})
            actions.correct_ballot(
                user, decision, elector, choice=post.get("choice", ""), reason=post.get("reason", "")
            )
            messages.success(request, _("Correction recorded."))
            return redirect(reverse("decision-ballot", args=[decision.pk]) + f"?elector={elector.pk}")
        elif action == "answer":
            objection = Objection.objects.filter(
                decision=decision, pk=int(post.get("objection") or 0)
            ).first()
            if objection is None:
                raise Http404
            actions.answer_objection(user, objection, post.get("answer", ""))
        else:
            raise Http404
    except ValidationError as error:
        messages.error(request, error_text(error))
    except ValueError:
        messages.error(request, _("The form was incomplete."))
    else:
        messages.success(request, _("Saved."))
    return redirect("decision-detail", decision.pk)


@login_required
def ballot_entry(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff enter a paper, door-to-door or proxy ballot: find the unit, see its history,
    record the ballot with the photo of the signed paper."""
    decision = _decision(request, pk, policy.CHANGE)
    q = request.GET.get("q", "").strip()
    found: list[Elector] = []
    if q:
        found = list(
            Elector.objects.filter(decision=decision, label__icontains=q)
            .select_related("building")
            .order_by("id")[:30]
        )
    elector = None
    elector_id = request.POST.get("elector") or request.GET.get("elector")
    if elector_id and str(elector_id).isdigit():
        elector = Elector.objects.filter(decision=decision, pk=int(elector_id)).first()
    values: dict[str, Any] = {"cast_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "channel": "paper"}
    if request.method == "POST" and elector is not None:
        post = request.POST
        values = post.dict()
        try:
            actions.record_ballot(
                request.user,
                decision,
                elector,
                choice=post.get("choice", ""),
                channel=post.get("channel", ""),
                cast_at=_when(post.get("cast_at"), "cast_at"),
                photo=request.FILES.get("photo"),
                collector=post.get("collector", ""),
                authorisation=request.FILES.get("authorisation"),
                based_on=int(post["based_on"]) if post.get("based_on", "").isdigit() else None,
            )
        except ValidationError as error:
            messages.error(request, error_text(error))
        else:
            messages.success(request, _("Ballot recorded for %(unit)s.") % {"unit": elector.label})
            return redirect(reverse("decision-ballot", args=[decision.pk]) + f"?elector={elector.pk}")
    history = queries.unit_history(elector) if elector else []
    group = actions.owner_group(elector) if elector else []
    current = getattr(elector, "current", None) if elector else None
    return render(
        request,
        "decisions/ballot.html",
        {
            "decision": decision,
            "q": q,
            "found": found,
            "elector": elector,
            "group": group,
            "history": history,
            "current": current,
            "based_on": history[-1].seq if history else 0,
            "values": values,
            "choices": BallotEntry.Choice.choices,
            "channels": [c for c in BallotEntry.Channel.choices if c[0] in ("paper", "door", "proxy")],
        },
    )


@login_required
def not_voted(request: HttpRequest, pk: int) -> HttpResponse:
    """Printable list of the units without a ballot, by building, for door-knocking (for
    the people collecting ballots, not for every viewer)."""
    decision = _decision(request, pk, policy.CHANGE)
    building = request.GET.get("building")
    electors = list(queries.not_voted(decision, int(building) if building and building.isdigit() else None))
    groups: dict[str, list[Elector]] = {}
    for e in electors:
        groups.setdefault(e.building.number, []).append(e)
    return render(
        request, "decisions/not_voted.html", {"decision": decision, "groups": groups, "count": len(electors)}
    )


def _slips(request: HttpRequest, decision: Decision, template: str) -> HttpResponse:
    if not policy.can(request.user, policy.CHANGE, decision) or decision.state != Decision.State.VOTING:
        raise PermissionDenied
    electors = list(Elector.objects.filter(decision=decision).select_related("building").order_by("id"))
    building = request.GET.get("building")
    if building and building.isdigit():
        electors = [e for e in electors if e.building_id == int(building)]
    # The codes are the owners' keys to vote: printing them is logged like an export.
    record_access(request.user, "decision.codes", decision, request=request, reason=template)
    slips = []
    for e in electors:
        code = codes.voting_code(decision.pk, e.unit_id)
        url = request.build_absolute_uri(reverse("vote-ballot", args=[code]))
        slips.append(
            {
                "elector": e,
                "code": codes.pretty(code),
                "url": url,
                "svg": mark_safe(qr_svg(url)) if template == "slips" else "",  # noqa: S308 - segno output
            }
        )
    return render(
        request,
        f"decisions/{template}.html",
        {"decision": decision, "slips": slips, "choices": BallotEntry.Choice.choices[:3]},
    )


@login_required
def voting_slips(request: HttpRequest, pk: int) -> HttpResponse:
    """One voting-code slip (QR + code) per unit, to print and hand out."""
    return _slips(request, _decision(request, pk), "slips")


@login_required
def ballot_papers(request: HttpRequest, pk: int) -> HttpResponse:
    """One paper ballot per unit, with the choices to tick and a line to sign."""
    return _slips(request, _decision(request, pk), "papers")


@login_required
def export(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The tamper-evident export (JSON lines, hash-chained entries); check it with
    ``gongzhi verify-vote``."""
    decision = _decision(request, pk, policy.EXPORT)
    record_access(request.user, "decision.export", decision, request=request)
    response = StreamingHttpResponse(
        export_rows(decision), content_type="application/x-ndjson; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="vote-{decision.pk}.jsonl"'
    return response


def _notice(request: HttpRequest, pk: int) -> tuple[Decision, dict[str, Any]]:
    """A result notice is public once published (aggregate figures only); before that only
    the staff running the vote see the draft."""
    decision = Decision.objects.select_related("compound").filter(pk=pk).first()
    if decision is None:
        raise Http404
    if decision.state != Decision.State.PUBLISHED:
        decision = _decision(request, pk, policy.CHANGE)
    result = decision.results.order_by("-id").first()
    if result is None:
        raise Http404
    context = {"decision": decision, **notice_context(decision, result)}
    context["objections"] = [o for o in decision.objections.all() if o.answered_at]
    context["objection_deadline"] = actions.objection_deadline(decision)
    context["public_url"] = request.build_absolute_uri(reverse("vote-start"))
    return decision, context


def notice(request: HttpRequest, pk: int) -> HttpResponse:
    """The public notice (公示) of the result with its full arithmetic, to print."""
    _, context = _notice(request, pk)
    return render(request, "decisions/notice.html", context)


def notice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The same notice as a PDF."""
    from gongzhi.notices.pdf import pdf_response

    decision, context = _notice(request, pk)
    return pdf_response("decisions/notice.html", context, request, f"公示-{decision.pk}.pdf")
