"""Opinions raised in a consultation, their categories, and the replies that answer them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.consultations.models.consultation import Consultation, Household, Response


class OpinionCategory(models.Model):
    """A kind of opinion (pipes, roof, parking…): a list the county configures."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("opinion category")
        verbose_name_plural = _("opinion categories")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class Outcome(models.TextChoices):
    ACCEPTED = "accepted", _("Adopted")
    EXPLAINED = "explained", _("Explained")
    REJECTED = "rejected", _("Not adopted")


class Opinion(models.Model):
    """An opinion on the plan, from a household or raised at a meeting: a tracked item."""

    class State(models.TextChoices):
        NEW = "new", _("Not assigned")
        ASSIGNED = "assigned", _("Assigned")
        DRAFTED = "drafted", _("Reply drafted")
        ANSWERED = "answered", _("Answered")

    class Source(models.TextChoices):
        PHONE_PAGE = "phone_page", _("Resident's phone")
        PAPER = "paper", _("Signed paper form")
        DOOR_TO_DOOR = "door_to_door", _("Door-to-door visit")
        PHONE_CALL = "phone_call", _("By phone")
        MEETING = "meeting", _("Discussion meeting")

    consultation = models.ForeignKey(
        Consultation, verbose_name=_("consultation"), related_name="opinions", on_delete=models.CASCADE
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        null=True,
        blank=True,
        related_name="opinions",
        on_delete=models.PROTECT,
    )
    response = models.ForeignKey(
        Response,
        verbose_name=_("response"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    compound = models.ForeignKey(
        "housing.Compound",
        verbose_name=_("compound"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    building = models.ForeignKey(
        "housing.Building",
        verbose_name=_("building"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    category = models.ForeignKey(
        OpinionCategory, verbose_name=_("category"), related_name="opinions", on_delete=models.PROTECT
    )
    text = models.TextField(_("opinion"), max_length=2000)
    source = models.CharField(_("source"), max_length=14, choices=Source.choices)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.NEW)
    assignee = models.ForeignKey(
        "orgs.Organisation",
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        related_name="consultation_opinions",
        on_delete=models.PROTECT,
    )
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    # The compound's community path, or the consultation's when the opinion has no place.
    area_path = models.CharField(_("area path"), max_length=255)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    created_at = models.DateTimeField(_("raised at"))

    class Meta:
        verbose_name = _("opinion")
        verbose_name_plural = _("opinions")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["consultation", "state"], name="opinion_state_idx"),
            models.Index(fields=["assignee", "state"], name="opinion_assignee_idx"),
            models.Index(
                fields=["area_path", "id"],
                name="opinion_path_idx",
                opclasses=["varchar_pattern_ops", "int8_ops"],
            ),
        ]

    def __str__(self) -> str:
        text = " ".join(self.text.split())
        return f"#{self.pk} {text[:29] + '…' if len(text) > 30 else text}"

    @property
    def is_answered(self) -> bool:
        return self.state == self.State.ANSWERED

    def audit_area_path(self) -> str:
        return self.area_path


class ReplyTemplate(models.Model):
    """A reusable reply, e.g. "the drainage pipes are replaced in every building"."""

    name = models.CharField(_("name"), max_length=80)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    text = models.TextField(_("reply"), max_length=2000)
    category = models.ForeignKey(
        OpinionCategory,
        verbose_name=_("category"),
        null=True,
        blank=True,
        related_name="templates",
        on_delete=models.SET_NULL,
    )
    active = models.BooleanField(_("in use"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("reply template")
        verbose_name_plural = _("reply templates")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class BulkReply(models.Model):
    """One bulk reply: the same answer published to many opinions at once. Its key makes
    submitting the same form twice publish nothing more."""

    key = models.CharField(_("key"), max_length=64, unique=True)
    consultation = models.ForeignKey(
        Consultation, verbose_name=_("consultation"), related_name="bulk_replies", on_delete=models.CASCADE
    )
    template = models.ForeignKey(
        ReplyTemplate,
        verbose_name=_("template"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    text = models.TextField(_("reply"), max_length=2000)
    count = models.PositiveIntegerField(_("opinions answered"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("bulk reply")
        verbose_name_plural = _("bulk replies")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.key} ({self.count})"


class Reply(models.Model):
    """A reply to an opinion: a draft until it is published; a published reply is never
    changed (a correction is a later reply)."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    opinion = models.ForeignKey(
        Opinion, verbose_name=_("opinion"), related_name="replies", on_delete=models.CASCADE
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    text = models.TextField(_("reply"), max_length=2000)
    # What the public page shows in place of the resident's own words (no names, no rooms).
    summary = models.CharField(_("opinion as published"), max_length=300, blank=True)
    # The body that answers, as the public page names it ("县住建局"), never a person.
    by_label = models.CharField(_("answered by"), max_length=120, blank=True)
    template = models.ForeignKey(
        ReplyTemplate,
        verbose_name=_("template"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    batch = models.ForeignKey(
        BulkReply,
        verbose_name=_("bulk reply"),
        null=True,
        blank=True,
        related_name="replies",
        on_delete=models.PROTECT,
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    drafted_at = models.DateTimeField(_("drafted at"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        verbose_name = _("reply")
        verbose_name_plural = _("replies")
        ordering = ["opinion", "id"]
        constraints = [
            models.UniqueConstraint(fields=["opinion"], condition=Q(state="draft"), name="one_draft_reply"),
        ]
        indexes = [models.Index(fields=["state", "published_at"], name="reply_published_idx")]

    def __str__(self) -> str:
        return f"{self.opinion_id} {self.state} {self.outcome}"

    def audit_area_path(self) -> str:
        return self.opinion.area_path
