from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from tickets_server import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("bench/minimal", views.minimal),
    path("bench/file-ticket", views.file_ticket),
    path("", include("gongzhi.urls")),
]
