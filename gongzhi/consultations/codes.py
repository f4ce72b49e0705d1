"""Response codes printed on the households' slips.

A code is 12 characters from an alphabet without look-alikes (no 0/O, 1/I/L), about 59
bits: guessing one is hopeless at the rate the pages allow. The code is derived from a
random per-household salt and the server's key, so a slip can be printed again at any
time, while the database holds only a keyed digest to look a code up by. A copy of the
database without the key gives no code away. Rotating the key invalidates the codes of
open consultations: reissue them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 12
GROUP = 4


def _key() -> bytes:
    return (getattr(settings, "GONGZHI_CODE_KEY", "") or settings.SECRET_KEY).encode()


def new_salt() -> str:
    return secrets.token_hex(16)


def code_for(salt: str) -> str:
    """The household's code for its salt (deterministic for one key)."""
    digest = hmac.new(_key(), b"consultation-code:" + salt.encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(LENGTH):
        number, index = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[index])
    return "".join(chars)


def digest_of(code: str) -> str:
    """The keyed digest stored for lookup; compare codes only through it."""
    return hmac.new(_key(), b"consultation-digest:" + code.encode(), hashlib.sha256).hexdigest()


def normalise(raw: str) -> str | None:
    """The code as typed ("abcd-efgh 2345") in canonical form, or None if it cannot be one."""
    text = "".join(ch for ch in (raw or "").upper() if not ch.isspace() and ch not in "-_.·")
    if len(text) != LENGTH or any(ch not in ALPHABET for ch in text):
        return None
    return text


def grouped(code: str) -> str:
    """``ABCDEFGHJKMN`` → ``ABCD-EFGH-JKMN``, as printed on the slip."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))
