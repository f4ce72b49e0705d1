"""Staff pages of meetings: the list, convening, and the meeting's own page with what can be
done at its stage — the notice, invitations, agenda, sign-in with the quorum, the minutes,
resolutions and action items. The page's forms post to ``views_session`` (invitations,
agenda, sign-in) and ``views_record`` (minutes, resolutions, action items, addenda);
action items have their own pages in ``views_items``. Views read through
``policy``/``queries`` and change only through ``actions`` and ``resolutions``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.coverage.views import qr_svg
from gongzhi.meetings import actions, queries
from gongzhi.meetings.forms import (
    ActionItemForm,
    AddendumForm,
    AgendaItemForm,
    CancelForm,
    InviteForm,
    MeetingForm,
    MinutesForm,
    ResolutionForm,
    SignInForm,
)
from gongzhi.meetings.models import ActionItem, AgendaItem, Meeting, Resolution
from gongzhi.meetings.warnings import explain_evidence
from gongzhi.orgs import policy
from gongzhi.orgs.models import Organisation

S = Meeting.State
LIMIT = queries.CHOICES_LIMIT


def error_text(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "；".join(str(m) for msgs in error.message_dict.values() for m in msgs)
    return "；".join(str(m) for m in error.messages)


def form_errors(form: forms.Form, error: ValidationError) -> None:
    """Put an action's field errors on the form (unknown fields go to the top)."""
    if hasattr(error, "error_dict"):
        for name, msgs in error.message_dict.items():
            form.add_error(name if name in form.fields else None, msgs)
    else:
        form.add_error(None, error.messages)


def meeting_or_404(request: HttpRequest, pk: int, action: str = policy.VIEW) -> Meeting:
    return policy.get_or_404(request.user, "meeting", action, pk=pk)


def person_choices(people: Any) -> list[tuple[int, str]]:
    return [(p.pk, f"{p.name} ({p.masked_phone})" if p.phone else p.name) for p in people[:LIMIT]]


def without(grouped: list[Any], ids: set[int]) -> list[Any]:
    """Grouped choices without the ids given (bodies already invited)."""
    return [(group, [(pk, name) for pk, name in rows if pk not in ids]) for group, rows in grouped]


def _print_url(name: str, meeting: Meeting, suffix: str) -> str:
    """The printable page's address: its URL name once the print pages are in place."""
    try:
        return reverse(name, args=[meeting.pk])
    except NoReverseMatch:
        return f"/meetings/{meeting.pk}/{suffix}/"


def self_sign_in_url(request: HttpRequest, meeting: Meeting) -> str:
    path = reverse("meeting-self-sign-in", args=[meeting.pk, meeting.checkin_token])
    base = settings.GONGZHI_PUBLIC_URL.rstrip("/")
    return base + path if base else request.build_absolute_uri(path)


def shows_record(user: Any, meeting: Meeting) -> bool:
    """Draft minutes are for the people running the meeting and the bodies taking part;
    residents and volunteers read the record once it is signed off."""
    return meeting.is_signed or queries.shows_people(user)


# --------------------------------------------------------------------------- list and new


@login_required
def meeting_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not policy.has_any(user, "meeting"):
        raise PermissionDenied
    filters = queries.MeetingFilters.from_query(request.GET)
    page = queries.meeting_page(user, filters, request.GET.get("after"), request.GET.get("size"))
    return render(
        request,
        "meetings/list.html",
        {
            "page": page,
            "filters": filters,
            "kinds": Meeting.Kind.choices,
            "states": Meeting.State.choices,
            "tabs": [
                (queries.UPCOMING, _("Upcoming")),
                (queries.PAST, _("Past")),
                (queries.ALL, _("All")),
            ],
            "may_convene": policy.has_any(user, "meeting", policy.MANAGE),
            "may_see_actions": policy.has_any(user, "actionitem"),
        },
    )


def _meeting_form(request: HttpRequest) -> tuple[MeetingForm, dict[str, Any]]:
    user = request.user
    conveners = list(queries.convener_choices(user)[:LIMIT])
    decisions = list(queries.decision_choices(user)[:200])
    compounds = list(queries.compound_choices(user)[:LIMIT])
    areas = list(queries.area_choices(user)[:200])
    orgs = list(queries.invitable_orgs(user)[:LIMIT])
    bodies = [o for o in conveners if o.kind in Organisation.COMMITTEE_KINDS and o.compound_id]
    initial: dict[str, Any] = {}
    if request.GET.get("kind") in Meeting.Kind.values:
        initial["kind"] = request.GET["kind"]
    form = MeetingForm(
        request.POST or None,
        conveners=queries.grouped(conveners),
        bodies=[(o.pk, o.name) for o in bodies],
        decisions=[(d.pk, f"{d.compound.name} · {d.title}") for d in decisions],
        compounds=[(c.pk, f"{c.community.name} · {c.name}") for c in compounds],
        areas=[(a.pk, a.name) for a in areas],
        organisations=queries.grouped(orgs),
        initial=initial,
    )
    objects = {
        "orgs": {o.pk: o for o in [*conveners, *orgs]},
        "decisions": {d.pk: d for d in decisions},
        "compounds": {c.pk: c for c in compounds},
        "areas": {a.pk: a for a in areas},
    }
    return form, objects


