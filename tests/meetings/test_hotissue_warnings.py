"""The hot-issue warning in the database: who sees which warning, setting one aside, taking
one onto an agenda, and the pages. The world and its actors (林, 周, 王) are in ``hot_world``.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone, translation

from gongzhi.core.models import AuditEvent
from gongzhi.meetings import warnings
from gongzhi.meetings.models import AgendaItem, DismissedWarning, HotIssueSettings, Meeting
from gongzhi.meetings.views_warnings import hot_issues_summary
from gongzhi.orgs import policy
from tests.meetings.hot_world import HotWorld, build_hot_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> HotWorld:
    return build_hot_world()


@pytest.fixture
def lighting(world: HotWorld) -> str:
    """Five reports about the street lights of 育才新村 in the last days: three requests
    (two in building 1, one in building 2) and two opinions (one in each building). They
    fire the compound's cluster (5), a rise (5 against none before) and building 1's
    cluster (3). Returns the compound cluster's key."""
    world.request(days_ago=1)
    world.request(days_ago=3)
    world.request(days_ago=5, building="2")
    world.opinion(days_ago=2)
    world.opinion(days_ago=4, building="2")
    return f"cluster:c{world.yucai.pk}:cat:lighting"


def keys(user: object) -> set[str]:
    return {w.key for w in warnings.warnings_for(user)}


def signed_in(user: object) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)  # type: ignore[arg-type]
    return client


# ---- who sees what -------------------------------------------------------------------------


def test_the_community_staff_sees_the_cluster_of_their_compound_with_its_reason(world, lighting):
    found = {w.key: w for w in warnings.warnings_for(world.users["lin"])}
    w = found[lighting]
    assert (w.count, len(w.ticket_ids), len(w.opinion_ids)) == (5, 3, 2)
    assert w.area_path == world.yucai.area_path
    with translation.override("en"):
        assert warnings.explain(w) == (
            "5 requests and opinions about 路灯照明 in 育才新村 in the last 30 days "
            "(requests: 3, opinions: 2; threshold 5)"
        )
        assert warnings.title_of(w) == "育才新村: many reports about 路灯照明"


def test_the_staff_of_another_community_does_not_see_it(world, lighting):
    assert lighting in keys(world.users["lin"])
    assert keys(world.users["zhou"]) == set()
    page = signed_in(world.users["zhou"]).get("/meetings/warnings/").content.decode()
    assert 'data-testid="no-warnings"' in page and "育才新村" not in page


def test_the_thresholds_come_from_the_settings_row(world, lighting):
    HotIssueSettings.objects.update(cluster_min=6)
    assert lighting not in keys(world.users["lin"])


def test_without_a_settings_row_the_default_thresholds_apply(world, lighting):
    HotIssueSettings.objects.all().delete()
    found = {w.key: w for w in warnings.warnings_for(world.users["lin"])}
    assert found[lighting].threshold == 5
    assert found[f"rise:c{world.yucai.pk}:cat:lighting"].explanation[1]["factor"] == "2"


def test_requests_withdrawn_or_older_than_the_window_do_not_count(world):
    for _ in range(3):
        world.request(building=None)
    world.request(building=None, state="withdrawn")
    world.request(building=None, days_ago=31)
    assert keys(world.users["lin"]) == set()
    world.request(building=None)
    world.request(building=None, days_ago=29)
    assert f"cluster:c{world.yucai.pk}:cat:lighting" in keys(world.users["lin"])


def test_an_old_request_reopened_again_and_again_is_a_warning(world):
    old = world.request(days_ago=90, reopen_count=2)  # changed just now
    assert f"reopen:t{old.pk}" in keys(world.users["lin"])


def test_disputes_count_dissatisfied_requests_and_opinions_not_adopted(world):
    world.request(category="disputes")
    world.request(category="parking", satisfaction="dissatisfied")
    world.opinion(outcome="rejected")
    world.opinion(outcome="explained")
    w = next(w for w in warnings.warnings_for(world.users["lin"]) if w.rule == "dispute")
    assert (w.key, w.count) == (f"dispute:c{world.yucai.pk}", 3)
    assert {k: w.explanation[1][k] for k in ("disputes", "dissatisfied", "rejected")} == {
        "disputes": 1,
        "dissatisfied": 1,
        "rejected": 1,
    }


