"""The permission policy: the one place that decides what a user may see and do.

Two questions, one answer table:

* ``scope(user, kind, action)`` — the queryset of objects of ``kind`` the user may act on;
* ``can(user, action, obj)`` — whether the user may act on that one object.

Every page, API response and export starts from ``scope``. A role is granted on a node (an
area, a compound or a member unit) and reaches everything below that node. ``RULES`` says
which actions each role has on each kind of object; ``_node_filter`` says which objects lie
below a node. A user with several grants gets the union.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import Http404

from gongzhi.consultations.models import Consultation, Opinion, ScopeItem
from gongzhi.core.models import AuditEvent
from gongzhi.core.paths import under
from gongzhi.decisions.models import Decision
from gongzhi.housing.models import (
    Building,
    Compound,
    CompoundGrid,
    Entrance,
    Owner,
    Ownership,
    Resident,
    ServiceChannel,
    Unit,
)
from gongzhi.meetings.models import ActionItem, Invitee, Meeting
from gongzhi.orgs.models import Area, Membership, Organisation, Person, Role, RoleGrant
from gongzhi.projects.models import Project
from gongzhi.tickets.models import Notification, Task, Ticket
from gongzhi.volunteers.models import Activity, Post

VIEW, CHANGE, EXPORT, REVEAL, IMPORT, MANAGE = "view", "change", "export", "reveal", "import", "manage"
ACTIONS = (VIEW, CHANGE, EXPORT, REVEAL, IMPORT, MANAGE)

# Object kinds the policy knows, by name.
KINDS: dict[str, type[Model]] = {
    "area": Area,
    "compound": Compound,
    "building": Building,
    "entrance": Entrance,
    "unit": Unit,
    "owner": Owner,
    "ownership": Ownership,
    "resident": Resident,
    "organisation": Organisation,
    "membership": Membership,
    "person": Person,
    "channel": ServiceChannel,
    "audit": AuditEvent,
    "rolegrant": RoleGrant,
    "ticket": Ticket,
    "task": Task,
    "notification": Notification,
    "consultation": Consultation,
    "opinion": Opinion,
    "decision": Decision,
    "meeting": Meeting,
    "actionitem": ActionItem,
    "project": Project,
    "activity": Activity,
    "post": Post,
}
KIND_OF_MODEL = {model: name for name, model in KINDS.items()}

REGISTRY = ("compound", "building", "entrance", "unit", "ownership")
PERSONAL = ("owner", "resident")
ORGS = ("organisation", "membership", "person")
ALL_KINDS = tuple(KINDS)


def _grant(kinds: Iterable[str], actions: Iterable[str]) -> dict[str, frozenset[str]]:
    return {kind: frozenset(actions) for kind in kinds}


def _merge(*parts: dict[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    merged: dict[str, frozenset[str]] = {}
    for part in parts:
        for kind, actions in part.items():
            merged[kind] = merged.get(kind, frozenset()) | actions
    return merged


# Resident requests: the desk (grid, community, town, county, joint branch) coordinates them;
# member units see and act on only their own tasks; residents see what they reported.
_DESK_TICKETS = _grant(("ticket",), (VIEW, CHANGE, EXPORT, REVEAL))
_VIEW_TASKS = _grant(("task",), (VIEW, EXPORT))
_INBOX = _grant(("notification",), (VIEW, CHANGE))
# Owners' decisions: area staff, the owners' committee and the party branch prepare and run
# them (grid workers collect ballots door to door); residents see their compound's.
_RUN_VOTES = _grant(("decision",), (VIEW, CHANGE, EXPORT))

_STAFF = _merge(
    _RUN_VOTES,
    _DESK_TICKETS,
    _VIEW_TASKS,
    _INBOX,
    _grant(("area",), (VIEW, EXPORT)),
    _grant(REGISTRY + PERSONAL + ("channel",), (VIEW, CHANGE, EXPORT, IMPORT)),
    _grant(PERSONAL, (REVEAL,)),
    _grant(ORGS, (VIEW, CHANGE, EXPORT)),
    _grant(("person",), (REVEAL,)),
    _grant(("audit",), (VIEW, EXPORT)),
    _grant(("rolegrant",), (VIEW,)),
)

# role -> kind -> actions. A kind not listed is invisible to the role.
RULES: dict[str, dict[str, frozenset[str]]] = {
    Role.COUNTY_ADMIN: _merge(_grant(ALL_KINDS, ACTIONS)),
    Role.TOWN_STAFF: _STAFF,
    Role.COMMUNITY_STAFF: _merge(_STAFF, _grant(("rolegrant",), (CHANGE,))),
    Role.GRID_WORKER: _merge(
        _grant(("decision",), (VIEW, CHANGE)),
        _DESK_TICKETS,
        _VIEW_TASKS,
        _INBOX,
        _grant(("area",), (VIEW,)),
        _grant(REGISTRY + ("channel",), (VIEW, EXPORT)),
        _grant(("channel",), (CHANGE,)),
        # Grid workers go door to door: they keep the household records and may call people.
        _grant(PERSONAL, (VIEW, CHANGE, REVEAL, EXPORT)),
        _grant(ORGS, (VIEW,)),
    ),
    Role.BRANCH_SECRETARY: _merge(
        _grant(("decision",), (VIEW, CHANGE)),
        # The joint branch verifies on site and follows up in its compounds.
        _grant(("ticket",), (VIEW, CHANGE, EXPORT)),
        _VIEW_TASKS,
        _INBOX,
        _grant(("area",), (VIEW,)),
        _grant(REGISTRY + ("channel",), (VIEW,)),
        _grant(PERSONAL, (VIEW,)),
        _grant(ORGS, (VIEW,)),
    ),
    Role.COMMITTEE_MEMBER: _merge(
        _RUN_VOTES,
        _grant(("ticket", "task"), (VIEW,)),
        _INBOX,
        _grant(("area",), (VIEW,)),
        _grant(REGISTRY + ("channel",), (VIEW,)),
        _grant(("owner",), (VIEW,)),
        _grant(ORGS, (VIEW,)),
    ),
    Role.UNIT_LIAISON: _merge(
        _grant(("ticket",), (VIEW, EXPORT)),
        _grant(("task",), (VIEW, CHANGE, EXPORT)),
        _INBOX,
        _grant(("area",), (VIEW,)),
        _grant(("organisation", "membership"), (VIEW, CHANGE)),
    ),
    Role.VOLUNTEER: _merge(
        _grant(("decision",), (VIEW,)),
        _INBOX,
        _grant(("area",), (VIEW,)),
        _grant(("compound", "building", "channel"), (VIEW,)),
        _grant(("organisation",), (VIEW,)),
    ),
    Role.RESIDENT: _merge(
        _grant(("ticket", "decision"), (VIEW,)),
        _INBOX,
        _grant(("area", "compound", "building", "channel"), (VIEW,)),
        _grant(("unit", "entrance", "ownership", "resident", "owner"), (VIEW,)),
        _grant(("resident",), (CHANGE,)),
        _grant(("organisation",), (VIEW,)),
    ),
}

# ---- consultations (征求意见) -------------------------------------------------------------
# Area staff organise consultations (MANAGE: open, close, assign and publish replies); grid
# workers and the joint branch go door to door (CHANGE: record responses, raise opinions);
# the owners' committee and member units draft replies to the opinions assigned to them.
# Residents answer through their slip's code on the public pages, not through a role.
_CONSULT_ORGANISE = _grant(("consultation", "opinion"), (VIEW, CHANGE, EXPORT, MANAGE))
_CONSULT_FIELD = _merge(
    _grant(("consultation",), (VIEW, CHANGE, EXPORT)), _grant(("opinion",), (VIEW, CHANGE))
)
_CONSULT_ANSWER = _merge(_grant(("consultation",), (VIEW,)), _grant(("opinion",), (VIEW, CHANGE)))
for _role, _extra in {
    Role.TOWN_STAFF: _CONSULT_ORGANISE,
    Role.COMMUNITY_STAFF: _CONSULT_ORGANISE,
    Role.GRID_WORKER: _CONSULT_FIELD,
    Role.BRANCH_SECRETARY: _CONSULT_FIELD,
    Role.COMMITTEE_MEMBER: _CONSULT_ANSWER,
    Role.UNIT_LIAISON: _CONSULT_ANSWER,
}.items():
    RULES[_role] = _merge(RULES[_role], _extra)
# ---- end consultations ----------------------------------------------------------------------

# ---- meetings (联席会议, 红色议事厅) ------------------------------------------------------------
# MANAGE: convene, announce, sign off the minutes (area staff; the joint branch and the owners'
# committee for their compound). CHANGE on a meeting: run it — sign-in, minutes, resolutions.
# CHANGE on an action item: report progress and completion (the responsible member unit too).
_MEETINGS_CONVENE = _merge(
    _grant(("meeting",), (VIEW, CHANGE, EXPORT, MANAGE)), _grant(("actionitem",), (VIEW, CHANGE, EXPORT))
)
for _role, _extra in {
    Role.TOWN_STAFF: _MEETINGS_CONVENE,
    Role.COMMUNITY_STAFF: _MEETINGS_CONVENE,
    Role.BRANCH_SECRETARY: _MEETINGS_CONVENE,
    Role.COMMITTEE_MEMBER: _MEETINGS_CONVENE,
    Role.GRID_WORKER: _merge(_grant(("meeting",), (VIEW, CHANGE)), _grant(("actionitem",), (VIEW,))),
    Role.UNIT_LIAISON: _merge(_grant(("meeting",), (VIEW,)), _grant(("actionitem",), (VIEW, CHANGE))),
    Role.VOLUNTEER: _grant(("meeting", "actionitem"), (VIEW,)),
    Role.RESIDENT: _grant(("meeting", "actionitem"), (VIEW,)),
}.items():
    RULES[_role] = _merge(RULES[_role], _extra)
# ---- end meetings ---------------------------------------------------------------------------

# ---- community projects and volunteers -------------------------------------------------------
# Projects: area staff start and steer them (MANAGE: start, move, reverse entries, set the
# levy, rate contributions); the joint branch, the owners' committee and grid workers run them
# (CHANGE: record income, submit and pay expenses, milestones, disputes, shifts, answers).
# Approving an expense is not a role but a seat: a member of the project's committee or
# branch (``projects.ledger.approvers``). Everyone in the compound sees its projects.
# Activities and posts: area staff and the joint branch organise them (MANAGE); grid workers
# keep attendance at the desk (CHANGE); everyone else sees them and signs up.
_PROJECT_RUN = _grant(("project",), (VIEW, CHANGE, EXPORT))
_VOLUNTEER_ORGANISE = _grant(("activity", "post"), (VIEW, CHANGE, EXPORT, MANAGE))
for _role, _extra in {
    Role.TOWN_STAFF: _merge(_grant(("project",), (VIEW, CHANGE, EXPORT, MANAGE)), _VOLUNTEER_ORGANISE),
    Role.COMMUNITY_STAFF: _merge(_grant(("project",), (VIEW, CHANGE, EXPORT, MANAGE)), _VOLUNTEER_ORGANISE),
    Role.BRANCH_SECRETARY: _merge(_PROJECT_RUN, _VOLUNTEER_ORGANISE),
    Role.COMMITTEE_MEMBER: _merge(_PROJECT_RUN, _grant(("activity", "post"), (VIEW,))),
    Role.GRID_WORKER: _grant(("project", "activity", "post"), (VIEW, CHANGE)),
    Role.UNIT_LIAISON: _grant(("project", "activity"), (VIEW,)),
    Role.VOLUNTEER: _grant(("project", "activity", "post"), (VIEW,)),
    Role.RESIDENT: _grant(("project", "activity", "post"), (VIEW,)),
}.items():
    RULES[_role] = _merge(RULES[_role], _extra)
# ---- end community projects and volunteers ---------------------------------------------------

# Roles whose grant sits on a compound, an area or a member unit.
COMPOUND_ROLES = frozenset({Role.BRANCH_SECRETARY, Role.COMMITTEE_MEMBER, Role.VOLUNTEER, Role.RESIDENT})
AREA_ROLES = frozenset(
    {Role.COUNTY_ADMIN, Role.TOWN_STAFF, Role.COMMUNITY_STAFF, Role.GRID_WORKER, Role.VOLUNTEER}
)
UNIT_ROLES = frozenset({Role.UNIT_LIAISON})
ROLE_LEVEL = {
    Role.COUNTY_ADMIN: Area.Level.COUNTY,
    Role.TOWN_STAFF: Area.Level.TOWN,
    Role.COMMUNITY_STAFF: Area.Level.COMMUNITY,
    Role.GRID_WORKER: Area.Level.GRID,
}


def active_grants(user: Any) -> list[RoleGrant]:
    """The user's unrevoked grants, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_gongzhi_grants", None)
    if cached is None:
        cached = list(
            RoleGrant.objects.filter(user=user, revoked_at__isnull=True).select_related(
                "area", "compound", "organisation"
            )
        )
        user._gongzhi_grants = cached
    return cached


