"""The access policy: the one place that decides who may see and do what.

Views, API views and services never test roles or agencies themselves; they ask here. Objects a
user may not see are filtered out of querysets (so they answer 404, never 403), and actions a
user may not take raise ``PermissionDenied`` from the service that would perform them.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Exists, F, Func, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from streha.access.models import AccessGrant, BreakGlassGrant, FieldGroup
from streha.accounts.models import Agency, AgencyKind, ApiToken, Role, RoleGrant, User

# Roles an agency administrator may not hand out: only system administrators make system
# administrators, so one compromised agency cannot take over the others.
ROLES_ONLY_SYSTEM_ADMIN_GRANTS = frozenset({Role.SYSTEM_ADMIN})


def is_system_admin(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.has_role(Role.SYSTEM_ADMIN)


def is_agency_admin(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.has_role(Role.AGENCY_ADMIN)


def can_administer_users(user: User) -> bool:
    return is_system_admin(user) or (is_agency_admin(user) and user.agency_id is not None)


def can_administer_agency(user: User, agency: Agency) -> bool:
    """May ``user`` manage the staff and API tokens of ``agency``?"""
    if is_system_admin(user):
        return True
    return is_agency_admin(user) and user.agency_id == agency.pk


def can_administer_user(actor: User, target: User) -> bool:
    """May ``actor`` change ``target``'s account (details, roles, factors, tokens acting as it)?

    Only within an agency ``actor`` administers, never their own account, and never an account
    holding a role ``actor`` could not grant (an agency administrator cannot take over a system
    administrator who happens to sit in their agency).
    """
    if target.agency is None or not can_administer_agency(actor, target.agency):
        return False
    if actor.pk == target.pk:
        # Nobody administers their own account: one's own roles, factors and tokens need
        # another administrator (see "Self-administration" below).
        return False
    return set(target.roles) <= set(grantable_roles(actor))


def can_manage_agencies(user: User) -> bool:
    """Creating and editing agencies themselves is for system administrators."""
    return is_system_admin(user)


def grantable_roles(user: User) -> list[str]:
    if is_system_admin(user):
        return list(Role.values)
    if is_agency_admin(user):
        return [role for role in Role.values if role not in ROLES_ONLY_SYSTEM_ADMIN_GRANTS]
    return []


def users_administrable_by(user: User) -> QuerySet[User]:
    """Accounts ``user`` may change or issue tokens for (see ``can_administer_user``)."""
    users = users_visible_to(user).exclude(pk=user.pk)
    if is_system_admin(user):
        return users
    protected = RoleGrant.objects.filter(role__in=ROLES_ONLY_SYSTEM_ADMIN_GRANTS).values("user_id")
    return users.exclude(pk__in=protected)


def users_visible_to(user: User) -> QuerySet[User]:
    """Staff accounts ``user`` may list: all for system admins, their agency for agency admins."""
    users = User.objects.select_related("agency").prefetch_related("role_grants")
    if is_system_admin(user):
        return users
    if is_agency_admin(user) and user.agency_id:
        return users.filter(agency_id=user.agency_id)
    return users.filter(pk=user.pk)


def staff_holding(agency_id: int, roles) -> QuerySet[User]:
    """The active human staff of ``agency_id`` holding one of ``roles`` by an approved grant not
    revoked: whom a notice or an assignment may reach. A pending or revoked grant gives nothing,
    and a service account is no one to notify."""
    holders = RoleGrant.objects.effective().filter(role__in=list(roles)).values("user_id")
    return User.objects.filter(
        agency_id=agency_id, is_active=True, is_service_account=False, pk__in=holders
    )


def api_tokens_visible_to(user: User) -> QuerySet[ApiToken]:
    tokens = ApiToken.objects.select_related("agency", "user", "created_by")
    if is_system_admin(user):
        return tokens
    if is_agency_admin(user) and user.agency_id:
        return tokens.filter(agency_id=user.agency_id)
    return tokens.none()


def agencies_visible_to(user: User) -> QuerySet[Agency]:
    """Every signed-in staff member may see the directory of agencies (to refer, to contact)."""
    if not user.is_authenticated:
        return Agency.objects.none()
    return Agency.objects.select_related("municipality__region")


# --- Self-administration and approvals of role grants ----------------------------------------
# Every role carries personal data (identities, the audit trail, pseudonymised records) or the
# power to approve such roles; so each grant made by a person waits for a second administrator
# (another agency administrator, or a system administrator). A role added to ``Role`` later is
# in this set unless someone removes it here, deliberately.
ROLES_NEEDING_APPROVAL = frozenset(Role.values)


def role_needs_approval(role: str) -> bool:
    return role in ROLES_NEEDING_APPROVAL


def can_approve_role_grant(actor: User, grant: RoleGrant) -> bool:
    """A second administrator: neither the one who asked nor the one who receives the role,
    and someone who could have granted that role to that user themselves."""
    return (
        grant.is_pending
        and actor.pk not in (grant.user_id, grant.granted_by_id)
        and grant.role in grantable_roles(actor)
        and can_administer_user(actor, grant.user)
    )


def can_revoke_role_grant(actor: User, grant: RoleGrant) -> bool:
    """Revoking (or refusing a pending grant) follows the same rule as granting; never one's
    own."""
    return (
        grant.revoked_at is None
        and grant.role in grantable_roles(actor)
        and can_administer_user(actor, grant.user)
    )


def role_grants_awaiting(actor: User) -> QuerySet[RoleGrant]:
    """Pending grants ``actor`` may approve (their own requests and grants excluded)."""
    users = users_administrable_by(actor).values("pk")
    return (
        RoleGrant.objects.pending()
        .filter(user_id__in=users, role__in=grantable_roles(actor))
        .exclude(granted_by_id=actor.pk)
        .select_related("user__agency", "granted_by")
        .order_by("granted_at", "pk")
    )


def require(allowed: bool, message: str | None = None) -> None:
    if not allowed:
        raise PermissionDenied(message or _("You are not allowed to do this."))


# --- Audit ------------------------------------------------------------------------------------


def can_audit(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.has_role(Role.AUDITOR)


def audits_nationally(user: User) -> bool:
    """Auditors of the national coordinator's office see every agency's events."""
    return (
        can_audit(user)
        and user.agency is not None
        and user.agency.kind == AgencyKind.NATIONAL_COORDINATOR
    )


def audit_events_visible_to(user: User):
    from streha.audit.models import AuditEvent

    if not can_audit(user):
        return AuditEvent.objects.none()
    if audits_nationally(user):
        return AuditEvent.objects.all()
    if user.agency_id is None:
        return AuditEvent.objects.none()
    # Their agency's events, and break-glass events of other agencies on persons it holds.
    from streha.audit.models import AuditSubject
    from streha.people.models import Person

    held = Person.objects.filter(owner_agency_id=user.agency_id).values("pk")
    about_held = AuditSubject.objects.filter(person_id__in=held).values("event_seq")
    return AuditEvent.objects.filter(
        Q(agency_id=user.agency_id) | Q(break_glass=True, seq__in=about_held)
    )


def break_glass_grants_visible_to(user: User):
    grants = BreakGlassGrant.objects.select_related("user__agency", "person", "reviewed_by")
    if not can_audit(user):
        return grants.none()
    if audits_nationally(user):
        return grants
    if user.agency_id is None:
        return grants.none()
    # The actor's agency's auditors, and those of the agency holding the record.
    return grants.filter(
        Q(user__agency_id=user.agency_id) | Q(person__owner_agency_id=user.agency_id)
    )


# --- Persons (protected data) -------------------------------------------------------------------

G = FieldGroup
# Which field groups each role needs for its work. Roles absent here (analyst, auditor,
# administrators) see no identities at all: analysts work on aggregates and pseudonymised
# records, auditors on the audit trail, administrators on accounts.
ROLE_FIELD_GROUPS: dict[str, frozenset[str]] = {
    Role.CASE_WORKER: frozenset({G.IDENTITY, G.CONTACT, G.HEALTH, G.NARRATIVE, G.PROTECTION}),
    Role.SUPERVISOR: frozenset({G.IDENTITY, G.CONTACT, G.HEALTH, G.NARRATIVE, G.PROTECTION}),
    Role.INVESTIGATOR: frozenset(
        {G.IDENTITY, G.CONTACT, G.NARRATIVE, G.INVESTIGATION, G.PROTECTION}
    ),
    Role.PROSECUTOR: frozenset({G.IDENTITY, G.NARRATIVE, G.INVESTIGATION, G.PROTECTION}),
    Role.HOTLINE_OPERATOR: frozenset({G.IDENTITY, G.CONTACT}),
}
# Roles that may change a person their agency owns, and open a subject-access export.
EDITING_ROLES = frozenset({Role.CASE_WORKER, Role.SUPERVISOR, Role.INVESTIGATOR})
EXPORTING_ROLES = frozenset({Role.SUPERVISOR})
BREAK_GLASS_ROLES = frozenset({Role.SUPERVISOR})


@dataclass(frozen=True)
class PersonAccess:
    """What one user may do with one person's record."""

    field_groups: frozenset[str]
    can_edit: bool = False
    can_export: bool = False
    break_glass: bool = False

    @property
    def can_view(self) -> bool:
        return bool(self.field_groups)


