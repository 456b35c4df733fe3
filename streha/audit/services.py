"""Writing the audit log, checking it, and reviewing break-glass accesses.

Appending is serialised by a lock on the one ``AuditChainHead`` row, taken with
``select_for_update()`` inside ``transaction.atomic()``: the next ``seq`` and ``prev_hash`` come
from the head read under that lock, and the lock is held until the transaction that appended
commits, so two processes can never both extend the chain from the same event. (On SQLite the
settings open every transaction with BEGIN IMMEDIATE, which serialises writers anyway.)

Writes. An event about a change (create, update, transition, export, break-glass, system
decryption...) is appended in the caller's transaction, so the change and its event are stored
together or not at all; the head stays locked until that transaction commits.

Reads. A read event (``READS``: read, list, search) recorded in a request that changes nothing
(GET, HEAD: ``read_context.AuditedReadMiddleware``) is not appended there: holding the head
lock from a page's first read until its transaction commits made audited pages run one at a
time (78% of the case page's time). It is kept in the request's scope, in order, and
``release`` appends all of them in ONE short transaction of its own after the view's
transaction has committed and before the response is handed to the server. Why no event is
lost, reordered or duplicated:

- Decryption is allowed once the event is recorded (``read_context.name``), but what was
  decrypted leaves only in the response, and the response leaves only after that transaction
  has committed (durably: nothing here relaxes synchronous commit). If it fails, the response
  is dropped unsent (a streamed one before its first chunk) and the request answers 503.
- The reads are appended whatever the view did: a view that raised after a read still consulted
  the data, so its reads are written even though its transaction rolled back.
- An event about a change recorded after deferred reads takes them with it into the caller's
  transaction, first, so a request's events keep their order; reads appended inside a
  transaction (that way, or in a request that changes something, which appends them at once as
  before) are confirmed by that transaction's commit (``transaction.on_commit``); those it
  never confirms are looked up after it, and those a rollback took away are appended by
  ``release``. A request whose transaction committed thus pays no lookup.
- Across requests, the chain is extended under the head lock as before; a deferred event is
  stamped with the time it is appended (within the request that recorded it).

Outside requests (jobs, commands, ``read_context.system``) every event is appended at once.
"""

import contextlib
import functools
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, models, transaction
from django.db.models.sql import InsertQuery
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from streha.access import policy
from streha.access.models import BreakGlassGrant
from streha.accounts.models import Agency, User
from streha.audit import chain, head_timing, read_context
from streha.audit.models import Action, AuditChainHead, AuditEvent, AuditSubject
from streha.audit.subjects import subjects_of
from streha.web.logging import request_id_var

__all__ = [
    "READS",
    "Action",
    "AuditChainError",
    "ChainReport",
    "chain_head",
    "record",
    "record_each",
    "record_many",
    "release",
    "review_break_glass",
    "verify_chain",
]

logger = logging.getLogger("streha.audit")

BULK_BATCH = 1000
# Consultations: deferred to the end of a request that changes nothing (module docstring).
# Exports are not: a download is often one write with its read (a file handed over once).
READS = frozenset({Action.READ, Action.LIST, Action.SEARCH})
HEAD_ID = AuditChainHead.SINGLETON_ID
# Free text is cut to the column size here, not by the database: SQLite would keep the excess
# and PostgreSQL would refuse the row, and the hash must describe exactly what is stored.
_MAX = {
    field: AuditEvent._meta.get_field(field).max_length
    for field in ("actor_username", "agency_code", "object_type", "object_id", "purpose")
}
_MAX["request_id"] = AuditEvent._meta.get_field("request_id").max_length


class AuditChainError(Exception):
    """The chain cannot be extended safely; run ``streha audit verify``."""


@dataclass(frozen=True)
class ChainReport:
    """The outcome of ``verify_chain``."""

    ok: bool
    checked: int
    first_broken_seq: int | None = None
    reason: str = ""
    last_hash: str = chain.ZERO_HASH


# --- Recording ----------------------------------------------------------------------------------


