"""Consultations, their scope, questions and documents, and the households with their responses."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core.models import AppendOnlyModel


class Consultation(models.Model):
    """One round of a consultation; a follow-up round points at the first round (``series``)."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open for responses")
        CLOSED = "closed", _("Closed for responses")
        PUBLISHED = "published", _("Results published")

    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("plan"), max_length=20000, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    series = models.ForeignKey(
        "self",
        verbose_name=_("first round"),
        null=True,
        blank=True,
        related_name="later_rounds",
        on_delete=models.PROTECT,
    )
    round_number = models.PositiveSmallIntegerField(_("round"), default=1)
    # The share of households in scope that must be willing, as an exact fraction (2/3, 3/4, 9/10).
    threshold_num = models.PositiveSmallIntegerField(_("threshold numerator"), default=2)
    threshold_den = models.PositiveSmallIntegerField(_("threshold denominator"), default=3)
    opens_on = models.DateField(_("opens on"), null=True, blank=True)
    closes_on = models.DateField(_("planned close"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("responses closed at"), null=True, blank=True)
    results_published_at = models.DateTimeField(_("results published at"), null=True, blank=True)
    # Parts of the plan that rebuild, change common parts or levy money on all owners also need
    # an owners' decision (Civil Code Art. 278, items 6-8): say which, and link the decision.
    statutory_note = models.TextField(_("items needing an owners' decision"), max_length=4000, blank=True)
    decision = models.ForeignKey(
        "decisions.Decision",
        verbose_name=_("owners' decision"),
        null=True,
        blank=True,
        related_name="consultations",
        on_delete=models.PROTECT,
    )
    households_count = models.PositiveIntegerField(_("households in scope"), default=0)
    # The deepest area holding every compound in scope (a community, or the town above several).
    area_path = models.CharField(_("area path"), max_length=255)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["area_path", "id"],
                name="consultation_path_idx",
                opclasses=["varchar_pattern_ops", "int8_ops"],
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    threshold_num__gte=1, threshold_den__gte=1, threshold_num__lte=models.F("threshold_den")
                ),
                name="consultation_threshold_fraction",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def first_round(self) -> Consultation:
        return self.series if self.series_id else self  # type: ignore[return-value]

    @property
    def accepts_responses(self) -> bool:
        return self.state == self.State.OPEN

    def audit_area_path(self) -> str:
        return self.area_path


class ScopeItem(models.Model):
    """A compound in scope, whole (no building) or one building of it."""

    consultation = models.ForeignKey(
        Consultation, verbose_name=_("consultation"), related_name="scope_items", on_delete=models.CASCADE
    )
    compound = models.ForeignKey(
        "housing.Compound", verbose_name=_("compound"), related_name="+", on_delete=models.PROTECT
    )
    building = models.ForeignKey(
        "housing.Building",
        verbose_name=_("building"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )

    class Meta:
        verbose_name = _("scope item")
        verbose_name_plural = _("scope items")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["consultation", "compound", "building"], name="scope_item_once"),
            models.UniqueConstraint(
                fields=["consultation", "compound"],
                condition=Q(building__isnull=True),
                name="scope_whole_compound_once",
            ),
        ]
        indexes = [models.Index(fields=["compound", "consultation"], name="scope_compound_idx")]

    def __str__(self) -> str:
        return f"{self.consultation_id}: {self.compound_id}/{self.building_id or '*'}"