NO_ACCESS = PersonAccess(field_groups=frozenset())


def role_field_groups(user: User) -> frozenset[str]:
    if not (user.is_authenticated and user.is_active and user.agency_id):
        return frozenset()
    groups: set[str] = set()
    for role in user.roles:
        groups |= ROLE_FIELD_GROUPS.get(role, frozenset())
    return frozenset(groups)


def persons_visible_to(user: User):
    """Persons ``user`` may open: owned by their agency, shared with it, or under break-glass."""
    from streha.people.models import Person

    if not role_field_groups(user):
        return Person.objects.none()
    shared, broken, assigned = _persons_reached_by(user)
    return Person.objects.filter(
        Q(owner_agency_id=user.agency_id) | Q(pk__in=shared) | Q(pk__in=broken) | Q(pk__in=assigned)
    )


def _persons_reached_by(user: User) -> tuple:
    """The ids of persons outside ownership that ``user`` may open, by route: shared with
    their agency, under their break-glass, or with a case assigned to them. One place for
    both ``persons_visible_to`` and ``person_scope_parts``."""
    from streha.cases.models import Case

    return (
        AccessGrant.objects.active().filter(agency_id=user.agency_id).values("person_id"),
        BreakGlassGrant.objects.active().filter(user_id=user.pk).values("person_id"),
        Case.objects.filter(assigned_to_id=user.pk).values("person_id"),
    )


# Past this many persons shared with an agency, a list read newest first walks the persons
# and probes the agency's grants (``person_scope_parts(walk_shared=True)``).
MANY_SHARED = 1000


def person_scope_parts(user: User, *, walk_shared: bool = False) -> list:
    """``persons_visible_to(user)`` as disjoint querysets (owned, shared, under break-glass,
    assigned), each small enough to page through an index: one OR over all of them makes the
    database read every person of a large agency before it can sort a page. Their union is
    exactly ``persons_visible_to``.

    ``walk_shared``, for a caller reading the parts newest first up to a page's end: when more
    than ``MANY_SHARED`` persons are shared with the agency, their part is written as a probe
    of the grants for each person (the same persons), so that a database without statistics
    (SQLite) walks persons in order through ``person_created_idx`` and stops at the page's end
    instead of sorting every shared person (9,525 for one shelter at 1,000,000 persons: 60-90
    ms). Never for counting: a probe per person would read them all."""
    from streha.people.models import Person

    if not role_field_groups(user):
        return []
    shared, broken, assigned = _persons_reached_by(user)
    own = Person.objects.filter(owner_agency_id=user.agency_id)
    others = Person.objects.exclude(owner_agency_id=user.agency_id)
    shared_part = others.filter(pk__in=shared)
    if walk_shared and len(shared.order_by()[: MANY_SHARED + 1]) > MANY_SHARED:
        shared_part = others.filter(Exists(shared.filter(person_id=OuterRef("pk"))))
    return [
        own,
        shared_part,
        others.filter(pk__in=broken).exclude(pk__in=shared),
        others.filter(pk__in=assigned).exclude(pk__in=shared).exclude(pk__in=broken),
    ]


