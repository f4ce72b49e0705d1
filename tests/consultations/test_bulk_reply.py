"""A bulk reply publishes the same answer to many opinions in one transaction: all of them
or none, and submitting the same form twice publishes nothing more."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import override

from gongzhi.consultations import actions
from gongzhi.consultations.models import BulkReply, Opinion, Reply
from tests.consultations.conftest import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def opinions(make_consultation, users, category) -> list[Opinion]:
    consultation = make_consultation()
    households = list(consultation.households.order_by("id")[:5])
    return [
        actions.raise_opinion(
            users["grid"],
            consultation,
            text=f"第{i}户：屋顶漏水",
            category=category("roof"),
            household=h,
            source="door_to_door",
        )
        for i, h in enumerate(households)
    ]


def test_one_reply_for_all_selected(opinions, users):
    key = uuid.uuid4().hex
    batch = actions.bulk_reply(
        users["community"],
        opinions[0].consultation,
        [o.pk for o in opinions],
        outcome="accepted",
        text="屋面防水统一翻修。",
        key=key,
    )
    assert batch.count == 5
    assert Reply.objects.filter(batch=batch, state="published").count() == 5
    assert Opinion.objects.filter(pk__in=[o.pk for o in opinions], state="answered").count() == 5


def test_all_or_nothing_names_every_opinion_it_cannot_take(opinions, users):
    community = users["community"]
    actions.answer_opinion(community, opinions[2], outcome="explained", text="单独答复过了")
    with pytest.raises(ValidationError) as error:
        actions.bulk_reply(
            community,
            opinions[0].consultation,
            [o.pk for o in opinions] + [999999999],
            outcome="accepted",
            text="统一答复",
            key=uuid.uuid4().hex,
        )
    messages = error.value.message_dict["opinions"]
    assert any(f"#{opinions[2].pk}" in m for m in messages)
    assert any("#999999999" in m for m in messages)
    assert Reply.objects.filter(opinion__in=opinions, state="published").count() == 1  # only the earlier one
    assert not BulkReply.objects.filter(consultation=opinions[0].consultation).exists()


def test_the_same_form_twice_publishes_once(opinions, users):
    key = uuid.uuid4().hex
    ids = [o.pk for o in opinions]
    first = actions.bulk_reply(
        users["community"], opinions[0].consultation, ids, outcome="accepted", text="统一答复", key=key
    )
    again = actions.bulk_reply(
        users["community"], opinions[0].consultation, ids, outcome="accepted", text="统一答复", key=key
    )
    assert first == again
    assert Reply.objects.filter(opinion__in=opinions).count() == 5


def test_opinions_out_of_the_users_area_stop_the_batch(opinions, users, make_consultation):
    with override("en"), pytest.raises(ValidationError) as error:
        actions.bulk_reply(
            users["outsider"],
            opinions[0].consultation,
            [o.pk for o in opinions],
            outcome="accepted",
            text="越权",
            key=uuid.uuid4().hex,
        )
    assert "outside" in " ".join(error.value.message_dict["opinions"])
    assert not Reply.objects.filter(opinion__in=opinions).exists()


def test_a_malformed_selection_is_refused(opinions, users):
    for ids in ([], ["x1"]):
        with pytest.raises(ValidationError) as error:
            actions.bulk_reply(
                users["community"],
                opinions[0].consultation,
                ids,
                outcome="accepted",
                text="t",
                key=uuid.uuid4().hex,
            )
        assert "opinions" in error.value.message_dict


def test_bulk_reply_with_a_template_through_the_page_twice(opinions, users):
    template = actions.add_template(
        users["town"], name="屋面统一", outcome="accepted", text="屋面防水统一翻修，质保五年。"
    )
    client = signed_in("community")
    url = reverse("consultation-opinion-bulk", args=[opinions[0].consultation_id])
    form = {"opinions": [o.pk for o in opinions[:3]], "template": template.pk, "key": uuid.uuid4().hex}
    assert client.post(url, form).status_code == 302
    assert client.post(url, form).status_code == 302  # the double click
    published = Reply.objects.filter(opinion__in=opinions, state="published")
    assert published.count() == 3
    assert set(published.values_list("text", flat=True)) == {template.text}
    assert BulkReply.objects.get(key=form["key"]).template == template
