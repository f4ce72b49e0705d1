"""A community worker signs in on a phone and opens the coverage campaign."""

from __future__ import annotations

from gongzhi.demo.seed import DEMO_PASSWORD
from tests.browser.conftest import screenshot


def sign_in(page, base_url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base_url + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base_url + "/")


def test_county_admin_signs_in_and_opens_the_coverage_page(seeded_live_server, phone_page):
    page = phone_page
    sign_in(page, seeded_live_server.url, "county")
    screenshot(page, "home-county")
    page.click("nav a[href='/coverage/']")
    page.wait_for_url(seeded_live_server.url + "/coverage/")
    assert page.locator("h1").inner_text()
    pct = page.locator("[data-testid=coverage-pct]").inner_text()
    assert pct.endswith("%") and 0 < float(pct[:-1]) < 100
    body = page.content()
    assert "岱山县" in body and "155" in body
    # Usable on a 360-px screen: the page itself never scrolls sideways (tables scroll inside).
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "coverage-phone")


def test_a_wrong_password_is_refused_without_signing_in(seeded_live_server, phone_page):
    page = phone_page
    page.goto(seeded_live_server.url + "/login/")
    page.fill("#id_username", "county")
    page.fill("#id_password", "not-the-password")
    page.click("button[type=submit]")
    assert page.url.startswith(seeded_live_server.url + "/login/")
    assert page.locator("[role=alert]").count() == 1


def test_a_branch_secretary_opens_their_compound_from_home(seeded_live_server, phone_page):
    page = phone_page
    sign_in(page, seeded_live_server.url, "branch")
    page.click("main a:has-text('育才新村')")
    page.wait_for_url("**/registry/compounds/**")
    assert "育才新村" in page.locator("h1").inner_text()
    assert page.locator("h3:has-text('同时在支部和业委会任职')").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "compound-phone")


def test_english_can_be_chosen_from_the_page(seeded_live_server, phone_page):
    page = phone_page
    sign_in(page, seeded_live_server.url, "community")
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    assert "Hello, community" in page.locator("h1").inner_text()
    with page.expect_navigation():
        page.select_option("select[name=language]", "zh-hans")
    assert "community" in page.locator("h1").inner_text() and "Hello" not in page.locator("h1").inner_text()