def person_access(user: User, person) -> PersonAccess:
    """What ``user`` may see and do with ``person``'s record.

    The field groups are those of the user's roles, narrowed by how the record reached them:
    all of them (and editing, exporting) for the owning agency; only the groups a grant to the
    agency shares (an accepted referral) when there is one; all of them for the professional
    a case of the person is assigned to, or under break-glass (flagged, so the read is
    audited as such). Nobody else sees the record at all."""
    own_groups = role_field_groups(user)
    if not own_groups:
        return NO_ACCESS
    if person.owner_agency_id == user.agency_id:
        return PersonAccess(
            field_groups=own_groups,
            can_edit=user.has_role(*EDITING_ROLES),
            can_export=user.has_role(*EXPORTING_ROLES),
        )
    shared: set[str] = set()
    for grant in AccessGrant.objects.active().filter(agency_id=user.agency_id, person=person):
        shared |= set(grant.field_groups)
    if shared:
        return PersonAccess(field_groups=own_groups & frozenset(shared))
    if person.cases.filter(assigned_to_id=user.pk).exists():
        return PersonAccess(field_groups=own_groups)
    asked = list(
        BreakGlassGrant.objects.active()
        .filter(user_id=user.pk, person=person)
        .values_list("field_groups", flat=True)
    )
    if asked:
        # Break-glass opens only the groups asked for (older accesses: the role's groups).
        opened = frozenset(group for groups in asked for group in (groups or own_groups))
        return PersonAccess(field_groups=own_groups & opened, break_glass=True)
    return NO_ACCESS


def persons_visible_with(user: User, group: str):
    """Persons ``user`` may see *with field group* ``group`` (``person_access`` row by row,
    as one queryset): their agency's, those shared with it by a grant naming the group, and
    those of their assigned cases or break-glass unless a grant to their agency shares the
    person without the group (a grant is then what holds, as in ``person_access``).

    Searches by a blind index look only here, so a search can never test a name or a number
    against persons the user may not see with the group that index belongs to."""
    from django.db.models import TextField
    from django.db.models.functions import Cast

    from streha.cases.models import Case
    from streha.people.models import Person

    if group not in role_field_groups(user):
        return Person.objects.none()
    grants = AccessGrant.objects.active().filter(agency_id=user.agency_id)
    # The list's text form is the same on SQLite and PostgreSQL (the values are names of
    # field groups, so no wildcard can sneak in).
    with_group = (
        grants.annotate(groups_text=Cast("field_groups", TextField()))
        .filter(groups_text__contains=f'"{group}"')
        .values("person_id")
    )
    granted = grants.values("person_id")
    assigned = Case.objects.filter(assigned_to_id=user.pk).values("person_id")
    # Break-glass accesses are few and short: ``person_access`` itself says what each opens.
    broken_ids = BreakGlassGrant.objects.active().filter(user_id=user.pk).values("person_id")
    broken = [
        person.pk
        for person in Person.objects.filter(pk__in=broken_ids)
        if group in person_access(user, person).field_groups
    ]
    return Person.objects.filter(
        Q(owner_agency_id=user.agency_id)
        | Q(pk__in=with_group)
        | (Q(pk__in=assigned) & ~Q(pk__in=granted))
        | Q(pk__in=broken)
    )


def person_field_groups(user: User, persons) -> dict[int, frozenset[str]]:
    """``person_access(user, person).field_groups`` for many persons at once (a list page),
    in a few queries whatever their number: the groups each row may show."""
    from streha.cases.models import Case

    persons = list(persons)
    own_groups = role_field_groups(user)
    if not own_groups or not persons:
        return {person.pk: frozenset() for person in persons}
    others = [p.pk for p in persons if p.owner_agency_id != user.agency_id]
    shared: dict[int, set[str]] = {}
    assigned: set[int] = set()
    broken: set[int] = set()
    if others:
        grants = AccessGrant.objects.active().filter(agency_id=user.agency_id, person_id__in=others)
        for person_id, groups in grants.values_list("person_id", "field_groups"):
            shared.setdefault(person_id, set()).update(groups)
        assigned = set(
            Case.objects.filter(assigned_to_id=user.pk, person_id__in=others).values_list(
                "person_id", flat=True
            )
        )
        broken = set(
            BreakGlassGrant.objects.active()
            .filter(user_id=user.pk, person_id__in=others)
            .values_list("person_id", flat=True)
        )
    result = {}
    for person in persons:
        if person.owner_agency_id == user.agency_id:
            result[person.pk] = own_groups
        elif person.pk in shared:
            result[person.pk] = own_groups & frozenset(shared[person.pk])
        elif person.pk in assigned:
            result[person.pk] = own_groups
        elif person.pk in broken:  # what the break-glass opened (rare: asked per person)
            result[person.pk] = person_access(user, person).field_groups
        else:
            result[person.pk] = frozenset()
    return result


def does_case_work(user: User) -> bool:
    """Case roles (those with field groups) use the person and case pages at all."""
    return bool(role_field_groups(user))


def can_register_persons(user: User) -> bool:
    return bool(role_field_groups(user)) and user.has_role(*EDITING_ROLES, Role.HOTLINE_OPERATOR)


def can_break_glass(user: User) -> bool:
    return bool(role_field_groups(user)) and user.has_role(*BREAK_GLASS_ROLES)


# --- Statistics (aggregates and pseudonymised records, never identities) ------------------------


