"""Owners' decisions (业主共同决定) under Civil Code Art. 278.

A decision is prepared (party-led steps, notice), then voting opens: the electorate is
frozen as one ``Elector`` row per exclusive unit, with its area and its owner key (the
headcount rule of DOMAIN §2 is applied when the key is made). Every ballot entry is
append-only and chained by hash; the effective ballot of a unit is derived from its entries
by ``ballots.effective``. Results are append-only too: a recount is a new, linked result.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core.models import AppendOnlyModel
from gongzhi.housing.models import Building, Compound, Unit

MATTERS = [
    (1, _("1. Rules of procedure of the owners' assembly")),
    (2, _("2. Management statute")),
    (3, _("3. Elect or replace the owners' committee")),
    (4, _("4. Hire or dismiss a property manager")),
    (5, _("5. Use the maintenance fund")),
    (6, _("6. Raise the maintenance fund")),
    (7, _("7. Rebuild or reconstruct buildings and facilities")),
    (8, _("8. Change the use of common parts or run a business on them")),
    (9, _("9. Other major common matters")),
]


def document_path(instance: models.Model, filename: str) -> str:
    return f"decisions/{getattr(instance, 'decision_id', 'x')}/{filename}"


class Decision(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        NOTICE = "notice", _("Notice posted")
        VOTING = "voting", _("Voting")
        COUNTED = "counted", _("Counted")
        PUBLISHED = "published", _("Result published")

    class Precedence(models.TextChoices):
        # Which ballot counts when a unit has both a paper and an online one [practice].
        LATER = "later", _("The later valid ballot within the window")
        ONLINE = "online", _("The online ballot wins")

    compound = models.ForeignKey(
        Compound, verbose_name=_("compound"), related_name="decisions", on_delete=models.PROTECT
    )
    buildings = models.ManyToManyField(
        Building,
        verbose_name=_("buildings"),
        blank=True,
        related_name="decisions",
        help_text=_("Leave empty for the whole compound (e.g. a maintenance-fund scope of some buildings)."),
    )
    matter = models.PositiveSmallIntegerField(
        _("matter"), choices=MATTERS, validators=[MinValueValidator(1), MaxValueValidator(9)]
    )
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text of the proposal"))
    is_assembly = models.BooleanField(
        _("owners' assembly"), default=True, help_text=_("An assembly needs 15 days' notice.")
    )
    notice_days = models.PositiveSmallIntegerField(_("notice period (days)"), default=15)
    deemed_votes = models.BooleanField(
        _("deemed votes (follow the majority)"),
        default=False,
        help_text=_("Only where the compound's adopted rules contain it; reported beside the strict result."),
    )
    include_parking = models.BooleanField(_("parking spaces vote"), default=False)
    precedence = models.CharField(
        _("paper and online ballot precedence"),
        max_length=10,
        choices=Precedence.choices,
        default=Precedence.LATER,
    )
    objection_days = models.PositiveSmallIntegerField(_("objection period (days)"), default=7)
    notice_posted_at = models.DateTimeField(_("notice posted"), null=True, blank=True)
    committee_informed_at = models.DateTimeField(_("residents' committee informed"), null=True, blank=True)
    opens_at = models.DateTimeField(_("voting opens"), null=True, blank=True)
    closes_at = models.DateTimeField(_("voting closes"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    version = models.PositiveIntegerField(default=0)
    # Head of the ballot hash chain and its length; updated under the decision's row lock.
    chain_head = models.CharField(max_length=64, blank=True)
    chain_length = models.PositiveIntegerField(default=0)
    area_path = models.CharField(_("area path"), max_length=255, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        verbose_name = _("owners' decision")
        verbose_name_plural = _("owners' decisions")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(matter__gte=1, matter__lte=9), name="decision_matter_1_9"),
        ]

    def __str__(self) -> str:
        return self.title

    def audit_area_path(self) -> str:
        return self.area_path


class DecisionStep(AppendOnlyModel):
    """A party-led or legal step before the vote, recorded as it happens."""

    class Kind(models.TextChoices):
        BRANCH_PREDISCUSSION = "branch", _("Joint branch pre-discussion")
        COMMUNITY_OPINION = "community", _("Community party organisation's opinion")
        COMMITTEE_INFORMED = "informed", _("Residents' committee informed")
        NOTICE_POSTED = "notice", _("Notice posted")
        VOTING_OPENED = "opened", _("Voting opened")
        WINDOW_EXTENDED = "extended", _("Voting window extended")
        VOTING_CLOSED = "closed", _("Voting closed")
        RESULT_PUBLISHED = "published", _("Result published")
        OTHER = "other", _("Other")

    decision = models.ForeignKey(Decision, related_name="steps", on_delete=models.PROTECT)
    kind = models.CharField(_("step"), max_length=10, choices=Kind.choices)
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(_("time"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("decision step")
        verbose_name_plural = _("decision steps")


class DecisionDocument(AppendOnlyModel):
    decision = models.ForeignKey(Decision, related_name="documents", on_delete=models.PROTECT)
    title = models.CharField(_("title"), max_length=120)
    file = models.FileField(_("file"), upload_to=document_path, max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


class Elector(AppendOnlyModel):
    """One exclusive unit of the electorate, frozen when voting opens."""

    decision = models.ForeignKey(Decision, related_name="electors", on_delete=models.PROTECT)
    unit = models.ForeignKey(Unit, related_name="+", on_delete=models.PROTECT)
    building = models.ForeignKey(Building, related_name="+", on_delete=models.PROTECT)
    label = models.CharField(_("unit"), max_length=60)
    area_m2 = models.DecimalField(_("area (m²)"), max_digits=9, decimal_places=2)
    area_source = models.CharField(_("area source"), max_length=10)
    kind = models.CharField(_("kind"), max_length=12)
    # Headcount key: units sharing it are one owner ("dev" for all developer-held units).
    owner_key = models.CharField(max_length=64, db_index=True)
    developer_held = models.BooleanField(default=False)
    owner_label = models.CharField(_("owner"), max_length=100, blank=True)
    # sha256 of the unit's voting code; the code itself is derived, never stored.
    code_digest = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["decision", "unit"], name="elector_unit_once")]
        indexes = [models.Index(fields=["decision", "building"], name="elector_building_idx")]

    def __str__(self) -> str:
        return self.label


def ballot_photo_path(instance: models.Model, filename: str) -> str:
    return f"ballots/{getattr(instance, 'decision_id', 'x')}/{filename}"


class BallotEntry(AppendOnlyModel):
    """One recorded version of a unit's ballot. Never changed: a changed vote, a staff
    correction or a void is a new entry. ``seq`` and ``prev_hash``/``hash`` chain all entries
    of a decision, so an export can prove nothing was removed or altered."""

    class Choice(models.TextChoices):
        AGREE = "agree", _("Agree")
        DISAGREE = "disagree", _("Disagree")
        ABSTAIN = "abstain", _("Abstain")
        SPOILED = "spoiled", _("Spoiled")

    class Channel(models.TextChoices):
        ONLINE = "online", _("Online")
        PAPER = "paper", _("Paper")
        DOOR = "door", _("Door-to-door")
        PROXY = "proxy", _("Proxy")
        CORRECTION = "correction", _("Staff correction")

    decision = models.ForeignKey(Decision, related_name="ballot_entries", on_delete=models.PROTECT)
    elector = models.ForeignKey(Elector, related_name="entries", on_delete=models.PROTECT)
    seq = models.PositiveIntegerField()
    choice = models.CharField(_("choice"), max_length=10, choices=Choice.choices, blank=True)
    # A correction may void the unit's ballot instead of giving a choice (then choice is "").
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    cast_at = models.DateTimeField(_("cast at"))
    recorded_at = models.DateTimeField(_("recorded at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )
    collector = models.CharField(_("collected by"), max_length=60, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    photo = models.FileField(_("photo of the signed ballot"), upload_to=ballot_photo_path, blank=True)
    photo_sha256 = models.CharField(max_length=64, blank=True)
    authorisation = models.FileField(_("written authorisation"), upload_to=ballot_photo_path, blank=True)
    authorisation_sha256 = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        constraints = [models.UniqueConstraint(fields=["decision", "seq"], name="ballot_entry_seq_unique")]
        indexes = [models.Index(fields=["elector", "seq"], name="ballot_entry_elector_idx")]


class CurrentBallot(models.Model):
    """The entry that counts for a unit right now: derived from the entries (``ballots.
    effective``) under the decision's lock at every new entry, so progress by building is one
    grouped query. The count itself is always recomputed from the entries."""

    elector = models.OneToOneField(
        Elector, primary_key=True, related_name="current", on_delete=models.CASCADE
    )
    decision = models.ForeignKey(Decision, related_name="+", on_delete=models.CASCADE)
    building = models.ForeignKey(Building, related_name="+", on_delete=models.CASCADE)
    entry = models.ForeignKey(BallotEntry, related_name="+", on_delete=models.PROTECT)
    choice = models.CharField(max_length=10)
    latest_seq = models.PositiveIntegerField()
    conflict = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["decision", "building"], name="current_ballot_building_idx")]

    def __str__(self) -> str:
        return f"{self.elector_id}: {self.choice}"


class Result(AppendOnlyModel):
    """A count of the ballots. A recount is a new result pointing at the one it revisits."""

    decision = models.ForeignKey(Decision, related_name="results", on_delete=models.PROTECT)
    recount_of = models.ForeignKey(
        "self", null=True, blank=True, related_name="recounts", on_delete=models.PROTECT
    )
    figures = models.JSONField(_("figures"))
    # The arithmetic as (msgid template, values) lines, shown translated on the notice.
    explanation = models.JSONField(_("arithmetic"), default=list)
    approved = models.BooleanField(_("approved"))
    chain_head = models.CharField(max_length=64)
    chain_length = models.PositiveIntegerField()
    reason = models.TextField(_("reason"), blank=True)
    counted_at = models.DateTimeField(_("counted at"))
    counted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )

    class Meta:
        ordering = ["id"]


class Objection(models.Model):
    """An owner's objection to a published result; it must be answered."""

    decision = models.ForeignKey(Decision, related_name="objections", on_delete=models.PROTECT)
    elector = models.ForeignKey(Elector, null=True, blank=True, related_name="+", on_delete=models.PROTECT)
    text = models.TextField(_("objection"))
    filed_at = models.DateTimeField(_("filed at"))
    answer = models.TextField(_("answer"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("objection")
        verbose_name_plural = _("objections")

    def __str__(self) -> str:
        return self.text[:60]
