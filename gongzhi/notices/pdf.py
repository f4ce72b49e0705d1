"""PDF notices: a Django template rendered to HTML, then to PDF by WeasyPrint, offline.

Staff machines sit on intranets with no internet, and a notice must never leak who printed
what to a third party, so WeasyPrint gets a URL fetcher that reads this server's own static
files and uploads from disk and refuses everything else: no HTTP, no ``file:`` paths, no
fonts from the web. Chinese text is set in the system's Noto CJK fonts (Debian's
``fonts-noto-cjk``), named by ``static/notices/print.css``, the same stylesheet the printable
HTML pages use.

WeasyPrint (with Pango and cffi under it) takes a noticeable fraction of a second to import
and tens of megabytes, so it is imported only when a PDF is actually made.
"""

from __future__ import annotations

import functools
import mimetypes
import re
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils._os import safe_join

# Base URL of a PDF rendered outside a request (a management command, a task). ``.invalid``
# never resolves, and the fetcher below serves its /static/ and /media/ from disk anyway.
OFFLINE_BASE_URL = "http://gongzhi.invalid/"


class RefusedResource(ValueError):
    """A notice referred to something that is not one of this server's own files."""


class OfflineResources:
    """Resolves the URLs a notice refers to, from this server's files only.

    ``/static/…`` comes from the staticfiles finders (then ``STATIC_ROOT``, for collected
    or hashed names), ``/media/…`` from ``MEDIA_ROOT``, ``data:`` URLs from themselves.
    Any other URL — another host, another path, ``file:``, ``ftp:`` — raises
    ``RefusedResource``. Every URL asked for is recorded in ``fetched`` or ``refused``.
    """

    def __init__(self, hosts: tuple[str, ...] = ()) -> None:
        own = {urlsplit(OFFLINE_BASE_URL).netloc, *hosts}
        if settings.GONGZHI_PUBLIC_URL:
            own.add(urlsplit(settings.GONGZHI_PUBLIC_URL).netloc)
        self.hosts = frozenset(host.lower() for host in own if host)
        self.fetched: list[str] = []
        self.refused: list[str] = []

    def resolve(self, url: str) -> tuple[bytes, str]:
        """The content and media type of ``url``; ``RefusedResource`` when it is not ours."""
        try:
            data, media_type = self._resolve(url)
        except RefusedResource:
            self.refused.append(url)
            raise
        self.fetched.append(url)
        return data, media_type

    def _resolve(self, url: str) -> tuple[bytes, str]:
        if url.startswith("data:"):
            return _data_url(url)
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or parts.netloc.lower() not in self.hosts:
            raise RefusedResource(f"not a file of this server: {url}")
        path = unquote(parts.path)
        for prefix, lookup in (
            (_url_path(settings.STATIC_URL), _static_file),
            (_url_path(settings.MEDIA_URL), _media_file),
        ):
            if prefix and path.startswith(prefix):
                found = lookup(path.removeprefix(prefix))
                if found is None:
                    raise RefusedResource(f"no such file: {url}")
                media_type = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
                return found.read_bytes(), media_type
        raise RefusedResource(f"only static files and uploads are served to notices: {url}")


def _url_path(setting: str | None) -> str:
    path = urlsplit(setting or "").path
    return path if path.endswith("/") else ""


def _static_file(relative: str) -> Path | None:
    try:
        found = finders.find(relative)
    except SuspiciousFileOperation:
        return None
    if isinstance(found, list):  # find(all=True) form; not used, but typed so
        found = found[0] if found else None
    if found and Path(found).is_file():
        return Path(found)
    return _inside(settings.STATIC_ROOT, relative)


def _media_file(relative: str) -> Path | None:
    return _inside(settings.MEDIA_ROOT, relative)


def _inside(root: Any, relative: str) -> Path | None:
    if not root:
        return None
    try:
        path = Path(safe_join(str(root), relative))
    except SuspiciousFileOperation:  # ../ out of the folder
        return None
    return path if path.is_file() else None


