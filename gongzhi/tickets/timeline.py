"""The timeline of a request in plain words, for the resident and for staff.

Each event becomes one sentence ("国网岱山县供电公司 signed for it"). The resident sees the
public events; a member unit never sees who rated it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from gongzhi.tickets import workflow as W
from gongzhi.tickets.models import Attachment, Ticket, TicketEvent


@dataclass
class Line:
    at: Any
    text: str
    note: str = ""
    who: str = ""
    public: bool = True
    photos: list[Attachment] = field(default_factory=list)
    action: str = ""


def _units(ids: list[int], names: dict[int, str]) -> str:
    return "、".join(names.get(i, "?") for i in ids)


def sentence(event: TicketEvent, ticket: Ticket, names: dict[int, str]) -> str:
    """One event as a sentence; ``names`` maps unit ids to names."""
    d = event.data or {}
    who = event.actor_label
    a = event.action
    if a == "report":
        channel = Ticket.Channel(d.get("channel", ticket.channel)).label
        return _("Request received (via %(channel)s).") % {"channel": channel}
    if a == "accept":
        return _("%(who)s accepted the request.") % {"who": who}
    if a == "reject":
        return _("%(who)s did not accept the request.") % {"who": who}
    if a == "dispatch":
        if d.get("co"):
            return _("Sent to %(lead)s to lead, with %(co)s helping.") % {
                "lead": names.get(d.get("lead", 0), "?"),
                "co": _units(d["co"], names),
            }
        return _("Sent to %(lead)s to handle.") % {"lead": names.get(d.get("lead", 0), "?")}
    if a == "task_accept":
        return _("%(unit)s signed for it.") % {"unit": names.get(d.get("unit", 0), who)}
    if a == "task_start":
        return _("%(unit)s started work.") % {"unit": names.get(d.get("unit", 0), who)}
    if a == "task_reply":
        return _("%(unit)s reported the result.") % {"unit": names.get(d.get("unit", 0), who)}
    if a == "replied":
        return _("All units have replied; waiting for the on-site check.")
    if a in ("unit_accept", "start"):
        return _("The lead unit is working on it.") if a == "start" else _("The lead unit signed for it.")
    if a == "verify":
        return _("%(who)s checked the result on site.") % {"who": who}
    if a == "send_back":
        return _("%(who)s found it not yet done and sent it back.") % {"who": who}
    if a == "close":
        return _("The request is closed as done.")
    if a == "rate":
        return _("Follow-up: %(resolution)s, %(satisfaction)s.") % {
            "resolution": Ticket.Resolution(d.get("resolution", "resolved")).label,
            "satisfaction": Ticket.Satisfaction(d.get("satisfaction", "satisfied")).label,
        }
    if a == "reopen":
        return _("Reopened and sent back to %(lead)s.") % {"lead": names.get(d.get("lead", 0), "?")}
    if a == "unreachable":
        return _("The reporter could not be reached for the follow-up.")
    if a == "archive":
        return _("Archived.")
    if a == "withdraw":
        return _("Withdrawn.")
    if a == "merge":
        return _("Merged into request #%(id)s; you will hear its outcome.") % {"id": d.get("parent", "?")}
    if a == "merged_in":
        return _("Another report of the same problem was merged into this one.")
    if a == "me_too":
        return _("Another resident reported the same problem (%(n)s in all).") % {"n": d.get("count", "?")}
    if a == "partner_update":
        return _("Update from %(who)s.") % {"who": who}
    if a == "refer":
        return _("Referred to the joint meeting of member units.")
    if a in W.MEETING_ACTIONS or a == "redispatch":
        return _meeting_sentence(a, d, names)
    if a == "supervise":
        return _("Supervision raised to level %(level)s.") % {"level": d.get("level", "?")}
    if a == "warn":
        return _("Time limit %(pct)s%% used.") % {"pct": d.get("pct", "?")}
    if a == "overdue":
        return _("Overdue.")
    if a in ("request_unreasonable", "unreasonable", "refuse_unreasonable"):
        return {
            "request_unreasonable": _("Asked to mark the request unreasonable."),
            "unreasonable": _("Marked unreasonable (approved by a second person)."),
            "refuse_unreasonable": _("Marking it unreasonable was refused."),
        }[a]
    if a.startswith("task_"):
        labels = {
            "task_request_extension": _("%(unit)s asked for more time."),
            "task_extend": _("%(unit)s was given more time."),
            "task_refuse_extension": _("More time for %(unit)s was refused."),
            "task_request_return": _("%(unit)s asked to hand it back for reassignment."),
            "task_return": _("%(unit)s handed it back; it will be reassigned."),
            "task_refuse_return": _("%(unit)s must keep handling it."),
            "task_cancel": _("The task of %(unit)s was cancelled."),
            "task_send_back": _("%(unit)s must work on it again."),
        }
        return labels.get(a, a) % {"unit": names.get(d.get("unit", 0), who)}
    if a == "note":
        return _("%(who)s added a note.") % {"who": who}
    return str(W.State(event.to_state).label) if event.to_state in W.State.values else a


def _meeting_sentence(a: str, d: dict[str, Any], names: dict[int, str]) -> str:
    """What a meeting did about the request; ``d`` holds the names and dates as written."""
    if a == "agenda":
        return _("Put on the agenda of %(meeting)s on %(date)s.") % d
    if a == "meeting_resolution":
        if d.get("referral_answered"):
            return _("%(meeting)s answered the referral with a resolution.") % d
        return _("%(meeting)s passed a resolution on it.") % d
    if a == "action_item":
        return _("%(meeting)s gave %(owner)s the task “%(title)s”, due %(deadline)s.") % d
    if a == "action_done":
        return _("%(owner)s finished “%(title)s”.") % d
    if a == "action_overdue":
        return _("“%(title)s” (%(owner)s) is overdue: the deadline was %(deadline)s.") % d
    if a == "action_carried":
        return _("“%(title)s” is not done yet and is back on the agenda of %(meeting)s.") % d
    lead = names.get(d.get("lead", 0), "?")
    if d.get("co"):
        return _("As the meeting agreed, sent to %(lead)s to lead, with %(co)s helping.") % {
            "lead": lead,
            "co": _units(d["co"], names),
        }
    return _("As the meeting agreed, sent to %(lead)s to handle.") % {"lead": lead}


def build(ticket: Ticket, *, audience: str) -> list[Line]:
    """The timeline for ``audience``: "public" (the reporter), "unit" or "desk"."""
    events = list(
        ticket.events.select_related("task__unit").prefetch_related("attachments").order_by("at", "id")
    )
    from gongzhi.orgs.models import Organisation

    unit_ids: set[int] = set()
    for e in events:
        d = e.data or {}
        for key in ("lead", "unit"):
            if isinstance(d.get(key), int):
                unit_ids.add(d[key])
        unit_ids.update(i for i in d.get("co", []) if isinstance(i, int))
    names = dict(Organisation.objects.filter(pk__in=unit_ids).values_list("pk", "name"))
    lines = []
    for e in events:
        if audience == "public" and not e.public:
            continue
        who = e.actor_label
        if audience == "unit" and e.action in ("rate", "report", "me_too"):
            who = ""  # the unit never learns who reported or rated
        lines.append(
            Line(
                at=e.at,
                text=sentence(e, ticket, names),
                note=e.note if (audience != "public" or e.action not in ("note",)) else "",
                who=who,
                public=e.public,
                photos=list(e.attachments.all()),
                action=e.action,
            )
        )
    return lines
