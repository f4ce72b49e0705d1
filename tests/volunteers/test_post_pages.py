"""The needs list of posts: staff list a post; only a party member registered with a
community takes one; a full post takes nobody more; the branch assigns, holders leave, the
organiser closes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from gongzhi.volunteers import actions
from gongzhi.volunteers.models import Post, PostTaking

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(users, yucai, first_branch):  # type: ignore[no-untyped-def]
    return actions.create_post(
        users["community"],
        community=yucai.community,
        compound=yucai,
        branch=first_branch,
        title="3幢楼道灯巡查",
        description="每周查看一次楼道灯，坏了报修",
        slots=1,
    )


@pytest.fixture
def registered_volunteer(users, volunteer_person, nanfeng):  # type: ignore[no-untyped-def]
    """The volunteer is a serving party member and registered with 南峰社区."""
    volunteer_person.is_party_member = True
    volunteer_person.save(update_fields=["is_party_member"])
    return actions.register_party_member(users["volunteer"], volunteer_person, nanfeng)


def test_staff_list_a_post_through_the_form(users, yucai, first_branch, client_for):
    client = client_for(users["community"])
    assert 'data-testid="post-form"' in client.get(reverse("post-list")).content.decode()
    response = client.post(
        reverse("post-new"),
        {"title": "独居老人结对探访", "compound": yucai.pk, "branch": first_branch.pk, "slots": "2"},
    )
    assert response.status_code == 302
    post = Post.objects.get(title="独居老人结对探访")
    assert (post.community, post.compound, post.branch, post.slots) == (
        yucai.community,
        yucai,
        first_branch,
        2,
    )
    assert "独居老人结对探访" in client_for(users["resident"]).get(reverse("post-list")).content.decode()


def test_a_post_for_nobody_is_refused(users, nanfeng, client_for):
    before = Post.objects.count()
    response = client_for(users["community"]).post(
        reverse("post-new"), {"title": "楼道清理", "community": nanfeng.pk, "slots": "0"}
    )
    assert response.status_code == 400
    assert "Between 1 and 100 people." in response.content.decode()
    assert Post.objects.count() == before


def test_residents_do_not_list_posts(users, nanfeng, client_for):
    response = client_for(users["resident"]).post(
        reverse("post-new"), {"title": "楼道清理", "community": nanfeng.pk, "slots": "1"}
    )
    assert response.status_code == 403


def test_a_volunteer_who_is_not_a_registered_party_member_cannot_take_a_post(
    users, post, volunteer_person, client_for
):
    assert not volunteer_person.is_party_member
    response = client_for(users["volunteer"]).post(reverse("post-take", args=[post.pk]))
    assert response.status_code == 400
    assert "must register with a community as a party member first" in response.content.decode()
    assert not PostTaking.objects.filter(post=post).exists()


def test_a_registered_party_member_takes_the_post_and_a_full_post_takes_nobody_more(
    users, post, registered_volunteer, first_branch, client_for
):
    response = client_for(users["volunteer"]).post(reverse("post-take", args=[post.pk]))
    assert response.status_code == 302
    assert PostTaking.objects.get(post=post, left_at__isnull=True).person == registered_volunteer
    me = client_for(users["volunteer"]).get(reverse("volunteer-me")).content.decode()
    assert "3幢楼道灯巡查" in me
    member = first_branch.memberships.filter(left_on__isnull=True, person__is_party_member=True)[0].person
    full = client_for(users["branch"]).post(reverse("post-assign", args=[post.pk]), {"person": member.pk})
    assert full.status_code == 400
    assert "The post is filled (1 people)." in full.content.decode()
    assert PostTaking.objects.filter(post=post).count() == 1


def test_the_branch_assigns_a_member_who_later_leaves(users, post, first_branch, client_for):
    member = first_branch.memberships.filter(
        left_on__isnull=True, person__party_registered_community__isnull=False
    )[0].person
    client = client_for(users["branch"])
    assert member.name in client.get(reverse("post-list")).content.decode()
    assert client.post(reverse("post-assign", args=[post.pk]), {"person": member.pk}).status_code == 302
    taking = PostTaking.objects.get(post=post)
    assert (taking.person, taking.recorded_by) == (member, users["branch"])
    party = client_for(users["community"]).get(reverse("party-register") + f"?community={post.community_id}")
    assert "3幢楼道灯巡查" in party.content.decode()
    assert client.post(reverse("post-leave", args=[taking.pk])).status_code == 302
    assert PostTaking.objects.get(pk=taking.pk).left_at is not None


def test_a_holder_cannot_be_released_by_a_resident(users, post, first_branch, client_for):
    member = first_branch.memberships.filter(left_on__isnull=True)[0].person
    taking = actions.take_post(users["branch"], post, member)
    assert client_for(users["resident"]).post(reverse("post-leave", args=[taking.pk])).status_code == 403
    assert PostTaking.objects.get(pk=taking.pk).left_at is None


def test_the_organiser_closes_a_post_and_nobody_takes_it_then(users, post, registered_volunteer, client_for):
    assert client_for(users["committee"]).post(reverse("post-close", args=[post.pk])).status_code == 403
    assert client_for(users["community"]).post(reverse("post-close", args=[post.pk])).status_code == 302
    assert Post.objects.get(pk=post.pk).state == Post.State.CLOSED
    response = client_for(users["volunteer"]).post(reverse("post-take", args=[post.pk]))
    assert response.status_code == 400 and "This post is closed." in response.content.decode()
    assert not PostTaking.objects.filter(post=post).exists()


def test_a_serving_party_member_from_a_member_unit_takes_a_post_where_they_live(
    users, post, nanfeng, client_for
):
    """双报到: the power company's liaison lives in 南峰社区 and registered there; without any
    role in the compound they see its needs list and take a post."""
    from gongzhi.orgs.models import Person

    person = Person.objects.get(user=users["liaison"])
    assert person.is_party_member
    actions.register_party_member(users["liaison"], person, nanfeng)
    client = client_for(users["liaison"])
    assert post.title in client.get(reverse("post-list")).content.decode()
    assert client.post(reverse("post-take", args=[post.pk])).status_code == 302
    assert PostTaking.objects.get(post=post, left_at__isnull=True).person == person
