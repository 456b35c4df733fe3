"""Read events of a request that changes nothing are written after the view's transaction, in
one transaction of their own, before the response leaves; a failed write answers 503 with
nothing decrypted in it (``streha.audit.services``, "Reads").

The pages here are the real case page; the streamed responses go through the middleware
directly, since no view streams protected data today.
"""

import contextlib

import pytest
from django.core.handlers.exception import convert_exception_to_response
from django.db import OperationalError, connection, transaction
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from streha.accounts.models import AgencyKind, Role
from streha.audit import read_context, services
from streha.audit.models import Action, AuditChainHead, AuditEvent
from streha.cases import services as case_services
from streha.people.models import Person
from streha.testing.factories import AgencyFactory, PersonFactory

pytestmark = pytest.mark.django_db

NAME = "Shpresadeferred"  # synthetic, and in no template


@pytest.fixture
def worker(make_user):
    return make_user(Role.CASE_WORKER, agency=AgencyFactory(kind=AgencyKind.SHELTER))


@pytest.fixture
def case(worker):
    person = PersonFactory(owner_agency=worker.agency, given_name=NAME)
    return case_services.open_case(
        worker, person, source="ngo", first_contact_on=timezone.localdate()
    )


def reads(**filters):
    return list(AuditEvent.objects.filter(action__in=services.READS, **filters).order_by("seq"))


def stored(person) -> Person:
    return Person.objects.get(pk=person.pk)  # sealed again, as loaded from the database


def spied_appends(monkeypatch) -> tuple[list, list]:
    """The actions of each append, and the chain's head each time events were recorded."""
    appended, heads_when_recorded = [], []
    append, defer = services._append, services._append_or_defer

    def spy_append(events):
        appended.append([event.action for event in events])
        append(events)

    def spy_defer(events):
        defer(events)
        heads_when_recorded.append(AuditChainHead.objects.get().last_seq)

    monkeypatch.setattr(services, "_append", spy_append)
    monkeypatch.setattr(services, "_append_or_defer", spy_defer)
    return appended, heads_when_recorded


def test_a_page_writes_its_reads_in_one_append_after_the_view(client, worker, case, monkeypatch):
    client.force_login(worker)
    client.get(f"/cases/{case.public_id}/")  # the session's first renewal is not the page's
    appended, heads_when_recorded = spied_appends(monkeypatch)
    before = AuditChainHead.objects.get().last_seq
    response = client.get(f"/cases/{case.public_id}/")
    assert response.status_code == 200
    assert NAME in response.content.decode()
    # Nothing was appended while the view ran; then everything in one append, in order.
    assert heads_when_recorded and set(heads_when_recorded) == {before}
    assert len(appended) == 1 and set(appended[0]) <= services.READS
    written = reads(request_id=response["X-Request-ID"])
    assert [event.seq for event in written] == list(range(before + 1, before + 1 + len(written)))
    assert len(written) == len(appended[0])
    assert any(event.object_id == str(case.public_id) for event in written)
    assert services.verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_the_reads_are_written_after_the_view_transaction_has_ended(
    client, worker, case, monkeypatch
):
    client.force_login(worker)
    seen = []
    write = services.write_deferred_reads

    def spy(scope):
        seen.append((connection.in_atomic_block, len(scope.deferred)))
        return write(scope)

    monkeypatch.setattr(services, "write_deferred_reads", spy)
    response = client.get(f"/cases/{case.public_id}/")
    assert response.status_code == 200
    # Called once, outside any transaction (the view's has committed), with the page's reads.
    assert len(seen) == 1 and seen[0][0] is False and seen[0][1] >= 1
    assert reads(request_id=response["X-Request-ID"])


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_a_failed_append_answers_503_with_nothing_decrypted(
    client, worker, case, monkeypatch, accept
):
    client.force_login(worker)
    client.get(f"/cases/{case.public_id}/")
    before = AuditChainHead.objects.get().last_seq

    def disk_full(events):
        raise OperationalError("could not extend file: No space left on device")

    monkeypatch.setattr(services, "_append", disk_full)
    response = client.get(f"/cases/{case.public_id}/", HTTP_ACCEPT=accept)
    assert response.status_code == 503
    assert response["Retry-After"]
    body = response.content.decode()
    assert NAME not in body and "Synthetic" not in body
    assert ("service_unavailable" in body) == (accept == "application/json")
    assert AuditChainHead.objects.get().last_seq == before  # and no event either


