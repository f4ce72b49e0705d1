"""Households' side of a consultation: codes on the slips and the responses recorded by
any channel. Re-exported by ``actions``; each change runs in one transaction with its audit
event."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
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
    STAFF_CHANNELS,
    Channel,
    Consultation,
    Household,
    Opinion,
    OpinionCategory,
    Question,
    Response,
    Willingness,
)
from gongzhi.consultations.opinion_actions import new_opinion
from gongzhi.core.audit import record_change
from gongzhi.housing.models import Unit
from gongzhi.orgs import policy
from gongzhi.tickets.photos import clean_photo

# A door-to-door record may not be dated in the future (clocks of phones drift a little).
CLOCK_SLACK = dt.timedelta(minutes=10)


# --------------------------------------------------------------------------- households and codes


def household_by_code(raw: str) -> Household | None:
    """The household a slip's code belongs to, or None. The code is compared only through
    its keyed digest (an indexed equality), never character by character."""
    code = codes.normalise(raw)
    if code is None:
        return None
    return (
        Household.objects.select_related("consultation", "unit__building", "unit__entrance", "compound")
        .filter(code_digest=codes.digest_of(code))
        .first()
    )


def find_household(consultation: Consultation, unit: Unit) -> Household:
    """The frozen household of ``unit``, or a clear refusal when the unit is outside scope."""
    household = (
        Household.objects.select_related("consultation", "compound", "unit__building", "unit__entrance")
        .filter(consultation=consultation, unit=unit)
        .first()
    )
    if household is None:
        raise ValidationError(
            {
                "household": _(
                    "%(unit)s is not in the scope of this consultation: only the households listed "
                    "when it opened can respond."
                )
                % {"unit": f"{unit.compound.name} {unit.address_label}"}
            }
        )
    return household


def reissue_code(actor: Any, household: Household) -> str:
    """Issue a new code for a household whose slip was lost; the old code stops working.
    Who: field staff of the household's compound. Returns the new code (print it)."""
    consultation = household.consultation
    require(actor, policy.CHANGE, consultation)
    require_within(actor, policy.CHANGE, household.compound)
    with transaction.atomic():
        locked = Consultation.objects.select_for_update().get(pk=consultation.pk)
        checked_consultation("reissue_code", locked.state)
        row = (
            Household.objects.select_for_update(of=("self",)).select_related("compound").get(pk=household.pk)
        )
        row.code_salt = codes.new_salt()
        code = codes.code_for(row.code_salt)
        row.code_digest = codes.digest_of(code)
        row.save(update_fields=["code_salt", "code_digest"])
        record_change(actor, "consultations.household.reissue_code", row, after={"consultation": locked.pk})
    household.code_salt, household.code_digest = row.code_salt, row.code_digest
    return code


# --------------------------------------------------------------------------- responses


def clean_answers(consultation: Consultation, answers: Mapping[str, Any] | None) -> dict[str, Any]:
    """The answers to the consultation's questions, checked: known options only; required
    questions answered. Keys are question ids as strings."""
    answers = answers or {}
    out: dict[str, Any] = {}
    for question in consultation.questions.all():
        key = str(question.pk)
        value = answers.get(key)
        field = f"q_{question.pk}"
        if question.kind == Question.Kind.TEXT:
            text = clean_text(value, field, required=question.required, limit=500)
            if text:
                out[key] = text
            continue
        values = [str(v) for v in (value if isinstance(value, (list, tuple)) else [value] if value else [])]
        if question.kind == Question.Kind.SINGLE and len(values) > 1:
            raise ValidationError({field: _("Choose one option.")})
        if any(v not in question.option_keys for v in values):
            raise ValidationError({field: _("Choose from the options given.")})
        if question.required and not values:
            raise ValidationError({field: _("Please answer this question.")})
        if values:
            out[key] = values[0] if question.kind == Question.Kind.SINGLE else sorted(set(values))
    return out


def _clean_channel_fields(
    channel: str,
    *,
    collector_name: str,
    collected_at: dt.datetime | None,
    staff_name: str,
    photo: UploadedFile | None,
    now: dt.datetime,
) -> dict[str, Any]:
    fields: dict[str, Any] = {"collector_name": "", "collected_at": None, "staff_name": ""}
    if collected_at is not None and collected_at > now + CLOCK_SLACK:
        raise ValidationError({"collected_at": _("The time of the visit cannot be in the future.")})
    if channel == Channel.PAPER:
        if photo is None:
            raise ValidationError({"photo": _("A paper response needs a photo of the signed form.")})
        fields["collected_at"] = collected_at
        fields["collector_name"] = clean_text(collector_name, "collector_name", required=False, limit=60)
    elif channel == Channel.DOOR_TO_DOOR:
        fields["collector_name"] = clean_text(collector_name, "collector_name", limit=60)
        if collected_at is None:
            raise ValidationError({"collected_at": _("Say when the household was visited.")})
        fields["collected_at"] = collected_at
    elif channel == Channel.PHONE_CALL:
        fields["staff_name"] = clean_text(staff_name, "staff_name", limit=60)
        fields["collected_at"] = collected_at or now
    return fields


