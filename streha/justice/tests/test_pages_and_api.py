"""The criminal case pages and API: the same steps, the same validation, scoped and audited."""

import pytest
from django.urls import reverse

from streha.audit.models import AuditEvent
from streha.justice.actions import ACTIONS
from streha.justice.models import CriminalCase, Stage
from streha.justice.tests.conftest import DAY

pytestmark = pytest.mark.django_db


def test_investigator_opens_a_case_from_a_victim_case_page(client, world):
    client.force_login(world.users["investigator"])
    url = reverse("justice:create") + f"?victim_case={world.victim_case.public_id}"
    assert client.get(url).status_code == 200
    bad = client.post(url, {"opened_on": "not a date", "prosecution_office": "nope"})
    assert bad.status_code == 400 and not CriminalCase.objects.exists()
    response = client.post(url, {"opened_on": "2025-03-03", "prosecution_office": "office"})
    case = CriminalCase.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{case.public_id}/")
    assert list(case.victim_cases.all()) == [world.victim_case]


def test_roles_without_justice_work_cannot_open_cases(client, world):
    for role in ("shelter_worker", "analyst", "auditor", "prosecutor_none"):
        if role not in world.users:
            continue
        client.force_login(world.users[role])
        assert client.get(reverse("justice:create")).status_code == 404