def roles_of(user: Any) -> set[str]:
    return {grant.role for grant in active_grants(user)}


def allows(role: str, kind: str, action: str) -> bool:
    return action in RULES.get(role, {}).get(kind, frozenset())


def _compounds_under_area(area: Area) -> Q:
    """Compounds in an area's subtree: by community path, or through a grid link for grids."""
    if area.level == Area.Level.GRID:
        linked = CompoundGrid.objects.filter(under("grid__path", area.path)).values("compound_id")
        return Q(id__in=linked)
    return under("area_path", area.path)


def _compound_ids_for(grant: RoleGrant) -> Q | None:
    """Q over Compound for the compounds a grant covers (None: none at all)."""
    if grant.compound_id:
        return Q(id=grant.compound_id)
    if grant.area is not None:
        return _compounds_under_area(grant.area)
    return None


# For each kind below a compound: the lookup from that kind to its compound's id.
_COMPOUND_LOOKUP = {
    "compound": "id",
    "building": "compound_id",
    "entrance": "building__compound_id",
    "unit": "compound_id",
    "ownership": "unit__compound_id",
    "resident": "unit__compound_id",
    "channel": "compound_id",
    "decision": "compound_id",
}


def _resident_self_filter(kind: str, user: Any, grant: RoleGrant) -> Q:
    """A resident sees only their own household and the units they live in or own."""
    unit_ids = list(
        Unit.objects.filter(compound=grant.compound)
        .filter(Q(residents__user=user, residents__moved_out__isnull=True) | Q(ownerships__owner__user=user))
        .values_list("id", flat=True)
        .distinct()
    )
    if kind == "unit":
        return Q(id__in=unit_ids)
    if kind == "entrance":
        return Q(units__id__in=unit_ids)
    if kind in ("resident", "ownership"):
        return Q(unit_id__in=unit_ids)
    if kind == "owner":
        return Q(ownerships__unit_id__in=unit_ids)
    return Q(pk__in=[])


