"""Ballots for the same unit arriving at the same moment, on PostgreSQL with real threads.

Each submission carries the latest entry its sender saw. Under the decision's row lock the
first one is recorded; the second finds that the unit's ballot changed and is refused, so
exactly one counts and the hash chain stays a single line.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from gongzhi.decisions import actions, codes
from gongzhi.decisions.counting import export_rows, verify_export
from gongzhi.decisions.models import BallotEntry, Decision
from tests.concurrency import COMMITTING, demo_county_afterwards, together  # noqa: F401 - the fixture is autouse
from tests.decisions.vote_world import build_vote_world, voting_decision

pytestmark = COMMITTING


def test_two_online_ballots_for_one_unit_at_once_exactly_one_counts() -> None:
    world = build_vote_world()
    decision = voting_decision(world)
    code = codes.voting_code(decision.pk, world.units["1-1-101"].pk)
    results = together(
        lambda: actions.cast_online(code, "agree", based_on=0),
        lambda: actions.cast_online(code, "disagree", based_on=0),
    )
    refused = [r for r in results if isinstance(r, ValidationError)]
    recorded = [r for r in results if isinstance(r, list)]
    assert len(refused) == 1 and len(recorded) == 1, results
    entries = BallotEntry.objects.filter(decision=decision)
    assert entries.count() == 1
    assert world.elector(decision, "1-1-101").current.choice == recorded[0][0].choice


def test_many_owners_voting_at_once_keep_one_unbroken_chain() -> None:
    world = build_vote_world()
    decision = voting_decision(world)
    labels = ["1-1-101", "1-1-102", "1-1-201", "1-1-202"]
    results = together(
        *[
            (
                lambda label=label: actions.cast_online(
                    codes.voting_code(decision.pk, world.units[label].pk), "agree", based_on=0
                )
            )
            for label in labels
        ]
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    decision = Decision.objects.get(pk=decision.pk)
    # Bob and the developer hold two flats each: six entries in all, numbered 1..6.
    assert list(BallotEntry.objects.filter(decision=decision).values_list("seq", flat=True)) == [
        1,
        2,
        3,
        4,
        5,
        6,
    ]
    assert verify_export(iter(list(export_rows(decision)))).ok
