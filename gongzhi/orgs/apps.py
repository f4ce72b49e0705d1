from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgsConfig(AppConfig):
    name = "gongzhi.orgs"
    label = "orgs"
    verbose_name = _("Areas and organisations")
