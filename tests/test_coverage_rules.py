"""Coverage rules over plain data."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gongzhi.coverage.rules import BuildingFacts, ancestor_paths, roll_up

facts_strategy = st.builds(
    BuildingFacts,
    building_id=st.integers(1, 10_000),
    compound_id=st.integers(1, 50),
    grid_path=st.sampled_from([None, "/1/11/111/1111/", "/1/11/111/1112/", "/1/12/121/1211/"]),
    community_path=st.sampled_from(["/1/11/111/", "/1/12/121/"]),
    has_branch=st.booleans(),
    has_committee=st.booleans(),
    grid_has_worker=st.booleans(),
    has_channel=st.booleans(),
)


def test_a_building_with_all_four_is_covered():
    fact = BuildingFacts(1, 1, "/1/2/3/4/", "/1/2/3/", True, True, True, True)
    assert fact.covered and fact.lacks() == []


def test_a_grid_without_a_worker_is_a_different_gap_from_no_grid():
    staffed = BuildingFacts(1, 1, "/1/2/3/4/", "/1/2/3/", True, True, False, True)
    gridless = BuildingFacts(1, 1, None, "/1/2/3/", True, True, False, True)
    assert staffed.lacks() == ["grid_worker"]
    assert gridless.lacks() == ["grid"]


def test_ancestor_paths():
    assert ancestor_paths("/a/b/c/") == ["/a/", "/a/b/", "/a/b/c/"]


@given(st.lists(facts_strategy, max_size=60))
def test_every_level_adds_up(facts):
    tallies = roll_up(facts)
    root = tallies.get("/1/")
    assert (root.buildings if root else 0) == len(facts)
    assert (root.covered if root else 0) == sum(f.covered for f in facts)
    for path, tally in tallies.items():
        children = [
            t for p, t in tallies.items() if p.startswith(path) and p.count("/") == path.count("/") + 1
        ]
        if children and path.count("/") >= 4:  # communities: their grids plus their gridless buildings
            assert sum(c.buildings for c in children) <= tally.buildings
        assert 0 <= tally.covered <= tally.buildings
        assert 0.0 <= tally.pct <= 100.0
