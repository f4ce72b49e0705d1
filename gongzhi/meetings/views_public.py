"""The public page of a compound (``/c/<code>/``) and the public minutes of its meetings.

No login: what a resident sees after scanning the QR code on a meeting notice. Bodies and
numbers only — no resident's or attendee's name, phone or room: the bodies serving the
compound, the meetings announced, the resolutions of signed-off meetings, how their action
items stand, and what was done about residents' requests in the last 90 days. Each section
is one query (or one aggregation) however much there is to show.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone

from gongzhi.core.views import policy_q_for_compound
from gongzhi.housing.models import Compound
from gongzhi.meetings import documents
from gongzhi.meetings.models import ActionItem, AgendaItem, Meeting, Resolution
from gongzhi.orgs.models import Organisation
from gongzhi.tickets import workflow as W
from gongzhi.tickets.models import Ticket, TicketEvent

WINDOW_DAYS = 90  # the requests section looks back this far
TOP_CATEGORIES = 5
LATEST_CLOSED = 10
RESOLUTIONS_SHOWN = 20
DONE_SHOWN = 10
PENDING_SHOWN = 50
UPCOMING_SHOWN = 10
TITLE_LENGTH = 40
# Events whose note is the answer the resident was given, newest wins.
REPLY_ACTIONS = ("task_reply", "close", "partner_update")
CLOSED_STATES = (W.State.CLOSED, W.State.FOLLOWED_UP, W.State.ARCHIVED)


def public_url(request: HttpRequest, name: str, *args: Any) -> str:
    """An absolute address of a public page, on the public site when one is configured (the
    staff intranet's host means nothing to a resident's phone)."""
    path = reverse(name, args=args)
    base = settings.GONGZHI_PUBLIC_URL.rstrip("/")
    return base + path if base else request.build_absolute_uri(path)


def _compound(code: str) -> Compound:
    compound: Compound = get_object_or_404(Compound.objects.select_related("community"), code=code)
    return compound


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TITLE_LENGTH else text[: TITLE_LENGTH - 1] + "…"


def _bodies(compound: Compound) -> list[dict[str, str]]:
    """The bodies serving the compound: its committee and joint branch, the community party
    organisation and the grid party groups. Only a landline is shown as their phone."""
    serving = (
        policy_q_for_compound(compound)
        | Q(kind=Organisation.Kind.PARTY_ORG, area_id=compound.community_id)
        | Q(kind=Organisation.Kind.GRID_GROUP, area__compound_links__compound=compound)
    )
    orgs = Organisation.objects.filter(serving, dissolved_on__isnull=True).distinct().order_by("kind", "name")
    return [
        {
            "name": org.name,
            "kind": str(Organisation.Kind(org.kind).label),
            "phone": org.phone if org.phone and documents.mask_mobiles(org.phone) == org.phone else "",
        }
        for org in orgs
    ]


def _upcoming(compound: Compound, now: dt.datetime) -> list[Meeting]:
    """Meetings announced and not yet held that are for the compound or discuss its requests."""
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    about = AgendaItem.objects.filter(ticket__compound=compound).values("meeting_id")
    agenda = Prefetch("agenda_items", queryset=AgendaItem.objects.order_by("position", "id"))
    return list(
        Meeting.objects.filter(state=Meeting.State.ANNOUNCED, starts_at__gte=today)
        .filter(Q(compound=compound) | Q(id__in=about))
        .select_related("convener")
        .prefetch_related(agenda)
        .order_by("starts_at", "id")[:UPCOMING_SHOWN]
    )


def _resolutions(compound: Compound) -> list[Resolution]:
    """Resolutions of the signed-off meetings public on the compound that are about it."""
    about = (
        Q(item__meeting__compound=compound)
        | Q(item__ticket__compound=compound)
        | Q(item__related_tickets__compound=compound)
        | Q(action_items__compound=compound)
        | Q(action_items__ticket__compound=compound)
    )
    ids = Resolution.objects.filter(about, item__meeting__in=documents.public_meetings(compound)).values("id")
    return list(
        Resolution.objects.filter(id__in=ids)
        .select_related("item__meeting__convener")
        .order_by("-decided_at", "-id")[:RESOLUTIONS_SHOWN]
    )


def _action_items(compound: Compound) -> QuerySet[ActionItem]:
    """Action items of signed-off meetings given about the compound."""
    about = ActionItem.objects.filter(
        Q(compound=compound)
        | Q(ticket__compound=compound)
        | Q(resolution__item__ticket__compound=compound)
        | Q(resolution__item__related_tickets__compound=compound),
        meeting__signed_at__isnull=False,
    )
    return ActionItem.objects.filter(id__in=about.values("id"))


def _action_counts(items: QuerySet[ActionItem]) -> dict[str, int]:
    S = ActionItem.State
    late = Q(overdue=True) & ~Q(state=S.DONE)
    return items.aggregate(
        open=Count("id", filter=Q(state=S.OPEN) & ~late),
        in_progress=Count("id", filter=Q(state=S.IN_PROGRESS) & ~late),
        overdue=Count("id", filter=late),
        done=Count("id", filter=Q(state=S.DONE)),
    )


def _requests(compound: Compound, now: dt.datetime) -> dict[str, Any]:
    """What was done about residents' requests in the window: counts, top categories, and
    the latest closed ones with the public answer — no reporter, phone or room."""
    since = now - dt.timedelta(days=WINDOW_DAYS)
    tickets = Ticket.objects.filter(compound=compound).exclude(state=W.State.MERGED)
    good = (Ticket.Satisfaction.SATISFIED, Ticket.Satisfaction.BASIC)
    closed_q = Q(state__in=CLOSED_STATES, closed_at__gte=since)
    counts = tickets.aggregate(
        received=Count("id", filter=Q(created_at__gte=since)),
        closed=Count("id", filter=closed_q),
        rated=Count("id", filter=Q(rated_at__gte=since)),
        satisfied=Count("id", filter=Q(rated_at__gte=since, satisfaction__in=good)),
    )
    categories = list(
        tickets.filter(created_at__gte=since)
        .values("category__name")
        .annotate(n=Count("id"))
        .order_by("-n", "category__name")[:TOP_CATEGORIES]
    )
    latest = list(
        tickets.filter(closed_q)
        .select_related("category")
        .annotate(reporter_person=F("reporter_user__person__name"))
        .order_by("-closed_at", "-id")[:LATEST_CLOSED]
    )
    replies: dict[int, str] = {}
    for ticket_id, note in (
        TicketEvent.objects.filter(ticket__in=[t.pk for t in latest], public=True, action__in=REPLY_ACTIONS)
        .exclude(note="")
        .order_by("ticket_id", "id")
        .values_list("ticket_id", "note")
    ):
        replies[ticket_id] = note  # the newest one stays
    rows = []
    for t in latest:
        names = [t.reporter_name, getattr(t, "reporter_person", None) or ""]
        rows.append(
            {
                "id": t.pk,
                "category": t.category.name,
                "title": _short(documents.redact_request_text(t.description, names)),
                "closed_at": t.closed_at,
                "reply": documents.redact_request_text(replies.get(t.pk, ""), names),
            }
        )
    rated = counts["rated"]
    return {
        **counts,
        "satisfaction_rate": round(100 * counts["satisfied"] / rated) if rated else None,
        "categories": categories,
        "latest": rows,
        "window_days": WINDOW_DAYS,
    }


def _names(meetings: Iterable[int]) -> dict[int, set[str]]:
    return documents.known_names(meetings)


def compound_page(request: HttpRequest, code: str) -> HttpResponse:
    """The compound's public page (phone first): who serves it, meetings coming up, what
    the meetings resolved and how the work stands, and how residents' requests were handled."""
    compound = _compound(code)
    now = timezone.now()
    upcoming = _upcoming(compound, now)
    resolutions = _resolutions(compound)
    items = _action_items(compound)
    related = items.select_related("assignee_org", "meeting")
    pending = list(related.exclude(state=ActionItem.State.DONE).order_by("deadline", "id")[:PENDING_SHOWN])
    done = list(related.filter(state=ActionItem.State.DONE).order_by("-done_at", "-id")[:DONE_SHOWN])
    names = _names(
        [m.pk for m in upcoming]
        + [r.item.meeting_id for r in resolutions]
        + [a.meeting_id for a in pending + done]
    )
    meetings = [
        {
            "meeting": m,
            "kind": str(Meeting.Kind(m.kind).label),
            "agenda": [documents.redact(i.title, names[m.pk]) for i in m.agenda_items.all()],
        }
        for m in upcoming
    ]
    published = [
        {
            "meeting": r.item.meeting,
            "item": documents.redact(r.item.title, names[r.item.meeting_id]),
            "text": documents.redact(r.text, names[r.item.meeting_id]),
            "adopted": r.adopted,
            "decided_at": r.decided_at,
        }
        for r in resolutions
    ]
    work = []
    for a in pending + done:
        doc = documents.action_doc(a, names[a.meeting_id], public=True)
        doc.meeting_title = a.meeting.title
        work.append(doc)
    return render(
        request,
        "meetings/public_compound.html",
        {
            "compound": compound,
            "bodies": _bodies(compound),
            "grids": [g.name for g in compound.grids.order_by("code")],
            "upcoming": meetings,
            "resolutions": published,
            "work": work,
            "work_counts": _action_counts(items),
            "requests": _requests(compound, now),
        },
    )


def _public_meeting(code: str, pk: int) -> tuple[Compound, Meeting]:
    compound = _compound(code)
    meeting = get_object_or_404(documents.public_meetings(compound), pk=pk)
    return compound, meeting


def meeting_minutes(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """The public minutes of a signed-off meeting concerning the compound, without names."""
    compound, meeting = _public_meeting(code, pk)
    return render(
        request,
        "meetings/public_minutes.html",
        {"compound": compound, "doc": documents.minutes(meeting, public=True)},
    )


def meeting_minutes_pdf(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """The same public minutes as a PDF."""
    from gongzhi.notices.pdf import pdf_response

    compound, meeting = _public_meeting(code, pk)
    doc = documents.minutes(meeting, public=True)
    return pdf_response(
        "meetings/print_minutes.html",
        {"compound": compound, "doc": doc},
        request,
        f"会议纪要-{meeting.pk}.pdf",
    )
