"""Admin for superusers: the list of project service types is configuration and editable
here; the ledger is a record and only shown (it changes through the project pages)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from gongzhi.projects.models import LedgerEntry, ServiceType


@admin.register(ServiceType)
class ServiceTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "position", "active"]
    list_editable = ["position", "active"]
    ordering = ["position", "id"]

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        # Projects refer to their service types; retire one by unticking "in use".
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    list_display = ["project", "seq", "direction", "source", "amount", "balance_after", "occurred_on"]
    list_filter = ["direction", "source"]
    search_fields = ["project__code", "project__title", "purpose"]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
