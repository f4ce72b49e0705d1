"""Volunteer activities, hours and points, party members' posts, under ``volunteers/``."""

from __future__ import annotations

from django.urls import URLPattern, path

from gongzhi.volunteers import views, views_checkin, views_points, views_posts

urlpatterns: list[URLPattern] = [
    path("", views.activity_list, name="activity-list"),
    path("new/", views.activity_new, name="activity-new"),
    path("<int:pk>/", views.activity_detail, name="activity-detail"),
    path("<int:pk>/sign-up/", views.sign_up, name="activity-sign-up"),
    path("<int:pk>/sign-up/cancel/", views.cancel_sign_up, name="activity-sign-up-cancel"),
    path("<int:pk>/enrol/", views.enrol, name="activity-enrol"),
    path("<int:pk>/desk/", views.desk, name="activity-desk"),
    path("<int:pk>/verify/", views.verify, name="activity-verify"),
    path("<int:pk>/cancel/", views.cancel, name="activity-cancel"),
    path("<int:pk>/poster/", views_checkin.poster, name="activity-poster"),
    path("scan/<str:code>/", views_checkin.scan, name="activity-scan"),
    path("me/", views_points.me, name="volunteer-me"),
    path("people/<int:pk>/", views_points.person_points, name="volunteer-person"),
    path("board/", views_points.board, name="volunteer-board"),
    path("board/<int:pk>/", views_points.board, name="volunteer-board-branch"),
    path("posts/", views_posts.post_list, name="post-list"),
    path("posts/new/", views_posts.post_new, name="post-new"),
    path("posts/<int:pk>/take/", views_posts.post_take, name="post-take"),
    path("posts/<int:pk>/assign/", views_posts.post_assign, name="post-assign"),
    path("posts/<int:pk>/close/", views_posts.post_close, name="post-close"),
    path("posts/held/<int:pk>/leave/", views_posts.post_leave, name="post-leave"),
    path("party/register/", views_posts.party_register, name="party-register"),
]