def can_see_statistics(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.has_role(Role.ANALYST)


def persons_for_statistics(user: User):
    """Persons an analyst may count: all for the national coordinator's office, else their own
    agency's. Only non-identifying fields may be read from this queryset."""
    from streha.people.models import Person

    if not can_see_statistics(user):
        return Person.objects.none()
    if user.agency is not None and user.agency.kind == AgencyKind.NATIONAL_COORDINATOR:
        return Person.objects.all()
    if user.agency_id is None:
        return Person.objects.none()
    return Person.objects.filter(owner_agency_id=user.agency_id)


def cases_for_statistics(user: User):
    """Victim cases an analyst may count: those of ``persons_for_statistics``. Only
    non-identifying fields (statuses, dates, the exploitation profile) may be read from it."""
    from streha.cases.models import Case

    if not can_see_statistics(user):
        return Case.objects.none()
    if _at_national_coordinator(user):
        return Case.objects.all()
    return Case.objects.filter(person__in=persons_for_statistics(user))


def cases_for_national_report():
    """Every victim case, for ``streha report national`` run by the operator of the server (the
    command audits itself). Non-identifying fields only, as above."""
    from streha.cases.models import Case

    return Case.objects.all()


def tips_for_statistics(user: User):
    """Tips an analyst may count (never read): all for the national coordinator's office, else
    those assigned to the analyst's agency. Only the fields in clear may be read from it."""
    from streha.tips.models import Tip

    if not can_see_statistics(user):
        return Tip.objects.none()
    if _at_national_coordinator(user):
        return Tip.objects.all()
    return Tip.objects.filter(assigned_agency_id=user.agency_id)


def tips_for_national_report():
    """Every tip, for ``streha report national`` (clear fields only, as above)."""
    from streha.tips.models import Tip

    return Tip.objects.all()


def can_see_exact_statistics(user: User) -> bool:
    """Unsuppressed counts stay inside the national coordinator's office: elsewhere a small
    cell could name a person an agency knows."""
    return can_see_statistics(user) and _at_national_coordinator(user)


# --- Tip line and public campaign ----------------------------------------------------------

TIP_ROLES_OF_ASSIGNED_AGENCY = frozenset({Role.INVESTIGATOR, Role.CASE_WORKER, Role.SUPERVISOR})


def is_hotline_operator(user: User) -> bool:
    return (
        user.is_authenticated
        and user.is_active
        and user.agency_id is not None
        and user.has_role(Role.HOTLINE_OPERATOR)
    )


def is_tip_line_supervisor(user: User) -> bool:
    """The hotline supervisor: a supervisor at the national coordinator's office, who starts
    the tip line and adds and removes the members of the hotline unit."""
    return (
        user.is_authenticated
        and user.is_active
        and user.has_role(Role.SUPERVISOR)
        and _at_national_coordinator(user)
    )


def may_join_tip_line(user: User) -> bool:
    """Who gets a tip-line key at sign-in, so that the supervisor can add them to the unit."""
    return is_hotline_operator(user) or is_tip_line_supervisor(user)


def is_tip_line_member(user: User) -> bool:
    """A member of the national hotline unit: added by the hotline supervisor, who sealed the
    unit's keys to them. Removing them from the unit ends it; their role alone is not enough."""
    if not (user.is_authenticated and user.is_active and may_join_tip_line(user)):
        return False
    cached = getattr(user, "_is_tip_line_member", None)
    if cached is None:
        from streha.tips.models import TipLineMember

        cached = TipLineMember.objects.filter(user_id=user.pk, added_on__isnull=False).exists()
        user._is_tip_line_member = cached  # for this request's user object only
    return cached


def in_agency_assigned_tips(user: User) -> bool:
    """Case roles of an agency, who see the tips assigned to it (what was forwarded only)."""
    return (
        user.is_authenticated
        and user.is_active
        and user.agency_id is not None
        and user.has_role(*TIP_ROLES_OF_ASSIGNED_AGENCY)
    )


def can_see_tip_queue(user: User) -> bool:
    """May ``user`` open the tip queue (page, API, navigation, "my work")?

    The national hotline unit sees the whole queue; an agency's case roles see the tips
    assigned to their agency (``tips_visible_to`` says which). Everyone else gets a 404.
    """
    return is_tip_line_member(user) or in_agency_assigned_tips(user)


def tips_visible_to(user: User):
    """The hotline unit sees the whole queue; an agency a tip was assigned to sees that tip,
    and of its content only what the operator forwarded (``can_read_tip_content``)."""
    from streha.tips.models import Tip

    if is_tip_line_member(user):
        return Tip.objects.all()
    if in_agency_assigned_tips(user):
        return Tip.objects.filter(assigned_agency_id=user.agency_id)
    return Tip.objects.none()


def can_read_tip_content(user: User) -> bool:
    """The sealed report and messages: members of the unit, with their key unlocked."""
    return is_tip_line_member(user)


def can_triage_tips(user: User) -> bool:
    """Categorise, assign, forward, reply, convert, log calls: the hotline unit's operators."""
    return is_hotline_operator(user) and is_tip_line_member(user)


def can_manage_tip_line(user: User) -> bool:
    return is_tip_line_supervisor(user)


def _at_national_coordinator(user: User) -> bool:
    return user.agency is not None and user.agency.kind == AgencyKind.NATIONAL_COORDINATOR


def can_edit_campaign(user: User) -> bool:
    return (
        user.is_authenticated
        and user.is_active
        and _at_national_coordinator(user)
        and user.has_role(Role.ANALYST, Role.SUPERVISOR)
    )


def can_see_campaign_figures(user: User) -> bool:
    return (
        user.is_authenticated
        and user.is_active
        and _at_national_coordinator(user)
        and user.has_role(Role.ANALYST)
    )


# --- Victim cases (National Referral Mechanism) ---------------------------------------------

# Agencies that are the competent authority for the formal identification decision.
IDENTIFYING_AGENCY_KINDS = frozenset({AgencyKind.POLICE, AgencyKind.NATIONAL_COORDINATOR})
IDENTIFYING_ROLES = frozenset({Role.INVESTIGATOR, Role.SUPERVISOR})
CASE_OPENING_ROLES = frozenset({*EDITING_ROLES, Role.HOTLINE_OPERATOR})
CASE_REOPENING_ROLES = frozenset({Role.SUPERVISOR})
# Ethnicity is a special category of personal data: only the social and shelter work of the
# owning agency sees it, never through a referral unless the referral shares it.
ETHNICITY_GROUP = "ethnicity"
ETHNICITY_ROLES = frozenset({Role.CASE_WORKER, Role.SUPERVISOR})
# Referral states in which the receiving agency may see the case (within what was shared).
REFERRAL_SHARING_STATUSES = ("accepted", "in_progress", "completed")


@dataclass(frozen=True)
class CaseAccess:
    """What one user may do with one victim case."""

    field_groups: frozenset[str]
    is_owner: bool = False
    referred: bool = False  # an accepted referral lets the agency see the case
    assigned: bool = False  # the user is assigned to the case (perhaps from another agency)
    can_edit: bool = False
    can_decide: bool = False
    can_reopen: bool = False
    can_assign: bool = False  # supervisors of the owning agency assign the case
    # Adds what the user's own agency does for the person (the services it provides, notes)
    # and changes the status of those services: every editor of the case, and the editing
    # roles of an agency that accepted a referral of it.
    can_contribute: bool = False

    @property
    def can_view(self) -> bool:
        return self.is_owner or self.referred or self.assigned


NO_CASE_ACCESS = CaseAccess(field_groups=frozenset())


def _case_groups_of_role(user: User) -> frozenset[str]:
    groups = set(role_field_groups(user))
    if groups and user.has_role(*ETHNICITY_ROLES):
        groups.add(ETHNICITY_GROUP)
    return frozenset(groups)


def cases_visible_to(user: User):
    """Cases ``user`` may open: owned by their agency, or referred to it and accepted."""
    from streha.cases.models import Case

    if not role_field_groups(user):
        return Case.objects.none()
    shared = _cases_referred_to(user)
    return Case.objects.filter(
        Q(owner_agency_id=user.agency_id) | Q(pk__in=shared) | Q(assigned_to_id=user.pk)
    )


def _cases_referred_to(user: User):
    """The ids of cases whose referral to ``user``'s agency shares them (accepted, or in a
    status that keeps sharing): one place for ``cases_visible_to`` and ``case_scope_parts``."""
    from streha.cases.models import Referral

    return Referral.objects.filter(
        to_agency_id=user.agency_id, status__in=REFERRAL_SHARING_STATUSES
    ).values("case_id")


def case_scope_parts(user: User, *, counting: bool = False) -> list:
    """``cases_visible_to(user)`` as disjoint querysets (own, referred, assigned), each small
    enough to page through an index; their union is exactly ``cases_visible_to``.

    The referred part holds the same cases either way; ``counting`` says how it is read. A
    count (``counting``) reads each case by its key from the agency's referrals (the index
    ``referral_shared_cases``), so it probes at most the cases referred to the agency: written
    as a plain ``IN``, PostgreSQL hashed those against a scan of every case in the country
    (300 ms at 300,000 cases, for every shelter and social work agency). A page in order
    leaves the database its choice: walking the order's index and testing each case against
    the same referral index stops at the end of the page."""
    paged, counted = case_scope_parts_paged_and_counted(user)
    return counted if counting else paged


def case_scope_parts_paged_and_counted(user: User) -> tuple[list, list]:
    """``case_scope_parts(user)`` and ``case_scope_parts(user, counting=True)`` built once: a
    list pages one form and counts the other, and both forms share their own and assigned
    parts (the same querysets), only the referred part is written twice."""
    from streha.cases.models import Case

    if not role_field_groups(user):
        return [], []
    shared = _cases_referred_to(user)
    own = Case.objects.filter(owner_agency_id=user.agency_id)
    referred = Case.objects.filter(Q(pk__in=shared)).exclude(owner_agency_id=user.agency_id)
    referred_by_key = Case.objects.filter(_ReadByKey(shared)).exclude(
        owner_agency_id=user.agency_id
    )
    assigned = (
        Case.objects.filter(assigned_to_id=user.pk)
        .exclude(owner_agency_id=user.agency_id)
        .exclude(pk__in=shared)
    )
    return [own, referred, assigned], [own, referred_by_key, assigned]


class _ReadByKey(Func):
    """The rows whose primary key is among the ids ``ids`` (a ``values()`` queryset) gives,
    each read by its key: ``pk = ANY(ARRAY(ids))`` on PostgreSQL (the ids are read once, then
    the primary key index is probed for each; its planner cannot turn this into a hash join
    over a scan of the whole table, as it does with ``pk IN (ids)`` when the ids are many),
    and ``pk IN (ids)`` on SQLite, whose planner already loops over the ids and reads each
    row by its rowid. The same rows as ``Q(pk__in=ids)``."""

    output_field = BooleanField()

    def __init__(self, ids):
        super().__init__(F("pk"), Subquery(ids.order_by()))  # no sort of the ids

    def _compiled(self, compiler):
        (key, key_params), (ids, ids_params) = (
            compiler.compile(expression) for expression in self.get_source_expressions()
        )
        return key, ids, (*key_params, *ids_params)

    def as_sql(self, compiler, connection, **extra_context):
        key, ids, params = self._compiled(compiler)
        return f"{key} IN {ids}", params

    def as_postgresql(self, compiler, connection, **extra_context):
        key, ids, params = self._compiled(compiler)
        return f"{key} = ANY(ARRAY{ids})", params


def case_access(user: User, case) -> CaseAccess:
    """What ``user`` may see and do with a victim ``case``.

    The owning agency's case roles see it with their roles' groups (ethnicity only for social
    and shelter work); its editing roles change it, supervisors also reopen and assign it,
    and the competent authority (police or the national coordinator's investigators and
    supervisors) decides identification. An agency that accepted a referral sees only the
    groups shared and contributes its own services and notes. The assigned professional sees
    and edits it wherever they work."""
    from streha.cases.models import Referral

    own_groups = _case_groups_of_role(user)
    if not own_groups:
        return NO_CASE_ACCESS
    can_decide = bool(
        user.has_role(*IDENTIFYING_ROLES)
        and user.agency is not None
        and user.agency.kind in IDENTIFYING_AGENCY_KINDS
    )
    if case.owner_agency_id == user.agency_id:
        return CaseAccess(
            field_groups=own_groups,
            is_owner=True,
            can_edit=user.has_role(*EDITING_ROLES),
            can_decide=can_decide,
            can_reopen=user.has_role(*CASE_REOPENING_ROLES),
            can_assign=user.has_role(Role.SUPERVISOR),
            can_contribute=user.has_role(*EDITING_ROLES),
        )
    shared_groups = list(
        Referral.objects.filter(
            case=case, to_agency_id=user.agency_id, status__in=REFERRAL_SHARING_STATUSES
        ).values_list("field_groups", flat=True)
    )
    if shared_groups:
        shared = frozenset(group for groups in shared_groups for group in groups)
        return CaseAccess(
            field_groups=own_groups & shared,
            referred=True,
            can_decide=can_decide,
            can_contribute=user.has_role(*EDITING_ROLES),
        )
    if case.assigned_to_id == user.pk:
        editor = user.has_role(*EDITING_ROLES)
        return CaseAccess(
            field_groups=own_groups, assigned=True, can_edit=editor, can_contribute=editor
        )
    return NO_CASE_ACCESS


def can_assign_case(actor: User, case, assignee: User) -> bool:
    """Supervisors of the owning agency assign a case to anyone who does case work."""
    return (
        case.owner_agency_id == actor.agency_id
        and actor.has_role(Role.SUPERVISOR)
        and assignee.is_active
        and bool(role_field_groups(assignee))
    )


def can_open_cases(user: User) -> bool:
    return bool(role_field_groups(user)) and user.has_role(*CASE_OPENING_ROLES)


def referrals_visible_to(user: User):
    """Referrals sent by or to ``user``'s agency (the inbox and the outbox)."""
    from streha.cases.models import Referral

    if not role_field_groups(user):
        return Referral.objects.none()
    return Referral.objects.filter(
        Q(to_agency_id=user.agency_id) | Q(from_agency_id=user.agency_id)
    )


def can_answer_referral(user: User, referral) -> bool:
    return (
        bool(role_field_groups(user))
        and referral.to_agency_id == user.agency_id
        and user.has_role(*EDITING_ROLES)
    )


def sees_agency_work(user: User) -> bool:
    """Supervisors see their whole agency's due and overdue tasks, not only their own."""
    return bool(role_field_groups(user)) and user.has_role(Role.SUPERVISOR)


def can_provide_service(user: User, access: CaseAccess, provider_id: int | None) -> bool:
    """May ``user`` add (or change the status of) a service given by agency ``provider_id``?

    Editors of the case plan any agency's services; an agency that only contributes (it
    accepted a referral) records the services it provides itself, never another's."""
    if access.can_edit:
        return True
    return access.can_contribute and provider_id is not None and provider_id == user.agency_id


def can_complete_task(user: User, task) -> bool:
    """Tasks are their agency's work: its editing roles mark them done."""
    return (
        bool(role_field_groups(user))
        and task.agency_id == user.agency_id
        and user.has_role(*EDITING_ROLES)
    )


# --- Imports (streha/imports/) ----------------------------------------------------------------


def can_import_records(user: User, agency: Agency) -> bool:
    """An agency's administrator imports its records; the national coordinator's
    administrators and supervisors import for any agency."""
    if not (user.is_authenticated and user.is_active):
        return False
    if _at_national_coordinator(user) and user.has_role(Role.AGENCY_ADMIN, Role.SUPERVISOR):
        return True
    return is_agency_admin(user) and user.agency_id == agency.pk


def can_export_htcds(user: User) -> bool:
    """The national HTCDS export (every agency's victims and criminal cases, pseudonymised)
    is made in the national coordinator's office, by its analysts, supervisors and
    administrators."""
    return (
        user.is_authenticated
        and user.is_active
        and _at_national_coordinator(user)
        and user.has_role(Role.ANALYST, Role.SUPERVISOR, Role.AGENCY_ADMIN)
    )


def can_export_htcds_identities(user: User) -> bool:
    """Identities go into the HTCDS export only under a data-sharing agreement, which the
    national coordinator's supervisors and administrators answer for (not its analysts)."""
    return can_export_htcds(user) and user.has_role(Role.SUPERVISOR, Role.AGENCY_ADMIN)


def tasks_visible_to(user: User):
    """Open and done tasks of the user's agency for its case roles: tasks are an agency's work.
    ``own_tasks_only`` narrows a non-supervisor's list to theirs and the unassigned."""
    from streha.cases.models import Task

    if not role_field_groups(user):
        return Task.objects.none()
    return Task.objects.filter(agency_id=user.agency_id)


def own_tasks_only(user: User) -> bool:
    """A list of tasks shows a non-supervisor their own and the unassigned ones only
    (supervisors see their whole agency's due and overdue work)."""
    return not sees_agency_work(user)


def notifications_visible_to(user: User):
    """Notifications are personal: each user sees and marks only their own."""
    from streha.cases.models import Notification

    if not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(user_id=user.pk)


def referral_reveals_case(user: User, referral) -> bool:
    """May ``user`` learn which case ``referral`` is about? The receiving agency learns the
    case id only once it may open the case (the referral accepted); the sender always knows."""
    receiving = referral.to_agency_id == user.agency_id
    return not receiving or referral.status in REFERRAL_SHARING_STATUSES


# --- Reading one object: the one place it is audited ----------------------------------------

# Refused reads recorded per user per minute: enough to show someone walking through ids,
# never enough to flood the audit log.
REFUSALS_RECORDED_PER_MINUTE = 20


@dataclass(frozen=True)
class ReadAccess:
    """The access of a read whose rule is the scope itself (a referral, a document)."""

    field_groups: frozenset[str] = frozenset()
    can_view: bool = True
    break_glass: bool = False


def visible_or_404(
    user: User,
    scope: QuerySet,
    access_of,
    *,
    request=None,
    purpose: str = "",
    purpose_of=None,
    audited_groups=None,
    require=None,
    fetch=None,
    **lookup,
):
    """The object ``lookup`` names in ``scope`` (a ``*_visible_to(user)`` queryset) and
    ``access_of(user, obj)``, or ``Http404`` when there is none or the access cannot view it.

    ``require(access)`` refuses (``PermissionDenied``, see ``require``) what the user may not
    do with an object they can see (edit, export): it runs before ``purpose_of`` asks for a
    reason, before the read is audited and before anything of the object is decrypted, so a
    refused step answers 403 and reads nothing.

    Every page and API operation opens a protected object through here, so this is the one
    place its read is audited: with the field groups the access shows
    (``audited_groups(access)`` narrows them to what the object holds) and break-glass
    flagged. A refused read is audited too, naming only the type and the id asked for (nothing
    of the object, whether or not it exists), at most ``REFUSALS_RECORDED_PER_MINUTE`` per
    user a minute: an auditor sees someone walking through ids, the log is never flooded.

    ``fetch(queryset)``: reads the first object of the scope narrowed to ``lookup`` (None if
    none), as ``queryset.first()`` does, in another way (the case page reuses the compiled
    query, ``cases.selectors.read_case``); the same scope and lookup either way."""
    from django.http import Http404

    from streha.audit import services as audit

    found = scope.filter(**lookup).first() if fetch is None else fetch(scope.filter(**lookup))
    access = access_of(user, found) if found is not None else None
    if access is None or not access.can_view:
        refused = (scope.model, dict(lookup))
        http_request = getattr(request, "_request", request)  # DRF wraps Django's request
        if http_request is None:
            record_refused_read(user, *refused)
        else:
            # The 404 rolls the request's transaction back: the event is written after it
            # (streha.access.middleware.RefusedReadsMiddleware).
            http_request.streha_refused_reads = [
                *getattr(http_request, "streha_refused_reads", []),
                refused,
            ]
        raise Http404
    if require is not None:
        require(access)
    groups = access.field_groups if audited_groups is None else audited_groups(access)
    if purpose_of is not None:  # the purpose depends on the object (e.g. the case a read serves)
        purpose = purpose_of(found, access)
    audit.record(
        user,
        audit.Action.READ,
        obj=found,
        field_groups=sorted(groups),
        purpose=purpose,
        request=request,
        break_glass=access.break_glass if hasattr(access, "break_glass") else False,
    )
    return found, access


def record_refused_read(user: User, model, lookup: dict, *, request=None) -> bool:
    """Audit that ``user`` asked for an object of ``model`` outside their scope (rate
    limited). Returns whether an event was written."""
    from django.core.cache import cache

    from streha.audit import services as audit

    if not getattr(user, "is_authenticated", False):
        return False
    key = f"streha:refused-reads:{user.pk}:{user.date_joined.timestamp()}"
    cache.add(key, 0, timeout=60)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, count := 1, timeout=60)
    if count > REFUSALS_RECORDED_PER_MINUTE:
        return False
    audit.record(
        user,
        audit.Action.READ,
        object_type=model._meta.label_lower,
        purpose="refused: not visible to the user",
        request=request,
        details={
            "outcome": "refused",
            "requested": {name: str(value) for name, value in sorted(lookup.items())},
            "refusals_this_minute": count,
        },
    )
    return True


