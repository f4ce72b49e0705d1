"""Staff pages of community projects, under ``projects/``; the money pages are in
``urls_money``, the printable statement in ``urls_print``."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from gongzhi.projects import urls_money, urls_print, views, views_detail, views_record

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.project_list, name="project-list"),
    path("new/", views.project_new, name="project-new"),
    path("<int:pk>/", views_detail.project_detail, name="project-detail"),
    path("<int:pk>/move/<str:to>/", views_record.move, name="project-move"),
    path("<int:pk>/leads/", views_record.lead_add, name="project-lead-add"),
    path("<int:pk>/milestones/", views_record.milestone_add, name="project-milestone-add"),
    path("milestones/<int:pk>/progress/", views_record.progress_report, name="project-progress"),
    path("photos/<int:pk>/", views.photo, name="project-photo"),
    path("<int:pk>/disputes/", views_record.dispute_open, name="project-dispute-open"),
    path("disputes/<int:pk>/steps/", views_record.mediation_add, name="project-mediation-add"),
    path("disputes/<int:pk>/close/", views_record.dispute_close, name="project-dispute-close"),
    path("<int:pk>/objections/", views_record.objection_raise, name="project-objection"),
    path("objections/<int:pk>/answer/", views_record.objection_answer, name="project-objection-answer"),
    path("<int:pk>/rate/", views_record.rate, name="project-rate"),
    path("<int:pk>/contribution/", views_record.contribution_rate, name="project-contribution"),
    *urls_money.urlpatterns,
    *urls_print.urlpatterns,
]
