"""Codes printed on paper slips: a household's response code, an owner's voting code.

A code is 12 characters from an alphabet without look-alikes (no 0/O, 1/I/L): 31¹² is about
2⁵⁹, so guessing one is hopeless at the rate the pages allow. It is derived from the server's
key and what it stands for, so a slip can be printed again at any time, while the database
holds only a keyed digest to look a code up by: a copy of the database without the key gives
no code away. Rotating the key (``GONGZHI_CODE_KEY``, else ``SECRET_KEY``) invalidates the
codes of open consultations and votes.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 12
GROUP = 4


def _key() -> bytes:
    return (getattr(settings, "GONGZHI_CODE_KEY", "") or settings.SECRET_KEY).encode()


def derive(purpose: str, message: str) -> str:
    """The code for ``message`` (deterministic for one key and purpose)."""
    digest = hmac.new(_key(), f"{purpose}:{message}".encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(LENGTH):
        number, index = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[index])
    return "".join(chars)


def keyed_digest(purpose: str, code: str) -> str:
    """The digest stored for looking a code up; compare codes only through it."""
    return hmac.new(_key(), f"{purpose}:{code}".encode(), hashlib.sha256).hexdigest()


def normalise(raw: str) -> str | None:
    """The code as typed ("abcd-efgh 2345") in canonical form, or None if it cannot be one."""
    text = "".join(ch for ch in (raw or "").upper() if not ch.isspace() and ch not in "-_.·")
    if len(text) != LENGTH or any(ch not in ALPHABET for ch in text):
        return None
    return text


def grouped(code: str) -> str:
    """``ABCDEFGHJKMN`` → ``ABCD-EFGH-JKMN``, as printed on the slip."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))
