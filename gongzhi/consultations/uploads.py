"""Plan documents and images: size- and type-checked; images re-encoded without EXIF."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from gongzhi.tickets.photos import clean_photo

PDF_MAGIC = b"%PDF-"


def max_document_bytes() -> int:
    return int(getattr(settings, "GONGZHI_MAX_DOCUMENT_BYTES", 20 * 1024 * 1024))


@dataclass
class CleanDocument:
    content: ContentFile
    kind: str
    content_type: str
    extension: str
    sha256: str
    size: int


def clean_document(upload: UploadedFile, field: str = "file") -> CleanDocument:
    """A PDF (checked by its header, kept as is) or a photo (re-encoded without metadata).

    Anything else, anything over the size limit and anything empty is refused, naming the
    field and the file.
    """
    name = getattr(upload, "name", "") or "file"
    if not upload.size:
        raise ValidationError({field: _("%(name)s is empty.") % {"name": name}})
    upload.seek(0)
    head = upload.read(len(PDF_MAGIC))
    upload.seek(0)
    if head == PDF_MAGIC:
        limit = max_document_bytes()
        if upload.size > limit:
            raise ValidationError(
                {field: _("%(name)s is larger than %(mb)s MB.") % {"name": name, "mb": limit // 2**20}}
            )
        data = upload.read()
        digest = hashlib.sha256(data).hexdigest()
        return CleanDocument(
            content=ContentFile(data, name=digest + ".pdf"),
            kind="pdf",
            content_type="application/pdf",
            extension=".pdf",
            sha256=digest,
            size=len(data),
        )
    if upload.size > settings.GONGZHI_MAX_PHOTO_BYTES:
        raise ValidationError(
            {
                field: _("%(name)s is larger than %(mb)s MB.")
                % {"name": name, "mb": settings.GONGZHI_MAX_PHOTO_BYTES // 2**20}
            }
        )
    try:
        photo = clean_photo(upload, field)
    except ValidationError:
        raise ValidationError(
            {field: _("%(name)s is neither a PDF document nor a JPEG, PNG or WebP image.") % {"name": name}}
        ) from None
    return CleanDocument(
        content=photo.content,
        kind="image",
        content_type=photo.content_type,
        extension=photo.extension,
        sha256=photo.sha256,
        size=photo.size,
    )
