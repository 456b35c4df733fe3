"""The authorization matrix: every endpoint × every role × an object inside and outside scope.

The endpoints are not listed by hand as the source of truth: they are read from the URL
configuration and from the OpenAPI schema, and a test fails when one of them has no row in
the matrix below. A new endpoint therefore cannot ship without someone deciding who may use it.
Out-of-scope objects must answer 404 (never 403, which would confirm they exist), and no
response may contain the out-of-scope person's reference or name.
"""

from importlib import import_module
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from streha.access.models import BreakGlassGrant
from streha.accounts import services as account_services
from streha.accounts.models import Agency, AgencyKind, Role, RoleGrant
from streha.people.models import PersonDocument
from streha.testing.auth import reauthenticate
from streha.testing.factories import PersonFactory, UserFactory
from streha.testing.matrix import (  # noqa: F401 - the vocabulary of the rows below
    ADMINS,
    ANON,
    CASE,
    EDIT,
    EVERYONE,
    OK,
    OUT_NAME,
    REGISTER,
    ROLES,
    P,
    Spec,
)

# Every domain app with a tests/matrix.py contributes its rows (and what its rows need).
APP_MATRICES = [
    import_module(f"streha.{path.parent.parent.name}.tests.matrix")
    for path in sorted(
        (Path(__file__).resolve().parent.parent / "streha").glob("*/tests/matrix.py")
    )
]

PERSON_EDIT = {"given_name": "Changed", "gender": "feminine"}

