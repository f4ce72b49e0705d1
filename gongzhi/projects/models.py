"""Community projects (红色物业项目): needs, scope, milestones, the fund ledger, expenses and
their approvals, cost sharing by area, disputes and two-way supervision.

Money is never updated in place. ``LedgerEntry`` rows are append-only; a wrong entry is
corrected by a reversing entry (same direction, the opposite amount) that points at it. Each
entry carries the project's running balance after it, and the database refuses a negative
balance; ``Project.balance`` is the running balance of the last entry, kept under the
project's row lock by ``projects.ledger``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core.models import AppendOnlyModel, user_fk

ZERO = Decimal("0.00")


def _money(verbose_name: Any, **extra: Any) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=12, decimal_places=2, **extra)


class ServiceType(models.Model):
    """One of the (by default ten) kinds of project service the mechanism delivers."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=60)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("project service type")
        verbose_name_plural = _("project service types")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Project(models.Model):
    class Kind(models.TextChoices):
        PARKING = "parking", _("Parking spaces")
        GARBAGE = "garbage", _("Garbage points")
        LIGHTING = "lighting", _("Lighting")
        GREENING = "greening", _("Greening")
        WATERPROOFING = "waterproofing", _("Roof and wall waterproofing")
        ACTIVITY_ROOM = "activity_room", _("Party and residents' activity room")
        ROADS = "roads", _("Roads and drains")
        OTHER = "other", _("Other")

    class State(models.TextChoices):
        PREPARING = "preparing", _("Preparing")
        RAISING = "raising", _("Raising funds and labour")
        UNDERWAY = "underway", _("Under way")
        ACCEPTANCE = "acceptance", _("Acceptance check")
        CLOSED = "closed", _("Closed")
        CANCELLED = "cancelled", _("Cancelled")

    code = models.CharField(_("code"), max_length=32, unique=True)
    title = models.CharField(_("title"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    summary = models.TextField(_("what and why"), max_length=4000)
    party_org = models.ForeignKey(
        "orgs.Organisation",
        verbose_name=_("started by"),
        related_name="started_projects",
        on_delete=models.PROTECT,
        limit_choices_to={"kind": "party_org"},
    )
    community = models.ForeignKey(
        "orgs.Area", verbose_name=_("community"), related_name="projects", on_delete=models.PROTECT
    )
    area_path = models.CharField(_("area path"), max_length=255, db_index=True)
    compounds = models.ManyToManyField(
        "housing.Compound", verbose_name=_("compounds"), related_name="projects"
    )
    buildings = models.ManyToManyField(
        "housing.Building",
        verbose_name=_("buildings"),
        blank=True,
        related_name="projects",
        help_text=_("Leave empty for the whole compounds."),
    )
    branch = models.ForeignKey(
        "orgs.Organisation",
        verbose_name=_("joint party branch"),
        null=True,
        blank=True,
        related_name="branch_projects",
        on_delete=models.PROTECT,
    )
    committee = models.ForeignKey(
        "orgs.Organisation",
        verbose_name=_("owners' committee"),
        null=True,
        blank=True,
        related_name="committee_projects",
        on_delete=models.PROTECT,
    )
    member_units = models.ManyToManyField(
        "orgs.Organisation", verbose_name=_("member units involved"), blank=True, related_name="unit_projects"
    )
    service_types = models.ManyToManyField(ServiceType, verbose_name=_("services delivered"), blank=True)
    budget = _money(_("budget (yuan)"), default=ZERO)
    approvals_required = models.PositiveSmallIntegerField(
        _("approvals needed for an expense"),
        default=2,
        help_text=_("Members of the owners' committee or the joint branch, never the one who submits it."),
    )
    levies_owners = models.BooleanField(_("owners share the cost by area"), default=False)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.PREPARING)
    balance = _money(_("balance"), default=ZERO)
    entries_count = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=0)
    created_by = user_fk(_("started by"))
    created_at = models.DateTimeField(_("started at"))
    state_changed_at = models.DateTimeField(_("state changed at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("community project")
        verbose_name_plural = _("community projects")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="project_balance_not_negative"),
            models.CheckConstraint(condition=Q(budget__gte=0), name="project_budget_not_negative"),
            models.CheckConstraint(
                condition=Q(approvals_required__gte=1, approvals_required__lte=5),
                name="project_approvals_1_5",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def audit_area_path(self) -> str:
        return self.area_path


class ProjectNeed(models.Model):
    """A need the project answers: a resident request, a consultation or a resolution."""

    project = models.ForeignKey(Project, related_name="needs", on_delete=models.CASCADE)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, related_name="project_links", on_delete=models.PROTECT
    )
    consultation = models.ForeignKey(
        "consultations.Consultation",
        null=True,
        blank=True,
        related_name="project_links",
        on_delete=models.PROTECT,
    )
    resolution = models.ForeignKey(
        "meetings.Resolution", null=True, blank=True, related_name="project_links", on_delete=models.PROTECT
    )

    class Meta:
        verbose_name = _("need behind a project")
        verbose_name_plural = _("needs behind projects")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(ticket__isnull=False, consultation__isnull=True, resolution__isnull=True)
                    | Q(ticket__isnull=True, consultation__isnull=False, resolution__isnull=True)
                    | Q(ticket__isnull=True, consultation__isnull=True, resolution__isnull=False)
                ),
                name="projectneed_exactly_one",
            )
        ]

    def __str__(self) -> str:
        return str(self.ticket or self.consultation or self.resolution)


