"""Case assignment is a scope of its own: the assigned professional sees the case and person."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from streha.access import policy
from streha.accounts.models import Role
from streha.audit.models import AuditEvent
from streha.cases import selectors, services
from streha.cases.tests.factories import CaseFactory


@pytest.mark.django_db
def test_assigned_professional_of_another_agency_sees_case_and_person(
    client, make_user, agency, other_agency
):
    case = CaseFactory(owner_agency=agency)
    supervisor = make_user(Role.SUPERVISOR, agency=agency)
    advocate = make_user(Role.CASE_WORKER, agency=other_agency)
    bystander = make_user(Role.CASE_WORKER, agency=other_agency)
    assert not policy.cases_visible_to(advocate).filter(pk=case.pk).exists()

    services.assign_case(supervisor, case, advocate, expected_version=case.version)

    assert policy.cases_visible_to(advocate).filter(pk=case.pk).exists()
    assert policy.case_access(advocate, case).can_view
    assert policy.persons_visible_to(advocate).filter(pk=case.person_id).exists()
    assert policy.person_access(advocate, case.person).can_view
    assert not policy.cases_visible_to(bystander).filter(pk=case.pk).exists()
    # The paged list reads the same scope, in disjoint parts.
    parts = selectors.case_scopes(advocate)
    assert sum(part.filter(pk=case.pk).count() for part in parts) == 1
    client.force_login(advocate)
    assert client.get(f"/cases/{case.public_id}/").status_code == 200
    client.force_login(bystander)
    assert client.get(f"/cases/{case.public_id}/").status_code == 404
    assert AuditEvent.objects.filter(purpose="assigned").count() == 1


@pytest.mark.django_db
def test_only_supervisors_of_the_owner_assign(make_user, agency, other_agency):
    case = CaseFactory(owner_agency=agency)
    worker = make_user(Role.CASE_WORKER, agency=agency)
    analyst = make_user(Role.ANALYST, agency=agency)
    with pytest.raises(PermissionDenied):
        services.assign_case(worker, case, worker, expected_version=case.version)
    supervisor = make_user(Role.SUPERVISOR, agency=agency)
    with pytest.raises(ValidationError):  # an analyst does no case work
        services.assign_case(supervisor, case, analyst, expected_version=case.version)
    case.refresh_from_db()
    assert case.assigned_to is None
