"""How an event's hash is computed: the one definition both appending and verifying use.

The hash is SHA-256 (hex) of a canonical JSON document of every stored field except ``hash``
itself: keys sorted, no whitespace, UTF-8, the time in UTC with microseconds. Canonical means the
same event hashes the same on SQLite and PostgreSQL and after any number of round trips through
the database. Adding a field to ``AuditEvent`` changes this document and so needs a hash version,
or every existing event would stop verifying.
"""

import hashlib
import json
from datetime import UTC, datetime

ZERO_HASH = "0" * 64


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def payload_of(event) -> dict:
    """The hashed content of ``event`` (an ``AuditEvent``, saved or not)."""
    return {
        "seq": event.seq,
        "prev_hash": event.prev_hash,
        "occurred_at": utc_iso(event.occurred_at),
        "actor_id": event.actor_id,
        "actor_username": event.actor_username,
        "agency_id": event.agency_id,
        "agency_code": event.agency_code,
        "action": str(event.action),
        "object_type": event.object_type,
        "object_id": event.object_id,
        "field_groups": list(event.field_groups),
        "purpose": event.purpose,
        "request_id": event.request_id,
        "break_glass": bool(event.break_glass),
        "details": event.details,
    }


def hash_of(event) -> str:
    return hashlib.sha256(canonical_json(payload_of(event)).encode("utf-8")).hexdigest()
