"""The public pages show counts, compounds and buildings — never a resident's name, phone
number or room — and the household's own page shows only that household's answer."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from gongzhi.consultations import actions
from gongzhi.consultations.models import Channel, Consultation
from gongzhi.housing.models import Owner, Resident
from tests.consultations.conftest import code_of, signed_in

pytestmark = pytest.mark.django_db


def _personal_data(consultation: Consultation) -> set[str]:
    units = consultation.households.values("unit_id")
    people: set[str] = set()
    for name, phone in Resident.objects.filter(unit__in=units).values_list("name", "phone"):
        people.add(name)
        if phone:
            people.add(phone)
    for name, phone in Owner.objects.filter(ownerships__unit__in=units).values_list("name", "phone"):
        people.add(name)
        if phone:
            people.add(phone)
    # Single-character names would match any Chinese text; the demo has none shorter than two.
    return {p for p in people if len(p) >= 2}


def test_the_public_page_of_the_renovation_names_nobody(demo_county):
    final = Consultation.objects.get(title__contains="最终稿")
    html = Client().get(reverse("consultation-public", args=[final.pk])).content.decode()
    assert 'data-testid="opinions-answered"' in html
    leaked = sorted(p for p in _personal_data(final) if p in html)
    assert leaked == []


def test_numbers_in_an_opinion_are_masked_on_the_public_page(make_consultation, users, category):
    consultation = make_consultation()
    household = consultation.households.first()
    actions.record_response(
        None,
        household,
        willingness="unwilling",
        channel=Channel.PHONE_PAGE,
        opinion_text="我家302室漏水，电话13857001986",
        opinion_category=category("roof"),
    )
    opinion = consultation.opinions.get()
    actions.answer_opinion(users["community"], opinion, outcome="accepted", text="已安排维修。")
    html = Client().get(reverse("consultation-public", args=[consultation.pk])).content.decode()
    assert "已安排维修。" in html
    assert "13857001986" not in html and "302" not in html


def test_a_draft_has_no_public_page(make_consultation):
    consultation = make_consultation(open_it=False)
    assert Client().get(reverse("consultation-public", args=[consultation.pk])).status_code == 404


def test_the_household_page_and_the_door_lists_name_nobody(make_consultation):
    consultation = make_consultation()
    household = consultation.households.first()
    personal = _personal_data(consultation)
    pages = [
        Client().get(reverse("consultation-resident", args=[code_of(household)])),
        signed_in("grid").get(reverse("consultation-nonresponders", args=[consultation.pk])),
        signed_in("grid").get(
            reverse("consultation-slips", args=[consultation.pk]) + f"?building={household.building_id}"
        ),
    ]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        assert sorted(p for p in personal if p in html) == []


def test_public_counters_follow_the_answers(make_consultation, users, category):
    consultation = make_consultation()
    url = reverse("consultation-public", args=[consultation.pk])

    def counter(html: str, name: str) -> str:
        start = html.index(f'data-testid="{name}">') + len(f'data-testid="{name}">')
        return html[start : html.index("<", start)]

    before = Client().get(url).content.decode()
    assert (counter(before, "responded"), counter(before, "opinions-pending")) == ("0", "0")
    household = consultation.households.first()
    actions.record_response(
        None,
        household,
        willingness="willing",
        channel=Channel.PHONE_PAGE,
        opinion_text="电梯噪音",
        opinion_category=category("disturbance"),
    )
    middle = Client().get(url).content.decode()
    assert (counter(middle, "responded"), counter(middle, "opinions-pending")) == ("1", "1")
    actions.answer_opinion(
        users["community"], consultation.opinions.get(), outcome="explained", text="夜间不施工。"
    )
    after = Client().get(url).content.decode()
    assert (counter(after, "opinions-answered"), counter(after, "opinions-pending")) == ("1", "0")
