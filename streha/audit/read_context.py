"""Decryption runs only inside an audited read.

Every protected field asks ``check(instance)`` before it opens a ciphertext (the hook in
``streha.protection.fields``). ``check`` passes only when the current scope allows that record:

- In a request (``AuditedReadMiddleware`` opens one scope per request), a record is allowed
  once an audit event of this request has named it (``streha.audit.services.record`` and its
  siblings call ``name``), or named the record it belongs to (a case names its notes, events,
  referrals and documents: any foreign key to a named protected record), or named the person
  it is about (a case list names the persons whose names it shows).
- Service code that must decrypt outside any user's read (anonymisation, the demo generator,
  key maintenance) enters ``system(reason)``, which records one audit event saying so.

In a request that changes nothing (GET, HEAD), a read event names its records as soon as it is
recorded but is written only when the request ends (``streha.audit.services``, "Reads"): the
decrypted values stay in the server until that write is durable, and a failed write answers 503
instead of the response, so nothing decrypted leaves without its event.

Anything else raises ``UnauditedDecryption``: a page that would show protected data without
writing its audit event fails instead of leaking quietly. The scope lives in a context
variable, so it is per request (and per thread), and a request never inherits the scope of the
code around it (a test's, a command's).
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache, wraps

from django.db import models

PERSON_LABEL = "people.person"

REQUEST = "request"
SYSTEM = "system"
TESTING = "testing"


class UnauditedDecryption(Exception):
    """Protected data was about to be decrypted without an audit event naming its record."""


@dataclass
class Scope:
    kind: str
    reason: str = ""
    # (model label, primary key) of records named by this scope's audit events.
    named: set[tuple[str, int]] = field(default_factory=set)
    # Primary keys of persons the events were about.
    subjects: set[int] = field(default_factory=set)
    # What a request decrypted, for tests that check every decryption was audited.
    decrypted: set[tuple[str, int]] = field(default_factory=set)
    # How the request was authenticated when it is not a browser session (an API token: its
    # id and the method), added to every audit event the request records.
    authentication: dict = field(default_factory=dict)
    # Deferred reads (``streha.audit.services``): whether this request's read events wait for
    # the end of the request, those waiting, and those written inside the view's transaction
    # whose commit has not confirmed them yet (checked after it, since a rollback takes them
    # away).
    defer_reads: bool = False
    deferred: list = field(default_factory=list)
    written_in_view: list = field(default_factory=list)

    def allows(self, instance: models.Model) -> bool:
        if self.kind != REQUEST:
            return True
        label = instance._meta.label_lower
        if (label, instance.pk) in self.named:
            return True
        if label == PERSON_LABEL and instance.pk in self.subjects:
            return True
        for attname, parent in _protected_parents(type(instance)):
            if (parent, getattr(instance, attname, None)) in self.named:
                return True
        return False


_scope: ContextVar[Scope | None] = ContextVar("streha_audited_read", default=None)


@cache
def _protected_parents(model) -> tuple[tuple[str, str], ...]:
    """``(attname, label)`` of ``model``'s foreign keys to other protected records."""
    from streha.protection.models import ProtectedModel

    return tuple(
        (f.attname, f.related_model._meta.label_lower)
        for f in model._meta.concrete_fields
        if isinstance(f, models.ForeignKey)
        and issubclass(f.related_model, ProtectedModel)
        and f.related_model is not model
    )


def current() -> Scope | None:
    return _scope.get()


def check(instance: models.Model) -> None:
    """Refuse to decrypt ``instance``'s fields unless the current scope allows it."""
    scope = _scope.get()
    label = instance._meta.label_lower
    if scope is None:
        raise UnauditedDecryption(
            f"{label} #{instance.pk} decrypted outside any audited read or system context."
        )
    if scope.kind != REQUEST:
        return  # system and test scopes allow everything (and may open millions of records)
    scope.decrypted.add((label, instance.pk))
    if not scope.allows(instance):
        raise UnauditedDecryption(
            f"{label} #{instance.pk} decrypted in a request that recorded no audit event "
            "naming it (read it through the function that audits the read)."
        )


