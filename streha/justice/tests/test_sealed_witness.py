"""The sealed witness: only the prosecutor handling the case and the witness protection unit
learn who a pseudonym stands for, each time audited with a reason; nobody else can tell from
any response, not by its content, its length, or a 403 instead of a 404.

The per-path tests seal the witness to one person, read every path as every observer, seal it
to another person (or to nobody), read again, and require the two answers to be byte for byte
the same (after removing the per-request CSRF token), with the clock stopped for both readings:
a page may show the time it was made (the statistics' "counted just now"), which must not count
as an answer that differs.
"""

import re
import uuid

import pytest

from streha.access.models import BreakGlassGrant
from streha.audit.models import AuditEvent
from streha.justice import services
from streha.justice.models import Witness, WitnessResolution, WitnessSeal
from streha.justice.tests.conftest import DAY

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+')
REASON = "Needed to summon the witness to the main trial."


def _normal(response) -> tuple[int, bytes]:
    body = response.content.decode(errors="replace")
    return response.status_code, TOKEN.sub(r"\1-", body).encode()


@pytest.fixture
def sealed(world, reported):
    """Witness A of the reported case, sealed to ``world.witness_person`` (whom the police
    shared with the office, as they would a cooperating witness)."""
    from streha.access.models import AccessGrant

    AccessGrant.objects.create(
        person=world.witness_person, agency=world.office, field_groups=["identity"], reason="x"
    )
    witness = services.add_witness(
        world.users["prosecutor"],
        reported,
        kind="cooperative",
        person_reference=world.witness_person.reference,
        added_on=DAY,
    )
    services.order_protection(
        world.users["prosecutor"],
        reported,
        witness=witness,
        measures=["pseudonym", "video_link"],
        judge="Judge Demo",
        legal_basis="CPC 08/L-032 Art. 221",
        ordered_on=DAY,
        status="in_force",
    )
    return witness


def _reseal(witness, person):
    WitnessSeal.objects.filter(witness=witness).delete()
    if person is not None:
        WitnessSeal.objects.create(witness=witness, person_ref=str(person.public_id))


OBSERVERS = [
    "other_prosecutor",
    "office_supervisor",
    "investigator",
    "police_supervisor",
    "liaison",
    "advocate",
    "analyst",
    "auditor",
    "shelter_worker",
]


def _paths(world, case, witness):
    person = world.witness_person
    return [
        ("get", "/", None),
        ("get", "/justice/", None),
        ("get", "/justice/tasks/", None),
        ("get", f"/justice/{case.public_id}/", None),
        ("get", f"/justice/{case.public_id}/protection_order/", None),
        ("get", f"/justice/{case.public_id}/correct/", None),
        ("get", f"/api/v1/criminal-cases/{case.public_id}/", None),
        ("get", f"/api/v1/criminal-cases/{case.public_id}/steps/", None),
        ("get", "/api/v1/criminal-cases/", None),
        ("get", f"/persons/{person.public_id}/", None),
        ("get", f"/api/v1/persons/{person.public_id}/", None),
        ("get", "/persons/", None),
        ("post", "/api/v1/persons/search/", {"query": "Sealedina Synthetic"}),
        ("get", "/api/v1/pseudonymised-persons/", None),
        ("get", "/api/v1/statistics/justice-funnel/?year=2025", None),
        ("get", f"/justice/statistics/?year={DAY.year}", None),
        ("get", f"/justice/witnesses/{witness.public_id}/resolve/", None),
        ("post", f"/api/v1/witnesses/{witness.public_id}/resolve/", {"reason": REASON}),
        ("post", f"/justice/witnesses/{witness.public_id}/resolve/", {"reason": REASON}),
        ("get", "/justice/witnesses/", None),
    ]


def _read_all(client, world, sealed, reported):
    answers = {}
    for role in OBSERVERS:
        client.force_login(world.users[role])
        for method, path, data in _paths(world, reported, sealed):
            if method == "get":
                response = client.get(path)
            else:
                response = (
                    client.post(path, data, content_type="application/json")
                    if path.startswith("/api/")
                    else client.post(path, data)
                )
            answers[(role, method, path)] = _normal(response)
    return answers


@pytest.mark.parametrize("other", ["other_person", None])
def test_no_path_answers_differently_whoever_the_witness_is(
    client, world, reported, sealed, other, stopped_clock
):
    first = _read_all(client, world, sealed, reported)
    _reseal(sealed, getattr(world, other) if other else None)
    second = _read_all(client, world, sealed, reported)
    different = [key for key in first if first[key] != second[key]]
    assert not different, f"Answers that depend on the sealed person: {different}"
    # And none of them names the witness's person next to the case (or at all, off their page).
    for (role, _method, path), (_status, body) in first.items():
        if "/persons/" not in path:
            assert b"Sealedina" not in body, (role, path)


