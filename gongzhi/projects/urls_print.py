"""The printable statement of a project's accounts (HTML and PDF), for staff."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
