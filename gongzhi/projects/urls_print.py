"""The printable statement of a project's accounts (HTML and PDF), for staff."""

from __future__ import annotations

from django.urls import URLPattern, path

from gongzhi.projects import views_print

urlpatterns: list[URLPattern] = [
    path("<int:pk>/statement/", views_print.statement_page, name="project-statement"),
    path("<int:pk>/statement.pdf", views_print.statement_pdf, name="project-statement-pdf"),
]
