from __future__ import annotations

from django.urls import path

from gongzhi.coverage import views

urlpatterns = [
    path("", views.coverage_page, name="coverage"),
    path("posters/issue/", views.issue_posters, name="coverage-issue-posters"),
    path("posters/<str:token>/", views.poster, name="coverage-poster"),
    path("compounds/<str:code>/posters/", views.compound_posters, name="coverage-compound-posters"),
]
