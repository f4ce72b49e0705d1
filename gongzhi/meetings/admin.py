"""Admin for superusers: the hot-issue thresholds are configuration and editable here (one
row); the warnings set aside are a record and only shown."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from gongzhi.meetings.models import DismissedWarning, HotIssueSettings


@admin.register(HotIssueSettings)
class HotIssueSettingsAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "window_days",
        "cluster_min",
        "building_cluster_min",
        "rise_min",
        "rise_factor",
    ]

    def has_add_permission(self, request: Any) -> bool:
        # One row: ``HotIssueSettings.current()`` reads the first and ignores any other.
        return not HotIssueSettings.objects.exists() and super().has_add_permission(request)


@admin.register(DismissedWarning)
class DismissedWarningAdmin(admin.ModelAdmin):
    list_display = ["key", "count", "area_path", "dismissed_by", "dismissed_at"]
    search_fields = ["key", "area_path"]
    date_hierarchy = "dismissed_at"

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
