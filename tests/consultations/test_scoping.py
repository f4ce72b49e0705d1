"""Who reaches what on the pages: a member unit sees only the opinions assigned to it;
another community's staff are refused; a grid worker records answers only in its grid."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from gongzhi.consultations import actions
from gongzhi.consultations.models import Channel, Consultation, Opinion
from gongzhi.orgs import policy
from gongzhi.orgs.models import Organisation
from tests.consultations.conftest import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_compounds(make_consultation, yucai, nanfeng, users, category, power):
    """育才新村 (grid 1) and 南峰小区 (grid 2) in one consultation, with two opinions: one
    assigned to the power company, one to the town government."""
    consultation = make_consultation(compounds=[yucai, nanfeng])
    town_gov = Organisation.objects.get(name="高亭镇人民政府")
    mine = actions.raise_opinion(
        users["community"], consultation, text="路灯太暗", category=category("lighting"), compound=yucai
    )
    theirs = actions.raise_opinion(
        users["community"], consultation, text="绿地被占", category=category("greening"), compound=nanfeng
    )
    actions.assign_opinion(users["community"], mine, power)
    actions.assign_opinion(users["community"], theirs, town_gov)
    return consultation, mine, theirs


def test_a_member_unit_sees_only_the_opinions_assigned_to_it(two_compounds, users):
    consultation, mine, theirs = two_compounds
    liaison = users["liaison"]
    assert set(policy.scope(liaison, "opinion").filter(consultation=consultation)) == {mine}
    client = signed_in("liaison")
    assert client.get(reverse("consultation-opinion", args=[mine.pk])).status_code == 200
    assert client.get(reverse("consultation-opinion", args=[theirs.pk])).status_code == 403
    queue = client.get(reverse("consultation-opinions", args=[consultation.pk])).content.decode()
    assert "路灯太暗" in queue and "绿地被占" not in queue
    work = client.get(reverse("consultation-my-opinions")).content.decode()
    assert "路灯太暗" in work and "绿地被占" not in work
    # The unit answers but records no household's answer and prints no list.
    for name in ("consultation-respond", "consultation-nonresponders", "consultation-slips"):
        assert client.get(reverse(name, args=[consultation.pk])).status_code == 403


def test_a_member_unit_does_not_see_the_room_of_a_household(make_consultation, users, power, category):
    consultation = make_consultation()
    household = consultation.households.order_by("id").last()
    actions.record_response(
        None,
        household,
        willingness="willing",
        channel=Channel.PHONE_PAGE,
        opinion_text="电表箱老化",
        opinion_category=category("lighting"),
    )
    opinion = consultation.opinions.get()
    actions.assign_opinion(users["community"], opinion, power)
    room = f"{household.unit.entrance.number}-{household.unit.number}"
    assert (
        room
        in signed_in("community").get(reverse("consultation-opinion", args=[opinion.pk])).content.decode()
    )
    assert (
        room
        not in signed_in("liaison").get(reverse("consultation-opinion", args=[opinion.pk])).content.decode()
    )


@pytest.mark.parametrize(
    "name",
    [
        "consultation-detail",
        "consultation-opinions",
        "consultation-respond",
        "consultation-nonresponders",
        "consultation-slips",
        "consultation-edit",
    ],
)
def test_another_communitys_staff_are_refused(two_compounds, name):
    consultation, _mine, _theirs = two_compounds
    assert signed_in("outsider").get(reverse(name, args=[consultation.pk])).status_code == 403


def test_a_missing_consultation_is_not_found(users):
    assert signed_in("community").get(reverse("consultation-detail", args=[987654321])).status_code == 404


def test_a_grid_worker_records_answers_only_in_its_grid(two_compounds, users, nanfeng):
    consultation, _mine, _theirs = two_compounds
    grid = users["grid"]
    in_grid = consultation.households.filter(compound__name="育才新村").first()
    other_grid = consultation.households.filter(compound=nanfeng).first()
    actions.record_response(
        grid, in_grid, willingness="willing", channel=Channel.PHONE_CALL, staff_name="林海燕"
    )
    with pytest.raises(PermissionDenied):
        actions.record_response(
            grid, other_grid, willingness="willing", channel=Channel.PHONE_CALL, staff_name="林"
        )
    # Its door-knocking list holds its own grid's households only.
    page = (
        signed_in("grid").get(reverse("consultation-nonresponders", args=[consultation.pk])).content.decode()
    )
    assert "育才新村" in page and "南峰小区" not in page
    with pytest.raises(PermissionDenied):
        actions.close_consultation(grid, consultation)


def test_a_community_organises_its_own_round_but_not_the_towns(demo_county, users):
    town_round = Consultation.objects.get(round_number=3, title__contains="最终稿")
    community = users["community"]
    assert policy.can(community, "view", town_round)
    assert not policy.can(community, "manage", town_round)
    with pytest.raises(PermissionDenied):
        actions.close_consultation(community, town_round)
    # …yet answers the opinions from its own compounds.
    own = Opinion.objects.filter(consultation=town_round, compound__community__name="南峰社区").first()
    far = Opinion.objects.filter(consultation=town_round, compound__community__name="官山社区").first()
    assert policy.can(community, "manage", own)
    assert not policy.can(community, "view", far)
