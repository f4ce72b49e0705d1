"""Pages of resident requests: the resident's phone pages and the staff and unit pages.

Views stay thin: they read through ``policy``/``queries`` and change through ``actions``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core import ratelimit
from gongzhi.core.audit import client_ip
from gongzhi.housing.models import Building, Compound, Resident, ServiceChannel
from gongzhi.orgs import policy
from gongzhi.orgs.models import Organisation, Role, ServiceCategory
from gongzhi.tickets import actions, duplicates, queries, timeline
from gongzhi.tickets import workflow as W
from gongzhi.tickets.forms import DispatchForm, IntakeForm, RatingForm, StaffIntakeForm
from gongzhi.tickets.models import Approval, Attachment, Notification, Task, Ticket

SESSION_KEY = "gongzhi_my_tickets"


def _error_text(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "；".join(f"{m}" for msgs in error.message_dict.values() for m in msgs)
    return "；".join(str(m) for m in error.messages)


def _form_errors(form: Any, error: ValidationError) -> None:
    """Put an action's field errors on the form (unknown fields go to the top)."""
    if hasattr(error, "error_dict"):
        for field, msgs in error.message_dict.items():
            form.add_error(field if field in form.fields else None, msgs)
    else:
        form.add_error(None, error.messages)


# --------------------------------------------------------------------------- resident pages


def _resident_home(user: Any) -> Resident | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Resident.objects.filter(user=user, moved_out__isnull=True)
        .select_related("unit__building", "unit__compound")
        .first()
    )


def _place_from_request(
    request: HttpRequest,
) -> tuple[Compound | None, Building | None, ServiceChannel | None]:
    token = request.GET.get("c") or request.POST.get("c") or ""
    if token:
        channel = (
            ServiceChannel.objects.select_related("compound", "building")
            .filter(token=token, retired_at__isnull=True)
            .first()
        )
        if channel is not None:
            return channel.compound, channel.building, channel
    code = request.GET.get("compound") or request.POST.get("compound_code") or ""
    if code:
        compound = Compound.objects.filter(code=code).first()
        if compound is not None:
            return compound, None, None
    home = _resident_home(request.user)
    if home is not None:
        return home.unit.compound, home.unit.building, None
    return None, None, None


def _remember(request: HttpRequest, ticket: Ticket) -> None:
    mine = request.session.get(SESSION_KEY, [])
    if ticket.token not in mine:
        request.session[SESSION_KEY] = [ticket.token, *mine][:20]


def report(request: HttpRequest) -> HttpResponse:
    """The resident's phone form. From a building's QR poster the place is filled in."""
    compound, building, channel = _place_from_request(request)
    if compound is None:
        compounds = (
            Compound.objects.filter(unmanaged=True).select_related("community").order_by("area_path", "name")
        )
        return render(request, "tickets/report_pick.html", {"compounds": compounds})
    home = _resident_home(request.user)
    buildings = list(compound.buildings.order_by("id"))
    signed_in = getattr(request.user, "is_authenticated", False)
    form = IntakeForm(
        request.POST or None,
        request.FILES or None,
        buildings=buildings,
        phone_required=not signed_in,
        initial={"building": building.pk if building else None},
    )
    similar: list[Any] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ip = client_ip(request) or "-"
        per_ip, per_phone, window = settings.GONGZHI_INTAKE_RATE
        if not ratelimit.hit("intake-ip", ip, per_ip, window) or (
            data["reporter_phone"]
            and not ratelimit.hit("intake-phone", data["reporter_phone"], per_phone, window)
        ):
            form.add_error(None, _("Too many requests from here in a short time. Please try again later."))
            return render(
                request, "tickets/report.html", _report_context(form, compound, channel, home), status=429
            )
        chosen = next((b for b in buildings if b.pk == data.get("building")), None)
        unit = home.unit if (home and data.get("at_home") and home.unit.compound_id == compound.pk) else None
        if unit is not None:
            chosen = unit.building
        if not data.get("confirm_new"):
            similar = duplicates.candidates(
                text=data["description"],
                compound_id=compound.pk,
                building_id=chosen.pk if chosen else None,
                category_id=data["category"],
            )
        if not similar:
            try:
                ticket = actions.file_ticket(
                    request.user if signed_in else None,
                    channel=Ticket.Channel.QR_POSTER if channel else Ticket.Channel.PHONE_PAGE,
                    category=get_object_or_404(ServiceCategory, pk=data["category"]),
                    description=data["description"],
                    compound=compound,
                    building=chosen,
                    unit=unit,
                    address_text=data["address_text"],
                    plan_x=data.get("plan_x"),
                    plan_y=data.get("plan_y"),
                    urgency=Ticket.Urgency.EMERGENCY if data["urgent"] else Ticket.Urgency.NORMAL,
                    reporter_name=data["reporter_name"] or (home.name if home else ""),
                    reporter_phone=data["reporter_phone"] or (home.phone if home else ""),
                    reporter_resident=home,
                    anonymous=data["anonymous"],
                    attributes=form.answers(data["category"]),
                    photos=data["photos"],
                    idempotency_key=f"web:{data['key']}",
                )
            except ValidationError as error:
                _form_errors(form, error)
            else:
                _remember(request, ticket)
                messages.success(request, _("Thank you. Your request is filed; keep this page to follow it."))
                return redirect("ticket-track", token=ticket.token)
    context = _report_context(form, compound, channel, home)
    context["similar"] = similar
    return render(request, "tickets/report.html", context, status=400 if form.errors else 200)