class ProjectLead(models.Model):
    """A person leading part of the project (party members are shown as such)."""

    project = models.ForeignKey(Project, related_name="leads", on_delete=models.CASCADE)
    person = models.ForeignKey("orgs.Person", related_name="project_leads", on_delete=models.PROTECT)
    role = models.CharField(_("role in the project"), max_length=60)

    class Meta:
        verbose_name = _("project lead")
        verbose_name_plural = _("project leads")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["project", "person"], name="projectlead_once")]

    def __str__(self) -> str:
        return f"{self.person} ({self.role})"


class ProjectEvent(AppendOnlyModel):
    """The project's own timeline: state changes and every step worth showing."""

    project = models.ForeignKey(Project, related_name="events", on_delete=models.CASCADE)
    action = models.CharField(_("action"), max_length=32)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    actor = user_fk(_("by"))
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["at", "id"]


class Milestone(models.Model):
    project = models.ForeignKey(Project, related_name="milestones", on_delete=models.CASCADE)
    title = models.CharField(_("title"), max_length=120)
    weight = models.PositiveSmallIntegerField(_("weight"), default=1)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    done_on = models.DateField(_("done on"), null=True, blank=True)

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["project", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="milestone_progress_0_100"),
            models.CheckConstraint(
                condition=Q(weight__gte=1, weight__lte=100), name="milestone_weight_1_100"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class MilestoneUpdate(AppendOnlyModel):
    milestone = models.ForeignKey(Milestone, related_name="updates", on_delete=models.CASCADE)
    progress = models.PositiveSmallIntegerField(_("progress (%)"))
    note = models.TextField(_("note"), blank=True)
    by = user_fk(_("by"))
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["at", "id"]


def photo_path(instance: Any, filename: str) -> str:
    return (
        f"projects/{instance.uploaded_at:%Y/%m}/{instance.sha256[:2]}/{instance.sha256}{instance.extension}"
    )


class _StoredFile(AppendOnlyModel):
    file = models.FileField(_("file"), upload_to=photo_path)
    content_type = models.CharField(_("type"), max_length=40)
    extension = models.CharField(max_length=8)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = user_fk(_("uploaded by"))
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        abstract = True


class MilestonePhoto(_StoredFile):
    class Stage(models.TextChoices):
        BEFORE = "before", _("Before")
        DURING = "during", _("During")
        AFTER = "after", _("After")

    milestone = models.ForeignKey(Milestone, related_name="photos", on_delete=models.CASCADE)
    stage = models.CharField(_("stage"), max_length=8, choices=Stage.choices)
    taken_on = models.DateField(_("taken on"))
    caption = models.CharField(_("caption"), max_length=120, blank=True)

    class Meta:
        ordering = ["taken_on", "id"]


class EmergencyConfirmation(AppendOnlyModel):
    """The town's confirmation that an emergency repair may use the maintenance fund
    without an owners' vote (lift, fire system, leaks, burst pipes, falling facade)."""

    class Hazard(models.TextChoices):
        LIFT = "lift", _("Lift out of order")
        FIRE = "fire", _("Fire system failure")
        LEAK = "leak", _("Roof or wall leaks")
        PIPES = "pipes", _("Burst water or drain pipes")
        FACADE = "facade", _("Falling facade")

    project = models.ForeignKey(Project, related_name="emergencies", on_delete=models.PROTECT)
    hazard = models.CharField(_("hazard"), max_length=8, choices=Hazard.choices)
    description = models.TextField(_("what is wrong"), max_length=2000)
    town = models.ForeignKey(
        "orgs.Area", verbose_name=_("confirming town"), related_name="+", on_delete=models.PROTECT
    )
    reference = models.CharField(_("town's document number"), max_length=60)
    confirmed_by = user_fk(_("confirmed by"))
    confirmed_at = models.DateTimeField(_("confirmed at"))

    class Meta:
        verbose_name = _("emergency confirmation")
        verbose_name_plural = _("emergency confirmations")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.get_hazard_display()} · {self.reference}"


