"""Default opinion categories for a renovation consultation; the county edits the list in the
admin. Data migration ``0002`` writes the same rows."""

from __future__ import annotations

from gongzhi.consultations.models import OpinionCategory

CATEGORIES: list[tuple[str, str]] = [
    ("pipes", "上下水管网"),
    ("roof", "屋面防水"),
    ("facade", "外立面"),
    ("parking", "停车"),
    ("greening", "绿化"),
    ("lighting", "照明"),
    ("disturbance", "施工扰民"),
    ("cost", "费用分摊"),
    ("other", "其他"),
]


def ensure_categories() -> dict[str, OpinionCategory]:
    """The default categories, created where missing; returns all categories by code."""
    existing = {c.code: c for c in OpinionCategory.objects.all()}
    missing = [
        OpinionCategory(code=code, name=name, order=i)
        for i, (code, name) in enumerate(CATEGORIES, start=1)
        if code not in existing
    ]
    for category in OpinionCategory.objects.bulk_create(missing):
        existing[category.code] = category
    return existing
