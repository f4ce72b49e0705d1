"""What a project may and may not do apart from its money: how it starts, the states it
moves through, what blocks its acceptance and its closing, progress, ratings, objections.

Actors of the demo county: ``community`` (南峰社区's staff) starts and steers the project,
``branch`` and ``committee`` run it, ``resident`` (张志毅, building 1 of 育才新村) rates it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from gongzhi.consultations.uploads import clean_document
from gongzhi.housing.models import Compound, Unit
from gongzhi.orgs.models import Organisation, Person
from gongzhi.projects import actions, ledger
from gongzhi.projects.models import Expense, Objection, Project, Rating

P = Project.State


def refusal(call: Callable[[], Any]) -> ValidationError:
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        call()
    return caught.value


def words(error: ValidationError) -> str:
    return " ".join(error.messages)


@pytest.fixture
def community(users: dict[str, Any]) -> Any:
    return users["community"]


@pytest.fixture
def party_org(yucai: Compound) -> Organisation:
    return Organisation.objects.get(kind=Organisation.Kind.PARTY_ORG, area=yucai.community)


@pytest.fixture
def start(party_org: Organisation, yucai: Compound, need: Any) -> Callable[..., Project]:
    def create(actor: Any, **changes: Any) -> Project:
        arguments: dict[str, Any] = {
            "party_org": party_org,
            "title": "育才新村垃圾分类点改造",
            "kind": Project.Kind.GARBAGE,
            "summary": "把三个露天垃圾点改为带顶棚的分类亭",
            "compounds": [yucai],
            "tickets": [need],
        }
        arguments.update(changes)
        return actions.create_project(actor, **arguments)

    return create


@pytest.fixture
def projects_before(demo_county: Any, db: Any) -> int:
    """The demo county's own projects, which no refused start adds to."""
    return Project.objects.count()


def fresh(project: Project) -> Project:
    return Project.objects.get(pk=project.pk)


# ---- starting a project -------------------------------------------------------------------------


def test_a_project_starts_from_residents_needs(start, community):
    error = refusal(lambda: start(community, tickets=[]))
    assert "tickets" in error.message_dict and "residents' needs" in words(error)
    project = start(community)
    assert project.needs.get().ticket is not None
    assert project.state == P.PREPARING and project.code.startswith("XM")


def test_a_request_of_another_compound_is_no_need_of_this_project(start, community, yucai, need):
    neighbour = Compound.objects.filter(community=yucai.community).exclude(pk=yucai.pk).first()
    error = refusal(lambda: start(community, compounds=[neighbour], tickets=[need]))
    assert "outside the project" in error.message_dict["tickets"][0]


def test_a_project_serves_only_compounds_within_the_starters_reach(start, community, yucai, projects_before):
    elsewhere = Compound.objects.exclude(community=yucai.community).first()
    with pytest.raises(PermissionDenied):
        start(community, compounds=[yucai, elsewhere])
    with pytest.raises(PermissionDenied):
        start(community, compounds=[elsewhere])
    assert Project.objects.count() == projects_before


@pytest.mark.parametrize("who", ["grid", "branch", "committee", "resident", "liaison"])
def test_only_area_staff_start_a_project(start, users, who, projects_before):
    with pytest.raises(PermissionDenied):
        start(users[who])
    assert Project.objects.count() == projects_before


def test_a_project_serves_compounds_of_one_community(start, users, yucai, projects_before):
    neighbour_community = (
        Compound.objects.filter(community__parent=yucai.community.parent)
        .exclude(community=yucai.community)
        .first()
    )
    error = refusal(lambda: start(users["town"], compounds=[yucai, neighbour_community]))
    assert "one community" in error.message_dict["compounds"][0]
    assert Project.objects.count() == projects_before