def _orgs_filter(grant: RoleGrant, action: str) -> Q:
    """Q over Organisation for a grant. Member units — the county's public bodies — are
    visible to every role, but only a unit's own liaison acts on one."""
    member_units = Q(kind=Organisation.Kind.MEMBER_UNIT) if action == VIEW else Q(pk__in=[])
    if grant.organisation_id:
        return Q(id=grant.organisation_id) | member_units
    compounds = Compound.objects.filter(_compound_ids_for(grant) or Q(pk__in=[])).values("id")
    of_compounds = (
        Q(compound__in=compounds)
        | Q(covered_compounds__in=compounds)
        | Q(covered_buildings__compound__in=compounds)
    )
    if grant.area is None:
        return member_units | of_compounds
    return member_units | of_compounds | under("area__path", grant.area.path)


def _member_orgs(grant: RoleGrant, action: str) -> QuerySet[Any, Any]:
    """Organisations whose members a grant reaches: its own orgs, plus the member units'
    liaisons for area staff, who coordinate with them (view only)."""
    orgs = _orgs_filter(grant, action)
    if grant.compound_id:
        orgs &= ~Q(kind=Organisation.Kind.MEMBER_UNIT)
    return Organisation.objects.filter(orgs).values("id")


def _ticket_filter(kind: str, grant: RoleGrant, user: Any) -> Q | None:
    """Q over Ticket or Task for a grant: by area path, compound, the unit's own tasks, or
    (for residents) the requests they reported or joined."""
    prefix = "" if kind == "ticket" else "ticket__"
    if grant.role == Role.RESIDENT:
        mine = Q(reporter_user=user) | Q(id__in=Ticket.objects.filter(supporters__user=user).values("id"))
        return mine if kind == "ticket" else None
    if grant.organisation_id:
        if kind == "task":
            return Q(unit_id=grant.organisation_id)
        return Q(id__in=Task.objects.filter(unit_id=grant.organisation_id).values("ticket_id"))
    if grant.area is not None:
        # Tasks carry a copy of their ticket's path, so both are one indexed range.
        return under("area_path", grant.area.path)
    if grant.compound_id:
        return Q(**{prefix + "compound_id": grant.compound_id})
    return None


