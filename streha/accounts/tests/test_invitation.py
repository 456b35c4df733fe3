"""The invitation e-mail: a one-time link where a new colleague chooses their own password."""

import contextlib
import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client

from streha.accounts import services
from streha.accounts.models import Role, User
from streha.testing.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Morning-Tea-Lantern-58"


@pytest.fixture
def invited(agency_admin, agency, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user = services.create_user(
            agency_admin,
            agency=agency,
            username="drita.invited",
            email="drita@example.invalid",
            roles=[Role.CASE_WORKER],
        )
    assert len(mail.outbox) == 1
    return user


def invitation_path():
    links = re.findall(r"https?://\S+", mail.outbox[0].body)
    assert len(links) == 1, mail.outbox[0].body
    link = urlsplit(links[0])
    assert link.path.startswith("/accounts/password/reset/key/")
    return link.path


def sign_in(client, username, password):
    return client.post("/accounts/login/", {"login": username, "password": password})


def test_invitation_mail_names_the_account_and_the_base_url(invited, settings):
    message = mail.outbox[0]
    assert message.to == ["drita@example.invalid"]
    assert message.subject.strip()
    assert "drita.invited" in message.body
    assert settings.STREHA_BASE_URL.rstrip("/") + "/accounts/password/reset/key/" in message.body


def test_invited_user_cannot_sign_in_before_choosing_a_password(client, invited):
    assert not User.objects.get(pk=invited.pk).has_usable_password()
    response = sign_in(client, "drita.invited", TEST_PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_link_leads_to_the_set_password_form_and_sets_it(client, invited):
    response = client.get(invitation_path())
    # allauth moves the key into the session and redirects to the form without it in the URL.
    if response.status_code == 302:
        assert response["Location"].startswith("/accounts/password/reset/key/")
        response = client.get(response["Location"])
    assert response.status_code == 200
    assert not response.context.get("token_fail")
    form_url = response.request["PATH_INFO"]
    assert 'name="password1"' in response.content.decode()

    done = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert User.objects.get(pk=invited.pk).check_password(NEW_PASSWORD)

    fresh = Client()
    assert sign_in(fresh, "drita.invited", NEW_PASSWORD).status_code == 302
    assert int(fresh.session["_auth_user_id"]) == invited.pk


def test_link_works_only_once(client, invited):
    path = invitation_path()
    form = client.get(path)
    assert form.status_code == 302
    client.post(form["Location"], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert User.objects.get(pk=invited.pk).check_password(NEW_PASSWORD)

    second = Client()
    response = second.get(path)
    if response.status_code == 302:
        response = second.get(response["Location"])
    assert response.context["token_fail"] is True
    second.post(path, {"password1": "Someone-Else-Pass-91", "password2": "Someone-Else-Pass-91"})
    assert User.objects.get(pk=invited.pk).check_password(NEW_PASSWORD)


def test_tampered_link_is_refused(client, invited):
    path = invitation_path()
    tampered = path[:-3] + ("0" if path[-2] != "0" else "1") + "/"
    response = client.get(tampered)
    if response.status_code == 302:
        response = client.get(response["Location"])
    assert response.context["token_fail"] is True


def test_weak_password_is_refused_on_the_form(client, invited):
    form = client.get(invitation_path())
    assert form.status_code == 302
    response = client.post(form["Location"], {"password1": "short", "password2": "short"})
    assert response.status_code == 200
    assert not User.objects.get(pk=invited.pk).has_usable_password()


def test_existing_colleague_still_signs_in_after_a_case_variant_is_attempted(
    client, agency_admin, agency, colleague
):
    """Sign-in matches usernames case-insensitively; a case variant must not lock anyone out."""
    with contextlib.suppress(ValidationError):  # refusing the variant is the correct outcome
        services.create_user(
            agency_admin,
            agency=agency,
            username=colleague.username.upper(),
            email="variant@example.invalid",
            invite=False,
        )
    response = sign_in(client, colleague.username, TEST_PASSWORD)
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == colleague.pk
