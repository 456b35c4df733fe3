"""The review queue in HTML and API: reviewers see and decide; others learn nothing."""

import pytest

from streha.accounts.models import AgencyKind, Role
from streha.audit.models import AuditEvent
from streha.jobs.models import Job
from streha.linkage.models import PairStatus, PersonCluster
from streha.linkage.tests.helpers import make_pair
from streha.testing.factories import AgencyFactory, PersonFactory, UserFactory


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def world(db):
    police = AgencyFactory(kind=AgencyKind.POLICE, name="Police Directorate")
    shelter = AgencyFactory(kind=AgencyKind.SHELTER, name="Safe House Shelter")
    ours = PersonFactory(owner_agency=police, given_name="Blerinaxx")
    theirs = PersonFactory(owner_agency=shelter, given_name="Blerinayy")
    mate = PersonFactory(owner_agency=police, given_name="Blerinazz")
    return {
        "police": police,
        "shelter": shelter,
        "cross": make_pair(ours, theirs),
        "inside": make_pair(ours, mate, probability=0.91),
        "persons": (ours, theirs, mate),
    }


def test_a_reviewer_without_identity_access_learns_nothing(world, client, api_client):
    user = UserFactory(agency=world["police"], roles=[Role.SUPERVISOR])
    cross = world["cross"]
    _, theirs, _ = world["persons"]
    client.force_login(user)
    page = client.get("/duplicates/").content.decode()
    assert "national coordinator" in page
    for secret in (theirs.reference, "Blerinayy", "Safe House Shelter", str(cross.public_id)):
        assert secret not in page
    assert client.get(f"/duplicates/{cross.public_id}/").status_code == 404
    answer = client.post(
        f"/duplicates/{cross.public_id}/", {"decision": "same", "reason": "x" * 10}
    )
    assert answer.status_code == 404
    api_client.force_authenticate(user)
    listed = api_client.get("/api/v1/duplicate-pairs/").json()
    assert listed["not_reviewable"] == 1
    assert [row["id"] for row in listed["results"]] == [str(world["inside"].public_id)]
    assert api_client.get(f"/api/v1/duplicate-pairs/{cross.public_id}/").status_code == 404
    decided = api_client.post(
        f"/api/v1/duplicate-pairs/{cross.public_id}/decide/",
        {"decision": "same", "reason": "Same person."},
        format="json",
    )
    assert decided.status_code == 404
    cross.refresh_from_db()
    assert cross.status == PairStatus.PENDING
    # An analyst (no identity at all) sees no queue page and an empty API list.
    analyst = UserFactory(agency=world["police"], roles=[Role.ANALYST])
    client.force_login(analyst)
    assert client.get("/duplicates/").status_code == 404
    api_client.force_authenticate(analyst)
    assert api_client.get("/api/v1/duplicate-pairs/").json()["results"] == []


def test_reviewer_sees_both_decides_and_undoes_in_html(world, client):
    user = UserFactory(agency=world["police"], roles=[Role.CASE_WORKER])
    inside = world["inside"]
    client.force_login(user)
    queue = client.get("/duplicates/").content.decode()
    assert str(inside.public_id) in queue
    page = client.get(f"/duplicates/{inside.public_id}/").content.decode()
    assert "Blerinaxx" in page and "Blerinazz" in page
    read = AuditEvent.objects.filter(action="read", object_id=str(inside.public_id)).get()
    assert sorted(read.details["subjects"]) == sorted([inside.person_a_id, inside.person_b_id])
    invalid = client.post(f"/duplicates/{inside.public_id}/", {"decision": "same", "reason": ""})
    assert invalid.status_code == 400
    done = client.post(
        f"/duplicates/{inside.public_id}/",
        {"decision": "same", "reason": "Same passport.", "expected_version": 1},
    )
    assert done.status_code == 302
    assert PersonCluster.objects.count() == 2
    client.post(f"/duplicates/{inside.public_id}/undo/")
    assert PersonCluster.objects.count() == 0
    inside.refresh_from_db()
    assert inside.status == PairStatus.PENDING


def test_api_decision_validates(world, api_client):
    user = UserFactory(agency=world["police"], roles=[Role.INVESTIGATOR])
    inside = world["inside"]
    api_client.force_authenticate(user)
    url = f"/api/v1/duplicate-pairs/{inside.public_id}/decide/"
    bad = api_client.post(url, {"decision": "maybe", "reason": "Because."}, format="json")
    assert bad.status_code == 400
    stale = api_client.post(
        url, {"decision": "same", "reason": "Because.", "expected_version": 7}, format="json"
    )
    assert stale.status_code == 400
    ok = api_client.post(url, {"decision": "different", "reason": "Other mother."}, format="json")
    assert ok.status_code == 200 and ok.json()["status"] == "different"
    undo = api_client.post(f"/api/v1/duplicate-pairs/{inside.public_id}/undo/")
    assert undo.status_code == 200 and undo.json()["status"] == "pending"