def _data_url(url: str) -> tuple[bytes, str]:
    import base64

    header, _comma, payload = url.partition(",")
    meta = header.removeprefix("data:")
    media_type = meta.split(";", 1)[0] or "text/plain"
    if meta.endswith(";base64"):
        return base64.b64decode(payload), media_type
    return unquote(payload).encode("utf-8"), media_type


@functools.cache
def _strict_images() -> None:
    """Import WeasyPrint once, then undo its process-wide switch that makes Pillow accept
    truncated images: the photo checks of every upload (``tickets/photos.py``) must keep
    refusing a cut-off file after the process has rendered a PDF. Notices only embed images
    that passed those checks."""
    import weasyprint  # noqa: F401
    from PIL import ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = False


@functools.cache
def _fetcher_class() -> type:
    """WeasyPrint's fetcher class, built on first use so that importing this module stays cheap."""
    _strict_images()
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class OfflineFetcher(URLFetcher):
        def __init__(self, resources: OfflineResources) -> None:
            super().__init__(allowed_protocols=("http", "https", "data"))
            self.resources = resources

        def fetch(self, url: str, headers: Any = None) -> Any:
            # Never calls the parent's fetch: that one would open the network.
            data, media_type = self.resources.resolve(url)
            return URLFetcherResponse(url, data, {"Content-Type": media_type})

    return OfflineFetcher


def base_url(request: HttpRequest | None) -> str:
    """Where a notice's relative URLs point: the site the request came to, else a dead host."""
    if request is not None:
        return request.build_absolute_uri("/")
    return settings.GONGZHI_PUBLIC_URL.rstrip("/") + "/" if settings.GONGZHI_PUBLIC_URL else OFFLINE_BASE_URL


def html_to_pdf(
    html: str, request: HttpRequest | None = None, *, resources: OfflineResources | None = None
) -> bytes:
    """A PDF of an HTML document, its stylesheets and images read through ``resources``."""
    _strict_images()
    from weasyprint import HTML

    if resources is None:
        resources = OfflineResources((request.get_host(),) if request is not None else ())
    fetcher = _fetcher_class()(resources)
    pdf = HTML(string=html, base_url=base_url(request), url_fetcher=fetcher).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf


def render_pdf(
    template_name: str,
    context: dict[str, Any],
    request: HttpRequest | None = None,
    *,
    resources: OfflineResources | None = None,
) -> bytes:
    """Render a template (usually extending ``notices/base_print.html``) to PDF bytes.

    With a request the template sees the user, the language and the site's address (links
    in the PDF then point to it); without one it renders as a background job would.
    """
    html = render_to_string(template_name, context, request=request)
    return html_to_pdf(html, request, resources=resources)


def ascii_filename(filename: str) -> str:
    """A plain-ASCII stand-in for ``filename`` for old clients: accents folded, anything
    else (Chinese, quotes, slashes) dropped; keeps the extension, never empty."""
    stem, dot, extension = filename.rpartition(".")
    if not dot:
        stem, extension = filename, ""

    def clean(text: str) -> str:
        folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        return re.sub(r"[^A-Za-z0-9._-]+", "_", folded).strip("._- ")

    stem, extension = clean(stem), clean(extension)
    return f"{stem or 'document'}{'.' + extension if extension else ''}"


def content_disposition(filename: str, *, inline: bool = True) -> str:
    """``inline; filename="…"; filename*=UTF-8''…`` (RFC 6266 with RFC 5987's encoding)."""
    kind = "inline" if inline else "attachment"
    fallback = ascii_filename(filename)
    if fallback == filename:
        return f'{kind}; filename="{fallback}"'
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def pdf_response(
    template_name: str, context: dict[str, Any], request: HttpRequest | None, filename: str
) -> HttpResponse:
    """The rendered notice as a PDF the browser shows inline (and saves as ``filename``)."""
    response = HttpResponse(render_pdf(template_name, context, request), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition(filename)
    return response
