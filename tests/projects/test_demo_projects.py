"""The demo county's community projects and volunteers read true: the finished project's
ledger balances entry by entry, its expenses were approved by two others before being paid,
the other two projects are caught mid-way, and volunteer hours are capped per activity and
never reduced by redeeming points."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Sum

from gongzhi.demo import project_texts as X
from gongzhi.projects import actions, ledger
from gongzhi.projects.models import (
    Dispute,
    Expense,
    LedgerEntry,
    MilestonePhoto,
    Project,
    Rating,
)
from gongzhi.volunteers.models import Activity, HoursEntry, PointsAccount, PointsEntry, PostTaking


@pytest.fixture
def lighting(demo_county, db) -> Project:  # type: ignore[no-untyped-def]
    return Project.objects.get(title=X.LIGHTING_TITLE)


@pytest.fixture
def garbage(demo_county, db) -> Project:  # type: ignore[no-untyped-def]
    return Project.objects.get(title=X.GARBAGE_TITLE)


@pytest.fixture
def parking(demo_county, db) -> Project:  # type: ignore[no-untyped-def]
    return Project.objects.get(title=X.PARKING_TITLE)


def test_each_demo_project_is_caught_in_its_own_state(lighting, garbage, parking):
    assert (lighting.state, garbage.state, parking.state) == ("closed", "raising", "underway")
    for project in (lighting, garbage, parking):
        assert project.needs.exists()
        assert project.created_at < project.state_changed_at
    assert lighting.needs.filter(ticket__category__code="lighting").exists()
    assert lighting.closed_at is not None


def test_the_finished_projects_ledger_balances_entry_by_entry(lighting):
    entries = list(lighting.entries.order_by("seq"))
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    running = Decimal("0.00")
    for entry in entries:
        running += entry.signed_amount
        assert entry.balance_after == running
    assert running == lighting.balance == entries[-1].balance_after
    assert ledger.totals(lighting)["balance"] == lighting.balance
    assert lighting.entries_count == len(entries)
    sources = {e.source for e in entries if e.direction == "income"}
    assert {"household", "member_unit", "subsidy"} <= sources
    recorded = [e.recorded_at for e in entries]
    assert recorded == sorted(recorded)


def test_a_mistyped_contribution_was_reversed_and_entered_again(lighting):
    reversal = lighting.entries.get(reverses__isnull=False)
    wrong = reversal.reverses
    assert wrong.source == "household" and reversal.amount == -wrong.amount
    assert reversal.unit_id == wrong.unit_id
    share = lighting.levy.shares.get(unit_id=wrong.unit_id)
    assert ledger.paid_by_unit(lighting)[wrong.unit_id] == share.amount


def test_most_households_of_the_finished_project_paid_their_share(lighting):
    shares = {s.unit_id: s.amount for s in lighting.levy.shares.all()}
    assert sum(shares.values()) == lighting.levy.total
    paid = ledger.paid_by_unit(lighting)
    assert all(paid[unit] == shares[unit] for unit in paid if paid[unit])
    assert len([u for u in paid if paid[u]]) > 0.75 * len(shares)
    households = lighting.entries.filter(source="household", reverses__isnull=True)
    assert {"cash", "transfer"} <= set(households.values_list("method", flat=True))
    assert (
        households.filter(payer_consents=True).exists() and households.filter(payer_consents=False).exists()
    )


def test_every_expense_was_approved_by_two_others_before_it_was_paid(lighting):
    expenses = list(lighting.expenses.all())
    assert len(expenses) >= 3
    assert {e.expense_type for e in expenses} >= {"materials", "labour", "services"}
    for expense in expenses:
        approvals = list(expense.approvals.all())
        assert expense.state == Expense.State.PAID
        assert len(approvals) == 2 and all(a.approve for a in approvals)
        assert len({a.approver_id for a in approvals}) == 2
        assert expense.submitted_by_id not in {a.approver_id for a in approvals}
        assert expense.decided_at == max(a.at for a in approvals)
        assert expense.paid_at is not None and expense.paid_at > expense.decided_at
        assert expense.receipts.exists()
        entry = LedgerEntry.objects.get(expense=expense)
        assert entry.amount == expense.amount and entry.direction == "expense"
    assert not ledger.missing_receipts(lighting).exists()


def test_the_finished_project_was_done_rated_both_ways_and_left_nothing_open(lighting):
    milestones = list(lighting.milestones.all())
    assert milestones and all(m.progress == 100 and m.done_on for m in milestones)
    for milestone in milestones:
        stages = set(milestone.photos.values_list("stage", flat=True))
        assert {"before", "after"} <= stages
    assert actions.progress(lighting) == 100
    residents = lighting.ratings.filter(direction=Rating.Direction.RESIDENT)
    households = residents.values("household").distinct().count()
    assert households >= 24
    assert residents.filter(staff_assisted=True).exists() and residents.filter(staff_assisted=False).exists()
    community = lighting.ratings.filter(direction=Rating.Direction.COMMUNITY)
    assert community.filter(target="unit").exists()
    rated = community.filter(target="party_member").select_related("person")
    assert rated and all(r.person.is_party_member for r in rated)
    assert lighting.leads.filter(person__is_party_member=True).exists()
    assert lighting.objections.exists() and not lighting.objections.filter(answered_at__isnull=True).exists()
    dispute = lighting.disputes.get()
    assert dispute.state == Dispute.State.SETTLED and dispute.steps.count() >= 2
    assert dispute.meeting is None or dispute.meeting.compound_id == lighting.compounds.get().pk
    assert actions.close_blockers(lighting) == []


def test_the_finished_projects_labour_shifts_were_verified_into_hours(lighting):
    shifts = Activity.objects.filter(project=lighting)
    assert shifts.count() >= 2
    assert all(s.kind == "project_shift" and s.state == "verified" for s in shifts)
    hours = HoursEntry.objects.filter(activity__project=lighting)
    assert hours.exists() and all(h.minutes_counted <= 120 for h in hours)
    assert all(h.points_entry.points > 0 for h in hours)


def test_the_raising_project_has_paid_partly_paid_and_unpaid_households(garbage):
    shares = {s.unit_id: s.amount for s in garbage.levy.shares.all()}
    paid = ledger.paid_by_unit(garbage)
    full = [u for u, amount in shares.items() if paid.get(u) == amount]
    part = [u for u, amount in shares.items() if Decimal("0") < paid.get(u, Decimal("0")) < amount]
    unpaid = [u for u in shares if not paid.get(u)]
    assert full and part and unpaid
    assert len(unpaid) > len(part)
    assert garbage.entries.filter(source="member_unit", organisation__isnull=False).exists()
    waiting = garbage.expenses.get()
    assert waiting.state == Expense.State.SUBMITTED
    assert waiting.approvals.filter(approve=True).count() == 1 < garbage.approvals_required
    assert len(ledger.approvers(garbage)) >= 2


def test_the_disputed_project_is_under_way_with_an_open_dispute(parking):
    dispute = parking.disputes.get()
    assert dispute.state == Dispute.State.OPEN and dispute.steps.count() == 2
    assert parking.objections.filter(answered_at__isnull=True).exists()
    assert 0 < actions.progress(parking) < 100
    assert MilestonePhoto.objects.filter(milestone__project=parking, stage="before").exists()
    assert actions.close_blockers(parking)


def test_cleanups_count_at_most_two_hours_per_person_and_activity(demo_county, db):
    hours = HoursEntry.objects.filter(activity__kind=Activity.Kind.CLEANUP)
    assert hours.values("activity").distinct().count() >= 4
    assert all(h.minutes_counted <= 120 and h.minutes_counted <= h.minutes_present for h in hours)
    assert hours.filter(minutes_present__gt=120, minutes_counted=120).exists()
    assert all(h.activity.state == "verified" for h in hours.select_related("activity"))
    methods = set(
        Activity.objects.filter(kind="cleanup", state="verified").values_list(
            "attendances__checked_in_by", flat=True
        )
    )
    assert {"qr", "staff"} <= methods


def test_points_entries_have_approvers_and_no_balance_goes_negative(demo_county, db):
    entries = list(PointsEntry.objects.order_by("person_id", "seq"))
    assert {"earn", "bonus", "redeem"} <= {e.kind for e in entries}
    balances = {}  # person → running balance
    for entry in entries:
        assert entry.approved_by_id is not None and entry.evidence
        balance = balances.get(entry.person_id, Decimal("0")) + entry.points
        assert entry.balance_after == balance >= 0
        balances[entry.person_id] = balance
    for account in PointsAccount.objects.all():
        assert account.points == balances.get(account.person_id, Decimal("0")) >= 0


def test_redeeming_points_never_reduces_hours(demo_county, db):
    redeemers = set(PointsEntry.objects.filter(kind="redeem").values_list("person_id", flat=True))
    assert redeemers
    for account in PointsAccount.objects.all():
        counted = HoursEntry.objects.filter(person_id=account.person_id).aggregate(m=Sum("minutes_counted"))[
            "m"
        ]
        assert account.minutes == (counted or 0)
    assert PointsAccount.objects.filter(person_id__in=redeemers, minutes__gt=0).exists()


def test_the_next_cleanup_is_open_with_the_volunteer_and_resident_signed_up(demo_county, db):
    upcoming = Activity.objects.get(title=X.WINTER_CLEANUP.title)
    assert upcoming.state == Activity.State.OPEN and not upcoming.attendances.exists()
    signed = set(
        upcoming.signups.filter(cancelled_at__isnull=True).values_list("person__user__username", flat=True)
    )
    assert {"volunteer", "resident"} <= signed


def test_registered_party_members_hold_posts_of_the_needs_list(demo_county, db):
    takings = PostTaking.objects.select_related("person", "post")
    assert {t.post.title for t in takings} >= {"楼道长", "政策宣传员", "矛盾调解员", "环境监督员"}
    assert all(t.person.is_party_member and t.person.party_registered_community_id for t in takings)
    liaison = get_user_model().objects.get(username="liaison")
    assert liaison.person.party_registered_community is not None
