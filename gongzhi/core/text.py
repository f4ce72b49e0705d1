"""Free text typed into a form, checked the same way everywhere."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_TEXT = 2000


def clean_text(value: Any, field: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    """The text stripped; a ValidationError naming ``field`` when it is missing, too long or
    holds a character the database cannot store."""
    text = str(value or "").strip()
    if "\x00" in text:
        raise ValidationError({field: _("The text contains a character that cannot be stored.")})
    if required and not text:
        raise ValidationError({field: _("This field is required.")})
    if len(text) > limit:
        raise ValidationError(
            {field: _("At most %(n)s characters (this has %(m)s).") % {"n": limit, "m": len(text)}}
        )
    return text
