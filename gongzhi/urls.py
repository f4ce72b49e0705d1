from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from gongzhi.api import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("registry/", include("gongzhi.housing.urls")),
    path("orgs/", include("gongzhi.orgs.urls")),
    path("coverage/", include("gongzhi.coverage.urls")),
    path("", include("gongzhi.tickets.urls")),
    path("api/v1/", api.urls),
    path("kpi/", include("gongzhi.dashboards.urls")),
    path("votes/", include("gongzhi.decisions.urls")),
    path("consultations/", include("gongzhi.consultations.urls")),
    path("meetings/", include("gongzhi.meetings.urls")),
    path("c/", include("gongzhi.meetings.urls_public")),
    path("c/", include("gongzhi.projects.urls_public")),
    path("projects/", include("gongzhi.projects.urls")),
    path("volunteers/", include("gongzhi.volunteers.urls")),
    path("open311/v2/", include("gongzhi.tickets.open311.urls")),
    path("", include("gongzhi.core.urls")),
]
if settings.DEMO:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()

handler403 = "gongzhi.core.views.permission_denied"
handler404 = "gongzhi.core.views.page_not_found"
handler500 = "gongzhi.core.views.server_error"
