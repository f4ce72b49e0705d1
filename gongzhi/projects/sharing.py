"""Cost sharing by exclusive area (Civil Code Art. 283), in whole fen, exactly.

Pure functions, no Django: each household's share is its area's part of the total, rounded
down to the fen; the fen left over go one each to the largest remainders (ties to the
smaller key), so the shares always add up to the total.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from decimal import Decimal

CENT = Decimal("0.01")


def split_by_area(total: Decimal, areas: Iterable[tuple[Hashable, Decimal]]) -> dict[Hashable, Decimal]:
    """Split ``total`` yuan over ``(key, area_m2)`` pairs pro rata by area."""
    items = [(key, Decimal(area)) for key, area in areas]
    if total < 0:
        raise ValueError("total must not be negative")
    if any(area <= 0 for _, area in items):
        raise ValueError("every area must be positive")
    if len({key for key, _ in items}) != len(items):
        raise ValueError("every key must appear once")
    if not items:
        if total:
            raise ValueError("nothing to share the cost over")
        return {}
    fen = int((Decimal(total) / CENT).to_integral_exact())
    if Decimal(fen) * CENT != total:
        raise ValueError("total must be in whole fen")
    # Work in hundredths of a square metre so every quantity is an integer.
    weights = [(key, int((area * 100).to_integral_exact())) for key, area in items]
    whole = sum(w for _, w in weights)
    shares: dict[Hashable, int] = {}
    remainders: list[tuple[int, Hashable]] = []
    for key, weight in weights:
        quotient, remainder = divmod(fen * weight, whole)
        shares[key] = quotient
        remainders.append((-remainder, key))
    left = fen - sum(shares.values())
    for _, key in sorted(remainders)[:left]:
        shares[key] += 1
    return {key: Decimal(value) * CENT for key, value in shares.items()}
