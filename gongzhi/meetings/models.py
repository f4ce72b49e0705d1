"""Deliberation: joint meetings, discussion halls, committee meetings and owners' assemblies.

A meeting is convened by a body for an area or a compound, announced with a printable
notice, held with a sign-in list, and recorded as minutes per agenda item. Each agenda item
ends with a resolution; a resolution spawns action items with an owner and a deadline, and
an action item not done comes back on the next meeting of the same series ("督事—评事").
Once the minutes are signed off nothing of the meeting's record changes: corrections are
addenda. Action items keep an append-only event trail.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core.models import AppendOnlyError, AppendOnlyModel, user_fk
from gongzhi.orgs.models import Area, Organisation, Person


def _token() -> str:
    return secrets.token_urlsafe(12)


class Meeting(models.Model):
    class Kind(models.TextChoices):
        JOINT = "joint", _("Joint meeting of member units")
        HALL = "hall", _("Discussion hall")
        COMMITTEE = "committee", _("Owners' committee meeting")
        ASSEMBLY = "assembly", _("Owners' assembly")

    class State(models.TextChoices):
        DRAFT = "draft", _("Being prepared")
        ANNOUNCED = "announced", _("Notice published")
        IN_SESSION = "in_session", _("In session")
        ENDED = "ended", _("Held; minutes being written")
        SIGNED = "signed", _("Minutes signed off")
        CANCELLED = "cancelled", _("Cancelled")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=120)
    area = models.ForeignKey(Area, verbose_name=_("area"), related_name="meetings", on_delete=models.PROTECT)
    area_path = models.CharField(_("area path"), max_length=255, db_index=True)
    compound = models.ForeignKey(
        "housing.Compound",
        verbose_name=_("compound"),
        null=True,
        blank=True,
        related_name="meetings",
        on_delete=models.PROTECT,
    )
    convener = models.ForeignKey(
        Organisation, verbose_name=_("convener"), related_name="convened_meetings", on_delete=models.PROTECT
    )
    # The body that decides by show of hands and has a quorum (an owners' committee); empty
    # for meetings that conclude by consensus (joint meetings, discussion halls).
    body = models.ForeignKey(
        Organisation,
        verbose_name=_("deciding body"),
        null=True,
        blank=True,
        related_name="deciding_meetings",
        on_delete=models.PROTECT,
    )
    decision = models.ForeignKey(
        "decisions.Decision",
        verbose_name=_("owners' decision"),
        null=True,
        blank=True,
        related_name="meetings",
        on_delete=models.PROTECT,
    )
    starts_at = models.DateTimeField(_("starts at"))
    place = models.CharField(_("place"), max_length=120)
    residents_invited = models.BooleanField(_("residents of the compound invited"), default=False)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    announced_at = models.DateTimeField(_("notice published at"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    signed_at = models.DateTimeField(_("minutes signed off at"), null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("signed off by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    checkin_token = models.CharField(_("sign-in code"), max_length=32, unique=True, default=_token)
    created_by = user_fk(_("created by"))
    created_at = models.DateTimeField(_("created at"))
    version = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-starts_at", "-id"]
        indexes = [
            models.Index(fields=["area_path", "starts_at"], name="meeting_area_idx"),
            models.Index(fields=["convener", "kind", "starts_at"], name="meeting_series_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def audit_area_path(self) -> str:
        return self.area_path

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None


class Invitee(models.Model):
    """A body or a person invited to a meeting; invited people count toward attendance."""

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), related_name="invitees", on_delete=models.CASCADE
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("body"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    person = models.ForeignKey(
        Person, verbose_name=_("person"), null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )
    notified_at = models.DateTimeField(_("notified at"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitee")
        verbose_name_plural = _("invitees")
        constraints = [
            models.CheckConstraint(
                condition=Q(organisation__isnull=False) | Q(person__isnull=False), name="invitee_someone"
            ),
            models.UniqueConstraint(
                fields=["meeting", "organisation"], condition=Q(person__isnull=True), name="invitee_org_once"
            ),
            models.UniqueConstraint(
                fields=["meeting", "person"], condition=Q(person__isnull=False), name="invitee_person_once"
            ),
        ]

    def __str__(self) -> str:
        return str(self.person or self.organisation)


class Attendance(AppendOnlyModel):
    """One sign-in. Members of the deciding body count toward its quorum; other invitees
    attend; anyone else is an observer, recorded but never counted."""

    class Capacity(models.TextChoices):
        MEMBER = "member", _("Member of the deciding body")
        INVITEE = "invitee", _("Invited")
        OBSERVER = "observer", _("Observer (not counted)")

    class Method(models.TextChoices):
        QR = "qr", _("QR code at the venue")
        STAFF = "staff", _("Recorded by staff")

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), related_name="attendances", on_delete=models.CASCADE
    )
    person = models.ForeignKey(
        Person, verbose_name=_("person"), null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )
    name = models.CharField(_("name"), max_length=60)
    represents = models.ForeignKey(
        Organisation,
        verbose_name=_("represents"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    represents_label = models.CharField(_("represents"), max_length=120, blank=True)
    capacity = models.CharField(_("capacity"), max_length=10, choices=Capacity.choices)
    method = models.CharField(_("signed in by"), max_length=6, choices=Method.choices)
    signed_in_at = models.DateTimeField(_("signed in at"))
    recorded_by = user_fk(_("recorded by"))

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        ordering = ["meeting", "signed_in_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "person"], condition=Q(person__isnull=False), name="attendance_person_once"
            )
        ]

    @property
    def counted(self) -> bool:
        return self.capacity != self.Capacity.OBSERVER


class AgendaItem(models.Model):
    class Source(models.TextChoices):
        FREE = "free", _("Free topic")
        TICKET = "ticket", _("Resident request")
        CONSULTATION = "consultation", _("Consultation")
        OPINION = "opinion", _("Opinion")
        HOT_ISSUE = "hot_issue", _("Hot-issue warning")
        CARRIED = "carried", _("Action item not yet done")

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), related_name="agenda_items", on_delete=models.CASCADE
    )
    position = models.PositiveSmallIntegerField(_("position"))
    title = models.CharField(_("title"), max_length=160)
    description = models.TextField(_("description"), blank=True, max_length=4000)
    source = models.CharField(_("source"), max_length=14, choices=Source.choices, default=Source.FREE)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("request"),
        null=True,
        blank=True,
        related_name="agenda_items",
        on_delete=models.PROTECT,
    )
    # Every request the item is about: the one it was put on the agenda for, or all those
    # behind a hot-issue warning. Each one's timeline follows the item to its action items.
    related_tickets = models.ManyToManyField(
        "tickets.Ticket", verbose_name=_("requests concerned"), blank=True, related_name="meeting_items"
    )
    consultation = models.ForeignKey(
        "consultations.Consultation",
        verbose_name=_("consultation"),
        null=True,
        blank=True,
        related_name="agenda_items",
        on_delete=models.PROTECT,
    )
    opinion = models.ForeignKey(
        "consultations.Opinion",
        verbose_name=_("opinion"),
        null=True,
        blank=True,
        related_name="agenda_items",
        on_delete=models.PROTECT,
    )
    carried_item = models.ForeignKey(
        "ActionItem",
        verbose_name=_("action item followed up"),
        null=True,
        blank=True,
        related_name="follow_ups",
        on_delete=models.PROTECT,
    )
    # A hot-issue warning taken onto the agenda: its key (so it is not suggested again) and
    # the evidence and explanation as they stood when it was taken.
    suggestion_key = models.CharField(_("warning"), max_length=120, blank=True, db_index=True)
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    presenter = models.ForeignKey(
        Person, verbose_name=_("presenter"), null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )
    presenter_org = models.ForeignKey(
        Organisation,
        verbose_name=_("presenting body"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    minutes = models.TextField(_("minutes"), blank=True, max_length=20000)
    created_at = models.DateTimeField(_("added at"))

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["meeting", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "carried_item"],
                condition=Q(carried_item__isnull=False),
                name="agenda_carried_once",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Signed-off minutes are the record: the actions refuse to change them, and so does
        # the model, whatever path a change comes by (admin, shell, a bug).
        if (
            self.pk is not None
            and Meeting.objects.filter(pk=self.meeting_id, signed_at__isnull=False).exists()
        ):
            raise AppendOnlyError("the minutes of this meeting are signed off")
        super().save(*args, **kwargs)


def attachment_path(instance: MinutesAttachment, filename: str) -> str:
    return f"meetings/{instance.created_at:%Y/%m}/{instance.sha256[:2]}/{instance.sha256}{instance.extension}"


class MinutesAttachment(models.Model):
    """A document or photo attached to an agenda item's minutes."""

    item = models.ForeignKey(
        AgendaItem, verbose_name=_("agenda item"), related_name="attachments", on_delete=models.CASCADE
    )
    file = models.FileField(_("file"), upload_to=attachment_path)
    name = models.CharField(_("file name"), max_length=120)
    content_type = models.CharField(_("type"), max_length=40)
    extension = models.CharField(max_length=8)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = user_fk(_("uploaded by"))
    created_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("minutes attachment")
        verbose_name_plural = _("minutes attachments")
        ordering = ["item", "id"]

    def __str__(self) -> str:
        return self.name


