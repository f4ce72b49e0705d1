"""Every change to an owners' decision. Each action runs in one transaction, locks the
decision row, checks the state and the window, writes the record and an audit event.
Ballots are recorded by ``casting`` (re-exported here, so callers use one module).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.audit import record_change
from gongzhi.core.masking import mask_name
from gongzhi.decisions import codes
from gongzhi.decisions import guards as G
from gongzhi.decisions.casting import cast_online as cast_online
from gongzhi.decisions.casting import correct_ballot as correct_ballot
from gongzhi.decisions.casting import elector_for_code
from gongzhi.decisions.casting import latest_seq as latest_seq
from gongzhi.decisions.casting import owner_group as owner_group
from gongzhi.decisions.casting import record_ballot as record_ballot
from gongzhi.decisions.counting import count_decision
from gongzhi.decisions.guards import Refused as Refused
from gongzhi.decisions.models import (
    Decision,
    DecisionDocument,
    DecisionStep,
    Elector,
    Objection,
    Result,
)
from gongzhi.decisions.tally_explain import explain
from gongzhi.housing.models import Building, Compound, Ownership, Unit
from gongzhi.orgs import policy
from gongzhi.tickets.photos import clean_photo

ASSEMBLY_NOTICE_DAYS = 15
MAX_DOCUMENT_BYTES = 10 * 2**20
State = Decision.State


# --------------------------------------------------------------------------- preparation


def create_decision(
    user: Any,
    compound: Compound,
    *,
    matter: int,
    title: str,
    text: str,
    buildings: Sequence[Building] = (),
    is_assembly: bool = True,
    notice_days: int = ASSEMBLY_NOTICE_DAYS,
    deemed_votes: bool = False,
    include_parking: bool = False,
    precedence: str = Decision.Precedence.LATER,
    objection_days: int = 7,
) -> Decision:
    """Draft a decision for a compound (or some of its buildings). Staff of the compound's
    area and its owners' committee may do this."""
    if not policy.can_within(user, "decision", policy.CHANGE, compound):
        raise PermissionDenied
    if not isinstance(matter, int) or not 1 <= matter <= 9:
        raise ValidationError(
            {"matter": _("The matter must be one of the items 1 to 9 of Civil Code Art. 278.")}
        )
    if is_assembly and notice_days < ASSEMBLY_NOTICE_DAYS:
        raise ValidationError(
            {
                "notice_days": _("An owners' assembly needs at least %(n)s days' notice.")
                % {"n": ASSEMBLY_NOTICE_DAYS}
            }
        )
    if not 1 <= objection_days <= 90:
        raise ValidationError({"objection_days": _("Between 1 and 90 days.")})
    if precedence not in Decision.Precedence.values:
        raise ValidationError({"precedence": _("Choose one of the listed rules.")})
    for building in buildings:
        if building.compound_id != compound.pk:
            raise ValidationError(
                {"buildings": _("Building %(b)s is not in this compound.") % {"b": building.number}}
            )
    with transaction.atomic():
        decision = Decision.objects.create(
            compound=compound,
            matter=matter,
            title=G.text(title, "title", limit=200),
            text=G.text(text, "text"),
            is_assembly=is_assembly,
            notice_days=notice_days,
            deemed_votes=deemed_votes,
            include_parking=include_parking,
            precedence=precedence,
            objection_days=objection_days,
            area_path=compound.area_path,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        if buildings:
            decision.buildings.set(buildings)
        record_change(user, "decision.create", decision, after={"matter": matter, "title": decision.title})
    return decision


def record_step(
    user: Any, decision: Decision, kind: str, note: str = "", at: dt.datetime | None = None
) -> None:
    """Record a party-led step (branch pre-discussion, community opinion) or that the
    residents' committee was informed."""
    G.require_change(user, decision)
    allowed = {
        DecisionStep.Kind.BRANCH_PREDISCUSSION,
        DecisionStep.Kind.COMMUNITY_OPINION,
        DecisionStep.Kind.COMMITTEE_INFORMED,
        DecisionStep.Kind.OTHER,
    }
    if kind not in allowed:
        raise ValidationError({"kind": _("Choose one of the listed steps.")})
    note = G.text(note, "note", required=kind == DecisionStep.Kind.OTHER)
    now = timezone.now()
    if at is not None and at > now:
        raise ValidationError({"at": _("A step cannot be recorded in the future.")})
    with transaction.atomic():
        decision = G.lock(decision)
        G.expect(decision, State.DRAFT, State.NOTICE)
        G.step(decision, kind, user, note, at or now)
        if kind == DecisionStep.Kind.COMMITTEE_INFORMED and decision.committee_informed_at is None:
            decision.committee_informed_at = at or now
            G.save(decision, "committee_informed_at")
        record_change(user, "decision.step", decision, after={"kind": kind, "note": note})


def add_document(user: Any, decision: Decision, title: str, upload: UploadedFile) -> DecisionDocument:
    """Attach a document (PDF or image) to a decision before voting opens."""
    G.require_change(user, decision)
    title = G.text(title, "title", limit=120)
    if upload.size is None or upload.size > MAX_DOCUMENT_BYTES:
        raise ValidationError(
            {"file": _("The file is larger than %(mb)s MB.") % {"mb": MAX_DOCUMENT_BYTES // 2**20}}
        )
    head = upload.read(5)
    upload.seek(0)
    content_type = "application/pdf" if head.startswith(b"%PDF-") else ""
    if not content_type:
        photo = clean_photo(upload, field="file")
        content, content_type, sha = photo.content, photo.content_type, photo.sha256
        content.name = f"doc{photo.extension}"
    else:
        data = upload.read()
        from django.core.files.base import ContentFile

        content, sha = ContentFile(data, name="doc.pdf"), hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        decision = G.lock(decision)
        G.expect(decision, State.DRAFT, State.NOTICE)
        document = DecisionDocument.objects.create(
            decision=decision,
            title=title,
            file=content,
            content_type=content_type,
            size=content.size,
            sha256=sha,
            uploaded_by=user,
        )
        record_change(user, "decision.document", decision, after={"title": title, "sha256": sha})
    return document


def post_notice(
    user: Any,
    decision: Decision,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    *,
    now: dt.datetime | None = None,
) -> Decision:
    """Post the notice of the vote with its window. An assembly needs its notice period
    (≥ 15 days) before voting opens and the residents' committee informed first."""
    G.require_change(user, decision)
    now = now or timezone.now()
    with transaction.atomic():
        decision = G.lock(decision)
        G.expect(decision, State.DRAFT)
        if decision.is_assembly and decision.committee_informed_at is None:
            raise Refused(
                _("Inform the residents' committee before posting the notice of an owners' assembly.")
            )
        earliest = now + dt.timedelta(days=decision.notice_days)
        if opens_at < earliest:
            raise ValidationError(
                {
                    "opens_at": _("Voting can open %(n)s days after the notice at the earliest (%(date)s).")
                    % {
                        "n": decision.notice_days,
                        "date": timezone.localtime(earliest).strftime("%Y-%m-%d %H:%M"),
                    }
                }
            )
        if closes_at <= opens_at:
            raise ValidationError({"closes_at": _("The window must close after it opens.")})
        decision.opens_at, decision.closes_at, decision.notice_posted_at = opens_at, closes_at, now
        decision.state = State.NOTICE
        G.save(decision, "opens_at", "closes_at", "notice_posted_at", "state")
        G.step(decision, DecisionStep.Kind.NOTICE_POSTED, user, at=now)
        record_change(
            user,
            "decision.notice",
            decision,
            after={"opens_at": opens_at.isoformat(), "closes_at": closes_at.isoformat()},
        )
    return decision


def _owner_keys(units: list[Unit]) -> dict[int, tuple[str, bool, str]]:
    """unit id -> (owner key, developer held, masked owner label) by the headcount rules."""
    owners: dict[int, list[Any]] = {}
    for link in (
        Ownership.objects.filter(unit__in=[u.pk for u in units]).select_related("owner").order_by("owner_id")
    ):
        owners.setdefault(link.unit_id, []).append(link.owner)
    keys: dict[int, tuple[str, bool, str]] = {}
    for unit in units:
        holders = owners.get(unit.pk, [])
        if any(o.is_developer for o in holders):
            keys[unit.pk] = ("dev", True, _("Developer"))
        elif holders:
            label = mask_name(holders[0].name) + (_(" and others") if len(holders) > 1 else "")
            keys[unit.pk] = ("o:" + "+".join(str(o.pk) for o in holders), False, label)
        else:
            keys[unit.pk] = (f"u:{unit.pk}", False, "")
    return keys


def open_voting(user: Any, decision: Decision, *, now: dt.datetime | None = None) -> Decision:
    """Open the window and freeze the electorate: every exclusive unit in scope with its
    area, kind and owner key. From now on the registry's changes do not reach this vote."""
    if user is not None:
        G.require_change(user, decision)
    now = now or timezone.now()
    with transaction.atomic():
        decision = G.lock(decision)
        G.expect(decision, State.NOTICE)
        assert decision.opens_at is not None
        if now < decision.opens_at:
            raise Refused(
                _("The notice period has not ended yet: voting opens at %(at)s.")
                % {"at": G.fmt(decision.opens_at)}
            )
        units = Unit.objects.filter(compound_id=decision.compound_id).select_related("building", "entrance")
        building_ids = list(decision.buildings.values_list("id", flat=True))
        if building_ids:
            units = units.filter(building_id__in=building_ids)
        unit_list = list(units.order_by("building_id", "entrance_id", "number"))
        if not unit_list:
            raise Refused(_("There are no units in the decision's scope."))
        keys = _owner_keys(unit_list)
        Elector.objects.bulk_create(
            [
                Elector(
                    decision=decision,
                    unit=unit,
                    building_id=unit.building_id,
                    label=str(unit),
                    area_m2=unit.area_m2,
                    area_source=unit.area_source,
                    kind=unit.kind,
                    owner_key=keys[unit.pk][0],
                    developer_held=keys[unit.pk][1],
                    owner_label=keys[unit.pk][2],
                    code_digest=codes.digest(codes.voting_code(decision.pk, unit.pk)),
                )
                for unit in unit_list
            ],
            batch_size=2000,
        )
        decision.state = State.VOTING
        G.save(decision, "state")
        G.step(
            decision,
            DecisionStep.Kind.VOTING_OPENED,
            user,
            _("%(n)s units in the electorate.") % {"n": len(unit_list)},
            now,
        )
        record_change(user, "decision.open", decision, after={"electors": len(unit_list)})
    return decision


def extend_window(user: Any, decision: Decision, closes_at: dt.datetime, reason: str) -> Decision:
    """Move the closing time later while voting is open; the reason is recorded."""
    G.require_change(user, decision)
    reason = G.text(reason, "reason")
    with transaction.atomic():
        decision = G.lock(decision)
        G.expect(decision, State.NOTICE, State.VOTING)
        assert decision.closes_at is not None
        if closes_at <= decision.closes_at:
            raise ValidationError(
                {
                    "closes_at": _("An extension must close later than %(at)s.")
                    % {"at": G.fmt(decision.closes_at)}
                }
            )
        before = decision.closes_at
        decision.closes_at = closes_at
        G.save(decision, "closes_at")
        G.step(decision, DecisionStep.Kind.WINDOW_EXTENDED, user, reason)
        record_change(
            user,
            "decision.extend",
            decision,
            before={"closes_at": before.isoformat()},
            after={"closes_at": closes_at.isoformat()},
            reason=reason,
        )
    return decision


# --------------------------------------------------------------------------- result


def close_and_count(user: Any, decision: Decision, *, now: dt.datetime | None = None) -> Result:
    """After the window has closed: count every effective ballot and keep the result."""
    if user is not None:
        G.require_change(user, decision)
    now = now or timezone.now()
    with transaction.atomic():
        decision = G.lock(decision)
        G.expect(decision, State.VOTING)
        assert decision.closes_at is not None
        if now < decision.closes_at:
            raise Refused(
                _("The voting window is still open until %(at)s.") % {"at": G.fmt(decision.closes_at)}
            )
        result = _count(user, decision, now, reason="")
        decision.state = State.COUNTED
        G.save(decision, "state")
        G.step(decision, DecisionStep.Kind.VOTING_CLOSED, user, at=now)
        record_change(user, "decision.count", decision, after={"approved": result.approved})
    return result


def _count(
    user: Any, decision: Decision, now: dt.datetime, reason: str, recount_of: Result | None = None
) -> Result:
    outcome = count_decision(decision)
    return Result.objects.create(
        decision=decision,
        recount_of=recount_of,
        figures=outcome.to_dict(),
        explanation=[[template, values] for template, values in explain(outcome)],
        approved=outcome.approved,
        chain_head=decision.chain_head,
        chain_length=decision.chain_length,
        reason=reason,
        counted_at=now,
        counted_by=user if getattr(user, "is_authenticated", False) else None,
    )


def recount(user: Any, decision: Decision, reason: str) -> Result:
    """Count again (after corrections or an objection): a new result linked to the last one."""
    G.require_change(user, decision)
    reason = G.text(reason, "reason")
    with transaction.atomic():
        decision = G.lock(decision)
        G.expect(decision, State.COUNTED, State.PUBLISHED)
        last = decision.results.order_by("-id").first()
        result = _count(user, decision, timezone.now(), reason, recount_of=last)
        record_change(user, "decision.recount", decision, after={"approved": result.approved}, reason=reason)
    return result


def publish_result(user: Any, decision: Decision) -> Decision:
    """Publish the latest count (in aggregate only). From now on the record is fixed; the
    objection period starts."""
    G.require_change(user, decision)
    now = timezone.now()
    with transaction.atomic():
        decision = G.lock(decision)
        G.expect(decision, State.COUNTED)
        decision.state, decision.published_at = State.PUBLISHED, now
        G.save(decision, "state", "published_at")
        G.step(decision, DecisionStep.Kind.RESULT_PUBLISHED, user, at=now)
        record_change(user, "decision.publish", decision)
    return decision


def objection_deadline(decision: Decision) -> dt.datetime | None:
    if decision.published_at is None:
        return None
    return decision.published_at + dt.timedelta(days=decision.objection_days)


def file_objection(code: str, decision: Decision, text: str, *, now: dt.datetime | None = None) -> Objection:
    """An owner (identified by their voting code) objects to the published result."""
    now = now or timezone.now()
    text = G.text(text, "text", limit=2000)
    elector = elector_for_code(code)
    if elector is None or elector.decision_id != decision.pk:
        raise ValidationError({"code": _("This voting code is not valid.")})
    deadline = objection_deadline(decision)
    if decision.state != State.PUBLISHED or deadline is None or now > deadline:
        raise Refused(_("Objections can be filed only during the objection period after publication."))
    with transaction.atomic():
        objection = Objection.objects.create(decision=decision, elector=elector, text=text, filed_at=now)
        record_change(None, "decision.objection", decision, after={"objection": objection.pk})
    return objection


def answer_objection(user: Any, objection: Objection, answer: str) -> Objection:
    """Answer an objection once; the answer is published with the result."""
    G.require_change(user, objection.decision)
    answer = G.text(answer, "answer")
    with transaction.atomic():
        locked = Objection.objects.select_for_update().get(pk=objection.pk)
        if locked.answered_at is not None:
            raise Refused(_("This objection has already been answered."))
        locked.answer, locked.answered_at, locked.answered_by = answer, timezone.now(), user
        locked.save(update_fields=["answer", "answered_at", "answered_by"])
        record_change(user, "decision.objection_answer", objection.decision, after={"objection": locked.pk})
    return locked
