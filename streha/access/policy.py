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
    return AuditEvent.objects.filter(agency_id=user.agency_id)


def break_glass_grants_visible_to(user: User):
    grants = BreakGlassGrant.objects.select_related("user__agency", "person", "reviewed_by")
    if not can_audit(user):
        return grants.none()
    if audits_nationally(user):
        return grants
    if user.agency_id is None:
        return grants.none()
    return grants.filter(user__agency_id=user.agency_id)


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
    if BreakGlassGrant.objects.active().filter(user_id=user.pk, person=person).exists():
        return PersonAccess(field_groups=own_groups, break_glass=True)
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


# --- Tip line and public campaign ----------------------------------------------------------

TIP_ROLES_OF_ASSIGNED_AGENCY = frozenset({Role.INVESTIGATOR, Role.CASE_WORKER, Role.SUPERVISOR})


def is_hotline_operator(user: User) -> bool:
    return (
        user.is_authenticated
        and user.is_active
        and user.agency_id is not None
        and user.has_role(Role.HOTLINE_OPERATOR)
    )


def tips_visible_to(user: User):
    """Hotline operators see the whole queue; an agency a tip was assigned to sees that tip."""
    from streha.tips.models import Tip

    if is_hotline_operator(user):
        return Tip.objects.all()
    if user.is_authenticated and user.agency_id and user.has_role(*TIP_ROLES_OF_ASSIGNED_AGENCY):
        return Tip.objects.filter(assigned_agency_id=user.agency_id)
    return Tip.objects.none()


def can_triage_tips(user: User) -> bool:
    """Categorise, assign, reply, convert, log calls: the hotline's work."""
    return is_hotline_operator(user)


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
        )
    shared_groups = list(
        Referral.objects.filter(
            case=case, to_agency_id=user.agency_id, status__in=REFERRAL_SHARING_STATUSES
        ).values_list("field_groups", flat=True)
    )
    if shared_groups:
        shared = frozenset(group for groups in shared_groups for group in groups)
        return CaseAccess(field_groups=own_groups & shared, referred=True, can_decide=can_decide)
    if case.assigned_to_id == user.pk:
        return CaseAccess(
            field_groups=own_groups, assigned=True, can_edit=user.has_role(*EDITING_ROLES)
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


def criminal_case_scope_parts(user: User) -> list:
    """``criminal_cases_visible_to`` as disjoint querysets, each read through one index."""
    from streha.justice.models import CriminalCase, InjuredParty

    if not (user.is_authenticated and user.is_active):
        return []
    parts = []
    seen = Q()
    if _does_justice_work(user):
        agency = user.agency_id
        for field in ("prosecution_office_id", "police_agency_id", "court_id"):
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


def can_share_with_prosecution(user: User, victim_case) -> bool:
    """Who may refer a victim case may share it with a prosecution office."""
    return case_access(user, victim_case).can_edit


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