def record(
    actor: User | None,
    action: str,
    *,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    field_groups: Iterable[str] = (),
    purpose: str = "",
    request=None,
    break_glass: bool = False,
    details: Mapping | None = None,
    subjects: Iterable[int] = (),
) -> AuditEvent:
    """Append one event: ``actor`` (None for the system) did ``action`` on ``obj``.

    ``obj`` (a model instance) names the object by its ``public_id`` if it has one, else its
    primary key; without ``obj``, pass ``object_type``/``object_id`` or nothing. ``details`` is
    for counts and opaque ids, never personal data; floats are refused because databases do not
    all return them exactly, and the hash must match what comes back. The persons ``obj`` is
    about (see ``streha.audit.subjects``), with any ``subjects`` (person ids) given, go into
    the person's trail; and naming ``obj`` lets this request decrypt it (``read_context``).
    """
    subjects = set(subjects)
    if obj is not None:
        object_type, object_id = _identify(obj)
        subjects.update(subjects_of([obj])[0])
    details = _with_subjects(details, subjects)
    event = _build(
        actor,
        action,
        agency_codes=_agency_codes([actor]),
        object_type=object_type,
        object_id=object_id,
        field_groups=field_groups,
        purpose=purpose,
        request_id=_request_id(request),
        break_glass=break_glass,
        details=details,
    )
    _append_or_defer([event])
    read_context.name([obj] if obj is not None else [], subjects)
    return event


def _with_subjects(details: Mapping | None, subjects: Iterable[int]) -> dict:
    details = dict(details or {})
    subjects = sorted(set(subjects))
    if subjects:
        details["subjects"] = subjects
    return details


def record_many(
    actor: User | None,
    action: str,
    objs: Iterable[models.Model],
    *,
    field_groups: Iterable[str] = (),
    purpose: str = "",
    request=None,
    break_glass: bool = False,
    details: Mapping | None = None,
) -> AuditEvent:
    """Append ONE event for a page or export showing several objects of one type.

    The objects' ids go in ``details["object_ids"]`` (with ``details["count"]``), so a list of 50
    persons costs one row per request, not 50. "Who viewed this person" therefore shows reads
    of the record itself; finding a person in lists means searching ``details``.
    """
    objs = list(objs)
    types = {obj._meta.label_lower for obj in objs}
    if len(types) > 1:
        raise ValueError(f"record_many() takes objects of one type, got {sorted(types)}.")
    object_ids = [_identify(obj)[1] for obj in objs]
    event = record(
        actor,
        action,
        object_type=types.pop() if types else "",
        field_groups=field_groups,
        purpose=purpose,
        request=request,
        break_glass=break_glass,
        details={**(details or {}), "object_ids": object_ids, "count": len(object_ids)},
        subjects=[pk for subjects in subjects_of(objs) for pk in subjects],
    )
    read_context.name(objs)
    return event


def record_each(
    action: str,
    objs: Iterable[models.Model],
    *,
    actor: User | None = None,
    actor_of: Callable[[models.Model], User | None] | None = None,
    field_groups: Iterable[str] = (),
    purpose: str = "",
    request=None,
    break_glass: bool = False,
    details: Mapping | None = None,
) -> int:
    """Append one event PER object (bulk registration), in one lock and a few INSERTs.

    ``actor_of(obj)`` names each object's actor; otherwise ``actor`` acts on all of them.
    Returns the number of events written.
    """
    return record_each_together(
        [
            Each(
                action,
                objs,
                actor=actor,
                actor_of=actor_of,
                field_groups=field_groups,
                purpose=purpose,
                request=request,
                break_glass=break_glass,
                details=details,
            )
        ]
    )


@dataclass
class Each:
    """The arguments of one ``record_each`` call, for ``record_each_together``."""

    action: str
    objs: Iterable[models.Model]
    actor: User | None = None
    actor_of: Callable[[models.Model], User | None] | None = None
    field_groups: Iterable[str] = ()
    purpose: str = ""
    request: object = None
    break_glass: bool = False
    details: Mapping | None = None