# --- Justice: criminal cases, victims in proceedings, sealed witnesses ----------------------
# A criminal case is seen by the staff of the agencies it names (police unit, prosecution
# office, court) who do justice work there, and by the victim advocates who represent one of
# its injured parties (their part only). Which events each may record follows the procedure:
# the police report, the prosecution investigates and indicts, the court liaison records what
# the court decides. A witness's pseudonym is resolved to the person only by the prosecutor
# handling the case and the witness protection unit, never by anyone else (supervisors,
# auditors, analysts and break-glass included).

JUSTICE_ROLES = frozenset({Role.PROSECUTOR, Role.INVESTIGATOR, Role.COURT_LIAISON, Role.SUPERVISOR})
POLICE_EVENT_KINDS = frozenset({"police_case_opened", "criminal_report", "special_report"})
PROSECUTION_EVENT_KINDS = frozenset(
    {
        "investigation_initiated",
        "investigation_suspended",
        "investigation_terminated",
        "charges_dismissed",
        "indictment_filed",
        "plea_agreement",
        "appeal_filed",
    }
)
COURT_EVENT_KINDS = frozenset(
    {
        "indictment_confirmed",
        "indictment_dismissed",
        "main_trial",
        "first_instance_judgment",
        "appeal_filed",
        "appeal_decided",
        "retrial_ordered",
        "final",
        "extraordinary_remedy",
    }
)


