"""The justice steps on the victim case page: opening a criminal case from it and sharing it
with a prosecution office, offered to exactly who may take them, in HTML and the API."""

import pytest
from django.urls import reverse
from django.utils import timezone

from streha.cases.models import Referral, ReferralStatus
from streha.justice.models import CriminalCase, VictimCaseShare

pytestmark = pytest.mark.django_db

OPEN = 'id="step-open_criminal_case"'
SHARE = 'id="step-share_with_prosecution"'


def _victim_page(client, user, victim_case):
    client.force_login(user)
    return client.get(reverse("cases:detail", args=[victim_case.public_id]))


def test_the_owner_investigator_is_offered_both_steps_with_their_pages(client, world):
    page = _victim_page(client, world.users["investigator"], world.victim_case)
    body = page.content.decode()
    assert page.status_code == 200 and OPEN in body and SHARE in body
    open_url = f"{reverse('justice:create')}?victim_case={world.victim_case.public_id}"
    assert f'href="{open_url}"' in body
    assert f'href="{reverse("justice:share", args=[world.victim_case.public_id])}"' in body


def test_a_receiving_agency_that_may_not_edit_nor_open_criminal_cases_sees_neither(client, world):
    Referral.objects.create(
        case=world.victim_case,
        from_agency=world.police,
        to_agency=world.shelter,
        field_groups=["identity"],
        answer_due_on=timezone.localdate(),
        status=ReferralStatus.ACCEPTED,
    )
    page = _victim_page(client, world.users["shelter_worker"], world.victim_case)
    body = page.content.decode()
    assert page.status_code == 200  # the shelter sees the case, yet takes neither step
    assert OPEN not in body and SHARE not in body
    client.force_login(world.users["shelter_worker"])
    open_url = f"{reverse('justice:create')}?victim_case={world.victim_case.public_id}"
    assert client.get(open_url).status_code == 404
    share_url = reverse("justice:share", args=[world.victim_case.public_id])
    assert (
        client.post(share_url, {"office": "office", "field_groups": ["identity"]}).status_code
        == 404
    )
    assert not VictimCaseShare.objects.exists()


def test_who_cannot_see_the_victim_case_is_offered_nothing(client, world):
    for role in ("prosecutor", "analyst", "liaison"):
        assert _victim_page(client, world.users[role], world.victim_case).status_code == 404


def test_the_steps_taken_from_the_victim_case_page_link_and_share(client, world):
    client.force_login(world.users["investigator"])
    share_url = reverse("justice:share", args=[world.victim_case.public_id])
    shared = client.post(share_url, {"office": "office", "field_groups": ["identity"]})
    assert shared.status_code == 302
    assert shared["Location"] == reverse("cases:detail", args=[world.victim_case.public_id])
    share = VictimCaseShare.objects.get()
    assert (share.office, share.field_groups) == (world.office, ["identity"])
    open_url = f"{reverse('justice:create')}?victim_case={world.victim_case.public_id}"
    opened = client.post(open_url, {"opened_on": "2025-03-03", "prosecution_office": "office"})
    case = CriminalCase.objects.get()
    assert opened.status_code == 302 and list(case.victim_cases.all()) == [world.victim_case]


def test_the_same_steps_in_the_api(api_client, world):
    api = api_client
    api.force_authenticate(world.users["investigator"])
    victim = str(world.victim_case.public_id)
    bad = api.post(
        "/api/v1/victim-case-shares/",
        {"victim_case": victim, "office": "court", "field_groups": ["identity"]},
        format="json",
    )
    assert bad.status_code == 400 and not VictimCaseShare.objects.exists()
    shared = api.post(
        "/api/v1/victim-case-shares/",
        {"victim_case": victim, "office": "office", "field_groups": ["identity"]},
        format="json",
    )
    assert shared.status_code == 201, shared.content
    opened = api.post(
        "/api/v1/criminal-cases/",
        {"opened_on": "2025-03-03", "prosecution_office": "office", "victim_case": victim},
        format="json",
    )
    assert opened.status_code == 201, opened.content
    assert list(CriminalCase.objects.get().victim_cases.all()) == [world.victim_case]
    api.force_authenticate(world.users["shelter_worker"])
    refused = api.post(
        "/api/v1/victim-case-shares/",
        {"victim_case": victim, "office": "office", "field_groups": ["identity"]},
        format="json",
    )
    assert refused.status_code == 404 and VictimCaseShare.objects.count() == 1
