"""Party members and posts: the community's needs list ("residents order, the branch
assigns, members take"), and 双报到 — registering a serving party member with the
community where they live. Changes go through ``volunteers.actions``; on an error the page
comes back with status 400 and the message, nothing changed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.orgs import policy
from gongzhi.orgs.models import Area, Person
from gongzhi.volunteers import actions, queries
from gongzhi.volunteers.forms import PartyRegisterForm, PersonForm, PostForm
from gongzhi.volunteers.models import Post, PostTaking
from gongzhi.volunteers.views import error_text, form_errors, page

LIMIT = queries.CHOICES_LIMIT
STATES = ("open", "closed", "all")


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _post_form(user: Any, data: Any = None) -> tuple[PostForm, list[Area], list[Any], list[Any]]:
    communities = queries.organising_communities(user)
    compounds = list(queries.organising_compounds(user)[:LIMIT])
    branches = list(queries.branches_for_posts(user)[:LIMIT])
    form = PostForm(
        data,
        communities=[(c.pk, c.name) for c in communities],
        compounds=[(c.pk, f"{c.community.name} · {c.name}") for c in compounds],
        branches=[(b.pk, b.name) for b in branches],
        initial={"slots": 1},
    )
    return form, communities, compounds, branches


def render_posts(
    request: HttpRequest,
    *,
    bound: dict[str, forms.Form] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The needs list; ``bound`` holds forms posted with an error, ``errors`` go on top."""
    user = request.user
    bound = bound or {}
    communities = queries.post_communities(user)
    community_id = _int(request.GET.get("community"))
    community = next((c for c in communities if c.pk == community_id), None)
    state = request.GET.get("state", "open")
    state = state if state in STATES else "open"
    posts = queries.post_rows(user, community, state)
    ids = [p.pk for p in posts]
    may_change = set(
        policy.scope(user, "post", policy.CHANGE).filter(pk__in=ids).values_list("pk", flat=True)
    )
    may_manage = set(
        policy.scope(user, "post", policy.MANAGE).filter(pk__in=ids).values_list("pk", flat=True)
    )
    me = actions.person_of(user)
    members: dict[int, list[tuple[int, str]]] = {}
    for post in posts:
        held = {t.person_id for t in post.holders}  # type: ignore[attr-defined]
        post.mine = next((t for t in post.holders if me and t.person_id == me.pk), None)  # type: ignore[attr-defined]
        post.full = len(held) >= post.slots  # type: ignore[attr-defined]
        post.may_manage = post.pk in may_manage  # type: ignore[attr-defined]
        post.may_change = post.pk in may_change  # type: ignore[attr-defined]
        if post.pk in may_change and post.state == Post.State.OPEN:
            if post.community_id not in members:
                members[post.community_id] = [
                    (p.pk, queries.person_label(p))
                    for p in queries.party_members_for_posts(user, post)[:LIMIT]
                ]
            choices = [c for c in members[post.community_id] if c[0] not in held]
            key = f"assign-{post.pk}"
            post.assign_form = bound.get(key) or PersonForm(people=choices, auto_id=f"a{post.pk}_%s")  # type: ignore[attr-defined]
    page_errors = list(errors or [])
    for form in bound.values():
        for field_errors in form.errors.values():
            page_errors.extend(str(e) for e in field_errors)
    new_form = bound.get("new")
    if new_form is None and queries.may_organise_somewhere(user):
        new_form = _post_form(user)[0]
    return page(
        request,
        "volunteers/posts.html",
        {
            "posts": posts,
            "communities": communities,
            "community": community,
            "state": state,
            "states": [("open", _("Open")), ("closed", _("Closed")), ("all", _("All"))],
            "me": me,
            "new_form": new_form,
            "page_errors": page_errors,
        },
        status=status,
    )


@login_required
def post_list(request: HttpRequest) -> HttpResponse:
    if not queries.sees_posts(request.user):
        raise PermissionDenied
    return render_posts(request)


def _post_or_404(request: HttpRequest, pk: int, action: str = policy.VIEW) -> Post:
    return policy.get_or_404(request.user, "post", action, pk=pk)


def _back(request: HttpRequest, post: Post | None = None) -> HttpResponse:
    url = reverse("post-list")
    return redirect(f"{url}#post-{post.pk}" if post else url)


