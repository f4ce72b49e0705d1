"""The minutes' light rich text: what a secretary types becomes paragraphs, lists and bold,
and nothing typed becomes markup."""

from __future__ import annotations

from gongzhi.meetings.richtext import render


def test_paragraphs_and_line_breaks() -> None:
    assert render("第一段\n续行\n\n第二段") == "<p>第一段<br>续行</p><p>第二段</p>"


def test_bullets_and_numbered_points() -> None:
    text = "会议认为：\n- 施划禁停线\n• 夜间巡查\n1. 镇政府负责\n2、派出所配合\n散会"
    assert render(text) == (
        "<p>会议认为：</p><ul><li>施划禁停线</li><li>夜间巡查</li></ul>"
        "<ol><li>镇政府负责</li><li>派出所配合</li></ol><p>散会</p>"
    )


def test_bold() -> None:
    assert render("**决定**：同意") == "<p><strong>决定</strong>：同意</p>"


def test_markup_is_escaped() -> None:
    html = render('<script>alert(1)</script>\n- <img src=x onerror="y">\n**<b>x</b>**')
    assert "<script>" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "<strong>&lt;b&gt;x&lt;/b&gt;</strong>" in html


def test_empty() -> None:
    assert render("") == "" and render(None) == ""  # type: ignore[arg-type]
