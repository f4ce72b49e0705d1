"""The periodic sweep of action items and committee decisions (run from cron).

* An action item due within ``WARN_DAYS`` days gets one warning to its owner.
* An action item past its deadline and not done is marked overdue once: its event, the
  request's timeline, a notice to the owner and the convener, and the next meeting of the
  series (not yet held) gets it on its agenda.
* An owners' committee meeting held more than 3 days ago whose minutes are not signed off
  (so its decisions are not published) is reported to the convener, at most once a day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.meetings import actions as A
from gongzhi.meetings import resolutions as R
from gongzhi.meetings.models import ActionItem, ActionItemEvent, Meeting
from gongzhi.tickets.models import Notification

WARN_DAYS = 2


def _next_meeting(item: ActionItem, now: dt.datetime) -> Meeting | None:
    return (
        A.series(item.meeting)
        .filter(
            starts_at__gt=item.meeting.starts_at,
            state__in=[Meeting.State.DRAFT, Meeting.State.ANNOUNCED, Meeting.State.IN_SESSION],
        )
        .order_by("starts_at")
        .first()
    )


def _owner_users(item: ActionItem) -> list[Any]:
    users = A._users_of(item.assignee_org) if item.assignee_org is not None else []
    if item.assignee_person is not None and item.assignee_person.user is not None:
        users.append(item.assignee_person.user)
    return users


def warn_due(now: dt.datetime) -> int:
    today = timezone.localdate(now)
    due = ActionItem.objects.filter(
        warned=False, overdue=False, deadline__gte=today, deadline__lte=today + dt.timedelta(days=WARN_DAYS)
    ).exclude(state=ActionItem.State.DONE)
    n = 0
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            item = R._lock_item(ActionItem(pk=pk), None)
            if item.warned or item.is_done:
                continue
            item.warned = True
            item.save(update_fields=["warned"])
            ActionItemEvent.objects.create(
                item=item, action="warn", actor_label=_("System"), at=now, data=A._item_data(item)
            )
            A._tell(
                _owner_users(item),
                [],
                _("Action item due on %(deadline)s") % {"deadline": item.deadline.isoformat()},
                item.title,
                f"/meetings/actions/{item.pk}/",
                now,
            )
            n += 1
    return n


def mark_overdue(now: dt.datetime) -> tuple[int, int]:
    today = timezone.localdate(now)
    late = ActionItem.objects.filter(overdue=False, deadline__lt=today).exclude(state=ActionItem.State.DONE)
    marked = carried = 0
    for pk in late.values_list("pk", flat=True):
        with transaction.atomic():
            item = R._lock_item(ActionItem(pk=pk), None)
            if item.overdue or item.is_done:
                continue
            item.overdue = True
            item.version += 1
            item.save(update_fields=["overdue", "version"])
            data = A._item_data(item)
            ActionItemEvent.objects.create(
                item=item, action="overdue", actor_label=_("System"), at=now, data=data
            )
            A.tell_tickets(item, "action_overdue", label=A.convener_label(item.meeting), data=data, now=now)
            subject = _("Overdue action item: %(title)s") % {"title": item.title}
            body = _("%(owner)s was to finish it by %(deadline)s.") % data
            A._tell(
                _owner_users(item) + A._users_of(item.meeting.convener),
                [],
                subject,
                body,
                f"/meetings/actions/{item.pk}/",
                now,
            )
            marked += 1
            meeting = _next_meeting(item, now)
            if meeting is not None:
                locked = A._lock(meeting)
                carried += len(A.carry_open_items(locked, now=now))
    return marked, carried


def late_committee_decisions(now: dt.datetime) -> int:
    """Remind the convener of each owners' committee meeting whose decisions are past their
    3-day publication (minutes not signed off), at most once a day."""
    cutoff = now - dt.timedelta(days=A.PUBLISH_DAYS)
    held = Meeting.objects.filter(
        kind=Meeting.Kind.COMMITTEE,
        state__in=[Meeting.State.IN_SESSION, Meeting.State.ENDED],
        starts_at__lt=cutoff,
    ).select_related("convener")
    n = 0
    for meeting in held:
        due = A.publication_due(meeting)
        if due is None or due > now:
            continue
        url = A.meeting_url(meeting)
        if Notification.objects.filter(url=url, created_at__gt=now - dt.timedelta(hours=23)).exists():
            continue
        subject = _("Decisions of %(title)s not yet published") % {"title": meeting.title}
        body = _(
            "An owners' committee publishes its decisions within %(days)s days; sign off the minutes."
        ) % {"days": A.PUBLISH_DAYS}
        A._tell(A._users_of(meeting.convener), [], subject, body, url, now)
        n += 1
    return n


def sweep(now: dt.datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    marked, carried = mark_overdue(now)
    return {
        "warned": warn_due(now),
        "overdue": marked,
        "carried": carried,
        "late_committee_meetings": late_committee_decisions(now),
    }
