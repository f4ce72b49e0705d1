"""The other identity check for online voting: a one-time code sent by SMS to the phone
number the registry holds for the owner.

The page answers the same whether or not the number is known (no one learns who owns
what), codes live ten minutes in the cache, a number gets at most five tries per code, and
both the sending and the trying are rate-limited per address and per number.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from django.core.cache import cache
from django.db.models import Q
from django.utils.translation import gettext as _

from gongzhi.core import ratelimit
from gongzhi.decisions.models import Decision, Elector
from gongzhi.housing.models import Owner
from gongzhi.tickets.models import Notification
from gongzhi.tickets.notify import enqueue

CODE_TTL = 600
MAX_TRIES = 5
SEND_LIMIT = (3, 3600)  # per number
SESSION_KEY = "gongzhi_vote_phone"


def normalise_phone(text: str) -> str:
    digits = "".join(ch for ch in (text or "") if ch.isdigit())
    return digits[-11:] if len(digits) >= 11 else digits


def _key(phone: str) -> str:
    return "vote-otp:" + hashlib.sha256(phone.encode()).hexdigest()[:32]


def electors_of(phone: str) -> list[Elector]:
    """Units of open votes whose registered owner has this phone number."""
    if len(phone) != 11:
        return []
    owners = Owner.objects.filter(Q(phone=phone) | Q(phone__endswith=phone)).values("id")
    return list(
        Elector.objects.filter(decision__state=Decision.State.VOTING, unit__ownerships__owner__in=owners)
        .select_related("decision", "building")
        .distinct()
        .order_by("decision_id", "id")
    )


def send_code(phone: str, ip: str) -> None:
    """Queue an SMS with a fresh code if the number belongs to an owner in an open vote."""
    if not ratelimit.hit("vote-sms", phone, *SEND_LIMIT) or not electors_of(phone):
        return
    code = f"{secrets.randbelow(10**6):06d}"
    cache.set(_key(phone), {"code": code, "tries": 0}, CODE_TTL)
    enqueue(
        channel=Notification.Channel.SMS,
        address=phone,
        subject=_("Voting code"),
        body=_("Your code to vote online is %(code)s. It is valid for 10 minutes. Do not tell anyone.")
        % {"code": code},
    )


def check_code(phone: str, typed: str) -> bool:
    """True once for the right code; a wrong one uses up one of the tries."""
    state: dict[str, Any] | None = cache.get(_key(phone))
    if state is None or state["tries"] >= MAX_TRIES:
        return False
    if hmac.compare_digest(state["code"], "".join(ch for ch in typed if ch.isdigit())):
        cache.delete(_key(phone))
        return True
    state["tries"] += 1
    cache.set(_key(phone), state, CODE_TTL)
    return False