@dataclass(frozen=True)
class CriminalCaseAccess:
    """What one user may do with one criminal case."""

    can_view: bool = False
    injured_parties_only: bool = False  # a victim advocate representing one of its victims
    police: bool = False  # an investigator of the case's police unit
    prosecution: bool = False  # a prosecutor of the case's office
    court: bool = False  # a court liaison of the case's court or office
    handling: bool = False  # the prosecutor handling the case
    supervisor: bool = False

    @property
    def event_kinds(self) -> frozenset[str]:
        kinds: set[str] = set()
        if self.police:
            kinds |= POLICE_EVENT_KINDS
        if self.prosecution:
            kinds |= PROSECUTION_EVENT_KINDS
        if self.court:
            kinds |= COURT_EVENT_KINDS
        return frozenset(kinds)

    @property
    def sees_defendants(self) -> bool:
        """Defendants' identities: those who investigate, prosecute or record the trial."""
        return self.police or self.prosecution or self.court

    @property
    def can_edit(self) -> bool:
        return self.police or self.prosecution or self.court


NO_CRIMINAL_CASE_ACCESS = CriminalCaseAccess()


def _does_justice_work(user: User) -> bool:
    return (
        user.is_authenticated
        and user.is_active
        and user.agency_id is not None
        and user.has_role(*JUSTICE_ROLES)
    )