def _report_context(form: Any, compound: Compound, channel: Any, home: Any) -> dict[str, Any]:
    return {"form": form, "compound": compound, "channel": channel, "home": home}


def plan_svg(request: HttpRequest, pk: int) -> HttpResponse:
    """A schematic plan of a compound: its buildings as numbered blocks, to tap a point on."""
    compound = get_object_or_404(Compound, pk=pk)
    buildings = list(compound.buildings.order_by("id").values_list("number", flat=True))
    cols = max(1, min(4, len(buildings)))
    rows = max(1, (len(buildings) + cols - 1) // cols)
    width, height = 1000, max(400, rows * 260)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img">',
        f'<rect width="{width}" height="{height}" fill="#eef3ea"/>',
    ]
    for i, number in enumerate(buildings):
        x = 60 + (i % cols) * (880 // cols)
        y = 50 + (i // cols) * 260
        w = 880 // cols - 60
        parts.append(f'<rect x="{x}" y="{y}" width="{w}" height="160" rx="8" fill="#fff" stroke="#8a949e"/>')
        parts.append(
            f'<text x="{x + w // 2}" y="{y + 95}" font-size="48" text-anchor="middle" fill="#1f2328">'
            f"{escape(number)}</text>"
        )
    parts.append("</svg>")
    return HttpResponse("".join(parts), content_type="image/svg+xml")


def _ticket_by_token(token: str) -> Ticket:
    return get_object_or_404(
        Ticket.objects.select_related("category", "compound", "building", "lead_unit"), token=token
    )


def track(request: HttpRequest, token: str) -> HttpResponse:
    """The reporter's page: where the request stands, in plain words, and the follow-up."""
    ticket = _ticket_by_token(token)
    return render(
        request,
        "tickets/track.html",
        {
            "ticket": ticket,
            "lines": timeline.build(ticket, audience="public"),
            "rating_form": RatingForm() if ticket.state == W.State.CLOSED else None,
            "can_withdraw": ticket.state in W.BEFORE_CLOSE,
            "merged_into": ticket.merged_into,
        },
    )


@require_POST
def track_act(request: HttpRequest, token: str, action: str) -> HttpResponse:
    """The reporter's moves, authorised by holding the tracking link: rate or withdraw."""
    ticket = _ticket_by_token(token)
    user = request.user if getattr(request.user, "is_authenticated", False) else None
    try:
        if action == "rate":
            form = RatingForm(request.POST)
            if not form.is_valid():
                raise ValidationError(form.errors.as_data().popitem()[1])
            actions.rate(user, ticket, via="phone_page", as_reporter=True, **form.cleaned_data)
            messages.success(request, _("Thank you for your rating."))
        elif action == "withdraw":
            actions.withdraw(user, ticket, reason=request.POST.get("reason", ""), as_reporter=True)
            messages.success(request, _("Your request is withdrawn."))
        else:
            raise Http404
    except ValidationError as error:
        messages.error(request, _error_text(error))
    return redirect("ticket-track", token=token)


@require_POST
def me_too(request: HttpRequest, pk: int) -> HttpResponse:
    """A resident joins an open request of their building instead of filing it again."""
    ticket = get_object_or_404(Ticket, pk=pk)
    user = request.user if getattr(request.user, "is_authenticated", False) else None
    phone = (request.POST.get("reporter_phone") or "").strip()
    ip = client_ip(request) or "-"
    per_ip, _per_phone, window = settings.GONGZHI_INTAKE_RATE
    if not ratelimit.hit("intake-ip", ip, per_ip, window):
        messages.error(request, _("Too many requests from here in a short time. Please try again later."))
        return redirect(request.POST.get("next") or "ticket-report")
    try:
        actions.me_too(user, ticket, phone=phone)
        messages.success(request, _("Added: you will be told when this request is dealt with."))
    except ValidationError as error:
        messages.error(request, _error_text(error))
    target = request.POST.get("next") or reverse("ticket-report")
    return HttpResponseRedirect(target if target.startswith("/") else reverse("ticket-report"))


def public_photo(request: HttpRequest, token: str, pk: int) -> HttpResponseBase:
    ticket = _ticket_by_token(token)
    photo = get_object_or_404(Attachment, pk=pk, ticket=ticket, event__public=True)
    return FileResponse(photo.file.open("rb"), content_type=photo.content_type)


# --------------------------------------------------------------------------- staff pages


@login_required
def photo(request: HttpRequest, pk: int) -> HttpResponseBase:
    attachment = get_object_or_404(Attachment, pk=pk)
    policy.get_or_404(request.user, "ticket", pk=attachment.ticket_id)
    return FileResponse(attachment.file.open("rb"), content_type=attachment.content_type)


@login_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    if not policy.has_any(request.user, "ticket"):
        raise PermissionDenied
    filters = queries.TicketFilters.from_query(request.GET)
    page = queries.ticket_page(request.user, filters, request.GET.get("after"), request.GET.get("size"))
    return render(
        request,
        "tickets/list.html",
        {
            "page": page,
            "filters": filters,
            "groups": [
                ("open", _("Open")),
                ("new", _("New")),
                ("with_units", _("With units")),
                ("to_verify", _("To verify")),
                ("to_follow_up", _("To follow up")),
                ("done", _("Done")),
                ("ended", _("Ended")),
            ],
            "can_file": policy.has_any(request.user, "ticket", policy.CHANGE),
        },
    )


@login_required
def ticket_new(request: HttpRequest) -> HttpResponse:
    """Staff entry on behalf of a resident (phone call, door-to-door, paper)."""
    if not policy.has_any(request.user, "ticket", policy.CHANGE):
        raise PermissionDenied
    compounds = list(policy.scope(request.user, "compound").order_by("area_path", "name")[:500])
    chosen = next(
        (c for c in compounds if str(c.pk) == (request.POST.get("compound") or request.GET.get("compound"))),
        None,
    )
    buildings = list(chosen.buildings.order_by("id")) if chosen else []
    form = StaffIntakeForm(
        request.POST or None,
        request.FILES or None,
        compounds=compounds,
        buildings=buildings,
        initial={"compound": chosen.pk if chosen else None},
    )
    if request.method == "POST" and form.is_valid() and chosen is not None:
        data = form.cleaned_data
        try:
            ticket = actions.file_ticket(
                request.user,
                channel=data["channel"],
                category=get_object_or_404(ServiceCategory, pk=data["category"]),
                description=data["description"],
                compound=chosen,
                building=next((b for b in buildings if b.pk == data.get("building")), None),
                address_text=data["address_text"],
                urgency=Ticket.Urgency.EMERGENCY if data["urgent"] else Ticket.Urgency.NORMAL,
                reporter_name=data["reporter_name"],
                reporter_phone=data["reporter_phone"],
                anonymous=data["anonymous"],
                consent_note=data["consent_note"],
                attributes=form.answers(data["category"]),
                photos=data["photos"],
                idempotency_key=f"staff:{data['key']}",
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("Request #%(id)s filed.") % {"id": ticket.pk})
            return redirect("ticket-detail", pk=ticket.pk)
    elif request.method == "POST" and chosen is None:
        form.add_error("compound", _("Choose the compound."))
    return render(
        request, "tickets/new.html", {"form": form, "chosen": chosen}, status=400 if form.errors else 200
    )


def _audience(user: Any, ticket: Ticket) -> str:
    if policy.can(user, policy.CHANGE, ticket):
        return "desk"
    if policy.scope(user, "task", policy.CHANGE).filter(ticket=ticket).exists():
        return "unit"
    return "desk" if policy.has_any(user, "ticket", policy.CHANGE) or user.is_superuser else "viewer"


def _offered_moves(ticket: Ticket, classes: set[str]) -> set[str]:
    return {
        name
        for name, move in W.TICKET_MOVES.items()
        if ticket.state in move.sources and move.actors & classes
    }


@login_required
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = policy.get_or_404(request.user, "ticket", pk=pk)
    ticket = Ticket.objects.select_related(
        "category",
        "compound",
        "building",
        "unit",
        "grid",
        "community",
        "joint_branch",
        "lead_unit",
        "suggested_lead",
        "merged_into",
    ).get(pk=ticket.pk)
    audience = _audience(request.user, ticket)
    classes = actions.actor_classes(request.user, ticket)
    tasks = list(ticket.tasks.select_related("unit").order_by("round", "role", "id"))
    my_tasks = list(
        policy.scope(request.user, "task", policy.CHANGE).filter(ticket=ticket).select_related("unit")
    )
    dispatch_form = None
    if W.DESK in classes and ticket.state == W.State.ACCEPTED:
        dispatch_form = DispatchForm(
            initial={
                "lead_unit": ticket.suggested_lead_id,
                "co_units": list(ticket.suggested_co_units.values_list("pk", flat=True)),
            }
        )
    return render(
        request,
        "tickets/detail.html",
        {
            "ticket": ticket,
            "audience": audience,
            "lines": timeline.build(ticket, audience="unit" if audience == "unit" else "desk"),
            "moves": _offered_moves(ticket, classes),
            "tasks": tasks,
            "my_tasks": [(t, _task_moves(t)) for t in my_tasks],
            "dispatch_form": dispatch_form,
            "rating_form": RatingForm() if W.DESK in classes and ticket.state == W.State.CLOSED else None,
            "approvals": list(
                ticket.approvals.filter(state=Approval.State.PENDING).select_related("task__unit")
            ),
            "similar": duplicates.staff_candidates(ticket, user=request.user)
            if W.DESK in classes and ticket.is_open
            else [],
            "show_reporter": audience == "desk",
            "can_reveal": policy.can(request.user, policy.REVEAL, ticket),
        },
    )


def _task_moves(task: Task) -> set[str]:
    return {
        name for name, move in W.TASK_MOVES.items() if task.state in move.sources and W.UNIT in move.actors
    }


def _redirect_back(request: HttpRequest, ticket_id: int) -> HttpResponse:
    return redirect("ticket-detail", pk=ticket_id)


def _version(request: HttpRequest) -> int | None:
    try:
        return int(request.POST.get("version") or "")
    except ValueError:
        return None


@require_POST
@login_required
def ticket_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One desk move on a ticket, posted from its page."""
    ticket = policy.get_or_404(request.user, "ticket", pk=pk)
    user, post, version = request.user, request.POST, _version(request)
    note = post.get("note", "")
    try:
        if action == "accept":
            actions.accept(user, ticket, note=note, version=version)
        elif action == "reject":
            actions.reject(user, ticket, reason=note, version=version)
        elif action == "dispatch":
            form = DispatchForm(post)
            if not form.is_valid():
                raise ValidationError(_error_text(ValidationError(form.errors.as_data().popitem()[1])))
            actions.dispatch(
                user,
                ticket,
                lead_unit=form.cleaned_data["lead_unit"],
                co_units=list(form.cleaned_data["co_units"]),
                instructions=form.cleaned_data["instructions"],
                version=version,
            )
        elif action == "verify":
            actions.verify(user, ticket, note=note, photos=request.FILES.getlist("photos"), version=version)
        elif action == "send_back":
            actions.send_back(user, ticket, reason=note, version=version)
        elif action == "close":
            actions.close(user, ticket, note=note, version=version)
        elif action == "rate":
            rating = RatingForm(post)
            if not rating.is_valid():
                raise ValidationError(_("Choose whether it was resolved and how satisfied the resident is."))
            actions.rate(
                user, ticket, via=post.get("via", "staff_call"), version=version, **rating.cleaned_data
            )
        elif action == "unreachable":
            actions.mark_unreachable(user, ticket, note=note, version=version)
        elif action == "archive":
            actions.archive(user, ticket, version=version)
        elif action == "withdraw":
            actions.withdraw(user, ticket, reason=note, version=version)
        elif action == "refer":
            actions.refer(user, ticket, reason=note, version=version)
        elif action == "supervise":
            actions.supervise(user, ticket, note=note, version=version)
        elif action == "merge":
            parent = policy.get_or_404(user, "ticket", pk=int(post.get("parent") or 0))
            actions.merge(user, ticket, parent, note=note, version=version)
        elif action == "unreasonable":
            actions.request_approval(
                user, ticket, kind=Approval.Kind.UNREASONABLE, reason=note, version=version
            )
        elif action == "note":
            actions.add_note(user, ticket, note=note)
        else:
            raise Http404
    except ValidationError as error:
        messages.error(request, _error_text(error))
    except (ValueError, TypeError):
        messages.error(request, _("The form was incomplete."))
    else:
        messages.success(request, _("Done."))
    return _redirect_back(request, ticket.pk)


@require_POST
@login_required
def task_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One unit move on its task: sign for it, start, reply, ask for more time or to hand back."""
    task = policy.get_or_404(request.user, "task", pk=pk)
    user, post, version = request.user, request.POST, _version(request)
    try:
        if action == "accept":
            actions.task_accept(user, task, version=version)
        elif action == "start":
            actions.task_start(user, task, note=post.get("note", ""), version=version)
        elif action == "reply":
            actions.task_reply(
                user,
                task,
                result=post.get("note", ""),
                photos=request.FILES.getlist("photos"),
                version=version,
            )
        elif action == "request_extension":
            actions.request_approval(
                user,
                task.ticket,
                kind=Approval.Kind.EXTENSION,
                task=task,
                reason=post.get("note", ""),
                extra_hours=int(post.get("hours") or 0),
            )
        elif action == "request_return":
            actions.request_approval(
                user, task.ticket, kind=Approval.Kind.RETURN, task=task, reason=post.get("note", "")
            )
        else:
            raise Http404
    except ValidationError as error:
        messages.error(request, _error_text(error))
    except ValueError:
        messages.error(request, _("The form was incomplete."))
    else:
        messages.success(request, _("Done."))
    return _redirect_back(request, task.ticket_id)


@require_POST
@login_required
def approval_decide(request: HttpRequest, pk: int) -> HttpResponse:
    approval = get_object_or_404(Approval, pk=pk)
    policy.get_or_404(request.user, "ticket", pk=approval.ticket_id)
    try:
        actions.decide_approval(
            request.user,
            approval,
            approve=request.POST.get("approve") == "1",
            note=request.POST.get("note", ""),
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("Decision recorded."))
    return _redirect_back(request, approval.ticket_id)


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    """A member unit's work: the tasks dispatched to it, newest first."""
    if not policy.has_any(request.user, "task", policy.CHANGE):
        raise PermissionDenied
    active = request.GET.get("all") != "1"
    page = queries.task_page(
        request.user, active_only=active, after=request.GET.get("after"), size=request.GET.get("size")
    )
    units = [g.organisation for g in policy.active_grants(request.user) if g.role == Role.UNIT_LIAISON]
    return render(request, "tickets/tasks.html", {"page": page, "active": active, "units": units})


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    notes = policy.scope(request.user, "notification").filter(channel=Notification.Channel.INBOX)
    page = list(notes.select_related("ticket").order_by("-id")[:100])
    unread = [n.pk for n in page if n.read_at is None]
    if unread:
        from django.utils import timezone

        notes.filter(pk__in=unread).update(read_at=timezone.now())
    return render(request, "tickets/inbox.html", {"notes": page, "unread": set(unread)})


def my_requests(request: HttpRequest) -> HttpResponse:
    """The requests this phone filed (kept in its session) or the signed-in resident's."""
    tokens = request.session.get(SESSION_KEY, [])
    q = Q(token__in=tokens)
    if getattr(request.user, "is_authenticated", False):
        q |= Q(reporter_user=request.user)
    tickets = (
        Ticket.objects.filter(q).select_related("category").order_by("-id")[:50]
        if (tokens or request.user.is_authenticated)
        else []
    )
    return render(request, "tickets/mine.html", {"tickets": tickets})


def unit_names(ids: list[int]) -> dict[int, str]:
    return dict(Organisation.objects.filter(pk__in=ids).values_list("pk", "name"))


@login_required
def routing_rules(request: HttpRequest) -> HttpResponse:
    """County staff: which unit leads each category (county-wide or in an area), the time
    limit and whether a photo is needed. Every change is audited."""
    from gongzhi.orgs.models import Area
    from gongzhi.tickets import config
    from gongzhi.tickets.models import RoutingRule, TimeLimit

    if not config.may_configure(request.user):
        raise PermissionDenied
    units = Organisation.objects.filter(kind=Organisation.Kind.MEMBER_UNIT, dissolved_on__isnull=True)
    if request.method == "POST":
        post = request.POST
        try:
            category = get_object_or_404(ServiceCategory, pk=int(post.get("category") or 0))
            if post.get("op") == "setting":
                config.save_category_setting(
                    request.user,
                    category=category,
                    time_limit=get_object_or_404(TimeLimit, pk=int(post.get("time_limit") or 0)),
                    photo_required=post.get("photo_required") == "1",
                )
            elif post.get("op") == "delete":
                config.delete_rule(
                    request.user, get_object_or_404(RoutingRule, pk=int(post.get("rule") or 0))
                )
            else:
                code = (post.get("area") or "").strip()
                area = None
                if code:
                    area = Area.objects.filter(code=code).first()
                    if area is None:
                        raise ValidationError({"area": _("No area with the code %(code)s.") % {"code": code}})
                config.save_rule(
                    request.user,
                    category=category,
                    area=area,
                    lead_unit=get_object_or_404(units, pk=int(post.get("lead_unit") or 0)),
                    co_units=list(
                        units.filter(pk__in=[int(v) for v in post.getlist("co_units") if v.isdigit()])
                    ),
                )
        except ValidationError as error:
            messages.error(request, _error_text(error))
        except ValueError:
            messages.error(request, _("The form was incomplete."))
        else:
            messages.success(request, _("Saved."))
        return redirect("ticket-routing")
    categories = list(
        ServiceCategory.objects.select_related("parent", "ticket_setting__time_limit").order_by("code")
    )
    rules: dict[int, list[Any]] = {}
    for rule in RoutingRule.objects.select_related("area", "lead_unit").prefetch_related("co_units"):
        rules.setdefault(rule.category_id, []).append(rule)
    return render(
        request,
        "tickets/routing.html",
        {
            "rows": [
                (c, sorted(rules.get(c.pk, []), key=lambda r: r.area.path if r.area else ""))
                for c in categories
            ],
            "units": list(units),
            "limits": list(TimeLimit.objects.all()),
        },
    )
