"""Housing registry: compounds, buildings, entrances, exclusive units, owners and residents."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core.masking import MaskedPhoneMixin
from gongzhi.orgs.models import Area


class Compound(models.Model):
    """A residential compound (小区); ``unmanaged`` means no property-management company."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100, db_index=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    year_built = models.PositiveSmallIntegerField(_("year built"), null=True, blank=True)
    unmanaged = models.BooleanField(_("no property management"), default=True, db_index=True)
    open = models.BooleanField(_("open compound"), default=True)
    households_count = models.PositiveIntegerField(_("households"), default=0)
    community = models.ForeignKey(
        Area,
        verbose_name=_("community"),
        related_name="compounds",
        on_delete=models.PROTECT,
        limit_choices_to={"level": Area.Level.COMMUNITY},
    )
    grids: models.ManyToManyField[Area, CompoundGrid] = models.ManyToManyField(
        Area, verbose_name=_("grids"), through="CompoundGrid", related_name="grid_compounds", blank=True
    )
    # Copy of community.path, kept by the actions that set the community: one indexed prefix
    # query then finds every compound below a town or the county.
    area_path = models.CharField(_("area path"), max_length=255, db_index=True)

    class Meta:
        verbose_name = _("compound")
        verbose_name_plural = _("compounds")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.area_path = self.community.path
        super().save(*args, **kwargs)

    def audit_area_path(self) -> str:
        return self.area_path


class CompoundGrid(models.Model):
    compound = models.ForeignKey(Compound, on_delete=models.CASCADE, related_name="grid_links")
    grid = models.ForeignKey(
        Area,
        on_delete=models.PROTECT,
        related_name="compound_links",
        limit_choices_to={"level": Area.Level.GRID},
    )

    class Meta:
        verbose_name = _("compound grid")
        verbose_name_plural = _("compound grids")
        constraints = [models.UniqueConstraint(fields=["compound", "grid"], name="compoundgrid_unique")]

    def __str__(self) -> str:
        return f"{self.compound_id} · {self.grid_id}"


class Building(models.Model):
    compound = models.ForeignKey(
        Compound, verbose_name=_("compound"), related_name="buildings", on_delete=models.PROTECT
    )
    number = models.CharField(_("building number"), max_length=20)
    floors = models.PositiveSmallIntegerField(_("floors"), null=True, blank=True)
    grid = models.ForeignKey(
        Area,
        verbose_name=_("grid"),
        null=True,
        blank=True,
        related_name="buildings",
        on_delete=models.PROTECT,
        limit_choices_to={"level": Area.Level.GRID},
    )

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["compound", "id"]
        constraints = [models.UniqueConstraint(fields=["compound", "number"], name="building_number_unique")]

    def __str__(self) -> str:
        return f"{self.compound.name} {self.label}"

    @property
    def label(self) -> str:
        return _("Building %(number)s") % {"number": self.number}

    def audit_area_path(self) -> str:
        return self.compound.area_path


class Entrance(models.Model):
    building = models.ForeignKey(
        Building, verbose_name=_("building"), related_name="entrances", on_delete=models.PROTECT
    )
    number = models.CharField(_("entrance number"), max_length=20)

    class Meta:
        verbose_name = _("entrance")
        verbose_name_plural = _("entrances")
        ordering = ["building", "id"]
        constraints = [models.UniqueConstraint(fields=["building", "number"], name="entrance_number_unique")]

    def __str__(self) -> str:
        return _("Entrance %(number)s") % {"number": self.number}


class Unit(models.Model):
    """An exclusive part (专有部分): the thing that has an area and votes."""

    class AreaSource(models.TextChoices):
        # In order of precedence (SPC interpretation Art. 8): register > survey > contract.
        REGISTER = "register", _("Land register")
        SURVEY = "survey", _("Survey")
        CONTRACT = "contract", _("Sale contract")

    class Kind(models.TextChoices):
        RESIDENTIAL = "residential", _("Residential")
        COMMERCIAL = "commercial", _("Commercial")
        PARKING = "parking", _("Parking")

    compound = models.ForeignKey(
        Compound, verbose_name=_("compound"), related_name="units", on_delete=models.PROTECT
    )
    building = models.ForeignKey(
        Building, verbose_name=_("building"), related_name="units", on_delete=models.PROTECT
    )
    entrance = models.ForeignKey(
        Entrance, verbose_name=_("entrance"), related_name="units", on_delete=models.PROTECT
    )
    number = models.CharField(_("unit number"), max_length=20)
    floor = models.SmallIntegerField(_("floor"), null=True, blank=True)
    area_m2 = models.DecimalField(
        _("area (m²)"), max_digits=9, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    area_source = models.CharField(_("area source"), max_length=10, choices=AreaSource.choices)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.RESIDENTIAL)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["entrance", "number"], name="unit_number_unique"),
            models.CheckConstraint(condition=Q(area_m2__gt=0), name="unit_area_positive"),
        ]
        # Staff search a room number across their whole area ("who lives in 301?").
        indexes = [models.Index(fields=["number"], name="unit_number_idx")]

    def __str__(self) -> str:
        return f"{self.building.number}-{self.entrance.number}-{self.number}"

    @property
    def address_label(self) -> str:
        return _("Building %(b)s, entrance %(e)s, room %(n)s") % {
            "b": self.building.number,
            "e": self.entrance.number,
            "n": self.number,
        }

    def audit_area_path(self) -> str:
        return self.compound.area_path