class Resolution(AppendOnlyModel):
    """How an agenda item ended. Written once; a wrong one is corrected by an addendum."""

    class Method(models.TextChoices):
        CONSENSUS = "consensus", _("Agreed by the meeting")
        HANDS = "hands", _("Show of hands of the members present")

    item = models.OneToOneField(
        AgendaItem, verbose_name=_("agenda item"), related_name="resolution", on_delete=models.CASCADE
    )
    text = models.TextField(_("resolution"), max_length=4000)
    method = models.CharField(_("decided by"), max_length=10, choices=Method.choices)
    decided_by = models.ForeignKey(
        Organisation,
        verbose_name=_("deciding body"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    votes_for = models.PositiveSmallIntegerField(_("in favour"), null=True, blank=True)
    votes_against = models.PositiveSmallIntegerField(_("against"), null=True, blank=True)
    votes_abstain = models.PositiveSmallIntegerField(_("abstaining"), null=True, blank=True)
    members_total = models.PositiveSmallIntegerField(_("members of the body"), null=True, blank=True)
    members_present = models.PositiveSmallIntegerField(_("members present"), null=True, blank=True)
    adopted = models.BooleanField(_("adopted"))
    decided_at = models.DateTimeField(_("decided at"))
    recorded_by = user_fk(_("recorded by"))

    class Meta:
        verbose_name = _("resolution")
        verbose_name_plural = _("resolutions")


class ActionItem(models.Model):
    """Work a resolution gives to a body or a person, with a deadline."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")

    resolution = models.ForeignKey(
        Resolution, verbose_name=_("resolution"), related_name="action_items", on_delete=models.PROTECT
    )
    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), related_name="action_items", on_delete=models.PROTECT
    )
    title = models.CharField(_("what is to be done"), max_length=200)
    assignee_org = models.ForeignKey(
        Organisation,
        verbose_name=_("responsible body"),
        null=True,
        blank=True,
        related_name="action_items",
        on_delete=models.PROTECT,
    )
    assignee_person = models.ForeignKey(
        Person,
        verbose_name=_("responsible person"),
        null=True,
        blank=True,
        related_name="action_items",
        on_delete=models.PROTECT,
    )
    deadline = models.DateField(_("deadline"))
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.OPEN)
    overdue = models.BooleanField(_("overdue"), default=False)
    warned = models.BooleanField(_("deadline warning sent"), default=False)
    evidence = models.TextField(_("what was done"), blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("request"),
        null=True,
        blank=True,
        related_name="action_items",
        on_delete=models.PROTECT,
    )
    area_path = models.CharField(_("area path"), max_length=255, db_index=True)
    compound = models.ForeignKey(
        "housing.Compound",
        verbose_name=_("compound"),
        null=True,
        blank=True,
        related_name="action_items",
        on_delete=models.PROTECT,
    )
    created_at = models.DateTimeField(_("created at"))
    version = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("action item")
        verbose_name_plural = _("action items")
        ordering = ["deadline", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(assignee_org__isnull=False) | Q(assignee_person__isnull=False),
                name="actionitem_has_owner",
            ),
            models.CheckConstraint(
                condition=~Q(state="done") | Q(done_at__isnull=False), name="actionitem_done_has_time"
            ),
        ]
        indexes = [models.Index(fields=["state", "deadline"], name="actionitem_due_idx")]

    def __str__(self) -> str:
        return self.title

    def audit_area_path(self) -> str:
        return self.area_path

    @property
    def is_done(self) -> bool:
        return self.state == self.State.DONE

    @property
    def owner_label(self) -> str:
        if self.assignee_org is not None:
            return self.assignee_org.name
        return self.assignee_person.name if self.assignee_person is not None else ""

    @property
    def status(self) -> str:
        """The state shown to people: overdue outranks open and in progress."""
        return "overdue" if self.overdue and not self.is_done else self.state


def evidence_path(instance: ActionEvidence, filename: str) -> str:
    return f"actions/{instance.created_at:%Y/%m}/{instance.sha256[:2]}/{instance.sha256}{instance.extension}"


class ActionItemEvent(AppendOnlyModel):
    """One thing that happened to an action item: created, started, progress, done,
    warned, overdue, carried to a meeting."""

    item = models.ForeignKey(
        ActionItem, verbose_name=_("action item"), related_name="events", on_delete=models.CASCADE
    )
    action = models.CharField(_("action"), max_length=16)
    note = models.TextField(_("note"), blank=True)
    actor = user_fk(_("by"))
    actor_label = models.CharField(_("by"), max_length=120, blank=True)
    at = models.DateTimeField(_("at"))
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("action item event")
        verbose_name_plural = _("action item events")
        ordering = ["item", "id"]


class ActionEvidence(AppendOnlyModel):
    """A photo or document showing the work done."""

    event = models.ForeignKey(
        ActionItemEvent, verbose_name=_("event"), related_name="evidence", on_delete=models.CASCADE
    )
    file = models.FileField(_("file"), upload_to=evidence_path)
    content_type = models.CharField(_("type"), max_length=40)
    extension = models.CharField(max_length=8)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("uploaded at"))


class Addendum(AppendOnlyModel):
    """A correction to signed-off minutes: the minutes stay as signed, the addendum follows."""

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), related_name="addenda", on_delete=models.CASCADE
    )
    text = models.TextField(_("correction"), max_length=4000)
    created_by = user_fk(_("written by"))
    created_at = models.DateTimeField(_("written at"))

    class Meta:
        verbose_name = _("addendum")
        verbose_name_plural = _("addenda")
        ordering = ["meeting", "id"]


class HotIssueSettings(models.Model):
    """The thresholds of the hot-issue warning (one row; edited in the admin)."""

    window_days = models.PositiveSmallIntegerField(
        _("rolling window (days)"), default=30, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    cluster_min = models.PositiveSmallIntegerField(
        _("same category in one compound: at least"), default=5, validators=[MinValueValidator(2)]
    )
    building_cluster_min = models.PositiveSmallIntegerField(
        _("same category in one building: at least"), default=3, validators=[MinValueValidator(2)]
    )
    rise_min = models.PositiveSmallIntegerField(
        _("rising: at least this many in the window"), default=4, validators=[MinValueValidator(2)]
    )
    rise_factor = models.DecimalField(
        _("rising: times the previous window"),
        max_digits=4,
        decimal_places=2,
        default=2,
        validators=[MinValueValidator(1)],
    )
    reopen_min = models.PositiveSmallIntegerField(
        _("one request reopened at least"), default=2, validators=[MinValueValidator(1)]
    )
    compound_reopen_min = models.PositiveSmallIntegerField(
        _("reopenings in one compound: at least"), default=3, validators=[MinValueValidator(2)]
    )
    dispute_min = models.PositiveSmallIntegerField(
        _("disputes in one compound: at least"), default=2, validators=[MinValueValidator(1)]
    )
    dispute_categories = models.CharField(
        _("request categories that are disputes"),
        max_length=200,
        default="disputes",
        help_text=_("Category codes, separated by commas."),
    )

    class Meta:
        verbose_name = _("hot-issue thresholds")
        verbose_name_plural = _("hot-issue thresholds")

    def __str__(self) -> str:
        return str(_("Hot-issue thresholds"))

    @classmethod
    def current(cls) -> HotIssueSettings:
        row = cls.objects.order_by("id").first()
        return row if row is not None else cls()


class DismissedWarning(models.Model):
    """A hot-issue warning staff looked at and set aside, with the reason."""

    key = models.CharField(_("warning"), max_length=120, db_index=True)
    # The count when it was set aside: the warning comes back if the count grows past it.
    count = models.PositiveIntegerField(_("count"))
    area_path = models.CharField(_("area path"), max_length=255)
    reason = models.TextField(_("reason"))
    dismissed_by = user_fk(_("set aside by"))
    dismissed_at = models.DateTimeField(_("set aside at"))

    class Meta:
        verbose_name = _("warning set aside")
        verbose_name_plural = _("warnings set aside")

    def __str__(self) -> str:
        return self.key
