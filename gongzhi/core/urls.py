from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from gongzhi.core import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.RateLimitedLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("audit/", views.audit_log, name="audit-log"),
    path("q/<str:token>/", views.public_channel, name="public-channel"),
]