def test_signals_are_read_in_two_queries_however_many_there_are(world, lighting, django_assert_num_queries):
    for _ in range(20):
        world.request(building="2")
    lin = world.users["lin"]
    tickets, opinions = policy.scope(lin, "ticket"), policy.scope(lin, "opinion")
    since = timezone.now() - dt.timedelta(days=60)
    with translation.override("en"), django_assert_num_queries(2):
        signals = warnings.signals_in(tickets, opinions, since)
    assert len(signals) == 25
    assert {s.building_label for s in signals} == {"Building 1", "Building 2"}
    assert {s.area_path for s in signals} == {world.yucai.area_path}


# ---- setting aside -------------------------------------------------------------------------


def test_a_warning_set_aside_stays_hidden_until_its_count_grows(world, lighting):
    lin = world.users["lin"]
    row = warnings.set_aside(lin, lighting, reason="供电公司已排期更换线路")
    assert (row.count, row.area_path, row.dismissed_by) == (5, world.yucai.area_path, lin)
    event = AuditEvent.objects.get(action="meetings.warning.dismiss")
    assert (event.reason, event.area_path) == ("供电公司已排期更换线路", world.yucai.area_path)
    assert lighting not in keys(lin)
    world.request()
    back = {w.key: w for w in warnings.warnings_for(lin)}
    assert back[lighting].count == 6


def test_setting_aside_needs_a_reason(world, lighting):
    with pytest.raises(ValidationError) as caught:
        warnings.set_aside(world.users["lin"], lighting, reason="   ")
    assert "reason" in caught.value.message_dict
    assert not DismissedWarning.objects.exists()


def test_a_resident_may_not_set_a_warning_aside(world, lighting):
    with pytest.raises(PermissionDenied):
        warnings.dismiss_warning(world.users["wang"], lighting, count=5, area_path="", reason="不想看")
    with pytest.raises(PermissionDenied):
        warnings.set_aside(world.users["wang"], lighting, reason="不想看")


def test_staff_cannot_set_aside_a_warning_they_do_not_see(world, lighting):
    with pytest.raises(ValidationError):
        warnings.set_aside(world.users["zhou"], lighting, reason="不是我们社区的")


# ---- taking onto an agenda -----------------------------------------------------------------


def test_taking_a_warning_onto_an_agenda_stores_its_evidence_and_hides_it(world, lighting):
    lin = world.users["lin"]
    meeting = world.meeting()
    w = warnings.find_warning(lin, lighting)
    assert w is not None
    with translation.override("en"):
        item = warnings.adopt_warning(lin, meeting, lighting)
        assert item.description == warnings.explain(w)
        assert item.title == "育才新村: many reports about 路灯照明"
    assert (item.meeting, item.source, item.suggestion_key, item.ticket) == (
        meeting,
        AgendaItem.Source.HOT_ISSUE,
        lighting,
        None,
    )
    assert item.evidence["tickets"] == list(w.ticket_ids)
    assert item.evidence["opinions"] == list(w.opinion_ids)
    assert item.evidence["explanation"]["msgid"] == w.explanation[0]
    with translation.override("en"):
        assert warnings.explain_evidence(item.evidence) == warnings.explain(w)
    assert lighting not in keys(lin)


def test_a_warning_taken_onto_a_cancelled_meeting_comes_back(world, lighting):
    lin = world.users["lin"]
    meeting = world.meeting()
    warnings.adopt_warning(lin, meeting, lighting)
    Meeting.objects.filter(pk=meeting.pk).update(state=Meeting.State.CANCELLED)
    assert lighting in keys(lin)


def test_a_reopen_warning_brings_its_request_onto_the_agenda(world):
    lin = world.users["lin"]
    stuck = world.request(reopen_count=3)
    item = warnings.adopt_warning(lin, world.meeting(compound=world.yucai), f"reopen:t{stuck.pk}")
    assert item.ticket == stuck
    assert item.evidence["rule"] == "reopen" and item.evidence["count"] == 3