def _consultation_filter(kind: str, grant: RoleGrant, action: str) -> Q | None:
    """Q over Consultation or Opinion for a grant.

    A consultation is reached through the compounds in its scope, so a town-wide round
    reaches a community's staff and grid workers for their own compounds; only an area that
    holds the whole consultation organises it (MANAGE). An opinion is reached by the place it
    comes from. A member unit reaches the opinions assigned to it (and their consultations);
    an owners' committee sees its compound's opinions and answers those assigned to it.
    """
    if grant.organisation_id:
        if kind == "opinion":
            return Q(assignee_id=grant.organisation_id)
        return Q(id__in=Opinion.objects.filter(assignee_id=grant.organisation_id).values("consultation_id"))
    covered = _compound_ids_for(grant)
    if covered is None:
        return None
    compounds = Compound.objects.filter(covered).values("id")
    area_wide = grant.area is not None and grant.area.level != Area.Level.GRID
    if kind == "opinion":
        q = Q(compound_id__in=compounds)
        if area_wide:
            q |= under("area_path", grant.area.path)  # type: ignore[union-attr]
        if grant.role == Role.COMMITTEE_MEMBER and action != VIEW:
            q &= Q(assignee__compound_id=grant.compound_id)
        return q
    if action == MANAGE:
        return under("area_path", grant.area.path) if area_wide else None  # type: ignore[union-attr]
    q = Q(id__in=ScopeItem.objects.filter(compound_id__in=compounds).values("consultation_id"))
    if area_wide:
        q |= under("area_path", grant.area.path)  # type: ignore[union-attr]
    return q


