"""Sign-in, the per-role home page, the audit log, error pages and the public QR landing."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from gongzhi.core import ratelimit
from gongzhi.core.audit import client_ip
from gongzhi.core.models import AuditEvent
from gongzhi.coverage.compute import compute_coverage
from gongzhi.housing.models import Compound, ServiceChannel
from gongzhi.meetings.queries import open_action_items_for
from gongzhi.meetings.views_warnings import hot_issues_summary
from gongzhi.orgs import policy
from gongzhi.orgs.models import Organisation, Role, RoleGrant


class RateLimitedLoginView(auth_views.LoginView):
    """Django's login, refusing further attempts from one address or for one account name
    after ``GONGZHI_LOGIN_RATE`` failures within the window."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        limit, window = settings.GONGZHI_LOGIN_RATE
        username = (request.POST.get("username") or "").strip().lower()
        idents = [("login-ip", client_ip(request) or "?"), ("login-user", username)]
        if any(ratelimit.is_blocked(scope, ident, limit) for scope, ident in idents):
            form = self.get_form()
            form.errors.clear()
            form.add_error(
                None,
                _("Too many sign-in attempts. Please wait %(minutes)d minutes and try again.")
                % {"minutes": window // 60},
            )
            return self.render_to_response(self.get_context_data(form=form), status=429)
        response = super().post(request, *args, **kwargs)
        if request.user.is_authenticated:
            ratelimit.reset("login-user", username)
        else:
            for scope, ident in idents:
                ratelimit.hit(scope, ident, limit, window)
        return response


def _grant_rows(user: Any) -> list[RoleGrant]:
    return sorted(policy.active_grants(user), key=lambda g: g.role)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """What needs this user's attention, by role: coverage gaps for area staff, their
    compound for branch and committee people, their unit for a liaison, their household for
    a resident."""
    user = request.user
    roles = policy.roles_of(user) | ({Role.COUNTY_ADMIN} if user.is_superuser else set())
    context: dict[str, Any] = {"grants": _grant_rows(user), "roles": roles}
    area_roles = roles & {Role.COUNTY_ADMIN, Role.TOWN_STAFF, Role.COMMUNITY_STAFF, Role.GRID_WORKER}
    compounds = policy.scope(user, "compound")
    if area_roles:
        report = compute_coverage(compounds)
        context["coverage"] = report
        context["top_gaps"] = report.gaps[:8]
        context["counts"] = {
            "compounds": compounds.filter(unmanaged=True).count(),
            "units": policy.scope(user, "unit").count(),
            "households": compounds.aggregate(n=Sum("households_count"))["n"] or 0,
        }
    compound_grants = [g for g in policy.active_grants(user) if g.compound_id]
    if compound_grants:
        context["my_compounds"] = Compound.objects.filter(id__in=[g.compound_id for g in compound_grants])
    unit_grants = [g for g in policy.active_grants(user) if g.organisation_id]
    if unit_grants:
        context["my_units"] = Organisation.objects.filter(
            id__in=[g.organisation_id for g in unit_grants]
        ).prefetch_related("service_categories", "memberships__person")
    if Role.RESIDENT in roles:
        context["households"] = (
            policy.scope(user, "unit")
            .select_related("compound", "building", "entrance")
            .prefetch_related("residents")
        )
    context["requests"] = _request_counts(user)
    if policy.has_any(user, "meeting", policy.MANAGE):
        context["hot_issues"] = hot_issues_summary(user)
    if policy.has_any(user, "actionitem", policy.CHANGE):
        context["my_action_items"] = open_action_items_for(user)
    return render(request, "home.html", context)


def _request_counts(user: Any) -> dict[str, int] | None:
    """Requests waiting for this user: on the desk, or as a unit's tasks."""
    from gongzhi.tickets import workflow as W

    if policy.has_any(user, "ticket", policy.CHANGE):
        tickets = policy.scope(user, "ticket")
        return {
            "new": tickets.filter(state=W.State.REPORTED).count(),
            "to_dispatch": tickets.filter(state=W.State.ACCEPTED).count(),
            "to_verify": tickets.filter(state=W.State.REPLIED).count(),
            "to_follow_up": tickets.filter(state=W.State.CLOSED).count(),
            "overdue": tickets.filter(state__in=W.OPEN_STATES, overdue=True).count(),
        }
    if policy.has_any(user, "task", policy.CHANGE):
        tasks = policy.scope(user, "task", policy.CHANGE)
        return {
            "to_sign": tasks.filter(state=W.TaskState.DISPATCHED).count(),
            "working": tasks.filter(state__in=[W.TaskState.ACCEPTED, W.TaskState.IN_PROGRESS]).count(),
            "overdue": tasks.filter(state__in=W.ACTIVE_TASK_STATES, ticket__overdue=True).count(),
        }
    return None


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    """The audit events of the user's area subtree, newest first, keyset-paged."""
    events = policy.scope(request.user, "audit")
    kind = request.GET.get("kind")
    if kind in AuditEvent.Kind.values:
        events = events.filter(kind=kind)
    before = request.GET.get("before")
    qs = events.order_by("-id")
    if before and before.isdigit():
        qs = qs.filter(id__lt=int(before))
    rows = list(qs.select_related("actor")[:51])
    return render(
        request,
        "core/audit_log.html",
        {
            "events": rows[:50],
            "next_before": rows[49].id if len(rows) > 50 else None,
            "kinds": AuditEvent.Kind.choices,
            "kind": kind,
        },
    )


def public_channel(request: HttpRequest, token: str) -> HttpResponse:
    """Where a building's QR poster leads: who serves this building and how to reach them.

    Public, no sign-in: it shows organisations and masked contacts only, no residents."""
    channel = get_object_or_404(
        ServiceChannel.objects.select_related("compound", "building"), token=token, retired_at__isnull=True
    )
    compound = channel.compound
    orgs = (
        Organisation.objects.filter(dissolved_on__isnull=True)
        .filter(policy_q_for_compound(compound))
        .distinct()
        .order_by("kind")
    )
    grids = compound.grids.all()
    workers = RoleGrant.objects.filter(
        role=Role.GRID_WORKER, area__in=grids, revoked_at__isnull=True
    ).select_related("user__person", "area")
    hotline = compound.channels.filter(kind=ServiceChannel.Kind.HOTLINE, retired_at__isnull=True).first()
    return render(
        request,
        "core/public_channel.html",
        {
            "channel": channel,
            "compound": compound,
            "orgs": orgs,
            "workers": workers,
            "hotline": hotline,
        },
    )


def policy_q_for_compound(compound: Compound) -> Q:
    """Organisations serving a compound: its committee, and branches over it or its buildings."""
    return Q(compound=compound) | Q(covered_compounds=compound) | Q(covered_buildings__compound=compound)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", status=500)
