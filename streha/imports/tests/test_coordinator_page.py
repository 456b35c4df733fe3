"""The import page is for agency administrators (their own agency) and for the national
coordinator's administrators and supervisors (any agency), issue 12's last bullet."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from streha.accounts.models import Role
from streha.imports import services
from streha.imports.tests.conftest import csv_bytes, row
from streha.jobs.models import Job
from streha.jobs.services import execute_job
from streha.people.models import Person
from streha.testing.factories import AgencyFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", [Role.AGENCY_ADMIN, Role.SUPERVISOR])
def test_the_national_coordinator_imports_for_another_agency_on_the_page(
    client, make_user, owner, role
):
    office = AgencyFactory(kind="national_coordinator", code="nc-office")
    client.force_login(make_user(role, agency=office))
    page = client.get(reverse("imports:upload"))
    assert page.status_code == 200
    assert f'value="{owner.pk}"'.encode() in page.content  # another agency offered
    response = client.post(
        reverse("imports:upload"),
        {
            "agency": owner.pk,
            "profile": "htcds",
            "upload": SimpleUploadedFile("records.csv", csv_bytes([row("N1")]), "text/csv"),
        },
    )
    assert response.status_code == 302
    execute_job(str(Job.objects.get(kind=services.DRY_RUN_KIND).public_id))
    assert b'id="report-created">1<' in client.get(response.url).content
    client.post(response.url)
    execute_job(str(Job.objects.get(kind=services.JOB_KIND).public_id))
    assert Person.objects.get(reference="N1").owner_agency == owner


def test_an_agency_administrator_is_offered_their_own_agency_only(client, importer, owner):
    other = AgencyFactory(code="police-other")
    client.force_login(importer)
    page = client.get(reverse("imports:upload")).content
    assert f'value="{owner.pk}"'.encode() in page
    assert f'value="{other.pk}"'.encode() not in page