def record_each_together(calls: Iterable[Each]) -> int:
    """Several ``record_each`` calls (say, a batch's persons and then their cases) as ONE
    append: one lock of the chain head, the chain computed in one pass over all their events
    in the order given, one insert per table. The events, their order and their hashes are
    those the calls would have appended one after another (in the same instant); the chain
    verifies the same. Returns the number of events written."""
    events, named, subjects_named = [], [], []
    for call in calls:
        objs = list(call.objs)
        actors = [call.actor_of(obj) if call.actor_of else call.actor for obj in objs]
        codes = _agency_codes(actors)
        request_id = _request_id(call.request)
        all_subjects = subjects_of(objs)
        for obj, who, subjects in zip(objs, actors, all_subjects, strict=True):
            object_type, object_id = _identify(obj)
            events.append(
                _build(
                    who,
                    call.action,
                    agency_codes=codes,
                    object_type=object_type,
                    object_id=object_id,
                    field_groups=call.field_groups,
                    purpose=call.purpose,
                    request_id=request_id,
                    break_glass=call.break_glass,
                    details=_with_subjects(call.details, subjects),
                )
            )
        named.extend(objs)
        subjects_named.extend(pk for subjects in all_subjects for pk in subjects)
    _append_or_defer(events)
    read_context.name(named, subjects_named)
    return len(events)


def _identify(obj: models.Model) -> tuple[str, str]:
    public_id = getattr(obj, "public_id", None)
    key = public_id if public_id is not None else obj.pk
    return obj._meta.label_lower, "" if key is None else str(key)


def _real_actor(actor) -> User | None:
    # Anonymous visitors (the public tip form) and unsaved users are recorded as "the system".
    if actor is None or not getattr(actor, "is_authenticated", False) or actor.pk is None:
        return None
    return actor


def _agency_codes(actors: list[User | None]) -> dict[int, str]:
    """The codes of the actors' agencies, from already-loaded relations or one query."""
    codes: dict[int, str] = {}
    missing: set[int] = set()
    for actor in map(_real_actor, actors):
        if actor is None or actor.agency_id is None or actor.agency_id in codes:
            continue
        if actor._meta.get_field("agency").is_cached(actor):
            codes[actor.agency_id] = actor.agency.code
        else:
            missing.add(actor.agency_id)
    missing -= codes.keys()
    if missing and len(actors) == 1:
        # One actor (every request): load the relation itself, which the page then reuses
        # (the header names the user's agency), rather than a query of its own.
        actor = _real_actor(actors[0])
        codes[actor.agency_id] = actor.agency.code
    elif missing:
        codes.update(Agency.objects.filter(pk__in=missing).values_list("pk", "code"))
    return codes


def _request_id(request) -> str:
    value = getattr(request, "id", None) if request is not None else None
    value = value or request_id_var.get()
    return "" if value == "-" else _text(value, "request_id")


def _text(value, field: str) -> str:
    # PostgreSQL cannot store NUL in text; dropping it keeps both databases (and hashes) equal.
    return str(value).replace("\x00", "")[: _MAX[field]]