def test_a_project_is_started_by_the_community_party_organisation(start, community, yucai, projects_before):
    committee = Organisation.objects.get(kind=Organisation.Kind.OWNERS_COMMITTEE, compound=yucai)
    error = refusal(lambda: start(community, party_org=committee))
    assert "community party organisation" in error.message_dict["party_org"][0]
    other = (
        Organisation.objects.filter(kind=Organisation.Kind.PARTY_ORG).exclude(area=yucai.community).first()
    )
    error = refusal(lambda: start(community, party_org=other))
    assert "does not lead" in error.message_dict["party_org"][0]
    assert Project.objects.count() == projects_before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"approvals_required": 0}, "approvals_required"),
        ({"approvals_required": 6}, "approvals_required"),
        ({"approvals_required": "两"}, "approvals_required"),
        ({"kind": "bridge"}, "kind"),
        ({"budget": "-1"}, "budget"),
        ({"title": "  "}, "title"),
    ],
)
def test_a_bad_project_field_is_refused_by_name(start, community, changes, field, projects_before):
    error = refusal(lambda: start(community, **changes))
    assert field in error.message_dict
    assert Project.objects.count() == projects_before


# ---- states -------------------------------------------------------------------------------------


def test_a_project_moves_only_as_the_table_allows(make_project, community):
    """Every pair of states: allowed exactly when ``MOVES`` lists it (nothing else blocks
    here: the fund is empty, the one milestone is done, nobody objects)."""
    project = make_project()
    milestone = actions.add_milestone(community, project, title="分类亭建成")
    actions.report_progress(community, milestone, progress=100)
    for before in P.values:
        for after in P.values:
            Project.objects.filter(pk=project.pk).update(state=before)
            if after in actions.MOVES[before]:
                moved = actions.move(community, fresh(project), after, note="说明")
                assert moved.state == fresh(project).state == after
            else:
                error = refusal(
                    lambda after=after: actions.move(community, fresh(project), after, note="说明")
                )
                assert "cannot become" in words(error), (before, after)
                assert fresh(project).state == before
    error = refusal(lambda: actions.move(community, fresh(project), "paused"))
    assert "cannot become" in words(error)


def test_only_those_who_steer_the_project_move_it(make_project, users):
    project = make_project()
    for who in ("branch", "committee", "grid", "resident"):
        with pytest.raises(PermissionDenied):
            actions.move(users[who], project, P.UNDERWAY)
    assert fresh(project).state == P.RAISING


def test_a_move_on_a_stale_page_is_refused(make_project, community):
    project = make_project()
    stale = project.version
    actions.move(community, project, P.UNDERWAY)
    error = refusal(lambda: actions.move(community, fresh(project), P.ACCEPTANCE, version=stale))
    assert "Reload" in words(error)


def test_cancelling_and_sending_back_to_work_need_a_reason(make_project, community):
    project = make_project()
    assert "note" in refusal(lambda: actions.move(community, project, P.CANCELLED)).message_dict
    project = actions.move(community, project, P.UNDERWAY)
    milestone = actions.add_milestone(community, project, title="分类亭建成")
    actions.report_progress(community, milestone, progress=100)
    project = actions.move(community, project, P.ACCEPTANCE)
    assert "note" in refusal(lambda: actions.move(community, project, P.UNDERWAY)).message_dict
    assert actions.move(community, project, P.UNDERWAY, note="顶棚漏雨，返工").state == P.UNDERWAY


def test_the_acceptance_check_needs_every_milestone_done(make_project, community):
    project = actions.move(community, make_project(), P.UNDERWAY)
    assert "milestones first" in words(refusal(lambda: actions.move(community, project, P.ACCEPTANCE)))
    first = actions.add_milestone(community, project, title="拆除旧垃圾点")
    second = actions.add_milestone(community, project, title="分类亭建成")
    actions.report_progress(community, first, progress=100)
    actions.report_progress(community, second, progress=99)
    error = refusal(lambda: actions.move(community, project, P.ACCEPTANCE))
    assert "Milestones not finished: 1" in words(error)
    actions.report_progress(community, second, progress=100)
    assert actions.move(community, project, P.ACCEPTANCE).state == P.ACCEPTANCE


def receipt() -> Any:
    return clean_document(SimpleUploadedFile("收据.pdf", b"%PDF-1.4 receipt", content_type="application/pdf"))


