"""Ballots: the owner's own online ballot, paper, door-to-door and proxy ballots entered by
staff, and staff corrections. Every entry is appended at the end of the decision's hash
chain under its row lock; the entry that counts for a unit is derived (``ballots.effective``)
and kept as the unit's current ballot for live progress.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.audit import record_change
from gongzhi.decisions import ballots as B
from gongzhi.decisions import codes
from gongzhi.decisions import guards as G
from gongzhi.decisions.guards import Refused
from gongzhi.decisions.models import BallotEntry, CurrentBallot, Decision, Elector
from gongzhi.tickets.photos import clean_photo

State = Decision.State


def elector_for_code(code: str) -> Elector | None:
    """The elector a voting code belongs to (None for a wrong code)."""
    return (
        Elector.objects.select_related("decision", "building").filter(code_digest=codes.digest(code)).first()
    )


def owner_group(elector: Elector) -> list[Elector]:
    """The units of the same owner in this vote: one owner's ballot covers all of them."""
    return list(
        Elector.objects.filter(decision_id=elector.decision_id, owner_key=elector.owner_key).order_by("id")
    )


def latest_seq(elector: Elector) -> int:
    return BallotEntry.objects.filter(elector=elector).aggregate(m=Max("seq"))["m"] or 0


def _append(
    decision: Decision,
    elector: Elector,
    *,
    choice: str,
    channel: str,
    cast_at: dt.datetime,
    now: dt.datetime,
    user: Any,
    collector: str = "",
    reason: str = "",
    photo: Any = None,
    authorisation: Any = None,
) -> BallotEntry:
    """Add one entry at the end of the decision's chain (the decision row is locked)."""
    seq = decision.chain_length + 1
    prev = decision.chain_head or B.GENESIS
    recorded_by = user if getattr(user, "is_authenticated", False) else None
    fields = {
        "seq": seq,
        "unit_id": str(elector.unit_id),
        "choice": choice,
        "channel": channel,
        "cast_at": cast_at.isoformat(),
        "recorded_at": now.isoformat(),
        "recorded_by": recorded_by.get_username() if recorded_by else "",
        "collector": collector,
        "reason": reason,
        "photo_sha256": photo.sha256 if photo else "",
        "authorisation_sha256": authorisation.sha256 if authorisation else "",
    }
    digest = B.entry_hash(prev, fields)
    entry = BallotEntry(
        decision=decision,
        elector=elector,
        seq=seq,
        choice=choice,
        channel=channel,
        cast_at=cast_at,
        recorded_at=now,
        recorded_by=recorded_by,
        collector=collector,
        reason=reason,
        photo_sha256=fields["photo_sha256"],
        authorisation_sha256=fields["authorisation_sha256"],
        prev_hash=prev,
        hash=digest,
    )
    if photo is not None:
        photo.content.name = f"{elector.unit_id}-{seq}{photo.extension}"
        entry.photo = photo.content
    if authorisation is not None:
        authorisation.content.name = f"{elector.unit_id}-{seq}-auth{authorisation.extension}"
        entry.authorisation = authorisation.content
    entry.save()
    decision.chain_head, decision.chain_length = digest, seq
    decision.save(update_fields=["chain_head", "chain_length"])
    _refresh_current(decision, elector)
    return entry


def _as_pure(entry: BallotEntry) -> B.Entry:
    return B.Entry(entry.seq, str(entry.elector_id), entry.choice, entry.channel, entry.cast_at)


def _refresh_current(decision: Decision, elector: Elector) -> None:
    entries = list(BallotEntry.objects.filter(elector=elector).order_by("seq"))
    pure = [_as_pure(e) for e in entries]
    chosen = B.effective(pure, decision.precedence).get(str(elector.pk))
    by_seq = {e.seq: e for e in entries}
    conflict = bool(B.conflicts(pure))
    if chosen is None:
        CurrentBallot.objects.filter(elector=elector).delete()
        return
    CurrentBallot.objects.update_or_create(
        elector=elector,
        defaults={
            "decision": decision,
            "building_id": elector.building_id,
            "entry": by_seq[chosen.seq],
            "choice": chosen.choice,
            "latest_seq": entries[-1].seq,
            "conflict": conflict,
        },
    )


def _check_window(decision: Decision, at: dt.datetime, field: str = "cast_at") -> None:
    if decision.state != State.VOTING:
        raise Refused(_("Voting is not open for this decision."))
    assert decision.opens_at is not None and decision.closes_at is not None
    if not decision.opens_at <= at <= decision.closes_at:
        raise ValidationError(
            {
                field: _("Outside the voting window (%(a)s – %(b)s).")
                % {"a": G.fmt(decision.opens_at), "b": G.fmt(decision.closes_at)}
            }
        )


def _check_choice(choice: str, *, allow_void: bool = False) -> None:
    if choice not in BallotEntry.Choice.values and not (allow_void and choice == ""):
        raise ValidationError({"choice": _("Choose agree, disagree or abstain.")})