HTML = {
    "web:home": P(EVERYONE, path="/"),
    "accounts:agency_list": P(EVERYONE, path="/agencies/"),
    "accounts:user_list": P(ADMINS, path="/staff/"),
    "accounts:user_create": P(ADMINS, path="/staff/new/"),
    "accounts:user_edit": P(ADMINS, {Role.SYSTEM_ADMIN}, path="/staff/{user}/"),
    "accounts:user_reset_2fa": P(
        ADMINS, {Role.SYSTEM_ADMIN}, method="post", path="/staff/{user}/reset-two-factor/"
    ),
    "accounts:user_remind_2fa": P(
        ADMINS, {Role.SYSTEM_ADMIN}, method="post", path="/staff/{user}/remind-two-factor/"
    ),
    "accounts:role_approvals": P(ADMINS, path="/staff/approvals/"),
    # Approving: the asker (the system, in this world) is not the approver, so both kinds of
    # administrator may approve the inside grant; the outside one only the system admin.
    "accounts:role_grant_approve": P(
        ADMINS, {Role.SYSTEM_ADMIN}, method="post", path="/staff/grants/{grant_request}/approve/"
    ),
    "accounts:role_grant_revoke": P(
        ADMINS, {Role.SYSTEM_ADMIN}, method="post", path="/staff/grants/{grant_request}/revoke/"
    ),
    "accounts:token_list": P(ADMINS, path="/api-tokens/"),
    "accounts:token_revoke": P(
        ADMINS, {Role.SYSTEM_ADMIN}, method="post", path="/api-tokens/{token}/revoke/"
    ),
    "accounts:security": P(EVERYONE, path="/security/"),
    "people:list": P(CASE, path="/persons/"),
    "people:create": P(REGISTER, path="/persons/new/"),
    "people:break_glass": P({Role.SUPERVISOR}, path="/persons/break-glass/"),
    "people:detail": P(CASE, set(), path="/persons/{person}/?reason=code:case_work"),
    "people:edit": P(EDIT, set(), path="/persons/{person}/edit/?reason=code:case_work"),
    "people:export": P(
        {Role.SUPERVISOR},
        set(),
        method="post",
        path="/persons/{person}/export/?reason=code:case_work",
    ),
    "people:document_upload": P(
        EDIT,
        set(),
        method="post",
        path="/persons/{person}/documents/?reason=code:case_work",
        data={"title": "Letter"},
    ),
    "people:document_download": P(
        CASE, set(), path="/persons/{person}/documents/{document}/?reason=code:case_work"
    ),
    "audit:index": P({Role.AUDITOR}, path="/audit/"),
    # Any signed-in user may say why they open a record: it shows nothing, it is remembered
    # for the session, and the read itself is still decided by the policy.
    "audit:consultation_reason": P(
        EVERYONE,
        method="post",
        path="/audit/reason/",
        data={"person": "{person}", "code": "safety"},
    ),
    "audit:person": P({Role.AUDITOR}, {Role.AUDITOR}, path="/audit/persons/{person}/"),
    "audit:user": P({Role.AUDITOR}, {Role.AUDITOR}, path="/audit/users/{user}/"),
    "audit:break_glass": P({Role.AUDITOR}, path="/audit/break-glass/"),
    "audit:break_glass_review": P(
        {Role.AUDITOR},
        set(),
        method="post",
        path="/audit/break-glass/{grant}/review/",
        data={"review_note": "Justified by the police report."},
    ),
    "set_language": P(
        EVERYONE | {ANON},
        method="post",
        path="/i18n/setlang/",
        data={"language": "en", "next": "/"},
    ),
    "schema": P(EVERYONE, path="/api/schema/"),
    "api-docs": P(EVERYONE, path="/api/docs/"),
    "api-redoc": P(EVERYONE, path="/api/redoc/"),
    "api-root": P(EVERYONE, path="/api/v1/"),
}
# Sign-in machinery from django-allauth: reachable without signing in by design; what the
# matrix asserts for them is that they never fail and never show protected data.
AUTH_PAGES = {
    "account_login": "/accounts/login/",
    "account_logout": "/accounts/logout/",
    "account_inactive": "/accounts/inactive/",
    "account_signup": "/accounts/signup/",
    "account_reauthenticate": "/accounts/reauthenticate/",
    "account_request_reauthentication_code": "/accounts/reauthenticate/code/",
    "account_confirm_reauthentication_code": "/accounts/reauthenticate/code/confirm/",
    "account_email": "/accounts/email/",
    "account_email_verification_sent": "/accounts/confirm-email/",
    "account_change_password": "/accounts/password/change/",
    "account_set_password": "/accounts/password/set/",
    "account_reset_password": "/accounts/password/reset/",
    "account_confirm_login_code": "/accounts/login/code/confirm/",
    "account_confirm_email": "/accounts/confirm-email/bogus-key/",
    "account_reset_password_from_key_done": "/accounts/password/reset/key/done/",
    "account_reset_password_from_key": "/accounts/password/reset/key/1-bogus/",
    "account_reset_password_done": "/accounts/password/reset/done/",
    "mfa_index": "/accounts/2fa/",
    "mfa_authenticate": "/accounts/2fa/authenticate/",
    "mfa_reauthenticate": "/accounts/2fa/reauthenticate/",
    "mfa_activate_totp": "/accounts/2fa/totp/activate/",
    "mfa_deactivate_totp": "/accounts/2fa/totp/deactivate/",
    "mfa_view_recovery_codes": "/accounts/2fa/recovery-codes/",
    "mfa_generate_recovery_codes": "/accounts/2fa/recovery-codes/generate/",
    "mfa_download_recovery_codes": "/accounts/2fa/recovery-codes/download/",
}
# API operations, keyed as in the OpenAPI schema. The REST routes behind them are checked here;
# their HTML-style URL names are the router's.
API = {
    ("/api/v1/agencies/", "get"): P(EVERYONE),
    ("/api/v1/agencies/", "post"): P(
        {Role.SYSTEM_ADMIN},
        refused=403,
        data={"code": "new-agency", "name": "New", "kind": "health", "municipality": "prishtina"},
    ),
    ("/api/v1/agencies/{id}/", "get"): P(EVERYONE, path="/api/v1/agencies/{agency}/"),
    ("/api/v1/agencies/{id}/", "patch"): P(
        {Role.SYSTEM_ADMIN},
        refused=403,
        path="/api/v1/agencies/{agency}/",
        data={"name_sq": "Emër i ri"},
    ),
    ("/api/v1/users/", "get"): P(EVERYONE),
    ("/api/v1/users/", "post"): P(
        ADMINS, data={"username": "fresh", "email": "f@example.invalid", "agency": "{agency_code}"}
    ),
    ("/api/v1/users/{id}/", "get"): P(ADMINS, {Role.SYSTEM_ADMIN}, path="/api/v1/users/{user}/"),
    ("/api/v1/users/{id}/", "patch"): P(
        ADMINS, {Role.SYSTEM_ADMIN}, path="/api/v1/users/{user}/", data={"first_name": "Renamed"}
    ),
    ("/api/v1/users/me/", "get"): P(EVERYONE),
    ("/api/v1/api-tokens/", "get"): P(EVERYONE),
    ("/api/v1/api-tokens/", "post"): P(ADMINS, data={"name": "client", "user": "{service}"}),
    ("/api/v1/api-tokens/{id}/", "get"): P(
        ADMINS, {Role.SYSTEM_ADMIN}, path="/api/v1/api-tokens/{token}/"
    ),
    ("/api/v1/api-tokens/{id}/revoke/", "post"): P(
        ADMINS, {Role.SYSTEM_ADMIN}, path="/api/v1/api-tokens/{token}/revoke/"
    ),
    ("/api/v1/role-grants/", "get"): P(EVERYONE),
    ("/api/v1/role-grants/{id}/", "get"): P(
        ADMINS, {Role.SYSTEM_ADMIN}, path="/api/v1/role-grants/{grant_request}/"
    ),
    ("/api/v1/role-grants/{id}/approve/", "post"): P(
        ADMINS, {Role.SYSTEM_ADMIN}, path="/api/v1/role-grants/{grant_request}/approve/"
    ),
    ("/api/v1/role-grants/{id}/revoke/", "post"): P(
        ADMINS, {Role.SYSTEM_ADMIN}, path="/api/v1/role-grants/{grant_request}/revoke/"
    ),
    ("/api/v1/persons/", "get"): P(EVERYONE),
    ("/api/v1/persons/", "post"): P(REGISTER, refused=403, data={"given_name": "Newperson"}),
    ("/api/v1/persons/search/", "post"): P(EVERYONE, data={"query": OUT_NAME}),
    ("/api/v1/persons/break-glass/", "post"): P(
        {Role.SUPERVISOR},
        refused=403,
        data={
            "reference": "{out_reference}",
            "justification": "Police report immediate danger.",
            "field_groups": ["identity"],
        },
    ),
    ("/api/v1/statistics/persons/", "get"): P({Role.ANALYST}),
    ("/api/v1/pseudonymised-persons/", "get"): P({Role.ANALYST}),
    ("/api/v1/persons/{public_id}/", "get"): P(CASE, set(), path="/api/v1/persons/{person}/"),
    ("/api/v1/persons/{public_id}/", "patch"): P(
        EDIT,
        set(),
        path="/api/v1/persons/{person}/",
        data=PERSON_EDIT,
        refused_inside={Role.PROSECUTOR: 403, Role.HOTLINE_OPERATOR: 403},
    ),
    ("/api/v1/persons/{public_id}/export/", "get"): P(
        {Role.SUPERVISOR},
        set(),
        path="/api/v1/persons/{person}/export/",
        refused_inside={r: 403 for r in CASE - {Role.SUPERVISOR}},
    ),
}