def test_closing_waits_for_answers_disputes_payments_and_receipts(make_project, community, users):
    project = make_project()
    branch, committee = users["branch"], users["committee"]
    ledger.record_income(community, project, source="subsidy", amount="5000")

    def expense(amount: str, approvals: int) -> Expense:
        e = ledger.submit_expense(
            community, project, purpose="分类亭", expense_type="materials", vendor="某钢构厂", amount=amount
        )
        for approver in (branch, committee)[:approvals]:
            e = ledger.decide_expense(approver, e, approve=True)
        return e

    waiting = expense("100", 0)
    unpaid = expense("200", 2)
    paid = expense("300", 2)
    ledger.pay_expense(community, paid)
    project = actions.move(community, project, P.UNDERWAY)
    milestone = actions.add_milestone(community, project, title="分类亭建成")
    actions.report_progress(community, milestone, progress=100)
    project = actions.move(community, project, P.ACCEPTANCE)
    objection = actions.raise_objection(users["resident"], project, text="新亭子离我家窗户太近")
    dispute = actions.open_dispute(
        community, project, title="选址争议", parties="1幢住户与业委会", issue="分类亭的位置"
    )

    def blockers() -> str:
        return words(refusal(lambda: actions.move(community, fresh(project), P.CLOSED)))

    found = blockers()
    assert "Residents' objections not yet answered: 1." in found
    assert "Disputes still open: 1." in found
    assert "Expenses awaiting approval or payment: 2." in found
    assert "Paid expenses still without a receipt: 1." in found

    actions.answer_objection(branch, objection, answer="已与住户协商，亭子后移两米")
    assert "objections" not in blockers()
    actions.close_dispute(community, dispute, settled=True, outcome="双方同意后移方案")
    assert "disputes" not in blockers()
    ledger.withdraw_expense(community, waiting, reason="不再需要")
    assert "Expenses awaiting approval or payment: 1." in blockers()
    ledger.pay_expense(community, unpaid)
    found = blockers()
    assert "awaiting" not in found and "Paid expenses still without a receipt: 2." in found
    ledger.add_receipts(community, paid, [receipt()])
    assert "Paid expenses still without a receipt: 1." in blockers()
    ledger.add_receipts(community, unpaid, [receipt()])
    assert actions.close_blockers(fresh(project)) == []
    assert actions.move(community, fresh(project), P.CLOSED).state == P.CLOSED


def test_a_closed_project_no_longer_changes(make_project, community, users):
    project = actions.move(community, make_project(), P.UNDERWAY)
    milestone = actions.add_milestone(community, project, title="分类亭建成")
    actions.report_progress(community, milestone, progress=100)
    project = actions.move(community, actions.move(community, project, P.ACCEPTANCE), P.CLOSED)
    for call in (
        lambda: actions.add_milestone(community, project, title="再加一项"),
        lambda: actions.report_progress(community, milestone, progress=50, note="返工"),
        lambda: actions.open_dispute(community, project, title="t", parties="p", issue="i"),
        lambda: actions.raise_objection(users["resident"], project, text="还有问题"),
    ):
        assert "no longer changes" in words(refusal(call))


# ---- progress -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("milestones", "expected"),
    [
        ([], 0),
        ([(1, 100), (3, 0)], 25),
        ([(1, 0), (3, 100)], 75),
        ([(1, 100), (1, 100), (1, 0)], 66),  # 200/3, rounded down
        ([(2, 50), (1, 0)], 33),
        ([(100, 99), (1, 100)], 99),
        ([(5, 100), (5, 100)], 100),
    ],
)
def test_progress_is_the_weighted_mean_rounded_down(make_project, community, milestones, expected):
    project = make_project()
    for i, (weight, percent) in enumerate(milestones):
        milestone = actions.add_milestone(community, project, title=f"第{i + 1}项", weight=weight)
        if percent:
            actions.report_progress(community, milestone, progress=percent)
    assert actions.progress(project) == expected


@pytest.mark.parametrize(("value", "field"), [(0, "weight"), (101, "weight"), ("重", "weight")])
def test_a_milestone_weight_is_1_to_100(make_project, community, value, field):
    project = make_project()
    assert (
        field
        in refusal(lambda: actions.add_milestone(community, project, title="x", weight=value)).message_dict
    )
    assert not project.milestones.exists()