@require_POST
@login_required
def post_new(request: HttpRequest) -> HttpResponse:
    """Put a post on the community's needs list (for those who organise there)."""
    user = request.user
    if not queries.may_organise_somewhere(user):
        raise PermissionDenied
    form, communities, compounds, branches = _post_form(user, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        compound = next((c for c in compounds if c.pk == data["compound"]), None)
        community = next((c for c in communities if c.pk == data["community"]), None)
        if community is None and compound is not None:
            community = compound.community
        try:
            if community is None:
                raise ValidationError({"community": _("Choose a community or a compound.")})
            post = actions.create_post(
                user,
                community=community,
                compound=compound,
                branch=next((b for b in branches if b.pk == data["branch"]), None),
                title=data["title"],
                description=data["description"],
                slots=data["slots"],
            )
        except ValidationError as error:
            form_errors(form, error)
        except PermissionDenied:
            form.add_error(None, _("You may not list posts for this place."))
        else:
            messages.success(request, _("The post is on the needs list."))
            return _back(request, post)
    return render_posts(request, bound={"new": form}, status=400)


@require_POST
@login_required
def post_take(request: HttpRequest, pk: int) -> HttpResponse:
    """A registered party member takes the post themselves."""
    post = _post_or_404(request, pk)
    try:
        actions.take_post(request.user, post)
    except ValidationError as error:
        return render_posts(request, errors=[error_text(error)], status=400)
    messages.success(request, _("You hold the post “%(post)s”.") % {"post": post.title})
    return _back(request, post)


@require_POST
@login_required
def post_assign(request: HttpRequest, pk: int) -> HttpResponse:
    """The branch or community staff assign a registered party member to the post."""
    post = _post_or_404(request, pk, policy.CHANGE)
    people = {p.pk: p for p in queries.party_members_for_posts(request.user, post)[:LIMIT]}
    form = PersonForm(
        request.POST,
        people=[(p.pk, queries.person_label(p)) for p in people.values()],
        auto_id=f"a{post.pk}_%s",
    )
    if form.is_valid():
        person = people[form.cleaned_data["person"]]
        try:
            actions.take_post(request.user, post, person)
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(
                request, _("%(name)s holds the post “%(post)s”.") % {"name": person.name, "post": post.title}
            )
            return _back(request, post)
    return render_posts(request, bound={f"assign-{post.pk}": form}, status=400)


@require_POST
@login_required
def post_leave(request: HttpRequest, pk: int) -> HttpResponse:
    """The holder leaves the post (or the branch or staff release them)."""
    taking = PostTaking.objects.select_related("post", "person").filter(pk=pk).first()
    if taking is None or not policy.scope(request.user, "post").filter(pk=taking.post_id).exists():
        raise PermissionDenied
    try:
        actions.leave_post(request.user, taking)
    except ValidationError as error:
        return render_posts(request, errors=[error_text(error)], status=400)
    messages.success(
        request,
        _("%(name)s left the post “%(post)s”.") % {"name": taking.person.name, "post": taking.post.title},
    )
    return _back(request, taking.post)


@require_POST
@login_required
def post_close(request: HttpRequest, pk: int) -> HttpResponse:
    post = _post_or_404(request, pk, policy.MANAGE)
    actions.close_post(request.user, post)
    messages.success(request, _("The post “%(post)s” is closed.") % {"post": post.title})
    return _back(request, post)


# --------------------------------------------------------------------------- 双报到


def _all_communities() -> list[Area]:
    return list(
        Area.objects.filter(level=Area.Level.COMMUNITY).select_related("parent").order_by("path")[:2000]
    )


def _community_label(area: Area) -> str:
    return f"{area.parent.name} · {area.name}" if area.parent else area.name


@login_required
def party_register(request: HttpRequest) -> HttpResponse:
    """Staff register a party member in their scope with the community where they live; a
    party member registers themselves. Below: the registered members of a community and the
    posts they hold."""
    user = request.user
    me = actions.person_of(user)
    organising = [c for c in queries.organising_communities(user) if actions.may_organise(user, c, None)]
    staff_people = list(
        queries.people_in_scope(user)
        .filter(is_party_member=True)
        .select_related("party_registered_community")[:LIMIT]
        if organising
        else []
    )
    everywhere = _all_communities() if me is not None and me.is_party_member else []
    if not organising and not everywhere and not policy.has_any(user, "person"):
        raise PermissionDenied

    def staff_form(data: Any = None) -> PartyRegisterForm:
        return PartyRegisterForm(
            data,
            people=[(p.pk, queries.person_label(p)) for p in staff_people],
            communities=[(c.pk, c.name) for c in organising],
            auto_id="staff_%s",
        )

    def self_form(data: Any = None) -> PartyRegisterForm:
        return PartyRegisterForm(
            data,
            communities=[(c.pk, _community_label(c)) for c in everywhere],
            staff=False,
            auto_id="self_%s",
            initial={"community": me.party_registered_community_id if me else None},
        )

    forms_: dict[str, PartyRegisterForm | None] = {
        "staff": staff_form() if organising else None,
        "self": self_form() if everywhere else None,
    }
    status = 200
    if request.method == "POST":
        who = request.POST.get("who")
        if who not in forms_ or forms_[who] is None:
            raise PermissionDenied
        form = staff_form(request.POST) if who == "staff" else self_form(request.POST)
        forms_[who] = form
        if form.is_valid():
            data = form.cleaned_data
            places = {c.pk: c for c in (organising if who == "staff" else everywhere)}
            person: Person | None = (
                next(p for p in staff_people if p.pk == data["person"]) if who == "staff" else me
            )
            assert person is not None
            try:
                actions.register_party_member(user, person, places[data["community"]])
            except ValidationError as error:
                form_errors(form, error)
            else:
                messages.success(
                    request,
                    _("%(name)s is registered with %(community)s.")
                    % {"name": person.name, "community": places[data["community"]].name},
                )
                url = reverse("party-register")
                return redirect(f"{url}?community={data['community']}")
        status = 400
    visible = list(policy.scope(user, "area").filter(level=Area.Level.COMMUNITY).order_by("path")[:LIMIT])
    chosen = _int(request.GET.get("community"))
    community = next((c for c in visible if c.pk == chosen), None)
    if community is None and visible:
        community = visible[0]
    return page(
        request,
        "volunteers/party.html",
        {
            "me": me,
            "staff_form": forms_["staff"],
            "self_form": forms_["self"],
            "communities": visible,
            "community": community,
            "members": queries.registered_members(user, community) if community else [],
        },
        status=status,
    )
