"""Possible duplicates on intake and as the desk's merge suggestions.

Requests are filed through ``actions.file_ticket`` as the demo resident (the ``file``
fixture) in 育才新村. Only the requests a test files itself are looked at, so open requests
the demo seed may hold in the same compound do not change the outcome.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.translation import override
from PIL import Image

from gongzhi.housing.models import Compound
from gongzhi.tickets import actions, duplicates
from gongzhi.tickets.duplicates import Candidate, candidates, staff_candidates
from gongzhi.tickets.models import CategorySetting, Task, Ticket

pytestmark = pytest.mark.django_db

NEAR = "三幢门口的路灯坏了，晚上不亮"
ASKED = "3幢门口路灯不亮"
UNRELATED = "楼道里堆满了旧家具和纸箱，消防通道被堵"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def png() -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "orange").save(buf, "PNG")
    return SimpleUploadedFile("lamp.png", buf.getvalue(), content_type="image/png")


@pytest.fixture
def lamp(file):  # type: ignore[no-untyped-def]
    """File a street-light request (the category needs a photo and says which lamp)."""

    def _lamp(text: str = NEAR, **extra):  # type: ignore[no-untyped-def]
        extra.setdefault("attributes", {"fixture": "street"})
        extra.setdefault("photos", [png()])
        return file("lighting", text, **extra)

    return _lamp


def ask(building, text: str = ASKED, category=None, limit: int = 200) -> list[Candidate]:  # type: ignore[no-untyped-def]
    return candidates(
        text=text,
        compound_id=building.compound_id,
        building_id=building.pk,
        category_id=category.pk if category is not None else None,
        limit=limit,
    )


def ids(found: list[Candidate], among: list[Ticket]) -> list[int]:
    """The ids of ``among`` in the order they were found (other requests left out)."""
    wanted = {t.pk for t in among}
    return [c.id for c in found if c.id in wanted]


def test_a_near_duplicate_in_chinese_ranks_above_unrelated_requests(lamp, file, building1, category):
    near = lamp(NEAR)
    other = file("environment", UNRELATED)
    also_lamp = lamp("小区北门那盏灯一直闪")
    found = ask(building1, category=category("lighting"))
    assert ids(found, [near, other, also_lamp])[0] == near.pk
    assert other.pk not in ids(found, [other])  # unrelated: below the threshold
    scores = {c.id: c.score for c in found}
    assert scores[near.pk] >= 0.5
    assert scores.get(also_lamp.pk, 0.0) < scores[near.pk]


def test_digits_written_in_chinese_or_arabic_match_alike(lamp, building1):
    near = lamp("3幢门口路灯不亮了")
    found = ask(building1, text="三幢门口路灯不亮了")
    assert {c.id: c.score for c in found}[near.pk] == 1.0


def test_the_same_category_lifts_the_score(file, building1, category):
    text = "1幢门口电线杆倾斜，电线垂到路边"
    as_power = file("power", text)
    as_environment = file("environment", text)
    found = ask(building1, text="1幢门口的电线杆歪了，电线垂下来", category=category("power"))
    scores = {c.id: c.score for c in found}
    assert scores[as_power.pk] == pytest.approx(scores[as_environment.pk] + duplicates.SAME_CATEGORY_BONUS)
    assert ids(found, [as_power, as_environment]) == [as_power.pk, as_environment.pk]


def test_the_same_building_comes_before_the_rest_of_the_compound(lamp, yucai: Compound, building1):
    elsewhere = lamp(ASKED, building=yucai.buildings.get(number="2"))  # the very same words
    here = lamp(NEAR)  # close, not the same
    found = ask(building1)
    assert ids(found, [elsewhere, here]) == [here.pk, elsewhere.pk]
    flags = {c.id: c.same_building for c in found}
    assert flags[here.pk] is True and flags[elsewhere.pk] is False


def test_without_a_building_the_whole_compound_is_compared(lamp, yucai: Compound, building1):
    here = lamp(NEAR)
    found = candidates(text=ASKED, compound_id=yucai.pk, building_id=None, limit=200)
    assert here.pk in {c.id for c in found}
    assert not any(c.same_building for c in found)


def test_a_building_alone_finds_its_compound(lamp, building1):
    here = lamp(NEAR)
    found = candidates(text=ASKED, compound_id=None, building_id=building1.pk, limit=200)
    assert {c.id: c.same_building for c in found}[here.pk] is True


def test_no_place_or_no_text_gives_nothing(lamp, building1):
    lamp(NEAR)
    assert candidates(text=ASKED, compound_id=None, building_id=None) == []
    assert candidates(text="   ", compound_id=building1.compound_id, building_id=building1.pk) == []


def test_other_compounds_are_left_out(lamp, building1):
    other_compound = Compound.objects.exclude(pk=building1.compound_id).get(name="南峰小区")
    there = lamp(NEAR, building=other_compound.buildings.order_by("id").first())
    here = lamp(NEAR)
    found = ask(building1)
    assert here.pk in {c.id for c in found}
    assert there.pk not in {c.id for c in found}
    assert there.pk in {c.id for c in ask(there.building)}


def close_the_request(ticket: Ticket, users, units) -> Ticket:  # type: ignore[no-untyped-def]
    actions.accept(users["grid"], ticket)
    actions.dispatch(users["grid"], ticket, lead_unit=units["MU03"])
    task = ticket.tasks.get(role=Task.Role.LEAD)
    actions.task_accept(users["liaison"], task)
    actions.task_reply(users["liaison"], task, result="已更换灯泡")
    ticket.refresh_from_db()
    actions.verify(users["grid"], ticket)
    actions.close(users["grid"], ticket)
    ticket.refresh_from_db()
    assert ticket.state == Ticket.State.CLOSED
    return ticket


def test_closed_rejected_withdrawn_and_merged_requests_are_left_out(lamp, users, units, building1):
    closed = close_the_request(lamp(NEAR), users, units)
    rejected = actions.reject(users["grid"], lamp(NEAR), reason="不属于受理范围")
    withdrawn = actions.withdraw(users["resident"], lamp(NEAR), reason="已经修好了")
    parent, child = lamp(NEAR), lamp(NEAR)
    actions.merge(users["grid"], child, parent)
    still_open = lamp(NEAR)
    actions.accept(users["grid"], still_open)  # accepted is still open

    found = {c.id for c in ask(building1)}
    assert {still_open.pk, parent.pk} <= found
    assert not found & {closed.pk, rejected.pk, withdrawn.pk, child.pk}


def test_only_the_last_90_days_count(lamp, building1):
    now = timezone.now()
    recent = lamp(NEAR, now=now - dt.timedelta(days=89))
    stale = lamp(NEAR, now=now - dt.timedelta(days=91))
    found = {c.id for c in ask(building1)}
    assert recent.pk in found
    assert stale.pk not in found


def test_requests_marked_unreasonable_are_not_offered(lamp, users, building1):
    flagged = lamp(NEAR)
    approval = actions.request_approval(users["grid"], flagged, kind="unreasonable", reason="恶意重复投诉")
    actions.decide_approval(users["community"], approval, approve=True, note="核实")
    flagged.refresh_from_db()
    assert flagged.unreasonable
    assert flagged.pk not in {c.id for c in ask(building1)}


def test_categories_closed_to_the_public_are_not_shown_to_residents(file, building1, category):
    text = "3幢201和202两户因漏水起纠纷，需要调解"
    dispute = file("disputes", text)
    CategorySetting.objects.filter(category=category("disputes")).update(public=False)
    assert dispute.pk not in {c.id for c in ask(building1, text=text)}
    # The desk still sees it among its merge suggestions.
    assert dispute.pk in {c.id for c in staff_candidates(file("disputes", text), limit=200)}


def test_a_candidate_carries_public_data_only(lamp, building1):
    ticket = lamp("3幢门口路灯不亮，请联系13857001986张志毅", reporter_name="张志毅")
    with override("en"):
        found = {c.id: c for c in ask(building1)}
    shown = found[ticket.pk]
    assert {f.name for f in dataclasses.fields(Candidate)} == {
        "id",
        "token",
        "title",
        "category",
        "state",
        "state_label",
        "supporters_count",
        "created_at",
        "score",
        "same_building",
    }
    assert shown.token == ticket.token
    assert shown.category == ticket.category.name
    assert shown.state_label == "Reported"
    assert "13857001986" not in shown.title
    assert "138****1986" in shown.title
    assert len(shown.title) <= duplicates.TITLE_LENGTH


def test_the_me_too_count_is_shown(lamp, building1):
    ticket = lamp(NEAR)
    actions.me_too(None, ticket, phone="13900001111")
    actions.me_too(None, ticket, phone="13900002222")
    assert {c.id: c.supporters_count for c in ask(building1)}[ticket.pk] == 2


def test_the_work_is_a_few_indexed_queries(lamp, building1, django_assert_max_num_queries):
    for _ in range(3):
        lamp(NEAR)
    with django_assert_max_num_queries(2):
        ask(building1)
    with django_assert_max_num_queries(3):
        candidates(text=ASKED, compound_id=None, building_id=building1.pk)


def test_at_most_fetch_requests_are_scored(lamp, building1, monkeypatch):
    first = lamp(NEAR, now=timezone.now() - dt.timedelta(days=2))
    newer = [lamp(NEAR) for _ in range(3)]
    monkeypatch.setattr(duplicates, "FETCH", 3)
    found = ask(building1)
    assert len(found) == 3
    assert {c.id for c in found} == {t.pk for t in newer}
    assert first.pk not in {c.id for c in found}


def test_the_limit_caps_the_list(lamp, building1):
    for _ in range(4):
        lamp(NEAR)
    assert len(ask(building1, limit=2)) == 2


def test_staff_suggestions_leave_the_request_itself_out(lamp, users, building1):
    ticket = lamp(ASKED)
    twin = lamp(NEAR)
    suggested = {c.id for c in staff_candidates(ticket, limit=200)}
    assert twin.pk in suggested
    assert ticket.pk not in suggested


def test_staff_suggestions_hold_only_requests_the_user_may_merge_into(lamp, users):
    ticket = lamp(ASKED)
    twin = lamp(NEAR)
    assert twin.pk in {c.id for c in staff_candidates(ticket, user=users["grid"], limit=200)}
    # A member unit's liaison changes only its own tasks, never a request.
    assert staff_candidates(ticket, user=users["liaison"], limit=200) == []