def test_a_view_that_raises_after_a_read_still_writes_the_read(client, worker, case, monkeypatch):
    """The read happened (its records could be decrypted): it is audited even though the
    view's transaction rolled back and the reader got an error page."""
    client.force_login(worker)
    client.get(f"/cases/{case.public_id}/")
    client.raise_request_exception = False
    defer = services._append_or_defer

    def read_then_fail(events):
        defer(events)
        if any(event.action == Action.READ for event in events):
            raise RuntimeError("the view fails after its read")

    monkeypatch.setattr(services, "_append_or_defer", read_then_fail)
    response = client.get(f"/cases/{case.public_id}/")
    assert response.status_code == 500
    assert NAME not in response.content.decode()
    assert reads(request_id=response["X-Request-ID"], object_id=str(case.public_id))
    assert services.verify_chain().ok


def test_a_change_takes_the_earlier_reads_into_its_transaction_in_order(worker, case):
    person = stored(case.person)
    before = AuditChainHead.objects.get().last_seq
    with read_context.request_scope(defer_reads=True) as scope:
        services.record(worker, Action.READ, obj=person, details={"n": 1})
        services.record(worker, Action.LIST, details={"n": 2})
        assert AuditChainHead.objects.get().last_seq == before  # deferred
        with transaction.atomic():
            services.record(worker, Action.UPDATE, obj=person, details={"n": 3})
        services.record(worker, Action.SEARCH, details={"n": 4})
        assert AuditChainHead.objects.get().last_seq == before + 3
        assert services.write_deferred_reads(scope) == 1
        assert services.write_deferred_reads(scope) == 0  # nothing twice
    written = AuditEvent.objects.filter(seq__gt=before).order_by("seq")
    assert [event.details["n"] for event in written] == [1, 2, 3, 4]
    assert services.verify_chain().ok


def test_reads_a_rollback_took_away_are_written_once_after_it(worker, case):
    """A request that changes something appends its reads at once, in its transaction; those a
    rollback removes (the view or a service failed after reading) are written after it."""
    person = stored(case.person)
    before = AuditChainHead.objects.get().last_seq
    with read_context.request_scope() as scope:
        with transaction.atomic():
            services.record(worker, Action.READ, obj=person, details={"n": 1})
        with pytest.raises(RuntimeError), transaction.atomic():
            services.record(worker, Action.READ, obj=person, details={"n": 2})
            raise RuntimeError("the service fails after its read")
        assert AuditChainHead.objects.get().last_seq == before + 1
        assert services.write_deferred_reads(scope) == 1
    written = AuditEvent.objects.filter(seq__gt=before).order_by("seq")
    assert [event.details["n"] for event in written] == [1, 2]
    assert services.verify_chain().ok


def lookups_by_hash(queries) -> list[str]:
    """The queries that looked audit events up by hash (``services._rolled_back``)."""
    return [
        query["sql"]
        for query in queries
        if "audit_event" in query["sql"] and '"hash" IN' in query["sql"]
    ]


def served(view):
    """``view`` as Django serves it: in its transaction, an exception turned into a 500 page,
    inside the audited-read middleware."""
    return read_context.AuditedReadMiddleware(
        convert_exception_to_response(transaction.atomic(view))
    )


@pytest.mark.django_db(transaction=True)
def test_a_committing_post_with_reads_looks_no_event_up(client, worker, case):
    """A request that changes something appends its reads in its own transaction: when that
    commits, the commit proves them stored, and nothing is looked up after it."""
    client.force_login(worker)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/cases/{case.public_id}/note/", {"body": "Met."})
    assert response.status_code == 302
    written = reads(request_id=response["X-Request-ID"], object_id=str(case.public_id))
    assert [event.action for event in written] == [Action.READ]  # appended, and once
    assert lookups_by_hash(queries.captured_queries) == []
    assert services.verify_chain().ok


def _raises(request):
    raise RuntimeError("the view fails after its read")


def _asks_rollback(request):
    transaction.set_rollback(True)  # as DRF's exception handler does for a 4xx answer
    return HttpResponse(status=400)


