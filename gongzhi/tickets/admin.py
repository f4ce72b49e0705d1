"""Admin for superusers: the configuration tables are editable; requests are read-only here
(they change only through the workflow, which writes their events)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from gongzhi.tickets.models import CategoryQuestion, CategorySetting, Holiday, RoutingRule, Ticket, TimeLimit


@admin.register(TimeLimit)
class TimeLimitAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "accept_hours", "resolve_hours", "working_days"]


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "name", "is_workday"]


@admin.register(CategorySetting)
class CategorySettingAdmin(admin.ModelAdmin):
    list_display = ["category", "time_limit", "photo_required", "public"]


@admin.register(CategoryQuestion)
class CategoryQuestionAdmin(admin.ModelAdmin):
    list_display = ["category", "code", "label", "datatype", "required", "order"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["category", "area", "lead_unit"]
    filter_horizontal = ["co_units"]


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["id", "category", "state", "channel", "created_at", "lead_unit"]
    list_filter = ["state", "channel"]
    exclude = ["reporter_phone", "reporter_email", "reporter_name"]

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: Any) -> bool:
        return False