def criminal_cases_visible_to(user: User):
    """Criminal cases naming the user's agency (for justice roles), and those where the user
    represents an injured party."""
    from streha.justice.models import CriminalCase, InjuredParty

    if not (user.is_authenticated and user.is_active):
        return CriminalCase.objects.none()
    represented = InjuredParty.objects.filter(represented_by_id=user.pk).values("case_id")
    scope = Q(pk__in=represented)
    if _does_justice_work(user):
        agency = user.agency_id
        scope |= Q(police_agency_id=agency) | Q(prosecution_office_id=agency) | Q(court_id=agency)
    return CriminalCase.objects.filter(scope)


# The criminal case field that names an agency of each kind: a justice agency's own cases.
_CASE_FIELD_OF_KIND = {
    AgencyKind.PROSECUTION: "prosecution_office_id",
    AgencyKind.POLICE: "police_agency_id",
    AgencyKind.COURT: "court_id",
}


def criminal_case_scope_parts(user: User) -> list:
    """``criminal_cases_visible_to`` as disjoint querysets, each read through one index.

    The part of the field that names the user's kind of agency comes first, without any
    exclusion: it holds nearly all of the agency's cases, and so reads them from its index
    alone (a police unit's 25,000 cases by stage: 7 ms against 21 ms behind an exclusion)."""
    from streha.justice.models import CriminalCase, InjuredParty

    if not (user.is_authenticated and user.is_active):
        return []
    parts = []
    seen = Q()
    if _does_justice_work(user):
        agency = user.agency_id
        fields = sorted(
            _CASE_FIELD_OF_KIND.values(),
            key=lambda field: field != _CASE_FIELD_OF_KIND.get(user.agency.kind),
        )
        for field in fields:
            condition = Q(**{field: agency})
            parts.append(CriminalCase.objects.filter(condition).exclude(seen))
            seen |= condition
    represented = InjuredParty.objects.filter(represented_by_id=user.pk).values("case_id")
    parts.append(CriminalCase.objects.filter(pk__in=represented).exclude(seen))
    return parts