def _walk(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), namespace + (pattern.name or "")


for _matrix in APP_MATRICES:
    HTML.update(_matrix.HTML)
    API.update(_matrix.API)
    AUTH_PAGES.update(getattr(_matrix, "AUTH_PAGES", {}))


def html_url_names() -> set[str]:
    names = set()
    for route, name in _walk(get_resolver().url_patterns):
        if name.startswith("admin:") or (route.startswith("api/v1/") and route != "api/v1/"):
            continue  # Django admin: checked below; API routes: checked through the schema
        names.add(name)
    return names


def api_operations() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        (path, method)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }


def test_every_url_is_in_the_matrix():
    missing = html_url_names() - set(HTML) - set(AUTH_PAGES)
    assert not missing, f"Endpoints without an authorization rule: {sorted(missing)}"
    stale = (set(HTML) | set(AUTH_PAGES)) - html_url_names()
    assert not stale, f"Matrix rows for endpoints that no longer exist: {sorted(stale)}"


def test_every_api_operation_is_in_the_matrix():
    operations = api_operations()
    missing = operations - set(API)
    assert not missing, f"API operations without an authorization rule: {sorted(missing)}"
    assert not set(API) - operations, "Matrix rows for API operations that no longer exist"


def test_no_protected_model_in_django_admin():
    from django.contrib import admin

    from streha.protection.models import ProtectedModel

    registered = [m for m in admin.site._registry if issubclass(m, ProtectedModel)]
    assert registered == [], "Protected data must not be reachable around the access policy"


