from __future__ import annotations

import pytest
from django.core.management import call_command


@pytest.fixture(scope="session")
def demo_county(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """The demo county, seeded once per test session and shared read-only by the tests."""
    with django_db_blocker.unblock():
        call_command("seed-demo", verbosity=0)
    return True
