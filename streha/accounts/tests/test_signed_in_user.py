"""The signed-in user is read once per request, with what every page asks of them: agency,
effective roles, second-factor enrolment and whether they started a job (issue 17: each of
these was a round trip of its own on every page)."""

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from streha.accounts.models import Role, RoleGrant
from streha.accounts.selectors import signed_in_user, started_a_job, two_factor_enrolled
from streha.jobs.models import Job
from streha.testing.auth import pass_second_factor
from streha.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_roles_are_the_effective_grants_only():
    user = UserFactory(roles=[Role.CASE_WORKER, Role.INVESTIGATOR])
    RoleGrant.objects.create(user=user, role=Role.AGENCY_ADMIN)  # pending: gives nothing
    RoleGrant.objects.create(
        user=user,
        role=Role.AUDITOR,
        approved_at=timezone.now(),
        revoked_at=timezone.now(),
    )
    other = UserFactory(roles=[Role.ANALYST])

    found = signed_in_user(user.pk)

    assert found.roles == frozenset({Role.CASE_WORKER, Role.INVESTIGATOR})
    assert found.roles == UserFactory._meta.model.objects.get(pk=user.pk).roles
    assert signed_in_user(other.pk).roles == frozenset({Role.ANALYST})


def test_a_user_without_roles_has_none():
    assert signed_in_user(UserFactory().pk).roles == frozenset()


def test_agency_enrolment_and_jobs_come_with_the_one_query():
    user = UserFactory(roles=[Role.CASE_WORKER])
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={})
    Job.objects.create(kind="test", started_by=user)
    with CaptureQueriesContext(connection) as queries:
        found = signed_in_user(user.pk)
        facts = (
            found.agency.code,
            found.roles,
            two_factor_enrolled(found),
            started_a_job(found),
        )
    assert len(queries) == 1
    assert facts == (user.agency.code, frozenset({Role.CASE_WORKER}), True, True)


def test_without_enrolment_or_jobs_both_are_false():
    found = signed_in_user(UserFactory().pk)
    assert (two_factor_enrolled(found), started_a_job(found)) == (False, False)


def test_a_user_read_elsewhere_is_asked():
    user = UserFactory()
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={})
    plain = UserFactory._meta.model.objects.get(pk=user.pk)
    assert two_factor_enrolled(plain) is True
    assert started_a_job(plain) is False


def test_unknown_user_is_none():
    assert signed_in_user(10**9) is None


def test_a_page_reads_the_user_in_one_query(client, settings):
    settings.DEMO_MODE = False  # the second-factor check runs, as in production
    user = UserFactory(roles=[Role.CASE_WORKER])
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={})
    client.force_login(user)
    pass_second_factor(client, user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/cases/")
    assert response.status_code == 200
    tables = " ".join(q["sql"] for q in queries.captured_queries)
    user_reads = [q for q in queries.captured_queries if 'FROM "accounts_user"' in q["sql"]]
    assert len(user_reads) == 1
    for table in ("accounts_rolegrant", "mfa_authenticator", "jobs_job", "accounts_agency"):
        outside = [
            q["sql"] for q in queries.captured_queries if table in q["sql"] and q not in user_reads
        ]
        assert not outside, (table, outside)
    assert "accounts_rolegrant" in tables


def test_a_revoked_role_is_gone_on_the_next_request(client):
    user = UserFactory(roles=[Role.CASE_WORKER])
    client.force_login(user)
    assert client.get("/cases/").status_code == 200
    RoleGrant.objects.filter(user=user).update(revoked_at=timezone.now())
    assert client.get("/cases/").status_code in (403, 404)


def test_an_inactive_user_is_signed_out(client):
    user = UserFactory(roles=[Role.CASE_WORKER])
    client.force_login(user)
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    response = client.get("/")
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_the_request_holds_the_user_itself_not_a_proxy(client):
    user = UserFactory(roles=[Role.CASE_WORKER])
    client.force_login(user)
    response = client.get("/cases/")
    assert response.status_code == 200
    assert type(response.wsgi_request.user) is type(user)
    assert response.wsgi_request.user.pk == user.pk


def test_without_a_session_the_request_holds_the_anonymous_user(client):
    response = client.get("/learn/")
    assert response.status_code == 200
    assert type(response.wsgi_request.user) is AnonymousUser


def test_each_user_gets_their_own_facts_from_the_reused_query():
    first = UserFactory(roles=[Role.CASE_WORKER])
    second = UserFactory(roles=[Role.AUDITOR], agency=None)
    Authenticator.objects.create(user=second, type=Authenticator.Type.TOTP, data={})
    for _ in range(2):  # the second round reads through the query compiled in the first
        a, b = signed_in_user(first.pk), signed_in_user(second.pk)
        assert (a.pk, a.agency.code, a.roles, two_factor_enrolled(a)) == (
            first.pk,
            first.agency.code,
            frozenset({Role.CASE_WORKER}),
            False,
        )
        assert (b.pk, b.agency, b.roles, two_factor_enrolled(b)) == (
            second.pk,
            None,
            frozenset({Role.AUDITOR}),
            True,
        )
