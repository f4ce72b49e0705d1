"""Bad input on intake: every refusal names the field and the reason and saves nothing.

Photos are checked for size, count and type and re-encoded without metadata; text is
length-checked and stored as typed (escaping is the templates' job); places, categories'
questions and staff entries are checked before anything is written.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils.translation import override
from PIL import ExifTags, Image

from gongzhi.core.models import AuditEvent
from gongzhi.housing.models import Compound
from gongzhi.tickets import actions
from gongzhi.tickets.models import Attachment, Notification, Supporter, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

RECORDS = (Ticket, TicketEvent, Attachment, Notification, Supporter, AuditEvent)


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@contextmanager
def refused(field: str, media: Path) -> Iterator[list[str]]:
    """Expect a refusal on ``field``; yield its English messages; check nothing was saved."""
    before = {model.__name__: model.objects.count() for model in RECORDS}
    files_before = stored_files(media)
    messages: list[str] = []
    with override("en"), pytest.raises(ValidationError) as caught:
        yield messages
    assert field in caught.value.message_dict, caught.value.message_dict
    messages.extend(caught.value.message_dict[field])
    after = {model.__name__: model.objects.count() for model in RECORDS}
    assert after == before
    assert stored_files(media) == files_before


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (16, 16), **save: Any) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, "green").save(buf, fmt, **save)
    return buf.getvalue()


def upload(name: str, data: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


# ---- photos -----------------------------------------------------------------------------


@override_settings(GONGZHI_MAX_PHOTO_BYTES=2**20)
def test_a_photo_over_the_size_limit_is_refused(file, media):
    too_big = image_bytes()[:4] + b"\0" * 2**20
    with refused("photos", media) as messages:
        file(photos=[upload("big.jpg", too_big)])
    assert messages == ["big.jpg is larger than 1 MB."]


def test_a_photo_of_exactly_the_size_limit_is_taken(file, media):
    data = image_bytes()
    with override_settings(GONGZHI_MAX_PHOTO_BYTES=len(data)):
        ticket = file(photos=[upload("fits.jpg", data)])
    assert ticket.attachments.count() == 1
    with override_settings(GONGZHI_MAX_PHOTO_BYTES=len(data) - 1), refused("photos", media):
        file(photos=[upload("fits.jpg", data)])


def test_bytes_that_are_not_an_image_are_refused_whatever_the_name(file, media):
    with refused("photos", media) as messages:
        file(photos=[upload("pole.jpg", b"<html>this is not a photo</html>")])
    assert messages == ["pole.jpg is not a JPEG, PNG or WebP photo."]


def test_a_cut_off_jpeg_is_refused(file, media):
    whole = image_bytes(size=(200, 200))
    with refused("photos", media) as messages:
        file(photos=[upload("half.jpg", whole[: len(whole) // 2])])
    assert messages == ["half.jpg is not a JPEG, PNG or WebP photo."]


def test_a_gif_is_refused_even_when_named_jpg(file, media):
    with refused("photos", media) as messages:
        file(photos=[upload("moving.jpg", image_bytes("GIF"), "image/gif")])
    assert messages == ["moving.jpg is not a JPEG, PNG or WebP photo."]


def test_a_png_named_gif_is_taken_and_stored_as_the_png_it_is(file, media):
    ticket = file(photos=[upload("pole.gif", image_bytes("PNG"), "image/gif")])
    photo = ticket.attachments.get()
    assert (photo.content_type, photo.extension) == ("image/png", ".png")
    assert photo.file.name.endswith(".png")
    with Image.open(photo.file.path) as stored:
        assert stored.format == "PNG"


def gps_jpeg() -> bytes:
    """A 40×20 JPEG, red on the left and blue on the right, taken "rotated" (EXIF
    orientation 6: turn 90° clockwise to view) at a GPS position, by a named phone."""
    image = Image.new("RGB", (40, 20), (255, 0, 0))
    image.paste((0, 0, 255), (20, 0, 40, 20))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (30.0, 15.0, 0.0),
            ExifTags.GPS.GPSLongitudeRef: "E",
            ExifTags.GPS.GPSLongitude: (122.0, 12.0, 0.0),
        }
    )
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif, quality=95)
    return buf.getvalue()


def test_a_photo_loses_its_exif_and_gps_but_keeps_its_orientation(file, media):
    data = gps_jpeg()
    with Image.open(io.BytesIO(data)) as sent:  # the test photo really carries a position
        assert sent.getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "N"

    ticket = file(photos=[upload("IMG_0001.jpg", data)])

    photo = ticket.attachments.get()
    raw = Path(photo.file.path).read_bytes()
    assert b"Exif" not in raw and b"PhoneMaker" not in raw
    with Image.open(io.BytesIO(raw)) as stored:
        assert stored.format == "JPEG"
        assert len(stored.getexif()) == 0
        assert "exif" not in stored.info
        # Turned upright: now 20 wide and 40 high, the red half on top.
        assert stored.size == (20, 40) == (photo.width, photo.height)
        top, bottom = stored.convert("RGB").getpixel((10, 5)), stored.convert("RGB").getpixel((10, 35))
    assert top[0] > 200 and top[2] < 60, top
    assert bottom[2] > 200 and bottom[0] < 60, bottom
    assert photo.size == len(raw)
    assert photo.event is not None and photo.event.action == "report"


@override_settings(GONGZHI_MAX_PHOTOS=2)
def test_too_many_photos_are_refused(file, media):
    photos = [upload(f"p{i}.png", image_bytes("PNG"), "image/png") for i in range(3)]
    with refused("photos", media) as messages:
        file(photos=photos)
    assert messages == ["At most 2 photos."]


def test_one_bad_photo_among_good_ones_refuses_them_all(file, media):
    photos = [upload("good.png", image_bytes("PNG"), "image/png"), upload("bad.jpg", b"not a photo")]
    with refused("photos", media):
        file(photos=photos)


def test_a_category_that_needs_a_photo_refuses_a_request_without_one(file, media):
    with refused("photos", media) as messages:
        file("lighting", "3幢门口路灯不亮", attributes={"fixture": "street"})
    assert messages == ["This category needs a photo."]
    ticket = file(
        "lighting",
        "3幢门口路灯不亮",
        attributes={"fixture": "street"},
        photos=[upload("lamp.png", image_bytes("PNG"), "image/png")],
    )
    assert ticket.attachments.count() == 1


# ---- text -------------------------------------------------------------------------------


def test_a_description_of_10000_characters_is_refused(file, media):
    with refused("description", media) as messages:
        file(text="路灯" * 5000)
    assert messages == ["At most 2000 characters (this has 10000)."]


@pytest.mark.parametrize("blank", ["", "   ", "\n\t "])
def test_an_empty_description_is_refused(file, media, blank: str):
    with refused("description", media) as messages:
        file(text=blank)
    assert messages == ["This field is required."]


def test_html_and_script_are_stored_exactly_as_typed(file):
    text = '<script>alert("x")</script><b>3幢</b> 路灯 & 电线 <img src=x onerror=alert(1)>'
    ticket = file(text=text)
    ticket.refresh_from_db()
    assert ticket.description == text
    assert ticket.events.get().action == "report"


def test_a_reporter_name_too_long_is_refused_and_no_photo_is_left_behind(file, media):
    photo = upload("pole.png", image_bytes("PNG"), "image/png")
    with refused("reporter_name", media) as messages:
        file(reporter_name="张" * 61, photos=[photo])
    assert messages == ["At most 60 characters (this has 61)."]


# ---- place, channel, questions ----------------------------------------------------------


def test_a_building_of_another_compound_is_refused(file, yucai: Compound, media):
    elsewhere = Compound.objects.exclude(pk=yucai.pk).get(name="南峰小区").buildings.first()
    with refused("building", media) as messages:
        file(compound=yucai, building=elsewhere)
    assert messages == ["The building is not in this compound."]


def test_a_unit_of_another_building_is_refused(file, yucai: Compound, building1, media):
    other_unit = yucai.units.exclude(building=building1).first()
    assert other_unit is not None
    with refused("unit", media) as messages:
        file(building=building1, unit=other_unit)
    assert messages == ["The unit is not in this building."]


def test_a_request_without_any_place_is_refused(file, media):
    with refused("address_text", media) as messages:
        file(building=None, address_text="   ")
    assert messages == ["Say where: choose your building or describe the place."]


@pytest.mark.parametrize("where", [-1, 1001])
def test_a_point_off_the_compound_plan_is_refused(file, media, where: int):
    with refused("plan_x", media) as messages:
        file(plan_x=where, plan_y=500)
    assert messages == ["The point must lie on the plan."]


@pytest.mark.parametrize(
    ("field", "extra"), [("channel", {"channel": "fax"}), ("urgency", {"urgency": "now!"})]
)
def test_an_unknown_channel_or_urgency_is_refused(users, building1, category, media, field: str, extra):  # type: ignore[no-untyped-def]
    fields: dict[str, Any] = {"channel": "phone_page", "urgency": "normal", **extra}
    with refused(field, media):
        actions.file_ticket(
            users["resident"],
            category=category("power"),
            description="1幢门口电线杆倾斜",
            building=building1,
            attributes={"hazard": "yes"},
            **fields,
        )


@pytest.mark.parametrize("consent", ["", "   "])
def test_a_staff_entry_without_the_residents_consent_is_refused(users, building1, category, media, consent):  # type: ignore[no-untyped-def]
    def enter(note: str) -> Ticket:
        return actions.file_ticket(
            users["grid"],
            channel="staff_call",
            category=category("power"),
            description="王阿姨来电：1幢门口电线杆倾斜",
            building=building1,
            attributes={"hazard": "yes"},
            reporter_name="王阿姨",
            reporter_phone="13905809999",
            consent_note=note,
        )

    with refused("consent_note", media) as messages:
        enter(consent)
    assert messages == ["Record how the resident agreed to this being filed for them."]
    ticket = enter("电话中口头同意代为登记")
    assert ticket.entered_by == users["grid"] and ticket.reporter_user is None


def test_a_required_question_left_unanswered_is_refused(file, media):
    with refused("attribute[hazard]", media) as messages:
        file("power", attributes={})
    assert len(messages) == 1 and messages[0].endswith("needs an answer.")
    assert "是否有安全隐患" in messages[0]  # the question as the category asks it


def test_an_answer_not_offered_is_refused(file, media):
    with refused("attribute[hazard]", media) as messages:
        file("power", attributes={"hazard": "maybe"})
    assert messages == ["Not one of the offered answers."]


def test_a_number_question_answered_with_words_is_refused(file, media):
    with refused("attribute[bins]", media) as messages:
        file(
            "garbage",
            "垃圾桶满了没人清",
            attributes={"bins": "很多"},
            photos=[upload("bins.png", image_bytes("PNG"), "image/png")],
        )
    assert messages == ["Enter a number."]