def criminal_case_access(user: User, case) -> CriminalCaseAccess:
    if not (user.is_authenticated and user.is_active):
        return NO_CRIMINAL_CASE_ACCESS
    agency = user.agency_id
    if _does_justice_work(user) and agency in (
        case.police_agency_id,
        case.prosecution_office_id,
        case.court_id,
    ):
        return CriminalCaseAccess(
            can_view=True,
            police=user.has_role(Role.INVESTIGATOR) and case.police_agency_id == agency,
            prosecution=user.has_role(Role.PROSECUTOR) and case.prosecution_office_id == agency,
            court=user.has_role(Role.COURT_LIAISON)
            and agency in (case.court_id, case.prosecution_office_id),
            handling=user.has_role(Role.PROSECUTOR) and case.prosecutor_id == user.pk,
            supervisor=user.has_role(Role.SUPERVISOR),
        )
    if case.injured_parties.filter(represented_by_id=user.pk).exists():
        return CriminalCaseAccess(can_view=True, injured_parties_only=True)
    return NO_CRIMINAL_CASE_ACCESS


def can_open_criminal_cases(user: User) -> bool:
    """The police open criminal cases (a prosecutor may open one on a report received)."""
    return _does_justice_work(user) and user.has_role(Role.INVESTIGATOR, Role.PROSECUTOR)


def can_edit_injured_party(access: CriminalCaseAccess, party, user: User) -> bool:
    """The prosecution keeps the injured parties; their advocate updates their claims."""
    return access.prosecution or (
        access.injured_parties_only and party.represented_by_id == user.pk
    )


def is_witness_protection_unit(user: User) -> bool:
    return (
        user.is_authenticated
        and user.is_active
        and user.agency_id is not None
        and user.has_role(Role.WITNESS_PROTECTION)
    )


def witnesses_resolvable_by(user: User):
    """Witnesses whose pseudonym ``user`` may resolve: those of the cases they handle as
    prosecutor, all for the witness protection unit; nothing for anyone else."""
    from streha.justice.models import Witness

    if is_witness_protection_unit(user):
        return Witness.objects.all()
    if not (_does_justice_work(user) and user.has_role(Role.PROSECUTOR)):
        return Witness.objects.none()
    return Witness.objects.filter(
        case__prosecutor_id=user.pk, case__prosecution_office_id=user.agency_id
    )


def can_share_with_prosecution(user: User, victim_case, access=None) -> bool:
    """Who may refer a victim case may share it with a prosecution office."""
    return (access or case_access(user, victim_case)).can_edit


def can_open_criminal_case_from(user: User, victim_case, access=None) -> bool:
    """Who may open criminal cases may open one from a victim case they see; it is linked to
    that victim case."""
    return can_open_criminal_cases(user) and (access or case_access(user, victim_case)).can_view


def can_see_justice_statistics(user: User) -> bool:
    return can_see_statistics(user)


def justice_deadlines_for(user: User):
    """Open deadlines of the user's agency (theirs or unassigned; supervisors: all)."""
    from streha.justice.models import Deadline

    if not _does_justice_work(user):
        return Deadline.objects.none()
    deadlines = Deadline.objects.filter(agency_id=user.agency_id, done_at__isnull=True)
    if not user.has_role(Role.SUPERVISOR):
        deadlines = deadlines.filter(Q(assignee__isnull=True) | Q(assignee_id=user.pk))
    return deadlines


# --- Linkage: possible duplicate persons (streha/linkage/) ---------------------------------------
# Who starts a deduplication run, who reviews a possible duplicate, and what everyone else may
# learn of one (that it exists and whom to ask: never whose).

DEDUPLICATION_ROLES = frozenset({Role.SUPERVISOR, Role.ANALYST})
LINKAGE_REVIEW_ROLES = EDITING_ROLES


def can_run_deduplication(user: User) -> bool:
    """The national coordinator's office runs the search for duplicates across agencies (the
    run reads identities under a service identity; its starter sees no identity through it)."""
    return (
        user.is_authenticated
        and user.is_active
        and _at_national_coordinator(user)
        and user.has_role(*DEDUPLICATION_ROLES)
    )


def can_see_duplicate_queue(user: User) -> bool:
    return bool(role_field_groups(user)) or can_run_deduplication(user)


def can_review_pair(user: User, pair) -> bool:
    """A reviewer holds the identity field group of BOTH persons (and an editing role)."""
    if not (role_field_groups(user) and user.has_role(*LINKAGE_REVIEW_ROLES)):
        return False
    return all(
        FieldGroup.IDENTITY in person_access(user, person).field_groups
        for person in (pair.person_a, pair.person_b)
    )


def pairs_reviewable_by(user: User):
    """Candidate pairs both of whose persons ``user`` may open (``can_review_pair`` decides
    per pair: a shared record may not share the identity group)."""
    from streha.linkage.models import CandidatePair

    if not (role_field_groups(user) and user.has_role(*LINKAGE_REVIEW_ROLES)):
        return CandidatePair.objects.none()
    visible = persons_visible_to(user).values("pk")
    return CandidatePair.objects.filter(person_a__in=visible, person_b__in=visible)


def pairs_touching_scope_of(user: User):
    """Pairs with at least one person ``user`` may open: of those the user cannot review,
    only their number is shown, with whom to ask (the national coordinator's office)."""
    from streha.linkage.models import CandidatePair

    if not role_field_groups(user):
        return CandidatePair.objects.none()
    visible = persons_visible_to(user).values("pk")
    return CandidatePair.objects.filter(Q(person_a__in=visible) | Q(person_b__in=visible))


def pair_scope_parts(user: User) -> list:
    """``pairs_touching_scope_of(user)`` as querysets each read through one index: per side of
    the pair, its person owned by the user's agency (a join on the person's owner), or reached
    another way (shared with the agency, under break-glass, assigned: the ids
    ``_persons_reached_by`` names). The parts overlap (a pair inside the agency is in two of
    them): unite by primary key. One OR over the whole scope makes the database read every
    person of a large agency; the parts are built from the routes themselves, not from
    ``person_scope_parts`` (whose nested exclusions, there to keep a person list's parts
    disjoint, cost the home page more to build than to read)."""
    from streha.linkage.models import CandidatePair

    if not role_field_groups(user):
        return []
    pairs = CandidatePair.objects.all()
    reached = _persons_reached_by(user)
    parts = []
    for side in ("person_a", "person_b"):
        parts.append(pairs.filter(**{f"{side}__owner_agency_id": user.agency_id}))
        parts.extend(pairs.filter(**{f"{side}_id__in": ids}) for ids in reached)
    return parts


def registration_match_in_scope(user: User, person) -> bool:
    """A possible match found at registration is shown only if ``user`` may see its identity;
    otherwise only that a match exists (and to ask the national coordinator's office)."""
    return FieldGroup.IDENTITY in person_access(user, person).field_groups
