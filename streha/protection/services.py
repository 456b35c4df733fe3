"""Key management: master-key rotation, re-wrapping and upgrading records, retiring old master
keys, and destroying one record's data key (crypto-shredding).

Rotation never re-encrypts data: each record's data key is unwrapped with the old master key
and wrapped again with the new one. It runs in batches, each in its own short transaction, so
the system keeps serving. A process that has not noticed the new key file yet may still wrap new
records under the old key for up to ``keys.RELOAD_SECONDS``; every save re-wraps a record whose
key id differs from the current one, ``rewrap`` can simply be run again, and ``retire`` first
disables a key, then destroys it only after a grace period and a second count of zero.

Every key event (rotation, re-wrap, retirement, shredding) is recorded in the audit chain.
"""

import base64
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from streha.audit import services as audit
from streha.protection import keys, shred_ledger
from streha.protection.fields import BlindIndexField, ProtectedFieldMixin, Sealed
from streha.protection.models import ProtectedModel, protected_models

# Longer than any process takes to re-read the key file (keys.RELOAD_SECONDS), with margin for
# requests that were already running when the key was disabled.
RETIRE_GRACE = timedelta(minutes=10)
FIRST_FORMAT = "first format"


def key_usage() -> dict[str, Counter]:
    """For each protected model, how many records use each master key (first-format records are
    also counted under ``FIRST_FORMAT``; shredded records are not counted)."""
    usage = {}
    for model in protected_models():
        counter: Counter = Counter()
        for stored in (
            model._base_manager.exclude(data_key="")
            .exclude(data_key=keys.SHREDDED)
            .values_list("data_key", flat=True)
            .iterator(chunk_size=5000)
        ):
            envelope = keys.parse_envelope(stored)
            counter[envelope.key_id] += 1
            if envelope.fmt == 1:
                counter[FIRST_FORMAT] += 1
        usage[model._meta.label_lower] = counter
    return usage


def _records_using(key_id: str) -> int:
    return sum(counter.get(key_id, 0) for counter in key_usage().values())


def _require_key_file(action: str) -> None:
    if keys.keys_from_environment() or keys.keyring().kind != "local":
        raise ImproperlyConfigured(
            f"Master keys do not come from a key file: {action} them where they are kept "
            "(STREHA_MASTER_KEYS: add or remove the key, restart; Vault: rotate the transit key "
            "or raise its min_decryption_version), then run `streha keys rewrap`."
        )


def add_master_key() -> str:
    """Add a new master key to the key file and make it current. Returns its id."""
    _require_key_file("rotate")
    path = keys.key_file_path()
    content = keys.read_key_file(path)
    key_id = keys.new_key_id(content["keys"])
    content["keys"][key_id] = base64.b64encode(keys.new_key()).decode()
    content["current"] = key_id
    keys.write_key_file(path, content)
    keys.reset_keyring()
    audit.record(
        None,
        audit.Action.KEY_ROTATION,
        purpose="master key added",
        details={"step": "added", "key": key_id},
    )
    return key_id


def _rewrapped(row: ProtectedModel, ring) -> str:
    envelope = row.protection_envelope()
    data_key = keys.unwrap_envelope(envelope, row.protection_binding())
    key_id, blob = ring.wrap_bound(data_key, row.protection_binding())
    return keys.Envelope(2, key_id, envelope.version, blob).encode()


def upgrade_record(row: ProtectedModel) -> None:
    """Seal a record again in the current format (binding, new version, current master key,
    current blind indexes) without touching anything else, its update time included."""
    pending = row.protection_pending()
    values = {"data_key": row.data_key, **pending}
    for field in row._meta.concrete_fields:
        if isinstance(field, BlindIndexField):
            values[field.attname] = field.pre_save(row, False)
    type(row)._base_manager.filter(pk=row.pk).update(**values)
    row.__dict__.pop("_protection_pending", None)


def rewrap_all(batch_size: int = 500, progress: Callable[[str, int], None] | None = None) -> int:
    """Re-wrap every data key not under the current master key, and upgrade every first-format
    record; then, with a key file, stop accepting the first format. Returns how many records."""
    ring = keys.keyring(force=True)
    done = 0
    for model in protected_models():
        last_pk = 0
        while True:
            with transaction.atomic():
                rows = list(
                    model._base_manager.select_for_update()
                    .filter(pk__gt=last_pk)
                    .exclude(data_key="")
                    .exclude(data_key=keys.SHREDDED)
                    .exclude(data_key__startswith=f"v2|{ring.current_id}|")
                    .order_by("pk")
                    .only("pk", "data_key")[:batch_size]
                )
                if not rows:
                    break
                for row in rows:
                    if row.protection_envelope().fmt == 1:
                        upgrade_record(row)
                    else:
                        model._base_manager.filter(pk=row.pk).update(data_key=_rewrapped(row, ring))
                last_pk = rows[-1].pk
                done += len(rows)
            if progress:
                progress(model._meta.label_lower, done)
    _close_first_format()
    audit.record(
        None,
        audit.Action.KEY_ROTATION,
        purpose="data keys re-wrapped",
        details={"step": "rewrapped", "records": done, "current_key": ring.current_id},
    )
    return done


