"""The public compound page and the public minutes (no sign-in), included under ``c/``."""

from __future__ import annotations

from django.urls import URLPattern, path

from gongzhi.meetings import views_public

urlpatterns: list[URLPattern] = [
    path("<str:code>/", views_public.compound_page, name="public-compound"),
    path("<str:code>/meetings/<int:pk>/", views_public.meeting_minutes, name="public-meeting-minutes"),
    path(
        "<str:code>/meetings/<int:pk>.pdf",
        views_public.meeting_minutes_pdf,
        name="public-meeting-minutes-pdf",
    ),
]
