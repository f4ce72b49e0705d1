"""One row per request for analysis in a spreadsheet: CSV streamed, .xlsx in write-only mode.

Rows come through the policy's ``export`` scope and are read in keyset batches (ids first,
then the batch with its joins and its co-units: a fixed number of queries per batch), so
memory stays flat whatever the number of rows. No reporter's name, phone, e-mail or account
is in the export, and no description (residents write their phone numbers into it). Text
that a spreadsheet could take for a formula is written inert.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill

from gongzhi.core.paths import under
from gongzhi.dashboards.queries import Period
from gongzhi.housing.importing.workbooks import FORMULA_STARTS, safe_cell
from gongzhi.orgs import policy
from gongzhi.orgs.models import Area
from gongzhi.tickets import workflow as W
from gongzhi.tickets.models import Task, Ticket

BATCH_SIZE = 1000
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="9C2A2A")
_LIST_SEPARATOR = "、"


@dataclass(frozen=True)
class Labels:
    """Column titles and value labels in the requester's language, fixed before streaming
    starts (a streamed body is produced after the view has returned)."""

    headers: tuple[str, ...]
    states: dict[str, str]
    channels: dict[str, str]
    resolutions: dict[str, str]
    satisfactions: dict[str, str]
    yes: str
    no: str

    @classmethod
    def current(cls) -> Labels:
        return cls(
            headers=(
                _("Request"),
                _("Reported at"),
                _("Accepted at"),
                _("Dispatched at"),
                _("Unit signed for it at"),
                _("Replied at"),
                _("Verified at"),
                _("Closed at"),
                _("Resolved?"),
                _("Satisfaction"),
                _("Channel"),
                _("Lead unit"),
                _("Co-units"),
                _("Times reopened"),
                _("Category"),
                _("Compound"),
                _("Grid"),
                _("State"),
                _("Overdue"),
            ),
            states={k: str(v) for k, v in W.State.choices},
            channels={k: str(v) for k, v in Ticket.Channel.choices},
            resolutions={k: str(v) for k, v in Ticket.Resolution.choices},
            satisfactions={k: str(v) for k, v in Ticket.Satisfaction.choices},
            yes=_("Yes"),
            no=_("No"),
        )


def export_queryset(user: Any, *, area: Area | None = None, period: Period | None = None) -> QuerySet[Ticket]:
    """The requests ``user`` may export, narrowed to an area and to those reported in a period."""
    qs = policy.scope(user, "ticket", policy.EXPORT)
    if area is not None:
        qs = qs.filter(under("area_path", area.path))
    if period is not None:
        zone = timezone.get_default_timezone()
        qs = qs.filter(
            created_at__gte=dt.datetime.combine(period.start, dt.time(), zone),
            created_at__lt=dt.datetime.combine(period.after_end, dt.time(), zone),
        )
    return qs


def is_overdue(ticket: Any, now: dt.datetime) -> bool:
    """Flagged by the sweep, replied after its due time, or still open past it. ``ticket``
    is a Ticket or a row with the same field names."""
    if ticket.overdue:
        return True
    if ticket.due_at is None:
        return False
    if ticket.replied_at is not None:
        return ticket.replied_at > ticket.due_at
    return ticket.state in W.OPEN_STATES and now > ticket.due_at


# The columns the export reads: plain values, no model instances (a million of them is most
# of an export's time) and none of the request's long text.
_ROW_FIELDS = (
    "pk",
    "created_at",
    "accepted_at",
    "dispatched_at",
    "unit_accepted_at",
    "replied_at",
    "verified_at",
    "closed_at",
    "resolution",
    "satisfaction",
    "channel",
    "lead_unit__name",
    "reopen_count",
    "category__name",
    "compound__name",
    "grid__name",
    "state",
    "overdue",
    "due_at",
)


def _co_units(ids: Sequence[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = defaultdict(list)
    rows = (
        Task.objects.filter(ticket_id__in=ids, role=Task.Role.CO)
        .order_by("ticket_id", "id")
        .values_list("ticket_id", "unit__name")
    )
    for ticket_id, name in rows:
        if name not in names[ticket_id]:
            names[ticket_id].append(name)
    return names


def iter_rows(
    qs: QuerySet[Ticket], labels: Labels, *, batch_size: int = BATCH_SIZE, now: dt.datetime | None = None
) -> Iterator[list[Any]]:
    """The export rows of ``qs`` in id order, read ``batch_size`` at a time by keyset."""
    now = now or timezone.now()
    last = 0
    while True:
        ids = list(qs.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return
        co = _co_units(ids)
        batch = Ticket.objects.filter(pk__in=ids).order_by("pk").values_list(*_ROW_FIELDS, named=True)
        for t in batch:
            yield [
                t.pk,
                t.created_at,
                t.accepted_at,
                t.dispatched_at,
                t.unit_accepted_at,
                t.replied_at,
                t.verified_at,
                t.closed_at,
                labels.resolutions.get(t.resolution, ""),
                labels.satisfactions.get(t.satisfaction, ""),
                labels.channels.get(t.channel, t.channel),
                t.lead_unit__name or "",
                _LIST_SEPARATOR.join(co.get(t.pk, [])),
                t.reopen_count,
                t.category__name,
                t.compound__name or "",
                t.grid__name or "",
                labels.states.get(t.state, t.state),
                labels.yes if is_overdue(t, now) else labels.no,
            ]
        last = ids[-1]


def _local(value: dt.datetime) -> dt.datetime:
    """Spreadsheets know no time zones: local wall-clock time, without the zone."""
    return timezone.localtime(value, timezone.get_default_timezone()).replace(tzinfo=None)


# ------------------------------------------------------------------------------ CSV


def csv_text(value: Any) -> str:
    """One CSV field; text a spreadsheet would read as a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return _local(value).strftime("%Y-%m-%d %H:%M")
    text = str(value)
    if isinstance(value, str) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class _Line:
    """A file-like sink for ``csv.writer`` that hands back the line it was given."""

    def write(self, value: str) -> str:
        return value


def csv_chunks(rows: Iterator[Sequence[Any]], labels: Labels) -> Iterator[bytes]:
    """The CSV file in pieces: UTF-8 with a byte-order mark, which Excel needs to read Chinese."""
    writer = csv.writer(_Line())
    yield "\ufeff".encode()
    yield writer.writerow([csv_text(h) for h in labels.headers]).encode()
    for row in rows:
        yield writer.writerow([csv_text(v) for v in row]).encode()


# ------------------------------------------------------------------------------ Excel


def write_xlsx(rows: Iterator[Sequence[Any]], labels: Labels, out: IO[bytes]) -> int:
    """Write the rows as .xlsx (write-only: rows go to disk as they come); return how many."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Requests"))
    sheet.freeze_panes = "A2"
    header = []
    for title in labels.headers:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in rows:
        sheet.append([safe_cell(sheet, _local(v) if isinstance(v, dt.datetime) else v) for v in row])
        count += 1
    book.save(out)
    return count