def cast_online(
    code: str, choice: str, *, based_on: int, now: dt.datetime | None = None
) -> list[BallotEntry]:
    """The owner's own ballot after the identity check by voting code. It covers every unit
    the owner holds in this vote. ``based_on`` is the latest entry the owner saw: if another
    ballot for the unit arrived meanwhile, this one is refused, so exactly one counts."""
    now = now or timezone.now()
    _check_choice(choice)
    if choice == BallotEntry.Choice.SPOILED:
        raise ValidationError({"choice": _("Choose agree, disagree or abstain.")})
    elector = elector_for_code(code)
    if elector is None:
        raise ValidationError({"code": _("This voting code is not valid.")})
    with transaction.atomic():
        decision = G.lock(elector.decision)
        _check_window(decision, now, "code")
        group = owner_group(elector)
        if latest_seq(elector) != based_on:
            raise Refused(
                _(
                    "Another ballot for this unit was recorded a moment ago. "
                    "Look at it and vote again if needed."
                )
            )
        entries = [
            _append(
                decision,
                e,
                choice=choice,
                channel=BallotEntry.Channel.ONLINE,
                cast_at=now,
                now=now,
                user=None,
            )
            for e in group
        ]
        record_change(
            None,
            "ballot.online",
            decision,
            after={"units": [e.unit_id for e in group], "seq": entries[-1].seq},
        )
    return entries


def record_ballot(
    user: Any,
    decision: Decision,
    elector: Elector,
    *,
    choice: str,
    channel: str,
    cast_at: dt.datetime,
    photo: UploadedFile | None = None,
    collector: str = "",
    authorisation: UploadedFile | None = None,
    based_on: int | None = None,
    now: dt.datetime | None = None,
) -> list[BallotEntry]:
    """Staff enter a signed paper ballot (with its photo), or one collected door to door or
    by proxy by a named volunteer (a proxy also needs the written authorisation)."""
    G.require_change(user, decision)
    now = now or timezone.now()
    if channel not in (BallotEntry.Channel.PAPER, BallotEntry.Channel.DOOR, BallotEntry.Channel.PROXY):
        raise ValidationError({"channel": _("Choose paper, door-to-door or proxy.")})
    _check_choice(choice)
    if cast_at > now:
        raise ValidationError({"cast_at": _("A ballot cannot be dated in the future.")})
    if elector.decision_id != decision.pk:
        raise ValidationError({"unit": _("This unit is not in the electorate of this decision.")})
    if photo is None:
        raise ValidationError({"photo": _("Attach a photo of the signed ballot.")})
    clean = clean_photo(photo, field="photo")
    collector = G.text(collector, "collector", required=channel != BallotEntry.Channel.PAPER, limit=60)
    auth = None
    if channel == BallotEntry.Channel.PROXY:
        if authorisation is None:
            raise ValidationError(
                {"authorisation": _("A proxy ballot needs the owner's written authorisation.")}
            )
        auth = clean_photo(authorisation, field="authorisation")
    with transaction.atomic():
        decision = G.lock(decision)
        _check_window(decision, cast_at)
        if based_on is not None and latest_seq(elector) != based_on:
            raise Refused(
                _(
                    "Another ballot for this unit was recorded a moment ago. "
                    "Look at it and enter again if needed."
                )
            )
        entries = [
            _append(
                decision,
                e,
                choice=choice,
                channel=channel,
                cast_at=cast_at,
                now=now,
                user=user,
                collector=collector,
                photo=clean if e.pk == elector.pk else None,
                authorisation=auth if e.pk == elector.pk else None,
            )
            for e in owner_group(elector)
        ]
        record_change(
            user, f"ballot.{channel}", decision, after={"unit": elector.unit_id, "seq": entries[-1].seq}
        )
    return entries


def correct_ballot(
    user: Any, decision: Decision, elector: Elector, *, choice: str, reason: str
) -> list[BallotEntry]:
    """A staff correction (e.g. a typing error on a paper ballot, or a void): a new entry
    with the reason, covering the owner's units; what was there before stays in the record."""
    G.require_change(user, decision)
    _check_choice(choice, allow_void=True)
    reason = G.text(reason, "reason")
    now = timezone.now()
    with transaction.atomic():
        decision = G.lock(decision)
        if decision.state not in (State.VOTING, State.COUNTED, State.PUBLISHED):
            raise Refused(_("Corrections are possible once voting has opened."))
        if elector.decision_id != decision.pk:
            raise ValidationError({"unit": _("This unit is not in the electorate of this decision.")})
        entries = [
            _append(
                decision,
                e,
                choice=choice,
                channel=BallotEntry.Channel.CORRECTION,
                cast_at=now,
                now=now,
                user=user,
                reason=reason,
            )
            for e in owner_group(elector)
        ]
        record_change(
            user,
            "ballot.correction",
            decision,
            after={"unit": elector.unit_id, "choice": choice},
            reason=reason,
        )
    return entries
