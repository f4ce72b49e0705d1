"""Every change to a consultation. Each action runs in one transaction: it locks the row it
changes, checks the move against ``workflow``, and writes an audit event. The households'
responses (``responses``) and the opinion and reply actions (``opinion_actions``) are
re-exported here, so views, the demo and the tests call ``actions.*`` for everything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.consultations import codes
from gongzhi.consultations.checks import (
    Refused,
    checked_consultation,
    clean_text,
    is_signed_in,
    require,
    require_within,
)
from gongzhi.consultations.models import (
    Consultation,
    Document,
    Household,
    Question,
    ScopeItem,
)
from gongzhi.consultations.opinion_actions import (
    add_template,
    answer_opinion,
    assign_opinion,
    bulk_reply,
    draft_reply,
    new_opinion,
    publish_reply,
    raise_opinion,
)
from gongzhi.consultations.responses import (
    clean_answers,
    find_household,
    household_by_code,
    opinions_of,
    record_response,
    reissue_code,
)
from gongzhi.consultations.uploads import clean_document
from gongzhi.core.audit import record_change
from gongzhi.housing.models import Building, Compound, Unit
from gongzhi.orgs import policy

__all__ = [
    "Refused",
    "add_document",
    "add_question",
    "add_template",
    "answer_opinion",
    "assign_opinion",
    "bulk_reply",
    "clean_answers",
    "close_consultation",
    "create_consultation",
    "draft_reply",
    "find_household",
    "household_by_code",
    "new_opinion",
    "open_consultation",
    "opinions_of",
    "publish_reply",
    "publish_results",
    "raise_opinion",
    "record_response",
    "reissue_code",
    "remove_question",
    "update_consultation",
]

MAX_OPTIONS = 12
MAX_QUESTIONS = 20


# --------------------------------------------------------------------------- helpers


def common_area_path(paths: Iterable[str]) -> str:
    """The deepest area path holding all of ``paths`` ("/330921/330921100/" for two communities)."""
    split = [[p for p in path.split("/") if p] for path in paths]
    if not split:
        return ""
    common: list[str] = []
    for parts in zip(*split, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return "/" + "".join(part + "/" for part in common) if common else "/"


def _clean_threshold(num: Any, den: Any) -> tuple[int, int]:
    try:
        n, d = int(num), int(den)
    except (TypeError, ValueError):
        raise ValidationError({"threshold": _("Give the threshold as a fraction such as 2/3.")}) from None
    if not (1 <= n <= d <= 100):
        raise ValidationError(
            {"threshold": _("The threshold must be a fraction between 0 and 1, such as 2/3, 3/4 or 9/10.")}
        )
    return n, d


def _clean_scope(
    compounds: Iterable[Compound], buildings: Iterable[Building]
) -> list[tuple[Compound, Building | None]]:
    """Whole compounds, then single buildings of other compounds (a building of a compound
    that is in scope as a whole adds nothing)."""
    whole = {c.pk: c for c in compounds}
    items: list[tuple[Compound, Building | None]] = [(c, None) for c in whole.values()]
    seen: set[int] = set()
    for building in buildings:
        if building.compound_id in whole or building.pk in seen:
            continue
        seen.add(building.pk)
        items.append((building.compound, building))
    if not items:
        raise ValidationError({"compounds": _("Choose the compounds or buildings the consultation covers.")})
    return items


def _clean_dates(opens_on: dt.date | None, closes_on: dt.date | None) -> None:
    if opens_on and closes_on and closes_on < opens_on:
        raise ValidationError({"closes_on": _("The planned close comes before the opening.")})


def _lock(consultation: Consultation) -> Consultation:
    return Consultation.objects.select_for_update().get(pk=consultation.pk)


def _check_decision(decision: Any, compound_ids: set[int]) -> None:
    if decision is not None and decision.compound_id not in compound_ids:
        raise ValidationError({"decision": _("The owners' decision must concern a compound in scope.")})


# --------------------------------------------------------------------------- consultations


def create_consultation(
    actor: Any,
    *,
    title: str,
    body: str = "",
    compounds: Iterable[Compound] = (),
    buildings: Iterable[Building] = (),
    threshold_num: Any = 2,
    threshold_den: Any = 3,
    opens_on: dt.date | None = None,
    closes_on: dt.date | None = None,
    statutory_note: str = "",
    decision: Any = None,
    previous: Consultation | None = None,
    now: dt.datetime | None = None,
) -> Consultation:
    """Create a draft consultation, or the next round of ``previous`` (its scope by default).

    Who: staff who organise consultations (MANAGE) in every compound of the scope.
    """
    title = clean_text(title, "title", limit=200)
    body = clean_text(body, "body", required=False, limit=20000)
    statutory_note = clean_text(statutory_note, "statutory_note", required=False, limit=4000)
    num, den = _clean_threshold(threshold_num, threshold_den)
    compounds, buildings = list(compounds), list(buildings)
    if previous is not None:
        require(actor, policy.MANAGE, previous)
        if not compounds and not buildings:
            for item in previous.scope_items.select_related("compound", "building"):
                (buildings.append(item.building) if item.building else compounds.append(item.compound))
    scope = _clean_scope(compounds, buildings)
    for compound in {c.pk: c for c, _b in scope}.values():
        require_within(actor, policy.MANAGE, compound)
    _clean_dates(opens_on, closes_on)
    _check_decision(decision, {c.pk for c, _b in scope})
    now = now or timezone.now()
    with transaction.atomic():
        series = None
        round_number = 1
        if previous is not None:
            series = previous.first_round
            rounds = Consultation.objects.filter(Q(pk=series.pk) | Q(series=series))
            round_number = max(c.round_number for c in rounds.select_for_update()) + 1
        consultation = Consultation.objects.create(
            title=title,
            body=body,
            series=series,
            round_number=round_number,
            threshold_num=num,
            threshold_den=den,
            opens_on=opens_on,
            closes_on=closes_on,
            statutory_note=statutory_note,
            decision=decision,
            area_path=common_area_path(c.area_path for c, _b in scope),
            created_by=actor if is_signed_in(actor) else None,
            created_at=now,
        )
        ScopeItem.objects.bulk_create(
            [ScopeItem(consultation=consultation, compound=c, building=b) for c, b in scope]
        )
        record_change(
            actor,
            "consultations.consultation.create",
            consultation,
            after={
                "title": title,
                "round": round_number,
                "threshold": f"{num}/{den}",
                "scope": [[c.pk, b.pk if b else None] for c, b in scope],
            },
        )
    return consultation


def update_consultation(
    actor: Any,
    consultation: Consultation,
    *,
    title: str,
    body: str = "",
    compounds: Iterable[Compound] = (),
    buildings: Iterable[Building] = (),
    threshold_num: Any = 2,
    threshold_den: Any = 3,
    opens_on: dt.date | None = None,
    closes_on: dt.date | None = None,
    statutory_note: str = "",
    decision: Any = None,
) -> Consultation:
    """Change a draft's plan, scope, threshold and dates. Who: its organisers (MANAGE)."""
    require(actor, policy.MANAGE, consultation)
    title = clean_text(title, "title", limit=200)
    body = clean_text(body, "body", required=False, limit=20000)
    statutory_note = clean_text(statutory_note, "statutory_note", required=False, limit=4000)
    num, den = _clean_threshold(threshold_num, threshold_den)
    scope = _clean_scope(compounds, buildings)
    for compound in {c.pk: c for c, _b in scope}.values():
        require_within(actor, policy.MANAGE, compound)
    _clean_dates(opens_on, closes_on)
    _check_decision(decision, {c.pk for c, _b in scope})
    with transaction.atomic():
        locked = _lock(consultation)
        checked_consultation("edit", locked.state)
        before = {"title": locked.title, "threshold": f"{locked.threshold_num}/{locked.threshold_den}"}
        locked.title, locked.body, locked.statutory_note = title, body, statutory_note
        locked.threshold_num, locked.threshold_den = num, den
        locked.opens_on, locked.closes_on, locked.decision = opens_on, closes_on, decision
        locked.area_path = common_area_path(c.area_path for c, _b in scope)
        locked.save()
        locked.scope_items.all().delete()
        ScopeItem.objects.bulk_create(
            [ScopeItem(consultation=locked, compound=c, building=b) for c, b in scope]
        )
        record_change(
            actor,
            "consultations.consultation.edit",
            locked,
            before=before,
            after={
                "title": title,
                "threshold": f"{num}/{den}",
                "scope": [[c.pk, b.pk if b else None] for c, b in scope],
            },
        )
    return locked


