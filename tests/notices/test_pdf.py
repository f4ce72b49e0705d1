"""A notice printed to PDF: Chinese text in an embedded CJK font, the print stylesheet from
/static/, page numbers in the footer, and not one byte fetched from the network."""

from __future__ import annotations

import copy
import io
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.test import RequestFactory, override_settings
from django.utils import translation
from PIL import Image
from pypdf import PdfReader

from gongzhi.notices.pdf import (
    OfflineResources,
    RefusedResource,
    ascii_filename,
    content_disposition,
    pdf_response,
    render_pdf,
)

SENTENCE = "经业主大会表决，同意使用维修资金更换三号楼电梯。"
REMOTE_IMAGE = "http://example.com/x.png"

NOTICE = (
    """{% extends "notices/base_print.html" %}
{% block title %}关于更换电梯的公示{% endblock %}
{% block content %}
<h1>关于更换电梯的公示</h1>
<p>"""
    + SENTENCE
    + """</p>
<img src="http://example.com/x.png" alt="">
<img src="/media/notices-test/seal.png" alt="">
<table><thead><tr><th>楼幢</th><th class="num">户数</th></tr></thead>
<tbody><tr><td>3</td><td class="num">96</td></tr></tbody></table>
<section class="page-break"><p>第二页的内容：表决结果明细。</p></section>
{% endblock %}
"""
)


def cjk_fonts() -> list[str]:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    done = subprocess.run(  # noqa: S603 - fontconfig's own lister with fixed arguments
        [fc_list, ":lang=zh", "family"], capture_output=True, text=True, check=False
    )
    return [line for line in done.stdout.splitlines() if line.strip()]


needs_cjk_fonts = pytest.mark.skipif(
    not cjk_fonts(),
    reason="no Chinese font installed (fc-list :lang=zh is empty): apt-get install fonts-noto-cjk",
)


