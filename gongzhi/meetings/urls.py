"""The staff pages of meetings and action items, included under ``meetings/``."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from gongzhi.meetings import views, views_items, views_record, views_session

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.meeting_list, name="meeting-list"),
    path("new/", views.meeting_new, name="meeting-new"),
    path("<int:pk>/", views.meeting_detail, name="meeting-detail"),
    path("<int:pk>/act/<str:action>/", views.meeting_act, name="meeting-act"),
    path("<int:pk>/invite/", views_session.invite, name="meeting-invite"),
    path("<int:pk>/agenda/", views_session.agenda_add, name="meeting-agenda-add"),
    path("<int:pk>/sign-in/", views_session.sign_in, name="meeting-sign-in"),
    path("<int:pk>/sign-in/<str:token>/", views_session.self_sign_in, name="meeting-self-sign-in"),
    path("<int:pk>/addenda/", views_record.addendum, name="meeting-addendum"),
    path("items/<int:pk>/minutes/", views_record.minutes, name="meeting-item-minutes"),
    path("items/<int:pk>/resolve/", views_record.resolve, name="meeting-item-resolve"),
    path("resolutions/<int:pk>/actions/new/", views_record.action_new, name="meeting-action-new"),
    path("resolutions/<int:pk>/redispatch/", views_record.redispatch, name="meeting-redispatch"),
    path("attachments/<int:pk>/", views_record.attachment, name="meeting-attachment"),
    path("actions/", views_items.action_list, name="meeting-action-list"),
    path("actions/<int:pk>/", views_items.action_detail, name="meeting-action-detail"),
    path("actions/<int:pk>/act/<str:action>/", views_items.action_act, name="meeting-action-act"),
    path("evidence/<int:pk>/", views_items.evidence, name="meeting-evidence"),
    path("warnings/", include("gongzhi.meetings.urls_warnings")),
    path("", include("gongzhi.meetings.urls_print")),
]
