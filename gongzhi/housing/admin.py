from __future__ import annotations

from django.contrib import admin

from gongzhi.housing.models import Building, Compound, Owner, Ownership, Resident, ServiceChannel, Unit


@admin.register(Compound)
class CompoundAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "community", "unmanaged", "open", "households_count")
    list_filter = ("unmanaged", "open")
    search_fields = ("code", "name", "address")
    raw_id_fields = ("community",)
    readonly_fields = ("area_path",)


@admin.register(Building)
class BuildingAdmin(admin.ModelAdmin):
    list_display = ("compound", "number", "floors", "grid")
    search_fields = ("compound__name", "compound__code")
    raw_id_fields = ("compound", "grid")


class OwnershipInline(admin.TabularInline):
    model = Ownership
    raw_id_fields = ("owner",)
    extra = 0


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("compound", "building", "entrance", "number", "area_m2", "area_source", "kind")
    list_filter = ("kind", "area_source")
    search_fields = ("compound__code", "number")
    raw_id_fields = ("compound", "building", "entrance")
    inlines = [OwnershipInline]
    show_full_result_count = False


@admin.register(Owner)
class OwnerAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "is_developer")
    list_filter = ("kind", "is_developer")
    search_fields = ("name",)
    exclude = ("phone",)  # phones are revealed only through the logged reveal action
    readonly_fields = ("identity_key",)
    raw_id_fields = ("user",)
    show_full_result_count = False


@admin.register(Resident)
class ResidentAdmin(admin.ModelAdmin):
    list_display = ("name", "unit", "tenure", "is_household_head", "moved_out")
    list_filter = ("tenure",)
    search_fields = ("name",)
    exclude = ("phone",)
    raw_id_fields = ("unit", "user", "person")
    show_full_result_count = False


@admin.register(ServiceChannel)
class ServiceChannelAdmin(admin.ModelAdmin):
    list_display = ("compound", "building", "kind", "token", "retired_at")
    list_filter = ("kind",)
    raw_id_fields = ("compound", "building")
