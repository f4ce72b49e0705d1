"""Every change to an opinion and its replies: raise, assign, draft, publish, bulk reply.

Re-exported by ``actions``. Each runs in one transaction, locks the opinion rows it
changes, checks the move against ``workflow`` and writes an audit event per opinion.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.consultations.checks import (
    checked_consultation,
    checked_opinion,
    clean_text,
    is_signed_in,
    require,
    require_within,
)
from gongzhi.consultations.models import (
    BulkReply,
    Consultation,
    Household,
    Opinion,
    OpinionCategory,
    Outcome,
    Reply,
    ReplyTemplate,
    Response,
    ScopeItem,
)
from gongzhi.core.audit import record_change
from gongzhi.housing.models import Building, Compound
from gongzhi.orgs import policy
from gongzhi.orgs.models import Organisation, Role, RoleGrant
from gongzhi.tickets.notify import enqueue

MAX_BULK = 500


def _category(category: OpinionCategory | None) -> OpinionCategory:
    if category is not None:
        return category
    found = OpinionCategory.objects.filter(code="other").first() or OpinionCategory.objects.first()
    if found is None:
        raise ValidationError({"category": _("Choose a category.")})
    return found


def _in_scope(consultation: Consultation, compound: Compound, building: Building | None) -> bool:
    items = ScopeItem.objects.filter(consultation=consultation, compound=compound)
    if building is None:
        return items.exists()
    return items.filter(building__isnull=True).exists() or items.filter(building=building).exists()


def new_opinion(
    actor: Any,
    consultation: Consultation,
    *,
    text: str,
    category: OpinionCategory | None,
    source: str,
    household: Household | None = None,
    compound: Compound | None = None,
    building: Building | None = None,
    response: Response | None = None,
    now: dt.datetime,
) -> Opinion:
    """Write one opinion and its audit event inside the caller's transaction (no checks of
    who may: ``raise_opinion`` and ``record_response`` make them)."""
    if household is not None:
        compound, building = household.compound, household.building
    elif building is not None:
        compound = building.compound
    opinion = Opinion.objects.create(
        consultation=consultation,
        household=household,
        response=response,
        compound=compound,
        building=building,
        category=_category(category),
        text=text,
        source=source,
        area_path=compound.area_path if compound is not None else consultation.area_path,
        created_by=actor if is_signed_in(actor) else None,
        created_at=now,
    )
    record_change(
        actor,
        "consultations.opinion.raise",
        opinion,
        after={"consultation": consultation.pk, "category": opinion.category.code, "source": source},
    )
    return opinion


def raise_opinion(
    actor: Any,
    consultation: Consultation,
    *,
    text: str,
    category: OpinionCategory | None = None,
    source: str = Opinion.Source.MEETING,
    household: Household | None = None,
    compound: Compound | None = None,
    building: Building | None = None,
    now: dt.datetime | None = None,
) -> Opinion:
    """Staff enter an opinion heard at a meeting, on a call or at the door.

    Who: staff who may record responses in the consultation (and, for an opinion with a
    place, in that compound). Only while the consultation is open.
    """
    require(actor, policy.CHANGE, consultation)
    if source not in Opinion.Source.values:
        raise ValidationError({"source": _("Unknown channel.")})
    text = clean_text(text, "text")
    if household is not None and household.consultation_id != consultation.pk:
        raise ValidationError({"household": _("This household is not in the scope of this consultation.")})
    if building is not None and compound is not None and building.compound_id != compound.pk:
        raise ValidationError({"building": _("The building is not in this compound.")})
    place = household.compound if household is not None else building.compound if building else compound
    if place is not None:
        if household is None and not _in_scope(consultation, place, building):
            raise ValidationError({"compound": _("This place is not in the scope of this consultation.")})
        require_within(actor, policy.CHANGE, place)
    now = now or timezone.now()
    with transaction.atomic():
        locked = Consultation.objects.select_for_update().get(pk=consultation.pk)
        checked_consultation("raise_opinion", locked.state)
        return new_opinion(
            actor,
            locked,
            text=text,
            category=category,
            source=source,
            household=household,
            compound=compound,
            building=building,
            now=now,
        )


def _notify_assignee(opinion: Opinion, assignee: Organisation) -> None:
    if assignee.kind == Organisation.Kind.MEMBER_UNIT:
        grants = RoleGrant.objects.filter(organisation=assignee, role=Role.UNIT_LIAISON)
    elif assignee.compound_id is not None:
        grants = RoleGrant.objects.filter(compound_id=assignee.compound_id, role=Role.COMMITTEE_MEMBER)
    else:
        return
    subject = _("An opinion on “%(title)s” is yours to answer") % {"title": opinion.consultation.title[:80]}
    body = _("Opinion #%(id)s (%(category)s): %(text)s") % {
        "id": opinion.pk,
        "category": opinion.category.name,
        "text": opinion.text[:200],
    }
    for grant in grants.filter(revoked_at__isnull=True).select_related("user"):
        enqueue(
            channel="inbox",
            recipient=grant.user,
            subject=subject,
            body=body,
            url=f"/consultations/opinions/{opinion.pk}/",
        )


def assign_opinion(actor: Any, opinion: Opinion, assignee: Organisation) -> Opinion:
    """Give an opinion to a member unit or to the owners' committee of its compound to
    answer; they are told in their inbox. Who: the organisers (MANAGE on the opinion)."""
    require(actor, policy.MANAGE, opinion)
    if assignee.kind == Organisation.Kind.MEMBER_UNIT:
        if not assignee.is_active:
            raise ValidationError({"assignee": _("This member unit has left the mechanism.")})
    elif assignee.kind in Organisation.COMMITTEE_KINDS:
        if opinion.compound_id is not None and assignee.compound_id != opinion.compound_id:
            raise ValidationError(
                {"assignee": _("Only the owners' committee of the opinion's own compound can answer it.")}
            )
    else:
        raise ValidationError({"assignee": _("Assign the opinion to a member unit or an owners' committee.")})
    now = timezone.now()
    with transaction.atomic():
        locked = (
            Opinion.objects.select_for_update(of=("self",))
            .select_related("consultation", "category")
            .get(pk=opinion.pk)
        )
        checked_opinion("assign", locked.state)
        before = {"assignee": locked.assignee_id, "state": locked.state}
        locked.assignee, locked.assigned_at = assignee, now
        if locked.state == Opinion.State.NEW:
            locked.state = Opinion.State.ASSIGNED
        locked.save(update_fields=["assignee", "assigned_at", "state"])
        record_change(
            actor,
            "consultations.opinion.assign",
            locked,
            before=before,
            after={"assignee": assignee.pk, "state": locked.state},
        )
        _notify_assignee(locked, assignee)
    return locked


def acting_body(actor: Any, opinion: Opinion) -> str:
    """The body a reply is published in the name of: the assigned unit or committee when the
    actor acts for it, else the area the actor organises from — never a person's name."""
    assignee = opinion.assignee
    grants = policy.active_grants(actor)
    if assignee is not None:
        for grant in grants:
            if grant.organisation_id == assignee.pk:
                return assignee.name
            if grant.role == Role.COMMITTEE_MEMBER and grant.compound_id == assignee.compound_id:
                return assignee.name
    for grant in grants:
        if grant.area is not None and grant.role != Role.RESIDENT:
            return grant.area.name
    return _("The organisers")


