"""The area tree: levels in order, materialized paths, subtree queries and role grants on nodes."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from gongzhi.core.paths import under
from gongzhi.housing.models import Compound
from gongzhi.orgs.actions import create_area, grant_role
from gongzhi.orgs.models import Area, Organisation, Role

pytestmark = pytest.mark.django_db


def test_paths_nest_and_subtree_queries_use_them():
    county = create_area(None, code="330999", name="测试县", level="county", parent=None)
    town = create_area(None, code="330999100", name="甲镇", level="town", parent=county)
    community = create_area(None, code="330999100001", name="乙社区", level="community", parent=town)
    grid = create_area(None, code="33099910000101", name="第1网格", level="grid", parent=community)
    other = create_area(None, code="330999101", name="丙镇", level="town", parent=county)
    assert grid.path == "/330999/330999100/330999100001/33099910000101/"
    assert grid.depth == 3
    assert set(Area.objects.filter(under("path", town.path))) == {town, community, grid}
    assert other not in Area.objects.filter(under("path", town.path))
    assert [a.code for a in grid.ancestors()] == ["330999", "330999100", "330999100001", "33099910000101"]


def test_a_path_prefix_is_not_a_sibling_code_prefix():
    county = create_area(None, code="1", name="县", level="county", parent=None)
    t1 = create_area(None, code="11", name="镇1", level="town", parent=county)
    t11 = create_area(None, code="111", name="镇11", level="town", parent=county)
    assert t11 not in Area.objects.filter(under("path", t1.path))


@pytest.mark.parametrize(
    ("level", "parent_level"),
    [("town", None), ("community", "county"), ("grid", "town"), ("county", "county")],
)
def test_levels_must_nest_in_order(level, parent_level):
    county = create_area(None, code="9", name="县", level="county", parent=None)
    town = create_area(None, code="91", name="镇", level="town", parent=county)
    parent = {"county": county, "town": town, None: None}[parent_level]
    with pytest.raises(ValidationError):
        create_area(None, code="999", name="x", level=level, parent=parent)


def test_codes_may_not_break_the_path():
    with pytest.raises(ValidationError):
        create_area(None, code="33/09", name="x", level="county", parent=None)


def test_roles_are_granted_only_on_fitting_nodes(demo_county, django_user_model):
    user = django_user_model.objects.create_user("newcomer", password="x" * 12)
    town = Area.objects.get(name="高亭镇")
    grid = Area.objects.filter(level="grid").first()
    with pytest.raises(ValidationError):
        grant_role(None, user, Role.GRID_WORKER, area=town)
    with pytest.raises(ValidationError):
        grant_role(None, user, Role.UNIT_LIAISON, compound=Compound.objects.first())
    with pytest.raises(ValidationError):
        grant_role(
            None,
            user,
            Role.UNIT_LIAISON,
            organisation=Organisation.objects.filter(kind="joint_branch").first(),
        )
    grant = grant_role(None, user, Role.GRID_WORKER, area=grid)
    assert grant.node == grid
