"""WSGI entry point for gunicorn: ``gunicorn --pythonpath bench tickets_server.wsgi``."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tickets_server.settings")
application = get_wsgi_application()