@login_required
def meeting_new(request: HttpRequest) -> HttpResponse:
    """Convene a meeting (a draft, with the earlier meetings' open action items on its
    agenda). For people who may convene meetings somewhere."""
    user = request.user
    if not policy.has_any(user, "meeting", policy.MANAGE):
        raise PermissionDenied
    form, objects = _meeting_form(request)
    if request.method == "POST" and form.is_valid():
        data, orgs = form.cleaned_data, objects["orgs"]
        try:
            meeting = actions.create_meeting(
                user,
                kind=data["kind"],
                title=data["title"],
                convener=orgs[data["convener"]],
                starts_at=data["starts_at"],
                place=data["place"],
                area=objects["areas"].get(data["area"]),
                compound=objects["compounds"].get(data["compound"]),
                body=orgs.get(data["body"]),
                decision=objects["decisions"].get(data["decision"]),
                residents_invited=data["residents_invited"],
                organisations=[orgs[pk] for pk in data["organisations"] if pk in orgs],
            )
        except ValidationError as error:
            form_errors(form, error)
        except PermissionDenied:
            form.add_error(None, _("You may not convene a meeting for this place."))
        else:
            messages.success(
                request, _("Meeting prepared. Put items on the agenda, then publish the notice.")
            )
            return redirect("meeting-detail", pk=meeting.pk)
    return render(
        request,
        "meetings/new.html",
        {"form": form, "notice_days": [(label, actions.notice_days(k)) for k, label in Meeting.Kind.choices]},
        status=400 if form.errors else 200,
    )


# --------------------------------------------------------------------------- the meeting page


def _agenda_rows(
    request: HttpRequest,
    meeting: Meeting,
    bound: dict[str, forms.Form],
    *,
    recording: bool,
    may_run: bool,
    org_choices: list[Any],
    people_choices: list[tuple[int, str]],
) -> list[dict[str, Any]]:
    items = list(
        meeting.agenda_items.select_related(
            "ticket",
            "consultation",
            "opinion",
            "carried_item__assignee_org",
            "carried_item__assignee_person",
            "presenter",
            "presenter_org",
        )
        .prefetch_related("attachments", "related_tickets")
        .order_by("position", "id")
    )
    resolutions = {r.item_id: r for r in Resolution.objects.filter(item__meeting=meeting)}
    work: dict[int, list[ActionItem]] = {}
    for a in (
        ActionItem.objects.filter(meeting=meeting)
        .select_related("assignee_org", "assignee_person")
        .order_by("id")
    ):
        work.setdefault(a.resolution_id, []).append(a)
    visible = set(
        policy.scope(request.user, "actionitem").filter(meeting=meeting).values_list("pk", flat=True)
    )
    editable = may_run and not meeting.is_signed
    rows = []
    for item in items:
        resolution = resolutions.get(item.pk)
        given = work.get(resolution.pk, []) if resolution else []
        row: dict[str, Any] = {
            "item": item,
            "resolution": resolution,
            "actions": [(a, a.pk in visible) for a in given],
            "tickets": sorted(item.related_tickets.all(), key=lambda t: (t.pk != item.ticket_id, t.pk)),
            "hot_explanation": explain_evidence(item.evidence)
            if item.source == AgendaItem.Source.HOT_ISSUE
            else "",
        }
        if recording:
            row["minutes_form"] = bound.get(f"minutes-{item.pk}") or MinutesForm(
                initial={"minutes": item.minutes}, auto_id=f"m{item.pk}_%s"
            )
            if resolution is None:
                row["resolution_form"] = bound.get(f"resolve-{item.pk}") or ResolutionForm(
                    auto_id=f"r{item.pk}_%s"
                )
        if editable and resolution is not None and resolution.adopted:
            row["action_form"] = bound.get(f"action-{resolution.pk}") or ActionItemForm(
                organisations=org_choices, people=people_choices, auto_id=f"a{resolution.pk}_%s"
            )
        row["may_redispatch"] = (
            may_run
            and bool(row["tickets"])
            and resolution is not None
            and any(a.assignee_org and a.assignee_org.kind == Organisation.Kind.MEMBER_UNIT for a in given)
        )
        rows.append(row)
    return rows