def test_only_the_national_coordinator_starts_a_run(world, client, api_client):
    office = AgencyFactory(kind=AgencyKind.NATIONAL_COORDINATOR)
    coordinator = UserFactory(agency=office, roles=[Role.SUPERVISOR])
    client.force_login(coordinator)
    response = client.post("/duplicates/run/")
    job = Job.objects.get()
    assert response.status_code == 302 and job.kind == "linkage.deduplicate"
    assert job.started_by == coordinator
    api_client.force_authenticate(coordinator)
    assert api_client.post("/api/v1/duplicate-pairs/run/").status_code == 202
    police_supervisor = UserFactory(agency=world["police"], roles=[Role.SUPERVISOR])
    api_client.force_authenticate(police_supervisor)
    assert api_client.post("/api/v1/duplicate-pairs/run/").status_code == 404


def test_the_home_panel_counts_open_pairs_about_the_scope_part_by_part(world, monkeypatch):
    """The home page's count is the policy's pairs touching the scope (a pair inside the agency
    once, not twice), read part by part and stopped after the cap."""
    from streha.access import policy
    from streha.linkage import selectors

    police_user = UserFactory(agency=world["police"], roles=[Role.CASE_WORKER])
    shelter_user = UserFactory(agency=world["shelter"], roles=[Role.CASE_WORKER])
    outsider = UserFactory(
        agency=AgencyFactory(kind=AgencyKind.SOCIAL_WORK), roles=[Role.CASE_WORKER]
    )
    for user in (police_user, shelter_user, outsider):
        expected = set(
            policy.pairs_touching_scope_of(user)
            .filter(status__in=selectors.OPEN)
            .values_list("pk", flat=True)
        )
        united = {
            pk for part in policy.pair_scope_parts(user) for pk in part.values_list("pk", flat=True)
        }
        assert united == set(policy.pairs_touching_scope_of(user).values_list("pk", flat=True))
        assert selectors.open_pairs_touching(user, cap=10) == expected
    (panel,) = selectors.my_work_panels(police_user)
    assert panel.figures[0][1] == 2
    assert selectors.my_work_panels(outsider) == []
    monkeypatch.setattr(selectors, "PANEL_CAP", 1)
    (capped,) = selectors.my_work_panels(police_user)
    assert capped.figures[0][1] == "1+"


def test_the_queue_counts_hidden_pairs_as_the_scope_does_part_by_part_and_bounded(
    world, client, api_client, monkeypatch
):
    """The queue's "ask the national coordinator" count is the open pairs touching the scope
    less those shown (as the one OR over the scope counted them), read through the person
    indexes part by part, each read limited, and said as "N+" past the cap."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from streha.access import policy
    from streha.linkage import selectors

    ours, theirs, mate = world["persons"]
    for _ in range(3):  # more pairs the police cannot review: theirs with other shelter persons
        make_pair(ours, PersonFactory(owner_agency=world["shelter"]), probability=0.8)
    make_pair(theirs, PersonFactory(owner_agency=world["shelter"]), probability=0.7)
    supervisor = UserFactory(agency=world["police"], roles=[Role.SUPERVISOR])
    worker = UserFactory(agency=world["police"], roles=[Role.CASE_WORKER])
    shelter_user = UserFactory(agency=world["shelter"], roles=[Role.CASE_WORKER])
    for user in (supervisor, worker, shelter_user):
        queue = selectors.review_queue(user)
        shown = {pair.pk for pair in queue.page.object_list}
        by_or = (
            policy.pairs_touching_scope_of(user)
            .filter(status__in=selectors.OPEN)
            .exclude(pk__in=shown)
            .count()
        )
        assert (queue.hidden, queue.hidden_more) == (by_or, False)
    assert selectors.review_queue(supervisor).hidden == 4  # the cross pair and the three
    with CaptureQueriesContext(connection) as captured:
        assert selectors.hidden_pairs(supervisor, set(), cap=2) == (2, True)
    reads = [q["sql"] for q in captured.captured_queries if "linkage_candidatepair" in q["sql"]]
    # One query: each part of the scope limited, none an OR over the scope (the only OR is a
    # grant's "no expiry or not yet expired").
    assert len(reads) == 1
    (sql,) = reads
    assert sql.count("LIMIT 3") == len(policy.pair_scope_parts(supervisor))
    assert sql.count(" OR ") == sql.count('"expires_at" IS NULL OR ')
    monkeypatch.setattr(selectors, "PANEL_CAP", 2)
    client.force_login(supervisor)
    assert "2+ possible duplicates concern" in client.get("/duplicates/").content.decode()
    api_client.force_authenticate(supervisor)
    listed = api_client.get("/api/v1/duplicate-pairs/").json()
    assert (listed["not_reviewable"], listed["not_reviewable_more"]) == (2, True)
