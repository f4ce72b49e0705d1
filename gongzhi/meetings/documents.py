"""The notice and the minutes of a meeting as plain data, in a staff and a public version.

The staff version is the record as written, with the names of those present. The public
version (for the compound's public page, readable without login) keeps the bodies and the
numbers and drops the people: attendance as counts per capacity, presenters replaced by
their body, work given to a person shown as "a named person", and every free text —
minutes, resolutions, addenda, titles — passed through ``redact``, which masks mobile
numbers and turns the names of everyone known to the meeting into "surname + 某".

Mobile numbers are masked in the staff version too (DOMAIN §6: phone numbers are shown
masked); the stored minutes keep what was written.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gongzhi.meetings import actions, quorum, richtext
from gongzhi.meetings.models import (
    ActionItem,
    Addendum,
    AgendaItem,
    Attendance,
    Invitee,
    Meeting,
    Resolution,
)
from gongzhi.orgs.models import Membership, Person

# ---- redaction (pure) ----------------------------------------------------------------------

# Two-character surnames: 欧阳明 → 欧阳某, not 欧某.
_SURNAMES = (
    "欧阳司马上官诸葛东方皇甫尉迟公孙慕容长孙宇文司徒夏侯轩辕令狐钟离闻人澹台"
    "端木南宫西门独孤百里呼延万俟申屠太史公冶宗政濮阳淳于单于赫连拓跋"
)
COMPOUND_SURNAMES = frozenset(_SURNAMES[i : i + 2] for i in range(0, len(_SURNAMES), 2))

# A mainland mobile number: 11 digits starting 13–19, optionally written in groups with spaces
# or dashes and with the country code. Landlines start with the area code's 0 and never
# match, so a body's public number such as 0580-4472303 stays as written.
_MOBILE = re.compile(r"(?<!\d)(?:(?:\+|00)?86[\s-]?)?(1[3-9](?:[ \t-]?\d){9})(?!\d)")

# A room in a request's text: "401室", "3-2-401". The building may stay, the door may not.
_ROOM = re.compile(r"(?<!\d)\d{3,4}(?=\s*[室房])|(?<![\d-])\d{1,3}-\d{1,2}-\d{3,4}(?![\d-])")


def mask_mobiles(text: str) -> str:
    """Every mobile number in ``text`` as ``138****1234``; landlines untouched."""

    def masked(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(1))
        return f"{digits[:3]}****{digits[-4:]}"

    return _MOBILE.sub(masked, text)


def masked_name(name: str) -> str:
    """王建国 → 王某, 欧阳明 → 欧阳某; a one-character name is just 某."""
    if len(name) <= 1:
        return "某"
    if len(name) > 2 and name[:2] in COMPOUND_SURNAMES:
        return name[:2] + "某"
    return name[0] + "某"


def redact(text: str, names: Iterable[str]) -> str:
    """``text`` with mobile numbers masked and each of ``names`` replaced by its surname and
    某, wherever it occurs (also inside longer words). Longer names are matched first, so
    of two overlapping names the longer wins; empty names are ignored. Pure."""
    text = mask_mobiles(text or "")
    pattern = _names_pattern(frozenset(names))
    if pattern is None:
        return text
    return pattern.sub(lambda m: masked_name(m.group(0)), text)


@lru_cache(maxsize=16)
def _names_pattern(names: frozenset[str]) -> re.Pattern[str] | None:
    """One compiled pattern per set of names: a statement redacts thousands of texts with the
    same names, and building the pattern is what costs."""
    wanted = sorted({n.strip() for n in names if n and n.strip()}, key=lambda n: (-len(n), n))
    if not wanted:
        return None
    return re.compile("|".join(re.escape(n) for n in wanted))


def redact_request_text(text: str, names: Iterable[str]) -> str:
    """A resident request's text for the public: ``redact`` plus room numbers masked."""
    return _ROOM.sub("***", redact(text, names))