@pytest.mark.parametrize("value", [-1, 101, "五成", ""])
def test_progress_is_a_whole_percentage(make_project, community, value):
    milestone = actions.add_milestone(community, make_project(), title="分类亭建成")
    assert (
        "progress"
        in refusal(lambda: actions.report_progress(community, milestone, progress=value)).message_dict
    )
    assert not milestone.updates.exists()


def test_going_back_needs_a_note(make_project, community):
    milestone = actions.add_milestone(community, make_project(), title="分类亭建成")
    actions.report_progress(community, milestone, progress=60)
    assert "note" in refusal(lambda: actions.report_progress(community, milestone, progress=40)).message_dict
    actions.report_progress(community, milestone, progress=40, note="顶棚拆下重做")
    assert [u.progress for u in milestone.updates.all()] == [60, 40]


# ---- ratings ------------------------------------------------------------------------------------


def at_acceptance(make_project: Callable[..., Project], community: Any) -> Project:
    project = actions.move(community, make_project(), P.UNDERWAY)
    milestone = actions.add_milestone(community, project, title="分类亭建成")
    actions.report_progress(community, milestone, progress=100)
    return actions.move(community, project, P.ACCEPTANCE)


def all_scores(project: Project, score: Any = 5) -> dict[str, Any]:
    return {
        f"unit:{org.pk}" if target == Rating.Target.UNIT and org else str(target): score
        for target, org in actions.resident_targets(project)
    }


def test_residents_rate_only_at_the_acceptance_check(make_project, community, users):
    project = make_project()
    resident = users["resident"]
    error = refusal(lambda: actions.rate_as_household(resident, project, scores=all_scores(project)))
    assert "acceptance check" in words(error)
    project = at_acceptance(lambda: project, community)
    rows = actions.rate_as_household(resident, project, scores=all_scores(project))
    assert len(rows) == len(actions.resident_targets(project)) == project.ratings.count()
    project = actions.move(community, project, P.CLOSED)
    assert "acceptance check" in words(
        refusal(lambda: actions.rate_as_household(resident, project, scores=all_scores(project)))
    )


@pytest.mark.parametrize("score", [0, 6, -1, "五", None, "4.5"])
def test_a_rating_is_1_to_5_stars(make_project, community, users, score):
    project = at_acceptance(make_project, community)
    scores = all_scores(project) | {"committee": score}
    error = refusal(lambda: actions.rate_as_household(users["resident"], project, scores=scores))
    assert "committee" in error.message_dict
    assert not project.ratings.exists()


def test_every_target_must_be_rated(make_project, community, users):
    project = at_acceptance(make_project, community)
    scores = all_scores(project)
    del scores["branch"]
    assert (
        "branch"
        in refusal(lambda: actions.rate_as_household(users["resident"], project, scores=scores)).message_dict
    )
    assert not project.ratings.exists()


def test_a_household_rates_once_whoever_records_it(make_project, community, users):
    project = at_acceptance(make_project, community)
    resident = users["resident"]
    home = actions.households_of(resident, project).get()
    actions.rate_as_household(resident, project, scores=all_scores(project, 4))
    assert "already rated" in words(
        refusal(lambda: actions.rate_as_household(resident, project, scores=all_scores(project, 1)))
    )
    # Staff recording for the same household on paper is refused as well.
    assert "already rated" in words(
        refusal(
            lambda: actions.rate_as_household(
                community, project, scores=all_scores(project, 1), household=home
            )
        )
    )
    assert {r.score for r in project.ratings.all()} == {4}


def test_staff_record_ratings_only_for_households_in_scope(make_project, community, users, yucai):
    project = at_acceptance(make_project, community)
    neighbour = Unit.objects.exclude(compound=yucai).first()
    error = refusal(
        lambda: actions.rate_as_household(community, project, scores=all_scores(project), household=neighbour)
    )
    assert "household" in error.message_dict
    home = Unit.objects.filter(compound=yucai).last()
    rows = actions.rate_as_household(community, project, scores=all_scores(project), household=home)
    assert all(r.staff_assisted and r.household == home for r in rows)
    # A resident cannot speak for a neighbour's household.
    with pytest.raises(PermissionDenied):
        actions.rate_as_household(
            users["resident"],
            project,
            scores=all_scores(project),
            household=Unit.objects.filter(compound=yucai).first(),
        )


