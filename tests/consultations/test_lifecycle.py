"""A consultation from draft to published results: scope, questions, documents, opening
freezes the households, rounds follow each other, and each page of it opens for its staff."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from gongzhi.consultations import actions
from gongzhi.consultations.actions import common_area_path
from gongzhi.consultations.checks import Refused
from gongzhi.consultations.models import Consultation
from gongzhi.core.models import AuditEvent
from gongzhi.housing.models import Compound, Unit
from tests.consultations.conftest import jpeg, signed_in

pytestmark = pytest.mark.django_db


def test_the_area_of_a_consultation_is_the_deepest_one_holding_its_compounds():
    assert common_area_path(["/1/2/3/", "/1/2/3/"]) == "/1/2/3/"
    assert common_area_path(["/1/2/3/", "/1/2/4/"]) == "/1/2/"
    assert common_area_path(["/1/2/3/", "/9/"]) == "/"


def test_opening_freezes_one_household_per_residential_unit(make_consultation, yucai):
    consultation = make_consultation(open_it=False)
    assert consultation.state == Consultation.State.DRAFT
    assert consultation.area_path == yucai.area_path
    n = actions.open_consultation(consultation.created_by, consultation)
    residential = Unit.objects.filter(compound=yucai, kind=Unit.Kind.RESIDENTIAL).count()
    assert n == residential == consultation.households.count()
    assert Unit.objects.filter(compound=yucai).count() > residential  # shops are not households
    # A unit added after opening does not join the frozen list.
    digests = set(consultation.households.values_list("code_digest", flat=True))
    assert len(digests) == n
    assert AuditEvent.objects.filter(
        action="consultations.consultation.open", object_id=str(consultation.pk)
    ).exists()


def test_single_buildings_count_only_their_households(make_consultation, yucai):
    b1, b2 = yucai.buildings.order_by("id")[:2]
    consultation = make_consultation(buildings=[b1, b2])
    expected = Unit.objects.filter(building__in=[b1, b2], kind=Unit.Kind.RESIDENTIAL).count()
    assert consultation.households_count == expected


def test_a_draft_takes_questions_and_documents_and_is_fixed_once_open(make_consultation, users):
    community = users["community"]
    consultation = make_consultation(open_it=False)
    actions.add_question(
        community, consultation, kind="single", label="电梯装在哪一侧？", options="北侧\n南侧"
    )
    with pytest.raises(ValidationError) as error:
        actions.add_question(community, consultation, kind="single", label="只有一个选项", options="北侧")
    assert "options" in error.value.message_dict
    pdf = SimpleUploadedFile("plan.pdf", b"%PDF-1.4\n%test\n", content_type="application/pdf")
    assert actions.add_document(community, consultation, upload=pdf, title="方案").kind == "pdf"
    assert actions.add_document(community, consultation, upload=jpeg()).kind == "image"
    fake = SimpleUploadedFile("plan.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(ValidationError) as error:
        actions.add_document(community, consultation, upload=fake)
    assert "file" in error.value.message_dict
    actions.open_consultation(community, consultation)
    with pytest.raises(Refused):
        actions.add_question(community, consultation, kind="text", label="还有什么？")
    with pytest.raises(Refused):
        actions.update_consultation(
            community, consultation, title="改名", compounds=[consultation.scope_items.get().compound]
        )


def test_the_threshold_is_a_fraction_of_at_most_one(make_consultation):
    for num, den in ((3, 2), (0, 3), ("a", 3)):
        with pytest.raises(ValidationError) as error:
            make_consultation(open_it=False, threshold_num=num, threshold_den=den)
        assert "threshold" in error.value.message_dict
    assert make_consultation(open_it=False, threshold_num=9, threshold_den=10).threshold_den == 10


def test_only_organisers_of_every_compound_in_scope_create_one(users, yucai):
    other = Compound.objects.get(name="大峧小区")
    with pytest.raises(PermissionDenied):
        actions.create_consultation(users["community"], title="跨社区", compounds=[yucai, other])
    with pytest.raises(PermissionDenied):
        actions.create_consultation(users["grid"], title="网格员不能发起", compounds=[yucai])
    consultation = actions.create_consultation(users["town"], title="全镇", compounds=[yucai, other])
    assert consultation.area_path == yucai.community.parent.path


def test_the_next_round_keeps_the_scope_and_counts_on(make_consultation, users):
    community = users["community"]
    first = make_consultation()
    actions.close_consultation(community, first)
    second = actions.create_consultation(community, title="第二轮", previous=first)
    third = actions.create_consultation(community, title="第三轮", previous=second)
    assert (second.series, second.round_number) == (first, 2)
    assert (third.series, third.round_number) == (first, 3)
    assert list(second.scope_items.values_list("compound_id", "building_id")) == list(
        first.scope_items.values_list("compound_id", "building_id")
    )


def test_close_then_publish_results_and_not_the_other_way(make_consultation, users):
    community = users["community"]
    consultation = make_consultation()
    with pytest.raises(Refused):
        actions.publish_results(community, consultation)
    actions.close_consultation(community, consultation)
    actions.publish_results(community, consultation)
    consultation.refresh_from_db()
    assert consultation.state == Consultation.State.PUBLISHED and consultation.results_published_at


@pytest.mark.parametrize(
    "name",
    [
        "consultation-detail",
        "consultation-respond",
        "consultation-nonresponders",
        "consultation-slips",
        "consultation-opinions",
    ],
)
def test_the_staff_pages_open_for_the_organiser(make_consultation, name):
    consultation = make_consultation()
    response = signed_in("community").get(reverse(name, args=[consultation.pk]))
    assert response.status_code == 200


def test_staff_create_a_consultation_through_the_form(users, yucai):
    client = signed_in("community")
    assert client.get(reverse("consultation-new")).status_code == 200
    response = client.post(
        reverse("consultation-new"),
        {"title": "楼道照明改造", "body": "更换声控灯", "compounds": [yucai.pk], "threshold": "3/4"},
    )
    consultation = Consultation.objects.get(title="楼道照明改造")
    assert response.status_code == 302
    assert (consultation.threshold_num, consultation.threshold_den) == (3, 4)
    response = client.post(reverse("consultation-act", args=[consultation.pk, "open"]))
    consultation.refresh_from_db()
    assert consultation.state == "open" and consultation.households_count > 100
    assert client.get(reverse("consultation-list")).status_code == 200
