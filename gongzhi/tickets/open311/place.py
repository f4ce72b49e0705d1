"""Finding the compound (and building) a partner's ``address_string`` names.

Open311 clients send free text, but routing needs a place in the registry: without one a
request reaches no grid and no desk. Chinese addresses name the compound outright
("育才新村1幢东侧路口"), so the longest registered compound name found in the text is
taken, provided no other name found is as long; a building number right after it
("1幢", "2栋", "3号楼") picks the building. Anything less certain is left to the desk.
"""

from __future__ import annotations

import re

from django.db.models import CharField, F, Value
from django.db.models.functions import Length

from gongzhi.housing.models import Building, Compound

MIN_NAME = 2
_BUILDING = re.compile(r"^\s*([0-9A-Za-z]+)\s*(?:幢|栋|号楼|号)")


def named_place(address: str) -> tuple[Compound | None, Building | None]:
    """The compound and building ``address`` names without doubt, else what it can."""
    text = (address or "").strip()
    if len(text) < MIN_NAME:
        return None, None
    candidates = list(
        Compound.objects.alias(text=Value(text, output_field=CharField()), name_length=Length("name"))
        .filter(text__contains=F("name"), name_length__gte=MIN_NAME)
        .order_by("-name_length", "id")[:2]
    )
    if not candidates or (len(candidates) == 2 and len(candidates[0].name) == len(candidates[1].name)):
        return None, None  # none, or two equally good: the desk decides
    compound = candidates[0]
    after = text[text.index(compound.name) + len(compound.name) :]
    match = _BUILDING.match(after)
    building = compound.buildings.filter(number=match.group(1)).first() if match else None
    return compound, building
