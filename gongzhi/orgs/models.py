"""Area tree, organisations of the joint mechanism, people and role grants."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core.masking import MaskedPhoneMixin


class Area(models.Model):
    """A node of county > town > community > grid, addressed by a materialized path."""

    class Level(models.TextChoices):
        COUNTY = "county", _("County")
        TOWN = "town", _("Town / subdistrict")
        COMMUNITY = "community", _("Community")
        GRID = "grid", _("Grid")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        related_name="children",
        on_delete=models.PROTECT,
    )
    # "/330921/330921100/330921100001/": every descendant's path starts with its ancestors'.
    path = models.CharField(_("path"), max_length=255, unique=True)
    depth = models.PositiveSmallIntegerField(_("depth"), default=0)

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def audit_area_path(self) -> str:
        return self.path

    def ancestors(self) -> models.QuerySet[Area]:
        codes = [code for code in self.path.strip("/").split("/") if code]
        return Area.objects.filter(code__in=codes).order_by("depth")

    @property
    def full_name(self) -> str:
        return " / ".join(a.name for a in self.ancestors())


LEVEL_ORDER = [Area.Level.COUNTY, Area.Level.TOWN, Area.Level.COMMUNITY, Area.Level.GRID]


class ServiceCategory(models.Model):
    """A kind of resident request a member unit handles (a tree: utilities > power)."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        related_name="children",
        on_delete=models.PROTECT,
    )

    class Meta:
        verbose_name = _("service category")
        verbose_name_plural = _("service categories")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Person(MaskedPhoneMixin, models.Model):
    """A natural person taking part in the mechanism: member of a branch, committee, unit…"""

    name = models.CharField(_("name"), max_length=60)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("account"), null=True, blank=True, on_delete=models.SET_NULL
    )
    is_party_member = models.BooleanField(_("party member"), default=False)
    # 双报到: serving party members register with the community where they live.
    party_registered_community = models.ForeignKey(
        Area,
        verbose_name=_("registered with community"),
        null=True,
        blank=True,
        related_name="registered_party_members",
        on_delete=models.PROTECT,
        limit_choices_to={"level": Area.Level.COMMUNITY},
    )
    party_registered_on = models.DateField(_("registered on"), null=True, blank=True)
    home_area = models.ForeignKey(
        Area, verbose_name=_("lives in"), null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    def audit_area_path(self) -> str:
        return self.home_area.path if self.home_area is not None else ""


class Organisation(models.Model):
    """Any body of the mechanism; ``kind`` says which, and which fields apply."""

    class Kind(models.TextChoices):
        PARTY_ORG = "party_org", _("Community party organisation")
        GRID_GROUP = "grid_group", _("Grid party group")
        JOINT_BRANCH = "joint_branch", _("Joint party branch")
        OWNERS_COMMITTEE = "owners_committee", _("Owners' committee")
        RESIDENTS_COMMITTEE = "residents_committee", _("Residents' committee (standing in)")
        MANAGEMENT_COMMITTEE = "management_committee", _("Management committee (standing in)")
        MEMBER_UNIT = "member_unit", _("Member unit")
        SOCIAL_ORG = "social_org", _("Social organisation")
        VOLUNTEER_TEAM = "volunteer_team", _("Volunteer team")

    COMMITTEE_KINDS = (Kind.OWNERS_COMMITTEE, Kind.RESIDENTS_COMMITTEE, Kind.MANAGEMENT_COMMITTEE)

    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices, db_index=True)
    name = models.CharField(_("name"), max_length=120)
    code = models.CharField(_("code"), max_length=40, unique=True)
    area = models.ForeignKey(
        Area, verbose_name=_("area"), related_name="organisations", on_delete=models.PROTECT
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent organisation"),
        null=True,
        blank=True,
        related_name="children",
        on_delete=models.PROTECT,
    )
    # Committees belong to one compound; a joint branch covers compounds and/or single buildings.
    compound = models.ForeignKey(
        "housing.Compound",
        verbose_name=_("compound"),
        null=True,
        blank=True,
        related_name="organisations",
        on_delete=models.PROTECT,
    )
    covered_compounds = models.ManyToManyField(
        "housing.Compound", verbose_name=_("covered compounds"), blank=True, related_name="covering_branches"
    )
    covered_buildings = models.ManyToManyField(
        "housing.Building", verbose_name=_("covered buildings"), blank=True, related_name="covering_branches"
    )
    service_categories = models.ManyToManyField(
        ServiceCategory, verbose_name=_("service categories"), blank=True, related_name="member_units"
    )
    phone = models.CharField(_("public phone"), max_length=20, blank=True)
    founded_on = models.DateField(_("founded on"), null=True, blank=True)
    dissolved_on = models.DateField(_("dissolved on"), null=True, blank=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["kind", "code"]
        indexes = [models.Index(fields=["kind", "area"], name="org_kind_area_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.dissolved_on is None

    def audit_area_path(self) -> str:
        return self.area.path


class Membership(models.Model):
    class Role(models.TextChoices):
        SECRETARY = "secretary", _("Secretary")
        DEPUTY_SECRETARY = "deputy_secretary", _("Deputy secretary")
        CHAIR = "chair", _("Chair")
        VICE_CHAIR = "vice_chair", _("Vice chair")
        MEMBER = "member", _("Member")
        LIAISON = "liaison", _("Liaison")
        LEADER = "leader", _("Team leader")

    # Leaders first when listing the members of a body.
    RANK = ["secretary", "chair", "deputy_secretary", "vice_chair", "liaison", "leader", "member"]

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), related_name="memberships", on_delete=models.CASCADE
    )
    person = models.ForeignKey(
        Person, verbose_name=_("person"), related_name="memberships", on_delete=models.PROTECT
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.MEMBER)
    started_on = models.DateField(_("term starts"), null=True, blank=True)
    ends_on = models.DateField(_("term ends"), null=True, blank=True)
    left_on = models.DateField(_("left on"), null=True, blank=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["organisation", "role", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "person"],
                condition=Q(left_on__isnull=True),
                name="membership_active_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.organisation} ({self.get_role_display()})"


def membership_rank() -> models.Case:
    """An ordering expression that lists secretaries and chairs before plain members."""
    return models.Case(
        *[models.When(role=role, then=models.Value(i)) for i, role in enumerate(Membership.RANK)],
        default=models.Value(len(Membership.RANK)),
    )


class Role(models.TextChoices):
    COUNTY_ADMIN = "county_admin", _("County administrator")
    TOWN_STAFF = "town_staff", _("Town staff")
    COMMUNITY_STAFF = "community_staff", _("Community staff")
    GRID_WORKER = "grid_worker", _("Grid worker")
    BRANCH_SECRETARY = "branch_secretary", _("Joint branch secretary")
    COMMITTEE_MEMBER = "committee_member", _("Owners' committee member")
    UNIT_LIAISON = "unit_liaison", _("Member unit liaison")
    VOLUNTEER = "volunteer", _("Volunteer")
    RESIDENT = "resident", _("Resident")


class RoleGrant(models.Model):
    """A role granted on one node — an area, a compound or a member unit — applying below it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        related_name="role_grants",
        on_delete=models.CASCADE,
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    area = models.ForeignKey(
        Area,
        verbose_name=_("area"),
        null=True,
        blank=True,
        related_name="role_grants",
        on_delete=models.PROTECT,
    )
    compound = models.ForeignKey(
        "housing.Compound",
        verbose_name=_("compound"),
        null=True,
        blank=True,
        related_name="role_grants",
        on_delete=models.PROTECT,
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("member unit"),
        null=True,
        blank=True,
        related_name="role_grants",
        on_delete=models.PROTECT,
    )
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("granted by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(area__isnull=False, compound__isnull=True, organisation__isnull=True)
                    | Q(area__isnull=True, compound__isnull=False, organisation__isnull=True)
                    | Q(area__isnull=True, compound__isnull=True, organisation__isnull=False)
                ),
                name="rolegrant_exactly_one_node",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} @ {self.node}"

    @property
    def node(self) -> models.Model:
        return self.area or self.compound or self.organisation  # type: ignore[return-value]

    def audit_area_path(self) -> str:
        if self.area is not None:
            return self.area.path
        if self.compound is not None:
            return self.compound.area_path
        return self.organisation.area.path if self.organisation is not None else ""