def _clean_reply(outcome: str, text: str, summary: str) -> tuple[str, str, str]:
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": _("Say whether the opinion is adopted, explained or not adopted.")})
    return outcome, clean_text(text, "text"), clean_text(summary, "summary", required=False, limit=300)


def _lock_opinion(opinion: Opinion) -> Opinion:
    return (
        Opinion.objects.select_for_update(of=("self",))
        .select_related("consultation", "assignee")
        .get(pk=opinion.pk)
    )


def draft_reply(
    actor: Any,
    opinion: Opinion,
    *,
    outcome: str,
    text: str,
    summary: str = "",
    template: ReplyTemplate | None = None,
) -> Reply:
    """Write (or rewrite) the draft reply to an opinion. Who: whoever may work on the
    opinion — the organisers, the member unit or the owners' committee it is assigned to."""
    require(actor, policy.CHANGE, opinion)
    outcome, text, summary = _clean_reply(outcome, text, summary)
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_opinion(opinion)
        checked_consultation("reply", locked.consultation.state)
        move = checked_opinion("draft", locked.state)
        draft = locked.replies.filter(state=Reply.State.DRAFT).first() or Reply(opinion=locked)
        draft.outcome, draft.text, draft.summary, draft.template = outcome, text, summary, template
        draft.by_label = acting_body(actor, locked)[:120]
        draft.author = actor if is_signed_in(actor) else None
        draft.drafted_at = now
        draft.save()
        before = locked.state
        locked.state = move.to
        locked.save(update_fields=["state"])
        record_change(
            actor,
            "consultations.reply.draft",
            locked,
            before={"state": before},
            after={"state": locked.state, "reply": draft.pk, "outcome": outcome},
        )
    return draft


