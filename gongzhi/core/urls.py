from __future__ import annotations

from django.urls import path

from gongzhi.core import views

urlpatterns = [
    path("", views.home, name="home"),
]
