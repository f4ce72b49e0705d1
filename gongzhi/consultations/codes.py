"""Response codes printed on the households' slips (see ``core.slipcodes``).

Each household has a random salt; its code is derived from the salt, so a slip can be
printed again, and reissuing a code is drawing a new salt.
"""

from __future__ import annotations

import secrets

from gongzhi.core import slipcodes
from gongzhi.core.slipcodes import ALPHABET as ALPHABET
from gongzhi.core.slipcodes import LENGTH as LENGTH
from gongzhi.core.slipcodes import grouped as grouped
from gongzhi.core.slipcodes import normalise as normalise


def new_salt() -> str:
    return secrets.token_hex(16)


def code_for(salt: str) -> str:
    """The household's code for its salt (deterministic for one key)."""
    return slipcodes.derive("consultation-code", salt)


def digest_of(code: str) -> str:
    """The keyed digest stored for lookup; compare codes only through it."""
    return slipcodes.keyed_digest("consultation-digest", code)