def name(objs: Iterable[models.Model], subjects: Iterable[int] = ()) -> None:
    """The current scope may now decrypt ``objs`` and the persons ``subjects`` (called by the
    audit service for each event it records). Outside any scope this does nothing."""
    scope = _scope.get()
    if scope is None or scope.kind != REQUEST:
        return
    scope.named.update((obj._meta.label_lower, obj.pk) for obj in objs if obj.pk is not None)
    scope.subjects.update(subjects)


def authenticated_by(method: str, **ids: int) -> None:
    """The current request was authenticated by ``method`` (e.g. ``token``, with
    ``token_id=``): every audit event it records from now on says so. Outside a request scope
    this does nothing."""
    scope = _scope.get()
    if scope is not None and scope.kind == REQUEST:
        scope.authentication = {"method": method, **ids}


def authentication() -> dict:
    """How the current request was authenticated, if it said (``authenticated_by``)."""
    scope = _scope.get()
    return dict(scope.authentication) if scope is not None else {}


def opened_with_receipt(tip: models.Model) -> None:
    """The anonymous reporter proved with the receipt code and passphrase that ``tip`` is theirs:
    this request may show them their own report and its replies without an audit event. It is
    not a staff read, and an event would keep the exact time of the reporter's visit, which the
    tip line promises never to record (``streha.tips.services.submit_report``)."""
    scope = _scope.get()
    if scope is not None and scope.kind == REQUEST and tip.pk is not None:
        scope.named.add((tip._meta.label_lower, tip.pk))


@contextmanager
def _entered(scope: Scope) -> Iterator[Scope]:
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def request_scope(*, defer_reads: bool = False) -> Iterator[Scope]:
    """A fresh scope for one request: nothing is allowed until an audit event names it.
    ``defer_reads``: its read events are written when the request ends
    (``streha.audit.services.write_deferred_reads``), not in the view's transaction."""
    return _entered(Scope(REQUEST, defer_reads=defer_reads))


def entered(scope: Scope) -> Iterator[Scope]:
    """Enter an existing request's scope again (a streamed response's body is produced after
    the middleware has returned)."""
    return _entered(scope)


@contextmanager
def system(reason: str, *, actor=None, obj: models.Model | None = None) -> Iterator[Scope]:
    """Service code that must decrypt (anonymisation, the demo generator, key maintenance):
    records one audit event naming the reason (and ``obj`` if given), then allows decryption
    until the block ends."""
    from streha.audit import services

    services.record(actor, services.Action.SYSTEM_READ, obj=obj, purpose=reason)
    with _entered(Scope(SYSTEM, reason=reason)) as scope:
        yield scope


def testing_scope() -> Iterator[Scope]:
    """For test code only (the suite's fixtures): decrypt freely outside requests, so tests can
    check stored values; requests made by the test still get their own strict scope."""
    return _entered(Scope(TESTING))


# Requests that change nothing: their read events are deferred to the end of the request.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def changes_nothing(view):
    """For a view that changes nothing whatever its method: a search POSTed so that a name or
    number never enters a URL or an access log. Its read events are deferred as a GET's are
    (module docstring of ``streha.audit.services``): appended together after the view, so the
    audit chain's head is not held locked while the view renders.

    Nothing is weakened: the reads are still written, durably, before the response leaves, and
    an event about a change recorded by the view anyway would take them into its transaction
    first, in order."""

    @wraps(view)
    def wrapped(*args, **kwargs):  # a view function, or an API view's method
        scope = current()
        if scope is not None and scope.kind == REQUEST:
            scope.defer_reads = True
        return view(*args, **kwargs)

    return wrapped


class AuditedReadMiddleware:
    """Gives every request its own audited-read scope (see the module docstring), and writes
    the request's deferred read events after the view's transaction, before the response
    leaves (``streha.audit.services.release``): 503 instead of the response if that fails.

    It must stay outside the transaction ``ATOMIC_REQUESTS`` opens: Django wraps only the view
    in it (``BaseHandler.make_view_atomic``), so every middleware runs after its commit.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from streha.audit import services

        with request_scope() as scope:
            scope.defer_reads = request.method in SAFE_METHODS
            response = self.get_response(request)
            return services.release(request, scope, response)
