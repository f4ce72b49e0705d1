"""Response codes are long, unambiguous, compared only through a keyed digest, and guessing
them is rate-limited per address and per consultation; a code of another consultation or
of a past round is refused with its reason."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from gongzhi.consultations import actions, codes
from gongzhi.consultations.models import Household
from tests.consultations.conftest import code_of

pytestmark = pytest.mark.django_db


def test_codes_are_long_and_unambiguous():
    code = codes.code_for(codes.new_salt())
    assert len(code) == codes.LENGTH >= 10
    assert set(code) <= set(codes.ALPHABET)
    assert not set("01OIL") & set(codes.ALPHABET)
    assert codes.normalise(codes.grouped(code).lower().replace("-", " - ")) == code
    assert codes.normalise("ABCD") is None
    assert codes.normalise("0" * 12) is None


def test_the_database_holds_no_code(make_consultation):
    consultation = make_consultation()
    household = consultation.households.first()
    code = code_of(household)
    row = Household.objects.filter(pk=household.pk).values().get()
    assert code not in str(row)
    assert actions.household_by_code(codes.grouped(code).lower()) == household


def test_a_household_opens_its_page_with_the_code(make_consultation):
    consultation = make_consultation()
    household = consultation.households.first()
    response = Client().get(reverse("consultation-resident", args=[code_of(household)]))
    assert response.status_code == 200
    assert consultation.title in response.content.decode()


@override_settings(GONGZHI_CODE_RATE=(5, 1000, 900))
def test_guessing_from_one_address_is_stopped(make_consultation):
    consultation = make_consultation()
    household = consultation.households.first()
    client = Client(REMOTE_ADDR="10.1.2.3")
    for guess in range(5):
        wrong = "ABCDEFGHJK" + codes.ALPHABET[guess] * 2
        assert client.get(reverse("consultation-resident", args=[wrong])).status_code == 404
    # Past the limit even the right code is refused from this address for a while…
    blocked = client.get(reverse("consultation-resident", args=[code_of(household)]))
    assert blocked.status_code == 429
    assert "15" in blocked.content.decode()  # says how long to wait
    # …while a neighbour on another address gets in.
    other = Client(REMOTE_ADDR="10.9.9.9")
    assert other.get(reverse("consultation-resident", args=[code_of(household)])).status_code == 200


@override_settings(GONGZHI_CODE_RATE=(1000, 3, 900))
def test_guessing_one_consultations_codes_from_many_addresses_is_stopped(make_consultation):
    consultation = make_consultation()
    household = consultation.households.first()
    url = reverse("consultation-public-code", args=[consultation.pk])
    for i in range(3):
        response = Client(REMOTE_ADDR=f"10.0.0.{i}").post(url, {"code": "ABCD-EFGH-JKM" + codes.ALPHABET[i]})
        assert response.status_code == 400
    response = Client(REMOTE_ADDR="10.0.1.1").post(url, {"code": code_of(household)})
    assert response.status_code == 429


def test_a_code_of_another_consultation_is_refused_with_its_reason(make_consultation):
    mine = make_consultation(title="第一个")
    other = make_consultation(title="另一个征询")
    code = code_of(other.households.first())
    response = Client().post(reverse("consultation-public-code", args=[mine.pk]), {"code": code})
    assert response.status_code == 400
    assert "另一个征询" in response.content.decode()


def test_a_slip_of_a_past_round_points_to_the_open_round(make_consultation, users):
    community = users["community"]
    first = make_consultation()
    household = first.households.first()
    actions.close_consultation(community, first)
    second = actions.create_consultation(community, title="第二轮", previous=first)
    actions.open_consultation(community, second)
    page = Client().get(reverse("consultation-resident", args=[code_of(household)]))
    assert page.status_code == 200
    assert 'data-testid="later-round"' in page.content.decode()
    assert 'data-testid="response-form"' not in page.content.decode()
    refused = Client().post(
        reverse("consultation-resident", args=[code_of(household)]),
        {"willingness": "willing", "key": "x" * 20},
    )
    assert refused.status_code == 400
    assert not household.responses.exists()


def test_a_reissued_code_replaces_the_lost_one(make_consultation, users):
    consultation = make_consultation()
    household = consultation.households.first()
    old = code_of(household)
    new = actions.reissue_code(users["grid"], household)
    assert new != old
    assert actions.household_by_code(old) is None
    assert actions.household_by_code(new) == household
