"""The fund pages of a project: ledger, income, expenses and approvals, levy."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