def record_response(
    actor: Any,
    household: Household,
    *,
    willingness: str,
    channel: str,
    answers: Mapping[str, Any] | None = None,
    comment: str = "",
    collector_name: str = "",
    collected_at: dt.datetime | None = None,
    staff_name: str = "",
    photo: UploadedFile | None = None,
    opinion_text: str = "",
    opinion_category: OpinionCategory | None = None,
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> Response:
    """Record a household's response; a later one supersedes it and both are kept.

    Who: on the phone page, whoever holds the household's code (``actor`` may be anonymous);
    on paper (with a photo of the signed form), door to door (collector and time) or by a
    phone call (staff named), staff who may record responses in the household's compound.
    Only while the consultation is open. With an opinion text, the opinion is raised too.
    The same ``idempotency_key`` returns the first response instead of recording a second.
    """
    if idempotency_key:
        existing = Response.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            if existing.household_id != household.pk:
                raise ValidationError(_("This form was already used for another household."))
            return existing
    if channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown channel.")})
    if willingness not in Willingness.values:
        raise ValidationError(
            {"willingness": _("Say whether the household is willing, unwilling or undecided.")}
        )
    consultation = household.consultation
    if channel in STAFF_CHANNELS:
        if not is_signed_in(actor):
            raise PermissionDenied
        require(actor, policy.CHANGE, consultation)
        require_within(actor, policy.CHANGE, household.compound)
    now = now or timezone.now()
    fields = _clean_channel_fields(
        channel,
        collector_name=collector_name,
        collected_at=collected_at,
        staff_name=staff_name,
        photo=photo,
        now=now,
    )
    cleaned_photo = clean_photo(photo, "photo") if photo is not None and channel == Channel.PAPER else None
    comment = clean_text(comment, "comment", required=False)
    opinion_text = clean_text(opinion_text, "opinion_text", required=False)
    try:
        with transaction.atomic():
            locked = Consultation.objects.select_for_update().get(pk=consultation.pk)
            if idempotency_key:
                # A double submission that waited for the lock finds the first one's answer.
                first = Response.objects.filter(idempotency_key=idempotency_key).first()
                if first is not None:
                    return first
            checked_consultation("respond", locked.state)
            cleaned = clean_answers(locked, answers)
            row = (
                Household.objects.select_for_update(of=("self",))
                .select_related("compound", "building")
                .get(pk=household.pk, consultation=locked)
            )
            response = Response(
                household=row,
                consultation=locked,
                version=row.response_count + 1,
                willingness=willingness,
                answers=cleaned,
                comment=comment,
                channel=channel,
                recorded_by=actor if is_signed_in(actor) else None,
                idempotency_key=idempotency_key or None,
                created_at=now,
                **fields,
            )
            if cleaned_photo is not None:
                response.photo = cleaned_photo.content  # type: ignore[assignment]
                response.photo_content_type = cleaned_photo.content_type
                response.photo_sha256 = cleaned_photo.sha256
            response.save()
            before = {"willingness": row.willingness, "version": row.response_count}
            row.willingness, row.responded_at = willingness, now
            row.response_count, row.latest_response = response.version, response
            row.save(update_fields=["willingness", "responded_at", "response_count", "latest_response"])
            record_change(
                actor,
                "consultations.response.record",
                row,
                before=before,
                after={"willingness": willingness, "version": response.version, "channel": channel},
            )
            if opinion_text:
                new_opinion(
                    actor,
                    locked,
                    text=opinion_text,
                    category=opinion_category,
                    source=channel,
                    household=row,
                    response=response,
                    now=now,
                )
    except IntegrityError:
        # The same form submitted twice at once: the first one won.
        if idempotency_key:
            existing = Response.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing
        raise Refused(_("Someone else changed this a moment ago. Reload the page and try again.")) from None
    return response


def opinions_of(household: Household) -> Any:
    return Opinion.objects.filter(household=household).select_related("category").order_by("id")