@pytest.fixture
def notice_template(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A one-off notice template extending the print base, in a folder of this test only."""
    (tmp_path / "notices_test").mkdir()
    (tmp_path / "notices_test" / "notice.html").write_text(NOTICE, encoding="utf-8")
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [tmp_path, *templates[0]["DIRS"]]
    with override_settings(TEMPLATES=templates):
        yield "notices_test/notice.html"


@pytest.fixture
def seal_upload() -> str:
    """A small image among the uploads (MEDIA_ROOT is this session's own folder)."""
    path = Path(settings.MEDIA_ROOT) / "notices-test" / "seal.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), (183, 28, 28)).save(path)
    return "/media/notices-test/seal.png"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every attempt to look up a host or open a connection is recorded and fails."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("the network is off in this test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


def pdf_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def font_names(pdf: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def test_the_machine_has_a_chinese_font() -> None:
    if not cjk_fonts():
        pytest.skip("no Chinese font installed (fc-list :lang=zh is empty): apt-get install fonts-noto-cjk")
    assert any("Noto" in family and "CJK" in family for family in cjk_fonts())


@needs_cjk_fonts
def test_a_notice_becomes_a_pdf_with_its_chinese_text(notice_template: str, seal_upload: str) -> None:
    pdf = render_pdf(notice_template, {})

    assert pdf.startswith(b"%PDF-")
    pages = pdf_text(pdf)
    # Extractable text proves the glyphs come from an embedded font with a Unicode map.
    assert SENTENCE in pages[0].replace("\n", "")
    # print.css names Noto Serif CJK SC first (the subset's name reads "/ABCDEF+Noto-Serif-CJK-SC").
    assert any("NotoSerifCJKSC" in name.replace("-", "") for name in font_names(pdf))


@needs_cjk_fonts
def test_the_print_stylesheet_from_static_numbers_the_pages(notice_template: str, seal_upload: str) -> None:
    resources = OfflineResources()

    pdf = render_pdf(notice_template, {}, resources=resources)

    assert "http://gongzhi.invalid/static/notices/print.css" in resources.fetched
    pages = pdf_text(pdf)
    assert len(pages) == 2, "the .page-break section starts a second page"
    # The footer exists only through print.css's @page counters.
    assert "第 1 页 / 共 2 页" in pages[0]
    assert "第 2 页 / 共 2 页" in pages[1]
    # The browser's print button is .no-print.
    assert "打印" not in "".join(pages)


@needs_cjk_fonts
def test_remote_images_are_refused_and_nothing_touches_the_network(
    notice_template: str, seal_upload: str, no_network: list[object]
) -> None:
    resources = OfflineResources()

    pdf = render_pdf(notice_template, {}, resources=resources)

    assert pdf.startswith(b"%PDF-")
    assert resources.refused == [REMOTE_IMAGE]
    assert REMOTE_IMAGE not in resources.fetched
    assert "http://gongzhi.invalid/media/notices-test/seal.png" in resources.fetched
    assert no_network == []


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/static/notices/print.css",  # our path, someone else's host
        "https://gongzhi.invalid/admin/",  # our host, not a file
        "http://gongzhi.invalid/static/../settings.py",
        "http://gongzhi.invalid/static/%2e%2e/%2e%2e/pyproject.toml",
        "http://gongzhi.invalid/media/../../etc/passwd",
        "http://gongzhi.invalid/static/notices/missing.css",
        "http://gongzhi.invalid/static/notices/",  # a folder
        "file:///etc/passwd",
        "ftp://gongzhi.invalid/static/notices/print.css",
    ],
)
def test_the_fetcher_serves_only_our_own_files(url: str) -> None:
    resources = OfflineResources()

    with pytest.raises(RefusedResource):
        resources.resolve(url)

    assert resources.refused == [url]
    assert resources.fetched == []


def test_the_fetcher_serves_static_files_for_the_requests_host() -> None:
    resources = OfflineResources(("county.example:8000",))

    data, media_type = resources.resolve("http://county.example:8000/static/notices/print.css")

    assert media_type == "text/css"
    assert b"@page" in data


def test_the_printable_page_links_the_stylesheet_in_the_users_language() -> None:
    request = RequestFactory().get("/")
    with translation.override("en"):
        english = render_to_string("notices/base_print.html", {}, request=request)
    with translation.override("zh-hans"):
        chinese = render_to_string("notices/base_print.html", {}, request=request)

    assert '<html lang="en">' in english
    assert 'Page " counter(page)' in english
    assert '<html lang="zh-hans">' in chinese
    assert 'href="/static/notices/print.css"' in chinese
    assert 'class="no-print toolbar"' in chinese and "打印" in chinese


@needs_cjk_fonts
def test_the_response_is_an_inline_pdf_with_its_chinese_name(notice_template: str, seal_upload: str) -> None:
    request = RequestFactory().get("/votes/7/notice.pdf")

    response = pdf_response(notice_template, {}, request, "公示-7.pdf")

    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert response["Content-Disposition"] == (
        "inline; filename=\"7.pdf\"; filename*=UTF-8''%E5%85%AC%E7%A4%BA-7.pdf"
    )


@pytest.mark.parametrize(
    ("name", "header"),
    [
        ("notice-7.pdf", 'inline; filename="notice-7.pdf"'),
        ("公示.pdf", "inline; filename=\"document.pdf\"; filename*=UTF-8''%E5%85%AC%E7%A4%BA.pdf"),
        ('a"b\\c/d.pdf', "inline; filename=\"a_b_c_d.pdf\"; filename*=UTF-8''a%22b%5Cc%2Fd.pdf"),
        (
            "Résumé 2026.pdf",
            "inline; filename=\"Resume_2026.pdf\"; filename*=UTF-8''R%C3%A9sum%C3%A9%202026.pdf",
        ),
    ],
)
def test_the_file_name_is_safe_for_every_client(name: str, header: str) -> None:
    assert content_disposition(name) == header
    assert ascii_filename(name).isascii()


def test_rendering_a_pdf_leaves_the_photo_checks_strict() -> None:
    """WeasyPrint switches Pillow to accept truncated images when it is imported; a process
    that has rendered a notice must still refuse a cut-off JPEG upload."""
    from django.core.exceptions import ValidationError
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image, ImageFile

    from gongzhi.notices.pdf import html_to_pdf
    from gongzhi.tickets.photos import clean_photo

    assert html_to_pdf("<p>公示</p>").startswith(b"%PDF")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    buf = io.BytesIO()
    Image.new("RGB", (200, 200), "red").save(buf, "JPEG")
    whole = buf.getvalue()
    with pytest.raises(ValidationError):
        clean_photo(SimpleUploadedFile("half.jpg", whole[: len(whole) // 2], "image/jpeg"))
