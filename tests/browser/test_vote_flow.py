"""An owners' vote in the browser: an owner votes on a phone with the code from the slip,
the committee enters a signed paper ballot with its photo, progress moves, and the result
notice comes out as a Chinese PDF."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.utils import timezone
from PIL import Image
from pypdf import PdfReader

from gongzhi.decisions import actions
from gongzhi.decisions.models import BallotEntry, Decision, Elector
from gongzhi.housing.models import Compound
from tests.browser.conftest import DESK, PHONE, as_user, screenshot


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "signed-ballot.jpg"
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), "white").save(buf, "JPEG")
    path.write_bytes(buf.getvalue())
    return path


@pytest.fixture
def roof_vote(seeded_live_server) -> Decision:  # type: ignore[no-untyped-def]
    """A maintenance-fund vote of 育才新村 whose 15-day notice ran out yesterday."""
    from django.contrib.auth import get_user_model

    committee = get_user_model().objects.get(username="committee")
    compound = Compound.objects.get(name="育才新村")
    decision = actions.create_decision(
        committee,
        compound,
        matter=5,
        title="动用维修资金维修1幢屋面",
        text="1幢屋面漏水，拟动用专项维修资金维修，费用按专有面积分摊。",
        buildings=[compound.buildings.get(number="1")],
    )
    actions.record_step(committee, decision, "branch", "兼合式党支部会前讨论")
    actions.record_step(committee, decision, "informed", "已书面告知居委会")
    posted = timezone.now() - dt.timedelta(days=16)
    actions.post_notice(
        committee, decision, posted + dt.timedelta(days=15), timezone.now() + dt.timedelta(days=7), now=posted
    )
    return actions.open_voting(committee, decision)


def test_online_and_paper_ballots_progress_and_the_pdf_notice(browser, seeded_live_server, roof_vote, photo):  # type: ignore[no-untyped-def]
    base = seeded_live_server.url
    decision = roof_vote
    staff = as_user(browser, base, "committee", **DESK)

    # The committee prints the slips; the first one goes to the owner of its unit.
    staff.goto(f"{base}/votes/{decision.pk}/slips/")
    first = staff.locator("[data-testid=slip]").first
    code = first.locator("[data-testid=slip-code]").inner_text()
    unit_label = first.locator("[data-testid=slip-unit]").inner_text()
    assert len(code.replace("-", "")) == 12

    # The owner types the code on a phone and votes "agree".
    owner = browser.new_context(**PHONE).new_page()
    owner.goto(f"{base}/votes/v/")
    owner.fill("#code", code.lower())  # typed in lower case, as people do
    owner.click("button[type=submit]")
    owner.wait_for_url(f"{base}/votes/v/**")
    assert unit_label in owner.content()
    owner.locator("input[name=choice][value=agree]").check()
    owner.click("[data-testid=vote-form] button[type=submit]")
    owner.wait_for_load_state()
    assert owner.locator("[data-testid=my-ballot]").inner_text() == "同意"
    assert owner.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(owner, "vote-owner-phone")
    voter = Elector.objects.get(decision=decision, label=unit_label)
    online_units = Elector.objects.filter(decision=decision, owner_key=voter.owner_key).count()

    # The committee enters a signed paper ballot of another owner, with the photo.
    other = (
        Elector.objects.filter(decision=decision, kind="residential")
        .exclude(owner_key=voter.owner_key)
        .exclude(owner_key="dev")
        .order_by("id")
        .first()
    )
    assert other is not None
    staff.goto(f"{base}/votes/{decision.pk}/ballot/")
    staff.fill("#q", other.label)
    staff.click("form.inline button[type=submit]")
    staff.locator("[data-testid=found] a", has_text=other.label).first.click()
    staff.locator("input[name=choice][value=disagree]").check()
    staff.set_input_files("#photo", str(photo))
    staff.click("[data-testid=paper-form] button[type=submit]")
    staff.wait_for_load_state()
    assert "反对" in staff.locator("[data-testid=current]").inner_text()
    paper = BallotEntry.objects.get(decision=decision, elector=other, channel="paper")
    assert paper.photo and paper.recorded_by is not None and paper.recorded_by.username == "committee"
    paper_units = Elector.objects.filter(decision=decision, owner_key=other.owner_key).count()

    # Progress shows both ballots.
    staff.goto(f"{base}/votes/{decision.pk}/")
    voted = int(staff.locator("[data-testid=voted-units]").inner_text())
    assert voted == online_units + paper_units
    assert float(staff.locator("[data-testid=area-pct]").inner_text().rstrip("%")) > 0
    screenshot(staff, "vote-progress")

    # The window ends (as if the week had passed); the committee counts and publishes.
    Decision.objects.filter(pk=decision.pk).update(closes_at=timezone.now() - dt.timedelta(minutes=1))
    staff.reload()
    staff.click("form[action$='/act/close/'] button")
    staff.wait_for_load_state()
    assert staff.locator("[data-testid=result]").is_visible()
    staff.click("form[action$='/act/publish/'] button")
    staff.wait_for_load_state()
    assert Decision.objects.get(pk=decision.pk).state == Decision.State.PUBLISHED

    # Anyone may fetch the public notice; it is a PDF in Chinese with the arithmetic.
    response = owner.request.get(f"{base}/votes/{decision.pk}/notice.pdf")
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    body = response.body()
    assert body.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
    assert "育才新村" in text and "动用维修资金维修1幢屋面" in text
    assert "表决结果公示" in text, "the notice's own words are Chinese too"
    assert other.owner_label not in text or not other.owner_label
    notice = browser.new_context(**DESK).new_page()
    notice.goto(f"{base}/votes/{decision.pk}/notice/")
    screenshot(notice, "vote-notice")