# --- The world every row is checked in ------------------------------------------------------


def build_world():
    """Agency A (one user per role), agency B (the outside), their persons, tokens, grants."""
    inside = Agency.objects.create(code="inside", name="Inside", kind=AgencyKind.SHELTER)
    outside = Agency.objects.create(code="outside", name="Outside", kind=AgencyKind.POLICE)
    users = {role: UserFactory(agency=inside, roles=[role]) for role in Role.values}
    other_user = UserFactory(agency=outside, roles=[Role.CASE_WORKER])
    outside_supervisor = UserFactory(agency=outside, roles=[Role.SUPERVISOR])
    colleague = UserFactory(agency=inside, roles=[Role.CASE_WORKER])
    person_in = PersonFactory(owner_agency=inside, given_name="Insiderina")
    person_out = PersonFactory(owner_agency=outside, given_name=OUT_NAME)
    admin = users[Role.SYSTEM_ADMIN]
    service_in = UserFactory(agency=inside, roles=[Role.CASE_WORKER], is_service_account=True)
    service_out = UserFactory(agency=outside, roles=[Role.CASE_WORKER], is_service_account=True)
    token_in, _ = account_services.issue_api_token(admin, user=service_in, name="in")
    token_out, _ = account_services.issue_api_token(admin, user=service_out, name="out")
    # A role asked for by the system (no person asked) for each scope, waiting for approval.
    requests = {
        scope: RoleGrant.objects.create(user=user, role=Role.ANALYST)
        for scope, user in (("in", colleague), ("out", other_user))
    }
    documents = {
        scope: PersonDocument.objects.create(
            person=person,
            title="Letter",
            file_name="letter.txt",
            content=b"text",
            content_type="text/plain",
            size=4,
        )
        for scope, person in (("in", person_in), ("out", person_out))
    }
    later = timezone.now() + timezone.timedelta(hours=1)
    grant_in = BreakGlassGrant.objects.create(
        user=colleague, person=person_out, justification="Inside review " * 3, expires_at=later
    )
    # Outside the agency's auditors on both sides: another agency's supervisor, and a person
    # that agency holds (the holding agency's auditors see break-glass on its records).
    grant_out = BreakGlassGrant.objects.create(
        user=outside_supervisor,
        person=person_out,
        justification="Outside review " * 3,
        expires_at=later,
    )
    world = {
        "users": users,
        "in": {
            "person": person_in.public_id,
            "user": colleague.pk,
            "token": token_in.pk,
            "service": service_in.pk,
            "grant_request": requests["in"].pk,
            "grant": grant_in.pk,
            "agency": inside.pk,
            "document": documents["in"].public_id,
        },
        "out": {
            "person": person_out.public_id,
            "user": other_user.pk,
            "token": token_out.pk,
            "service": service_out.pk,
            "grant_request": requests["out"].pk,
            "grant": grant_out.pk,
            "agency": outside.pk,
            "document": documents["out"].public_id,
        },
        "agency_code": inside.code,
        "out_reference": person_out.reference,
        "agencies": {"in": inside, "out": outside},
        "persons": {"in": person_in, "out": person_out},
        "outside_users": {"case_worker": other_user, "supervisor": outside_supervisor},
    }
    for matrix in APP_MATRICES:
        matrix.extend_world(world)
    return world


