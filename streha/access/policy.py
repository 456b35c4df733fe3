"""The access policy: the one place that decides who may see and do what.

Views, API views and services never test roles or agencies themselves; they ask here. Objects a
user may not see are filtered out of querysets (so they answer 404, never 403), and actions a
user may not take raise ``PermissionDenied`` from the service that would perform them.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
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

    Only within an agency ``actor`` administers, and never an account holding a role ``actor``
    could not grant (an agency administrator cannot take over a system administrator who
    happens to sit in their agency). Everyone may act on their own account.
    """
    if target.agency is None or not can_administer_agency(actor, target.agency):
        return False
    if actor.pk == target.pk:
        return True
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
    users = users_visible_to(user)
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
    can_update: bool = False
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
    from streha.cases.models import Case

    shared = AccessGrant.objects.active().filter(agency_id=user.agency_id).values("person_id")
    broken = BreakGlassGrant.objects.active().filter(user_id=user.pk).values("person_id")
    assigned = Case.objects.filter(assigned_to_id=user.pk).values("person_id")
    return Person.objects.filter(
        Q(owner_agency_id=user.agency_id) | Q(pk__in=shared) | Q(pk__in=broken) | Q(pk__in=assigned)
    )


def person_access(user: User, person) -> PersonAccess:
    own_groups = role_field_groups(user)
    if not own_groups:
        return NO_ACCESS
    if person.owner_agency_id == user.agency_id:
        return PersonAccess(
            field_groups=own_groups,
            can_update=user.has_role(*EDITING_ROLES),
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
    from streha.cases.models import Case, Referral

    if not role_field_groups(user):
        return Case.objects.none()
    shared = Referral.objects.filter(
        to_agency_id=user.agency_id, status__in=REFERRAL_SHARING_STATUSES
    ).values("case_id")
    return Case.objects.filter(
        Q(owner_agency_id=user.agency_id) | Q(pk__in=shared) | Q(assigned_to_id=user.pk)
    )


def case_scope_parts(user: User) -> list:
    """``cases_visible_to(user)`` as disjoint querysets (own, referred, assigned), each small
    enough to page through an index; their union is exactly ``cases_visible_to``."""
    from streha.cases.models import Case, Referral

    if not role_field_groups(user):
        return []
    shared = Referral.objects.filter(
        to_agency_id=user.agency_id, status__in=REFERRAL_SHARING_STATUSES
    ).values("case_id")
    own = Case.objects.filter(owner_agency_id=user.agency_id)
    referred = Case.objects.filter(pk__in=shared).exclude(owner_agency_id=user.agency_id)
    assigned = (
        Case.objects.filter(assigned_to_id=user.pk)
        .exclude(owner_agency_id=user.agency_id)
        .exclude(pk__in=shared)
    )
    return [own, referred, assigned]


def case_access(user: User, case) -> CaseAccess:
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
