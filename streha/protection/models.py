"""The base for every model that holds identifying data.

A protected record is sealed as a whole on every write: a new record version is taken, every
protected field is sealed (or, if unchanged, sealed again) with associated data naming the
model, the field, the record's primary key and that version, and the envelope stores the
version next to the data key, whose wrapping is bound to the model and primary key. The primary
key is therefore known before the first write: ``save()`` assigns it, and ``bulk_create`` needs
``assign_ids`` first.
"""

from functools import cache

from django.db import connections, models, router, transaction

from streha.protection import crypto, keys
from streha.protection.fields import (
    BlindIndexField,
    DataKeyField,
    ProtectedFieldMisuse,
    ProtectedFieldMixin,
    Sealed,
)


class ProtectedModel(models.Model):
    """A record with its own data key; its protected fields are sealed with that key."""

    data_key = DataKeyField()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        written = self.protection_write_fields()
        self.__dict__.pop("_protection_pending", None)
        if update_fields is not None and not set(update_fields) & written:
            return super().save(*args, **kwargs)  # nothing protected is written: no new version
        if self.pk is None:
            assign_ids([self], using=kwargs.get("using"))
            if not args:
                kwargs.setdefault("force_insert", True)
        try:
            self.protection_pending()
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, *written}
            return super().save(*args, **kwargs)
        finally:
            self.__dict__.pop("_protection_pending", None)

    def refresh_from_db(self, *args, **kwargs):
        self.__dict__.pop("_protection_pending", None)
        super().refresh_from_db(*args, **kwargs)

    # --- What the stored values are bound to -----------------------------------------------------

    def protection_binding(self) -> str:
        """The record a data key is wrapped for: model and primary key (immutable)."""
        return f"{self._meta.label_lower}|{self.pk}"

    def protection_envelope(self) -> keys.Envelope | None:
        stored = self.data_key or ""
        cached = self.__dict__.get("_protection_envelope")
        if cached is None or cached[0] != stored:
            cached = (stored, keys.parse_envelope(stored))
            self.__dict__["_protection_envelope"] = cached
        return cached[1]

    def protection_associated_data(self, field, token: str) -> str:
        """The associated data ``token`` must carry to open for ``field`` of this record now."""
        return associated_data_of(
            self._meta.label_lower, field.name, self.pk, self.protection_envelope(), token
        )

    def protection_data_key(self) -> bytes:
        envelope = self.protection_envelope()
        cached = self.__dict__.get("_protection_dek")
        if envelope is None:
            if cached is None or cached[0] is not None:
                cached = (None, keys.new_key())  # a new record: wrapped when first saved
                self.__dict__["_protection_dek"] = cached
            return cached[1]
        marker = (envelope.key_id, envelope.blob, self.pk)
        if cached is None or cached[0] != marker:
            cached = (marker, keys.unwrap_envelope(envelope, self.protection_binding()))
            self.__dict__["_protection_dek"] = cached
        return cached[1]

    # --- Writing ---------------------------------------------------------------------------------

    @classmethod
    def protected_field_names(cls) -> list[str]:
        return [f.name for f in _protected_fields(cls)]

    @classmethod
    def protection_write_fields(cls) -> frozenset[str]:
        """Fields written together whenever any protected field or the envelope is written."""
        return _write_fields(cls)

    def protection_pending(self) -> dict:
        """The sealed values for the write in progress (sealing the record on first call)."""
        pending = self.__dict__.get("_protection_pending")
        if pending is None:
            pending = self._protection_seal()
            self.__dict__["_protection_pending"] = pending
        return pending

    def _load_deferred_protected(self) -> None:
        """Load deferred envelope, sealed and index columns: a write always writes them all."""
        written = self.protection_write_fields()
        fields = [
            f
            for f in self._meta.concrete_fields
            if f.name in written and f.attname not in self.__dict__
        ]
        if fields and self.pk is not None and not self._state.adding:
            values = (
                type(self)
                ._base_manager.using(self._state.db)
                .filter(pk=self.pk)
                .values_list(*[f.attname for f in fields])
                .get()
            )
            for field, value in zip(fields, values, strict=True):
                self.__dict__[field.attname] = value

    def _protection_seal(self) -> dict:
        if self.pk is None:
            raise ProtectedFieldMisuse(
                f"{self._meta.label_lower}: a protected record needs its id before it is sealed; "
                "call protection.models.assign_ids(objects) before bulk_create."
            )
        self._load_deferred_protected()
        fields = _protected_fields(type(self))
        envelope = self.protection_envelope()
        if envelope is not None and envelope.shredded:
            return self._seal_shredded(fields)
        data_key = self.protection_data_key()
        version = (envelope.version if envelope else 0) + 1
        label = self._meta.label_lower
        pending = {}
        for field in fields:
            value = self.__dict__.get(field.attname)
            associated = crypto.associated_data(label, field.name, self.pk, version)
            if value is None:
                pending[field.attname] = None
                continue
            if isinstance(value, Sealed):
                # Unchanged: sealed again for the new version, without becoming plaintext here.
                old = self.protection_associated_data(field, value.token)
                token = crypto.reseal(data_key, value.token, old, data_key, associated)
            else:
                token = crypto.seal(data_key, field.serialise(value).encode(), associated)
            pending[field.attname] = Sealed(token)
        ring = keys.current_keyring_for(envelope.key_id if envelope else "")
        if envelope is None or envelope.fmt == 1 or envelope.key_id != ring.current_id:
            # New, first format, or under another master key than the current: wrap again.
            key_id, blob = ring.wrap_bound(data_key, self.protection_binding())
        else:
            key_id, blob = envelope.key_id, envelope.blob
        # Only now, all sealed: the instance moves to the new version in one step.
        for attname, sealed in pending.items():
            if isinstance(self.__dict__.get(attname), Sealed):
                self.__dict__[attname] = sealed
        self.data_key = keys.Envelope(2, key_id, version, blob).encode()
        self.__dict__["_protection_dek"] = ((key_id, blob, self.pk), data_key)
        return pending

    def _seal_shredded(self, fields) -> dict:
        """A shredded record holds no protected data: only empty values may be written."""
        pending = {}
        for field in fields:
            value = self.__dict__.get(field.attname)
            if value is None:
                pending[field.attname] = None
            elif (isinstance(value, Sealed) and not value.token) or value in ("", b""):
                pending[field.attname] = Sealed("")
            else:
                raise ProtectedFieldMisuse(
                    f"{self._meta.label_lower}.{field.name}: this record's data key was "
                    "destroyed; it can hold no protected data."
                )
        return pending


