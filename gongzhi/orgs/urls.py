from __future__ import annotations

from django.urls import path

from gongzhi.orgs import views

urlpatterns = [
    path("", views.org_list, name="org-list"),
    path("<str:code>/", views.org_detail, name="org-detail"),
]
