"""Forms follow GOV.UK's error pattern: a summary at the top linking to each field in error,
"Error:" in the page title, and decisions that start unanswered."""

import re

import pytest
from django.utils import timezone

from streha.accounts.models import AgencyKind, Role
from streha.cases import services
from streha.cases.models import Referral, ReferralStatus
from streha.testing.factories import AgencyFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def _title(body: str) -> str:
    return re.search(r"<title>(.*?)</title>", body, re.S).group(1).strip()


def _summary(body: str) -> str:
    return body.split("data-error-summary", 1)[1].split("</div>", 1)[0]


def test_staff_form_errors_are_summarised_with_links_and_said_in_the_title(
    client, make_user, agency
):
    client.force_login(make_user(Role.AGENCY_ADMIN, agency=agency))
    fine = client.get("/staff/new/").content.decode()
    assert "data-error-summary" not in fine and not _title(fine).startswith("Error:")

    body = client.post("/staff/new/", {"username": "", "email": "not-an-address"}).content.decode()
    assert _title(body).startswith("Error: ")
    summary = _summary(body)
    assert 'href="#id_username"' in summary and 'href="#id_email"' in summary
    assert 'role="alert"' in body.split("data-error-summary")[0][-300:]
    assert body.count("data-error-summary") == 1


def test_staff_form_says_what_each_role_does(client, make_user, agency):
    client.force_login(make_user(Role.AGENCY_ADMIN, agency=agency))
    body = client.get("/staff/new/").content.decode()
    assert "Case worker: registers persons, opens cases and refers them" in body


def test_sign_in_error_is_summarised(client, make_user):
    make_user(Role.CASE_WORKER, username="someone")
    body = client.post(
        "/accounts/login/", {"login": "someone", "password": "wrong"}
    ).content.decode()
    assert _title(body).startswith("Error: ")
    assert "There is a problem" in _summary(body)


def test_referral_answer_starts_unanswered_and_refuses_an_empty_answer(client, make_user):
    ngo = AgencyFactory(kind=AgencyKind.SHELTER)
    shelter = AgencyFactory(kind=AgencyKind.SHELTER)
    worker = make_user(Role.CASE_WORKER, agency=ngo)
    receiver = make_user(Role.CASE_WORKER, agency=shelter)
    person = PersonFactory(owner_agency=ngo)
    case = services.open_case(worker, person, source="ngo", first_contact_on=timezone.localdate())
    referral = services.send_referral(worker, case, to_agency=shelter, field_groups=["identity"])
    client.force_login(receiver)

    body = client.get(f"/cases/referrals/{referral.public_id}/").content.decode()
    select = body.split('name="status"', 1)[1].split("</select>", 1)[0]
    assert re.search(r'<option value="" selected>', select)
    assert select.count("selected") == 1

    refused = client.post(f"/cases/referrals/{referral.public_id}/", {"status": ""})
    assert refused.status_code in (200, 400)
    assert 'href="#id_status"' in _summary(refused.content.decode())
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.SENT


def test_groups_to_share_are_offered_once_each():
    from streha.access.models import FieldGroup
    from streha.cases.forms import ReferralForm

    values = [value for value, _label in ReferralForm.base_fields["field_groups"].choices]
    assert sorted(values) == sorted(FieldGroup.values)
