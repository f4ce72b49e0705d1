from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from gongzhi.housing.models import Compound
from gongzhi.orgs.models import Organisation, ServiceCategory
from gongzhi.projects import actions, ledger
from gongzhi.projects.models import Project, ServiceType
from gongzhi.tickets import actions as ticket_actions

NAMES = [
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


@pytest.fixture
def users(demo_county, db) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {u.username: u for u in get_user_model().objects.filter(username__in=NAMES)}


@pytest.fixture
def yucai(demo_county, db) -> Compound:  # type: ignore[no-untyped-def]
    return Compound.objects.get(name="育才新村")


@pytest.fixture
def need(users, yucai):  # type: ignore[no-untyped-def]
    """A resident's request: the lamps along the compound's main path have been dark for weeks."""
    return ticket_actions.file_ticket(
        users["resident"],
        channel="phone_page",
        category=ServiceCategory.objects.get(code="parking"),
        description="小区主路的路灯坏了好几个星期，晚上老人出门看不清路",
        building=yucai.buildings.get(number="3"),
        reporter_phone="13857001986",
    )


@pytest.fixture
def make_project(users, yucai, need):  # type: ignore[no-untyped-def]
    """A lighting project of 育才新村 started by the community, raising funds."""

    def make(
        *, state: str = Project.State.RAISING, approvals: int = 2, levies: bool = False, **extra: Any
    ) -> Project:
        community = users["community"]
        project = actions.create_project(
            community,
            party_org=Organisation.objects.get(kind=Organisation.Kind.PARTY_ORG, area=yucai.community),
            title="育才新村主路路灯更新",
            kind=Project.Kind.LIGHTING,
            summary="更换主路12盏路灯，由居民筹资、党员志愿者筹劳",
            compounds=[yucai],
            branch=Organisation.objects.get(
                kind=Organisation.Kind.JOINT_BRANCH, name="育才新村第一兼合式党支部"
            ),
            committee=Organisation.objects.get(kind=Organisation.Kind.OWNERS_COMMITTEE, compound=yucai),
            member_units=list(
                Organisation.objects.filter(kind=Organisation.Kind.MEMBER_UNIT, name__contains="供电")[:1]
            ),
            service_types=list(ServiceType.objects.all()[:4]),
            budget="12000",
            approvals_required=approvals,
            levies_owners=levies,
            tickets=[need],
            **extra,
        )
        if state != Project.State.PREPARING:
            project = actions.move(community, project, Project.State.RAISING)
        return project

    return make


@pytest.fixture
def approver_users(make_project):  # type: ignore[no-untyped-def]
    """The accounts that sit on the committee or branch of 育才新村's project."""

    def accounts(project: Project) -> list[Any]:
        return [user for user, _person, _body in ledger.approvers(project)]

    return accounts
