# ruff: noqa: F811 - the fixtures imported from the project tests are parameters here
"""Fixtures of the volunteer pages: the demo logins, 育才新村 and its first joint branch,
activities made through the actions around the present moment, and signed-in clients."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from gongzhi.housing.models import Compound
from gongzhi.orgs.models import Area, Organisation, Person
from gongzhi.volunteers import actions
from gongzhi.volunteers.models import Activity

# The lighting project of 育才新村 and what it needs, as the project tests make them.
from tests.projects.conftest import make_project, need, users, yucai  # noqa: F401


@pytest.fixture
def nanfeng(yucai: Compound) -> Area:
    """南峰社区, the community of 育才新村."""
    return yucai.community


@pytest.fixture
def first_branch(demo_county: Any, db: Any) -> Organisation:
    return Organisation.objects.get(kind=Organisation.Kind.JOINT_BRANCH, name="育才新村第一兼合式党支部")


@pytest.fixture
def client_for() -> Callable[[Any], Client]:
    """A test client signed in as the account, reading the pages in English."""

    def make(user: Any) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        return client

    return make


@pytest.fixture
def make_activity(
    users: dict[str, Any], yucai: Compound, first_branch: Organisation
) -> Callable[..., Activity]:
    """A clean-up of 育才新村 organised by its first joint branch, made by the community
    staff; ``start``/``end`` are offsets from now."""

    def make(
        *,
        start: dt.timedelta = dt.timedelta(minutes=-30),
        end: dt.timedelta = dt.timedelta(hours=2),
        capacity: int = 20,
        title: str = "育才新村楼道清理",
    ) -> Activity:
        now = timezone.now()
        return actions.create_activity(
            users["community"],
            title=title,
            kind=Activity.Kind.CLEANUP,
            community=yucai.community,
            compound=yucai,
            organiser=first_branch,
            place="育才新村3幢门口",
            starts_at=now + start,
            ends_at=now + end,
            capacity=capacity,
        )

    return make


@pytest.fixture
def volunteer_person(users: dict[str, Any]) -> Person:
    """The demo volunteer's person record, made as on their first sign-up."""
    person = actions.person_of(users["volunteer"], create=True)
    assert person is not None
    return person


@pytest.fixture
def resident_person(users: dict[str, Any]) -> Person:
    person = actions.person_of(users["resident"], create=True)
    assert person is not None
    return person


@pytest.fixture
def newcomer(yucai: Compound) -> Any:
    """李新来, a tenant who just moved into 育才新村 and has a resident's login but no
    person record yet."""
    from django.contrib.auth import get_user_model

    from gongzhi.housing.models import Resident, Unit
    from gongzhi.orgs.models import Role, RoleGrant

    user = get_user_model().objects.create_user(username="newcomer", password="x-newcomer-2026")
    RoleGrant.objects.create(user=user, role=Role.RESIDENT, compound=yucai)
    unit = Unit.objects.filter(compound=yucai).order_by("-id")[0]
    Resident.objects.create(unit=unit, name="李新来", tenure=Resident.Tenure.TENANT, user=user)
    return user


@pytest.fixture
def outsider(demo_county: Any, db: Any) -> Any:
    """The liaison of the county gas company: no person record, no business in 南峰社区."""
    from django.contrib.auth import get_user_model

    from gongzhi.orgs.models import Role, RoleGrant

    user = get_user_model().objects.create_user(username="gas-liaison", password="x-gas-2026")
    unit = Organisation.objects.get(kind=Organisation.Kind.MEMBER_UNIT, name="县燃气公司")
    RoleGrant.objects.create(user=user, role=Role.UNIT_LIAISON, organisation=unit)
    return user
