"""The one helper every action uses to leave an audit event.

``record_change`` must run inside the transaction that makes the change, so the event and
the change commit or roll back together. ``record_access`` logs reads of personal data and
exports; it needs no transaction of its own.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection, models
from django.http import HttpRequest

from gongzhi.core.models import AuditEvent


def _actor_fields(actor: Any) -> dict[str, Any]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return {"actor": None, "actor_label": "system" if actor is None else "anonymous"}
    return {"actor": actor, "actor_label": actor.get_username()}


def _object_fields(obj: models.Model | None, object_type: str = "") -> dict[str, Any]:
    if obj is None:
        return {"object_type": object_type, "object_id": "", "object_repr": "", "area_path": ""}
    return {
        "object_type": object_type or obj._meta.label_lower,
        "object_id": str(obj.pk),
        "object_repr": str(obj)[:200],
        "area_path": area_path_of(obj),
    }


def area_path_of(obj: models.Model) -> str:
    """Materialized area path an object belongs to, for scoping the audit log."""
    getter = getattr(obj, "audit_area_path", None)
    if callable(getter):
        return str(getter() or "")
    return str(getattr(obj, "path", "") or getattr(obj, "area_path", "") or "")


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address. Behind ``GONGZHI_PROXY_COUNT`` trusted reverse proxies it is the
    address the outermost of them saw, read from the right of X-Forwarded-For (entries to its
    left are whatever the client sent, and are not trusted)."""
    if request is None:
        return None
    proxies = getattr(settings, "GONGZHI_PROXY_COUNT", 0)
    if proxies:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR") or None


def record_change(
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    *,
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
    object_type: str = "",
    area_path: str | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Write the audit event of a change. Call it inside the change's own transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("record_change must be called inside the transaction of the change")
    fields = _object_fields(obj, object_type)
    if area_path is not None:
        fields["area_path"] = area_path
    return AuditEvent.objects.create(
        kind=AuditEvent.Kind.CHANGE,
        action=action,
        before=before,
        after=after,
        reason=reason,
        ip=client_ip(request),
        **_actor_fields(actor),
        **fields,
    )


def record_access(
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    *,
    kind: str = AuditEvent.Kind.ACCESS,
    reason: str = "",
    detail: dict | None = None,
    object_type: str = "",
    area_path: str | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Log an unmasked view of personal data or an export."""
    fields = _object_fields(obj, object_type)
    if area_path is not None:
        fields["area_path"] = area_path
    return AuditEvent.objects.create(
        kind=kind,
        action=action,
        after=detail,
        reason=reason,
        ip=client_ip(request),
        **_actor_fields(actor),
        **fields,
    )


def snapshot(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    """A JSON-safe summary of some fields, for the before/after of an audit event."""
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(obj, name)
        if isinstance(value, models.Model):
            value = value.pk
        out[name] = value if isinstance(value, (int, bool, type(None), float)) else str(value)
    return out
