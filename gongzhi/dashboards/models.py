"""KPI rollups of resident requests, fed incrementally from the request events.

``KpiRollup`` holds one row per month × area node × dimension value: the counters and
duration buckets of ``gongzhi.dashboards.kpi.Tally``. Every request counts in each area on
its path (county, town, community, grid), so any area's KPI table is read from a handful of
rows without touching the tickets. ``TicketFact`` is what the consumer remembers of each
request between batches; ``RollupCursor`` is how far it has read.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RollupCursor(models.Model):
    """How far a consumer has read the append-only request events."""

    name = models.CharField(_("name"), max_length=40, unique=True)
    # The highest event id consumed; every event at or below it is counted, except the ids in
    # ``gaps`` (not committed yet when the consumer passed them: looked for again until they
    # turn up or expire).
    position = models.BigIntegerField(_("last event"), default=0)
    gaps = models.JSONField(_("events not seen yet"), default=dict, blank=True)
    events_done = models.BigIntegerField(_("events consumed"), default=0)
    updated_at = models.DateTimeField(_("updated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("rollup cursor")
        verbose_name_plural = _("rollup cursors")

    def __str__(self) -> str:
        return f"{self.name} @ {self.position}"


class TicketFact(models.Model):
    """The consumer's memory of one request: where it counts, and the state of its fold
    (current lead unit, whether it was closed before, which tasks replied) so a second close
    or reply is not counted twice. Excluded requests count nowhere."""

    ticket = models.OneToOneField(
        "tickets.Ticket",
        verbose_name=_("request"),
        primary_key=True,
        related_name="+",
        on_delete=models.CASCADE,
    )
    category = models.ForeignKey(
        "orgs.ServiceCategory", verbose_name=_("category"), related_name="+", on_delete=models.PROTECT
    )
    area_path = models.CharField(_("area path"), max_length=255, blank=True)
    reported_at = models.DateTimeField(_("reported at"))
    lead_unit = models.ForeignKey(
        "orgs.Organisation",
        verbose_name=_("lead unit"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    closed = models.BooleanField(_("closed before"), default=False)
    replied_tasks = models.JSONField(_("tasks replied"), default=list, blank=True)
    excluded_by = models.CharField(_("excluded by"), max_length=24, blank=True)

    class Meta:
        verbose_name = _("request fact")
        verbose_name_plural = _("request facts")

    def __str__(self) -> str:
        return f"#{self.ticket_id}"


class KpiRollup(models.Model):
    """Counters of one month in one area for one dimension value (all, a unit, a category)."""

    class Dimension(models.TextChoices):
        ALL = "all", _("All requests")
        UNIT = "unit", _("Member unit")
        CATEGORY = "category", _("Category")

    month = models.DateField(_("month"))  # the first day of the month, local time
    area = models.ForeignKey("orgs.Area", verbose_name=_("area"), related_name="+", on_delete=models.PROTECT)
    dimension = models.CharField(_("dimension"), max_length=8, choices=Dimension.choices)
    key = models.BigIntegerField(_("unit or category id"), default=0)

    reported = models.IntegerField(_("reported"), default=0)
    tasks = models.IntegerField(_("tasks dispatched"), default=0)
    signed = models.IntegerField(_("tasks signed for"), default=0)
    signed_in_time = models.IntegerField(_("signed for in time"), default=0)
    replied = models.IntegerField(_("tasks replied"), default=0)
    replied_on_time = models.IntegerField(_("replied on time"), default=0)
    closed = models.IntegerField(_("closed"), default=0)
    rated = models.IntegerField(_("followed up"), default=0)
    resolved = models.IntegerField(_("resolved"), default=0)
    partly = models.IntegerField(_("partly resolved"), default=0)
    unresolved = models.IntegerField(_("not resolved"), default=0)
    satisfied = models.IntegerField(_("satisfied"), default=0)
    basic = models.IntegerField(_("basically satisfied"), default=0)
    dissatisfied = models.IntegerField(_("dissatisfied"), default=0)
    reopened = models.IntegerField(_("reopened"), default=0)
    # Duration buckets (see gongzhi.dashboards.kpi): {"bucket": count}
    sign_hist = models.JSONField(_("time to sign for"), default=dict, blank=True)
    close_hist = models.JSONField(_("time to close"), default=dict, blank=True)

    class Meta:
        verbose_name = _("KPI rollup")
        verbose_name_plural = _("KPI rollups")
        constraints = [
            models.UniqueConstraint(fields=["area", "dimension", "month", "key"], name="kpi_rollup_cell")
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.area_id} {self.dimension}:{self.key}"
