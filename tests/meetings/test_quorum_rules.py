"""The quorum of an owners' committee, as DOMAIN §2 states it: more than half of the members
present to meet, and at least half of ALL members in favour to decide."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.meetings.quorum import Hands, HandsRefused, Presence, count_hands


@pytest.mark.parametrize(
    ("total", "present", "quorate"),
    [(7, 4, True), (7, 3, False), (5, 3, True), (5, 2, False), (6, 3, False), (6, 4, True), (0, 0, False)],
)
def test_more_than_half_must_be_present(total: int, present: int, quorate: bool) -> None:
    assert Presence(total, present).quorate is quorate


@pytest.mark.parametrize(
    ("total", "present", "votes_for", "adopted"),
    [
        (7, 4, 4, True),  # 4 of 7: at least half of all members
        (7, 7, 3, False),  # 3 of 7 is under half, however many are present
        (5, 3, 3, True),
        (5, 5, 2, False),
        (6, 4, 3, True),  # exactly half of all members is enough
        (6, 6, 2, False),
    ],
)
def test_a_decision_needs_half_of_all_members(
    total: int, present: int, votes_for: int, adopted: bool
) -> None:
    assert count_hands(Presence(total, present), Hands(votes_for, 0, 0)) is adopted


def test_without_a_quorum_nothing_is_decided() -> None:
    with pytest.raises(HandsRefused) as refused:
        count_hands(Presence(7, 3), Hands(3, 0, 0))
    assert refused.value.code == "no_quorum"
    assert refused.value.params == {"present": 3, "needed": 4, "total": 7}


def test_more_hands_than_members_present_is_refused() -> None:
    with pytest.raises(HandsRefused) as refused:
        count_hands(Presence(7, 4), Hands(3, 1, 1))
    assert refused.value.code == "too_many"


def test_negative_hands_are_refused() -> None:
    with pytest.raises(HandsRefused):
        count_hands(Presence(7, 5), Hands(5, -1, 0))


@given(total=st.integers(1, 11), data=st.data())
def test_one_more_hand_in_favour_never_turns_adopted_into_rejected(total: int, data: st.DataObject) -> None:
    present = data.draw(st.integers(total // 2 + 1, total))
    votes_for = data.draw(st.integers(0, present - 1))
    before = count_hands(Presence(total, present), Hands(votes_for, 0, 0))
    after = count_hands(Presence(total, present), Hands(votes_for + 1, 0, 0))
    assert after or not before
    # And the rule is the plain one: at least half of all members.
    assert after == (2 * (votes_for + 1) >= total)
