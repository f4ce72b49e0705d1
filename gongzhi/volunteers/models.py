"""Volunteer activities, hours and points; party members' posts from a needs list.

Hours and points are separate balances (DOMAIN §5). Hours come only from an activity the
organiser has verified as done, at most ``GONGZHI_MAX_HOURS_PER_ACTIVITY`` per activity;
points are earned from those hours (``GONGZHI_POINTS_PER_HOUR``), given as a bonus or
deducted with evidence, and redeemed. Redeeming reduces points, never hours. Both ledgers
are append-only; each points entry carries the person's balance after it, never negative.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core.models import AppendOnlyModel, user_fk


class Activity(models.Model):
    class Kind(models.TextChoices):
        CLEANUP = "cleanup", _("Environment clean-up")
        PROJECT_SHIFT = "project_shift", _("Project labour shift")
        VISIT = "visit", _("Visiting elderly residents")
        PATROL = "patrol", _("Safety patrol")
        OTHER = "other", _("Other service")

    class State(models.TextChoices):
        OPEN = "open", _("Open for sign-up")
        VERIFIED = "verified", _("Done and verified")
        CANCELLED = "cancelled", _("Cancelled")

    title = models.CharField(_("title"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    community = models.ForeignKey(
        "orgs.Area", verbose_name=_("community"), related_name="activities", on_delete=models.PROTECT
    )
    compound = models.ForeignKey(
        "housing.Compound",
        verbose_name=_("compound"),
        null=True,
        blank=True,
        related_name="activities",
        on_delete=models.PROTECT,
    )
    project = models.ForeignKey(
        "projects.Project",
        verbose_name=_("project"),
        null=True,
        blank=True,
        related_name="shifts",
        on_delete=models.PROTECT,
    )
    organiser = models.ForeignKey(
        "orgs.Organisation",
        verbose_name=_("organised by"),
        related_name="activities",
        on_delete=models.PROTECT,
    )
    place = models.CharField(_("place"), max_length=120)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    capacity = models.PositiveSmallIntegerField(_("places"), default=20)
    # The code on the QR poster at the venue: scanning it checks the volunteer in or out.
    checkin_code = models.CharField(max_length=24, unique=True)
    area_path = models.CharField(_("area path"), max_length=255, db_index=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    verified_by = user_fk(_("verified by"))
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    created_by = user_fk(_("created by"))
    created_at = models.DateTimeField(_("created at"))
    version = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("volunteer activity")
        verbose_name_plural = _("volunteer activities")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="activity_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="activity_capacity_positive"),
        ]

    def __str__(self) -> str:
        return self.title

    def audit_area_path(self) -> str:
        return self.area_path


class SignUp(models.Model):
    activity = models.ForeignKey(Activity, related_name="signups", on_delete=models.CASCADE)
    person = models.ForeignKey("orgs.Person", related_name="signups", on_delete=models.PROTECT)
    signed_up_at = models.DateTimeField(_("signed up at"))
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    recorded_by = user_fk(_("recorded by"))

    class Meta:
        ordering = ["signed_up_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "person"],
                condition=Q(cancelled_at__isnull=True),
                name="signup_active_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person_id} → {self.activity_id}"


class Attendance(models.Model):
    class Method(models.TextChoices):
        QR = "qr", _("QR code at the venue")
        STAFF = "staff", _("Recorded by staff")

    activity = models.ForeignKey(Activity, related_name="attendances", on_delete=models.CASCADE)
    person = models.ForeignKey("orgs.Person", related_name="attendances", on_delete=models.PROTECT)
    checked_in_at = models.DateTimeField(_("checked in"))
    checked_in_by = models.CharField(_("check-in"), max_length=8, choices=Method.choices)
    checked_out_at = models.DateTimeField(_("checked out"), null=True, blank=True)
    checked_out_by = models.CharField(_("check-out"), max_length=8, choices=Method.choices, blank=True)
    recorded_by = user_fk(_("recorded by"))

    class Meta:
        ordering = ["checked_in_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "person"], name="attendance_once"),
            models.CheckConstraint(
                condition=Q(checked_out_at__isnull=True) | Q(checked_out_at__gt=models.F("checked_in_at")),
                name="attendance_out_after_in",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} @ {self.activity_id}"


class HoursEntry(AppendOnlyModel):
    """Volunteer time credited for one verified activity."""

    person = models.ForeignKey("orgs.Person", related_name="hours_entries", on_delete=models.PROTECT)
    activity = models.ForeignKey(Activity, related_name="hours_entries", on_delete=models.PROTECT)
    minutes_present = models.PositiveIntegerField(_("minutes present"))
    minutes_counted = models.PositiveIntegerField(_("minutes counted"))
    verified_by = user_fk(_("verified by"))
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["person", "activity"], name="hours_once_per_activity"),
            models.CheckConstraint(
                condition=Q(minutes_counted__lte=models.F("minutes_present")), name="hours_counted_le_present"
            ),
        ]


class PointsAccount(models.Model):
    """Running totals of one person, locked while an entry is written."""

    person = models.OneToOneField("orgs.Person", related_name="points_account", on_delete=models.PROTECT)
    minutes = models.PositiveIntegerField(_("volunteer minutes"), default=0)
    points = models.DecimalField(_("points"), max_digits=10, decimal_places=1, default=0)
    entries_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(points__gte=0), name="points_account_not_negative")]

    def __str__(self) -> str:
        return f"{self.person_id}: {self.points}"


class PointsEntry(AppendOnlyModel):
    class Kind(models.TextChoices):
        EARN = "earn", _("Earned by verified service")
        BONUS = "bonus", _("Bonus")
        DEDUCT = "deduct", _("Deduction")
        REDEEM = "redeem", _("Redeemed")

    person = models.ForeignKey("orgs.Person", related_name="points_entries", on_delete=models.PROTECT)
    seq = models.PositiveIntegerField()
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    points = models.DecimalField(_("points"), max_digits=10, decimal_places=1)
    balance_after = models.DecimalField(_("balance after"), max_digits=10, decimal_places=1)
    hours = models.OneToOneField(
        HoursEntry, null=True, blank=True, related_name="points_entry", on_delete=models.PROTECT
    )
    reason = models.CharField(_("reason"), max_length=200)
    evidence = models.TextField(_("evidence"), max_length=2000)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("approved by"), related_name="+", on_delete=models.PROTECT
    )
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["person", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["person", "seq"], name="points_seq_unique"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="points_balance_not_negative"),
            # Points are earned only from credited hours of verified work.
            models.CheckConstraint(
                condition=Q(kind="earn", hours__isnull=False, points__gte=0)
                | Q(kind="bonus", hours__isnull=True, points__gt=0)
                | Q(kind__in=["deduct", "redeem"], hours__isnull=True, points__lt=0),
                name="points_kind_sign",
            ),
        ]


class Post(models.Model):
    """A need on the community's list that a registered party member can take on
    ("residents order, the branch assigns, members take")."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    community = models.ForeignKey(
        "orgs.Area", verbose_name=_("community"), related_name="+", on_delete=models.PROTECT
    )
    compound = models.ForeignKey(
        "housing.Compound",
        verbose_name=_("compound"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    branch = models.ForeignKey(
        "orgs.Organisation",
        verbose_name=_("assigned by branch"),
        null=True,
        blank=True,
        related_name="posts",
        on_delete=models.PROTECT,
    )
    title = models.CharField(_("post"), max_length=120)
    description = models.TextField(_("what it needs"), blank=True, max_length=2000)
    slots = models.PositiveSmallIntegerField(_("people needed"), default=1)
    area_path = models.CharField(_("area path"), max_length=255, db_index=True)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.OPEN)
    created_by = user_fk(_("listed by"))
    created_at = models.DateTimeField(_("listed at"))

    class Meta:
        verbose_name = _("service post")
        verbose_name_plural = _("service posts")
        ordering = ["-id"]
        constraints = [models.CheckConstraint(condition=Q(slots__gte=1), name="post_slots_positive")]

    def __str__(self) -> str:
        return self.title

    def audit_area_path(self) -> str:
        return self.area_path


class PostTaking(models.Model):
    post = models.ForeignKey(Post, related_name="takings", on_delete=models.CASCADE)
    person = models.ForeignKey("orgs.Person", related_name="posts_taken", on_delete=models.PROTECT)
    taken_at = models.DateTimeField(_("taken at"))
    recorded_by = user_fk(_("recorded by"))
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)

    class Meta:
        ordering = ["taken_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "person"], condition=Q(left_at__isnull=True), name="posttaking_active_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person_id} → {self.post_id}"
