"""Opening a case (the first contact) and correcting its non-stage data: the exploitation
profile, attributes and first needs."""

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from streha.access import policy
from streha.accounts.models import User
from streha.audit import services as audit
from streha.cases.models import (
    Case,
    ControlMethod,
    Disability,
    ExploitationPlace,
    ExploitationType,
    RecruitmentMethod,
    Source,
)
from streha.cases.services import reminders
from streha.cases.services.base import (
    _audit,
    _bump,
    _check_choices,
    _event,
    _require_edit,
    _require_open,
    new_reference,
)
from streha.people.models import Person
from streha.places.catalogues import countries, languages
from streha.places.models import Municipality

__all__ = ["OPEN_FIELDS", "PROFILE_FIELDS", "open_case", "update_profile"]


# The exploitation profile: what ``update_profile`` is mostly for (the API's profile operation).
PROFILE_FIELDS = (
    "exploitation_types",
    "exploitation_places",
    "transnational",
    "recruitment_countries",
    "transit_countries",
    "exploitation_countries",
    "recruitment_municipalities",
    "exploitation_municipalities",
    "recruitment_methods",
    "control_methods",
)


OPEN_FIELDS = {
    "first_contact_municipality",
    "first_contact_place",
    "needs_urgent_shelter",
    "needs_urgent_medical",
    "is_child",
    "age_disputed",
    "ethnicity",
    "languages",
    "disability",
    *PROFILE_FIELDS,
}


def _validate_profile(fields: dict) -> None:
    unknown = set(fields) - OPEN_FIELDS
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    for name, choices in (
        ("exploitation_types", ExploitationType),
        ("exploitation_places", ExploitationPlace),
        ("recruitment_methods", RecruitmentMethod),
        ("control_methods", ControlMethod),
    ):
        if name in fields:
            _check_choices(fields[name], choices, name)
    for name in ("recruitment_countries", "transit_countries", "exploitation_countries"):
        codes = fields.get(name, [])
        if not isinstance(codes, list | tuple) or not all(code in countries for code in codes):
            raise ValidationError({name: _("Choose countries from the list.")})
    if not isinstance(fields.get("languages", []), list | tuple) or not all(
        code in languages for code in fields.get("languages", [])
    ):
        raise ValidationError({"languages": _("Choose languages from the list.")})
    if "disability" in fields:
        _check_choices([fields["disability"]], Disability, "disability")
    for name in ("recruitment_municipalities", "exploitation_municipalities"):
        codes = fields.get(name, [])
        if not isinstance(codes, list | tuple) or not all(isinstance(c, str) for c in codes):
            raise ValidationError({name: _("Choose municipalities from the list.")})
        if codes and Municipality.objects.filter(code__in=set(codes)).count() != len(set(codes)):
            raise ValidationError({name: _("Choose municipalities from the list.")})


@transaction.atomic
def open_case(
    actor: User,
    person: Person,
    *,
    source: str,
    first_contact_on: date,
    request=None,
    **fields,
) -> Case:
    """Register the first contact (or referral in) for a person the actor's agency can see."""
    policy.require(policy.can_open_cases(actor))
    if not policy.persons_visible_to(actor).filter(pk=person.pk).exists():
        raise PermissionDenied(_("You are not allowed to do this."))
    _validate_profile(fields)
    if source not in Source.values:
        raise ValidationError({"source": _("Choose where the contact came from.")})
    if first_contact_on > timezone.localdate():
        raise ValidationError({"first_contact_on": _("The date cannot be in the future.")})
    if (
        fields.get("ethnicity")
        and policy.ETHNICITY_GROUP
        not in policy.case_access(actor, Case(owner_agency_id=actor.agency_id)).field_groups
    ):
        raise ValidationError({"ethnicity": _("You may not write this field.")})
    age = None
    if person.birth_year:
        age = max(0, first_contact_on.year - person.birth_year)
    case = Case(
        reference=new_reference(),
        person=person,
        owner_agency_id=actor.agency_id,
        created_by=actor,
        source=source,
        first_contact_on=first_contact_on,
        sex=person.gender,
        citizenship=person.citizenship,
        age_at_identification=age,
        **fields,
    )
    if age is not None and age < 18:
        case.is_child = True
    case.full_clean(exclude=["person", "owner_agency"])
    case.save()
    _event(case, actor, "open", to_status=case.status, details={"source": source})
    if case.needs_guardian:
        reminders.guardian_reminder(case, actor.agency_id, timezone.localdate()).save()
    _audit(
        actor,
        case,
        what="open",
        action=audit.Action.CREATE,
        groups={"narrative"} if case.first_contact_place else set(),
        request=request,
    )
    return case


@transaction.atomic
def update_profile(
    actor: User, case: Case, *, expected_version: int, request=None, **fields
) -> Case:
    """Correct the non-stage data of a case (exploitation, attributes, first needs)."""
    access = _require_edit(actor, case)
    _require_open(case)
    _validate_profile(fields)
    if "ethnicity" in fields and policy.ETHNICITY_GROUP not in access.field_groups:
        raise ValidationError({"ethnicity": _("You may not write this field.")})
    _bump(case, expected_version)
    changed = sorted(name for name, value in fields.items() if getattr(case, name) != value)
    for name in changed:
        setattr(case, name, fields[name])
    case.full_clean(exclude=["person", "owner_agency"])
    case.save()
    _event(case, actor, "update", details={"fields": changed})
    _audit(actor, case, what="update", request=request, details={"fields": changed})
    return case
