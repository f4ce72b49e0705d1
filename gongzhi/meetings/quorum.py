"""Quorum and show-of-hands rules of a deciding body. Pure: no Django, integers only.

An owners' committee (DOMAIN §2) meets when more than half of its members are present, and
a decision of the committee needs the votes of at least half of ALL its members — not of
those present. So a committee of 7 meets with 4 present and decides with 4 votes in favour;
with 4 present and 3 in favour it does not decide, however the others vote.
"""

from __future__ import annotations

from dataclasses import dataclass


class HandsRefused(ValueError):
    """A show of hands that cannot be recorded; ``code`` says why, ``params`` the numbers."""

    def __init__(self, code: str, **params: int) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Presence:
    members_total: int
    members_present: int

    @property
    def needed(self) -> int:
        """Members who must be present: more than half."""
        return self.members_total // 2 + 1

    @property
    def quorate(self) -> bool:
        return self.members_total > 0 and 2 * self.members_present > self.members_total

    @property
    def votes_needed(self) -> int:
        """Votes in favour a decision needs: at least half of all members."""
        return (self.members_total + 1) // 2


@dataclass(frozen=True)
class Hands:
    votes_for: int
    votes_against: int
    votes_abstain: int


def count_hands(presence: Presence, hands: Hands) -> bool:
    """Whether the show of hands adopts the motion; raises ``HandsRefused`` when the body
    may not decide (no quorum) or the hands do not add up (more hands than members present,
    negative counts)."""
    if not presence.quorate:
        raise HandsRefused(
            "no_quorum",
            present=presence.members_present,
            needed=presence.needed,
            total=presence.members_total,
        )
    numbers = (hands.votes_for, hands.votes_against, hands.votes_abstain)
    if any(n < 0 for n in numbers):
        raise HandsRefused("negative")
    if sum(numbers) > presence.members_present:
        raise HandsRefused("too_many", hands=sum(numbers), present=presence.members_present)
    return 2 * hands.votes_for >= presence.members_total