def test_case_page_offers_the_next_events_as_buttons(client, world, reported):
    client.force_login(world.users["prosecutor"])
    page = client.get(reverse("justice:detail", args=[reported.public_id]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "?kind=investigation_initiated" in body and "?kind=indictment_filed" in body
    assert "?kind=criminal_report" not in body  # the police's, and already done
    assert "Suspectus" in body  # the prosecutor sees the defendants
    client.force_login(world.users["liaison"])
    body = client.get(reverse("justice:detail", args=[reported.public_id])).content.decode()
    assert "?kind=investigation_initiated" not in body


def test_a_step_runs_with_htmx_and_swaps_the_case_body(client, world, reported):
    client.force_login(world.users["prosecutor"])
    url = reverse("justice:step", args=[reported.public_id, "event"])
    form = client.get(url + "?kind=investigation_initiated", headers={"HX-Request": "true"})
    assert form.status_code == 200 and 'id="form-event"' in form.content.decode()
    invalid = client.post(
        url, {"kind": "final", "occurred_on": "2025-03-04"}, headers={"HX-Request": "true"}
    )
    assert invalid.status_code == 400
    assert "final" not in invalid.content.decode().split("field-error")[-1][:200]
    done = client.post(
        url,
        {"kind": "investigation_initiated", "occurred_on": "2025-03-04", "document": "Ruling 7"},
        headers={"HX-Request": "true"},
    )
    assert done.status_code == 200 and done["HX-Retarget"] == "#case-body"
    reported.refresh_from_db()
    assert reported.stage == Stage.INVESTIGATION


def test_a_step_not_offered_is_not_found(client, world, reported):
    client.force_login(world.users["investigator"])
    url = reverse("justice:step", args=[reported.public_id, "judgment"])
    assert client.get(url).status_code == 404
    assert (
        client.get(reverse("justice:step", args=[reported.public_id, "nonsense"])).status_code
        == 404
    )


def test_the_list_filters(client, world, reported):
    client.force_login(world.users["prosecutor"])
    base = reverse("justice:list")
    assert reported.reference in client.get(base).content.decode()
    assert (
        reported.reference
        in client.get(
            base + "?stage=reported&offence=trafficking&office=office&year=2025"
        ).content.decode()
    )
    assert reported.reference not in client.get(base + "?stage=final").content.decode()
    assert reported.reference not in client.get(base + "?reclassified=on").content.decode()
    assert reported.reference not in client.get(base + "?below_minimum=on").content.decode()
    assert client.get(base + "?year=abc&stage=bogus").status_code == 200
    client.force_login(world.users["shelter_worker"])
    assert client.get(base).status_code == 404
    assert AuditEvent.objects.filter(purpose="criminal case list").exists()


def test_every_step_is_an_api_operation_in_the_schema(client, world):
    client.force_login(world.users["prosecutor"])
    schema = client.get("/api/schema/", headers={"Accept": "application/json"})
    text = schema.content.decode()
    for name in ACTIONS:
        assert f"/api/v1/criminal-cases/{{public_id}}/{name.replace('_', '-')}/" in text


def test_api_runs_the_same_steps(api_client, world, reported):
    api_client.force_authenticate(world.users["prosecutor"])
    base = f"/api/v1/criminal-cases/{reported.public_id}/"
    assert "event" in api_client.get(base + "steps/").json()
    bad = api_client.post(
        base + "event/", {"kind": "final", "occurred_on": "2025-03-05"}, format="json"
    )
    assert bad.status_code == 400 and "kind" in bad.json()["error"]["fields"]
    assert "final" not in str(bad.json())
    ok = api_client.post(
        base + "event/", {"kind": "indictment_filed", "occurred_on": "2025-03-05"}, format="json"
    )
    assert ok.status_code == 200 and ok.json()["stage"] == "indicted"
    defendant = ok.json()["defendants"][0]["id"]
    offences = api_client.get("/api/v1/offences/").json()
    lesser = next(
        o["id"]
        for o in offences
        if o["key"] == "facilitating_prostitution" and o["code"] == "06/L-074"
    )
    first_charge = ok.json()["defendants"][0]["charges"][0]["id"]
    reclassified = api_client.post(
        base + "charge/",
        {
            "defendant": defendant,
            "offence": lesser,
            "stage": "indictment",
            "recorded_on": "2025-03-05",
            "counts": 1,
            "replaces": first_charge,
        },
        format="json",
    )
    assert reclassified.status_code == 200, reclassified.json()
    assert reclassified.json()["reclassified"] is True
    # A step the user is not offered is not found, like a case outside their scope.
    assert api_client.post(base + "judgment/", {}, format="json").status_code == 404


def test_api_list_and_retrieve_are_scoped(api_client, world, reported):
    api_client.force_authenticate(world.users["shelter_worker"])
    assert api_client.get("/api/v1/criminal-cases/").json()["count"] == 0
    assert api_client.get(f"/api/v1/criminal-cases/{reported.public_id}/").status_code == 404
    api_client.force_authenticate(world.users["investigator"])
    listing = api_client.get("/api/v1/criminal-cases/?stage=reported").json()
    assert [row["reference"] for row in listing["results"]] == [reported.reference]
    assert api_client.get("/api/v1/criminal-cases/?year=abc").status_code == 400


def test_api_opens_a_case(api_client, world):
    api_client.force_authenticate(world.users["investigator"])
    bad = api_client.post("/api/v1/criminal-cases/", {"opened_on": "x"}, format="json")
    assert bad.status_code == 400
    created = api_client.post(
        "/api/v1/criminal-cases/",
        {
            "opened_on": "2025-03-03",
            "prosecution_office": "office",
            "victim_case": str(world.victim_case.public_id),
        },
        format="json",
    )
    assert created.status_code == 201 and created.json()["stage"] == "police"
    api_client.force_authenticate(world.users["shelter_worker"])
    assert (
        api_client.post(
            "/api/v1/criminal-cases/", {"opened_on": "2025-03-03"}, format="json"
        ).status_code
        == 403
    )


def test_victim_advocate_sees_only_the_injured_party_part(client, world, reported):
    from streha.justice import services

    services.add_injured_party(
        world.users["prosecutor"], reported, victim_case=world.victim_case, advocate="advocate"
    )
    client.force_login(world.users["advocate"])
    body = client.get(reverse("justice:detail", args=[reported.public_id])).content.decode()
    assert world.victim_case.reference in body
    assert "Suspectus" not in body and 'id="timeline"' not in body
    steps = client.get(f"/api/v1/criminal-cases/{reported.public_id}/steps/").json()
    assert set(steps) == {"claim", "compensation", "residence_permit"}


def test_my_work_shows_the_prosecutors_deadlines(client, world, reported):
    client.force_login(world.users["prosecutor"])
    home = client.get("/").content.decode()
    assert reverse("justice:my_work") in home
    work = client.get(reverse("justice:my_work")).content.decode()
    assert reported.reference in work
    from streha.justice.models import Deadline

    deadline = Deadline.objects.get(case=reported, done_at__isnull=True)
    done = client.post(reverse("justice:deadline_done", args=[deadline.pk]))
    assert done.status_code == 302
    deadline.refresh_from_db()
    assert deadline.done_at is not None
    client.force_login(world.users["investigator"])
    assert client.post(reverse("justice:deadline_done", args=[deadline.pk])).status_code == 404


def test_offence_catalogue_page_marks_unconfirmed_for_administrators(client, world, make_user):
    from streha.accounts.models import Role

    client.force_login(world.users["prosecutor"])
    page = client.get(reverse("justice:offences")).content.decode()
    assert "06/L-074 Art. 165" in page and 'class="unconfirmed"' not in page
    admin = make_user(Role.SYSTEM_ADMIN, agency=world.coordinator)
    client.force_login(admin)
    page = client.get(reverse("justice:offences")).content.decode()
    assert 'class="unconfirmed"' in page and "min_months" in page


def test_sharing_page(client, world):
    client.force_login(world.users["investigator"])
    url = reverse("justice:share", args=[world.victim_case.public_id])
    assert client.get(url).status_code == 200
    assert client.post(url, {"office": "nope"}).status_code == 400
    assert client.post(url, {"office": "office", "field_groups": ["identity"]}).status_code == 302
    client.force_login(world.users["prosecutor"])
    assert client.get(url).status_code == 404


def test_translated_case_page(client, world, reported):
    client.force_login(world.users["prosecutor"])
    client.cookies["django_language"] = "sq"
    body = client.get(reverse("justice:detail", args=[reported.public_id])).content.decode()
    assert "Raportuar te prokurori" in body and "Dëshmitarët" in body
    assert reported.stage == Stage.REPORTED and DAY.year == 2025


def test_step_operations_document_their_request_body(client, world):
    client.force_login(world.users["prosecutor"])
    schema = client.get("/api/schema/", headers={"Accept": "application/json"}).json()
    for name in ACTIONS:
        operation = schema["paths"][
            f"/api/v1/criminal-cases/{{public_id}}/{name.replace('_', '-')}/"
        ]
        body = operation["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert "$ref" in body, name
    event = schema["components"]["schemas"]["EventStepRequest"]
    assert {"kind", "occurred_on"} <= set(event["properties"])
