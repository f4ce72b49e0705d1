"""Photo uploads: size- and type-checked, decoded, re-encoded without EXIF (no GPS leaks)."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

FORMATS = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png"), "WEBP": ("image/webp", ".webp")}
MAX_PIXELS = 40_000_000
MAX_SIDE = 2560


@dataclass
class CleanPhoto:
    content: ContentFile
    content_type: str
    extension: str
    width: int
    height: int
    sha256: str
    size: int


def clean_photo(upload: UploadedFile, field: str = "photos") -> CleanPhoto:
    """Check one uploaded file and return it re-encoded without metadata.

    Refuses files over the size limit, anything Pillow cannot decode as JPEG, PNG or WebP,
    and decompression bombs. EXIF orientation is applied before the metadata is dropped.
    """
    name = getattr(upload, "name", "") or "photo"
    if upload.size is not None and upload.size > settings.GONGZHI_MAX_PHOTO_BYTES:
        raise ValidationError(
            {
                field: _("%(name)s is larger than %(mb)s MB.")
                % {"name": name, "mb": settings.GONGZHI_MAX_PHOTO_BYTES // 2**20}
            }
        )
    try:
        upload.seek(0)
        with Image.open(upload) as probe:
            fmt = probe.format or ""
            if fmt not in FORMATS:
                raise ValidationError(
                    {field: _("%(name)s is not a JPEG, PNG or WebP photo.") % {"name": name}}
                )
            if probe.width * probe.height > MAX_PIXELS:
                raise ValidationError({field: _("%(name)s has too many pixels.") % {"name": name}})
            probe.load()
            image = ImageOps.exif_transpose(probe)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError, ValueError):
        raise ValidationError(
            {field: _("%(name)s is not a JPEG, PNG or WebP photo.") % {"name": name}}
        ) from None
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    elif fmt == "PNG":
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "WEBP", quality=85)
    data = out.getvalue()
    content_type, extension = FORMATS[fmt]
    digest = hashlib.sha256(data).hexdigest()
    return CleanPhoto(
        content=ContentFile(data, name=digest + extension),
        content_type=content_type,
        extension=extension,
        width=image.width,
        height=image.height,
        sha256=digest,
        size=len(data),
    )


def clean_photos(uploads: list[UploadedFile], field: str = "photos") -> list[CleanPhoto]:
    if len(uploads) > settings.GONGZHI_MAX_PHOTOS:
        raise ValidationError({field: _("At most %(n)s photos.") % {"n": settings.GONGZHI_MAX_PHOTOS}})
    return [clean_photo(upload, field) for upload in uploads]
