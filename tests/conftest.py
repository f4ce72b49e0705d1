from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import translation
from hypothesis import settings as hypothesis_settings

from tests.demo_snapshot import seed_demo

# Property tests run the same examples on every machine: CI never turns red by chance, and a
# failure found locally with a random seed is reproduced as a new explicit example.
hypothesis_settings.register_profile("gongzhi", derandomize=True, deadline=None)
hypothesis_settings.load_profile("gongzhi")


@pytest.fixture(scope="session", autouse=True)
def media_of_the_session(tmp_path_factory):  # type: ignore[no-untyped-def]
    """Uploads and the demo's photos go to a folder of this test session, not to var/media."""
    with override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media"))):
        yield


@pytest.fixture(autouse=True)
def default_language():  # type: ignore[no-untyped-def]
    """Each test starts in the site's language: a page requested in English by the test
    client leaves English active in the thread, which must not reach the next test."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(scope="session")
def demo_county(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """The demo county, seeded once per test session and shared read-only by the tests."""
    with django_db_blocker.unblock():
        seed_demo()
    return True
