"""Organising an activity through its form — for a community or a compound, or as a labour
shift of a community project — its refusals, and who sees it in the list."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from gongzhi.volunteers.models import Activity

pytestmark = pytest.mark.django_db


def local(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%dT%H:%M")


def form_data(organiser, *, start: dt.datetime, end: dt.datetime, **extra):  # type: ignore[no-untyped-def]
    return {
        "title": "南峰社区敬老院探访",
        "kind": Activity.Kind.VISIT,
        "organiser": organiser.pk,
        "place": "南峰社区居家养老服务中心",
        "starts_at": local(start),
        "ends_at": local(end),
        "capacity": "12",
        "description": "陪老人聊天、打扫房间",
        **extra,
    }


def test_community_staff_organise_a_community_activity_and_land_on_its_page(
    users, nanfeng, first_branch, client_for
):
    start = timezone.now() + dt.timedelta(days=3)
    client = client_for(users["community"])
    assert client.get(reverse("activity-new")).status_code == 200
    response = client.post(
        reverse("activity-new"),
        form_data(first_branch, start=start, end=start + dt.timedelta(hours=2), community=nanfeng.pk),
    )
    activity = Activity.objects.get(title="南峰社区敬老院探访")
    assert response.status_code == 302
    assert response["Location"] == reverse("activity-detail", args=[activity.pk])
    assert activity.community == nanfeng and activity.compound is None
    assert (activity.capacity, activity.organiser) == (12, first_branch)
    page = client.get(response["Location"]).content.decode()
    assert "南峰社区居家养老服务中心" in page and "0/12" in page


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"ends_at": -60}, "ends_at", "The activity must end after it starts."),
        ({"capacity": "0"}, "capacity", "Between 1 and 500 places."),
    ],
)
def test_bad_input_comes_back_with_the_fields_message_and_nothing_is_made(
    users, nanfeng, first_branch, client_for, change, field, message
):
    start = timezone.now() + dt.timedelta(days=3)
    data = form_data(first_branch, start=start, end=start + dt.timedelta(hours=2), community=nanfeng.pk)
    if "ends_at" in change:
        data["ends_at"] = local(start + dt.timedelta(minutes=change["ends_at"]))
    else:
        data.update(change)
    before = Activity.objects.count()
    response = client_for(users["community"]).post(reverse("activity-new"), data)
    assert response.status_code == 400
    assert message in response.context["form"].errors[field]
    assert message in response.content.decode()
    assert Activity.objects.count() == before


def test_the_branch_secretary_organises_for_their_compound_not_for_the_whole_community(
    users, nanfeng, yucai, first_branch, client_for
):
    start = timezone.now() + dt.timedelta(days=2)
    client = client_for(users["branch"])
    whole = client.post(
        reverse("activity-new"),
        form_data(first_branch, start=start, end=start + dt.timedelta(hours=1), community=nanfeng.pk),
    )
    assert whole.status_code == 400
    assert not Activity.objects.filter(title="南峰社区敬老院探访").exists()
    mine = client.post(
        reverse("activity-new"),
        form_data(first_branch, start=start, end=start + dt.timedelta(hours=1), compound=yucai.pk),
    )
    assert mine.status_code == 302
    activity = Activity.objects.get(title="南峰社区敬老院探访")
    assert (activity.community, activity.compound) == (nanfeng, yucai)


def test_residents_and_volunteers_may_not_organise(users, outsider, client_for):
    for client in [client_for(users[name]) for name in ("resident", "volunteer", "liaison")] + [
        client_for(outsider)
    ]:
        assert client.get(reverse("activity-new")).status_code == 403
        assert "New activity" not in client.get(reverse("activity-list")).content.decode()


def test_a_labour_shift_is_made_from_a_project_and_links_back(
    users, make_project, first_branch, yucai, client_for
):
    project = make_project()
    start = timezone.now() + dt.timedelta(days=5)
    url = reverse("activity-new") + f"?project={project.pk}"
    client = client_for(users["committee"])
    form = client.get(url)
    assert form.status_code == 200 and project.title in form.content.decode()
    data = form_data(first_branch, start=start, end=start + dt.timedelta(hours=3))
    data["title"] = "路灯更换筹劳：搬运灯杆"
    response = client.post(url, data)
    shift = Activity.objects.get(title="路灯更换筹劳：搬运灯杆")
    assert response.status_code == 302
    assert response["Location"] == reverse("activity-detail", args=[shift.pk])
    assert (shift.project, shift.kind, shift.community, shift.compound) == (
        project,
        Activity.Kind.PROJECT_SHIFT,
        project.community,
        yucai,
    )
    page = client.get(response["Location"]).content.decode()
    assert f'href="/projects/{project.pk}/"' in page


def test_a_shift_is_refused_to_those_who_do_not_run_the_project(users, make_project, client_for):
    project = make_project()
    url = reverse("activity-new") + f"?project={project.pk}"
    assert client_for(users["resident"]).get(url).status_code == 403
    assert client_for(users["liaison2"]).get(url).status_code == 403


def test_the_list_shows_an_activity_to_the_compound_and_the_area_not_to_an_unrelated_unit(
    users, make_activity, outsider, client_for
):
    activity = make_activity(start=dt.timedelta(days=1), end=dt.timedelta(days=1, hours=2))
    # The liaison of the power company lives in 南峰社区 and is registered there (双报到).
    for name in ("community", "town", "grid", "branch", "committee", "volunteer", "resident", "liaison"):
        page = client_for(users[name]).get(reverse("activity-list")).content.decode()
        assert activity.title in page, name
    assert activity.title not in client_for(outsider).get(reverse("activity-list")).content.decode()
    assert client_for(outsider).get(reverse("activity-detail", args=[activity.pk])).status_code == 403


def test_upcoming_and_past_activities_are_listed_apart(users, make_activity, client_for):
    coming = make_activity(start=dt.timedelta(days=1), end=dt.timedelta(days=1, hours=2), title="明天的清理")
    done = make_activity(start=dt.timedelta(hours=-5), end=dt.timedelta(hours=-3), title="上午的清理")
    client = client_for(users["community"])
    upcoming = client.get(reverse("activity-list")).content.decode()
    past = client.get(reverse("activity-list") + "?when=past").content.decode()
    assert coming.title in upcoming and done.title not in upcoming
    assert done.title in past and coming.title not in past
    assert "Over, awaiting verification" in past
