"""The hot-issue early warning (热点问题预警): patterns in residents' requests and opinions
that a joint meeting or a discussion hall should take up, each with the exact reason it fired.

Pure: no Django import, so the rules are easy to test exhaustively. ``detect`` takes plain
``Signal`` rows (built from the database by ``warnings.signals_in``), the thresholds and the
time, and returns ``Warning`` rows sorted most urgent first.

The window is half-open: the current window is ``(now − window_days, now]`` and the previous
one ``(now − 2 × window_days, now − window_days]``. A signal exactly ``window_days`` old is
therefore out of the current window and counts in the previous one; a signal dated after
``now`` counts in neither.

Rules, over the signals that belong to a compound (a request on a street counts only for the
single-request reopen rule):

* ``cluster`` — at least ``cluster_min`` signals of one category in one compound in the window;
* ``building`` — at least ``building_cluster_min`` of one category in one building, unless the
  compound's cluster fired on exactly the same signals (it would say nothing new);
* ``rise`` — at least ``rise_min`` of one category in one compound in the window, and at least
  ``rise_factor`` times as many as in the previous window (exact rational arithmetic; from
  nothing before counts as a rise);
* ``reopen`` — one request reopened at least ``reopen_min`` times, reported or changed in the
  window;
* ``reopens`` — at least ``compound_reopen_min`` reopenings in total among a compound's
  requests reported or changed in the window, unless they all belong to one request that has
  its own ``reopen`` warning;
* ``dispute`` — at least ``dispute_min`` signals of one compound in the window that are
  disputes: a request in a dispute category (or flagged as one), a request rated
  dissatisfied, or an opinion answered "not adopted".

Explanations and titles are ``(template, values)`` pairs: the template is an English msgid of
``hotissue_texts`` (marked there for ``makemessages``), translated and filled in by the
web side (``warnings.explain``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from gongzhi.meetings.hotissue_texts import EXPLAIN, RULE_LABELS, TITLE

__all__ = ["OPINION", "RULES", "TICKET", "Signal", "Thresholds", "Warning", "detect", "parse_codes"]

TICKET, OPINION = "ticket", "opinion"
CLUSTER, BUILDING, RISE = "cluster", "building", "rise"
REOPEN, REOPENS, DISPUTE = "reopen", "reopens", "dispute"
# Rule order breaks ties of urgency: disputes and stuck requests before mere volume.
RULES = (DISPUTE, REOPEN, REOPENS, RISE, CLUSTER, BUILDING)
KEY_MAX = 120

Values = dict[str, str | int]
Text = tuple[str, Values]


@dataclass(frozen=True)
class Signal:
    """One resident request or one consultation opinion, as the rules see it.

    ``at`` is when it was reported; ``active_at`` (requests) when it last changed, so that an
    old request reopened recently still counts for the reopen rules. ``dispute`` marks a
    signal that is itself contested (an opinion answered "not adopted"); requests in a dispute
    category are recognised by ``Thresholds.dispute_categories``. ``area_path`` is the
    compound's path when there is a compound, else the signal's own.
    """

    source: str
    id: int
    compound_id: int | None
    compound_name: str
    building_id: int | None
    building_label: str
    category_code: str
    category_name: str
    at: dt.datetime
    reopen_count: int = 0
    dispute: bool = False
    dissatisfied: bool = False
    area_path: str = ""
    active_at: dt.datetime | None = None


def parse_codes(text: str) -> frozenset[str]:
    """Category codes from a comma-separated setting (blanks and spaces ignored)."""
    return frozenset(code.strip() for code in text.split(",") if code.strip())


@dataclass(frozen=True)
class Thresholds:
    window_days: int = 30
    cluster_min: int = 5
    building_cluster_min: int = 3
    rise_min: int = 4
    rise_factor: Decimal = Decimal(2)
    reopen_min: int = 2
    compound_reopen_min: int = 3
    dispute_min: int = 2
    dispute_categories: frozenset[str] = frozenset({"disputes"})


@dataclass(frozen=True)
class Warning:  # the domain's word; the builtin of that name is not used in this module
    """One warning: what fired, where, on which signals, and why (``explanation``).

    ``count`` is what was measured (signals, or reopenings for the reopen rules) and is what a
    dismissal remembers; ``previous_count`` is the previous window's, for ``rise`` only.
    """

    key: str
    rule: str
    compound_id: int | None
    compound_name: str
    building_id: int | None
    building_label: str | None
    category_code: str | None
    category_name: str | None
    count: int
    threshold: int
    previous_count: int | None
    ticket_ids: tuple[int, ...]
    opinion_ids: tuple[int, ...]
    area_path: str
    first_at: dt.datetime
    last_at: dt.datetime
    explanation: Text
    title: Text

    @property
    def urgency(self) -> Fraction:
        """How far past its threshold the warning is (1: exactly at it)."""
        return Fraction(self.count, max(self.threshold, 1))

    @property
    def label(self) -> str:
        """The rule's name (a msgid)."""
        return RULE_LABELS[self.rule]