def _fill(template, world, scope):
    values = {
        **world[scope],
        "agency_code": world["agency_code"],
        "out_reference": world["out_reference"],
    }
    if isinstance(template, str):
        return template.format(**values)
    if isinstance(template, dict):
        return {key: _fill(value, world, scope) for key, value in template.items()}
    return template


def _request(client, method, path, data, api):
    if method == "get":
        return client.get(path)
    if api:
        return getattr(client, method)(path, data, content_type="application/json")
    return getattr(client, method)(path, data)


def _check(spec: Spec, path_template: str, world, client, api: bool):
    failures = []
    scopes = ["in"] if spec.outside is None else ["in", "out"]
    for scope in scopes:
        allowed = spec.inside if scope == "in" else spec.outside
        for role in ROLES:
            client.logout()
            if role != ANON:
                client.force_login(world["users"][role])
                # Authorization only here: re-authentication has its own column below.
                reauthenticate(client, world["users"][role])
            path = _fill(path_template, world, scope)
            data = _fill(spec.data, world, scope)
            response = _request(client, spec.method, path, data, api)
            status = response.status_code
            body = response.content.decode(errors="replace")
            if role == ANON and role not in allowed:
                api_style = api or path.startswith("/api/")
                expected = {401, 403} if api_style else {302}
                good = status in expected and (
                    api_style or "/accounts/login/" in response["Location"]
                )
            elif role in allowed:
                expected = OK
                good = status in OK
            else:
                refusal = spec.refused if scope == "in" else 404
                expected = {spec.refused_inside.get(role, refusal) if scope == "in" else 404}
                good = status in expected
            leaked = OUT_NAME in body or world["out_reference"] in body
            # Opening a record outside scope is what break-glass is for; auditors see references.
            leak_allowed = role in allowed and (
                "break-glass" in path_template or "audit" in path_template
            )
            if not good or (leaked and not leak_allowed):
                failures.append(
                    f"{spec.method.upper()} {path} as {role} ({scope}): {status}, "
                    f"expected {sorted(expected)}{' LEAK' if leaked else ''}"
                )
    return failures


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(HTML))
def test_html_endpoint(name, client):
    world = build_world()
    spec = HTML[name]
    failures = _check(spec, spec.path, world, client, api=False)
    assert not failures, "\n".join(failures)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "operation", sorted(API), ids=lambda op: f"{op[1]}:{op[0]}" if isinstance(op, tuple) else op
)
def test_api_operation(operation, client):
    world = build_world()
    spec = API[operation]
    spec.method = operation[1]
    failures = _check(spec, spec.path or operation[0], world, client, api=True)
    assert not failures, "\n".join(failures)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(AUTH_PAGES))
def test_sign_in_machinery_never_fails_or_shows_protected_data(name, client):
    world = build_world()
    for role in (ANON, Role.CASE_WORKER, Role.SUPERVISOR):
        client.logout()
        if role != ANON:
            client.force_login(world["users"][role])
        response = client.get(AUTH_PAGES[name])
        assert response.status_code < 500, f"{name} as {role}: {response.status_code}"
        body = response.content.decode(errors="replace")
        assert "Insiderina" not in body and OUT_NAME not in body