def _meeting_filter(kind: str, grant: RoleGrant) -> Q | None:
    """Q over Meeting or ActionItem for a grant.

    Area staff reach the meetings of their subtree; compound roles their compound's; a
    member unit the meetings it is invited to (view) and the action items given to it.
    """
    if grant.organisation_id:
        if kind == "actionitem":
            return Q(assignee_org_id=grant.organisation_id)
        invited = Invitee.objects.filter(organisation_id=grant.organisation_id).values("meeting_id")
        return Q(id__in=invited) | Q(convener_id=grant.organisation_id)
    if grant.area is not None:
        if grant.area.level == Area.Level.GRID:
            covered = _compounds_under_area(grant.area)
            return Q(compound__in=Compound.objects.filter(covered).values("id"))
        # Also what reaches the area's own bodies: a town's joint meeting that invites a
        # community, and the action items it gives the community.
        if kind == "actionitem":
            return under("area_path", grant.area.path) | under("assignee_org__area__path", grant.area.path)
        return under("area_path", grant.area.path) | Q(
            id__in=Invitee.objects.filter(under("organisation__area__path", grant.area.path)).values(
                "meeting_id"
            )
        )
    if grant.compound_id:
        return Q(compound_id=grant.compound_id)
    return None


def _project_filter(kind: str, grant: RoleGrant) -> Q | None:
    """Q over Project, Activity or Post for a grant.

    Area staff reach their subtree (a grid: the projects and activities of its compounds);
    compound roles their compound's projects and its community's activities and posts; a
    member unit the projects it takes part in and the activities it organises.
    """
    if grant.organisation_id:
        if kind == "project":
            return Q(member_units=grant.organisation_id)
        return Q(organiser_id=grant.organisation_id) if kind == "activity" else None
    if grant.area is not None:
        if grant.area.level == Area.Level.GRID:
            compounds = Compound.objects.filter(_compounds_under_area(grant.area)).values("id")
            return Q(compounds__in=compounds) if kind == "project" else Q(compound__in=compounds)
        return under("area_path", grant.area.path)
    if grant.compound_id:
        if kind == "project":
            return Q(compounds=grant.compound_id)
        return Q(compound_id=grant.compound_id) | Q(
            compound__isnull=True,
            community_id=grant.compound.community_id,  # type: ignore[union-attr]
        )
    return None


