from __future__ import annotations

from django.urls import URLPattern, path

from gongzhi.consultations import views, views_households, views_opinions, views_public

urlpatterns: list[URLPattern] = [
    # Staff
    path("", views.consultation_list, name="consultation-list"),
    path("new/", views.consultation_new, name="consultation-new"),
    path("<int:pk>/", views.consultation_detail, name="consultation-detail"),
    path("<int:pk>/edit/", views.consultation_edit, name="consultation-edit"),
    path("<int:pk>/act/<str:action>/", views.consultation_act, name="consultation-act"),
    path("<int:pk>/questions/", views.question_add, name="consultation-question-add"),
    path(
        "<int:pk>/questions/<int:question>/remove/",
        views.question_remove,
        name="consultation-question-remove",
    ),
    path("<int:pk>/documents/", views.document_add, name="consultation-document-add"),
    path("<int:pk>/respond/", views_households.respond, name="consultation-respond"),
    path(
        "<int:pk>/households/<int:household>/",
        views_households.household_detail,
        name="consultation-household",
    ),
    path("<int:pk>/nonresponders/", views_households.nonresponders, name="consultation-nonresponders"),
    path("<int:pk>/slips/", views_households.slips, name="consultation-slips"),
    path("<int:pk>/opinions/", views_opinions.opinion_queue, name="consultation-opinions"),
    path("<int:pk>/opinions/bulk/", views_opinions.opinion_bulk, name="consultation-opinion-bulk"),
    path("<int:pk>/opinions/new/", views_opinions.opinion_new, name="consultation-opinion-new"),
    path("opinions/", views_opinions.my_opinions, name="consultation-my-opinions"),
    path("opinions/<int:pk>/", views_opinions.opinion_detail, name="consultation-opinion"),
    path("opinions/<int:pk>/act/<str:action>/", views_opinions.opinion_act, name="consultation-opinion-act"),
    path("templates/", views_opinions.reply_templates, name="consultation-templates"),
    path("paper/<int:pk>/", views_households.paper_photo, name="consultation-paper-photo"),
    path("doc/<int:pk>/", views.document, name="consultation-document"),
    # Public: no login
    path("p/<int:pk>/", views_public.public_page, name="consultation-public"),
    path("p/<int:pk>/code/", views_public.code_entry, name="consultation-public-code"),
    path("r/", views_public.code_entry, name="consultation-code"),
    path("r/<str:code>/", views_public.resident_page, name="consultation-resident"),
]
