"""The API answers as its OpenAPI schema says, for every role (issue 10 point 9).

Schemathesis generates requests from /api/schema/ for the case, referral, task, notification
and person operations and checks every answer against the schema: no server error, a status
the operation documents, the documented content type and body shape, invalid input refused.
Each generated request is sent as every role, through the WSGI application (no network),
with a fixed seed and a few examples per operation, so the run is deterministic and bounded
for 2 cores.
"""

import json
import re

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from streha.accounts import services as account_services
from streha.accounts.models import AgencyKind, Role
from streha.testing.factories import UserFactory

# The operations of the case and person apps (the others: their own apps' runs).
OPERATIONS = r"^/api/"
# The case and person operations (the busiest) get three examples each, the others one, so
# that every operation of the schema runs as every role in bounded time on 2 cores.
THOROUGH = r"^/api/v1/(cases|referrals|case-tasks|case-notifications|persons)/"
ROLES = [role for role in Role.values if role != Role.SYSTEM_ADMIN]
# What the schema promises: no server error, only documented statuses and content types, bodies
# of the documented shape, invalid input refused. (Whether a well-formed request is accepted
# depends on the data and the rules, such as an unknown case or a stage: not checked here.)
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
]


@pytest.fixture
def api_schema(client, world):
    admin = world.user(Role.SYSTEM_ADMIN, AgencyKind.POLICE)
    client.force_login(admin)
    answer = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    client.logout()
    schema = schemathesis.openapi.from_dict(json.loads(answer.content))
    schema.app = get_wsgi_application()
    # As Django's test client does: a request must not close the test's database connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield schema
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(world):
    """An API token of a user of every role at the police (a competent authority)."""
    admin = world.user(Role.SYSTEM_ADMIN, AgencyKind.POLICE)
    found = {}
    for role in ROLES:
        # Tokens are for service accounts only (accounts.services): one per role, at the police.
        machine = UserFactory(
            agency=world.agency(AgencyKind.POLICE),
            roles=[role],
            username=f"machine.{role}",
            is_service_account=True,
        )
        _token, secret = account_services.issue_api_token(
            admin, user=machine, name=role, scopes=["read", "write"]
        )
        found[role] = secret
    return found


@pytest.mark.django_db
def test_every_role_gets_the_answers_the_schema_documents(api_schema, tokens):
    failures, visited = [], set()
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if not re.match(OPERATIONS, operation.path):
            continue
        visited.add(f"{operation.method.upper()} {operation.path}")

        @settings(
            max_examples=3 if re.match(THOROUGH, operation.path) else 1,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def answers_as_documented(case):
            for role, secret in tokens.items():
                try:
                    case.call_and_validate(
                        headers={"Authorization": f"Token {secret}"}, checks=CHECKS
                    )
                except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001 - reported below
                    raise AssertionError(f"{role}: {failure}") from failure

        try:
            answers_as_documented()
        except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001 - all tried
            failures.append(f"{operation.method.upper()} {operation.path}: {failure}"[:3000])
    assert not failures, "\n\n".join(failures)
    # Every operation of these apps was tried (the list is the schema's, so it grows with it).
    assert len(visited) >= 30 and "POST /api/v1/cases/{public_id}/transition/" in visited
