"""Auditor pages: scope by the access policy, 404 for everyone else, break-glass review."""

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from django.urls import reverse
from django.utils import timezone

from streha.access.models import BreakGlassGrant
from streha.accounts.models import Role
from streha.audit import services
from streha.audit.models import Action, AuditEvent
from streha.testing.factories import PersonFactory

pytestmark = pytest.mark.django_db


def seqs(response):
    return [event.seq for event in response.context["page"]]


def page_links(response):
    hrefs = re.findall(r'href="\?([^"]*page=[^"]*)"', response.content.decode())
    return [parse_qs(html.unescape(href)) for href in hrefs]


@pytest.fixture
def person(agency):
    return PersonFactory(owner_agency=agency)


@pytest.fixture
def worker(make_user, agency):
    return make_user(Role.CASE_WORKER, agency=agency)


@pytest.fixture
def outsider(make_user, other_agency):
    return make_user(Role.CASE_WORKER, agency=other_agency)


@pytest.fixture
def grant(make_user, agency, person):
    supervisor = make_user(Role.SUPERVISOR, agency=agency)
    return BreakGlassGrant.objects.create(
        user=supervisor,
        person=person,
        justification="Urgent safety check requested by the police at night.",
        expires_at=timezone.now() + timedelta(hours=4),
    )


def urls(person, user):
    return [
        reverse("audit:index"),
        reverse("audit:person", args=[person.public_id]),
        reverse("audit:user", args=[user.pk]),
        reverse("audit:break_glass"),
    ]


def test_the_pages_are_named_as_agreed(person, worker):
    assert reverse("audit:index") == "/audit/"
    assert reverse("audit:person", args=[person.public_id]) == f"/audit/persons/{person.public_id}/"
    assert reverse("audit:user", args=[worker.pk]) == f"/audit/users/{worker.pk}/"
    assert reverse("audit:break_glass") == "/audit/break-glass/"
    assert reverse("audit:break_glass_review", args=[7]) == "/audit/break-glass/7/review/"


@pytest.mark.parametrize(
    "roles", [[Role.CASE_WORKER], [Role.SUPERVISOR], [Role.SYSTEM_ADMIN], [Role.ANALYST], []]
)
def test_everyone_but_auditors_gets_404(client, make_user, agency, person, worker, grant, roles):
    client.force_login(make_user(*roles, agency=agency))
    for url in urls(person, worker):
        assert client.get(url).status_code == 404, url
    review = reverse("audit:break_glass_review", args=[grant.pk])
    assert client.post(review, {"note": "fine"}).status_code == 404
    grant.refresh_from_db()
    assert grant.reviewed_at is None


def test_anonymous_visitors_are_sent_to_sign_in(client, person, worker):
    for url in urls(person, worker):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_an_inactive_auditor_gets_nothing(client, auditor, person, worker):
    auditor.is_active = False
    auditor.save()
    client.force_login(auditor)
    # Django's session auth drops inactive users: treated as signed out.
    assert client.get(reverse("audit:index")).status_code in (302, 404)


def test_an_agency_auditor_sees_only_their_agencys_events(client, auditor, worker, outsider):
    own = services.record(worker, Action.READ, object_type="people.person", object_id="a")
    services.record(outsider, Action.READ, object_type="people.person", object_id="b")
    services.record(None, Action.KEY_ROTATION)
    client.force_login(auditor)
    response = client.get(reverse("audit:index"))
    assert response.status_code == 200
    assert seqs(response) == [own.seq]
    assert seqs(client.get(reverse("audit:user", args=[outsider.pk]))) == []


def test_a_national_auditor_sees_every_agency(client, national_auditor, worker, outsider):
    services.record(worker, Action.READ, object_type="people.person", object_id="a")
    services.record(outsider, Action.READ, object_type="people.person", object_id="b")
    client.force_login(national_auditor)
    response = client.get(reverse("audit:index"))
    assert seqs(response) == [2, 1]  # newest first


def test_who_viewed_this_person(client, national_auditor, worker, outsider, person):
    read = services.record(worker, Action.READ, obj=person, field_groups=["identity"])
    services.record(worker, Action.READ, obj=PersonFactory(owner_agency=person.owner_agency))
    glass = services.record(outsider, Action.BREAK_GLASS, obj=person, break_glass=True)
    client.force_login(national_auditor)
    response = client.get(reverse("audit:person", args=[person.public_id]))
    assert response.status_code == 200
    assert seqs(response) == [glass.seq, read.seq]
    content = response.content.decode()
    assert person.reference in content
    assert worker.username in content and outsider.username in content
    # Auditors see who looked, never what they saw.
    assert person.given_name not in content


def test_what_did_this_user_see(client, national_auditor, worker, outsider, person):
    mine = [services.record(worker, Action.READ, obj=person) for _ in range(2)]
    services.record(outsider, Action.READ, obj=person)
    client.force_login(national_auditor)
    response = client.get(reverse("audit:user", args=[worker.pk]))
    assert response.status_code == 200
    assert seqs(response) == [mine[1].seq, mine[0].seq]
    assert response.context["username"] == worker.username


