"""A paper response needs a photo of the signed form; the photo is re-encoded without its
metadata (no GPS) and shown to staff of the compound only."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from gongzhi.consultations import actions
from gongzhi.consultations.models import Channel
from tests.consultations.conftest import jpeg, signed_in

pytestmark = pytest.mark.django_db


def test_paper_without_a_photo_is_refused(make_consultation, users):
    consultation = make_consultation()
    household = consultation.households.first()
    with pytest.raises(ValidationError) as error:
        actions.record_response(users["grid"], household, willingness="willing", channel=Channel.PAPER)
    assert "photo" in error.value.message_dict
    assert not household.responses.exists()


def test_a_file_that_is_not_a_photo_is_refused(make_consultation, users):
    consultation = make_consultation()
    household = consultation.households.first()
    fake = SimpleUploadedFile("form.jpg", b"%PDF-1.4 not an image", content_type="image/jpeg")
    with pytest.raises(ValidationError) as error:
        actions.record_response(
            users["grid"], household, willingness="willing", channel=Channel.PAPER, photo=fake
        )
    assert "photo" in error.value.message_dict


def test_the_photo_is_kept_without_its_metadata(make_consultation, users):
    consultation = make_consultation()
    household = consultation.households.first()
    response = actions.record_response(
        users["grid"],
        household,
        willingness="unwilling",
        channel=Channel.PAPER,
        photo=jpeg(exif=True),
        collector_name="林海燕",
    )
    assert response.recorded_by == users["grid"]
    with response.photo.open("rb") as fh, Image.open(io.BytesIO(fh.read())) as stored:
        assert not stored.getexif()
    staff = signed_in("grid").get(reverse("consultation-paper-photo", args=[response.pk]))
    assert staff.status_code == 200
    assert (
        signed_in("liaison").get(reverse("consultation-paper-photo", args=[response.pk])).status_code == 403
    )
    assert (
        signed_in("outsider").get(reverse("consultation-paper-photo", args=[response.pk])).status_code == 403
    )


def test_staff_enter_a_paper_form_on_the_page(make_consultation):
    consultation = make_consultation()
    household = consultation.households.order_by("id").first()
    client = signed_in("grid")
    url = reverse("consultation-respond", args=[consultation.pk]) + f"?building={household.building_id}"
    assert client.get(url).status_code == 200
    form = {"household": household.pk, "channel": "paper", "willingness": "willing", "key": "paper-1234567"}
    refused = client.post(url, form)
    assert refused.status_code == 400
    assert not household.responses.exists()
    accepted = client.post(url, {**form, "photo": jpeg()})
    assert accepted.status_code == 302
    assert household.responses.get().channel == "paper"