class _Group:
    """Signals gathered under one key: ids by source, first and last time, sub-counts."""

    __slots__ = ("count", "first", "last", "opinions", "parts", "tickets")

    def __init__(self) -> None:
        self.count = 0
        self.tickets: list[int] = []
        self.opinions: list[int] = []
        self.first: dt.datetime | None = None
        self.last: dt.datetime | None = None
        self.parts: dict[str, int] = {}

    def add(self, s: Signal, weight: int = 1, part: str = "") -> None:
        self.count += weight
        (self.tickets if s.source == TICKET else self.opinions).append(s.id)
        self.first = s.at if self.first is None or s.at < self.first else self.first
        self.last = s.at if self.last is None or s.at > self.last else self.last
        if part:
            self.parts[part] = self.parts.get(part, 0) + 1

    def ids(self) -> frozenset[tuple[str, int]]:
        return frozenset([(TICKET, i) for i in self.tickets] + [(OPINION, i) for i in self.opinions])


def _is_dispute(s: Signal, categories: frozenset[str]) -> str:
    """Which kind of dispute ``s`` is ("disputes", "dissatisfied", "rejected"), or "".

    Each signal counts once: a request in a dispute category that was also rated dissatisfied
    counts as a dispute-category request."""
    if s.source == OPINION:
        return "rejected" if s.dispute or s.dissatisfied else ""
    if s.dispute or s.category_code in categories:
        return "disputes"
    return "dissatisfied" if s.dissatisfied else ""


def _decimal_text(value: Decimal) -> str:
    """2.00 → "2", 1.50 → "1.5" (never exponent notation)."""
    return format(Decimal(value).normalize(), "f")


