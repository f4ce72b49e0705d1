from __future__ import annotations

from django.contrib import admin

from gongzhi.orgs.models import Area, Membership, Organisation, Person, RoleGrant, ServiceCategory


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "path")
    list_filter = ("level",)
    search_fields = ("code", "name")
    readonly_fields = ("path", "depth")


class MembershipInline(admin.TabularInline):
    model = Membership
    raw_id_fields = ("person",)
    extra = 0


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "area", "compound", "dissolved_on")
    list_filter = ("kind",)
    search_fields = ("code", "name")
    raw_id_fields = ("area", "parent", "compound")
    filter_horizontal = ("service_categories",)
    autocomplete_fields = ()
    inlines = [MembershipInline]


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ("name", "is_party_member", "party_registered_community")
    list_filter = ("is_party_member",)
    search_fields = ("name",)
    raw_id_fields = ("user", "party_registered_community", "home_area")


@admin.register(RoleGrant)
class RoleGrantAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "area", "compound", "organisation", "granted_at", "revoked_at")
    list_filter = ("role",)
    search_fields = ("user__username",)
    raw_id_fields = ("user", "area", "compound", "organisation", "granted_by")


@admin.register(ServiceCategory)
class ServiceCategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "parent")
