"""The OpenAPI 3 description at /api/schema/ and the interactive docs at /api/docs/."""

import pytest
import yaml

from streha.accounts.models import Role

pytestmark = pytest.mark.django_db

ACCOUNT_PATHS = {
    "/api/v1/agencies/": {"get", "post"},
    "/api/v1/agencies/{id}/": {"get", "patch"},
    "/api/v1/users/": {"get", "post"},
    "/api/v1/users/{id}/": {"get", "patch"},
    "/api/v1/users/me/": {"get"},
    "/api/v1/api-tokens/": {"get", "post"},
    "/api/v1/api-tokens/{id}/": {"get"},
    "/api/v1/api-tokens/{id}/revoke/": {"post"},
}
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def signed_in(client, make_user):
    client.force_login(make_user(Role.CASE_WORKER))
    return client


@pytest.fixture
def schema(signed_in):
    response = signed_in.get("/api/schema/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    return yaml.safe_load(response.content)


def test_schema_is_openapi_3_yaml(schema):
    assert str(schema["openapi"]).startswith("3.")
    assert schema["info"]["title"] == "Streha API"
    assert schema["info"]["version"]


def test_schema_is_also_served_as_json(signed_in):
    response = signed_in.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert set(ACCOUNT_PATHS) <= set(document["paths"])


def test_schema_lists_the_account_paths_and_their_methods(schema):
    for path, methods in ACCOUNT_PATHS.items():
        assert path in schema["paths"], path
        assert set(schema["paths"][path]) & HTTP_METHODS == methods, path


def test_token_security_scheme(schema):
    scheme = schema["components"]["securitySchemes"]["agencyToken"]
    assert scheme["type"] == "apiKey"
    assert scheme["in"] == "header" and scheme["name"] == "Authorization"
    operation = schema["paths"]["/api/v1/users/me/"]["get"]
    assert {"agencyToken": []} in operation["security"]


def test_issued_token_response_documents_the_secret(schema):
    created = schema["paths"]["/api/v1/api-tokens/"]["post"]["responses"]["201"]
    reference = created["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][reference.rsplit("/", 1)[1]]
    assert "token" in component["properties"]
    listed = schema["components"]["schemas"]["ApiToken"]
    assert "token" not in listed["properties"]


def test_schema_needs_a_signed_in_user(client):
    response = client.get("/api/schema/")
    assert response.status_code == 401
    assert yaml.safe_load(response.content)["error"]["code"] == "not_authenticated"


def test_docs_page_for_signed_in_users(signed_in):
    response = signed_in.get("/api/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "swagger" in page.lower()
    assert "/api/schema/" in page or "?script" in page


def test_docs_page_is_closed_to_anonymous(client):
    assert client.get("/api/docs/").status_code == 401
