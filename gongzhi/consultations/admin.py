"""Admin for superusers: the opinion categories and reply templates are configuration and
editable here; consultations, responses and opinions change only through the actions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from gongzhi.consultations.models import Consultation, OpinionCategory, ReplyTemplate


@admin.register(OpinionCategory)
class OpinionCategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "order", "active"]
    list_editable = ["order", "active"]


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "outcome", "category", "active"]
    list_filter = ["outcome", "active"]


@admin.register(Consultation)
class ConsultationAdmin(admin.ModelAdmin):
    list_display = ["title", "round_number", "state", "households_count", "area_path"]
    list_filter = ["state"]

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
