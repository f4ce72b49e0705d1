from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from gongzhi.core.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: audit events are append-only, even for superusers."""

    list_display = ("at", "actor_label", "kind", "action", "object_repr", "reason")
    list_filter = ("kind", "action")
    search_fields = ("actor_label", "object_repr", "reason", "action")
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
