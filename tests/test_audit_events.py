"""Audit events are written with the change, and never edited or deleted."""

from __future__ import annotations

import pytest
from django.db import transaction

from gongzhi.core.audit import record_change
from gongzhi.core.models import AppendOnlyError, AuditEvent
from gongzhi.housing.actions import update_compound
from gongzhi.housing.models import Compound

pytestmark = pytest.mark.django_db


def test_a_change_and_its_event_commit_together(demo_county, django_user_model):
    alice = django_user_model.objects.get(username="community")
    compound = Compound.objects.get(name="育才新村")
    update_compound(alice, compound, households_count=200, reason="door-to-door count")
    event = AuditEvent.objects.filter(action="housing.compound.update").latest("id")
    assert event.actor == alice
    assert event.before == {"households_count": compound.households_count}
    assert event.after == {"households_count": 200}
    assert event.reason == "door-to-door count"
    assert event.area_path == compound.area_path


def test_a_change_that_fails_leaves_no_event(demo_county, django_user_model):
    before = AuditEvent.objects.count()
    with pytest.raises(Exception):  # noqa: B017 - any validation error will do
        update_compound(None, Compound.objects.get(name="育才新村"), year_built=-5)
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db(transaction=True)
def test_record_change_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError):
        record_change(None, "x.y")


def test_audit_events_cannot_be_edited_or_deleted(demo_county):
    with transaction.atomic():
        event = record_change(None, "test.event")
    event.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()


def test_signing_in_is_logged(demo_county, client):
    from gongzhi.demo.seed import DEMO_PASSWORD

    assert client.login(username="grid", password=DEMO_PASSWORD) is True
    client.post("/login/", {"username": "grid", "password": DEMO_PASSWORD})
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.LOGIN, actor_label="grid").exists()
