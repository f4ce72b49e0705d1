"""The owner's pages: enter the voting code from the slip (or scan its QR), read the
proposal, vote, change the vote while the window is open, object to a published result.

No login: the code is the identity check. Wrong codes are rate-limited per address, and a
code unlocks only its owner's units in that one decision.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core import ratelimit
from gongzhi.core.audit import client_ip
from gongzhi.decisions import actions, codes, phone
from gongzhi.decisions.models import BallotEntry, Decision, Elector
from gongzhi.decisions.views import error_text

SCOPE = "vote-code"


def _limit() -> tuple[int, int]:
    return getattr(settings, "GONGZHI_VOTE_CODE_RATE", (20, 3600))


def _blocked(request: HttpRequest) -> bool:
    limit, _window = _limit()
    return ratelimit.is_blocked(SCOPE, client_ip(request) or "-", limit)


def _find(request: HttpRequest, code: str) -> Elector | None:
    """The elector of a code; a wrong code counts against the address's allowance."""
    elector = actions.elector_for_code(code) if len(codes.normalise(code)) == codes.LENGTH else None
    if elector is None:
        limit, window = _limit()
        ratelimit.hit(SCOPE, client_ip(request) or "-", limit, window)
    return elector


def vote_start(request: HttpRequest) -> HttpResponseBase:
    """Type the code from the slip."""
    error = ""
    if request.method == "POST":
        code = request.POST.get("code", "")
        if _blocked(request):
            error = _("Too many wrong codes from this address. Try again in an hour or ask your grid worker.")
        elif _find(request, code) is None:
            error = _("This voting code is not valid. Check the slip: 12 letters and digits.")
        else:
            return redirect("vote-ballot", codes.normalise(code))
    status = 429 if error and _blocked(request) else 200
    return render(request, "decisions/vote_start.html", {"error": error}, status=status)


def _page(request: HttpRequest, code: str) -> tuple[Elector, Decision]:
    if _blocked(request):
        raise Http404
    elector = _find(request, code)
    if elector is None:
        raise Http404
    return elector, elector.decision


def vote_ballot(request: HttpRequest, code: str) -> HttpResponse:
    """The proposal, the owner's units and their ballot, and the voting form."""
    if _blocked(request):
        return render(
            request,
            "decisions/vote_start.html",
            {
                "error": _(
                    "Too many wrong codes from this address. Try again in an hour or ask your grid worker."
                )
            },
            status=429,
        )
    elector = _find(request, code)
    if elector is None:
        return render(
            request,
            "decisions/vote_start.html",
            {"error": _("This voting code is not valid. Check the slip: 12 letters and digits.")},
            status=404,
        )
    decision = elector.decision
    if request.method == "POST":
        try:
            actions.cast_online(
                code, request.POST.get("choice", ""), based_on=int(request.POST.get("based_on") or 0)
            )
        except ValidationError as error:
            messages.error(request, error_text(error))
        except ValueError:
            messages.error(request, _("The form was incomplete."))
        else:
            messages.success(request, _("Your vote is recorded. You may change it until voting closes."))
        return redirect("vote-ballot", codes.normalise(code))
    group = actions.owner_group(elector)
    current = getattr(elector, "current", None)
    now = timezone.now()
    is_open = (
        decision.state == Decision.State.VOTING
        and decision.opens_at is not None
        and decision.closes_at is not None
        and decision.opens_at <= now <= decision.closes_at
    )
    context: dict[str, Any] = {
        "decision": decision,
        "code": codes.normalise(code),
        "group": group,
        "current": current if current and current.choice else None,
        "based_on": actions.latest_seq(elector),
        "is_open": is_open,
        "choices": BallotEntry.Choice.choices[:3],
        "documents": decision.documents.all(),
        "objection_open": decision.state == Decision.State.PUBLISHED
        and (deadline := actions.objection_deadline(decision)) is not None
        and now <= deadline,
    }
    return render(request, "decisions/vote_ballot.html", context)


def vote_document(request: HttpRequest, code: str, doc: int) -> HttpResponseBase:
    """A document of the proposal, for the holder of a code of that decision."""
    elector, decision = _page(request, code)
    document = decision.documents.filter(pk=doc).first()
    if document is None:
        raise Http404
    return FileResponse(document.file.open("rb"), content_type=document.content_type)


@require_POST
def vote_objection(request: HttpRequest, code: str) -> HttpResponseBase:
    """An owner objects to the published result; the committee must answer."""
    elector, decision = _page(request, code)
    try:
        actions.file_objection(code, decision, request.POST.get("text", ""))
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(
            request, _("Your objection is recorded; the answer will be published with the result.")
        )
    return redirect("vote-ballot", codes.normalise(code))


def vote_phone(request: HttpRequest) -> HttpResponse:
    """Identity check by phone: the owner types the number the committee registered, gets a
    code by SMS, and then sees the open votes of their units."""
    ip = client_ip(request) or "-"
    number = phone.normalise_phone(
        request.POST.get("phone", "") or request.session.get(phone.SESSION_KEY, "")
    )
    stage, error = "ask", ""
    if request.method == "POST" and request.POST.get("step") == "send":
        if len(number) != 11:
            error = _("Enter the 11-digit mobile number the owners' committee has for you.")
        elif not ratelimit.hit("vote-sms-ip", ip, 10, 3600):
            error = _("Too many requests from this address. Try again in an hour or ask your grid worker.")
        else:
            phone.send_code(number, ip)
            stage = "code"
    elif request.method == "POST" and request.POST.get("step") == "check":
        stage = "code"
        if not ratelimit.hit("vote-otp-ip", ip, 30, 3600) or not phone.check_code(
            number, request.POST.get("code", "")
        ):
            error = _("The code is wrong or has expired. Ask for a new one.")
        else:
            request.session[phone.SESSION_KEY] = number
            return redirect("vote-phone-units")
    return render(request, "decisions/vote_phone.html", {"stage": stage, "error": error, "phone": number})


def vote_phone_units(request: HttpRequest) -> HttpResponse:
    """The open votes of the checked number's units, each a link to its ballot page."""
    number = request.session.get(phone.SESSION_KEY, "")
    if not number:
        return redirect("vote-phone")
    units = [
        {"elector": e, "code": codes.voting_code(e.decision_id, e.unit_id)} for e in phone.electors_of(number)
    ]
    return render(request, "decisions/vote_phone_units.html", {"units": units})