def _publish(actor: Any, locked: Opinion, reply: Reply, now: dt.datetime, action: str) -> None:
    reply.state = Reply.State.PUBLISHED
    reply.published_by = actor if is_signed_in(actor) else None
    reply.published_at = now
    reply.save()
    before = locked.state
    locked.state, locked.outcome, locked.answered_at = Opinion.State.ANSWERED, reply.outcome, now
    locked.save(update_fields=["state", "outcome", "answered_at"])
    record_change(
        actor,
        f"consultations.reply.{action}",
        locked,
        before={"state": before},
        after={"state": locked.state, "reply": reply.pk, "outcome": reply.outcome, "batch": reply.batch_id},
    )


def publish_reply(actor: Any, opinion: Opinion) -> Reply:
    """Publish the drafted reply: the opinion counts as answered on the public page.
    Who: the organisers (MANAGE on the opinion)."""
    require(actor, policy.MANAGE, opinion)
    with transaction.atomic():
        locked = _lock_opinion(opinion)
        checked_consultation("reply", locked.consultation.state)
        checked_opinion("publish", locked.state)
        draft = locked.replies.get(state=Reply.State.DRAFT)
        _publish(actor, locked, draft, timezone.now(), "publish")
    return draft


def answer_opinion(
    actor: Any,
    opinion: Opinion,
    *,
    outcome: str,
    text: str,
    summary: str = "",
    template: ReplyTemplate | None = None,
) -> Reply:
    """Draft and publish a reply at once (replacing any draft). Who: the organisers."""
    require(actor, policy.MANAGE, opinion)
    outcome, text, summary = _clean_reply(outcome, text, summary)
    with transaction.atomic():
        locked = _lock_opinion(opinion)
        checked_consultation("reply", locked.consultation.state)
        checked_opinion("answer", locked.state)
        reply = _fill(
            locked, actor, outcome=outcome, text=text, summary=summary, template=template, batch=None
        )
        _publish(actor, locked, reply, reply.drafted_at, "answer")
    return reply


def _fill(
    locked: Opinion,
    actor: Any,
    *,
    outcome: str,
    text: str,
    summary: str,
    template: ReplyTemplate | None,
    batch: BulkReply | None,
) -> Reply:
    reply = locked.replies.filter(state=Reply.State.DRAFT).first() or Reply(opinion=locked)
    reply.outcome, reply.text, reply.summary, reply.template, reply.batch = (
        outcome,
        text,
        summary,
        template,
        batch,
    )
    reply.by_label = acting_body(actor, locked)[:120]
    reply.author = actor if is_signed_in(actor) else None
    reply.drafted_at = timezone.now()
    return reply


def _clean_ids(opinion_ids: Iterable[Any]) -> list[int]:
    ids: list[int] = []
    for value in opinion_ids:
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            raise ValidationError({"opinions": _("The selection of opinions is malformed.")}) from None
    ids = sorted(set(ids))
    if not ids:
        raise ValidationError({"opinions": _("Select the opinions to answer.")})
    if len(ids) > MAX_BULK:
        raise ValidationError({"opinions": _("At most %(n)s opinions at once.") % {"n": MAX_BULK}})
    return ids