class Owner(MaskedPhoneMixin, models.Model):
    class Kind(models.TextChoices):
        NATURAL = "natural", _("Natural person")
        LEGAL = "legal", _("Legal person")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.NATURAL)
    name = models.CharField(_("name"), max_length=100, db_index=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    is_developer = models.BooleanField(
        _("developer"),
        default=False,
        help_text=_("All units a developer still holds count together as one owner in votes."),
    )
    # Stable identity for imports (hash of kind, name and phone): re-imports find the same owner.
    identity_key = models.CharField(_("identity key"), max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        related_name="owner_records",
        on_delete=models.SET_NULL,
    )

    class Meta:
        verbose_name = _("owner")
        verbose_name_plural = _("owners")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Ownership(models.Model):
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), related_name="ownerships", on_delete=models.CASCADE
    )
    owner = models.ForeignKey(
        Owner, verbose_name=_("owner"), related_name="ownerships", on_delete=models.PROTECT
    )

    class Meta:
        verbose_name = _("ownership")
        verbose_name_plural = _("ownerships")
        constraints = [models.UniqueConstraint(fields=["unit", "owner"], name="ownership_unique")]

    def __str__(self) -> str:
        return f"{self.owner} · {self.unit}"


class Resident(MaskedPhoneMixin, models.Model):
    """A person living in a unit; the residents of one unit form its household."""

    class Tenure(models.TextChoices):
        OWNER = "owner", _("Owner")
        FAMILY = "family", _("Owner's family")
        TENANT = "tenant", _("Tenant")

    unit = models.ForeignKey(Unit, verbose_name=_("unit"), related_name="residents", on_delete=models.PROTECT)
    name = models.CharField(_("name"), max_length=60)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    tenure = models.CharField(_("tenure"), max_length=10, choices=Tenure.choices, default=Tenure.OWNER)
    is_household_head = models.BooleanField(_("head of household"), default=False)
    birth_year = models.PositiveSmallIntegerField(_("year of birth"), null=True, blank=True)
    moved_in = models.DateField(_("moved in"), null=True, blank=True)
    moved_out = models.DateField(_("moved out"), null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        related_name="resident_records",
        on_delete=models.SET_NULL,
    )
    person = models.ForeignKey(
        "orgs.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        related_name="residences",
        on_delete=models.SET_NULL,
    )

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    def audit_area_path(self) -> str:
        return self.unit.compound.area_path


def new_channel_token() -> str:
    return secrets.token_urlsafe(9)


class ServiceChannel(models.Model):
    """A way residents reach the mechanism: a QR poster on a building, a hotline, a group chat."""

    class Kind(models.TextChoices):
        QR_POSTER = "qr_poster", _("QR code poster")
        HOTLINE = "hotline", _("Hotline")
        CHAT_GROUP = "chat_group", _("Group chat")

    compound = models.ForeignKey(
        Compound, verbose_name=_("compound"), related_name="channels", on_delete=models.CASCADE
    )
    building = models.ForeignKey(
        Building,
        verbose_name=_("building"),
        null=True,
        blank=True,
        related_name="channels",
        on_delete=models.CASCADE,
        help_text=_("Empty when the channel serves the whole compound."),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    token = models.CharField(_("token"), max_length=32, unique=True, default=new_channel_token)
    detail = models.CharField(_("detail"), max_length=120, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)

    class Meta:
        verbose_name = _("service channel")
        verbose_name_plural = _("service channels")
        ordering = ["compound", "building", "kind"]

    def __str__(self) -> str:
        where = str(self.building) if self.building_id else self.compound.name
        return f"{self.get_kind_display()} · {where}"

    def audit_area_path(self) -> str:
        return self.compound.area_path