def _node_filter(kind: str, grant: RoleGrant, user: Any, action: str = VIEW) -> Q | None:
    """Q over ``kind`` for the objects below the grant's node; None when nothing is."""
    if kind in ("project", "activity", "post"):
        return _project_filter(kind, grant)
    if kind in ("meeting", "actionitem"):
        return _meeting_filter(kind, grant)
    if kind in ("ticket", "task"):
        return _ticket_filter(kind, grant, user)
    if kind in ("consultation", "opinion"):
        return _consultation_filter(kind, grant, action)
    if kind == "notification":
        return Q(recipient=user)
    if grant.role == Role.RESIDENT and kind in ("unit", "entrance", "resident", "ownership", "owner"):
        return _resident_self_filter(kind, user, grant)

    if kind == "area":
        if grant.area is not None:
            return under("path", grant.area.path)
        if grant.compound is not None:
            return Q(id=grant.compound.community_id) | Q(compound_links__compound_id=grant.compound.pk)
        return Q(level__in=[Area.Level.COUNTY, Area.Level.TOWN])

    if kind == "organisation":
        return _orgs_filter(grant, action)

    if kind == "membership":
        if grant.organisation_id:
            return Q(organisation_id=grant.organisation_id)
        return Q(organisation__in=_member_orgs(grant, action))

    if kind == "person":
        if grant.organisation_id:
            return Q(memberships__organisation_id=grant.organisation_id)
        in_orgs = Q(
            id__in=Membership.objects.filter(organisation__in=_member_orgs(grant, action)).values("person_id")
        )
        if grant.area is not None:
            return in_orgs | under("home_area__path", grant.area.path)
        return in_orgs

    if kind == "audit":
        if grant.area is not None:
            if grant.area.level == Area.Level.COUNTY:
                # Sign-ins and county-wide exports carry no area: the county sees them too.
                return under("area_path", grant.area.path) | Q(area_path="")
            return under("area_path", grant.area.path)
        return None

    if kind == "rolegrant":
        if grant.area is not None:
            return (
                under("area__path", grant.area.path)
                | Q(compound__in=Compound.objects.filter(_compounds_under_area(grant.area)).values("id"))
                | under("organisation__area__path", grant.area.path)
            )
        return Q(user=user)

    compounds = _compound_ids_for(grant)
    if compounds is None:
        return None
    if kind == "owner":
        units = Unit.objects.filter(compound__in=Compound.objects.filter(compounds).values("id"))
        return Q(id__in=Ownership.objects.filter(unit__in=units.values("id")).values("owner_id"))
    lookup = _COMPOUND_LOOKUP[kind]
    if lookup == "id":
        return compounds
    return Q(**{f"{lookup}__in": Compound.objects.filter(compounds).values("id")})


def _kind_name(kind: str | type[Model]) -> str:
    if isinstance(kind, str):
        if kind not in KINDS:
            raise ValueError(f"unknown object kind {kind!r}")
        return kind
    return KIND_OF_MODEL[kind]


