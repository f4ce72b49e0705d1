from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from gongzhi.meetings.richtext import render

register = template.Library()


@register.filter(name="minutes")
def minutes_filter(text: str) -> SafeString:
    """``{{ item.minutes|minutes }}``: the minutes' light rich text as safe HTML."""
    return render(text)
