"""双报到 on the party members' page: community staff register a party member living in
their community; a party member registers themselves; the list shows who is registered and
the posts they hold."""

from __future__ import annotations

import pytest
from django.urls import reverse

from gongzhi.orgs.models import Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def serving(nanfeng):  # type: ignore[no-untyped-def]
    """郑建国, a party member working at the county water company who lives in 南峰社区."""
    return Person.objects.create(name="郑建国", phone="13905809876", is_party_member=True, home_area=nanfeng)


def test_staff_register_a_party_member_with_the_community(users, serving, nanfeng, client_for):
    client = client_for(users["community"])
    form = client.get(reverse("party-register")).content.decode()
    assert "郑建国 (139****9876)" in form and "13905809876" not in form
    response = client.post(
        reverse("party-register"), {"who": "staff", "person": serving.pk, "community": nanfeng.pk}
    )
    assert response.status_code == 302
    serving.refresh_from_db()
    assert serving.party_registered_community == nanfeng and serving.party_registered_on is not None
    listed = client.get(response["Location"]).content.decode()
    assert f'data-person="{serving.pk}"' in listed


def test_staff_cannot_register_someone_who_is_not_a_party_member(users, nanfeng, client_for):
    plain = Person.objects.create(name="钱小明", home_area=nanfeng)
    response = client_for(users["community"]).post(
        reverse("party-register"), {"who": "staff", "person": plain.pk, "community": nanfeng.pk}
    )
    assert response.status_code == 400
    plain.refresh_from_db()
    assert plain.party_registered_community is None


def test_a_party_member_registers_themselves(users, volunteer_person, nanfeng, client_for):
    volunteer_person.is_party_member = True
    volunteer_person.party_registered_community = None
    volunteer_person.save()
    client = client_for(users["volunteer"])
    page = client.get(reverse("party-register")).content.decode()
    assert 'data-testid="self-register-form"' in page and 'data-testid="register-form"' not in page
    response = client.post(reverse("party-register"), {"who": "self", "community": nanfeng.pk})
    assert response.status_code == 302
    volunteer_person.refresh_from_db()
    assert volunteer_person.party_registered_community == nanfeng
    assert "Registered with 南峰社区" in client.get(reverse("party-register")).content.decode()


def test_someone_who_is_not_a_party_member_has_no_registration(users, volunteer_person, nanfeng, client_for):
    assert not volunteer_person.is_party_member
    client = client_for(users["volunteer"])
    assert client.get(reverse("party-register")).status_code == 403
    assert client.post(reverse("party-register"), {"who": "self", "community": nanfeng.pk}).status_code == 403
    volunteer_person.refresh_from_db()
    assert volunteer_person.party_registered_community is None


def test_the_branch_sees_registered_members_but_does_not_register_for_the_community(
    users, serving, nanfeng, client_for
):
    client = client_for(users["branch"])
    page = client.get(reverse("party-register"))
    assert page.status_code == 200
    assert 'data-testid="register-form"' not in page.content.decode()
    refused = client.post(
        reverse("party-register"), {"who": "staff", "person": serving.pk, "community": nanfeng.pk}
    )
    assert refused.status_code == 403
    serving.refresh_from_db()
    assert serving.party_registered_community is None