def associated_data_of(
    label: str, field_name: str, pk, envelope: keys.Envelope | None, token: str
) -> str:
    """The associated data ``token`` must carry to open for the field ``field_name`` of the
    record ``label`` #``pk`` whose envelope is ``envelope`` (one record's path and the bulk
    open share it)."""
    fmt = crypto.token_format(token)
    if envelope is not None and envelope.fmt == 2 and fmt == 2:
        return crypto.associated_data(label, field_name, pk, envelope.version)
    if envelope is not None and envelope.fmt == 1 and fmt == 1:
        return crypto.legacy_associated_data(label, field_name)
    raise crypto.ProtectedDataIntegrityError(
        f"{label}.{field_name}: the stored value does not belong with the record's data key."
    )


# A model's fields do not change while the process runs: looked up once per model, not on
# every record sealed (a bulk import seals three records a row).
@cache
def _protected_fields(model) -> tuple:
    return tuple(f for f in model._meta.concrete_fields if isinstance(f, ProtectedFieldMixin))


@cache
def _write_fields(model) -> frozenset[str]:
    return frozenset(
        f.name
        for f in model._meta.concrete_fields
        if isinstance(f, ProtectedFieldMixin | DataKeyField | BlindIndexField)
    )


def assign_ids(objects: list[models.Model], using: str | None = None) -> None:
    """Give new records their primary keys before they are written, one round trip for all:
    a protected record's ciphertexts are bound to its id, so the id must exist first."""
    missing = [obj for obj in objects if obj.pk is None]
    if not missing:
        return
    model = type(missing[0])
    alias = using or router.db_for_write(model)
    connection = connections[alias]
    table, column = model._meta.db_table, model._meta.pk.column
    count = len(missing)
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [connection.ops.quote_name(table), column, count],
            )
            ids = sorted(row[0] for row in cursor.fetchall())
        elif connection.vendor == "sqlite":
            # AUTOINCREMENT tables keep their counter in sqlite_sequence; the update takes the
            # write lock, so concurrent writers get distinct ranges.
            cursor.execute(
                "UPDATE sqlite_sequence SET seq = seq + %s WHERE name = %s RETURNING seq",
                [count, table],
            )
            row = cursor.fetchone()
            if row is None:
                quoted = connection.ops.quote_name(table)
                cursor.execute(f"SELECT COALESCE(MAX({column}), 0) FROM {quoted}")  # noqa: S608
                top = cursor.fetchone()[0] + count
                cursor.execute(
                    "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, top]
                )
            else:
                top = row[0]
            ids = list(range(top - count + 1, top + 1))
        else:  # pragma: no cover - only SQLite and PostgreSQL are supported
            raise ProtectedFieldMisuse(f"Cannot assign ids on {connection.vendor}.")
    for obj, pk in zip(missing, ids, strict=True):
        obj.pk = pk


def protected_models() -> list[type[ProtectedModel]]:
    from django.apps import apps

    return [m for m in apps.get_models() if issubclass(m, ProtectedModel)]
