"""Every decryption is an audited read: a crawl of every page and API operation (GET) as every
role on a seeded world.

For each staff role, the crawler signs in as a demo user of that role and follows every link it
finds on the site's pages (from "my work" outwards), then calls every GET operation of the API,
filling path parameters with the ids the list operations returned. Decryption outside an
audited read raises (``streha.audit.read_context``), so any such page fails the crawl; and for
each record decrypted while answering a request, an audit event written by *that* request must
name it, the record it belongs to, or the person it is about (read back from the database, not
from the scope that allowed it).
"""

import re
from collections import defaultdict
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
from django.test import Client
from django.utils.translation import override
from drf_spectacular.generators import SchemaGenerator

from streha.access.models import BreakGlassGrant
from streha.accounts.models import User
from streha.audit import read_context
from streha.audit.models import AuditEvent, AuditSubject
from streha.demo import generator
from streha.people import services as people_services
from streha.people.models import Person

pytestmark = pytest.mark.django_db(transaction=False)

# One demo account per kind of work (together they hold every role).
ACCOUNTS = [
    "admin",  # system administrator
    "coordinator",  # analyst and supervisor at the national coordinator
    "analyst",
    "auditor",
    "hotline",
    "police.admin",  # agency administrator
    "investigator",
    "police.supervisor",
    "prosecutor",
    "shelter.worker",  # case worker
    "social.worker",
]
PAGES_PER_ACCOUNT = 60
# Links that change state on GET do not exist; these only leave the site or sign out.
SKIP = re.compile(r"^/(static/|accounts/logout|i18n/|api/docs|api/schema|django-admin)")
PATTERN_KEY = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+")


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href") or ""
            if href.startswith("/"):
                self.found.append(urldefrag(href)[0])


@pytest.fixture
def world(db):
    """The demo world (agencies, staff of every role, persons, cases, referrals, tips), plus a
    break-glass access and a document, which the generator does not make."""
    generator.run(seed=3, persons=12)
    supervisor = User.objects.get(username="police.supervisor")
    outside = Person.objects.exclude(owner_agency_id=supervisor.agency_id).order_by("pk").first()
    people_services.open_break_glass(
        supervisor,
        outside,
        justification="Emergency: the person is reported missing tonight.",
        field_groups=["identity"],
    )
    worker = User.objects.get(username="shelter.worker")
    own = Person.objects.filter(owner_agency_id=worker.agency_id).order_by("pk").first()

    class Upload:
        name, content_type, size = "letter.txt", "text/plain", 5

        def read(self):
            return b"hello"

    people_services.attach_document(worker, own, title="Letter", upload=Upload())
    assert BreakGlassGrant.objects.exists()
    return supervisor


def covered(label: str, pk: int, events: list[AuditEvent], subjects: set[int]) -> bool:
    """Does one of ``events`` name the record ``label``/``pk``, its parent, or its person?"""
    from django.apps import apps

    from streha.protection.models import ProtectedModel

    model = apps.get_model(label)
    instance = model._base_manager.get(pk=pk)
    names = {(label, str(pk)), (label, str(getattr(instance, "public_id", pk)))}
    for field in model._meta.concrete_fields:
        related = getattr(field, "related_model", None)
        if related is not None and issubclass(related, ProtectedModel) and related is not model:
            parent = related._base_manager.filter(pk=getattr(instance, field.attname)).first()
            if parent is not None:
                parent_label = related._meta.label_lower
                names |= {
                    (parent_label, str(parent.pk)),
                    (parent_label, str(getattr(parent, "public_id", parent.pk))),
                }
    for event in events:
        ids = {event.object_id, *event.details.get("object_ids", [])}
        if any((event.object_type, object_id) in names for object_id in ids):
            return True
    return label == "people.person" and pk in subjects


