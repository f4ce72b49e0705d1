"""Bad input is refused with a clear reason naming the field, and changes nothing: a unit
outside scope, a closed round, a malformed answer, a household of another consultation."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import override

from gongzhi.consultations import actions
from gongzhi.consultations.checks import Refused
from gongzhi.consultations.models import Channel, Response
from gongzhi.housing.models import Unit
from tests.consultations.conftest import signed_in

pytestmark = pytest.mark.django_db


def test_a_unit_outside_scope_is_refused_by_name(make_consultation, yucai, nanfeng):
    consultation = make_consultation(buildings=[yucai.buildings.get(number="1")])
    outside = Unit.objects.filter(compound=nanfeng, kind="residential").first()
    other_building = Unit.objects.filter(compound=yucai, building__number="2", kind="residential").first()
    for unit in (outside, other_building):
        with override("en"), pytest.raises(ValidationError) as error:
            actions.find_household(consultation, unit)
        message = error.value.message_dict["household"][0]
        assert unit.compound.name in message and "scope" in message


def test_a_closed_round_takes_no_response(make_consultation, users):
    consultation = make_consultation()
    household = consultation.households.first()
    actions.close_consultation(users["community"], consultation)
    with override("en"), pytest.raises(Refused) as error:
        actions.record_response(None, household, willingness="willing", channel=Channel.PHONE_PAGE)
    assert "not open" in str(error.value)
    assert not Response.objects.filter(household=household).exists()


def test_a_draft_takes_no_response_either(make_consultation):
    consultation = make_consultation(open_it=False)
    assert not consultation.households.exists()  # nobody to answer before it opens


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("willingness", {"willingness": "maybe"}),
        ("channel", {"channel": "carrier_pigeon"}),
        ("comment", {"comment": "x" * 2001}),
        ("comment", {"comment": "bad\x00byte"}),
    ],
)
def test_malformed_answers_name_their_field(make_consultation, field, kwargs):
    consultation = make_consultation()
    household = consultation.households.first()
    data = {"willingness": "willing", "channel": Channel.PHONE_PAGE, **kwargs}
    with pytest.raises(ValidationError) as error:
        actions.record_response(None, household, **data)
    assert field in error.value.message_dict
    assert not household.responses.exists()


def test_staff_cannot_post_a_household_of_another_consultation(make_consultation, yucai):
    mine = make_consultation()
    other = make_consultation(title="另一轮")
    stranger = other.households.first()
    client = signed_in("community", language="en")
    response = client.post(
        reverse("consultation-respond", args=[mine.pk]) + f"?building={stranger.building_id}",
        {
            "household": stranger.pk,
            "channel": "phone_call",
            "willingness": "willing",
            "staff_name": "林海燕",
            "key": "k" * 16,
        },
    )
    assert response.status_code == 400
    assert "This household is not in the scope of this consultation." in response.content.decode()
    assert not stranger.responses.exists()


def test_staff_entry_needs_the_right_details_per_channel(make_consultation, users):
    consultation = make_consultation()
    household = consultation.households.first()
    grid = users["grid"]
    with pytest.raises(ValidationError) as error:
        actions.record_response(grid, household, willingness="willing", channel=Channel.DOOR_TO_DOOR)
    assert "collector_name" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        actions.record_response(
            grid, household, willingness="willing", channel=Channel.DOOR_TO_DOOR, collector_name="林海燕"
        )
    assert "collected_at" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        actions.record_response(grid, household, willingness="willing", channel=Channel.PHONE_CALL)
    assert "staff_name" in error.value.message_dict
    assert not household.responses.exists()


def test_a_visit_cannot_be_dated_in_the_future(make_consultation, users):
    import datetime as dt

    from django.utils import timezone

    consultation = make_consultation()
    household = consultation.households.first()
    with pytest.raises(ValidationError) as error:
        actions.record_response(
            users["grid"],
            household,
            willingness="willing",
            channel=Channel.DOOR_TO_DOOR,
            collector_name="林海燕",
            collected_at=timezone.now() + dt.timedelta(days=2),
        )
    assert "collected_at" in error.value.message_dict
