"""An owners' vote from the electorate snapshot to the published, verifiable result.

The compound and its owners are described in ``vote_world``: 390.00 m² and 4 owners vote
(the parking space does not), Bob holds two flats, Carol and Dan co-own one, and the
developer's two unsold flats are one owner.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import override
from PIL import Image

from gongzhi.core.models import AppendOnlyError, AuditEvent
from gongzhi.decisions import actions, codes
from gongzhi.decisions.counting import export_rows, verify_export
from gongzhi.decisions.models import BallotEntry, Decision, Elector, Result
from tests.decisions.vote_world import VoteWorld, build_vote_world, voting_decision

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> Iterator[VoteWorld]:
    # The refusals are matched in English; the pages are checked in Chinese elsewhere.
    with override("en"):
        yield build_vote_world()


def photo(name: str = "ballot.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def code_of(decision: Decision, world: VoteWorld, label: str) -> str:
    return codes.voting_code(decision.pk, world.units[label].pk)


def online(decision: Decision, world: VoteWorld, label: str, choice: str, **kw: object) -> list[BallotEntry]:
    elector = world.elector(decision, label)
    return actions.cast_online(
        code_of(decision, world, label), choice, based_on=actions.latest_seq(elector), **kw
    )  # type: ignore[arg-type]


def test_the_electorate_is_frozen_with_one_owner_key_per_headcount_rule(world: VoteWorld) -> None:
    decision = voting_decision(world)
    keys = {e.label: e.owner_key for e in Elector.objects.filter(decision=decision)}
    assert len(keys) == 7
    assert keys["1-1-102"] == keys["2-1-101"], "Bob's two flats are one owner"
    assert keys["1-1-202"] == keys["2-1-102"] == "dev", "the developer's unsold flats are one owner"
    assert len({keys[k] for k in ("1-1-101", "1-1-102", "1-1-201", "1-1-202")}) == 4
    # A later change to the registry does not reach the frozen electorate.
    unit = world.units["1-1-101"]
    unit.area_m2 = 99
    unit.save()
    assert world.elector(decision, "1-1-101").area_m2 == 60


def test_notice_of_an_assembly_needs_fifteen_days_and_the_residents_committee(world: VoteWorld) -> None:
    committee = world.users["committee"]
    decision = actions.create_decision(committee, world.compound, matter=5, title="t", text="x")
    with pytest.raises(ValidationError, match="residents' committee"):
        actions.post_notice(
            committee,
            decision,
            timezone.now() + dt.timedelta(days=20),
            timezone.now() + dt.timedelta(days=30),
        )
    actions.record_step(committee, decision, "informed", "")
    with pytest.raises(ValidationError) as error:
        actions.post_notice(
            committee,
            decision,
            timezone.now() + dt.timedelta(days=14),
            timezone.now() + dt.timedelta(days=30),
        )
    assert "opens_at" in error.value.message_dict
    with pytest.raises(ValidationError, match="at least 15 days"):
        actions.create_decision(committee, world.compound, matter=5, title="t", text="x", notice_days=7)
    with pytest.raises(ValidationError, match="1 to 9"):
        actions.create_decision(committee, world.compound, matter=10, title="t", text="x")


def test_an_owner_votes_online_for_all_their_units_and_may_change_until_the_window_closes(
    world: VoteWorld,
) -> None:
    decision = voting_decision(world)
    entries = online(decision, world, "1-1-102", "agree")
    assert sorted(e.elector.label for e in entries) == ["1-1-102", "2-1-101"]
    online(decision, world, "2-1-101", "disagree")
    bob = world.elector(decision, "1-1-102")
    assert bob.current.choice == "disagree"
    assert [e.choice for e in BallotEntry.objects.filter(elector=bob)] == ["agree", "disagree"], (
        "every version is kept"
    )
    with pytest.raises(ValidationError, match="Outside the voting window"):
        online(decision, world, "1-1-101", "agree", now=decision.closes_at + dt.timedelta(seconds=1))


def test_a_stale_ballot_is_refused_so_exactly_one_counts(world: VoteWorld) -> None:
    decision = voting_decision(world)
    code = code_of(decision, world, "1-1-101")
    actions.cast_online(code, "agree", based_on=0)
    with pytest.raises(ValidationError, match="a moment ago"):
        actions.cast_online(code, "disagree", based_on=0)
    assert world.elector(decision, "1-1-101").current.choice == "agree"


def test_wrong_codes_and_units_outside_the_electorate_are_refused(world: VoteWorld) -> None:
    decision = voting_decision(world)
    with pytest.raises(ValidationError, match="not valid"):
        actions.cast_online("ABCDEFGHJKLM", "agree", based_on=0)
    other = voting_decision(world)
    stranger = world.elector(other, "1-1-101")
    with pytest.raises(ValidationError, match="not in the electorate"):
        actions.record_ballot(
            world.users["committee"],
            decision,
            stranger,
            choice="agree",
            channel="paper",
            cast_at=timezone.now(),
            photo=photo(),
        )


def test_paper_ballots_need_the_photo_and_proxies_the_authorisation(world: VoteWorld) -> None:
    decision = voting_decision(world)
    staff, alice = world.users["committee"], world.elector(decision, "1-1-101")
    now = timezone.now()
    with pytest.raises(ValidationError) as error:
        actions.record_ballot(staff, decision, alice, choice="agree", channel="paper", cast_at=now)
    assert "photo" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        actions.record_ballot(
            staff,
            decision,
            alice,
            choice="agree",
            channel="proxy",
            cast_at=now,
            photo=photo(),
            collector="志愿者王",
        )
    assert "authorisation" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        actions.record_ballot(
            staff, decision, alice, choice="agree", channel="door", cast_at=now, photo=photo()
        )
    assert "collector" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        actions.record_ballot(
            staff, decision, alice, choice="maybe", channel="paper", cast_at=now, photo=photo()
        )
    assert "choice" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        actions.record_ballot(
            staff,
            decision,
            alice,
            choice="agree",
            channel="paper",
            cast_at=now + dt.timedelta(hours=1),
            photo=photo(),
        )
    assert "cast_at" in error.value.message_dict
    assert not BallotEntry.objects.filter(decision=decision).exists(), "nothing was recorded"
    [entry] = actions.record_ballot(
        staff,
        decision,
        alice,
        choice="agree",
        channel="proxy",
        cast_at=now,
        photo=photo(),
        collector="志愿者王",
        authorisation=photo("auth.png"),
    )
    assert entry.photo and entry.authorisation and entry.collector == "志愿者王"


def test_paper_after_online_counts_under_the_later_rule_and_is_shown_as_a_conflict(world: VoteWorld) -> None:
    decision = voting_decision(world)
    online(decision, world, "1-1-101", "agree")
    alice = world.elector(decision, "1-1-101")
    actions.record_ballot(
        world.users["committee"],
        decision,
        alice,
        choice="disagree",
        channel="paper",
        cast_at=timezone.now(),
        photo=photo(),
    )
    current = world.elector(decision, "1-1-101").current
    assert (current.choice, current.entry.channel, current.conflict) == ("disagree", "paper", True)


def test_online_wins_where_the_city_says_so(world: VoteWorld) -> None:
    decision = voting_decision(world, precedence=Decision.Precedence.ONLINE)
    online(decision, world, "1-1-101", "agree")
    alice = world.elector(decision, "1-1-101")
    actions.record_ballot(
        world.users["committee"],
        decision,
        alice,
        choice="disagree",
        channel="paper",
        cast_at=timezone.now(),
        photo=photo(),
    )
    assert world.elector(decision, "1-1-101").current.choice == "agree"


def test_a_staff_correction_is_a_new_entry_with_a_reason(world: VoteWorld) -> None:
    decision = voting_decision(world)
    online(decision, world, "1-1-101", "agree")
    alice = world.elector(decision, "1-1-101")
    with pytest.raises(ValidationError):
        actions.correct_ballot(world.users["committee"], decision, alice, choice="", reason="")
    actions.correct_ballot(world.users["committee"], decision, alice, choice="", reason="签名与业主不符")
    assert not Elector.objects.filter(pk=alice.pk, current__choice__gt="").exists(), "voided"
    assert BallotEntry.objects.filter(elector=alice).count() == 2
    with pytest.raises(AppendOnlyError):
        BallotEntry.objects.filter(elector=alice).update(choice="agree")
    with pytest.raises(AppendOnlyError):
        BallotEntry.objects.filter(elector=alice).first().delete()  # type: ignore[union-attr]


def _vote_exactly_two_thirds(decision: Decision, world: VoteWorld) -> None:
    online(decision, world, "1-1-101", "agree")  # Alice 60
    online(decision, world, "1-1-102", "agree")  # Bob 70 + 50
    online(decision, world, "1-1-201", "disagree")  # Carol and Dan 80


def test_count_after_close_gives_the_exact_verdict_and_its_arithmetic(world: VoteWorld) -> None:
    decision = voting_decision(world)
    _vote_exactly_two_thirds(decision, world)
    with pytest.raises(ValidationError, match="still open"):
        actions.close_and_count(world.users["committee"], decision)
    result = actions.close_and_count(
        world.users["committee"], decision, now=decision.closes_at + dt.timedelta(minutes=1)
    )
    f = result.figures
    assert (f["total_area"], f["total_owners"]) == ("390.00", 4)
    assert (f["participating_area"], f["participating_owners"]) == ("260.00", 3), (
        "3 × 260 = 2 × 390: exactly 2/3"
    )
    assert (f["agree_area"], f["agree_owners"]) == ("180.00", 2)
    assert f["quorum_met"] is True and result.approved is True
    assert any("780.00" in template % values for template, values in result.explanation)
    with pytest.raises(ValidationError):
        online(decision, world, "1-1-202", "agree")


def test_publication_fixes_the_result_and_a_recount_is_a_new_linked_result(world: VoteWorld) -> None:
    decision = voting_decision(world)
    _vote_exactly_two_thirds(decision, world)
    staff = world.users["committee"]
    first = actions.close_and_count(staff, decision, now=decision.closes_at + dt.timedelta(minutes=1))
    actions.publish_result(staff, Decision.objects.get(pk=decision.pk))
    with pytest.raises(AppendOnlyError):
        first.approved = False
        first.save()
    decision.refresh_from_db()
    objection = actions.file_objection(code_of(decision, world, "1-1-202"), decision, "开发商的票数有误")
    actions.answer_objection(staff, objection, "已核对，开发商未投票")
    with pytest.raises(ValidationError, match="already been answered"):
        actions.answer_objection(staff, objection, "again")
    # Carol and Dan's signature turns out not to be theirs: a correction, then a recount.
    actions.correct_ballot(staff, decision, world.elector(decision, "1-1-201"), choice="", reason="签名不符")
    second = actions.recount(staff, decision, "异议核实后重新计票")
    assert second.recount_of == first
    assert second.figures["participating_area"] == "180.00" and second.approved is False
    assert Result.objects.filter(decision=decision).count() == 2
    late = decision.published_at + dt.timedelta(days=decision.objection_days, seconds=1)  # type: ignore[operator]
    with pytest.raises(ValidationError, match="objection period"):
        actions.file_objection(code_of(decision, world, "1-1-101"), decision, "迟到的异议", now=late)


def test_the_export_verifies_and_any_tampering_is_found(world: VoteWorld, tmp_path) -> None:  # type: ignore[no-untyped-def]
    decision = voting_decision(world)
    _vote_exactly_two_thirds(decision, world)
    online(decision, world, "1-1-101", "disagree")
    actions.close_and_count(
        world.users["committee"], decision, now=decision.closes_at + dt.timedelta(minutes=1)
    )
    decision.refresh_from_db()
    lines = list(export_rows(decision))
    report = verify_export(iter(lines))
    assert report.ok, report.problems
    assert report.entries == 5 and report.electors == 7  # Bob's ballot is two entries, one per flat

    altered = [line.replace('"choice":"disagree"', '"choice":"agree"', 1) for line in lines]
    assert not verify_export(iter(altered)).ok
    entry_lines = [i for i, line in enumerate(lines) if '"type":"entry"' in line]
    dropped = lines[: entry_lines[2]] + lines[entry_lines[2] + 1 :]
    assert any("sequence" in p or "hash" in p for p in verify_export(iter(dropped)).problems)

    good, bad = tmp_path / "vote.jsonl", tmp_path / "tampered.jsonl"
    good.write_text("".join(lines), encoding="utf-8")
    bad.write_text("".join(altered), encoding="utf-8")
    out = io.StringIO()
    call_command("verify-vote", str(good), stdout=out)
    assert json.loads(out.getvalue())["ok"] is True
    with pytest.raises(CommandError, match="problem"):
        call_command("verify-vote", str(bad), stdout=io.StringIO())


def test_people_outside_the_compound_cannot_run_its_vote(world: VoteWorld, client) -> None:  # type: ignore[no-untyped-def]
    decision = voting_decision(world)
    outsider = world.users["outsider"]
    with pytest.raises(PermissionDenied):
        actions.create_decision(outsider, world.compound, matter=5, title="t", text="x")
    with pytest.raises(PermissionDenied):
        actions.close_and_count(outsider, decision)
    client.force_login(outsider)
    assert client.get(f"/votes/{decision.pk}/").status_code == 403
    assert client.get(f"/votes/{decision.pk}/export.jsonl").status_code == 403
    client.force_login(world.users["grid"])
    assert client.get(f"/votes/{decision.pk}/").status_code == 200
    assert client.get(f"/votes/{decision.pk}/export.jsonl").status_code == 403, "grid workers do not export"


def test_printing_codes_and_exporting_are_logged(world: VoteWorld, client) -> None:  # type: ignore[no-untyped-def]
    decision = voting_decision(world)
    client.force_login(world.users["committee"])
    page = client.get(f"/votes/{decision.pk}/slips/")
    assert page.status_code == 200
    assert codes.pretty(code_of(decision, world, "1-1-101")) in page.content.decode()
    assert b"<svg" in page.content
    b"".join(client.get(f"/votes/{decision.pk}/export.jsonl").streaming_content)
    logged = set(AuditEvent.objects.filter(kind=AuditEvent.Kind.ACCESS).values_list("action", flat=True))
    assert {"decision.codes", "decision.export"} <= logged


def test_guessing_codes_is_rate_limited(world: VoteWorld, client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.GONGZHI_VOTE_CODE_RATE = (5, 3600)
    voting_decision(world)
    statuses = [client.post("/votes/v/", {"code": f"ABCD-EFGH-JK{i:02d}"}).status_code for i in range(7)]
    assert statuses[:4] == [200] * 4 and statuses[-1] == 429


def test_the_owner_page_votes_and_shows_only_their_units(world: VoteWorld, client) -> None:  # type: ignore[no-untyped-def]
    decision = voting_decision(world)
    code = code_of(decision, world, "1-1-102")
    page = client.get(f"/votes/v/{code}/")
    text = page.content.decode()
    assert page.status_code == 200 and "1-1-102" in text and "2-1-101" in text and "1-1-101" not in text
    client.post(f"/votes/v/{code}/", {"choice": "agree", "based_on": "0"})
    assert world.elector(decision, "2-1-101").current.choice == "agree"


def test_the_public_notice_appears_only_after_publication_and_names_nobody(world: VoteWorld, client) -> None:  # type: ignore[no-untyped-def]
    decision = voting_decision(world)
    _vote_exactly_two_thirds(decision, world)
    actions.close_and_count(
        world.users["committee"], decision, now=decision.closes_at + dt.timedelta(minutes=1)
    )
    assert client.get(f"/votes/{decision.pk}/notice/").status_code in (302, 403, 404)
    actions.publish_result(world.users["committee"], Decision.objects.get(pk=decision.pk))
    page = client.get(f"/votes/{decision.pk}/notice/")
    text = page.content.decode()
    assert page.status_code == 200 and "390.00" in text and "260.00" in text
    for name in ("Alice", "Bob", "Carol", "Dan", "1-1-101"):
        assert name not in text


def test_an_owner_checks_their_identity_by_sms_code_and_reaches_their_ballot(
    world: VoteWorld, client
) -> None:  # type: ignore[no-untyped-def]
    from gongzhi.housing.models import Owner
    from gongzhi.tickets.models import Notification

    decision = voting_decision(world)
    Owner.objects.filter(name="Bob").update(phone="13957009278")
    unknown = client.post("/votes/phone/", {"step": "send", "phone": "13900000000"})
    known = client.post("/votes/phone/", {"step": "send", "phone": "139 5700 9278"})
    assert unknown.content.decode().count("SMS") == known.content.decode().count("SMS"), (
        "no hint who is registered"
    )
    [sms] = Notification.objects.filter(channel="sms", address="13957009278")
    code = "".join(ch for ch in sms.body if ch.isdigit())[:6]
    wrong = "000000" if code != "000000" else "111111"
    assert (
        client.post("/votes/phone/", {"step": "check", "phone": "13957009278", "code": wrong}).status_code
        == 200
    )
    response = client.post("/votes/phone/", {"step": "check", "phone": "13957009278", "code": code})
    assert response.status_code == 302
    page = client.get("/votes/phone/units/").content.decode()
    assert "1-1-102" in page and "2-1-101" in page and "1-1-101" not in page
    assert f"/votes/v/{code_of(decision, world, '1-1-102')}/" in page


def test_five_wrong_sms_codes_use_the_code_up(world: VoteWorld, client) -> None:  # type: ignore[no-untyped-def]
    from gongzhi.decisions import phone
    from gongzhi.housing.models import Owner
    from gongzhi.tickets.models import Notification

    voting_decision(world)
    Owner.objects.filter(name="Alice").update(phone="13857001111")
    phone.send_code("13857001111", "127.0.0.1")
    code = "".join(ch for ch in Notification.objects.get(address="13857001111").body if ch.isdigit())[:6]
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(phone.MAX_TRIES):
        assert not phone.check_code("13857001111", wrong)
    assert not phone.check_code("13857001111", code), "the right code no longer works"


def test_progress_by_building_counts_area_and_owners_once(world: VoteWorld) -> None:
    from gongzhi.decisions import queries

    decision = voting_decision(world)
    buildings, overall = queries.progress(decision)
    assert (overall.units, str(overall.area), overall.owners, overall.voted_units) == (6, "390.00", 4, 0)
    _vote_exactly_two_thirds(decision, world)
    buildings, overall = queries.progress(decision)
    by_number = {b.number: b for b in buildings}
    assert (str(overall.voted_area), overall.voted_owners, overall.voted_units) == ("260.00", 3, 4)
    assert (by_number["1"].units, str(by_number["1"].voted_area), by_number["1"].voted_owners) == (
        4,
        "210.00",
        3,
    )
    # Building 2: Bob's second flat and the developer's; the parking space does not vote.
    assert (by_number["2"].units, by_number["2"].owners, by_number["2"].voted_owners) == (2, 2, 1)
    assert str(overall.area_pct) == "66.7"
