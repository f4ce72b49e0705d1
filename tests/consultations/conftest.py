"""Actors and a small consultation of their own for the consultation tests.

The demo county is seeded once per session (``demo_county``); each test builds what it
needs on top of it inside its own transaction. Named actors: the community staff of 南峰社区
organises (``community``), the grid worker of its first grid goes door to door (``grid``),
the power company's liaison (``liaison``) and the town government's (``liaison2``) answer
opinions, the owners' committee of 育才新村 (``committee``), and ``outsider``: staff of
another community, 大峧社区.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from gongzhi.consultations import actions, codes
from gongzhi.consultations.models import Consultation, Household, OpinionCategory
from gongzhi.demo.seed import DEMO_PASSWORD
from gongzhi.housing.models import Compound
from gongzhi.orgs.models import Area, Organisation, Role, RoleGrant


@pytest.fixture(autouse=True)
def fresh_rate_limits():  # type: ignore[no-untyped-def]
    """Rate limits live in the cache; every test starts with none counted."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def users(demo_county, db) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    User = get_user_model()
    named = {
        u.username: u
        for u in User.objects.filter(
            username__in=[
                "admin",
                "county",
                "town",
                "community",
                "grid",
                "branch",
                "committee",
                "liaison",
                "liaison2",
                "volunteer",
                "resident",
            ]
        )
    }
    outsider = User.objects.create_user(username="outsider", password=DEMO_PASSWORD)
    RoleGrant.objects.create(
        user=outsider,
        role=Role.COMMUNITY_STAFF,
        area=Area.objects.get(name="大峧社区", level=Area.Level.COMMUNITY),
    )
    named["outsider"] = outsider
    return named


@pytest.fixture
def yucai(demo_county, db) -> Compound:  # type: ignore[no-untyped-def]
    return Compound.objects.get(name="育才新村")


@pytest.fixture
def nanfeng(demo_county, db) -> Compound:  # type: ignore[no-untyped-def]
    """Another compound of 南峰社区, in the second grid (not the demo grid worker's)."""
    return Compound.objects.get(name="南峰小区")


@pytest.fixture
def power(demo_county, db) -> Organisation:  # type: ignore[no-untyped-def]
    return Organisation.objects.get(name="国网岱山县供电公司")


@pytest.fixture
def category(demo_county, db):  # type: ignore[no-untyped-def]
    return lambda code="other": OpinionCategory.objects.get(code=code)


@pytest.fixture
def make_consultation(users, yucai):  # type: ignore[no-untyped-def]
    """A consultation of 南峰社区's staff over 育才新村, opened unless ``open_it=False``."""

    def make(*, compounds=None, buildings=(), open_it=True, by="community", **extra: Any) -> Consultation:
        consultation = actions.create_consultation(
            users[by],
            title=extra.pop("title", "育才新村加装电梯意见征询"),
            body=extra.pop("body", "每个单元加装一部电梯。"),
            compounds=[yucai] if compounds is None and not buildings else (compounds or []),
            buildings=buildings,
            **extra,
        )
        if open_it:
            actions.open_consultation(users[by], consultation)
            consultation.refresh_from_db()
        return consultation

    return make


def code_of(household: Household) -> str:
    """The code printed on the household's slip."""
    return codes.code_for(household.code_salt)


def signed_in(username: str, language: str = "zh-hans") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    assert client.login(username=username, password=DEMO_PASSWORD)
    return client


def jpeg(*, exif: bool = False, size: tuple[int, int] = (320, 240)) -> SimpleUploadedFile:
    image = Image.new("RGB", size, "gray")
    buf = io.BytesIO()
    if exif:
        data = Image.Exif()
        data[0x010F] = "PhoneMaker"  # Make
        data[0x8825] = {2: (30.0, 15.0, 0.0)}  # GPSInfo: a latitude
        image.save(buf, "JPEG", exif=data)
    else:
        image.save(buf, "JPEG")
    return SimpleUploadedFile("form.jpg", buf.getvalue(), content_type="image/jpeg")
