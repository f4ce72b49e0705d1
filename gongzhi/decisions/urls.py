from __future__ import annotations

from django.urls import path

from gongzhi.decisions import public, views

urlpatterns = [
    path("", views.decision_list, name="decision-list"),
    path("new/", views.decision_new, name="decision-new"),
    path("<int:pk>/", views.decision_detail, name="decision-detail"),
    path("<int:pk>/progress/", views.progress_partial, name="decision-progress"),
    path("<int:pk>/act/<str:action>/", views.decision_act, name="decision-act"),
    path("<int:pk>/ballot/", views.ballot_entry, name="decision-ballot"),
    path("<int:pk>/not-voted/", views.not_voted, name="decision-not-voted"),
    path("<int:pk>/slips/", views.voting_slips, name="decision-slips"),
    path("<int:pk>/papers/", views.ballot_papers, name="decision-papers"),
    path("<int:pk>/export.jsonl", views.export, name="decision-export"),
    path("<int:pk>/notice/", views.notice, name="decision-notice"),
    path("<int:pk>/notice.pdf", views.notice_pdf, name="decision-notice-pdf"),
    path("v/", public.vote_start, name="vote-start"),
    path("phone/", public.vote_phone, name="vote-phone"),
    path("phone/units/", public.vote_phone_units, name="vote-phone-units"),
    path("v/<str:code>/", public.vote_ballot, name="vote-ballot"),
    path("v/<str:code>/doc/<int:doc>/", public.vote_document, name="vote-document"),
    path("v/<str:code>/objection/", public.vote_objection, name="vote-objection"),
]
