"""A consultation on phones, end to end: a household of 育才新村 opens the final round of the
高亭镇 renovation with the code on its slip, answers and raises an opinion; the community
assigns it to the power company, whose liaison drafts the reply; the community publishes it;
the public counters and the household's own page follow."""

from __future__ import annotations

import re

from gongzhi.consultations import codes
from gongzhi.consultations.models import Consultation, Household, Opinion, OpinionCategory
from gongzhi.orgs.models import Organisation
from tests.browser.conftest import PHONE, as_user, fits, screenshot


def counters(page, base: str, consultation: Consultation) -> dict[str, int]:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/consultations/p/{consultation.pk}/")
    return {
        name: int(page.locator(f"[data-testid={name}]").inner_text())
        for name in ("households", "responded", "willing", "opinions-answered", "opinions-pending")
    }


def test_a_household_answers_and_its_opinion_gets_a_published_reply(seeded_live_server, browser):
    base = seeded_live_server.url
    final = Consultation.objects.get(title__contains="最终稿", state="open")
    household = (
        Household.objects.filter(consultation=final, compound__name="育才新村", willingness="")
        .order_by("id")
        .first()
    )
    code = codes.grouped(codes.code_for(household.code_salt))
    public = browser.new_context(**PHONE).new_page()
    before = counters(public, base, final)
    assert before["households"] == 1058

    # The household types the code from its slip on the consultation's public page.
    resident = browser.new_context(**PHONE).new_page()
    resident.goto(f"{base}/consultations/p/{final.pk}/")
    resident.fill("[data-testid=code-form] input[name=code]", code.lower())
    resident.click("[data-testid=code-form] button[type=submit]")
    resident.wait_for_url(re.compile(r".*/consultations/r/\w+/$"))
    assert fits(resident)
    resident.check("input[name=willingness][value=willing]")
    resident.fill("#id_opinion_text", "单元楼道灯坏了，施工前请先修好，老人晚上看不清台阶")
    resident.select_option("#id_opinion_category", str(OpinionCategory.objects.get(code="lighting").pk))
    screenshot(resident, "consultation-respond-phone")
    resident.click("[data-testid=response-form] button.big")
    resident.wait_for_load_state()
    assert resident.locator("[data-testid=recorded]").count() == 1
    household.refresh_from_db()
    assert (household.willingness, household.response_count) == ("willing", 1)
    opinion = Opinion.objects.get(household=household)
    assert opinion.state == "new"

    middle = counters(public, base, final)
    assert middle["responded"] == before["responded"] + 1
    assert middle["willing"] == before["willing"] + 1
    assert middle["opinions-pending"] == before["opinions-pending"] + 1

    # The community assigns it to the power company…
    community = as_user(browser, base, "community")
    community.goto(f"{base}/consultations/opinions/{opinion.pk}/")
    power = Organisation.objects.get(name="国网岱山县供电公司")
    community.select_option("#assignee", str(power.pk))
    community.click("[data-testid=act-assign]")
    community.wait_for_load_state()
    assert community.locator("[data-testid=assignee]").inner_text() == power.name

    # …whose liaison finds it in its list and drafts the reply…
    liaison = as_user(browser, base, "liaison")
    liaison.goto(f"{base}/consultations/opinions/")
    liaison.click(f"[data-testid=my-opinions] a[href='/consultations/opinions/{opinion.pk}/']")
    liaison.check("input[name=outcome][value=accepted]")
    liaison.fill("#id_text", "已采纳：本单元楼道灯在开工前更换为声控灯。")
    liaison.click("[data-testid=act-draft]")
    liaison.wait_for_load_state()
    assert liaison.locator("[data-testid=reply-draft]").count() == 1
    assert fits(liaison)
    opinion.refresh_from_db()
    assert opinion.state == "drafted"

    # …and the community publishes it.
    community.reload()
    community.click("[data-testid=act-publish]")
    community.wait_for_load_state()
    assert community.locator("[data-testid=reply-published]").count() == 1
    opinion.refresh_from_db()
    assert (opinion.state, opinion.outcome) == ("answered", "accepted")

    after = counters(public, base, final)
    assert after["opinions-answered"] == middle["opinions-answered"] + 1
    assert after["opinions-pending"] == middle["opinions-pending"] - 1
    assert "本单元楼道灯在开工前更换为声控灯" in public.content()
    screenshot(public, "consultation-public-phone")

    resident.reload()
    assert "本单元楼道灯在开工前更换为声控灯" in resident.locator("[data-testid=my-opinion]").inner_text()
    assert fits(resident)