@pytest.mark.django_db
def test_django_admin_is_for_superusers_only(client, make_user):
    for role in Role.values:
        client.force_login(make_user(role))
        response = client.get("/django-admin/")
        assert response.status_code == 302 and "login" in response["Location"]


# --- Column: self-administration ---------------------------------------------------------------
# What an administrator tries on their own account. Every attempt is refused and changes
# nothing: no role, no approval, no token, no factor reset, no deactivation of oneself.
SELF_ADMINISTRATION = {
    "own roles, page": (
        "post",
        "/staff/{me}/",
        {"email": "me@example.invalid", "roles": [Role.SUPERVISOR], "is_active": "on"},
    ),
    "own roles, API": ("patch", "/api/v1/users/{me}/", {"roles": [Role.SUPERVISOR]}),
    "deactivate oneself, API": ("patch", "/api/v1/users/{me}/", {"is_active": False}),
    "reset own second factor": ("post", "/staff/{me}/reset-two-factor/", {}),
    "token acting as oneself": ("post", "/api/v1/api-tokens/", {"name": "me", "user": "{me}"}),
    "approve own request, page": ("post", "/staff/grants/{own_request}/approve/", {}),
    "approve own request, API": ("post", "/api/v1/role-grants/{own_request}/approve/", {}),
    "revoke own role, API": ("post", "/api/v1/role-grants/{own_role}/revoke/", {}),
}


@pytest.mark.django_db
@pytest.mark.parametrize("admin_role", sorted(ADMINS))
@pytest.mark.parametrize("attempt", sorted(SELF_ADMINISTRATION))
def test_self_administration_is_refused(client, admin_role, attempt):
    from allauth.mfa.models import Authenticator

    from streha.accounts.models import ApiToken

    agency = Agency.objects.create(code="self", name="Self", kind=AgencyKind.SHELTER)
    me = UserFactory(agency=agency, roles=[admin_role])
    peer = UserFactory(agency=agency, roles=[admin_role])
    own_request = RoleGrant.objects.create(user=me, role=Role.SUPERVISOR, granted_by=peer)
    Authenticator.objects.create(user=me, type=Authenticator.Type.TOTP, data={})
    method, path, data = SELF_ADMINISTRATION[attempt]
    values = {"me": me.pk, "own_request": own_request.pk, "own_role": me.role_grants.first().pk}
    path = path.format(**values)
    data = {k: (v.format(**values) if isinstance(v, str) else v) for k, v in data.items()}
    client.force_login(me)
    reauthenticate(client, me)
    response = _request(client, method, path, data, api=path.startswith("/api/"))

    assert response.status_code in {302, 400, 403, 404}, (attempt, response.status_code)
    me = type(me).objects.get(pk=me.pk)
    assert me.is_active and me.roles == {admin_role}
    assert RoleGrant.objects.get(pk=own_request.pk).is_pending
    assert RoleGrant.objects.filter(user=me, revoked_at__isnull=False).count() == 0
    assert not ApiToken.objects.exists()
    assert Authenticator.objects.filter(user=me).exists()


# --- Column: tokens ----------------------------------------------------------------------------
# Every API operation, called with (a) a token acting as a person (made before tokens were
# restricted to service accounts) and (b) a service account's read-only token.


