"""Routes of the Open311 endpoint; mounted at ``/open311/v2/`` by ``gongzhi.urls``.

``(?:\\.(?P<fmt>…))?`` is the format suffix; the view refuses formats other than xml and json
in the spec's error format. Any other path answers with an Open311 404, not an HTML page.
"""

from __future__ import annotations

from django.urls import re_path

from gongzhi.tickets.open311 import views

FMT = r"(?:\.(?P<fmt>[A-Za-z0-9]+))?"

urlpatterns = [
    re_path(r"^$", views.discovery, name="open311-root"),
    re_path(rf"^discovery{FMT}$", views.discovery, name="open311-discovery"),
    re_path(rf"^services{FMT}$", views.services, name="open311-services"),
    re_path(rf"^services/(?P<code>[^/]+?){FMT}$", views.service_definition, name="open311-service"),
    re_path(rf"^requests{FMT}$", views.service_requests, name="open311-requests"),
    re_path(rf"^requests/(?P<request_id>[^/]+?){FMT}$", views.service_request, name="open311-request"),
    re_path(rf"^tokens/(?P<token>[^/]+?){FMT}$", views.token, name="open311-token"),
    re_path(rf"^servicerequestupdates{FMT}$", views.service_request_updates, name="open311-updates"),
    re_path(
        r"^media/(?P<photo>[0-9]+)-(?P<digest>[0-9a-f]{16})\.(?P<ext>jpg|png|webp)$",
        views.media,
        name="open311-media",
    ),
    re_path(r"^(?P<path>.*)$", views.not_found),
]
