"""Volunteer activities, hours and points, party members' posts, under ``volunteers/``."""

from __future__ import annotations

from django.urls import URLPattern, path

from gongzhi.volunteers import views

urlpatterns: list[URLPattern] = [
    path("", views.activity_list, name="activity-list"),
]
