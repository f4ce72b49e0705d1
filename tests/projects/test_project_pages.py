"""The staff pages of community projects, through the test client with the demo logins:
who sees which project, starting one from a request and its refusals, milestones and
photos, state moves and what blocks closing, disputes, residents' objections and ratings."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from gongzhi.housing.models import Compound, Unit
from gongzhi.meetings import actions as meeting_actions
from gongzhi.meetings import resolutions
from gongzhi.meetings.models import Meeting
from gongzhi.orgs import policy
from gongzhi.orgs.models import Organisation, Person
from gongzhi.projects import actions
from gongzhi.projects.models import Dispute, MilestonePhoto, Objection, Project, Rating, ServiceType
from gongzhi.tickets.models import Ticket

pytestmark = pytest.mark.django_db

P = Project.State


def client_for(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def detail(project: Project) -> str:
    return reverse("project-detail", args=[project.pk])


def png(name: str = "before.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def page(response: Any) -> str:
    return response.content.decode()


def underway(make_project: Any, users: dict[str, Any]) -> Project:
    return actions.move(users["community"], make_project(), P.UNDERWAY)


def at_acceptance(make_project: Any, users: dict[str, Any]) -> Project:
    project = underway(make_project, users)
    milestone = actions.add_milestone(users["community"], project, title="更换路灯")
    actions.report_progress(users["community"], milestone, progress=100)
    return actions.move(users["community"], project, P.ACCEPTANCE)


# --------------------------------------------------------------------------- the list


def test_the_list_shows_a_project_to_those_of_its_compound_and_units_only(make_project, users):
    project = make_project()
    for name in ("community", "town", "branch", "committee", "grid", "resident", "liaison"):
        listing = client_for(users[name]).get(reverse("project-list"))
        assert listing.status_code == 200
        assert project.code in page(listing), name
    # The town government is not involved: its liaison does not see the project.
    assert project.code not in page(client_for(users["liaison2"]).get(reverse("project-list")))
    filtered = client_for(users["community"]).get(reverse("project-list"), {"state": P.CLOSED})
    assert project.code not in page(filtered)
    assert project.code in page(
        client_for(users["community"]).get(reverse("project-list"), {"state": P.RAISING})
    )


def test_only_those_who_may_start_a_project_get_the_button(users):
    assert 'data-testid="start-project"' in page(client_for(users["community"]).get(reverse("project-list")))
    for name in ("branch", "resident"):
        assert 'data-testid="start-project"' not in page(client_for(users[name]).get(reverse("project-list")))
        assert client_for(users[name]).get(reverse("project-new")).status_code == 403


def test_the_list_shows_progress_and_open_disputes(make_project, users):
    community = users["community"]
    project = underway(make_project, users)
    heavy = actions.add_milestone(community, project, title="更换灯杆", weight=3)
    actions.add_milestone(community, project, title="清理现场", weight=1)
    actions.report_progress(community, heavy, progress=50)
    actions.open_dispute(
        community, project, title="灯杆位置", parties="3幢住户与施工方", issue="灯杆挡住窗户"
    )
    html = page(client_for(community).get(reverse("project-list")))
    row = html[html.index(f'data-project="{project.pk}"') :]
    row = row[: row.index("</tr>")]
    # (3 × 50 + 1 × 0) / 4 = 37.5, rounded down as actions.progress does.
    assert "37%" in row and actions.progress(project) == 37
    assert '<span class="badge gap">1</span>' in row


def test_the_list_costs_the_same_queries_for_one_project_or_many(make_project, users):
    community = users["community"]
    make_project()
    client = client_for(community)
    client.get(reverse("project-list"))
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("project-list")).status_code == 200
    for _ in range(4):
        project = underway(make_project, users)
        milestone = actions.add_milestone(community, project, title="施工")
        actions.report_progress(community, milestone, progress=40)
        actions.open_dispute(community, project, title="噪音", parties="住户与施工方", issue="夜间施工")
    with CaptureQueriesContext(connection) as five:
        response = client.get(reverse("project-list"))
    assert len(response.context["page"].rows) >= 5
    assert len(five.captured_queries) == len(one.captured_queries)


# --------------------------------------------------------------------------- starting a project


def party_member_of(user: Any) -> Person:
    return policy.scope(user, "person").filter(is_party_member=True).order_by("id")[0]


def start_form(yucai: Compound, need: Ticket, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "育才新村东门路灯加装",
        "kind": Project.Kind.LIGHTING,
        "summary": "更换主路12盏路灯，由居民筹资、党员志愿者筹劳",
        "compounds": [yucai.pk],
        "party_org": Organisation.objects.get(kind=Organisation.Kind.PARTY_ORG, area=yucai.community).pk,
        "branch": Organisation.objects.get(
            kind=Organisation.Kind.JOINT_BRANCH, name="育才新村第一兼合式党支部"
        ).pk,
        "committee": Organisation.objects.get(kind=Organisation.Kind.OWNERS_COMMITTEE, compound=yucai).pk,
        "member_units": [
            Organisation.objects.get(kind=Organisation.Kind.MEMBER_UNIT, name__contains="供电").pk
        ],
        "service_types": [s.pk for s in ServiceType.objects.filter(code__in=["opinions", "progress"])],
        "budget": "12000",
        "approvals_required": "2",
        "tickets": f"#{need.pk}",
    }
    data.update(changes)
    return data


def test_the_community_starts_a_project_from_a_request(users, yucai, need):
    client = client_for(users["community"])
    form = client.get(reverse("project-new"), {"ticket": need.pk})
    assert form.status_code == 200
    assert f'value="#{need.pk}"' in page(form)
    assert form.context["form"].initial["compounds"] == [yucai.pk]
    lead = party_member_of(users["community"])
    response = client.post(
        reverse("project-new"), start_form(yucai, need, lead1_person=lead.pk, lead1_role="带头施工")
    )
    assert response.status_code == 302
    project = Project.objects.get(title="育才新村东门路灯加装")
    assert response["Location"] == detail(project)
    assert project.needs.get().ticket == need
    assert list(project.compounds.all()) == [yucai]
    assert project.service_types.count() == 2
    assert project.leads.get().person == lead
    shown = page(client.get(detail(project)))
    assert f"#{need.pk}" in shown and 'data-testid="party-member"' in shown


def test_a_second_request_is_linked_by_its_number(users, yucai, need):
    other = Ticket.objects.filter(compound=yucai).exclude(pk=need.pk).order_by("id").first()
    response = client_for(users["community"]).post(
        reverse("project-new"), start_form(yucai, need, tickets=f"#{need.pk}，{other.pk}")
    )
    assert response.status_code == 302
    project = Project.objects.get(title="育才新村东门路灯加装")
    assert {n.ticket_id for n in project.needs.all()} == {need.pk, other.pk}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tickets": ""}, "link at least one request"),
        ({"approvals_required": "9"}, "less than or equal to 5"),
        ({"budget": "-500"}, "The amount must be more than zero."),
        ({"budget": "12.345"}, "At most two decimals"),
        ({"tickets": "#99999999"}, "No request #99999999"),
    ],
)
def test_bad_input_starts_nothing(users, yucai, need, changes, message):
    before = Project.objects.count()
    response = client_for(users["community"]).post(reverse("project-new"), start_form(yucai, need, **changes))
    assert response.status_code == 400
    assert message in page(response)
    assert Project.objects.count() == before


def test_a_compound_outside_the_users_scope_is_refused(users, yucai, need):
    elsewhere = Compound.objects.exclude(community=yucai.community).order_by("id").first()
    before = Project.objects.count()
    response = client_for(users["community"]).post(
        reverse("project-new"), start_form(yucai, need, compounds=[elsewhere.pk])
    )
    assert response.status_code == 400
    assert "not one of the available choices" in page(response)
    assert Project.objects.count() == before


def test_a_request_from_another_compound_is_refused(users, yucai, need):
    neighbour = (
        Ticket.objects.filter(community=yucai.community).exclude(compound=yucai).order_by("id").first()
    )
    response = client_for(users["community"]).post(
        reverse("project-new"), start_form(yucai, need, tickets=f"#{neighbour.pk}")
    )
    assert response.status_code == 400
    assert f"Request #{neighbour.pk} is from a compound outside the project." in page(response)
    assert not Project.objects.filter(title="育才新村东门路灯加装").exists()


def test_the_request_page_offers_to_start_a_project(users, need):
    url = reverse("ticket-detail", args=[need.pk])
    assert f"/projects/new/?ticket={need.pk}" in page(client_for(users["community"]).get(url))
    assert "/projects/new/" not in page(client_for(users["grid"]).get(url))


def test_an_adopted_resolution_offers_to_start_a_project(users, yucai):
    community = users["community"]
    meeting = meeting_actions.create_meeting(
        community,
        kind=Meeting.Kind.HALL,
        title="育才新村红色议事厅（路灯）",
        convener=Organisation.objects.get(kind=Organisation.Kind.PARTY_ORG, area=yucai.community),
        compound=yucai,
        starts_at=timezone.now() + dt.timedelta(days=8),
        place="育才新村红色议事厅",
    )
    item = meeting_actions.add_agenda_item(community, meeting, title="主路路灯更新")
    meeting_actions.announce(community, meeting)
    meeting_actions.open_session(community, meeting)
    resolution = resolutions.resolve(community, item, text="同意由社区党委发起路灯更新项目")
    assert resolution.adopted
    shown = page(client_for(community).get(reverse("meeting-detail", args=[meeting.pk])))
    assert f"/projects/new/?resolution={resolution.pk}" in shown
    form = client_for(community).get(reverse("project-new"), {"resolution": resolution.pk})
    assert form.context["form"].initial["resolutions"] == [resolution.pk]
    assert form.context["form"].initial["compounds"] == [yucai.pk]


# --------------------------------------------------------------------------- milestones and photos


def test_a_milestone_and_its_progress_with_a_dated_photo(make_project, users):
    project = underway(make_project, users)
    client = client_for(users["branch"])
    added = client.post(
        reverse("project-milestone-add", args=[project.pk]),
        {"title": "更换灯杆", "weight": "2", "due_on": ""},
    )
    assert added.status_code == 302
    milestone = project.milestones.get()
    taken = timezone.localdate() - dt.timedelta(days=2)
    reported = client.post(
        reverse("project-progress", args=[milestone.pk]),
        {
            "progress": "60",
            "note": "灯杆已立",
            "photos1": png(),
            "stage1": "before",
            "taken1": taken.isoformat(),
        },
    )
    assert reported.status_code == 302
    picture = MilestonePhoto.objects.get(milestone=milestone)
    assert (picture.stage, picture.taken_on) == ("before", taken)
    shown = page(client.get(detail(project)))
    assert 'data-testid="progress-value">60%' in shown
    assert reverse("project-photo", args=[picture.pk]) in shown
    thumb = client_for(users["resident"]).get(reverse("project-photo", args=[picture.pk]), {"size": "thumb"})
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/png"
    assert client_for(users["liaison2"]).get(reverse("project-photo", args=[picture.pk])).status_code == 403


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"progress": "150"}, "less than or equal to 100"),
        ({"progress": "50", "photos1": "photo", "taken1": "2026-01-01"}, "before, during or after"),
        (
            {"progress": "50", "photos1": "photo", "stage1": "after", "taken1": "2999-01-01"},
            "not in the future",
        ),
        # Going back needs a note saying why.
        ({"progress": "10"}, "This field is required."),
    ],
)
def test_bad_progress_is_refused(make_project, users, fields, message):
    project = underway(make_project, users)
    milestone = actions.add_milestone(users["community"], project, title="更换灯杆")
    actions.report_progress(users["community"], milestone, progress=40)
    if fields.get("photos1") == "photo":
        fields = fields | {"photos1": png()}
    response = client_for(users["community"]).post(reverse("project-progress", args=[milestone.pk]), fields)
    assert response.status_code == 400
    assert message in page(response)
    milestone.refresh_from_db()
    assert milestone.progress == 40
    assert not MilestonePhoto.objects.filter(milestone=milestone).exists()


def test_a_unit_liaison_may_look_but_not_record(make_project, users):
    project = underway(make_project, users)
    client = client_for(users["liaison"])
    assert client.get(detail(project)).status_code == 200
    refused = client.post(
        reverse("project-milestone-add", args=[project.pk]), {"title": "偷偷加的", "weight": "1"}
    )
    assert refused.status_code == 403
    assert not project.milestones.exists()


# --------------------------------------------------------------------------- states and closing


def move(client: Client, project: Project, to: str, note: str = "") -> Any:
    project.refresh_from_db()
    return client.post(
        reverse("project-move", args=[project.pk, to]), {"note": note, "version": str(project.version)}
    )


def test_state_moves_and_an_unanswered_objection_blocks_closing(make_project, users):
    community = client_for(users["community"])
    project = make_project()
    assert move(community, project, P.UNDERWAY).status_code == 302
    early = move(community, project, P.ACCEPTANCE)
    assert early.status_code == 400
    assert "Add the project&#x27;s milestones first." in page(early)
    assert move(community, project, P.CLOSED).status_code == 400
    milestone = actions.add_milestone(users["community"], project, title="更换路灯")
    actions.report_progress(users["community"], milestone, progress=100)
    assert move(community, project, P.ACCEPTANCE).status_code == 302

    raised = client_for(users["resident"]).post(
        reverse("project-objection", args=[project.pk]), {"text": "3幢门口那盏灯还是不亮"}
    )
    assert raised.status_code == 302
    objection = Objection.objects.get(project=project)
    assert not objection.staff_assisted and objection.household is not None
    shown = page(community.get(detail(project)))
    assert 'data-testid="close-blockers"' in shown
    assert "Residents&#x27; objections not yet answered: 1." in shown
    refused = move(community, project, P.CLOSED)
    assert refused.status_code == 400
    assert "objections not yet answered" in page(refused)
    project.refresh_from_db()
    assert project.state == P.ACCEPTANCE

    answered = client_for(users["branch"]).post(
        reverse("project-objection-answer", args=[objection.pk]), {"answer": "已于次日更换灯泡"}
    )
    assert answered.status_code == 302
    assert move(community, project, P.CLOSED).status_code == 302
    project.refresh_from_db()
    assert project.state == P.CLOSED
    timeline = page(community.get(detail(project)))
    assert "Moved from “Acceptance check” to “Closed”." in timeline
    assert "A resident raised an objection." in timeline


def test_sending_back_from_acceptance_needs_a_reason_and_a_stale_page_is_refused(make_project, users):
    community = client_for(users["community"])
    project = at_acceptance(make_project, users)
    without = move(community, project, P.UNDERWAY)
    assert without.status_code == 400
    assert "This field is required." in page(without)
    stale = community.post(
        reverse("project-move", args=[project.pk, P.UNDERWAY]), {"note": "灯不亮", "version": "0"}
    )
    assert stale.status_code == 400
    assert "Someone else changed this project" in page(stale)
    project.refresh_from_db()
    assert project.state == P.ACCEPTANCE


def test_only_area_staff_move_a_project(make_project, users):
    project = make_project()
    for name in ("branch", "resident"):
        assert move(client_for(users[name]), project, P.UNDERWAY).status_code == 403
    project.refresh_from_db()
    assert project.state == P.RAISING


def test_staff_record_an_objection_for_a_household_without_a_phone(make_project, users, yucai):
    project = make_project()
    household = (
        Unit.objects.filter(compound=yucai).exclude(residents__user=users["resident"]).order_by("id").first()
    )
    response = client_for(users["grid"]).post(
        reverse("project-objection", args=[project.pk]), {"text": "施工噪音太大", "household": household.pk}
    )
    assert response.status_code == 302
    objection = Objection.objects.get(project=project)
    assert objection.staff_assisted and objection.household == household
    empty = client_for(users["grid"]).post(
        reverse("project-objection", args=[project.pk]), {"text": "", "household": household.pk}
    )
    assert empty.status_code == 400
    assert Objection.objects.filter(project=project).count() == 1


# --------------------------------------------------------------------------- disputes


def test_a_dispute_is_logged_mediated_and_settled(make_project, users):
    project = underway(make_project, users)
    client = client_for(users["committee"])
    hall = Meeting.objects.filter(compound=project.compounds.get()).order_by("id")[0]
    logged = client.post(
        reverse("project-dispute-open", args=[project.pk]),
        {
            "title": "灯杆位置之争",
            "parties": "3幢住户与施工方",
            "issue": "新灯杆挡住了一楼窗户",
            "meeting": hall.pk,
        },
    )
    assert logged.status_code == 302
    dispute = Dispute.objects.get(project=project)
    assert dispute.meeting == hall
    shown = page(client.get(detail(project)))
    assert 'data-testid="flag-disputes"' in shown and 'data-state="open"' in shown
    stepped = client.post(
        reverse("project-mediation-add", args=[dispute.pk]),
        {"text": "红色议事厅协调，施工方同意移位", "mediator": "党支部书记"},
    )
    assert stepped.status_code == 302
    no_outcome = client.post(
        reverse("project-dispute-close", args=[dispute.pk]), {"settled": "1", "outcome": ""}
    )
    assert no_outcome.status_code == 400
    closed = client.post(
        reverse("project-dispute-close", args=[dispute.pk]), {"settled": "1", "outcome": "灯杆向东移两米"}
    )
    assert closed.status_code == 302
    dispute.refresh_from_db()
    assert dispute.state == Dispute.State.SETTLED and dispute.steps.count() == 1
    again = client.post(reverse("project-mediation-add", args=[dispute.pk]), {"text": "再次协调"})
    assert again.status_code == 400
    assert "This dispute is closed" in page(again)
    # Residents see that there was a dispute and how it ended, not the parties by name.
    resident_view = page(client_for(users["resident"]).get(detail(project)))
    assert "灯杆向东移两米" in resident_view and "3幢住户与施工方" not in resident_view


def test_an_open_dispute_blocks_closing(make_project, users):
    project = at_acceptance(make_project, users)
    actions.open_dispute(users["community"], project, title="费用分摊", parties="1幢与2幢", issue="分摊不公")
    refused = move(client_for(users["community"]), project, P.CLOSED)
    assert refused.status_code == 400
    assert "Disputes still open: 1." in page(refused)


# --------------------------------------------------------------------------- two-way supervision


def scores(project: Project, stars: int = 5) -> dict[str, str]:
    out = {}
    for target, org in actions.resident_targets(project):
        key = f"unit_{org.pk}" if target == Rating.Target.UNIT and org is not None else str(target)
        out[f"score_{key}"] = str(stars)
    return out


def test_a_resident_rates_the_project_at_acceptance(make_project, users):
    project = at_acceptance(make_project, users)
    resident = client_for(users["resident"])
    assert 'data-testid="rating-form"' in page(resident.get(detail(project)))
    missing = resident.post(reverse("project-rate", args=[project.pk]), {"score_project": "5"})
    assert missing.status_code == 400
    assert not project.ratings.exists()
    rated = resident.post(
        reverse("project-rate", args=[project.pk]), scores(project, 4) | {"comment": "灯很亮"}
    )
    assert rated.status_code == 302
    ratings = list(project.ratings.all())
    assert len(ratings) == len(actions.resident_targets(project)) == 4
    assert {r.score for r in ratings} == {4} and not any(r.staff_assisted for r in ratings)
    after = page(resident.get(detail(project)))
    assert 'data-testid="rated-own"' in after and 'data-testid="rating-form"' not in after
    assert "4.0 ★" in after
    twice = resident.post(reverse("project-rate", args=[project.pk]), scores(project, 1))
    assert twice.status_code == 400
    assert project.ratings.count() == 4


def test_staff_record_ratings_for_a_household_and_rate_contributions(make_project, users, yucai):
    project = at_acceptance(make_project, users)
    household = (
        Unit.objects.filter(compound=yucai).exclude(residents__user=users["resident"]).order_by("id").first()
    )
    recorded = client_for(users["committee"]).post(
        reverse("project-rate", args=[project.pk]), scores(project, 3) | {"household": household.pk}
    )
    assert recorded.status_code == 302
    assert all(r.staff_assisted and r.household == household for r in project.ratings.all())
    unit = project.member_units.get()
    community = client_for(users["community"])
    rated = community.post(
        reverse("project-contribution", args=[project.pk]),
        {"target": f"org:{unit.pk}", "score": "5", "comment": "三天接电"},
    )
    assert rated.status_code == 302
    assert project.ratings.get(direction=Rating.Direction.COMMUNITY).organisation == unit
    summary = page(community.get(detail(project)))
    assert "3.0 ★" in summary and "5.0 ★" in summary
    assert client_for(users["branch"]).post(
        reverse("project-contribution", args=[project.pk]), {"target": f"org:{unit.pk}", "score": "1"}
    ).status_code in (400, 403)
    assert project.ratings.filter(direction=Rating.Direction.COMMUNITY).count() == 1


def test_ratings_wait_for_the_acceptance_check(make_project, users):
    project = underway(make_project, users)
    resident = client_for(users["resident"])
    assert 'data-testid="rating-form"' not in page(resident.get(detail(project)))
    refused = resident.post(reverse("project-rate", args=[project.pk]), scores(project))
    assert refused.status_code == 400
    assert not project.ratings.exists()


# --------------------------------------------------------------------------- the page for each role


@pytest.mark.parametrize(
    "name",
    [
        "admin",
        "county",
        "town",
        "community",
        "grid",
        "branch",
        "committee",
        "liaison",
        "volunteer",
        "resident",
    ],
)
def test_the_project_page_renders_for_everyone_who_may_see_it(make_project, users, name):
    project = underway(make_project, users)
    milestone = actions.add_milestone(users["community"], project, title="更换路灯")
    actions.report_progress(users["community"], milestone, progress=30, photos=[])
    actions.open_dispute(users["community"], project, title="灯杆位置", parties="住户与施工方", issue="挡窗")
    response = client_for(users[name]).get(detail(project))
    assert response.status_code == 200
    html = page(response)
    assert project.title in html and 'data-testid="fund-summary"' in html
    assert f"/c/{project.compounds.get().code}/projects/{project.pk}/" in html
    may_change = name not in ("liaison", "volunteer", "resident")
    assert ('data-testid="dispute-form"' in html) == may_change
    assert ('href="/volunteers/new/?project=' in html) == may_change
    assert ('data-testid="project-moves"' in html) == (name in ("admin", "county", "town", "community"))


def test_the_page_is_refused_to_a_unit_not_involved(make_project, users):
    project = make_project()
    assert client_for(users["liaison2"]).get(detail(project)).status_code == 403
    assert client_for(users["liaison2"]).get(reverse("project-detail", args=[10**9])).status_code == 404
