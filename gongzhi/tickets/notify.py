"""Notifications: queued as rows in the same transaction as the change, delivered later by
``gongzhi deliver-notifications`` (or the sweep) through one adapter per channel.

A request never waits for an SMS gateway: actions only insert ``Notification`` rows. The
worker claims due rows, calls the channel's backend, and retries failures with backoff
(1, 5, 30, 120 minutes) before giving up. Adapters are set in ``GONGZHI_NOTIFY_BACKENDS``;
WeChat template messages are an adapter point a deployment fills in.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from gongzhi.tickets.models import Notification

log = logging.getLogger(__name__)
BACKOFF_MINUTES = (1, 5, 30, 120)


class DeliveryError(Exception):
    """A backend could not deliver; the worker retries later."""


class InboxBackend:
    """In-app inbox: the row itself is the message; delivering it just marks it sent."""

    def send(self, note: Notification) -> None:
        if note.recipient_id is None:
            raise DeliveryError("inbox message without a recipient")


class EmailBackend:
    def send(self, note: Notification) -> None:
        if not note.address:
            raise DeliveryError("no e-mail address")
        send_mail(note.subject, note.body + ("\n" + note.url if note.url else ""), None, [note.address])


class ConsoleSmsBackend:
    """Prints SMS to standard output: the default until a gateway is configured."""

    def send(self, note: Notification) -> None:
        if not note.address:
            raise DeliveryError("no phone number")
        sys.stdout.write(f"[SMS to {note.address}] {note.body}\n")


class WeChatTemplateBackend:
    """Adapter point for WeChat template messages. A deployment sets
    ``GONGZHI_WECHAT_BACKEND`` to a class with ``send(note)`` that calls its own account."""

    def send(self, note: Notification) -> None:
        raise DeliveryError("WeChat template messages are not configured on this deployment")


def backend_for(channel: str) -> Any:
    return import_string(settings.GONGZHI_NOTIFY_BACKENDS[channel])()


def enqueue(
    *,
    channel: str,
    subject: str,
    body: str,
    recipient: Any = None,
    address: str = "",
    ticket: Any = None,
    url: str = "",
    now: dt.datetime | None = None,
) -> Notification | None:
    """Queue one message. Returns None when there is nobody to send it to."""
    if channel == Notification.Channel.INBOX and recipient is None:
        return None
    if channel != Notification.Channel.INBOX and not address:
        return None
    now = now or timezone.now()
    return Notification.objects.create(
        recipient=recipient,
        channel=channel,
        address=address,
        subject=subject[:200],
        body=body,
        url=url[:200],
        ticket=ticket,
        created_at=now,
        send_after=now,
    )


def deliver_pending(limit: int = 500, now: dt.datetime | None = None) -> dict[str, int]:
    """Deliver due notifications once. Safe to run in several workers at the same time:
    each row is claimed under a row lock (skipped by the others on PostgreSQL)."""
    now = now or timezone.now()
    counts = {"sent": 0, "retry": 0, "failed": 0}
    backends: dict[str, Any] = {}
    skip_locked = connection.features.has_select_for_update_skip_locked
    for _ in range(limit):
        with transaction.atomic():
            qs = Notification.objects.filter(
                sent_at__isnull=True, failed_at__isnull=True, send_after__lte=now
            )
            if skip_locked:
                qs = qs.select_for_update(skip_locked=True)
            note = qs.order_by("send_after", "id").first()
            if note is None:
                break
            backend = backends.get(note.channel) or backends.setdefault(
                note.channel, backend_for(note.channel)
            )
            note.attempts += 1
            try:
                backend.send(note)
            except Exception as exc:  # noqa: BLE001 - any adapter failure is retried, then given up
                note.last_error = f"{type(exc).__name__}: {exc}"[:300]
                if note.attempts > len(BACKOFF_MINUTES):
                    note.failed_at = now
                    counts["failed"] += 1
                else:
                    note.send_after = now + dt.timedelta(minutes=BACKOFF_MINUTES[note.attempts - 1])
                    counts["retry"] += 1
                log.warning("notification %s not delivered: %s", note.pk, note.last_error)
            else:
                note.sent_at = now
                counts["sent"] += 1
            note.save(update_fields=["attempts", "last_error", "failed_at", "send_after", "sent_at"])
    return counts