def _json_safe(value, where: str = "details"):
    """``value`` as the database's JSON will give it back, or TypeError if it cannot be exact."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str | Promise):  # Promise: a lazily translated string
        return str(value).replace("\x00", "")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_json_safe(item, f"{where}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, Mapping):
        return {str(key): _json_safe(item, f"{where}.{key}") for key, item in value.items()}
    raise TypeError(
        f"{where}: {type(value).__name__} is not allowed in audit details; "
        "use strings, integers, booleans, lists and dicts."
    )


def _build(
    actor,
    action: str,
    *,
    agency_codes: Mapping[int, str],
    object_type: str,
    object_id: str,
    field_groups: Iterable[str],
    purpose: str,
    request_id: str,
    break_glass: bool,
    details: Mapping | None,
) -> AuditEvent:
    actor = _real_actor(actor)
    agency_id = actor.agency_id if actor is not None else None
    # Made in a token-authenticated request: which token, whoever the code passed as actor.
    details = _json_safe({**(details or {}), **read_context.authentication()})
    return AuditEvent(
        actor_id=actor.pk if actor is not None else None,
        actor_username=_text(actor.get_username(), "actor_username") if actor else "",
        agency_id=agency_id,
        agency_code=_text(agency_codes.get(agency_id, ""), "agency_code"),
        action=Action(action).value,  # ValueError for anything not in the vocabulary
        object_type=_text(object_type, "object_type"),
        object_id=_text(object_id, "object_id"),
        field_groups=sorted({str(group) for group in field_groups}),
        purpose=_text(purpose, "purpose"),
        request_id=request_id,
        break_glass=bool(break_glass),
        details=details,
    )


def _append_or_defer(events: list[AuditEvent]) -> None:
    """Append ``events`` now, or keep them for ``release`` if they are reads of a request that
    defers its reads (module docstring)."""
    scope = read_context.current()
    if scope is None or scope.kind != read_context.REQUEST:
        _append(events)
        return
    if scope.defer_reads and all(event.action in READS for event in events):
        scope.deferred.extend(events)
        return
    # Earlier reads of the request go first, in this transaction, so the order is kept.
    events = [*scope.deferred, *events]
    scope.deferred.clear()
    _append(events)
    written = [event for event in events if event.action in READS]
    if written:
        scope.written_in_view.extend(written)
        # Their commit proves them stored; only those it never confirms are looked up later.
        transaction.on_commit(functools.partial(_committed, scope, written))


def _committed(scope: read_context.Scope, events: list[AuditEvent]) -> None:
    """The transaction that appended ``events`` committed: they are stored, so ``release``
    need not look them up.

    Django runs this only after the outermost transaction commits, and drops it when the
    transaction or a savepoint around the append rolls back, so an event it never removes may
    be missing and is checked.
    """
    confirmed = {id(event) for event in events}
    scope.written_in_view = [event for event in scope.written_in_view if id(event) not in confirmed]


def release(request, scope: read_context.Scope, response):
    """End of a request: append its deferred reads (and any a rollback took away) in one
    transaction, then hand over ``response``; if that fails, 503 instead, ``response`` unsent.

    Called by ``read_context.AuditedReadMiddleware`` outside the view's transaction. A
    streamed body is produced after this returns: it runs in the request's scope again, where
    any further read is appended at once, before it decrypts.
    """
    try:
        write_deferred_reads(scope)
    except Exception as error:  # noqa: BLE001 - any failure: the data must not leave
        from streha.ops.unavailable import database_unavailable_response

        # The type only: a database's message may quote the values it was given.
        logger.error(
            "audit: the request's read events could not be written (%s); answered 503",
            type(error).__name__,
        )
        _discard(response)
        return database_unavailable_response(request)
    scope.defer_reads = False
    # A file is streamed as stored (nothing decrypted); other streamed bodies in the scope.
    streamed = response.streaming and not getattr(response, "is_async", False)
    if streamed and getattr(response, "file_to_stream", None) is None:
        response.streaming_content = _in_scope(scope, response.streaming_content)
    return response


def _discard(response) -> None:
    """Free what ``response`` holds (an open file, a generator) without sending it.

    Not ``response.close()``: that also sends ``request_finished``, which would close the
    database connections in the middle of the request.
    """
    closers = getattr(response, "_resource_closers", [])
    for closer in closers:
        with contextlib.suppress(Exception):  # as Django's own close(): best effort
            closer()
    closers.clear()


def write_deferred_reads(scope: read_context.Scope) -> int:
    """Append the scope's deferred reads, after those appended in a transaction that then
    rolled back, in ONE transaction of their own; returns how many were appended."""
    events = _rolled_back(scope.written_in_view) + scope.deferred
    scope.written_in_view, scope.deferred = [], []
    if events:
        with transaction.atomic():
            _append([_unsaved(event) for event in events])
    return len(events)


def _rolled_back(events: list[AuditEvent]) -> list[AuditEvent]:
    """Those of ``events`` (appended in a transaction now ended) that are not stored.

    ``events`` holds only reads whose commit was never confirmed (``_committed``): none when
    the view's transaction committed, so a committing request pays no lookup. The lookup
    stays for the rest: a rollback took them away, or the commit's hooks could not say
    (a failing earlier hook, or a test's transaction around the request).
    """
    if not events:
        return []
    stored = set(
        AuditEvent.objects.filter(hash__in=[event.hash for event in events]).values_list(
            "hash", flat=True
        )
    )
    return [event for event in events if event.hash not in stored]


def _unsaved(event: AuditEvent) -> AuditEvent:
    # An event a rollback took away still carries the id and position it was given then.
    if not event._state.adding:
        event.pk = None
        event._state.adding, event._state.db = True, None
    return event


def _in_scope(scope: read_context.Scope, chunks):
    """Produce a streamed body chunk by chunk inside the request's scope."""
    iterator = iter(chunks)
    while True:
        with read_context.entered(scope):
            try:
                chunk = next(iterator)
            except StopIteration:
                return
        yield chunk


def _append(events: list[AuditEvent]) -> None:
    """Chain ``events`` after the current head and insert them, under the head lock."""
    if not events:
        return
    # No savepoint: if appending fails, the caller's change must not commit without its event,
    # so the whole transaction fails (and two round trips per event are saved).
    with transaction.atomic(savepoint=False):
        asked_at = time.perf_counter()
        head = _locked_head()
        head_timing.locked(asked_at)
        seq, prev_hash = head.last_seq, head.last_hash
        # Stamped under the lock, so time never runs backwards along the chain.
        now = timezone.now()
        for event in events:
            seq += 1
            event.seq, event.prev_hash, event.occurred_at = seq, prev_hash, now
            event.hash = prev_hash = chain.hash_of(event)
        subjects = [
            AuditSubject(event_seq=event.seq, person_id=person_id)
            for event in events
            for person_id in event.details.get("subjects", ())
        ]
        connection = connections[AuditEvent.objects.db]
        if connection.vendor == "postgresql" and len(events) <= BULK_BATCH:
            _write_in_one_statement(connection, events, subjects, seq, prev_hash)
            return
        AuditEvent.objects.bulk_create(events, batch_size=BULK_BATCH)
        AuditSubject.objects.bulk_create(subjects, batch_size=BULK_BATCH)
        AuditChainHead.objects.filter(pk=HEAD_ID).update(last_seq=seq, last_hash=prev_hash)


def _insert_sql(connection, model, objs: list, *, returning: tuple = ()) -> tuple[str, tuple]:
    """The INSERT ``bulk_create(objs)`` sends (Django's compiler: its value conversions and
    placeholders), compiled and not run; ``returning`` names columns it returns."""
    opts = model._meta
    fields = [f for f in opts.concrete_fields if not f.generated and not f.primary_key]
    query = InsertQuery(model)
    query.insert_values(fields, objs)
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = [opts.get_field(name) for name in returning] or None
    [(sql, params)] = compiler.as_sql()
    return sql, tuple(params)


def _write_in_one_statement(
    connection, events: list[AuditEvent], subjects: list[AuditSubject], seq: int, last_hash: str
) -> None:
    """Insert ``events`` and ``subjects`` and move the head, in ONE statement (PostgreSQL).

    Everything between taking the head lock and the commit that releases it is time every
    other audited request waits (under load, each round trip also waits for a core): one
    statement instead of three (events, subjects, head), compiled by Django's own insert
    compiler as ``bulk_create`` would. A data-modifying ``WITH`` runs to completion whether or
    not the statement reads it. The head's new values are read from the inserted events, so
    every event is inserted (and checked by ``audit_event_insert_after_head`` against the head
    as it was) before the head row changes; the head row is the one this transaction holds
    locked. It returns the events' keys in chain order, and the head as moved."""
    quote = connection.ops.quote_name
    parts, params = [], []
    sql, part_params = _insert_sql(connection, AuditEvent, events, returning=("id", "seq", "hash"))
    parts.append(f"written AS ({sql})")
    params += part_params
    if subjects:
        sql, part_params = _insert_sql(connection, AuditSubject, subjects)
        parts.append(f"subjects AS ({sql})")
        params += part_params
    head, id_, seq_, hash_ = map(quote, (AuditChainHead._meta.db_table, "id", "seq", "hash"))
    last = f"(SELECT {{}} FROM written ORDER BY {seq_} DESC LIMIT 1)"  # noqa: S608 - names
    statement = (
        f"WITH {', '.join(parts)} "  # noqa: S608 - Django-compiled SQL, names quoted
        f"UPDATE {head} SET {quote('last_seq')} = {last.format(seq_)}, "
        f"{quote('last_hash')} = {last.format(hash_)} WHERE {id_} = %s "
        f"RETURNING (SELECT array_agg({id_} ORDER BY {seq_}) FROM written), "
        f"{quote('last_seq')}, {quote('last_hash')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, HEAD_ID])
        row = cursor.fetchone()
    if row is None or row[1:] != (seq, last_hash) or len(row[0] or ()) != len(events):
        # The transaction fails with it: no event, and no change it was recording.
        raise AuditChainError(
            _("The audit chain head is missing while events exist; run `streha audit verify`.")
        )
    for event, pk in zip(events, row[0], strict=True):
        event.pk = pk
        event._state.adding, event._state.db = False, connection.alias


def _locked_head() -> AuditChainHead:
    heads = AuditChainHead.objects.select_for_update()
    try:
        return heads.get(pk=HEAD_ID)
    except AuditChainHead.DoesNotExist:
        pass
    # Migration 0002 creates the head; it is missing only in a wiped (flushed) database.
    # Create it first and only then look for events: while our uncommitted row exists, any other
    # appender waits on it, so events found now were chained to a head someone removed. Checking
    # for events first raced with an appender committing its head and first event in between.
    try:
        with transaction.atomic():
            AuditChainHead.objects.create(id=HEAD_ID)
            if AuditEvent.objects.exists():
                # Events without a head mean someone removed it: refuse, never start a second chain.
                raise AuditChainError(
                    _(
                        "The audit chain head is missing while events exist; "
                        "run `streha audit verify`."
                    )
                )
    except IntegrityError:
        pass  # another process created it first; its row is the one to lock
    return heads.get(pk=HEAD_ID)


def chain_head() -> AuditChainHead | None:
    """The head as committed now (for anchoring: ``streha audit head``)."""
    return AuditChainHead.objects.filter(pk=HEAD_ID).first()


# --- Verifying ----------------------------------------------------------------------------------


def verify_chain(
    batch_size: int = 5000,
    *,
    anchors: Mapping[int, str] | None = None,
    start: tuple[int, str] | None = None,
) -> ChainReport:
    """Walk the whole chain in ``seq`` order, ``batch_size`` events at a time (constant memory).

    Each event must sit at the next position, hash to its stored ``hash`` (so content, and the
    position it was written at, are unchanged) and name the previous event's hash; its subject
    rows must match the subjects it records; the head must name the last event. ``anchors``
    maps positions to hashes noted earlier (``streha audit head``, signed checkpoints) and
    catches a chain rewritten from scratch. ``start`` (a position and its hash, e.g. the last
    checkpoint) walks only what follows it, after checking that event still has that hash.
    Events appended while the walk runs are walked too, so a busy system does not produce
    false alarms.
    """
    anchors = dict(anchors or {})
    events = AuditEvent.objects.order_by("seq")
    last, prev_hash, checked = 0, chain.ZERO_HASH, 0
    if start is not None and start[0] > 0:
        start_event = events.filter(seq=start[0]).first()
        if start_event is None:
            return ChainReport(
                False, 0, start[0], _("event %(seq)s missing") % {"seq": start[0]}, prev_hash
            )
        if start_event.hash != start[1] or chain.hash_of(start_event) != start_event.hash:
            return ChainReport(
                False,
                0,
                start[0],
                _("its hash differs from the anchor noted earlier: the chain was rewritten"),
                prev_hash,
            )
        last, prev_hash = start_event.seq, start_event.hash
    while True:
        while batch := list(events.filter(seq__gt=last)[:batch_size]):
            subjects = _subjects_between(batch[0].seq, batch[-1].seq)
            for event in batch:
                problem = _problem_with(event, last + 1, prev_hash, anchors) or _subject_problem(
                    event, subjects
                )
                if problem:
                    return ChainReport(False, checked, event.seq, problem, prev_hash)
                last, prev_hash, checked = event.seq, event.hash, checked + 1
        # The head is read after the events: anything it counts was committed with its event,
        # so an event it names that the walk did not see has been removed.
        head = chain_head()
        if head is None:
            if last == 0:
                break
            return ChainReport(
                False, checked, last, _("the chain head record is missing"), prev_hash
            )
        if head.last_seq > last:
            if events.filter(seq__gt=last).exists():
                continue  # appended during the walk
            return ChainReport(
                False,
                checked,
                last + 1,
                _missing(last + 1, head.last_seq)
                + " "
                + _("(the chain head records %(count)s events)") % {"count": head.last_seq},
                prev_hash,
            )
        if head.last_seq < last:
            return ChainReport(
                False,
                checked,
                head.last_seq + 1,
                _("event %(seq)s is not recorded in the chain head, which ends at %(head)s")
                % {"seq": head.last_seq + 1, "head": head.last_seq},
                prev_hash,
            )
        if head.last_hash != prev_hash:
            return ChainReport(
                False,
                checked,
                last,
                _("the chain head's hash differs from this event's hash"),
                prev_hash,
            )
        break
    beyond = sorted(seq for seq in anchors if seq > last)
    if beyond:
        return ChainReport(
            False,
            checked,
            beyond[0],
            _("event %(seq)s was anchored but is missing") % {"seq": beyond[0]},
            prev_hash,
        )
    stray = AuditSubject.objects.filter(event_seq__gt=last).order_by("event_seq").first()
    if stray is not None:
        return ChainReport(
            False,
            checked,
            stray.event_seq,
            _("a subject row names event %(seq)s, which is not in the chain")
            % {"seq": stray.event_seq},
            prev_hash,
        )
    return ChainReport(True, checked, None, "", prev_hash)


def _subjects_between(first: int, last: int) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    rows = AuditSubject.objects.filter(event_seq__gte=first, event_seq__lte=last)
    for seq, person_id in rows.order_by("event_seq", "person_id").values_list(
        "event_seq", "person_id"
    ):
        found.setdefault(seq, []).append(person_id)
    return found


def _subject_problem(event: AuditEvent, subjects: Mapping[int, list[int]]) -> str:
    recorded = sorted(event.details.get("subjects", [])) if isinstance(event.details, dict) else []
    if subjects.get(event.seq, []) != recorded:
        return _("its subject rows (whose trail it appears in) differ from the event")
    return ""


def _missing(first: int, last: int) -> str:
    if first == last:
        return _("event %(seq)s missing") % {"seq": first}
    return _("events %(first)s to %(last)s missing") % {"first": first, "last": last}


def _problem_with(
    event: AuditEvent, expected_seq: int, prev_hash: str, anchors: Mapping[int, str]
) -> str:
    if event.seq != expected_seq:
        return _missing(expected_seq, event.seq - 1)
    if chain.hash_of(event) != event.hash:
        return _("its content or position changed after it was written (hash mismatch)")
    if event.prev_hash != prev_hash:
        if expected_seq == 1:
            return _("the first event does not start from the zero hash")
        return _(
            "it does not follow event %(seq)s (previous hash differs): "
            "an event was replaced, inserted or reordered"
        ) % {"seq": expected_seq - 1}
    if event.seq in anchors and anchors[event.seq] != event.hash:
        return _("its hash differs from the anchor noted earlier: the chain was rewritten")
    return ""


# --- Break-glass review -------------------------------------------------------------------------


@transaction.atomic
def review_break_glass(
    reviewer: User, grant: BreakGlassGrant, *, note: str, request=None
) -> BreakGlassGrant:
    """An auditor records that a break-glass access was looked into, and what they found."""
    policy.require(policy.can_audit(reviewer))
    # Locked so that two auditors cannot both review it; "of self" because PostgreSQL cannot
    # lock the nullable side of the outer joins the policy's select_related adds.
    grant = (
        policy.break_glass_grants_visible_to(reviewer)
        .select_for_update(of=("self",))
        .filter(pk=grant.pk)
        .first()
    )
    policy.require(grant is not None)
    policy.require(
        grant.user_id != reviewer.pk, _("You cannot review your own break-glass access.")
    )
    if grant.reviewed_at is not None:
        raise ValidationError(_("This break-glass access has already been reviewed."))
    note = note.strip()
    if not note:
        raise ValidationError({"note": _("Write down what the review found.")})
    grant.reviewed_by = reviewer
    grant.reviewed_at = timezone.now()
    grant.review_note = note
    grant.save(update_fields=["reviewed_by", "reviewed_at", "review_note"])
    record(
        reviewer,
        Action.REVIEW,
        obj=grant,
        # Stored data, not interface text: kept in one language, like the action codes.
        purpose="break-glass review",
        request=request,
        details={"person": str(grant.person.public_id), "grant_user": grant.user_id},
    )
    return grant
