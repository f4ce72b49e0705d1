"""An opinion is a tracked item: assigned to a member unit or the owners' committee, which
drafts a reply; the organisers publish it; a published reply is final and audited."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.translation import override

from gongzhi.consultations import actions
from gongzhi.consultations.checks import Refused
from gongzhi.consultations.models import Channel, Opinion, Reply
from gongzhi.core.models import AuditEvent
from gongzhi.orgs.models import Organisation
from gongzhi.tickets.models import Notification
from tests.consultations.conftest import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def opinion(make_consultation, category) -> Opinion:
    consultation = make_consultation()
    household = consultation.households.order_by("id").first()
    actions.record_response(
        None,
        household,
        willingness="undecided",
        channel=Channel.PHONE_PAGE,
        opinion_text="楼道灯坏了很久，电梯施工时请先修好照明",
        opinion_category=category("lighting"),
    )
    return consultation.opinions.get()


def test_the_unit_drafts_and_the_organisers_publish(opinion, users, power):
    community, liaison = users["community"], users["liaison"]
    actions.assign_opinion(community, opinion, power)
    opinion.refresh_from_db()
    assert (opinion.state, opinion.assignee) == ("assigned", power)
    assert Notification.objects.filter(
        recipient=liaison, url=f"/consultations/opinions/{opinion.pk}/"
    ).exists()

    actions.draft_reply(liaison, opinion, outcome="accepted", text="已列入改造：先更换楼道声控灯。")
    opinion.refresh_from_db()
    assert opinion.state == "drafted"
    with pytest.raises(PermissionDenied):
        actions.publish_reply(liaison, opinion)  # the unit drafts; the organisers publish

    reply = actions.publish_reply(community, opinion)
    opinion.refresh_from_db()
    assert (opinion.state, opinion.outcome) == ("answered", "accepted")
    assert (reply.state, reply.by_label) == ("published", power.name)
    for action in ("assign", "draft", "publish"):
        name = "consultations.opinion.assign" if action == "assign" else f"consultations.reply.{action}"
        assert AuditEvent.objects.filter(action=name, object_id=str(opinion.pk)).exists()


def test_a_published_reply_is_final(opinion, users):
    community = users["community"]
    actions.answer_opinion(community, opinion, outcome="explained", text="照明改造另行安排。")
    for move in (
        lambda: actions.draft_reply(community, opinion, outcome="accepted", text="改主意了"),
        lambda: actions.answer_opinion(community, opinion, outcome="accepted", text="再答一次"),
    ):
        with override("en"), pytest.raises(Refused) as error:
            move()
        assert "already" in str(error.value)
    assert opinion.replies.get().text == "照明改造另行安排。"


def test_a_draft_can_be_rewritten_until_published(opinion, users):
    community = users["community"]
    actions.draft_reply(community, opinion, outcome="rejected", text="第一稿")
    actions.draft_reply(community, opinion, outcome="explained", text="第二稿")
    assert list(opinion.replies.values_list("state", "text")) == [("draft", "第二稿")]


def test_replies_need_an_outcome_and_a_text(opinion, users):
    with pytest.raises(ValidationError) as error:
        actions.draft_reply(users["community"], opinion, outcome="maybe", text="x")
    assert "outcome" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        actions.draft_reply(users["community"], opinion, outcome="accepted", text="  ")
    assert "text" in error.value.message_dict


def test_only_a_member_unit_or_the_compounds_own_committee_is_assigned(opinion, users, yucai):
    community = users["community"]
    branch = Organisation.objects.filter(kind="joint_branch", compound=yucai).first()
    with pytest.raises(ValidationError):
        actions.assign_opinion(community, opinion, branch)
    elsewhere = Organisation.objects.filter(kind="owners_committee").exclude(compound=yucai).first()
    with pytest.raises(ValidationError):
        actions.assign_opinion(community, opinion, elsewhere)
    own = Organisation.objects.get(kind__in=Organisation.COMMITTEE_KINDS, compound=yucai)
    actions.assign_opinion(community, opinion, own)
    # The committee drafts the reply to what is assigned to it.
    actions.draft_reply(users["committee"], opinion, outcome="explained", text="业委会将与施工方协调。")
    assert opinion.replies.get().by_label == own.name


def test_the_reply_workflow_through_the_pages(opinion, users, power):
    community = signed_in("community")
    url = reverse("consultation-opinion", args=[opinion.pk])
    assert community.get(url).status_code == 200
    community.post(reverse("consultation-opinion-act", args=[opinion.pk, "assign"]), {"assignee": power.pk})
    liaison = signed_in("liaison")
    assert liaison.get(url).status_code == 200
    liaison.post(
        reverse("consultation-opinion-act", args=[opinion.pk, "draft"]),
        {"outcome": "accepted", "text": "先修楼道灯"},
    )
    community.post(reverse("consultation-opinion-act", args=[opinion.pk, "publish"]))
    assert Reply.objects.get(opinion=opinion).state == "published"
    public = signed_in("resident").get(reverse("consultation-public", args=[opinion.consultation_id]))
    assert "先修楼道灯" in public.content.decode()
