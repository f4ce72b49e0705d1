"""What a result page and the public notice show: the stored figures and arithmetic,
translated. A published result is rendered from what was stored when it was counted, never
recomputed on the fly."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from gongzhi.decisions.models import Decision, Result


def lines(result: Result) -> list[str]:
    return [_(template) % values for template, values in result.explanation]


def notice_context(decision: Decision, result: Result) -> dict[str, Any]:
    figures = result.figures
    return {
        "result": result,
        "figures": figures,
        "deemed": figures.get("deemed"),
        "lines": lines(result),
        "recount_of": result.recount_of,
    }