def _rolls_back_a_savepoint(request):
    with contextlib.suppress(RuntimeError), transaction.atomic():
        services.record(request.user, Action.LIST, details={"n": 2})
        raise RuntimeError("a service fails after its read; the view goes on")
    return HttpResponse(b"ok")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "then, stored_reads, looked_up",
    [
        (_raises, [1], True),
        (_asks_rollback, [1], True),
        (_rolls_back_a_savepoint, [1, 2], True),
        (None, [1], False),
    ],
    ids=["raises", "set-rollback", "savepoint", "commits"],
)
def test_reads_of_a_post_are_looked_up_only_when_not_committed(
    worker, case, then, stored_reads, looked_up
):
    """The reads a POST appended in its transaction: written again, once, when a rollback (of
    the view's transaction, or of a savepoint inside a committing one) took them away; when
    everything committed, nothing is looked up and nothing written twice."""
    person = stored(case.person)

    def view(request):
        request.user = worker
        services.record(worker, Action.READ, obj=person, details={"n": 1})
        return then(request) if then else HttpResponse(b"ok")

    handler = served(view)
    before = AuditChainHead.objects.get().last_seq
    with CaptureQueriesContext(connection) as queries:
        handler(RequestFactory().post("/"))
    written = AuditEvent.objects.filter(seq__gt=before).order_by("seq")
    assert sorted(event.details["n"] for event in written) == stored_reads
    assert bool(lookups_by_hash(queries.captured_queries)) is looked_up
    assert services.verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_a_commit_whose_earlier_hook_fails_writes_no_read_twice(worker, case):
    """A failing on-commit hook registered before the read stops the hooks after it, so the
    commit never confirms the read: it is looked up, found stored, and not written again."""
    person = stored(case.person)

    def fails():
        raise RuntimeError("a notification could not be queued")

    def view(request):
        transaction.on_commit(fails)
        services.record(worker, Action.READ, obj=person)
        return HttpResponse(b"ok")

    handler = served(view)
    before = AuditChainHead.objects.get().last_seq
    with CaptureQueriesContext(connection) as queries:
        assert handler(RequestFactory().post("/")).status_code == 500
    assert AuditEvent.objects.filter(seq__gt=before).count() == 1
    assert lookups_by_hash(queries.captured_queries)
    assert services.verify_chain().ok


def test_outside_requests_every_read_is_appended_at_once(worker, case):
    before = AuditChainHead.objects.get().last_seq
    services.record(worker, Action.READ, obj=case)
    with read_context.system("key maintenance"):
        pass
    assert AuditChainHead.objects.get().last_seq == before + 2


# --- Streamed and file responses ----------------------------------------------------------------


def middleware_for(view):
    """The middleware around ``view`` in the view's own transaction, as ATOMIC_REQUESTS does."""

    def get_response(request):
        return transaction.atomic(view)(request)

    return read_context.AuditedReadMiddleware(get_response)


def streaming_view(worker, person, started):
    def view(request):
        loaded = stored(person)
        services.record(worker, Action.READ, obj=loaded)

        def body():
            started.append(AuditEvent.objects.filter(object_id=str(person.public_id)).count())
            yield loaded.given_name.encode()  # decrypted only as the body is produced

        return StreamingHttpResponse(body())

    return view


def test_a_streamed_body_is_produced_after_its_read_is_written(worker, case):
    started = []
    middleware = middleware_for(streaming_view(worker, case.person, started))
    before = AuditEvent.objects.filter(object_id=str(case.person.public_id)).count()
    response = middleware(RequestFactory().get("/export/"))
    assert response.status_code == 200 and started == []
    assert b"".join(response.streaming_content) == NAME.encode()
    assert started == [before + 1]  # the event was there before the first chunk


def test_a_streamed_body_is_never_produced_when_its_read_cannot_be_written(
    worker, case, monkeypatch
):
    started = []
    middleware = middleware_for(streaming_view(worker, case.person, started))

    def unreachable(events):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "_append", unreachable)
    response = middleware(RequestFactory().get("/export/"))
    assert response.status_code == 503
    assert not response.streaming and NAME.encode() not in response.content
    assert started == []