class Expense(models.Model):
    class Type(models.TextChoices):
        MATERIALS = "materials", _("Materials")
        LABOUR = "labour", _("Paid labour")
        EQUIPMENT = "equipment", _("Equipment and tools")
        SERVICES = "services", _("Contracted services")
        OTHER = "other", _("Other")

    class State(models.TextChoices):
        SUBMITTED = "submitted", _("Awaiting approval")
        APPROVED = "approved", _("Approved, not yet paid")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        PAID = "paid", _("Paid")
        REVERSED = "reversed", _("Payment reversed")

    OPEN = (State.SUBMITTED, State.APPROVED)

    project = models.ForeignKey(Project, related_name="expenses", on_delete=models.PROTECT)
    purpose = models.CharField(_("purpose"), max_length=200)
    expense_type = models.CharField(_("type"), max_length=12, choices=Type.choices)
    vendor = models.CharField(_("paid to"), max_length=120)
    amount = _money(_("amount (yuan)"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.SUBMITTED)
    submitted_by = user_fk(_("submitted by"))
    submitted_at = models.DateTimeField(_("submitted at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    paid_by = user_fk(_("paid by"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("expense")
        verbose_name_plural = _("expenses")
        ordering = ["-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="expense_amount_positive")]

    def __str__(self) -> str:
        return self.purpose


class ExpenseApproval(AppendOnlyModel):
    """One approver's word on an expense: who, as a member of which body, and when."""

    expense = models.ForeignKey(Expense, related_name="approvals", on_delete=models.PROTECT)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("approver"), related_name="+", on_delete=models.PROTECT
    )
    person = models.ForeignKey("orgs.Person", related_name="+", on_delete=models.PROTECT)
    body = models.ForeignKey(
        "orgs.Organisation", verbose_name=_("as member of"), related_name="+", on_delete=models.PROTECT
    )
    approve = models.BooleanField(_("approves"))
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["expense", "approver"], name="expenseapproval_once")]


class LedgerEntry(AppendOnlyModel):
    class Direction(models.TextChoices):
        INCOME = "income", _("Income")
        EXPENSE = "expense", _("Expense")

    class Source(models.TextChoices):
        HOUSEHOLD = "household", _("Household contribution")
        MEMBER_UNIT = "member_unit", _("Member unit support")
        SUBSIDY = "subsidy", _("Government subsidy")
        MAINTENANCE_FUND = "maintenance_fund", _("Maintenance fund")
        SHARED_INCOME = "shared_income", _("Shared income of common parts")

    class Method(models.TextChoices):
        CASH = "cash", _("Cash")
        TRANSFER = "transfer", _("Bank or mobile transfer")

    project = models.ForeignKey(Project, related_name="entries", on_delete=models.PROTECT)
    seq = models.PositiveIntegerField(_("no."))
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, blank=True)
    # Positive for an entry, the opposite of the original for a reversing entry.
    amount = _money(_("amount (yuan)"))
    balance_after = _money(_("balance after"))
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("reverses"),
        null=True,
        blank=True,
        related_name="reversed_by",
        on_delete=models.PROTECT,
    )
    purpose = models.CharField(_("purpose"), max_length=200)
    occurred_on = models.DateField(_("date"))
    method = models.CharField(_("paid by"), max_length=8, choices=Method.choices, blank=True)
    unit = models.ForeignKey(
        "housing.Unit",
        verbose_name=_("household"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    payer_name = models.CharField(_("payer"), max_length=60, blank=True)
    payer_consents = models.BooleanField(_("may be named publicly by unit"), default=False)
    organisation = models.ForeignKey(
        "orgs.Organisation",
        verbose_name=_("member unit"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    decision = models.ForeignKey(
        "decisions.Decision",
        verbose_name=_("owners' decision"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    emergency = models.ForeignKey(
        EmergencyConfirmation,
        verbose_name=_("emergency confirmation"),
        null=True,
        blank=True,
        related_name="entries",
        on_delete=models.PROTECT,
    )
    expense = models.ForeignKey(
        Expense,
        verbose_name=_("expense"),
        null=True,
        blank=True,
        related_name="entries",
        on_delete=models.PROTECT,
    )
    recorded_by = user_fk(_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["project", "seq"]
        # Totals by source and contributions by household read only this index.
        indexes = [
            models.Index(
                fields=["project", "source", "direction", "amount", "unit"], name="ledger_totals_idx"
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["project", "seq"], name="ledger_seq_unique"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="ledger_balance_not_negative"),
            models.CheckConstraint(
                condition=Q(reverses__isnull=True, amount__gt=0) | Q(reverses__isnull=False, amount__lt=0),
                name="ledger_amount_sign",
            ),
            models.CheckConstraint(
                condition=Q(direction="income", expense__isnull=True) & ~Q(source="")
                | Q(direction="expense", source="", expense__isnull=False),
                name="ledger_direction_fields",
            ),
            models.CheckConstraint(
                condition=~Q(source="maintenance_fund")
                | Q(decision__isnull=False)
                | Q(emergency__isnull=False),
                name="ledger_fund_needs_basis",
            ),
            models.CheckConstraint(
                condition=~Q(source="household") | Q(unit__isnull=False), name="ledger_household_unit"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.amount}"

    @property
    def signed_amount(self) -> Decimal:
        return self.amount if self.direction == self.Direction.INCOME else -self.amount


class Receipt(_StoredFile):
    """A receipt or invoice photo (or PDF) for an income entry or an expense. Receipts of
    an expense may follow its payment; until one does, the expense shows as missing one."""

    project = models.ForeignKey(Project, related_name="receipts", on_delete=models.PROTECT)
    entry = models.ForeignKey(
        LedgerEntry, null=True, blank=True, related_name="receipts", on_delete=models.PROTECT
    )
    expense = models.ForeignKey(
        Expense, null=True, blank=True, related_name="receipts", on_delete=models.PROTECT
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(entry__isnull=False, expense__isnull=True)
                | Q(entry__isnull=True, expense__isnull=False),
                name="receipt_one_owner",
            )
        ]


class Levy(AppendOnlyModel):
    """The owners' share of a project's cost, split pro rata by exclusive area (Art. 283)."""

    project = models.OneToOneField(Project, related_name="levy", on_delete=models.PROTECT)
    total = _money(_("total levied (yuan)"))
    area_total = models.DecimalField(_("total area (m²)"), max_digits=12, decimal_places=2)
    note = models.TextField(_("basis"), blank=True)
    created_by = user_fk(_("set by"))
    created_at = models.DateTimeField(_("set at"))

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(total__gt=0), name="levy_total_positive")]


class LevyShare(AppendOnlyModel):
    levy = models.ForeignKey(Levy, related_name="shares", on_delete=models.PROTECT)
    unit = models.ForeignKey("housing.Unit", related_name="+", on_delete=models.PROTECT)
    area_m2 = models.DecimalField(_("area (m²)"), max_digits=9, decimal_places=2)
    amount = _money(_("share (yuan)"))

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["levy", "unit"], name="levyshare_once")]


class Dispute(models.Model):
    class State(models.TextChoices):
        OPEN = "open", _("Open")
        SETTLED = "settled", _("Settled")
        UNSETTLED = "unsettled", _("Closed without agreement")

    project = models.ForeignKey(Project, related_name="disputes", on_delete=models.PROTECT)
    title = models.CharField(_("title"), max_length=120)
    parties = models.TextField(_("parties"), max_length=1000)
    issue = models.TextField(_("what it is about"), max_length=4000)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    outcome = models.TextField(_("outcome"), blank=True)
    meeting = models.ForeignKey(
        "meetings.Meeting",
        verbose_name=_("meeting"),
        null=True,
        blank=True,
        related_name="project_disputes",
        on_delete=models.PROTECT,
    )
    opened_by = user_fk(_("logged by"))
    opened_at = models.DateTimeField(_("logged at"))
    closed_by = user_fk(_("closed by"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.title


class MediationStep(AppendOnlyModel):
    dispute = models.ForeignKey(Dispute, related_name="steps", on_delete=models.CASCADE)
    text = models.TextField(_("what was done"), max_length=4000)
    mediator = models.CharField(_("mediated by"), max_length=120, blank=True)
    by = user_fk(_("recorded by"))
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["at", "id"]


class Rating(AppendOnlyModel):
    """Two-way supervision: residents rate the project and the bodies at acceptance; the
    community rates party members' and units' contribution. Both are published."""

    class Direction(models.TextChoices):
        RESIDENT = "resident", _("Residents rate")
        COMMUNITY = "community", _("Community rates")

    class Target(models.TextChoices):
        PROJECT = "project", _("The project")
        COMMITTEE = "committee", _("Owners' committee")
        BRANCH = "branch", _("Joint party branch")
        UNIT = "unit", _("Member unit")
        PARTY_MEMBER = "party_member", _("Party member")

    project = models.ForeignKey(Project, related_name="ratings", on_delete=models.PROTECT)
    direction = models.CharField(_("who rates"), max_length=10, choices=Direction.choices)
    target = models.CharField(_("rated"), max_length=12, choices=Target.choices)
    organisation = models.ForeignKey(
        "orgs.Organisation", null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )
    person = models.ForeignKey(
        "orgs.Person", null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )
    score = models.PositiveSmallIntegerField(_("score"))
    comment = models.TextField(_("comment"), blank=True)
    household = models.ForeignKey(
        "housing.Unit", null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )
    staff_assisted = models.BooleanField(_("recorded by staff"), default=False)
    rated_by = user_fk(_("recorded by"))
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="rating_score_1_5"),
            models.CheckConstraint(
                condition=Q(direction="community") | Q(household__isnull=False),
                name="rating_resident_household",
            ),
        ]


class Objection(models.Model):
    """A resident's objection; the project cannot close while one is unanswered."""

    project = models.ForeignKey(Project, related_name="objections", on_delete=models.PROTECT)
    text = models.TextField(_("objection"), max_length=2000)
    household = models.ForeignKey(
        "housing.Unit", null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )
    raised_by = user_fk(_("raised by"))
    staff_assisted = models.BooleanField(_("recorded by staff"), default=False)
    raised_at = models.DateTimeField(_("raised at"))
    answer = models.TextField(_("answer"), blank=True)
    answered_by = user_fk(_("answered by"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.text[:60]