def scope(user: Any, kind: str | type[Model], action: str = VIEW) -> QuerySet:
    """Objects of ``kind`` that ``user`` may perform ``action`` on, as a queryset.

    Anonymous users get nothing; superusers get everything; everyone else gets the union of
    what each of their role grants reaches.
    """
    name = _kind_name(kind)
    model = KINDS[name]
    manager = model._default_manager
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated or not user.is_active:
        return manager.none()
    if user.is_superuser:
        return manager.all()
    combined: Q | None = None
    for grant in active_grants(user):
        if not allows(grant.role, name, action):
            continue
        node = _node_filter(name, grant, user, action)
        if node is None:
            continue
        combined = node if combined is None else combined | node
    if name in ("activity", "post") and action == VIEW:
        # A serving party member registered with a community (双报到) sees its activities and
        # its needs list, whatever their grants — that is where they take part.
        registered = registered_community_id(user)
        if registered is not None:
            mine = Q(community_id=registered)
            combined = mine if combined is None else combined | mine
    if combined is None:
        return manager.none()
    qs = manager.filter(combined)
    # Filters through to-many relations can repeat rows; keep a distinct, id-ordered set.
    if name in ("organisation", "owner", "entrance", "area", "person", "project"):
        qs = manager.filter(pk__in=qs.values("pk"))
    return qs


def registered_community_id(user: Any) -> int | None:
    """The community the user's person record is registered with as a party member."""
    cached = getattr(user, "_gongzhi_registered", False)
    if cached is False:
        cached = (
            Person.objects.filter(user=user, is_party_member=True, party_registered_community__isnull=False)
            .values_list("party_registered_community_id", flat=True)
            .first()
        )
        user._gongzhi_registered = cached
    return cached


def can(user: Any, action: str, obj: Model) -> bool:
    """May ``user`` perform ``action`` on ``obj``?"""
    return scope(user, type(obj), action).filter(pk=obj.pk).exists()


def require(user: Any, action: str, obj: Model) -> None:
    """Raise PermissionDenied unless ``can(user, action, obj)``."""
    if not can(user, action, obj):
        raise PermissionDenied


def has_any(user: Any, kind: str | type[Model], action: str = VIEW) -> bool:
    """Whether any grant of the user allows ``action`` on ``kind`` at all (for menus)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    name = _kind_name(kind)
    return any(allows(grant.role, name, action) for grant in active_grants(user))


def get_or_404(user: Any, kind: str | type[Model], action: str = VIEW, **lookup: Any) -> Any:
    """Fetch one object through the policy: 404 when it does not exist, 403 when out of scope."""
    name = _kind_name(kind)
    model = KINDS[name]
    try:
        obj = model._default_manager.get(**lookup)
    except (model.DoesNotExist, OverflowError):  # type: ignore[attr-defined]
        # An id beyond the column's range cannot exist (SQLite raises instead of matching none).
        raise Http404 from None
    if scope(user, name, VIEW).filter(pk=obj.pk).exists() and (action == VIEW or can(user, action, obj)):
        return obj
    raise PermissionDenied


def can_within(user: Any, kind: str, action: str, compound: Compound) -> bool:
    """May ``user`` perform ``action`` on objects of ``kind`` inside ``compound`` — including
    objects not created yet (a poster to issue, a unit to import)?"""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    for grant in active_grants(user):
        if not allows(grant.role, kind, action):
            continue
        covered = _compound_ids_for(grant)
        if covered is not None and Compound.objects.filter(covered, pk=compound.pk).exists():
            return True
    return False


def scoped_areas(user: Any) -> QuerySet[Area]:
    return scope(user, "area", VIEW)


def area_roots(user: Any) -> list[Area]:
    """The highest areas the user's grants reach (for default filters and dashboards)."""
    if getattr(user, "is_superuser", False):
        return list(Area.objects.filter(parent__isnull=True))
    roots: list[Area] = []
    for grant in active_grants(user):
        if grant.area is not None:
            roots.append(grant.area)
        elif grant.compound is not None:
            roots.append(grant.compound.community)
    roots.sort(key=lambda a: a.path)
    kept: list[Area] = []
    for area in roots:
        if not any(area.path.startswith(k.path) for k in kept):
            kept.append(area)
    return kept
