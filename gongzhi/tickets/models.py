"""Resident requests (诉求): tickets, the units' tasks, their events, time limits and routing.

A ticket is the resident's request; each member unit it is dispatched to gets a task of its
own (one lead unit, zero or more co-units). Every move of either is an append-only
``TicketEvent``: timelines, SLA clocks and KPIs are derived from those events.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core.masking import mask_phone
from gongzhi.core.models import AppendOnlyModel
from gongzhi.tickets import workflow as W


def new_ticket_token() -> str:
    return secrets.token_urlsafe(12)


class TimeLimit(models.Model):
    """A class of time limit (emergency 2 h, utilities 24 h, general 7 days, complex 15 days)."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=40)
    accept_hours = models.PositiveIntegerField(_("hours to accept"), default=24)
    resolve_hours = models.PositiveIntegerField(_("hours to resolve"))
    working_days = models.BooleanField(_("count working days only"), default=False)

    class Meta:
        verbose_name = _("time limit")
        verbose_name_plural = _("time limits")
        ordering = ["resolve_hours"]

    def __str__(self) -> str:
        return self.name


class Holiday(models.Model):
    """A day off (or a make-up working day) for time limits that count working days only."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=40, blank=True)
    is_workday = models.BooleanField(_("make-up working day"), default=False)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class CategorySetting(models.Model):
    """How requests of one service category are handled: time limit and required photo."""

    category = models.OneToOneField(
        "orgs.ServiceCategory",
        verbose_name=_("category"),
        related_name="ticket_setting",
        on_delete=models.CASCADE,
    )
    time_limit = models.ForeignKey(TimeLimit, verbose_name=_("time limit"), on_delete=models.PROTECT)
    photo_required = models.BooleanField(_("photo required"), default=False)
    description = models.CharField(_("description"), max_length=200, blank=True)
    public = models.BooleanField(_("open for public intake"), default=True)

    class Meta:
        verbose_name = _("category setting")
        verbose_name_plural = _("category settings")

    def __str__(self) -> str:
        return str(self.category)


class CategoryQuestion(models.Model):
    """An extra question asked when filing a request of a category (Open311 attributes)."""

    class Datatype(models.TextChoices):
        STRING = "string", _("Short text")
        NUMBER = "number", _("Number")
        DATETIME = "datetime", _("Date and time")
        TEXT = "text", _("Long text")
        SINGLE = "singlevaluelist", _("One choice")
        MULTI = "multivaluelist", _("Several choices")

    category = models.ForeignKey(
        "orgs.ServiceCategory", verbose_name=_("category"), related_name="questions", on_delete=models.CASCADE
    )
    code = models.SlugField(_("code"), max_length=40)
    label = models.CharField(_("question"), max_length=120)
    description = models.CharField(_("description"), max_length=200, blank=True)
    datatype = models.CharField(_("type"), max_length=16, choices=Datatype.choices, default=Datatype.STRING)
    required = models.BooleanField(_("required"), default=False)
    # [{"key": "pole", "name": "电线杆"}, …] for the list types
    choices = models.JSONField(_("choices"), default=list, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("category question")
        verbose_name_plural = _("category questions")
        ordering = ["category", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["category", "code"], name="question_code_once")]

    def __str__(self) -> str:
        return self.label


class RoutingRule(models.Model):
    """Category (+ optionally an area) → the lead unit and co-units a request goes to.

    The rule for the deepest area on the request's path wins; a rule without an area is the
    county default.
    """

    category = models.ForeignKey(
        "orgs.ServiceCategory",
        verbose_name=_("category"),
        related_name="routing_rules",
        on_delete=models.CASCADE,
    )
    area = models.ForeignKey(
        "orgs.Area", verbose_name=_("area"), null=True, blank=True, related_name="+", on_delete=models.CASCADE
    )
    lead_unit = models.ForeignKey(
        "orgs.Organisation", verbose_name=_("lead unit"), related_name="+", on_delete=models.PROTECT
    )
    co_units = models.ManyToManyField(
        "orgs.Organisation", verbose_name=_("co-units"), related_name="+", blank=True
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["category", "area"]
        constraints = [
            models.UniqueConstraint(fields=["category", "area"], name="one_rule_per_category_area"),
            models.UniqueConstraint(
                fields=["category"], condition=Q(area__isnull=True), name="one_default_rule_per_category"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} → {self.lead_unit}"


class Ticket(models.Model):
    State = W.State

    class Channel(models.TextChoices):
        PHONE_PAGE = "phone_page", _("Resident's phone")
        QR_POSTER = "qr_poster", _("QR poster")
        STAFF_CALL = "staff_call", _("Phone call to staff")
        DOOR_TO_DOOR = "door_to_door", _("Door-to-door visit")
        PAPER = "paper", _("Paper form")
        API = "api", _("REST API")
        OPEN311 = "open311", _("Open311")

    STAFF_CHANNELS = (Channel.STAFF_CALL, Channel.DOOR_TO_DOOR, Channel.PAPER)

    class Urgency(models.TextChoices):
        NORMAL = "normal", _("Normal")
        EMERGENCY = "emergency", _("Emergency")

    class Resolution(models.TextChoices):
        RESOLVED = "resolved", _("Resolved")
        PARTLY = "partly", _("Partly resolved")
        NOT = "not", _("Not resolved")

    class Satisfaction(models.TextChoices):
        SATISFIED = "satisfied", _("Satisfied")
        BASIC = "basic", _("Basically satisfied")
        DISSATISFIED = "dissatisfied", _("Dissatisfied")

    token = models.CharField(_("tracking code"), max_length=24, unique=True, default=new_ticket_token)
    category = models.ForeignKey(
        "orgs.ServiceCategory", verbose_name=_("category"), related_name="tickets", on_delete=models.PROTECT
    )
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    description = models.TextField(_("description"), max_length=2000)
    attributes = models.JSONField(_("answers"), default=dict, blank=True)
    channel = models.CharField(_("channel"), max_length=14, choices=Channel.choices)

    # Who reported. Staff always see the reporter; ``anonymous`` hides them from the public.
    reporter_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reporter account"),
        null=True,
        blank=True,
        related_name="reported_tickets",
        on_delete=models.SET_NULL,
    )
    reporter_resident = models.ForeignKey(
        "housing.Resident",
        verbose_name=_("reporting household member"),
        null=True,
        blank=True,
        related_name="tickets",
        on_delete=models.SET_NULL,
    )
    reporter_name = models.CharField(_("reporter's name"), max_length=60, blank=True)
    reporter_phone = models.CharField(_("reporter's phone"), max_length=20, blank=True)
    reporter_email = models.EmailField(_("reporter's e-mail"), blank=True)
    anonymous = models.BooleanField(_("hide my name from the public"), default=False)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        related_name="entered_tickets",
        on_delete=models.SET_NULL,
    )
    consent_note = models.CharField(_("resident's consent"), max_length=200, blank=True)

    # Where. Any of: a unit, a building, a point on the compound plan, free text, coordinates.
    compound = models.ForeignKey(
        "housing.Compound",
        verbose_name=_("compound"),
        null=True,
        blank=True,
        related_name="tickets",
        on_delete=models.PROTECT,
    )
    building = models.ForeignKey(
        "housing.Building",
        verbose_name=_("building"),
        null=True,
        blank=True,
        related_name="tickets",
        on_delete=models.PROTECT,
    )
    unit = models.ForeignKey(
        "housing.Unit",
        verbose_name=_("unit"),
        null=True,
        blank=True,
        related_name="tickets",
        on_delete=models.PROTECT,
    )
    # Position on the compound plan, in thousandths of its width and height.
    plan_x = models.PositiveSmallIntegerField(_("plan x"), null=True, blank=True)
    plan_y = models.PositiveSmallIntegerField(_("plan y"), null=True, blank=True)
    address_text = models.CharField(_("where"), max_length=200, blank=True)
    lat = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    long = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)

    # Routing: set at intake, explained in ``routing_note``.
    community = models.ForeignKey(
        "orgs.Area",
        verbose_name=_("community"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    grid = models.ForeignKey(
        "orgs.Area", verbose_name=_("grid"), null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )
    joint_branch = models.ForeignKey(
        "orgs.Organisation",
        verbose_name=_("joint branch"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    area_path = models.CharField(_("area path"), max_length=255)
    routing_note = models.TextField(_("routing"), blank=True)
    suggested_lead = models.ForeignKey(
        "orgs.Organisation",
        verbose_name=_("suggested lead unit"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    suggested_co_units = models.ManyToManyField(
        "orgs.Organisation", verbose_name=_("suggested co-units"), blank=True, related_name="+"
    )

    # Workflow
    state = models.CharField(_("state"), max_length=16, choices=W.State.choices, default=W.State.REPORTED)
    version = models.PositiveIntegerField(_("version"), default=1)
    lead_unit = models.ForeignKey(
        "orgs.Organisation",
        verbose_name=_("lead unit"),
        null=True,
        blank=True,
        related_name="led_tickets",
        on_delete=models.PROTECT,
    )
    time_limit = models.ForeignKey(
        TimeLimit, verbose_name=_("time limit"), null=True, on_delete=models.PROTECT
    )
    accept_due_at = models.DateTimeField(_("accept by"), null=True, blank=True)
    due_at = models.DateTimeField(_("resolve by"), null=True, blank=True)
    warned_pct = models.PositiveSmallIntegerField(_("warned at %"), default=0)
    overdue = models.BooleanField(_("overdue"), default=False)
    supervision_level = models.PositiveSmallIntegerField(_("supervision level"), default=0)
    referred = models.BooleanField(_("referred to the joint meeting"), default=False)
    referred_reason = models.TextField(_("reason for referral"), blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        related_name="merged",
        on_delete=models.PROTECT,
    )
    supporters_count = models.PositiveIntegerField(_("me too"), default=0)
    reopen_count = models.PositiveSmallIntegerField(_("reopened"), default=0)
    unreasonable = models.BooleanField(_("unreasonable (excluded from KPIs)"), default=False)
    resolution = models.CharField(_("resolved?"), max_length=10, choices=Resolution.choices, blank=True)
    satisfaction = models.CharField(
        _("satisfaction"), max_length=14, choices=Satisfaction.choices, blank=True
    )
    rated_via = models.CharField(_("rated via"), max_length=14, blank=True)
    unreachable = models.BooleanField(_("reporter unreachable at follow-up"), default=False)
    idempotency_key = models.CharField(
        _("idempotency key"), max_length=64, null=True, blank=True, unique=True
    )

    created_at = models.DateTimeField(_("reported at"), db_index=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    unit_accepted_at = models.DateTimeField(_("unit accepted at"), null=True, blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("resident request")
        verbose_name_plural = _("resident requests")
        ordering = ["-id"]
        indexes = [
            # PostgreSQL serves under()'s LIKE 'prefix%' from pattern ops only (unless the
            # database collation is C); other databases ignore opclasses.
            models.Index(
                fields=["area_path", "id"],
                name="ticket_path_idx",
                opclasses=["varchar_pattern_ops", "int8_ops"],
            ),
            models.Index(fields=["compound", "state"], name="ticket_compound_state_idx"),
            models.Index(fields=["state", "due_at"], name="ticket_state_due_idx"),
            models.Index(fields=["reporter_user", "id"], name="ticket_reporter_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def title(self) -> str:
        text = " ".join(self.description.split())
        return text if len(text) <= 30 else text[:29] + "…"

    @property
    def is_open(self) -> bool:
        return self.state in W.OPEN_STATES

    @property
    def masked_reporter_phone(self) -> str:
        return mask_phone(self.reporter_phone)

    @property
    def place_label(self) -> str:
        parts = [self.compound.name] if self.compound is not None else []
        if self.unit is not None:
            parts.append(self.unit.address_label)
        elif self.building is not None:
            parts.append(self.building.label)
        if self.address_text:
            parts.append(self.address_text)
        return " ".join(parts)

    def audit_area_path(self) -> str:
        return self.area_path


class Task(models.Model):
    """One member unit's share of a ticket: the lead unit's or a co-unit's."""

    State = W.TaskState

    class Role(models.TextChoices):
        LEAD = "lead", _("Lead unit")
        CO = "co", _("Co-unit")

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("request"), related_name="tasks", on_delete=models.CASCADE
    )
    unit = models.ForeignKey(
        "orgs.Organisation", verbose_name=_("unit"), related_name="ticket_tasks", on_delete=models.PROTECT
    )
    role = models.CharField(_("role"), max_length=4, choices=Role.choices)
    round = models.PositiveSmallIntegerField(_("round"), default=1)
    state = models.CharField(
        _("state"), max_length=12, choices=W.TaskState.choices, default=W.TaskState.DISPATCHED
    )
    dispatched_at = models.DateTimeField(_("dispatched at"))
    accept_due_at = models.DateTimeField(_("accept by"))
    due_at = models.DateTimeField(_("resolve by"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    reply = models.TextField(_("result"), blank=True)
    instructions = models.TextField(_("instructions"), blank=True)
    # Copy of the ticket's area path: a grid's or a town's task list is one indexed range.
    area_path = models.CharField(_("area path"), max_length=255, default="")

    class Meta:
        verbose_name = _("unit task")
        verbose_name_plural = _("unit tasks")
        ordering = ["ticket", "round", "role", "id"]
        indexes = [
            models.Index(fields=["unit", "-ticket"], name="task_unit_ticket_idx"),
            models.Index(
                fields=["area_path", "id"],
                name="task_path_idx",
                opclasses=["varchar_pattern_ops", "int8_ops"],
            ),
            models.Index(fields=["state", "due_at"], name="task_state_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}/{self.unit}"

    @property
    def is_active(self) -> bool:
        return self.state in W.ACTIVE_TASK_STATES

    def audit_area_path(self) -> str:
        return self.ticket.area_path


class TicketEvent(AppendOnlyModel):
    """One thing that happened to a ticket: the record timelines and KPIs are built from."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("request"), related_name="events", on_delete=models.CASCADE
    )
    task = models.ForeignKey(
        Task, verbose_name=_("task"), null=True, blank=True, related_name="events", on_delete=models.CASCADE
    )
    action = models.CharField(_("action"), max_length=24)
    from_state = models.CharField(_("from"), max_length=16, blank=True)
    to_state = models.CharField(_("to"), max_length=16, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    # What the timeline shows as the actor: a body ("南峰社区第1网格"), never a private name.
    actor_label = models.CharField(_("by"), max_length=120, blank=True)
    at = models.DateTimeField(_("at"))
    note = models.TextField(_("note"), blank=True)
    public = models.BooleanField(_("shown to the reporter"), default=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("request event")
        verbose_name_plural = _("request events")
        ordering = ["ticket", "id"]
        indexes = [models.Index(fields=["action", "id"], name="event_action_idx")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.action}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"tickets/{instance.created_at:%Y/%m}/{instance.sha256[:2]}/{instance.sha256}{instance.extension}"


class Attachment(models.Model):
    """A photo attached to a ticket or one of its events; EXIF is stripped on upload."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("request"), related_name="attachments", on_delete=models.CASCADE
    )
    event = models.ForeignKey(
        TicketEvent,
        verbose_name=_("event"),
        null=True,
        blank=True,
        related_name="attachments",
        on_delete=models.SET_NULL,
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    content_type = models.CharField(_("type"), max_length=40)
    extension = models.CharField(_("extension"), max_length=8)
    size = models.PositiveIntegerField(_("size"))
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    sha256 = models.CharField(_("checksum"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.file.name


class Supporter(models.Model):
    """A resident who joined an open ticket ("me too"), or the reporter of a merged duplicate."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("request"), related_name="supporters", on_delete=models.CASCADE
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="supported_tickets",
        on_delete=models.CASCADE,
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    from_ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("merged request"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.CASCADE,
    )
    created_at = models.DateTimeField(_("joined at"))

    class Meta:
        verbose_name = _("me too")
        verbose_name_plural = _("me too")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "user"], name="one_me_too_per_user"),
            models.UniqueConstraint(
                fields=["ticket", "phone"], condition=~Q(phone=""), name="one_me_too_per_phone"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} +1"


class Approval(models.Model):
    """A request that needs someone else's yes: an extension, a return for reassignment, or
    marking a ticket unreasonable (which needs a second person)."""

    class Kind(models.TextChoices):
        EXTENSION = "extension", _("Extension")
        RETURN = "return", _("Return for reassignment")
        UNREASONABLE = "unreasonable", _("Mark unreasonable")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("request"), related_name="approvals", on_delete=models.CASCADE
    )
    task = models.ForeignKey(
        Task,
        verbose_name=_("task"),
        null=True,
        blank=True,
        related_name="approvals",
        on_delete=models.CASCADE,
    )
    kind = models.CharField(_("kind"), max_length=14, choices=Kind.choices)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    reason = models.TextField(_("reason"))
    extra_hours = models.PositiveIntegerField(_("extra hours"), null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="+", on_delete=models.PROTECT)
    requested_at = models.DateTimeField(_("requested at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        verbose_name = _("approval")
        verbose_name_plural = _("approvals")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "kind"], condition=Q(state="pending"), name="one_pending_approval_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} {self.state}"


class Notification(models.Model):
    """One message to one person through one channel: the outbox the worker delivers from,
    and for ``inbox`` the in-app message itself."""

    class Channel(models.TextChoices):
        INBOX = "inbox", _("In-app inbox")
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")
        WECHAT = "wechat", _("WeChat template message")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="notifications",
        on_delete=models.CASCADE,
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    address = models.CharField(_("address"), max_length=120, blank=True)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"))
    url = models.CharField(_("link"), max_length=200, blank=True)
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, related_name="notifications", on_delete=models.CASCADE
    )
    created_at = models.DateTimeField(_("created at"))
    send_after = models.DateTimeField(_("send after"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("given up at"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["sent_at", "send_after"], name="notification_queue_idx"),
            models.Index(fields=["recipient", "channel", "-id"], name="notification_inbox_idx"),
        ]

    def __str__(self) -> str:
        return self.subject


class ApiKey(models.Model):
    """A key for the Open311 and REST intake of a partner system; only a hash is stored."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    prefix = models.CharField(_("prefix"), max_length=8, unique=True)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
