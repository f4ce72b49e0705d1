"""Public project pages and ledgers of a compound (no sign-in), included under ``c/``."""

from __future__ import annotations

from django.urls import URLPattern, path

from gongzhi.projects import views_public

urlpatterns: list[URLPattern] = [
    path("<str:code>/projects/", views_public.project_list, name="public-projects"),
    path("<str:code>/projects/<int:pk>/", views_public.project_page, name="public-project"),
    path(
        "<str:code>/projects/<int:pk>/photos/<int:photo_id>/",
        views_public.photo,
        name="public-project-photo",
    ),
    path(
        "<str:code>/projects/<int:pk>/receipts/<int:receipt_id>/",
        views_public.receipt,
        name="public-project-receipt",
    ),
    path(
        "<str:code>/projects/<int:pk>/statement.pdf",
        views_public.statement_pdf,
        name="public-project-statement-pdf",
    ),
]
