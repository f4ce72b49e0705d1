"""API keys of partner systems (Open311 clients, the REST intake): issue, check, revoke.

A key is shown once, when it is created; only its SHA-256 is stored. The key starts with its
public prefix (``gz3f9a01c2.…``) so an administrator can tell keys apart in ``list`` without
the secret. Checking a key looks its hash up through the unique index, so no stored secret
is ever compared character by character.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.audit import record_change
from gongzhi.tickets.models import ApiKey

KEY_PREFIX = "gz"
# Longer inputs are not keys we issued; refuse them before hashing.
MAX_KEY_LENGTH = 128
# ``last_used_at`` is a hint for administrators, so it is written at most this often per key.
TOUCH_EVERY = dt.timedelta(minutes=5)


def _digest(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()


@transaction.atomic
def create(name: str, *, now: dt.datetime | None = None) -> tuple[ApiKey, str]:
    """Issue a key for the partner ``name``. Returns the stored row and the plain key, which
    is not kept anywhere and cannot be shown again. Called by ``gongzhi open311-key create``."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the key a name (the partner system it is for).")})
    if len(name) > ApiKey._meta.get_field("name").max_length:  # type: ignore[operator]
        raise ValidationError({"name": _("The name is too long.")})
    if ApiKey.objects.filter(name=name).exists():
        raise ValidationError({"name": _("A key named “%(name)s” already exists.") % {"name": name}})
    now = now or timezone.now()
    for _attempt in range(5):
        prefix = KEY_PREFIX + secrets.token_hex(3)
        raw_key = f"{prefix}.{secrets.token_urlsafe(32)}"
        try:
            with transaction.atomic():
                key = ApiKey.objects.create(
                    name=name, prefix=prefix, key_hash=_digest(raw_key), created_at=now
                )
        except IntegrityError:
            if ApiKey.objects.filter(name=name).exists():
                raise ValidationError(
                    {"name": _("A key named “%(name)s” already exists.") % {"name": name}}
                ) from None
            continue  # the random prefix was taken: draw another
        record_change(None, "tickets.apikey.create", key, after={"name": name, "prefix": prefix})
        return key, raw_key
    raise RuntimeError("could not draw an unused key prefix")


def verify(raw_key: str) -> ApiKey | None:
    """The unrevoked key ``raw_key`` belongs to, or None. Marks the key as used."""
    if not raw_key or len(raw_key) > MAX_KEY_LENGTH:
        return None
    digest = _digest(raw_key)
    key = ApiKey.objects.filter(key_hash=digest, revoked_at__isnull=True).first()
    if key is None or not hmac.compare_digest(key.key_hash, digest):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


@transaction.atomic
def revoke(name: str, *, now: dt.datetime | None = None) -> ApiKey:
    """Revoke the key named ``name`` at once; it can never be used again. Revoking a revoked
    key changes nothing. Raises ``ApiKey.DoesNotExist`` for an unknown name."""
    key = ApiKey.objects.select_for_update().get(name=(name or "").strip())
    if key.revoked_at is None:
        key.revoked_at = now or timezone.now()
        key.save(update_fields=["revoked_at"])
        record_change(None, "tickets.apikey.revoke", key, after={"revoked_at": key.revoked_at.isoformat()})
    return key
