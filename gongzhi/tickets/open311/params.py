"""Reading what an Open311 client sent. Every problem becomes an ``Open311Error`` that the
view turns into the spec's error list; an empty optional parameter counts as absent.

Error descriptions are English on purpose: this is a machine interface and its clients log
them; the spec asks only that they be human readable.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from django.utils import timezone

# Spec: a query covers at most 90 days and returns at most 1,000 requests.
MAX_SPAN = dt.timedelta(days=90)
MAX_PAGE_SIZE = 1000
MAX_PAGE = 1_000_000
MAX_IDS = 1000
COORDINATE = Decimal("0.000001")
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")


class Open311Error(Exception):
    """A request the endpoint cannot fulfil: HTTP ``status`` and one or more descriptions."""

    def __init__(self, status: int, *descriptions: str, headers: dict[str, str] | None = None) -> None:
        super().__init__("; ".join(descriptions))
        self.status = status
        self.descriptions = list(descriptions)
        self.headers = headers or {}


def value(params: Any, name: str) -> str:
    """The parameter stripped of surrounding blanks; "" when absent or empty."""
    return (params.get(name) or "").strip()


def comma_list(params: Any, name: str) -> list[str]:
    """A comma-delimited parameter, which may also be repeated (``status=open&status=closed``)."""
    items: list[str] = []
    for raw in params.getlist(name):
        items.extend(part.strip() for part in raw.split(","))
    return list(dict.fromkeys(item for item in items if item))


def datetime_param(params: Any, name: str) -> dt.datetime | None:
    """A W3C date-time with its time zone (``2010-01-01T00:00:00Z``), or a bare date taken as
    midnight in the server's time zone."""
    raw = value(params, name)
    if not raw:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            raise Open311Error(400, f"{name} is not a valid date: {raw!r}.") from None
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    try:
        parsed = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise Open311Error(
            400, f"{name} must be a W3C date-time such as 2010-01-01T00:00:00Z, not {raw!r}."
        ) from None
    if parsed.tzinfo is None:
        raise Open311Error(400, f"{name} must include a time zone (Z or an offset such as +08:00).")
    return parsed


@dataclass(frozen=True)
class Window:
    start: dt.datetime
    end: dt.datetime


def window(params: Any, now: dt.datetime) -> Window:
    """The ``start_date``/``end_date`` range: the last 90 days by default, never longer."""
    start, end = datetime_param(params, "start_date"), datetime_param(params, "end_date")
    if start is None and end is None:
        end = now
    if start is None:
        assert end is not None
        start = end - MAX_SPAN
    if end is None:
        end = start + MAX_SPAN
    if end < start:
        raise Open311Error(400, "end_date is before start_date.")
    if end - start > MAX_SPAN:
        raise Open311Error(400, "start_date and end_date may not span more than 90 days.")
    return Window(start, end)


def positive_int(params: Any, name: str, default: int, maximum: int) -> int:
    raw = value(params, name)
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise Open311Error(400, f"{name} must be a whole number of at least 1, not {raw!r}.")
    if int(raw) > maximum:
        raise Open311Error(400, f"{name} may be at most {maximum}.")
    return int(raw)


@dataclass(frozen=True)
class Page:
    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


def page(params: Any) -> Page:
    """The ``page``/``page_size`` extension: 1,000 per page at most, as the spec's limit."""
    return Page(
        positive_int(params, "page", 1, MAX_PAGE),
        positive_int(params, "page_size", MAX_PAGE_SIZE, MAX_PAGE_SIZE),
    )


def as_id(raw: str) -> int | None:
    """A row id, or None for text that cannot be one (not a whole number, or too large)."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        return None
    return int(raw)


def ids(params: Any, name: str = "service_request_id") -> list[int] | None:
    """The requested ids, or None when the parameter is absent. Ids that cannot exist (not
    whole numbers) are dropped: they simply match nothing."""
    items = comma_list(params, name)
    if not items:
        return None
    if len(items) > MAX_IDS:
        raise Open311Error(400, f"At most {MAX_IDS} {name} values at once.")
    return [number for number in map(as_id, items) if number is not None]


def _coordinate(raw: str, name: str, limit: int) -> Decimal:
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise Open311Error(400, f"{name} must be a number in WGS84 degrees, not {raw!r}.") from None
    if not number.is_finite() or not math.isfinite(float(number)) or abs(number) > limit:
        raise Open311Error(400, f"{name} must lie between -{limit} and {limit} degrees.")
    return number.quantize(COORDINATE, rounding=ROUND_HALF_EVEN)


def location(params: Any) -> tuple[Decimal | None, Decimal | None, str]:
    """``lat`` and ``long`` (both or neither) and ``address_string``; at least one is needed."""
    lat_raw, long_raw = value(params, "lat"), value(params, "long")
    address = value(params, "address_string")
    if bool(lat_raw) != bool(long_raw):
        raise Open311Error(400, "lat and long must be sent together.")
    lat = _coordinate(lat_raw, "lat", 90) if lat_raw else None
    long = _coordinate(long_raw, "long", 180) if long_raw else None
    if lat is None and not address:
        if value(params, "address_id"):
            raise Open311Error(400, "address_id is not supported here: send lat and long, or address_string.")
        raise Open311Error(400, "A location is required: lat and long, or address_string.")
    return lat, long, address


def attributes(params: Any, multi_codes: Sequence[str] = ()) -> dict[str, Any]:
    """``attribute[code]=value`` pairs. The several-choice questions in ``multi_codes`` take
    ``attribute[code][]=a&attribute[code][]=b`` (or a repeated ``attribute[code]``) and get a
    list; any other question keeps one value, the last one sent."""
    answers: dict[str, Any] = {}
    for key in params:
        match = _ATTRIBUTE.match(key)
        if match is None:
            continue
        code = match.group(1)
        values = [item.strip() for item in params.getlist(key) if item.strip()]
        if not values:
            continue
        if code in multi_codes:
            answers[code] = [*answers.get(code, []), *values]
        else:
            answers[code] = values[-1]
    return answers
