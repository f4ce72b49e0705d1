"""Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium) against live_server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.demo_snapshot import seed_demo

# Playwright's sync API runs an event loop in this thread; the ORM calls made by fixtures in
# the same thread are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
SCREENSHOTS = Path(
    os.environ.get("GONGZHI_SCREENSHOTS", Path(__file__).resolve().parents[2] / "var" / "screenshots")
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield instance
        instance.close()


@pytest.fixture
def seeded_live_server(live_server, transactional_db):  # type: ignore[no-untyped-def]
    """live_server with the demo county in its database (re-seeded after a flush)."""
    from gongzhi.orgs.models import Area

    if not Area.objects.exists():
        seed_demo()
    return live_server


@pytest.fixture
def phone_page(browser):  # type: ignore[no-untyped-def]
    """A page the size of a cheap 360-px phone, speaking Chinese."""
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, locale="zh-CN", device_scale_factor=2
    )
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# A cheap phone speaking Chinese, and an office desktop.
PHONE = {"viewport": {"width": 360, "height": 740}, "locale": "zh-CN", "device_scale_factor": 2}
DESK = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}


def as_user(browser, base: str, username: str, **context):  # type: ignore[no-untyped-def]
    """A new page signed in as one of the demo logins (on a phone unless told otherwise)."""
    from gongzhi.demo.seed import DEMO_PASSWORD

    page = browser.new_context(**(context or PHONE)).new_page()
    page.goto(base + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    return page


def fits(page) -> bool:  # type: ignore[no-untyped-def]
    """No sideways scrolling on a 360-px phone."""
    return page.evaluate("document.documentElement.scrollWidth") <= 360
