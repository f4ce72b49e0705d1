from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from gongzhi.housing.models import Building, Compound
from gongzhi.orgs.models import Organisation, ServiceCategory
from gongzhi.tickets import actions


@pytest.fixture
def users(demo_county, db):  # type: ignore[no-untyped-def]
    User = get_user_model()
    return {u.username: u for u in User.objects.all() if not u.username.startswith("u")}


@pytest.fixture
def yucai(demo_county, db) -> Compound:  # type: ignore[no-untyped-def]
    return Compound.objects.get(name="育才新村")


@pytest.fixture
def building1(yucai: Compound) -> Building:
    return yucai.buildings.get(number="1")


@pytest.fixture
def units(demo_county, db) -> dict[str, Organisation]:  # type: ignore[no-untyped-def]
    return {u.code: u for u in Organisation.objects.filter(kind=Organisation.Kind.MEMBER_UNIT)}


@pytest.fixture
def category(demo_county, db):  # type: ignore[no-untyped-def]
    return lambda code: ServiceCategory.objects.get(code=code)


@pytest.fixture
def file(users, building1, category):  # type: ignore[no-untyped-def]
    """File a request as the demo resident from their phone, with sensible defaults."""

    def _file(code: str = "power", text: str = "1幢门口电线杆倾斜，电线垂到路边", **extra):  # type: ignore[no-untyped-def]
        fields = {"building": building1, "attributes": {"hazard": "yes"} if code == "power" else {}}
        fields.update(extra)
        return actions.file_ticket(
            users["resident"],
            channel="phone_page",
            category=category(code),
            description=text,
            reporter_phone="13857001986",
            **fields,
        )

    return _file
