"""Owner identity for imports: the same owner imported twice is found again, not duplicated."""

from __future__ import annotations

import hashlib


def owner_identity_key(kind: str, name: str, phone: str, scope: str = "") -> str:
    """Stable key of an owner from kind, name and phone.

    Without a phone, two people of the same name are told apart only by ``scope`` (the
    compound code), so a nameless-phone owner never merges across compounds.
    """
    phone = "".join(ch for ch in phone if ch.isdigit() or ch == "-")
    if not phone and not scope:
        raise ValueError("an owner without a phone needs a scope")
    raw = f"{kind}|{name.strip()}|{phone}|{'' if phone else scope}"
    return hashlib.sha256(raw.encode()).hexdigest()