def _close_first_format() -> None:
    """Once no first-format record is left, the key file stops accepting them: a first-format
    row put back from an old backup is then refused instead of read."""
    if keys.keys_from_environment() or keys.keyring().kind != "local":
        return
    if any(counter.get(FIRST_FORMAT) for counter in key_usage().values()):
        return
    path = keys.key_file_path()
    content = keys.read_key_file(path)
    if content.get("legacy_v1", True):
        content["legacy_v1"] = False
        keys.write_key_file(path, content)
        keys.reset_keyring()


def reindex_all(batch_size: int = 500) -> int:
    """Recompute every blind index (after ``STREHA_BLIND_INDEX_BITS`` changed)."""
    done = 0
    for model in protected_models():
        index_fields = [f for f in model._meta.concrete_fields if isinstance(f, BlindIndexField)]
        if not index_fields:
            continue
        last_pk = 0
        while True:
            with transaction.atomic():
                rows = list(
                    model._base_manager.select_for_update()
                    .filter(pk__gt=last_pk)
                    .exclude(data_key="")
                    .order_by("pk")[:batch_size]
                )
                if not rows:
                    break
                for row in rows:
                    values = {f.attname: "" for f in index_fields}
                    if not row.protection_envelope().shredded:
                        values = {f.attname: f.digest_of(f.source_text(row)) for f in index_fields}
                    model._base_manager.filter(pk=row.pk).update(**values)
                last_pk = rows[-1].pk
                done += len(rows)
    return done


def retire_master_key(
    key_id: str, *, now: datetime | None = None, grace: timedelta = RETIRE_GRACE
) -> str:
    """Retire an old master key in two steps, each refused while any record still uses it.

    First call: the key is disabled (no process wraps under it once it has re-read the key
    file; it still unwraps). A later call, after ``grace``: counted again, then destroyed.
    Returns ``"disabled"`` or ``"destroyed"``."""
    _require_key_file("retire")
    now = now or timezone.now()
    path = keys.key_file_path()
    content = keys.read_key_file(path)
    if key_id not in content["keys"]:
        raise ValueError(f"Master key {key_id} is not in the key file.")
    if key_id == content["current"]:
        raise ValueError("The current master key cannot be retired.")
    disabled = content.setdefault("disabled", {})
    still = _records_using(key_id)
    if key_id not in disabled:
        if still:
            raise ValueError(f"{still} records still use master key {key_id}; run rewrap first.")
        disabled[key_id] = now.isoformat()
        keys.write_key_file(path, content)
        keys.reset_keyring()
        audit.record(
            None,
            audit.Action.KEY_ROTATION,
            purpose="master key disabled",
            details={"step": "disabled", "key": key_id},
        )
        return "disabled"
    since = datetime.fromisoformat(disabled[key_id])
    if now < since + grace:
        raise ValueError(
            f"Master key {key_id} was disabled at {since.isoformat()}; it can be destroyed "
            f"after {(since + grace).isoformat()}, when every process has stopped using it."
        )
    if still:
        raise ValueError(
            f"{still} records were wrapped under master key {key_id} after it was disabled "
            "(by a process that had not yet re-read the key file); run rewrap, then retire again."
        )
    content["keys"].pop(key_id)
    disabled.pop(key_id)
    keys.write_key_file(path, content)
    keys.reset_keyring()
    audit.record(
        None,
        audit.Action.KEY_ROTATION,
        purpose="master key destroyed",
        details={"step": "destroyed", "key": key_id},
    )
    return "destroyed"


def shred_data_key(record: ProtectedModel, *, actor=None, replayed: bool = False) -> None:
    """Destroy a record's data key (crypto-shredding) and empty its protected fields.

    Every ciphertext ever sealed with that key, in this database or a copy of the row, can then
    be opened only with an envelope that still holds the key: an old backup of the row, until
    every master key that wrapped it is retired (``streha keys rotate`` then ``retire``).
    Call inside the transaction that anonymises or erases the record. The shredding is also
    appended to the shred ledger outside the database once it commits (``shred_ledger``), which
    ``streha restore`` replays (``replayed``: this call is that replay)."""
    model = type(record)
    values: dict = {"data_key": keys.SHREDDED}
    for field in model._meta.concrete_fields:
        if isinstance(field, ProtectedFieldMixin):
            values[field.attname] = None if field.null else Sealed("")
        elif isinstance(field, BlindIndexField):
            values[field.attname] = ""
    model._base_manager.filter(pk=record.pk).update(**values)
    for attname, value in values.items():
        record.__dict__[attname] = value
    record.__dict__.pop("_protection_dek", None)
    audit.record(
        actor,
        audit.Action.KEY_ROTATION,
        obj=record,
        purpose="data key destroyed again after a restore" if replayed else "data key destroyed",
        details={"step": "shredded"},
    )
    if not replayed:
        shred_ledger.record(record)
