"""The notice and the minutes to print and as PDFs, included under ``meetings/``."""

from __future__ import annotations

from django.urls import URLPattern, path

from gongzhi.meetings import views_print

urlpatterns: list[URLPattern] = [
    path("<int:pk>/notice/", views_print.notice, name="meeting-notice"),
    path("<int:pk>/notice.pdf", views_print.notice_pdf, name="meeting-notice-pdf"),
    path("<int:pk>/minutes/", views_print.minutes, name="meeting-minutes"),
    path("<int:pk>/minutes.pdf", views_print.minutes_pdf, name="meeting-minutes-pdf"),
]
