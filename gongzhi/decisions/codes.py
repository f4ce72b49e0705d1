"""Voting codes printed on each unit's slip.

A code is derived from the server's secret, the decision and the unit (so a lost slip can be
reprinted) and only its digest is stored. Twelve characters from a 32-letter alphabet without
look-alikes give 60 bits: guessing is hopeless even before the rate limit.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I
LENGTH = 12


def voting_code(decision_id: int, unit_id: int) -> str:
    mac = hmac.new(settings.SECRET_KEY.encode(), f"vote:{decision_id}:{unit_id}".encode(), hashlib.sha256)
    number = int.from_bytes(mac.digest(), "big")
    chars = []
    for _ in range(LENGTH):
        number, index = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[index])
    return "".join(chars)


def pretty(code: str) -> str:
    """ABCD-EFGH-JKLM, as printed on the slip."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalise(text: str) -> str:
    """What the owner typed, as a code: case, spaces and dashes ignored."""
    return "".join(ch for ch in (text or "").upper() if ch.isascii() and ch.isalnum())


def digest(code: str) -> str:
    return hashlib.sha256(normalise(code).encode()).hexdigest()