def render_detail(
    request: HttpRequest,
    meeting: Meeting,
    *,
    bound: dict[str, forms.Form] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The meeting's page. ``bound`` holds forms posted with an error, by key, shown with
    the user's input kept; ``errors`` are shown at the top."""
    user = request.user
    bound = bound or {}
    meeting = Meeting.objects.select_related(
        "convener", "body", "decision", "area", "compound", "signed_by"
    ).get(pk=meeting.pk)
    state = meeting.state
    may_manage = policy.can(user, policy.MANAGE, meeting)
    may_run = policy.can(user, policy.CHANGE, meeting)
    recording = may_run and state in actions.OPEN_RECORD and not meeting.is_signed
    signing_in = may_run and state in (S.ANNOUNCED, S.IN_SESSION)
    open_list = state in (S.DRAFT, S.ANNOUNCED, S.IN_SESSION)
    org_choices = queries.grouped(queries.invitable_orgs(user)) if (may_manage or may_run) else []
    people = queries.people_of(meeting)
    people_choices = person_choices(people) if may_run else []
    attendances = list(
        meeting.attendances.select_related("represents", "person").order_by("signed_in_at", "id")
    )
    signed_people = {a.person_id for a in attendances if a.person_id}
    invitees = list(
        meeting.invitees.select_related("organisation", "person").order_by(
            F("person_id").asc(nulls_first=True), "id"
        )
    )
    invited_orgs = {i.organisation_id for i in invitees if i.person_id is None and i.organisation_id}
    uninvited = [(group, rows) for group, rows in without(org_choices, invited_orgs) if rows]
    page_errors = list(errors or [])
    for form in bound.values():
        for field_errors in form.errors.values():
            page_errors.extend(str(e) for e in field_errors)
    context: dict[str, Any] = {
        "meeting": meeting,
        "S": S,
        "may_manage": may_manage,
        "may_run": may_run,
        "recording": recording,
        "show_people": queries.shows_people(user),
        "show_record": shows_record(user, meeting),
        "page_errors": page_errors,
        "notice_days": actions.notice_days(meeting.kind),
        "notice_by": meeting.starts_at - dt.timedelta(days=actions.notice_days(meeting.kind)),
        "publish_by": actions.publication_due(meeting),
        "now": timezone.now(),
        "notice_url": _print_url("meeting-notice", meeting, "notice"),
        "minutes_url": _print_url("meeting-minutes", meeting, "minutes"),
        "invitees": invitees,
        "invite_form": (bound.get("invite") or InviteForm(organisations=uninvited))
        if may_manage and open_list
        else None,
        "agenda_form": (
            bound.get("agenda")
            or AgendaItemForm(
                consultations=[(c.pk, c.title) for c in queries.consultation_choices(user)[:200]],
                organisations=org_choices,
            )
        )
        if may_manage and open_list
        else None,
        "cancel_form": (bound.get("cancel") or CancelForm())
        if may_manage and state in (S.DRAFT, S.ANNOUNCED)
        else None,
        "rows": _agenda_rows(
            request,
            meeting,
            bound,
            recording=recording,
            may_run=may_run,
            org_choices=org_choices,
            people_choices=people_choices,
        ),
        "attendances": attendances,
        "counted": sum(1 for a in attendances if a.counted),
        "observers": sum(1 for a in attendances if not a.counted),
        "presence": actions.presence(meeting),
        "sign_in_form": (
            bound.get("sign_in")
            or SignInForm(people=[c for c in people_choices if c[0] not in signed_people])
        )
        if signing_in
        else None,
        "addenda": list(meeting.addenda.select_related("created_by")),
        "addendum_form": (bound.get("addendum") or AddendumForm())
        if may_manage and meeting.is_signed
        else None,
    }
    if signing_in:
        url = self_sign_in_url(request, meeting)
        context["qr_url"] = url
        context["qr_svg"] = mark_safe(qr_svg(url))  # noqa: S308 - segno output
    return render(request, "meetings/detail.html", context, status=status)


@login_required
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_detail(request, meeting_or_404(request, pk))


def back_to(meeting: Meeting, anchor: str = "") -> HttpResponse:
    url = reverse("meeting-detail", args=[meeting.pk])
    return redirect(f"{url}#{anchor}" if anchor else url)


def _version(request: HttpRequest) -> int | None:
    value = request.POST.get("version") or ""
    return int(value) if value.isdigit() else None


@require_POST
@login_required
def meeting_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One move of the meeting, posted from its page: publish the notice, open, close,
    sign off the minutes, call it off."""
    meeting = meeting_or_404(request, pk)
    user = request.user
    bound: dict[str, forms.Form] = {}
    try:
        if action == "announce":
            actions.announce(user, meeting, version=_version(request))
            message = _("The notice is published and the invitations are sent.")
        elif action == "open":
            actions.open_session(user, meeting)
            message = _("The meeting is open: sign people in and write the minutes.")
        elif action == "close":
            actions.end_session(user, meeting)
            message = _("The meeting is closed. Complete the minutes, then sign them off.")
        elif action == "sign_off":
            actions.sign_off(user, meeting)
            message = _("The minutes are signed off.")
        elif action == "cancel":
            form = CancelForm(request.POST)
            bound["cancel"] = form
            if not form.is_valid():
                return render_detail(request, meeting, bound=bound, status=400)
            actions.cancel(user, meeting, reason=form.cleaned_data["reason"])
            message = _("The meeting is called off.")
        else:
            raise Http404
    except ValidationError as error:
        if "cancel" in bound:
            form_errors(bound["cancel"], error)
            return render_detail(request, meeting, bound=bound, status=400)
        return render_detail(request, meeting, errors=[error_text(error)], status=400)
    messages.success(request, message)
    return back_to(meeting)
