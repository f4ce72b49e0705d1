from __future__ import annotations

from django.urls import path

from gongzhi.tickets import views

urlpatterns = [
    path("report/", views.report, name="ticket-report"),
    path("report/plan/<int:pk>.svg", views.plan_svg, name="ticket-plan"),
    path("report/mine/", views.my_requests, name="ticket-mine"),
    path("t/<str:token>/", views.track, name="ticket-track"),
    path("t/<str:token>/photo/<int:pk>/", views.public_photo, name="ticket-public-photo"),
    path("t/<str:token>/<str:action>/", views.track_act, name="ticket-track-act"),
    path("metoo/<int:pk>/", views.me_too, name="ticket-me-too"),
    path("tickets/", views.ticket_list, name="ticket-list"),
    path("tickets/new/", views.ticket_new, name="ticket-new"),
    path("tickets/tasks/", views.task_list, name="task-list"),
    path("tickets/routing/", views.routing_rules, name="ticket-routing"),
    path("tickets/photo/<int:pk>/", views.photo, name="ticket-photo"),
    path("tickets/<int:pk>/", views.ticket_detail, name="ticket-detail"),
    path("tickets/<int:pk>/act/<str:action>/", views.ticket_act, name="ticket-act"),
    path("tickets/tasks/<int:pk>/act/<str:action>/", views.task_act, name="task-act"),
    path("tickets/approvals/<int:pk>/decide/", views.approval_decide, name="approval-decide"),
    path("inbox/", views.inbox, name="inbox"),
]
