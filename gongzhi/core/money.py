"""Amounts of money typed into forms: yuan with at most two decimals, never floats."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

CENT = Decimal("0.01")
# Digits with an optional sign and decimals: no exponents ("1e3"), no "NaN" or "Infinity".
_PLAIN = re.compile(r"[+-]?\d+(\.\d*)?|[+-]?\.\d+")


def max_amount() -> Decimal:
    """The largest amount one entry may hold; anything above is a typing mistake."""
    return Decimal(str(getattr(settings, "GONGZHI_MAX_AMOUNT", 10_000_000)))


def clean_amount(value: Any, field: str, *, allow_zero: bool = False) -> Decimal:
    """The amount as a Decimal in yuan; a ValidationError naming ``field`` when it is not a
    number, has more than two decimals, is negative (or zero) or absurdly large."""
    if isinstance(value, float):
        raise TypeError("amounts are never floats")
    text = str(value if value is not None else "").strip().replace(",", "").replace("，", "")
    text = text.removeprefix("¥").removeprefix("￥").strip()
    if not text:
        raise ValidationError({field: _("Enter an amount in yuan.")})
    if not _PLAIN.fullmatch(text):
        raise ValidationError({field: _("“%(value)s” is not an amount in yuan.") % {"value": text[:40]}})
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValidationError(
            {field: _("“%(value)s” is not an amount in yuan.") % {"value": text[:40]}}
        ) from None
    if not amount.is_finite():
        raise ValidationError({field: _("“%(value)s” is not an amount in yuan.") % {"value": text[:40]}})
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        raise ValidationError({field: _("At most two decimals (fen).")})
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationError({field: _("The amount must be more than zero.")})
    limit = max_amount()
    if amount > limit:
        raise ValidationError(
            {
                field: _("%(amount)s yuan is more than one entry may hold (%(limit)s yuan).")
                % {"amount": amount, "limit": limit}
            }
        )
    return amount.quantize(CENT)