class Question(models.Model):
    """A question besides willingness (which is always asked): choices or free text."""

    class Kind(models.TextChoices):
        SINGLE = "single", _("One choice")
        MULTIPLE = "multiple", _("Several choices")
        TEXT = "text", _("Free text")

    consultation = models.ForeignKey(
        Consultation, verbose_name=_("consultation"), related_name="questions", on_delete=models.CASCADE
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    label = models.CharField(_("question"), max_length=200)
    # [{"key": "a", "label": "…"}, …] for the choice kinds
    options = models.JSONField(_("options"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=False)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["consultation", "order", "id"]

    def __str__(self) -> str:
        return self.label

    @property
    def option_keys(self) -> list[str]:
        return [str(o.get("key")) for o in self.options]


def document_path(instance: Document, filename: str) -> str:
    name = f"{instance.sha256}{instance.extension}"
    return f"consultations/{instance.created_at:%Y/%m}/{instance.sha256[:2]}/{name}"


class Document(models.Model):
    """A plan document (PDF) or image shown with the consultation; images lose their EXIF."""

    class Kind(models.TextChoices):
        IMAGE = "image", _("Image")
        PDF = "pdf", _("PDF document")

    consultation = models.ForeignKey(
        Consultation, verbose_name=_("consultation"), related_name="documents", on_delete=models.CASCADE
    )
    title = models.CharField(_("title"), max_length=120)
    kind = models.CharField(_("kind"), max_length=6, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to=document_path, max_length=200)
    content_type = models.CharField(_("type"), max_length=40)
    extension = models.CharField(_("extension"), max_length=8)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(_("checksum"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("plan document")
        verbose_name_plural = _("plan documents")
        ordering = ["consultation", "id"]

    def __str__(self) -> str:
        return self.title


class Willingness(models.TextChoices):
    WILLING = "willing", _("Willing")
    UNWILLING = "unwilling", _("Unwilling")
    UNDECIDED = "undecided", _("Undecided")


class Channel(models.TextChoices):
    PHONE_PAGE = "phone_page", _("Resident's phone")
    PAPER = "paper", _("Signed paper form")
    DOOR_TO_DOOR = "door_to_door", _("Door-to-door visit")
    PHONE_CALL = "phone_call", _("By phone")


STAFF_CHANNELS = (Channel.PAPER, Channel.DOOR_TO_DOOR, Channel.PHONE_CALL)


class Household(models.Model):
    """A household in scope, frozen when the consultation opens: one residential unit, its
    response code (kept only as a keyed digest) and its current response."""

    consultation = models.ForeignKey(
        Consultation, verbose_name=_("consultation"), related_name="households", on_delete=models.CASCADE
    )
    unit = models.ForeignKey(
        "housing.Unit", verbose_name=_("unit"), related_name="+", on_delete=models.PROTECT
    )
    building = models.ForeignKey(
        "housing.Building", verbose_name=_("building"), related_name="+", on_delete=models.PROTECT
    )
    compound = models.ForeignKey(
        "housing.Compound", verbose_name=_("compound"), related_name="+", on_delete=models.PROTECT
    )
    # The code is derived from this salt and the server's key when a slip is printed; only its
    # keyed digest is stored for lookup, so a copy of the database does not give the codes away.
    code_salt = models.CharField(_("code salt"), max_length=32)
    code_digest = models.CharField(_("code digest"), max_length=64, unique=True)
    willingness = models.CharField(_("willingness"), max_length=10, choices=Willingness.choices, blank=True)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    response_count = models.PositiveSmallIntegerField(_("responses"), default=0)
    latest_response = models.ForeignKey(
        "Response",
        verbose_name=_("current response"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )

    class Meta:
        verbose_name = _("household in scope")
        verbose_name_plural = _("households in scope")
        ordering = ["consultation", "building", "unit"]
        constraints = [models.UniqueConstraint(fields=["consultation", "unit"], name="household_once")]
        indexes = [
            models.Index(fields=["consultation", "building"], name="household_building_idx"),
            models.Index(fields=["consultation", "compound"], name="household_compound_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.consultation_id}/{self.unit_id}"

    @property
    def responded(self) -> bool:
        return bool(self.willingness)

    def audit_area_path(self) -> str:
        return self.compound.area_path


def paper_path(instance: Response, filename: str) -> str:
    return f"consultations/paper/{instance.created_at:%Y/%m}/{instance.photo_sha256[:2]}/{filename}"


class Response(AppendOnlyModel):
    """One response of a household, by any channel; never changed, only superseded."""

    household = models.ForeignKey(
        Household, verbose_name=_("household"), related_name="responses", on_delete=models.CASCADE
    )
    consultation = models.ForeignKey(
        Consultation, verbose_name=_("consultation"), related_name="responses", on_delete=models.CASCADE
    )
    version = models.PositiveSmallIntegerField(_("version"))
    willingness = models.CharField(_("willingness"), max_length=10, choices=Willingness.choices)
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    comment = models.TextField(_("comment"), max_length=2000, blank=True)
    channel = models.CharField(_("channel"), max_length=14, choices=Channel.choices)
    collector_name = models.CharField(_("collected by"), max_length=60, blank=True)
    collected_at = models.DateTimeField(_("collected at"), null=True, blank=True)
    staff_name = models.CharField(_("staff on the call"), max_length=60, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    photo = models.FileField(_("photo of the signed form"), upload_to=paper_path, max_length=200, blank=True)
    photo_content_type = models.CharField(max_length=40, blank=True)
    photo_sha256 = models.CharField(max_length=64, blank=True)
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        ordering = ["household", "version"]
        constraints = [models.UniqueConstraint(fields=["household", "version"], name="response_version_once")]

    def __str__(self) -> str:
        return f"{self.household_id} v{self.version} {self.willingness}"