def test_resolution_is_refused_exactly_like_an_unknown_witness(client, world, sealed):
    bogus = uuid.uuid4()
    for role in OBSERVERS:
        client.force_login(world.users[role])
        for form in ("/justice/witnesses/{}/resolve/", "/api/v1/witnesses/{}/resolve/"):
            answers = []
            for witness_id in (sealed.public_id, bogus):
                path = form.format(witness_id)
                if path.startswith("/api/"):
                    response = client.post(
                        path, {"reason": REASON}, content_type="application/json"
                    )
                else:
                    response = client.post(path, {"reason": REASON})
                answers.append(_normal(response))
            assert answers[0] == answers[1], (role, form)
            assert answers[0][0] == 404
    assert not WitnessResolution.objects.exists()


def test_the_handling_prosecutor_resolves_with_a_reason_audited_on_the_witness(
    client, world, sealed
):
    client.force_login(world.users["prosecutor"])
    path = f"/justice/witnesses/{sealed.public_id}/resolve/"
    assert client.get(path).status_code == 200
    refused = client.post(path, {"reason": "short"})
    assert refused.status_code == 400 and b"Sealedina" not in refused.content
    response = client.post(path, {"reason": REASON})
    assert response.status_code == 200 and b"Sealedina" in response.content
    assert "no-store" in response["Cache-Control"]
    resolution = WitnessResolution.objects.get()
    assert resolution.resolved_by == world.users["prosecutor"] and resolution.reason == REASON
    event = AuditEvent.objects.filter(purpose="resolve witness pseudonym").get()
    assert event.object_id == str(sealed.public_id)
    # Nothing in the audit log names the person next to the witness.
    person_id = str(world.witness_person.public_id)
    assert not AuditEvent.objects.filter(object_id=person_id).exists()
    assert not any(person_id in str(e.details) for e in AuditEvent.objects.all())


def test_the_api_resolves_for_the_witness_protection_unit(api_client, world, sealed):
    api_client.force_authenticate(world.users["wpu"])
    response = api_client.post(
        f"/api/v1/witnesses/{sealed.public_id}/resolve/", {"reason": REASON}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["person"]["reference"] == world.witness_person.reference
    bad = api_client.post(f"/api/v1/witnesses/{sealed.public_id}/resolve/", {}, format="json")
    assert bad.status_code == 400


def test_break_glass_on_the_person_does_not_reveal_the_witness(client, world, sealed):
    from django.utils import timezone

    supervisor = world.users["office_supervisor"]
    BreakGlassGrant.objects.create(
        user=supervisor,
        person=world.witness_person,
        justification="Urgent check of a threat report " * 2,
        expires_at=timezone.now() + timezone.timedelta(hours=1),
    )
    client.force_login(supervisor)
    response = client.get(f"/persons/{world.witness_person.public_id}/")
    assert response.status_code in (200, 404)
    assert (
        b"Witness" not in response.content
        and str(sealed.public_id).encode() not in response.content
    )
    resolve = client.post(f"/justice/witnesses/{sealed.public_id}/resolve/", {"reason": REASON})
    assert resolve.status_code == 404


def test_the_seal_holds_no_foreign_key_and_no_plaintext(world, sealed):
    from django.db import connection

    field_names = {f.name for f in WitnessSeal._meta.get_fields()}
    assert "person" not in field_names
    with connection.cursor() as cursor:
        cursor.execute("SELECT person_ref FROM justice_witnessseal")
        (stored,) = cursor.fetchone()
    assert str(world.witness_person.public_id) not in stored
    assert Witness.objects.get().pseudonym == "A"


def test_a_later_witness_gets_the_next_pseudonym(world, reported, sealed):
    second = services.add_witness(world.users["prosecutor"], reported, kind="expert")
    assert second.pseudonym == "B"
    assert not WitnessSeal.objects.filter(witness=second).exists()


def test_statistics_count_witnesses_by_measure_never_by_name(world, sealed):
    from streha.justice.selectors import attrition_funnel

    funnel = attrition_funnel(world.users["analyst"], DAY.year)
    assert funnel["protection_orders_by_measure"]["video_link"] == 1
    assert "Sealedina" not in str(funnel)