def check_request(client: Client, url: str, scopes: list, problems: list, **headers):
    before = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    scopes.clear()
    response = client.get(url, **headers)
    assert response.status_code < 500, url
    decrypted = set().union(*(scope.decrypted for scope in scopes)) if scopes else set()
    if decrypted:
        events = list(AuditEvent.objects.filter(seq__gt=before))
        subjects = set(
            AuditSubject.objects.filter(event_seq__gt=before).values_list("person_id", flat=True)
        )
        for label, pk in sorted(decrypted):
            if not covered(label, pk, events, subjects):
                problems.append(f"{url}: {label} #{pk} decrypted without an audit event")
    return response, decrypted


def api_get_paths() -> list[str]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        path
        for path, operations in schema["paths"].items()
        if "get" in operations and path.startswith("/api/v1/")
    )


def ids_in(body) -> list[str]:
    """public ids (or ids) of the objects in a JSON answer, list or page."""
    if isinstance(body, dict):
        body = body.get("results", [body])
    found = []
    for item in body if isinstance(body, list) else []:
        if isinstance(item, dict):
            value = item.get("public_id") or item.get("id")
            if value is not None:
                found.append(str(value))
    return found


def crawl(username: str, scopes: list, problems: list) -> tuple[int, int]:
    client = Client()
    client.force_login(User.objects.get(username=username))
    per_pattern: dict[str, int] = defaultdict(int)
    queue, visited = ["/"], set()
    decryptions = 0
    while queue and len(visited) < PAGES_PER_ACCOUNT:
        url = queue.pop(0)
        pattern = PATTERN_KEY.sub("*", urlsplit(url).path)
        # Each kind of page twice at most (e.g. two persons), not every record in the world.
        if url in visited or SKIP.match(url) or per_pattern[pattern] >= 2:
            continue
        visited.add(url)
        per_pattern[pattern] += 1
        response, decrypted = check_request(client, url, scopes, problems)
        decryptions += len(decrypted)
        if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
            parser = Links()
            parser.feed(response.content.decode())
            queue.extend(link for link in parser.found if link not in visited)
    # The API: every GET operation; path parameters from what the lists returned.
    harvested: dict[str, list[str]] = defaultdict(list)
    paths = api_get_paths()
    for path in [p for p in paths if "{" not in p]:
        response, decrypted = check_request(
            client, path, scopes, problems, HTTP_ACCEPT="application/json"
        )
        decryptions += len(decrypted)
        if response.status_code == 200:
            harvested[path] = ids_in(response.json())[:2]
    for path in [p for p in paths if "{" in p]:
        prefix = path[: path.index("{")]
        for value in harvested.get(prefix, [])[:2]:
            url = re.sub(r"\{[^}]+\}", value, path, count=1)
            if "{" in url:
                continue  # nested ids: reached through the pages above
            response, decrypted = check_request(
                client, url, scopes, problems, HTTP_ACCEPT="application/json"
            )
            decryptions += len(decrypted)
    return len(visited), decryptions


def test_every_page_and_api_read_is_audited_for_every_role(world, monkeypatch):
    scopes: list = []
    original = read_context.request_scope

    def observed():
        manager = original()
        scope = manager.__enter__()
        scopes.append(scope)

        class Wrapper:
            def __enter__(self):
                return scope

            def __exit__(self, *exc):
                return manager.__exit__(*exc)

        return Wrapper()

    monkeypatch.setattr(read_context, "request_scope", observed)
    problems: list[str] = []
    totals = {}
    with override("en"):
        for username in ACCOUNTS:
            totals[username] = crawl(username, scopes, problems)
    assert problems == []
    # The crawl reached protected data at all: case staff decrypted records on their pages.
    assert totals["shelter.worker"][1] > 0
    assert totals["investigator"][1] > 0
    assert totals["auditor"][1] > 0  # the break-glass justifications
    assert all(pages > 3 for pages, _decrypted in totals.values())


def test_a_page_that_skips_its_audit_event_fails(world, client):
    """The mechanism itself: a read that does not go through the auditing function refuses."""
    person = Person.objects.order_by("pk").first()
    outer = read_context.current()
    with read_context.request_scope():
        fresh = Person.objects.get(pk=person.pk)
        with pytest.raises(read_context.UnauditedDecryption):
            fresh.given_name  # noqa: B018 - reading is the point
    assert read_context.current() is outer
