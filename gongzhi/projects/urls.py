"""Staff pages of community projects, under ``projects/``; the money pages are in
``urls_money``, the printable statement in ``urls_print``."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from gongzhi.projects import urls_money, urls_print, views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.project_list, name="project-list"),
    *urls_money.urlpatterns,
    *urls_print.urlpatterns,
]
