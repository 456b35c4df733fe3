"""The proceedings' refusals are domain errors (``streha.errors``): the step page shows them
beside the field they name with their status, the API answers their status and code, and
nothing is written."""

import pytest
from django.urls import reverse

from streha.errors import DomainError
from streha.justice.errors import NotTheirStep, ProceedingsRefusal
from streha.justice.models import Charge, ChargeStage, Defendant

pytestmark = pytest.mark.django_db

SAME_SUSPECT = {"roles": ["RecruiterOrIntermediary"], "detention": "none"}


def test_refusals_are_domain_errors_with_their_status():
    assert issubclass(ProceedingsRefusal, DomainError) and issubclass(NotTheirStep, DomainError)
    assert (ProceedingsRefusal("x").status_code, NotTheirStep("x").status_code) == (409, 403)


def test_the_step_page_shows_a_refusal_beside_its_field(client, world, reported):
    client.force_login(world.users["investigator"])
    url = reverse("justice:step", args=[reported.public_id, "defendant"])
    data = {"person_reference": world.suspects[0].reference, **SAME_SUSPECT}
    before = Defendant.objects.count()
    page = client.post(url, data, headers={"HX-Request": "true", "Accept-Language": "en"})
    body = page.content.decode()
    assert page.status_code == 409
    assert 'id="form-defendant"' in body and "This person is already a defendant." in body
    assert body.index("This person is already a defendant.") > body.index("id_person_reference")
    assert Defendant.objects.count() == before


def test_the_api_answers_a_refusal_with_its_status_and_code(api_client, world, reported):
    api_client.force_authenticate(world.users["investigator"])
    url = f"/api/v1/criminal-cases/{reported.public_id}/defendant/"
    answer = api_client.post(
        url, {"person_reference": world.suspects[0].reference, **SAME_SUSPECT}, format="json"
    )
    assert answer.status_code == 409, answer.content
    assert answer.json()["error"]["code"] == "refused"
    assert world.suspects[0].reference not in answer.content.decode()


def test_a_step_of_another_office_is_refused_with_403_in_the_api(api_client, world, reported):
    api_client.force_authenticate(world.users["liaison"])
    defendant = reported.defendants.order_by("pk").first()
    offence = Charge.objects.filter(defendant=defendant).first().offence
    before = Charge.objects.count()
    answer = api_client.post(
        f"/api/v1/criminal-cases/{reported.public_id}/charge/",
        {
            "defendant": str(defendant.public_id),
            "offence": offence.pk,
            "stage": ChargeStage.REPORT,
            "recorded_on": "2025-03-03",
            "counts": 1,
        },
        format="json",
    )
    assert answer.status_code == 403, answer.content
    assert answer.json()["error"]["code"] == "not_allowed"
    assert Charge.objects.count() == before
