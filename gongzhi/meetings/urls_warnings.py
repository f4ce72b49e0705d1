"""The hot-issue warning's pages, included under ``meetings/warnings/``."""

from __future__ import annotations

from django.urls import URLPattern, path

from gongzhi.meetings import views_warnings

urlpatterns: list[URLPattern] = [
    path("", views_warnings.hot_issues_page, name="meeting-warnings"),
    path("adopt/", views_warnings.adopt, name="meeting-warning-adopt"),
    path("dismiss/", views_warnings.dismiss, name="meeting-warning-dismiss"),
]