def test_taking_a_key_that_no_longer_fires_is_refused(world, lighting):
    lin = world.users["lin"]
    meeting = world.meeting()
    with pytest.raises(ValidationError):
        warnings.adopt_warning(lin, meeting, f"cluster:c{world.dajiao.pk}:cat:lighting")
    warnings.adopt_warning(lin, meeting, lighting)
    with pytest.raises(ValidationError):
        warnings.adopt_warning(lin, world.meeting(title="第二次联席会议"), lighting)
    assert AgendaItem.objects.filter(suggestion_key=lighting).count() == 1


def test_the_evidence_is_plain_json(world, lighting):
    for w in warnings.warnings_for(world.users["lin"]):
        assert json.loads(json.dumps(warnings.evidence_of(w)))["key"] == w.key


# ---- pages ---------------------------------------------------------------------------------


def test_the_page_shows_community_staff_each_warning_with_evidence_and_the_next_meeting(world, lighting):
    later = world.meeting(days_ahead=20, title="十二月联席会议")
    sooner = world.meeting(days_ahead=5, title="十一月联席会议")
    world.meeting(days_ahead=3, title="大峧小区议事会", compound=world.dajiao, area=world.dajiao.community)
    response = signed_in(world.users["lin"]).get("/meetings/warnings/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "5 requests and opinions about 路灯照明 in 育才新村 in the last 30 days" in page
    ticket = world.yucai.tickets.order_by("id").first()
    opinion = world.consultation.opinions.order_by("id").first()
    assert f'href="/tickets/{ticket.pk}/"' in page
    assert f'href="/consultations/opinions/{opinion.pk}/"' in page
    assert f'<option value="{sooner.pk}" selected>' in page and f'value="{later.pk}"' in page
    assert "大峧小区议事会" not in page


def test_the_page_is_forbidden_to_a_resident(world, lighting):
    assert signed_in(world.users["wang"]).get("/meetings/warnings/").status_code == 403
    response = signed_in(world.users["wang"]).post(
        "/meetings/warnings/dismiss/", {"key": lighting, "reason": "x"}
    )
    assert response.status_code == 403
    assert not DismissedWarning.objects.exists()


def test_taking_a_warning_on_the_page_goes_to_the_meeting(world, lighting):
    meeting = world.meeting()
    client = signed_in(world.users["lin"])
    response = client.post("/meetings/warnings/adopt/", {"key": lighting, "meeting": meeting.pk})
    assert (response.status_code, response["Location"]) == (302, f"/meetings/{meeting.pk}/")
    assert meeting.agenda_items.get().suggestion_key == lighting
    again = client.post("/meetings/warnings/adopt/", {"key": lighting, "meeting": meeting.pk}, follow=True)
    assert "This warning no longer fires" in again.content.decode()
    assert meeting.agenda_items.count() == 1


def test_a_meeting_out_of_reach_is_refused_on_the_page(world, lighting):
    theirs = world.meeting(compound=world.dajiao, area=world.dajiao.community)
    response = signed_in(world.users["lin"]).post(
        "/meetings/warnings/adopt/", {"key": lighting, "meeting": theirs.pk}, follow=True
    )
    assert "Choose an upcoming meeting that you manage." in response.content.decode()
    for nonsense in ("", "abc", "9" * 40):
        response = signed_in(world.users["lin"]).post(
            "/meetings/warnings/adopt/", {"key": lighting, "meeting": nonsense}
        )
        assert (response.status_code, response["Location"]) == (302, "/meetings/warnings/")
    assert not AgendaItem.objects.filter(suggestion_key=lighting).exists()


def test_setting_a_warning_aside_on_the_page(world, lighting):
    client = signed_in(world.users["lin"])
    response = client.post("/meetings/warnings/dismiss/", {"key": lighting, "reason": "已报修"}, follow=True)
    assert "The warning is set aside." in response.content.decode()
    assert DismissedWarning.objects.get().key == lighting
    page = client.get("/meetings/warnings/").content.decode()
    assert f'data-key="{lighting}"' not in page
    assert f'data-key="rise:c{world.yucai.pk}:cat:lighting"' in page


def test_the_home_page_part_lists_the_top_warnings_and_links_to_all(world, lighting):
    world.request(category="disputes")
    world.request(category="disputes")
    with translation.override("en"):
        summary = hot_issues_summary(world.users["lin"], limit=1)
        html = render_to_string("meetings/_hot_issues.html", {"hot_issues": summary})
    assert summary["total"] == 4  # the cluster, its rise, building 1's cluster, the disputes
    assert html.count('class="card warn-card"') == 1
    assert 'href="/meetings/warnings/"' in html and "All warnings (4)" in html


# ---- admin ---------------------------------------------------------------------------------


def test_the_admin_keeps_one_thresholds_row_and_shows_dismissals_read_only(world, lighting, rf):
    request = rf.get("/admin/")
    request.user = get_user_model().objects.create_superuser(username="hi_admin", password="x")
    thresholds = admin.site._registry[HotIssueSettings]
    assert not thresholds.has_add_permission(request)
    HotIssueSettings.objects.all().delete()
    assert thresholds.has_add_permission(request)
    dismissed = admin.site._registry[DismissedWarning]
    row = warnings.set_aside(world.users["lin"], lighting, reason="已报修")
    assert dismissed.has_view_permission(request, row)
    assert not dismissed.has_add_permission(request)
    assert not dismissed.has_change_permission(request, row)
    assert not dismissed.has_delete_permission(request, row)


# ---- town and county staff: one community at a time ------------------------------------------


@pytest.mark.django_db
def test_town_staff_choose_a_community_and_take_a_warning_from_it(demo_county, client):
    """A town's whole scope would take seconds at a county's scale: its staff see the way to
    the page on their home page, choose a community there, and taking a warning onto an
    agenda reads only that warning's place."""
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from gongzhi.housing.models import Compound
    from gongzhi.meetings import actions, warnings
    from gongzhi.orgs.models import Organisation, ServiceCategory
    from gongzhi.tickets import actions as ticket_actions

    User = get_user_model()
    town, resident = User.objects.get(username="town"), User.objects.get(username="resident")
    yucai = Compound.objects.get(name="育才新村")
    for n in range(1, 6):
        ticket_actions.file_ticket(
            resident,
            channel="phone_page",
            category=ServiceCategory.objects.get(code="telecom"),
            description=f"{n}幢楼道里通信线缆乱拉，垂到头顶",
            building=yucai.buildings.get(number=str(n)),
            reporter_phone=f"1385900{n:04d}",
        )
    key = f"cluster:c{yucai.pk}:cat:telecom"
    assert not warnings.is_local(town)
    client.force_login(town)
    home = client.get("/").content.decode()
    assert 'data-testid="hot-issues"' in home and key not in home
    chooser = client.get("/meetings/warnings/").content.decode()
    assert 'data-testid="warning-area"' in chooser and 'data-key="' not in chooser
    page = client.get(f"/meetings/warnings/?area={yucai.community_id}").content.decode()
    assert f'data-key="{key}"' in page
    # Narrowed to the warning's compound, finding it gives the same warning as the whole scope.
    whole = next(w for w in warnings.warnings_for(town) if w.key == key)
    assert warnings.find_warning(town, key) == whole
    hall = actions.create_meeting(
        town,
        kind="hall",
        title="育才新村红色议事厅：通信线缆",
        convener=Organisation.objects.get(compound=yucai, kind=Organisation.Kind.OWNERS_COMMITTEE),
        compound=yucai,
        starts_at=timezone.now() + dt.timedelta(days=3),
        place="议事厅",
    )
    response = client.post("/meetings/warnings/adopt/", {"key": key, "meeting": hall.pk})
    assert response.status_code == 302 and response["Location"] == f"/meetings/{hall.pk}/"
    assert hall.agenda_items.filter(suggestion_key=key).count() == 1
