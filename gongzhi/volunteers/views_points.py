"""Hours and points: my volunteering, a person's ledger with bonuses, deductions and
redemptions, and the branch boards ranking members by hours. Hours and points are separate
balances and are always shown side by side: redeeming points never reduces hours."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.orgs import policy
from gongzhi.orgs.models import Organisation, Person
from gongzhi.volunteers import actions, queries
from gongzhi.volunteers.forms import AdjustPointsForm
from gongzhi.volunteers.models import PointsEntry
from gongzhi.volunteers.views import form_errors, page


@login_required
def me(request: HttpRequest) -> HttpResponse:
    """My hours (in total and per activity), my points and their entries, my sign-ups and
    the posts I hold."""
    person = actions.person_of(request.user)
    return page(
        request,
        "volunteers/me.html",
        {
            "person": person,
            "balances": queries.balances(person),
            "hours": queries.hours_entries(person) if person else [],
            "entries": queries.points_entries(person) if person else [],
            "posts": queries.posts_held(person),
            "signups": queries.my_signups(person, timezone.now()),
            "K": PointsEntry.Kind,
        },
    )


def _person_for_staff(user: Any, pk: int) -> tuple[Person, bool]:
    """The person, and whether the user may adjust their points; 403 for people the user
    neither looks after nor sees."""
    person = Person.objects.select_related("home_area", "party_registered_community").filter(pk=pk).first()
    if person is None:
        raise Http404
    may_adjust = actions.may_adjust_points(user, person)
    if not may_adjust and not policy.scope(user, "person").filter(pk=person.pk).exists():
        raise PermissionDenied
    return person, may_adjust


@login_required
def person_points(request: HttpRequest, pk: int) -> HttpResponse:
    """A person's hours and points ledger for the community staff; those who look after the
    person give a bonus, deduct or redeem points here, each with reason and evidence."""
    user = request.user
    person, may_adjust = _person_for_staff(user, pk)
    form = AdjustPointsForm(request.POST or None) if may_adjust else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                entry = actions.adjust_points(
                    user,
                    person,
                    kind=data["kind"],
                    points=data["points"],
                    reason=data["reason"],
                    evidence=data["evidence"],
                )
            except ValidationError as error:
                form_errors(form, error)
            else:
                messages.success(
                    request,
                    _("%(kind)s of %(points)s points recorded; the balance is now %(balance)s.")
                    % {
                        "kind": entry.get_kind_display(),
                        "points": abs(entry.points),
                        "balance": entry.balance_after,
                    },
                )
                return redirect("volunteer-person", pk=person.pk)
    return page(
        request,
        "volunteers/person.html",
        {
            "person": person,
            "balances": queries.balances(person),
            "hours": queries.hours_entries(person),
            "entries": queries.points_entries(person),
            "posts": queries.posts_held(person),
            "form": form,
            "K": PointsEntry.Kind,
        },
        status=400 if form is not None and form.errors else 200,
    )


@login_required
def board(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Members of a joint branch ranked by volunteer hours, with points and party
    membership; printable. Without a branch: the branches to choose from."""
    user = request.user
    if not policy.has_any(user, "membership"):
        raise PermissionDenied
    branches = queries.branch_choices(user)
    chosen = request.GET.get("branch", "")
    if pk is None and chosen.isdigit():
        return redirect("volunteer-board-branch", pk=int(chosen))
    branch = None
    rows: list[queries.BoardRow] = []
    if pk is not None:
        found = Organisation.objects.filter(pk=pk).first()
        if found is None or found.kind != Organisation.Kind.JOINT_BRANCH:
            raise Http404
        branch = branches.filter(pk=found.pk).first()
        if branch is None:
            raise PermissionDenied
        rows = queries.board_rows(user, branch)
    return page(
        request,
        "volunteers/board.html",
        {
            "branch": branch,
            "branches": list(branches[: queries.CHOICES_LIMIT]),
            "rows": rows,
            "now": timezone.now(),
        },
    )
