"""State changes of the housing registry. Each runs in one transaction with its audit event."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from gongzhi.core.audit import record_access, record_change, snapshot
from gongzhi.housing.models import Building, Compound, Owner, Resident, ServiceChannel
from gongzhi.orgs import policy

COMPOUND_FIELDS = ["name", "address", "year_built", "unmanaged", "open", "households_count"]


@transaction.atomic
def update_compound(actor: Any, compound: Compound, *, reason: str = "", **changes: Any) -> Compound:
    """Change a compound's descriptive fields. Callers: staff with ``change`` on the compound."""
    unknown = set(changes) - set(COMPOUND_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    compound = Compound.objects.select_for_update().get(pk=compound.pk)
    before = snapshot(compound, list(changes))
    for field, value in changes.items():
        setattr(compound, field, value)
    compound.full_clean(exclude=["community", "area_path"])
    compound.save()
    record_change(
        actor,
        "housing.compound.update",
        compound,
        before=before,
        after=snapshot(compound, list(changes)),
        reason=reason,
    )
    return compound


@transaction.atomic
def issue_qr_poster(actor: Any, compound: Compound, building: Building | None = None) -> ServiceChannel:
    """Open a QR-poster request channel for a building (or the whole compound).

    Re-issuing returns the active poster rather than printing a second code for the same
    door. Callers: staff and grid workers with ``change`` on channels of the compound.
    """
    if building is not None and building.compound_id != compound.pk:
        raise ValidationError({"building": _("The building is not in this compound.")})
    existing = ServiceChannel.objects.filter(
        compound=compound, building=building, kind=ServiceChannel.Kind.QR_POSTER, retired_at__isnull=True
    ).first()
    if existing is not None:
        return existing
    channel = ServiceChannel.objects.create(
        compound=compound, building=building, kind=ServiceChannel.Kind.QR_POSTER
    )
    record_change(actor, "housing.channel.issue", channel, after={"token": channel.token})
    return channel


def reveal_phone(
    actor: Any, person: Owner | Resident, *, reason: str, request: HttpRequest | None = None
) -> str:
    """Return the unmasked phone of an owner or resident and log who looked and why.

    Callers: users the policy allows ``reveal`` on that object; a reason is required.
    """
    if not reason.strip():
        raise ValidationError({"reason": _("Say why you need the full number.")})
    if not policy.can(actor, policy.REVEAL, person):
        raise PermissionDenied
    record_access(actor, "personal.phone.reveal", person, reason=reason.strip(), request=request)
    return person.phone
