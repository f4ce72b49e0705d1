"""The demo's meetings: 南峰社区's monthly joint meetings, the halls of 育才新村, the owners'
committee, the renovation rounds — all made through the meeting actions, as seeded."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from gongzhi.consultations.models import Consultation
from gongzhi.housing.models import Compound
from gongzhi.meetings.models import ActionEvidence, ActionItem, AgendaItem, Attendance, Meeting, Resolution
from gongzhi.orgs.models import Area, Membership, Organisation, Person
from gongzhi.tickets.models import TicketEvent

pytestmark = pytest.mark.django_db

K, S = Meeting.Kind, Meeting.State


def _month(moment: dt.datetime) -> int:
    local = timezone.localtime(moment)
    return local.year * 12 + local.month - 1


@pytest.fixture
def community_series(demo_county):  # type: ignore[no-untyped-def]
    party = Organisation.objects.get(kind=Organisation.Kind.PARTY_ORG, area__name="南峰社区")
    return Meeting.objects.filter(kind=K.JOINT, convener=party, compound__isnull=True).order_by("starts_at")


def test_a_joint_meeting_each_month_all_signed_off_but_the_latest(community_series):
    now = timezone.now()
    held = [m for m in community_series if m.starts_at < now]
    months = [_month(m.starts_at) for m in held]
    assert len(held) == 6 and months == list(range(months[0], months[0] + 6))
    assert _month(now) - months[-1] in (0, 1)  # up to this month or the last
    unsigned = [m for m in held if m.state != S.SIGNED]
    assert len(unsigned) <= 1 and all(m == held[-1] and m.state == S.ENDED for m in unsigned)
    assert not Meeting.objects.filter(
        state__in=[S.DRAFT, S.ANNOUNCED, S.IN_SESSION], starts_at__lt=now
    ).exists()
    upcoming = [m for m in community_series if m.starts_at > now]
    assert len(upcoming) == 1 and upcoming[0].state == S.ANNOUNCED
    assert upcoming[0].announced_at <= upcoming[0].starts_at - dt.timedelta(days=3)
    for meeting in held:
        assert meeting.announced_at <= meeting.starts_at - dt.timedelta(days=3) < meeting.opened_at
        attendance = meeting.attendances.all()
        assert attendance.filter(
            capacity=Attendance.Capacity.INVITEE, represents__kind="member_unit"
        ).exists()
    methods = set(Attendance.objects.filter(meeting__in=held).values_list("method", flat=True))
    assert methods == {Attendance.Method.QR, Attendance.Method.STAFF}
    assert Meeting.objects.filter(pk__in=[m.pk for m in held], addenda__isnull=False).count() == 1


def test_every_signed_meeting_has_minutes_and_a_resolution_for_every_item():
    for meeting in Meeting.objects.filter(state=S.SIGNED):
        items = meeting.agenda_items.all()
        assert items.exists(), meeting
        assert not items.filter(resolution__isnull=True).exists(), meeting
        assert not items.filter(minutes="").exists(), meeting


def test_work_is_mostly_done_with_evidence_and_late_work_comes_back(community_series):
    items = ActionItem.objects.filter(meeting__in=community_series)
    done = items.filter(state=ActionItem.State.DONE)
    assert done.count() > items.count() / 2
    assert not done.filter(evidence="").exists()
    assert not done.filter(done_at__gt=timezone.now()).exists()
    assert ActionEvidence.objects.filter(event__item__in=done).exists()  # photos of the work
    overdue = items.filter(overdue=True).exclude(state=ActionItem.State.DONE)
    assert overdue.exists()
    assert all(i.deadline < timezone.localdate() for i in overdue)
    # Work not done is on the agenda of the next meetings of the series, once each.
    for item in overdue:
        later = community_series.filter(starts_at__gt=item.meeting.starts_at)
        carried = AgendaItem.objects.filter(carried_item=item).values_list("meeting_id", flat=True)
        assert set(later.values_list("pk", flat=True)) == set(carried)
    assert AgendaItem.objects.filter(
        carried_item__state=ActionItem.State.DONE, resolution__isnull=False
    ).exists()


def test_the_halls_of_yucai_one_taking_up_a_hot_issue():
    yucai = Compound.objects.get(name="育才新村")
    halls = Meeting.objects.filter(kind=K.HALL, compound=yucai)
    assert halls.filter(state=S.SIGNED).count() >= 2
    assert halls.filter(state=S.ANNOUNCED, starts_at__gt=timezone.now()).exists()
    assert {h.convener.kind for h in halls} == {Organisation.Kind.JOINT_BRANCH}
    assert all(h.residents_invited for h in halls)
    residents = Attendance.objects.filter(meeting__in=halls, person__isnull=True)
    assert residents.exists() and not residents.exclude(capacity=Attendance.Capacity.INVITEE).exists()
    hot = AgendaItem.objects.filter(meeting__kind=K.HALL, source=AgendaItem.Source.HOT_ISSUE)
    assert hot.exists() and all(i.suggestion_key and i.evidence.get("rule") for i in hot)
    other = Meeting.objects.filter(kind=K.HALL, compound__name__in=["南峰小区", "渔港新村"])
    assert other.filter(state=S.SIGNED).exists()


def test_each_renovation_round_is_discussed_in_a_hall():
    first = Consultation.objects.get(round_number=1, series__isnull=True)
    rounds = [first, *Consultation.objects.filter(series=first)]
    assert len(rounds) == 3
    for consultation in rounds:
        items = AgendaItem.objects.filter(
            consultation=consultation, source=AgendaItem.Source.CONSULTATION, meeting__kind=K.HALL
        )
        assert items.count() == 1, consultation.title
        item = items.get()
        day = timezone.localtime(item.meeting.starts_at).date()
        assert consultation.opens_on <= day <= consultation.closes_on + dt.timedelta(days=14)
        assert consultation.scope_items.filter(compound=item.meeting.compound).exists()
        assert item.minutes and item.resolution.text


def test_the_committee_decides_by_hands_with_a_quorum_within_three_days():
    committee = Organisation.objects.get(kind=Organisation.Kind.OWNERS_COMMITTEE, compound__name="育才新村")
    meeting = Meeting.objects.get(kind=K.COMMITTEE, body=committee)
    assert meeting.state == S.SIGNED
    assert meeting.starts_at - meeting.announced_at >= dt.timedelta(days=7)
    assert meeting.signed_at - meeting.starts_at <= dt.timedelta(days=3)
    resolutions = Resolution.objects.filter(item__meeting=meeting)
    assert resolutions.exists()
    for r in resolutions:
        assert r.method == Resolution.Method.HANDS and r.adopted and r.decided_by == committee
        assert 2 * r.members_present > r.members_total and 2 * r.votes_for >= r.members_total
        assert r.decided_at <= meeting.signed_at


def test_referred_requests_on_agendas_show_the_meeting_on_their_timeline():
    items = AgendaItem.objects.filter(source=AgendaItem.Source.TICKET, ticket__referred=True)
    assert items.filter(meeting__kind=K.JOINT, meeting__convener__name="南峰社区党委").exists()
    for item in items.select_related("ticket"):
        actions = set(TicketEvent.objects.filter(ticket=item.ticket).values_list("action", flat=True))
        assert "agenda" in actions, item.ticket_id
        if hasattr(item, "resolution"):
            assert "meeting_resolution" in actions, item.ticket_id
            if item.resolution.action_items.exists():
                assert "action_item" in actions, item.ticket_id


def test_the_town_holds_a_quarterly_joint_meeting():
    town = Area.objects.get(name="高亭镇")
    meetings = Meeting.objects.filter(kind=K.JOINT, area=town, convener__name="高亭镇人民政府")
    held = meetings.filter(state=S.SIGNED)
    assert held.exists()
    months = sorted({timezone.localtime(m.starts_at).month % 3 for m in meetings})
    assert months == [0]  # the last month of a quarter
    invited = Organisation.objects.filter(pk__in=held.values("invitees__organisation"))
    assert invited.filter(kind=Organisation.Kind.PARTY_ORG).count() >= 2


@pytest.mark.parametrize(
    ("username", "organisation", "roles"),
    [
        ("committee", "育才新村业主委员会", None),
        ("branch", "育才新村第一兼合式党支部", {Membership.Role.SECRETARY}),
        ("liaison", "国网岱山县供电公司", {Membership.Role.LIAISON}),
        ("liaison2", "高亭镇人民政府", {Membership.Role.LIAISON}),
    ],
)
def test_the_demo_logins_have_person_records(demo_county, username, organisation, roles):
    person = Person.objects.get(user__username=username)
    membership = Membership.objects.get(person=person, organisation__name=organisation, left_on__isnull=True)
    assert roles is None or membership.role in roles


def test_demo_logins_signed_in_by_qr_code(demo_county):
    qr = Attendance.objects.filter(
        method=Attendance.Method.QR, person__user__username__in=["branch", "liaison"]
    )
    assert qr.exists()
    assert not Attendance.objects.filter(capacity=Attendance.Capacity.OBSERVER).exists()
