"""Masking of personal data for display (PIPL: show the minimum)."""

from __future__ import annotations


def mask_phone(phone: str | None) -> str:
    """``13812341234`` → ``138****1234``; short numbers keep only their last two digits."""
    if not phone:
        return ""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) >= 7:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) > 2:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "*" * len(digits)


def mask_name(name: str | None) -> str:
    """``张志毅`` → ``张**``: for public pages that must not name residents."""
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


class MaskedPhoneMixin:
    """For models with a ``phone`` field: ``masked_phone`` is what pages show by default."""

    phone: str

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)