def test_filters(client, national_auditor, worker, outsider, person):
    read = services.record(worker, Action.READ, obj=person)
    export = services.record(worker, Action.EXPORT, obj=person)
    other = services.record(outsider, Action.READ, object_type="people.person", object_id="x")
    client.force_login(national_auditor)
    index = reverse("audit:index")

    def found(**params):
        response = client.get(index, params)
        assert response.status_code == 200
        return seqs(response)

    assert found(action="export") == [export.seq]
    assert found(username=outsider.username.upper()) == [other.seq]
    assert found(person=person.reference.lower()) == [export.seq, read.seq]
    assert found(person=str(person.public_id)) == [export.seq, read.seq]
    assert found(person="P-0000000000") == []
    today = timezone.localtime(read.occurred_at).date()  # the events' day, even past midnight
    assert len(found(date_from=today.isoformat(), date_to=today.isoformat())) == 3
    assert found(date_to=(today - timedelta(days=1)).isoformat()) == []
    assert found(date_from=(today + timedelta(days=1)).isoformat()) == []
    # An impossible range is an error on the form, and shows nothing.
    response = client.get(
        index, {"date_from": today.isoformat(), "date_to": (today - timedelta(1)).isoformat()}
    )
    assert response.context["form"].errors and seqs(response) == []


def test_fifty_events_per_page_newest_first(client, national_auditor, chain_of):
    chain_of(55)
    client.force_login(national_auditor)
    first = client.get(reverse("audit:index"), {"action": "read"})
    assert seqs(first) == list(range(55, 5, -1))
    # Page links keep the filters.
    assert page_links(first) == [{"action": ["read"], "page": ["2"]}]
    second = client.get(reverse("audit:index"), {"page": 2, "action": "read"})
    assert seqs(second) == [5, 4, 3, 2, 1]
    assert page_links(second) == [{"action": ["read"], "page": ["1"]}]


def test_break_glass_page_lists_grants_in_scope(
    client, auditor, national_auditor, grant, make_user, other_agency
):
    foreign = BreakGlassGrant.objects.create(
        user=make_user(Role.SUPERVISOR, agency=other_agency),
        person=PersonFactory(owner_agency=other_agency),
        justification="Another agency's emergency, with a long enough reason.",
        expires_at=timezone.now() + timedelta(hours=4),
    )
    client.force_login(auditor)
    response = client.get(reverse("audit:break_glass"))
    assert list(response.context["pending"]) == [grant]
    assert grant.justification in response.content.decode()
    client.force_login(national_auditor)
    response = client.get(reverse("audit:break_glass"))
    assert set(response.context["pending"]) == {grant, foreign}


def test_reviewing_a_break_glass_access(client, auditor, grant):
    client.force_login(auditor)
    response = client.post(
        reverse("audit:break_glass_review", args=[grant.pk]),
        {"note": "Checked with the duty officer: justified."},
    )
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.reviewed_by == auditor
    assert grant.reviewed_at is not None
    assert grant.review_note == "Checked with the duty officer: justified."
    event = AuditEvent.objects.get(action=Action.REVIEW)
    assert (event.actor_id, event.object_type, event.object_id) == (
        auditor.pk,
        "access.breakglassgrant",
        str(grant.pk),
    )
    assert event.details == {
        "person": str(grant.person.public_id),
        "grant_user": grant.user_id,
        "subjects": [grant.person_id],
    }
    assert services.verify_chain().ok
    page = client.get(reverse("audit:break_glass"))
    assert list(page.context["pending"]) == []
    assert list(page.context["reviewed"]) == [grant]
    assert grant.review_note in page.content.decode()
    # The review shows in the log under the grant's model name, not its technical label.
    logged = client.get(reverse("audit:index"), {"action": "review"}).context["page"][0]
    assert logged.object_label not in ("", "access.breakglassgrant")


def test_a_review_needs_a_note_and_happens_once(client, auditor, grant):
    client.force_login(auditor)
    url = reverse("audit:break_glass_review", args=[grant.pk])
    client.post(url, {"note": "   "})
    grant.refresh_from_db()
    assert grant.reviewed_at is None
    client.post(url, {"note": "First review."})
    client.post(url, {"note": "Second review."})
    grant.refresh_from_db()
    assert grant.review_note == "First review."
    assert AuditEvent.objects.filter(action=Action.REVIEW).count() == 1


def test_nobody_reviews_their_own_break_glass(client, make_user, agency, person):
    both = make_user(Role.SUPERVISOR, Role.AUDITOR, agency=agency)
    own = BreakGlassGrant.objects.create(
        user=both,
        person=person,
        justification="My own emergency access, justified at length.",
        expires_at=timezone.now() + timedelta(hours=4),
    )
    client.force_login(both)
    client.post(reverse("audit:break_glass_review", args=[own.pk]), {"note": "All fine."})
    own.refresh_from_db()
    assert own.reviewed_at is None
    assert not AuditEvent.objects.filter(action=Action.REVIEW).exists()


def test_another_agencys_grant_cannot_be_reviewed(client, make_user, other_agency, grant):
    client.force_login(make_user(Role.AUDITOR, agency=other_agency))
    url = reverse("audit:break_glass_review", args=[grant.pk])
    assert client.post(url, {"note": "Not mine to review."}).status_code == 404
    assert client.get(url).status_code in (404, 405)
