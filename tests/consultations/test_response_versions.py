"""A household's later response supersedes the earlier one, which is kept; the rates count
the current answer only; a form submitted twice records one response."""

from __future__ import annotations

import pytest

from gongzhi.consultations import actions, queries
from gongzhi.consultations.models import Channel, Response
from gongzhi.core.models import AppendOnlyError, AuditEvent

pytestmark = pytest.mark.django_db


def test_a_changed_answer_supersedes_and_keeps_the_first(make_consultation):
    consultation = make_consultation()
    household = consultation.households.order_by("id").first()
    first = actions.record_response(None, household, willingness="undecided", channel=Channel.PHONE_PAGE)
    second = actions.record_response(None, household, willingness="willing", channel=Channel.PHONE_PAGE)
    household.refresh_from_db()
    assert (first.version, second.version) == (1, 2)
    assert household.willingness == "willing" and household.latest_response == second
    assert list(household.responses.values_list("willingness", flat=True)) == ["undecided", "willing"]
    overall = queries.rates_table(consultation).overall.tally
    assert (overall.responded, overall.willing, overall.undecided) == (1, 1, 0)
    assert (
        AuditEvent.objects.filter(action="consultations.response.record", object_id=str(household.pk)).count()
        == 2
    )


def test_responses_are_never_changed_in_place(make_consultation):
    consultation = make_consultation()
    household = consultation.households.first()
    response = actions.record_response(None, household, willingness="willing", channel=Channel.PHONE_PAGE)
    response.willingness = "unwilling"
    with pytest.raises(AppendOnlyError):
        response.save()
    with pytest.raises(AppendOnlyError):
        Response.objects.filter(pk=response.pk).update(willingness="unwilling")


def test_the_same_form_submitted_twice_records_one_response(make_consultation):
    consultation = make_consultation()
    household = consultation.households.first()
    kwargs = {"willingness": "willing", "channel": Channel.PHONE_PAGE, "idempotency_key": "phone:abc123"}
    first = actions.record_response(None, household, opinion_text="电梯井别挡窗户", **kwargs)
    again = actions.record_response(None, household, opinion_text="电梯井别挡窗户", **kwargs)
    assert first == again
    assert household.responses.count() == 1
    assert consultation.opinions.count() == 1


def test_answers_to_the_questions_are_checked(make_consultation, users):
    consultation = make_consultation(open_it=False)
    question = actions.add_question(
        users["community"],
        consultation,
        kind="multiple",
        label="希望改造",
        options=["屋面", "管网", "照明"],
        required=True,
    )
    actions.open_consultation(users["community"], consultation)
    household = consultation.households.first()
    for answers in ({}, {str(question.pk): ["z"]}):
        with pytest.raises(Exception) as error:
            actions.record_response(
                None, household, willingness="willing", channel="phone_page", answers=answers
            )
        assert f"q_{question.pk}" in error.value.message_dict
    response = actions.record_response(
        None,
        household,
        willingness="willing",
        channel="phone_page",
        answers={str(question.pk): ["b", "a", "b"]},
    )
    assert response.answers == {str(question.pk): ["a", "b"]}
    assert household.responses.count() == 1