def add_question(
    actor: Any,
    consultation: Consultation,
    *,
    kind: str,
    label: str,
    options: Iterable[str] | str = (),
    required: bool = False,
) -> Question:
    """Add a question to a draft (willingness is always asked). Who: its organisers."""
    require(actor, policy.MANAGE, consultation)
    if kind not in Question.Kind.values:
        raise ValidationError({"kind": _("Unknown kind of question.")})
    label = clean_text(label, "label", limit=200)
    lines = options.splitlines() if isinstance(options, str) else list(options)
    labels = [clean_text(line, "options", required=False, limit=100) for line in lines]
    labels = [text for text in labels if text]
    if kind == Question.Kind.TEXT:
        labels = []
    else:
        if len(labels) < 2 or len(labels) > MAX_OPTIONS:
            raise ValidationError(
                {"options": _("Give between 2 and %(n)s options, one per line.") % {"n": MAX_OPTIONS}}
            )
        if len(set(labels)) != len(labels):
            raise ValidationError({"options": _("Each option may appear only once.")})
    with transaction.atomic():
        locked = _lock(consultation)
        checked_consultation("edit", locked.state)
        count = locked.questions.count()
        if count >= MAX_QUESTIONS:
            raise ValidationError({"label": _("At most %(n)s questions.") % {"n": MAX_QUESTIONS}})
        question = Question.objects.create(
            consultation=locked,
            kind=kind,
            label=label,
            options=[{"key": chr(ord("a") + i), "label": text} for i, text in enumerate(labels)],
            required=bool(required),
            order=count + 1,
        )
        record_change(
            actor,
            "consultations.question.add",
            locked,
            after={"question": question.pk, "kind": kind, "label": label, "options": labels},
        )
    return question