def test_the_community_rates_only_units_and_party_members_of_the_project(make_project, community, users):
    project = at_acceptance(make_project, community)
    involved_unit = project.member_units.get()
    outside_unit = (
        Organisation.objects.filter(kind=Organisation.Kind.MEMBER_UNIT).exclude(pk=involved_unit.pk).first()
    )
    # 吕勇 is a party member of 育才新村's *second* joint branch: not this project's.
    bystander = Person.objects.get(name="吕勇", memberships__organisation__name="育才新村第二兼合式党支部")
    branch_member = Person.objects.get(name="赵静荣", memberships__organisation=project.branch)
    not_a_member = Person.objects.get(name="朱梅", memberships__organisation=project.committee)
    assert bystander.is_party_member and branch_member.is_party_member and not not_a_member.is_party_member

    def rate(**target: Any) -> Any:
        return actions.rate_contribution(community, project, score=5, **target)

    assert "not involved" in refusal(lambda: rate(organisation=outside_unit)).message_dict["target"][0]
    assert "took no part" in refusal(lambda: rate(person=bystander)).message_dict["target"][0]
    assert "not a party member" in refusal(lambda: rate(person=not_a_member)).message_dict["target"][0]
    assert "target" in refusal(lambda: rate()).message_dict
    assert "target" in refusal(lambda: rate(organisation=involved_unit, person=branch_member)).message_dict
    assert not project.ratings.exists()

    rate(organisation=involved_unit)
    rate(person=branch_member)
    # A lead of the project is involved too.
    actions.add_lead(community, project, bystander, "筹劳组织")
    rate(person=bystander)
    assert "already been rated" in words(refusal(lambda: rate(person=branch_member)))
    assert "already been rated" in words(refusal(lambda: rate(organisation=involved_unit)))
    assert project.ratings.filter(direction=Rating.Direction.COMMUNITY).count() == 3


@pytest.mark.parametrize("score", [0, 6, "好"])
def test_a_contribution_is_rated_1_to_5(make_project, community, score):
    project = at_acceptance(make_project, community)
    error = refusal(
        lambda: actions.rate_contribution(
            community, project, score=score, organisation=project.member_units.get()
        )
    )
    assert "score" in error.message_dict
    assert not project.ratings.exists()


def test_contributions_are_rated_at_acceptance_by_those_who_steer(make_project, community, users):
    project = make_project()
    unit = project.member_units.get()
    assert "acceptance" in words(
        refusal(lambda: actions.rate_contribution(community, project, score=5, organisation=unit))
    )
    project = at_acceptance(lambda: project, community)
    with pytest.raises(PermissionDenied):
        actions.rate_contribution(users["branch"], project, score=5, organisation=unit)
    assert not project.ratings.exists()


# ---- objections ---------------------------------------------------------------------------------


def test_an_objection_is_answered_once(make_project, community, users):
    project = make_project()
    objection = actions.raise_objection(users["resident"], project, text="筹资比例不公平")
    assert objection.household is not None and not objection.staff_assisted
    assert (
        "answer"
        in refusal(lambda: actions.answer_objection(users["branch"], objection, answer=" ")).message_dict
    )
    actions.answer_objection(users["branch"], objection, answer="按面积分摊，依据民法典第283条")
    error = refusal(lambda: actions.answer_objection(community, objection, answer="改一下答复"))
    assert "not changed" in words(error)
    objection = Objection.objects.get(pk=objection.pk)
    assert objection.answer.startswith("按面积") and objection.answered_by == users["branch"]


def test_a_resident_objects_but_does_not_answer(make_project, users):
    project = make_project()
    with pytest.raises(PermissionDenied):
        actions.answer_objection(
            users["resident"],
            actions.raise_objection(users["resident"], project, text="有意见"),
            answer="自问自答",
        )
    assert project.objections.filter(answered_at__isnull=False).count() == 0
