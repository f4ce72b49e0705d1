"""The demo's votes are what the README promises, made by the real actions and verifiable."""

from __future__ import annotations

import pytest

from gongzhi.decisions.counting import export_rows, verify_export
from gongzhi.decisions.models import BallotEntry, CurrentBallot, Decision

pytestmark = pytest.mark.django_db


def test_yucai_has_a_published_vote_and_one_in_progress(demo_county) -> None:  # type: ignore[no-untyped-def]
    decisions = {d.matter: d for d in Decision.objects.filter(compound__name="育才新村")}
    rules, roofs = decisions[1], decisions[5]
    assert rules.state == Decision.State.PUBLISHED and rules.results.count() == 1
    assert rules.objections.filter(answered_at__isnull=False).count() == 1
    assert roofs.state == Decision.State.VOTING and not roofs.results.exists()
    channels = set(BallotEntry.objects.filter(decision=roofs).values_list("channel", flat=True))
    assert {"online", "paper", "door", "correction"} <= channels
    assert CurrentBallot.objects.filter(decision=roofs, conflict=True).exists()
    # Only buildings 2 and 3 vote on their roofs (the maintenance fund's scope).
    assert set(roofs.electors.values_list("building__number", flat=True)) == {"2", "3"}


def test_every_demo_vote_verifies(demo_county) -> None:  # type: ignore[no-untyped-def]
    for decision in Decision.objects.filter(compound__name="育才新村"):
        report = verify_export(iter(list(export_rows(decision))))
        assert report.ok, (decision.title, report.problems)
