"""The administrator's "N without two-factor" figure leads to those accounts, each with an
action: a reminder (or the invitation again for an account never signed in), audited."""

import pytest
from django.core import mail
from django.utils import timezone

from streha.accounts.models import User
from streha.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_the_home_figure_links_to_the_accounts_with_an_action(client, agency_admin, colleague):
    client.force_login(agency_admin)
    home = client.get("/").content.decode()
    assert "/staff/?two_factor=missing" in home
    page = client.get("/staff/?two_factor=missing").content.decode()
    assert "Accounts without two-factor authentication" in page
    assert f"/staff/{colleague.pk}/remind-two-factor/" in page
    assert "Send a reminder" in page


def test_a_reminder_is_mailed_and_audited(client, agency_admin, colleague):
    User.objects.filter(pk=colleague.pk).update(last_login=timezone.now())
    client.force_login(agency_admin)
    response = client.post(f"/staff/{colleague.pk}/remind-two-factor/")
    assert response.status_code == 302
    assert response["Location"] == "/staff/?two_factor=missing"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [colleague.email]
    assert "/accounts/2fa/totp/activate/" in mail.outbox[0].body
    assert "password" not in mail.outbox[0].body.lower()  # a reminder, never a credential
    event = AuditEvent.objects.get(details__event="two_factor_reminder")
    assert event.actor_id == agency_admin.pk and event.details["invitation"] is False


def test_an_account_never_signed_in_gets_its_invitation_again(client, agency_admin, colleague):
    User.objects.filter(pk=colleague.pk).update(last_login=None)
    client.force_login(agency_admin)
    client.post(f"/staff/{colleague.pk}/remind-two-factor/")
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_a_deactivated_account_gets_no_reminder(client, agency_admin, colleague):
    User.objects.filter(pk=colleague.pk).update(is_active=False)
    client.force_login(agency_admin)
    response = client.post(f"/staff/{colleague.pk}/remind-two-factor/", follow=True)
    assert "This account is deactivated." in response.content.decode()
    assert mail.outbox == []


def test_someone_outside_the_agency_cannot_be_reminded(client, agency_admin, outsider):
    client.force_login(agency_admin)
    response = client.post(f"/staff/{outsider.pk}/remind-two-factor/")
    assert response.status_code == 404
    assert mail.outbox == []
