"""Public project pages and ledgers of a compound (no sign-in), included under ``c/``."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