@dataclass
class _Pass:
    """Everything one pass over the signals gathers, keyed by compound, building, category."""

    t: Thresholds
    now: dt.datetime
    compounds: dict[int, tuple[str, str]] = field(default_factory=dict)
    buildings: dict[int, str] = field(default_factory=dict)
    categories: dict[str, tuple[bool, str]] = field(default_factory=dict)
    current: dict[tuple[int, str], _Group] = field(default_factory=dict)
    previous: dict[tuple[int, str], int] = field(default_factory=dict)
    in_building: dict[tuple[int, str], tuple[int, _Group]] = field(default_factory=dict)
    disputes: dict[int, _Group] = field(default_factory=dict)
    reopens: dict[int, _Group] = field(default_factory=dict)
    reopened: list[Signal] = field(default_factory=list)

    def see(self, s: Signal) -> None:
        """Remember the names, choosing the same ones whatever order the signals come in."""
        if s.compound_id is not None:
            seen = (s.compound_name, s.area_path)
            self.compounds[s.compound_id] = min(self.compounds.get(s.compound_id, seen), seen)
        if s.building_id is not None:
            label = s.building_label
            self.buildings[s.building_id] = min(self.buildings.get(s.building_id, label), label)
        # A request's category name wins over an opinion's of the same code.
        name = (s.source != TICKET, s.category_name)
        self.categories[s.category_code] = min(self.categories.get(s.category_code, name), name)

    def gather(self, signals: Iterable[Signal]) -> None:
        t, now = self.t, self.now
        window = dt.timedelta(days=t.window_days)
        start, previous_start = now - window, now - 2 * window
        for s in signals:
            self.see(s)
            in_window = start < s.at <= now
            active = in_window or (s.active_at is not None and start < s.active_at <= now)
            if s.source == TICKET and s.reopen_count > 0 and active:
                if s.reopen_count >= t.reopen_min:
                    self.reopened.append(s)
                if s.compound_id is not None:
                    self.reopens.setdefault(s.compound_id, _Group()).add(s, weight=s.reopen_count)
            if s.compound_id is None:
                continue
            key = (s.compound_id, s.category_code)
            if in_window:
                self.current.setdefault(key, _Group()).add(s, part=s.source)
                if s.building_id is not None:
                    place = (s.building_id, s.category_code)
                    self.in_building.setdefault(place, (s.compound_id, _Group()))[1].add(s, part=s.source)
                kind = _is_dispute(s, t.dispute_categories)
                if kind:
                    self.disputes.setdefault(s.compound_id, _Group()).add(s, part=kind)
            elif previous_start < s.at <= start:
                self.previous[key] = self.previous.get(key, 0) + 1

    def warning(
        self,
        rule: str,
        key: str,
        group: _Group,
        compound_id: int | None,
        threshold: int,
        values: Values,
        *,
        title: Values,
        building_id: int | None = None,
        category_code: str | None = None,
        previous_count: int | None = None,
        area_path: str = "",
    ) -> Warning:
        name, compound_path = self.compounds[compound_id] if compound_id is not None else ("", "")
        assert group.first is not None and group.last is not None
        return Warning(
            key=key[:KEY_MAX],
            rule=rule,
            compound_id=compound_id,
            compound_name=name,
            building_id=building_id,
            building_label=self.buildings[building_id] if building_id is not None else None,
            category_code=category_code,
            category_name=self.categories[category_code][1] if category_code is not None else None,
            count=group.count,
            threshold=threshold,
            previous_count=previous_count,
            ticket_ids=tuple(sorted(group.tickets)),
            opinion_ids=tuple(sorted(group.opinions)),
            area_path=compound_path or area_path,
            first_at=group.first,
            last_at=group.last,
            explanation=(EXPLAIN[rule], {**values, "threshold": threshold}),
            title=(TITLE[rule], title),
        )

    def category_warnings(self) -> list[Warning]:
        """``cluster``, ``rise`` and ``building``."""
        t, found = self.t, []
        factor = Fraction(t.rise_factor)
        clusters: dict[tuple[int, str], frozenset[tuple[str, int]]] = {}
        for (compound_id, code), group in self.current.items():
            place: Values = {"compound": self.compounds[compound_id][0], "category": self.categories[code][1]}
            counts: Values = {**place, "count": group.count, "days": t.window_days}
            mix: Values = {"tickets": group.parts.get(TICKET, 0), "opinions": group.parts.get(OPINION, 0)}
            if group.count >= t.cluster_min:
                clusters[compound_id, code] = group.ids()
                found.append(
                    self.warning(
                        CLUSTER,
                        f"cluster:c{compound_id}:cat:{code}",
                        group,
                        compound_id,
                        t.cluster_min,
                        {**counts, **mix},
                        title=place,
                        category_code=code,
                    )
                )
            before = self.previous.get((compound_id, code), 0)
            # count ≥ factor × before with factor = p/q, as count × q ≥ p × before: exact.
            if group.count >= t.rise_min and group.count * factor.denominator >= factor.numerator * before:
                found.append(
                    self.warning(
                        RISE,
                        f"rise:c{compound_id}:cat:{code}",
                        group,
                        compound_id,
                        t.rise_min,
                        {**counts, "previous": before, "factor": _decimal_text(t.rise_factor)},
                        title=place,
                        category_code=code,
                        previous_count=before,
                    )
                )
        for (building_id, code), (compound_id, group) in self.in_building.items():
            if group.count < t.building_cluster_min or clusters.get((compound_id, code)) == group.ids():
                continue  # below the threshold, or the compound's cluster already says exactly this
            place = {
                "compound": self.compounds[compound_id][0],
                "building": self.buildings[building_id],
                "category": self.categories[code][1],
            }
            found.append(
                self.warning(
                    BUILDING,
                    f"building:b{building_id}:cat:{code}",
                    group,
                    compound_id,
                    t.building_cluster_min,
                    {
                        **place,
                        "count": group.count,
                        "days": t.window_days,
                        "tickets": group.parts.get(TICKET, 0),
                        "opinions": group.parts.get(OPINION, 0),
                    },
                    title=place,
                    building_id=building_id,
                    category_code=code,
                )
            )
        return found

    def reopen_warnings(self) -> list[Warning]:
        """``reopen`` per request and ``reopens`` per compound."""
        t, found = self.t, []
        for s in self.reopened:
            group = _Group()
            group.add(s, weight=s.reopen_count)
            found.append(
                self.warning(
                    REOPEN,
                    f"reopen:t{s.id}",
                    group,
                    s.compound_id,
                    t.reopen_min,
                    {"ticket": s.id, "count": s.reopen_count},
                    title={"ticket": s.id},
                    area_path=s.area_path,
                )
            )
        warned = {s.id for s in self.reopened}
        for compound_id, group in self.reopens.items():
            if group.count < t.compound_reopen_min:
                continue
            if len(group.tickets) == 1 and group.tickets[0] in warned:
                continue  # one request, whose own warning says exactly this
            compound = self.compounds[compound_id][0]
            values: Values = {
                "compound": compound,
                "count": group.count,
                "requests": len(group.tickets),
                "days": t.window_days,
            }
            found.append(
                self.warning(
                    REOPENS,
                    f"reopens:c{compound_id}",
                    group,
                    compound_id,
                    t.compound_reopen_min,
                    values,
                    title={"compound": compound},
                )
            )
        return found

    def dispute_warnings(self) -> list[Warning]:
        t, found = self.t, []
        for compound_id, group in self.disputes.items():
            if group.count < t.dispute_min:
                continue
            compound = self.compounds[compound_id][0]
            values: Values = {
                "compound": compound,
                "count": group.count,
                "days": t.window_days,
                **{kind: group.parts.get(kind, 0) for kind in ("disputes", "dissatisfied", "rejected")},
            }
            found.append(
                self.warning(
                    DISPUTE,
                    f"dispute:c{compound_id}",
                    group,
                    compound_id,
                    t.dispute_min,
                    values,
                    title={"compound": compound},
                )
            )
        return found


def detect(signals: Iterable[Signal], thresholds: Thresholds, now: dt.datetime) -> list[Warning]:
    """Every warning the signals raise at ``now``, most urgent first.

    One pass over the signals into dictionaries, then one pass over the groups: linear in the
    number of signals. The result does not depend on the order of ``signals``.
    """
    gathered = _Pass(thresholds, now)
    gathered.gather(signals)
    found = gathered.category_warnings() + gathered.reopen_warnings() + gathered.dispute_warnings()
    found.sort(key=_urgency_order)
    return found


def _urgency_order(w: Warning) -> tuple[Fraction, int, float, str]:
    """Furthest past its threshold first; then by rule; then the most recent; then by key."""
    return (-w.urgency, RULES.index(w.rule), -w.last_at.timestamp(), w.key)