def bulk_reply(
    actor: Any,
    consultation: Consultation,
    opinion_ids: Iterable[Any],
    *,
    outcome: str,
    text: str,
    key: str,
    template: ReplyTemplate | None = None,
) -> BulkReply:
    """Publish the same reply to many opinions of one consultation, all or nothing.

    If any selected opinion is not of this consultation, out of the actor's scope or
    already answered, nothing is published and the error names them all. Submitting the
    same form again (same ``key``) publishes nothing more and returns the first result.
    Who: the organisers (MANAGE on every opinion).
    """
    key = (key or "").strip()
    if not (8 <= len(key) <= 64):
        raise ValidationError(_("The form has expired. Reload the page and try again."))
    existing = BulkReply.objects.filter(key=key).first()
    if existing is not None:
        if existing.consultation_id != consultation.pk:
            raise ValidationError(_("The form has expired. Reload the page and try again."))
        return existing
    if not is_signed_in(actor):
        raise PermissionDenied
    ids = _clean_ids(opinion_ids)
    outcome, text, _summary = _clean_reply(outcome, text, "")
    manageable = set(
        policy.scope(actor, "opinion", policy.MANAGE).filter(pk__in=ids).values_list("pk", flat=True)
    )
    try:
        with transaction.atomic():
            locked_consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
            # The same form submitted twice at once: the first one holds the lock and
            # publishes; the second finds its batch once the first has committed.
            existing = BulkReply.objects.filter(key=key, consultation=consultation).first()
            if existing is not None:
                return existing
            checked_consultation("reply", locked_consultation.state)
            opinions = list(
                Opinion.objects.select_for_update(of=("self",))
                .filter(pk__in=ids, consultation=consultation)
                .select_related("consultation", "assignee")
                .order_by("pk")
            )
            found = {o.pk for o in opinions}
            problems = [
                _("#%(id)s is not an opinion of this consultation.") % {"id": i}
                for i in ids
                if i not in found
            ]
            problems += [
                _("#%(id)s is outside your area.") % {"id": o.pk} for o in opinions if o.pk not in manageable
            ]
            problems += [
                _("#%(id)s already has a published reply.") % {"id": o.pk}
                for o in opinions
                if o.state == Opinion.State.ANSWERED
            ]
            if problems:
                raise ValidationError({"opinions": [_("Nothing was published.")] + problems})
            now = timezone.now()
            batch = BulkReply.objects.create(
                key=key,
                consultation=consultation,
                template=template,
                outcome=outcome,
                text=text,
                count=len(opinions),
                created_by=actor,
                created_at=now,
            )
            for opinion in opinions:
                reply = _fill(
                    opinion, actor, outcome=outcome, text=text, summary="", template=template, batch=batch
                )
                _publish(actor, opinion, reply, now, "bulk")
            record_change(
                actor,
                "consultations.reply.bulk",
                consultation,
                after={"batch": batch.pk, "opinions": ids, "outcome": outcome},
            )
    except IntegrityError:
        # The same form submitted twice at once: the first submission published it.
        existing = BulkReply.objects.filter(key=key).first()
        if existing is None:
            raise
        return existing
    return batch


def add_template(
    actor: Any, *, name: str, outcome: str, text: str, category: OpinionCategory | None = None
) -> ReplyTemplate:
    """Add a reply template. Who: anyone who organises consultations."""
    if not policy.has_any(actor, "opinion", policy.MANAGE):
        raise PermissionDenied
    name = clean_text(name, "name", limit=80)
    outcome, text, _summary = _clean_reply(outcome, text, "")
    with transaction.atomic():
        template = ReplyTemplate.objects.create(
            name=name,
            outcome=outcome,
            text=text,
            category=category,
            created_by=actor,
            created_at=timezone.now(),
        )
        record_change(actor, "consultations.template.add", template, after={"name": name, "outcome": outcome})
    return template
