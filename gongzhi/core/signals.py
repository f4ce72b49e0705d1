"""Sign-ins leave an audit event too: who entered the system, when and from where."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from gongzhi.core.audit import record_access
from gongzhi.core.models import AuditEvent


@receiver(user_logged_in)
def log_sign_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record_access(user, "auth.login", kind=AuditEvent.Kind.LOGIN, request=request)