@pytest.mark.django_db
@pytest.mark.parametrize(
    "operation", sorted(API), ids=lambda op: f"{op[1]}:{op[0]}" if isinstance(op, tuple) else op
)
def test_tokens_column(operation):
    from rest_framework.test import APIClient

    from streha.accounts.models import ApiToken

    world = build_world()
    spec = API[operation]
    colleague = type(world["users"][Role.CASE_WORKER]).objects.get(pk=world["in"]["user"])
    ApiToken.objects.create(
        agency=colleague.agency,
        user=colleague,
        name="as a person",
        key_prefix="feedface",
        key_digest=ApiToken.digest("strh_feedface_person"),
        scopes=["read", "write"],
    )
    _token, read_only = account_services.issue_api_token(
        world["users"][Role.SYSTEM_ADMIN],
        user=ApiToken.objects.get(pk=world["in"]["token"]).user,
        name="read only",
        scopes=["read"],
    )
    method = operation[1]
    path = _fill(spec.path or operation[0], world, "in")
    data = _fill(spec.data, world, "in")
    api = APIClient()

    def call(secret):
        kwargs = {"HTTP_AUTHORIZATION": f"Token {secret}"}
        if method == "get":
            return api.get(path, **kwargs)
        return getattr(api, method)(path, data, format="json", **kwargs)

    assert call("strh_feedface_person").status_code == 401
    status = call(read_only).status_code
    if method == "get":
        assert status != 401, (operation, status)  # reading is within the token's scope
    else:
        assert status == 403, (operation, status)


# --- Column: sign-in paths -----------------------------------------------------------------------
# Every way into a session, tried by someone who knows the password of an enrolled user but
# not their second factor (outside demo mode). None of them may reach a page.


def _allauth_login(client, user):
    client.post("/accounts/login/", {"login": user.username, "password": "Correct-Horse-Battery-9"})


def _django_admin_login(client, user):
    client.post(
        "/django-admin/login/",
        {"username": user.username, "password": "Correct-Horse-Battery-9", "next": "/"},
    )


def _login_around_the_stages(client, user):
    client.force_login(user)  # what the Django admin's own form, or any login() call, does


def _signup(client, user):
    client.post(
        "/accounts/signup/",
        {"username": "newcomer", "email": "n@example.invalid", "password1": "x" * 14},
    )


def _login_by_code(client, user):
    client.post("/accounts/login/code/confirm/", {"code": "123456"})


def _password_reset_link(client, user):
    client.post("/accounts/password/reset/", {"email": user.email})


SIGN_IN_PATHS = {
    "allauth password form": _allauth_login,
    "Django admin login form": _django_admin_login,
    "login() around allauth's stages": _login_around_the_stages,
    "self sign-up": _signup,
    "login by code": _login_by_code,
    "password reset e-mail": _password_reset_link,
}


@pytest.mark.django_db
@pytest.mark.parametrize("path", sorted(SIGN_IN_PATHS))
def test_every_sign_in_path_needs_the_second_factor(client, settings, path):
    from allauth.mfa.models import Authenticator

    settings.DEMO_MODE = False
    user = UserFactory(roles=[Role.SUPERVISOR])
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={})
    SIGN_IN_PATHS[path](client, user)
    home = client.get("/")
    assert home.status_code == 302 and home["Location"].startswith("/accounts/login/"), path
    assert client.get("/api/v1/users/me/").status_code in {401, 403}, path
    assert "_auth_user_id" not in client.session, path


# --- The sealed-witness column (streha/justice/tests/matrix.py) -------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("row", import_module("streha.justice.tests.matrix").SEALED_ROWS, ids=str)
def test_sealed_witness_column(row, client, stopped_clock):
    """Every role gets the same answer, byte for byte, whoever the inside witness is sealed to
    (the clock stopped: the analyst's home shows when its figures were counted, to the
    minute)."""
    sealed = import_module("streha.justice.tests.matrix")
    world = build_world()
    kind, key = row
    spec = HTML[key] if kind == "html" else API[key]
    method = spec.method if kind == "html" else key[1]
    path = _fill(spec.path or key[0], world, "in")
    data = _fill(spec.data, world, "in")

    def answers():
        seen = {}
        for role in ROLES:
            client.logout()
            if role != ANON:
                client.force_login(world["users"][role])
            seen[role] = sealed.normalised(_request(client, method, path, data, kind == "api"))
        return seen

    first = answers()
    sealed.reseal(world, world["sealed"]["other"])
    second = answers()
    changed = [role for role in ROLES if first[role] != second[role]]
    assert not changed, (
        f"{method.upper()} {path}: answers depend on the sealed person for {changed}"
    )
