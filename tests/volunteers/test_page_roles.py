"""Every volunteer page renders for each role that may see it and refuses the others; the
pages fit a 360-px phone (wide tables scroll inside their own box, nothing is set wider
than the screen) and never show a phone number unmasked."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from gongzhi.volunteers import actions

pytestmark = pytest.mark.django_db

# "liaison" works at the power company and is registered with 南峰社区 as a party member;
# "outsider" is the gas company's liaison, with no business there.
EVERYONE = (
    "outsider",
    "admin",
    "county",
    "town",
    "community",
    "grid",
    "branch",
    "committee",
    "liaison",
    "volunteer",
    "resident",
)
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
WIDE = re.compile(r"(?:min-)?width\s*:\s*(\d+)px")


VOID = ("meta", "input", "br", "img", "link", "hr")


class Layout(HTMLParser):
    """Finds tables outside a scrolling ``table-wrap`` and inline widths over 360 px."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []  # open elements: (tag, is it a table-wrap)
        self.loose_tables = 0
        self.wide: list[str] = []
        self.viewport = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "meta" and values.get("name") == "viewport":
            self.viewport = "width=device-width" in (values.get("content") or "")
        if tag == "table" and not any(wrap for _tag, wrap in self.stack):
            self.loose_tables += 1
        for width in WIDE.findall(values.get("style") or ""):
            if int(width) > 360:
                self.wide.append(values.get("style") or "")
        if tag not in VOID:
            self.stack.append((tag, "table-wrap" in (values.get("class") or "").split()))

    def handle_endtag(self, tag: str) -> None:
        if tag not in [t for t, _wrap in self.stack]:
            return
        while self.stack and self.stack.pop()[0] != tag:
            pass


def test_the_layout_check_finds_a_loose_table_and_a_wide_box() -> None:
    layout = Layout()
    layout.feed(
        '<div class="table-wrap"><table></table></div><p><table></table></p><div style="width:480px">'
    )
    assert (layout.loose_tables, len(layout.wide)) == (1, 1)


def check_layout(html: str, where: str) -> None:
    layout = Layout()
    layout.feed(html)
    assert layout.viewport, where
    assert layout.loose_tables == 0, f"{where}: a table outside .table-wrap"
    assert layout.wide == [], where


@pytest.fixture
def world(users, make_activity, resident_person, first_branch, yucai, make_project):  # type: ignore[no-untyped-def]
    """A clean-up under way with the resident checked in, a verified one, a post and a shift."""
    now_on = make_activity()
    actions.sign_up(users["resident"], now_on)
    actions.check_in(users["community"], now_on, person=resident_person)
    done = make_activity(start=dt.timedelta(hours=-5), end=dt.timedelta(hours=-1), title="上午的清理")
    actions.check_in(users["community"], done, person=resident_person, at=done.starts_at)
    actions.check_out(
        users["community"], done, person=resident_person, at=done.starts_at + dt.timedelta(hours=3)
    )
    actions.verify_activity(users["community"], done)
    post = actions.create_post(
        users["community"], community=yucai.community, compound=yucai, title="楼道灯巡查"
    )
    return {"now_on": now_on, "done": done, "post": post, "project": make_project()}


def pages(world, resident_person, first_branch):  # type: ignore[no-untyped-def]
    """(name, url, roles that see it) for every page."""
    organisers = {"admin", "county", "town", "community", "branch"}
    desk = organisers | {"grid"}
    compound = desk | {"committee", "volunteer", "resident"}
    community = compound | {"liaison"}  # the registered party member sees the community's
    staff_of_people = {"admin", "county", "town", "community", "grid", "branch", "committee"}
    now_on, done = world["now_on"], world["done"]
    return [
        ("list", reverse("activity-list"), set(EVERYONE)),
        ("past", reverse("activity-list") + "?when=past", set(EVERYONE)),
        ("new", reverse("activity-new"), organisers),
        ("shift", reverse("activity-new") + f"?project={world['project'].pk}", desk | {"committee"}),
        ("detail", reverse("activity-detail", args=[now_on.pk]), community),
        ("verified", reverse("activity-detail", args=[done.pk]), community),
        ("poster", reverse("activity-poster", args=[now_on.pk]), desk),
        ("scan", reverse("activity-scan", args=[now_on.checkin_code]), community),
        ("me", reverse("volunteer-me"), set(EVERYONE)),
        (
            "person",
            reverse("volunteer-person", args=[resident_person.pk]),
            {"admin", "county", "town", "community"},
        ),
        ("boards", reverse("volunteer-board"), staff_of_people | {"liaison", "outsider"}),
        ("board", reverse("volunteer-board-branch", args=[first_branch.pk]), staff_of_people),
        ("posts", reverse("post-list"), set(EVERYONE) - {"outsider"}),
        ("party", reverse("party-register"), staff_of_people | {"liaison"}),
    ]


def test_each_page_renders_for_the_roles_that_see_it_and_fits_a_phone(
    users, outsider, world, resident_person, first_branch, client_for
):
    accounts = {**users, "outsider": outsider}
    for name, url, allowed in pages(world, resident_person, first_branch):
        for role in EVERYONE:
            response = client_for(accounts[role]).get(url)
            expected = 200 if role in allowed else 403
            assert response.status_code == expected, f"{name} as {role}: {response.status_code}"
            if expected == 200:
                html = response.content.decode()
                check_layout(html, f"{name} as {role}")
                if name != "poster":  # the QR code's drawing is made of numbers
                    assert PHONE.search(html) is None, f"{name} as {role} shows {PHONE.search(html)}"


def test_the_pages_render_in_chinese(users, world, client_for):
    client = client_for(users["community"])
    client.defaults.pop("HTTP_ACCEPT_LANGUAGE", None)
    response = client.get(reverse("activity-detail", args=[world["done"].pk]))
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.content.decode()


def test_the_scan_page_is_a_single_column_for_the_phone(users, world, client_for):
    page = client_for(users["resident"]).get(reverse("activity-scan", args=[world["now_on"].checkin_code]))
    html = page.content.decode()
    assert 'class="phone-form"' in html and 'class="big"' in html
    assert "<table" not in html