def remove_question(actor: Any, question: Question) -> None:
    """Remove a question from a draft. Who: its organisers."""
    consultation = question.consultation
    require(actor, policy.MANAGE, consultation)
    with transaction.atomic():
        locked = _lock(consultation)
        checked_consultation("edit", locked.state)
        record_change(
            actor,
            "consultations.question.remove",
            locked,
            before={"question": question.pk, "label": question.label},
        )
        question.delete()


def add_document(
    actor: Any, consultation: Consultation, *, upload: UploadedFile, title: str = ""
) -> Document:
    """Attach a plan document (PDF) or image to a draft. Who: its organisers."""
    require(actor, policy.MANAGE, consultation)
    clean = clean_document(upload, "file")
    title = clean_text(title or getattr(upload, "name", ""), "title", limit=120)
    now = timezone.now()
    with transaction.atomic():
        locked = _lock(consultation)
        checked_consultation("edit", locked.state)
        document = Document.objects.create(
            consultation=locked,
            title=title,
            kind=clean.kind,
            file=clean.content,
            content_type=clean.content_type,
            extension=clean.extension,
            size=clean.size,
            sha256=clean.sha256,
            uploaded_by=actor if is_signed_in(actor) else None,
            created_at=now,
        )
        record_change(
            actor,
            "consultations.document.add",
            locked,
            after={"document": document.pk, "title": title, "kind": clean.kind, "size": clean.size},
        )
    return document


def households_in_scope(consultation: Consultation) -> Any:
    """The residential units the scope covers now (frozen into households when it opens)."""
    items = list(consultation.scope_items.all())
    whole = [i.compound_id for i in items if i.building_id is None]
    single = [i.building_id for i in items if i.building_id is not None]
    return Unit.objects.filter(kind=Unit.Kind.RESIDENTIAL).filter(
        Q(compound_id__in=whole) | Q(building_id__in=single)
    )


def open_consultation(actor: Any, consultation: Consultation, *, now: dt.datetime | None = None) -> int:
    """Open a draft: freeze the households in scope (one per residential unit) and issue
    their response codes. Returns the number of households. Who: its organisers."""
    require(actor, policy.MANAGE, consultation)
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(consultation)
        move = checked_consultation("open", locked.state)
        units = list(
            households_in_scope(locked).values_list("id", "building_id", "compound_id").order_by("id")
        )
        if not units:
            raise ValidationError(
                {"compounds": _("No household lives in the scope: there is nobody to ask.")}
            )
        rows = []
        for unit_id, building_id, compound_id in units:
            salt = codes.new_salt()
            rows.append(
                Household(
                    consultation=locked,
                    unit_id=unit_id,
                    building_id=building_id,
                    compound_id=compound_id,
                    code_salt=salt,
                    code_digest=codes.digest_of(codes.code_for(salt)),
                )
            )
        Household.objects.bulk_create(rows, batch_size=1000)
        locked.state = move.to
        locked.households_count = len(rows)
        locked.opened_at = now
        locked.opens_on = locked.opens_on or timezone.localdate(now)
        locked.save(update_fields=["state", "households_count", "opened_at", "opens_on"])
        record_change(
            actor,
            "consultations.consultation.open",
            locked,
            before={"state": Consultation.State.DRAFT},
            after={"state": locked.state, "households": len(rows)},
        )
    return len(rows)


def _simple_move(
    actor: Any, consultation: Consultation, action: str, stamp: str, now: dt.datetime | None
) -> None:
    require(actor, policy.MANAGE, consultation)
    with transaction.atomic():
        locked = _lock(consultation)
        before = locked.state
        move = checked_consultation(action, locked.state)
        locked.state = move.to
        setattr(locked, stamp, now or timezone.now())
        locked.save(update_fields=["state", stamp])
        record_change(
            actor,
            f"consultations.consultation.{action}",
            locked,
            before={"state": before},
            after={"state": locked.state},
        )
    consultation.state = locked.state


def close_consultation(actor: Any, consultation: Consultation, *, now: dt.datetime | None = None) -> None:
    """Stop taking responses. Who: its organisers."""
    _simple_move(actor, consultation, "close", "closed_at", now)


def publish_results(actor: Any, consultation: Consultation, *, now: dt.datetime | None = None) -> None:
    """Publish the results of a closed round (公示). Who: its organisers."""
    _simple_move(actor, consultation, "publish_results", "results_published_at", now)