def paragraphs(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


_HIDDEN = "\x00"  # stands in for a masked number's stars while the rich text is rendered


def minutes_html(text: str) -> SafeString:
    """Minutes (already redacted) as the minutes' light rich text. The stars of a masked
    number are kept out of the renderer, which would read two of them as bold."""
    html = richtext.render(text.replace("****", _HIDDEN))
    return mark_safe(html.replace(_HIDDEN, "****"))  # noqa: S308 - escaped by the renderer


# ---- who is known to a meeting ------------------------------------------------------------


def _person_name(user: Any) -> str:
    if user is None:
        return ""
    person = Person.objects.filter(user=user).only("name").first()
    if person is not None:
        return person.name
    return user.get_full_name() or user.get_username()


def known_names(meeting_ids: Iterable[int]) -> dict[int, set[str]]:
    """The names of every person known to each meeting: those who signed in, invited
    people, presenters, people given work, the members of the deciding body, the one who
    signed off, and the reporters of the requests on its agenda. A fixed number of queries
    however many meetings."""
    ids = sorted(set(meeting_ids))
    names: dict[int, set[str]] = defaultdict(set)
    if not ids:
        return names
    rows: list[tuple[int, str | None]] = []
    for meeting_id, name, person_name in Attendance.objects.filter(meeting_id__in=ids).values_list(
        "meeting_id", "name", "person__name"
    ):
        rows += [(meeting_id, name), (meeting_id, person_name)]
    rows += list(
        Invitee.objects.filter(meeting_id__in=ids, person__isnull=False).values_list(
            "meeting_id", "person__name"
        )
    )
    rows += list(
        AgendaItem.objects.filter(meeting_id__in=ids, presenter__isnull=False).values_list(
            "meeting_id", "presenter__name"
        )
    )
    rows += list(
        ActionItem.objects.filter(meeting_id__in=ids, assignee_person__isnull=False).values_list(
            "meeting_id", "assignee_person__name"
        )
    )
    bodies: dict[int, list[int]] = defaultdict(list)
    for meeting_id, body_id, signer in Meeting.objects.filter(id__in=ids).values_list(
        "id", "body_id", "signed_by__person__name"
    ):
        rows.append((meeting_id, signer))
        if body_id is not None:
            bodies[body_id].append(meeting_id)
    for body_id, person_name in Membership.objects.filter(organisation_id__in=bodies).values_list(
        "organisation_id", "person__name"
    ):
        rows += [(meeting_id, person_name) for meeting_id in bodies[body_id]]
    for model in (AgendaItem, ActionItem):
        rows += [
            (meeting_id, name)
            for meeting_id, reporter, person_name in model.objects.filter(  # type: ignore[attr-defined]
                meeting_id__in=ids, ticket__isnull=False
            ).values_list("meeting_id", "ticket__reporter_name", "ticket__reporter_user__person__name")
            for name in (reporter, person_name)
        ]
    for meeting_id, name in rows:
        if name and name.strip():
            names[meeting_id].add(name.strip())
    return names


# ---- the notice -----------------------------------------------------------------------------


@dataclass
class NoticeItem:
    position: int
    title: str
    description: str
    presenter: str


@dataclass
class NoticeDoc:
    meeting: Meeting
    kind: str
    title: str
    convener: str
    starts_at: dt.datetime
    place: str
    compound: str
    items: list[NoticeItem]
    bodies: list[str]
    people_invited: int
    residents_invited: bool
    notice_days: int
    announced_at: dt.datetime | None
    publication_rule: str
    quorum_rule: str
    cancelled: bool


def quorum_rule(total: int) -> str:
    """The owners' committee's quorum and majority, in words."""
    counted = quorum.Presence(members_total=total, members_present=0)
    return _(
        "The owners' committee has %(total)s members. It can decide only when more than half of "
        "them (at least %(needed)s) are present, and a decision needs the votes in favour of at "
        "least half of all members (at least %(votes)s), not only of those present."
    ) % {"total": total, "needed": counted.needed, "votes": counted.votes_needed}


def _presenter(item: AgendaItem, *, public: bool) -> str:
    org = item.presenter_org.name if item.presenter_org is not None else ""
    if public or item.presenter is None:
        return org
    return f"{item.presenter.name}（{org}）" if org else item.presenter.name


def notice(meeting: Meeting) -> NoticeDoc:
    """The notice (会议通知) of an announced meeting: what, when, where, the agenda with its
    presenters, the bodies invited, and the rules it was published under."""
    items = list(meeting.agenda_items.select_related("presenter", "presenter_org").order_by("position", "id"))
    invitees = list(meeting.invitees.select_related("organisation").order_by("id"))
    days = actions.notice_days(meeting.kind)
    announced = timezone.localtime(meeting.announced_at) if meeting.announced_at else None
    rule = ngettext(
        "This notice is published at least %(days)s day before the meeting, on %(date)s.",
        "This notice is published at least %(days)s days before the meeting, on %(date)s.",
        days,
    ) % {"days": days, "date": announced.strftime("%Y-%m-%d") if announced else "—"}
    counted = actions.presence(meeting)
    return NoticeDoc(
        meeting=meeting,
        kind=str(Meeting.Kind(meeting.kind).label),
        title=meeting.title,
        convener=meeting.convener.name,
        starts_at=meeting.starts_at,
        place=meeting.place,
        compound=meeting.compound.name if meeting.compound is not None else "",
        items=[
            NoticeItem(
                position=i.position,
                title=mask_mobiles(i.title),
                description=mask_mobiles(i.description),
                presenter=_presenter(i, public=False),
            )
            for i in items
        ],
        bodies=[i.organisation.name for i in invitees if i.person_id is None and i.organisation is not None],
        people_invited=sum(1 for i in invitees if i.person_id is not None),
        residents_invited=meeting.residents_invited,
        notice_days=days,
        announced_at=meeting.announced_at,
        publication_rule=rule,
        quorum_rule=quorum_rule(counted.members_total) if counted is not None else "",
        cancelled=meeting.state == Meeting.State.CANCELLED,
    )


# ---- the minutes ----------------------------------------------------------------------------


@dataclass
class AttendeeLine:
    name: str
    capacity: str
    body: str


@dataclass
class ResolutionDoc:
    text: str
    method: str
    by_hands: bool
    votes_for: int | None
    votes_against: int | None
    votes_abstain: int | None
    members_total: int | None
    members_present: int | None
    adopted: bool
    outcome: str
    decided_by: str


@dataclass
class ActionDoc:
    pk: int
    title: str
    owner: str
    deadline: dt.date
    status: str
    status_label: str
    done_at: dt.datetime | None
    meeting_title: str = ""


@dataclass
class ItemDoc:
    position: int
    title: str
    description: str
    source: str
    presenter: str
    minutes: SafeString
    attachments: list[str]
    request: str
    request_id: int | None
    resolution: ResolutionDoc | None
    actions: list[ActionDoc]


@dataclass
class AddendumDoc:
    text: list[str]
    at: dt.datetime
    by: str


@dataclass
class MinutesDoc:
    meeting: Meeting
    public: bool
    title: str
    kind: str
    convener: str
    chair: str
    starts_at: dt.datetime
    ended_at: dt.datetime | None
    place: str
    compound: str
    attendees: list[AttendeeLine]
    observers: list[AttendeeLine]
    counts: list[tuple[str, int]]
    bodies: list[str]
    presence: str
    items: list[ItemDoc]
    signed: bool
    signed_by: str
    signed_at: dt.datetime | None
    addenda: list[AddendumDoc] = field(default_factory=list)


def status_label(status: str) -> str:
    if status == "overdue":
        return _("Overdue")
    return str(ActionItem.State(status).label)


def action_doc(item: ActionItem, names: Iterable[str], *, public: bool) -> ActionDoc:
    """One action item; in public a person given the work is "a named person"."""
    if item.assignee_org is not None:
        owner = item.assignee_org.name
    elif public:
        owner = _("a named person")
    else:
        owner = item.owner_label
    return ActionDoc(
        pk=item.pk,
        title=redact(item.title, names) if public else mask_mobiles(item.title),
        owner=owner,
        deadline=item.deadline,
        status=item.status,
        status_label=status_label(item.status),
        done_at=item.done_at,
    )


def presence_line(present: int, total: int) -> str:
    if total > 0 and 2 * present > total:
        return _("%(present)s present of %(total)s members: more than half.") % {
            "present": present,
            "total": total,
        }
    return _("%(present)s present of %(total)s members: not more than half, no quorum.") % {
        "present": present,
        "total": total,
    }


def _resolution_doc(resolution: Resolution, text: str) -> ResolutionDoc:
    by_hands = resolution.method == Resolution.Method.HANDS
    outcome = _("Adopted by agreement of the meeting.")
    if by_hands:
        needed = quorum.Presence(members_total=resolution.members_total or 0, members_present=0).votes_needed
        values = {"yes": resolution.votes_for or 0, "total": resolution.members_total or 0, "needed": needed}
        if resolution.adopted:
            outcome = (
                _(
                    "Adopted: %(yes)s in favour, at least half of all %(total)s members "
                    "(%(needed)s votes) were needed."
                )
                % values
            )
        else:
            outcome = (
                _(
                    "Not adopted: %(yes)s in favour, at least half of all %(total)s members "
                    "(%(needed)s votes) were needed."
                )
                % values
            )
    return ResolutionDoc(
        text=text,
        method=str(Resolution.Method(resolution.method).label),
        by_hands=by_hands,
        votes_for=resolution.votes_for,
        votes_against=resolution.votes_against,
        votes_abstain=resolution.votes_abstain,
        members_total=resolution.members_total,
        members_present=resolution.members_present,
        adopted=resolution.adopted,
        outcome=outcome,
        decided_by=resolution.decided_by.name if resolution.decided_by is not None else "",
    )


def _request_ref(item: AgendaItem, names: Iterable[str], *, public: bool) -> str:
    """ "#id title" of the request the item is about; never its tracking link."""
    if item.ticket is None:
        return ""
    title = redact_request_text(item.ticket.title, names) if public else mask_mobiles(item.ticket.title)
    return f"#{item.ticket.pk} {title}"


def _attendance(meeting: Meeting) -> list[Attendance]:
    return list(meeting.attendances.select_related("represents").order_by("signed_in_at", "id"))


def _line(a: Attendance) -> AttendeeLine:
    body = a.represents.name if a.represents is not None else a.represents_label
    return AttendeeLine(name=a.name, capacity=str(Attendance.Capacity(a.capacity).label), body=body)


def minutes(meeting: Meeting, *, public: bool) -> MinutesDoc:
    """The minutes (会议纪要): the staff version with names, or the public version without."""
    meeting = Meeting.objects.select_related("convener", "body", "compound", "signed_by").get(pk=meeting.pk)
    names = known_names([meeting.pk])[meeting.pk] if public else set()

    def text(value: str) -> str:
        return redact(value, names) if public else mask_mobiles(value)

    attendance = _attendance(meeting)
    counts: dict[str, int] = dict.fromkeys(Attendance.Capacity.values, 0)
    bodies: dict[str, None] = {}
    for a in attendance:
        counts[a.capacity] += 1
        if a.represents is not None:
            bodies[a.represents.name] = None
        elif a.represents_label:
            bodies[text(a.represents_label)] = None
    counted = actions.presence(meeting)
    action_items = ActionItem.objects.select_related("assignee_org", "assignee_person").order_by(
        "deadline", "id"
    )
    agenda = (
        meeting.agenda_items.select_related(
            "presenter", "presenter_org", "ticket", "resolution", "resolution__decided_by"
        )
        .prefetch_related("attachments", Prefetch("resolution__action_items", queryset=action_items))
        .order_by("position", "id")
    )
    items = []
    for item in agenda:
        resolution = getattr(item, "resolution", None)
        items.append(
            ItemDoc(
                position=item.position,
                title=text(item.title),
                description=text(item.description),
                source=str(AgendaItem.Source(item.source).label),
                presenter=_presenter(item, public=public),
                minutes=minutes_html(text(item.minutes)) if item.minutes.strip() else SafeString(""),
                attachments=[text(a.name) for a in item.attachments.all()],
                request=_request_ref(item, names, public=public),
                request_id=None if public or item.ticket is None else item.ticket.pk,
                resolution=_resolution_doc(resolution, text(resolution.text)) if resolution else None,
                actions=[
                    action_doc(a, names, public=public)
                    for a in (resolution.action_items.all() if resolution else [])
                ],
            )
        )
    addenda = [
        AddendumDoc(
            text=paragraphs(text(a.text)),
            at=a.created_at,
            by="" if public else _person_name(a.created_by),
        )
        for a in Addendum.objects.filter(meeting=meeting).select_related("created_by").order_by("id")
    ]
    C = Attendance.Capacity
    return MinutesDoc(
        meeting=meeting,
        public=public,
        title=meeting.title,
        kind=str(Meeting.Kind(meeting.kind).label),
        convener=meeting.convener.name,
        chair=meeting.convener.name,
        starts_at=meeting.starts_at,
        ended_at=meeting.ended_at,
        place=meeting.place,
        compound=meeting.compound.name if meeting.compound is not None else "",
        attendees=[] if public else [_line(a) for a in attendance if a.capacity != C.OBSERVER],
        observers=[] if public else [_line(a) for a in attendance if a.capacity == C.OBSERVER],
        counts=[(str(C(c).label), n) for c, n in counts.items() if n],
        bodies=list(bodies),
        presence=presence_line(counted.members_present, counted.members_total) if counted else "",
        items=items,
        signed=meeting.is_signed,
        signed_by=meeting.convener.name if public else _person_name(meeting.signed_by),
        signed_at=meeting.signed_at,
        addenda=addenda,
    )


# ---- where a meeting is public --------------------------------------------------------------


def concerning(compound: Any) -> Q:
    """Meetings that concern a compound: held for it, or with a request of it on the agenda,
    or giving work about it (the compound's own, or a request of it)."""
    items = ActionItem.objects.filter(Q(compound=compound) | Q(ticket__compound=compound))
    agenda = AgendaItem.objects.filter(Q(ticket__compound=compound) | Q(related_tickets__compound=compound))
    return Q(compound=compound) | Q(id__in=items.values("meeting_id")) | Q(id__in=agenda.values("meeting_id"))


def public_meetings(compound: Any) -> QuerySet[Meeting]:
    """Signed-off meetings published on the compound's public page."""
    return Meeting.objects.filter(concerning(compound), signed_at__isnull=False)


def is_public_on(meeting: Meeting, compound: Any) -> bool:
    return public_meetings(compound).filter(pk=meeting.pk).exists()
