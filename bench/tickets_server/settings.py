"""The application's settings, with the bench URLs and without the public intake rate limit.

The benchmark sends thousands of requests a minute from one address; the per-address and
per-phone limits (``GONGZHI_INTAKE_RATE``) would answer most of them with 429 and measure
the limiter instead of the intake.
"""

from __future__ import annotations

from gongzhi.settings import *  # noqa: F403

ROOT_URLCONF = "tickets_server.urls"
GONGZHI_INTAKE_RATE = (10**9, 10**9, 3600)
