"""Coverage rules of the zero-out campaign (清零行动), as plain functions over plain data.

A building of an unmanaged compound is covered when it has all four: a joint party branch
over it, an owners' committee (or a residents'/management committee standing in), a grid
with a grid worker, and a request channel residents can use (a QR poster on the building
or one for the whole compound).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

LACKS = ("joint_branch", "owners_committee", "grid", "grid_worker", "channel")


@dataclass(frozen=True)
class BuildingFacts:
    building_id: int
    compound_id: int
    grid_path: str | None  # path of the building's grid (own, else the compound's first), None if none
    community_path: str
    has_branch: bool
    has_committee: bool
    grid_has_worker: bool
    has_channel: bool

    def lacks(self) -> list[str]:
        missing = []
        if not self.has_branch:
            missing.append("joint_branch")
        if not self.has_committee:
            missing.append("owners_committee")
        if self.grid_path is None:
            missing.append("grid")
        elif not self.grid_has_worker:
            missing.append("grid_worker")
        if not self.has_channel:
            missing.append("channel")
        return missing

    @property
    def covered(self) -> bool:
        return not self.lacks()


@dataclass
class Tally:
    buildings: int = 0
    covered: int = 0
    lacking: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LACKS, 0))

    @property
    def pct(self) -> float:
        return round(100 * self.covered / self.buildings, 1) if self.buildings else 100.0


def ancestor_paths(path: str) -> list[str]:
    """``/a/b/c/`` → ``['/a/', '/a/b/', '/a/b/c/']``."""
    codes = [code for code in path.strip("/").split("/") if code]
    return ["/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes))]


def roll_up(facts: Iterable[BuildingFacts]) -> dict[str, Tally]:
    """Coverage counts for every area path that has unmanaged buildings below it."""
    tallies: dict[str, Tally] = defaultdict(Tally)
    for fact in facts:
        missing = fact.lacks()
        for path in ancestor_paths(fact.grid_path or fact.community_path):
            tally = tallies[path]
            tally.buildings += 1
            if not missing:
                tally.covered += 1
            for item in missing:
                tally.lacking[item] += 1
    return dict(tallies)


def pct(covered: int, total: int) -> float:
    return round(100 * covered / total, 1) if total else 100.0