def test_a_file_response_is_closed_unsent_when_its_read_cannot_be_written(
    worker, case, monkeypatch, tmp_path
):
    path = tmp_path / "export.csv"
    opened = []

    def view(request):
        loaded = stored(case.person)
        services.record(worker, Action.READ, obj=loaded)
        path.write_text(loaded.given_name)
        handle = path.open("rb")
        opened.append(handle)
        return FileResponse(handle, as_attachment=True, filename="export.csv")

    def unreachable(events):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "_append", unreachable)
    response = read_context.AuditedReadMiddleware(transaction.atomic(view))(
        RequestFactory().get("/export/")
    )
    assert response.status_code == 503 and NAME.encode() not in response.content
    assert opened and opened[0].closed


def test_a_read_recorded_while_streaming_is_appended_before_it_decrypts(worker, case):
    other = PersonFactory(owner_agency=worker.agency)
    seen = []

    def view(request):
        services.record(worker, Action.LIST, details={"n": 1})

        def body():
            loaded = stored(other)
            services.record(worker, Action.READ, obj=loaded)
            seen.append(AuditEvent.objects.filter(object_id=str(other.public_id)).count())
            yield loaded.given_name.encode()

        return StreamingHttpResponse(body())

    response = middleware_for(view)(RequestFactory().get("/export/"))
    assert b"".join(response.streaming_content) == other.given_name.encode()
    assert seen == [1]
    assert services.verify_chain().ok


def test_a_plain_response_is_handed_over_unchanged(worker, case):
    def view(request):
        services.record(worker, Action.READ, obj=stored(case.person))
        return HttpResponse(b"ok")

    response = middleware_for(view)(RequestFactory().get("/"))
    assert (response.status_code, response.content) == (200, b"ok")


@pytest.mark.parametrize(
    ("url", "data", "found"),
    [
        ("/cases/", {"q": NAME}, "case"),
        ("/persons/", {"q": NAME}, "person"),
        ("/api/v1/cases/search/", {"query": NAME}, "case"),
        ("/api/v1/persons/search/", {"query": NAME}, "person"),
    ],
)
def test_a_posted_search_writes_its_reads_in_one_append_after_the_view(
    client, worker, case, monkeypatch, url, data, found
):
    # A search is POSTed only to keep names out of URLs: it changes nothing, so its reads are
    # deferred as a GET's are (``read_context.changes_nothing``), not appended one by one with
    # the chain's head locked until the view has rendered.
    client.force_login(worker)
    client.get("/cases/")  # the session's first renewal is not the search's
    appended, heads_when_recorded = spied_appends(monkeypatch)
    before = AuditChainHead.objects.get().last_seq
    response = client.post(url, data)
    assert response.status_code == 200
    assert (case if found == "case" else case.person).reference in response.content.decode()
    # Nothing was appended while the view ran; then all its reads in one append, in order.
    assert heads_when_recorded and set(heads_when_recorded) == {before}
    assert len(appended) == 1 and set(appended[0]) <= services.READS
    assert Action.SEARCH in appended[0]
    written = reads(request_id=response["X-Request-ID"])
    assert [event.action for event in written] == appended[0]
    assert [event.seq for event in written] == list(range(before + 1, before + 1 + len(written)))
    assert services.verify_chain().ok


def test_a_view_that_changes_nothing_still_writes_a_change_with_its_reads_in_order(
    rf, worker, case
):
    # Were such a view to record a change anyway, the deferred reads go first, into the
    # change's transaction: nothing is lost or reordered.
    @read_context.changes_nothing
    def view(request):
        with read_context.testing_scope():
            pass
        services.record_many(worker, Action.SEARCH, [case], purpose="case list")
        services.record(worker, Action.UPDATE, obj=case, purpose="test change")
        return HttpResponse("ok")

    request = rf.post("/anything/")
    before = AuditChainHead.objects.get().last_seq
    with read_context.request_scope() as scope:
        response = view(request)
        assert scope.defer_reads and not scope.deferred  # taken by the change's append
        services.release(request, scope, response)
    actions = list(
        AuditEvent.objects.filter(seq__gt=before).order_by("seq").values_list("action", flat=True)
    )
    assert actions == [Action.SEARCH, Action.UPDATE]
