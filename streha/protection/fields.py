"""Model fields for identifying data: encrypted at rest, plaintext on the instance.

Use them on a model that inherits ``ProtectedModel`` (which holds the record's envelope: its
wrapped data key and version)::

    class Person(ProtectedModel):
        given_name = ProtectedCharField(max_length=100)
        name_index = BlindIndexField(purpose="person.name", source=("given_name", "family_name"),
                                     normaliser=normalise_name)

Reading ``person.given_name`` decrypts transparently (forms, serializers and the shell work
unchanged) through ``ProtectedFieldMixin.open``, the one read path. Only ``save()`` and
``bulk_create()`` (after ``protection.models.assign_ids``) can write these columns, because only
they pass through ``pre_save`` where the record is sealed as a whole; ``QuerySet.update()``,
``bulk_update()`` or a filter with a plaintext value raise ``ProtectedFieldMisuse`` instead of
writing or sending plaintext to the database. Exact search goes through the blind index field
and ``protection.search.exact``.
"""

import base64
import datetime
from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.db import models
from django.db.models.query_utils import DeferredAttribute

from streha.audit import read_context
from streha.protection import crypto, keys

DEFAULT_INDEX_BITS = 12


class ProtectedFieldMisuse(Exception):
    """Plaintext was about to reach the database outside the protected write path."""


class Sealed:
    """Ciphertext as loaded from the database, not yet opened. Prints nothing of the content."""

    __slots__ = ("token",)

    def __init__(self, token: str):
        self.token = token

    def __repr__(self) -> str:
        return "<sealed>"

    def __eq__(self, other) -> bool:
        return isinstance(other, Sealed) and other.token == self.token

    def __hash__(self) -> int:
        return hash(self.token)


class ProtectedAttribute(DeferredAttribute):
    """Opens the sealed value on first read. A data descriptor (it has ``__set__``), so it is
    consulted even when the value already sits in the instance ``__dict__``."""

    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, Sealed):
            # Kept so that a serialiser can still write the stored ciphertext of an opened value.
            instance.__dict__.setdefault("_protection_opened", {})[self.field.attname] = value
            value = self.field.open(instance, value)
            instance.__dict__[self.field.attname] = value
        return value

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value


class ProtectedFieldMixin:
    descriptor_class = ProtectedAttribute

    def __init__(self, *args, **kwargs):
        if kwargs.get("unique") or kwargs.get("db_index") or kwargs.get("primary_key"):
            raise ValueError(
                "A protected field cannot be unique or indexed; add a BlindIndexField."
            )
        super().__init__(*args, **kwargs)

    def get_internal_type(self) -> str:
        return "TextField"

    def db_type(self, connection):
        return models.TextField().db_type(connection)

    def associated_data(self) -> str:
        """Model and field, for messages (the record's binding is added by the model)."""
        return f"{self.model._meta.label_lower}.{self.name}"

    # Text form of a Python value before encryption, and back.
    def serialise(self, value) -> str:
        return str(value)

    def deserialise(self, text: str):
        return text

    def empty_value(self):
        """What a field of a shredded record reads as."""
        return None if self.null else ""

    def open(self, instance, sealed: Sealed):
        """The one read path: a stored value becomes plaintext for whoever reads the attribute."""
        read_context.check(instance)  # refuses outside an audited read (streha.audit)
        return self.plaintext(instance, sealed)

    def plaintext(self, instance, sealed: Sealed):
        """Decrypt with the record's data key, checking the value belongs to this record, this
        field and the record's current version. For ``open`` and, inside ``streha.protection``
        only, for re-indexing and filtering search candidates (the plaintext stays inside)."""
        if not sealed.token and instance.protection_envelope() == keys.SHREDDED_ENVELOPE:
            return self.empty_value()
        data_key = instance.protection_data_key()
        associated = instance.protection_associated_data(self, sealed.token)
        return self.deserialise(crypto.open_sealed(data_key, sealed.token, associated).decode())

    def from_db_value(self, value, expression, connection):
        return None if value is None else Sealed(value)

    def pre_save(self, model_instance, add):
        # The record is sealed as a whole (every field at the new record version) by the model.
        return model_instance.protection_pending()[self.attname]

    def get_prep_value(self, value):
        if value is None or isinstance(value, Sealed):
            return value
        raise ProtectedFieldMisuse(
            f"{self.associated_data()} can only be written by save() "
            "and searched by its blind index."
        )

    def get_db_prep_value(self, value, connection, prepared=False):
        value = self.get_prep_value(value)
        return value.token if isinstance(value, Sealed) else value

    def field_unchanged(self, obj, opened: "Sealed", value) -> bool:
        """Is ``value`` still what ``opened`` decrypted to (no one assigned a new value since)?"""
        return self.plaintext(obj, opened) == value

    def value_to_string(self, obj):
        # Serialisers (dumpdata) get the ciphertext, never the plaintext.
        value = obj.__dict__.get(self.attname)
        if isinstance(value, Sealed):
            return value.token
        opened = obj.__dict__.get("_protection_opened", {}).get(self.attname)
        if opened is not None and self.field_unchanged(obj, opened, value):
            return opened.token
        raise ProtectedFieldMisuse(f"{self.associated_data()}: save the record before dumping it.")


class ProtectedCharField(ProtectedFieldMixin, models.CharField):
    """Short identifying text (names, numbers, phone). ``max_length`` limits the plaintext."""

    def to_python(self, value):
        if isinstance(value, Sealed):
            return value
        return super().to_python(value)


class ProtectedTextField(ProtectedFieldMixin, models.TextField):
    """Free text (narratives, notes)."""

    def to_python(self, value):
        if isinstance(value, Sealed):
            return value
        return super().to_python(value)


class ProtectedDateField(ProtectedFieldMixin, models.DateField):
    """A date such as the date of birth, stored encrypted as ISO text."""

    def serialise(self, value) -> str:
        return value.isoformat()

    def deserialise(self, text: str):
        return datetime.date.fromisoformat(text)

    def to_python(self, value):
        if isinstance(value, Sealed):
            return value
        return super().to_python(value)

    def pre_save(self, model_instance, add):
        return ProtectedFieldMixin.pre_save(self, model_instance, add)


class ProtectedBinaryField(ProtectedFieldMixin, models.BinaryField):
    """File content (uploaded documents), sealed like text; bytes on the instance."""

    def serialise(self, value) -> str:
        return base64.b64encode(bytes(value)).decode()

    def deserialise(self, text: str):
        return base64.b64decode(text)

    def empty_value(self):
        return None if self.null else b""

    def to_python(self, value):
        if isinstance(value, Sealed):
            return value
        return super().to_python(value)


class DataKeyField(models.CharField):
    """The record's envelope: its data key wrapped by a master key, and the record version."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 120)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def pre_save(self, model_instance, add):
        model_instance.protection_pending()
        return getattr(model_instance, self.attname)


@lru_cache(maxsize=64)
def _field_key(index_root: bytes, purpose: str) -> bytes:
    return crypto.field_index_key(index_root, purpose)


class BlindIndexField(models.CharField):
    """A short keyed hash of normalised plaintext, kept up to date on every save, that finds
    candidates for exact search (``protection.search.exact`` keeps only the true matches).

    Each field has its own key, derived from the index root (``keys.Keyring.index_key``), which
    is kept apart from the master keys. ``bits`` (default ``STREHA_BLIND_INDEX_BITS``, 12) sets
    how many values share an index: about ``records / 2**bits`` others per value."""

    def __init__(
        self,
        *args,
        purpose: str = "",
        source: tuple[str, ...] = (),
        normaliser: Callable[[str], str] = crypto.normalise_text,
        bits: int | None = None,
        **kwargs,
    ):
        self.purpose = purpose
        self.source = tuple(source)
        self.normaliser = normaliser
        self.bits = bits
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["purpose"] = self.purpose
        kwargs["source"] = self.source
        if not self.db_index:  # indexed by default here, unlike a plain field
            kwargs["db_index"] = False
        return name, path, args, kwargs

    def index_bits(self) -> int:
        bits = self.bits or getattr(settings, "STREHA_BLIND_INDEX_BITS", DEFAULT_INDEX_BITS)
        return max(1, min(int(bits), 64))

    def digest_of(self, text: str) -> str:
        """The index value of ``text`` (empty for an empty value)."""
        normalised = self.normaliser(text)
        if not normalised:
            return ""
        key = _field_key(keys.keyring().index_key, self.purpose)
        return crypto.truncated_index(key, normalised, self.index_bits())

    def lookups_of(self, text: str) -> list[str]:
        """Every stored index value a record equal to ``text`` may carry: the current one and,
        while first-format records may remain, the full-length HMAC they were indexed with."""
        current = self.digest_of(text)
        if not current:
            return []
        ring = keys.keyring()
        if not ring.legacy_v1:
            return [current]
        legacy = crypto.blind_index(ring.index_key, self.purpose, self.normaliser(text))
        return [current, legacy]

    def source_text(self, instance) -> str:
        """The indexed plaintext; stays inside ``streha.protection`` (indexing and matching)."""
        parts = []
        for name in self.source:
            value = instance.__dict__.get(instance._meta.get_field(name).attname)
            if isinstance(value, Sealed):
                value = instance._meta.get_field(name).plaintext(instance, value)
            parts.append(str(value or ""))
        return " ".join(parts)

    def matches(self, instance, text: str) -> bool:
        wanted = self.normaliser(text)
        return bool(wanted) and self.normaliser(self.source_text(instance)) == wanted

    def pre_save(self, model_instance, add):
        current = getattr(model_instance, self.attname) or ""
        attnames = [model_instance._meta.get_field(name).attname for name in self.source]
        unchanged = all(isinstance(model_instance.__dict__.get(a), Sealed) for a in attnames)
        if unchanged and current.startswith(f"t{self.index_bits()}:"):
            return current  # nothing indexed changed and the index has the current form
        value = self.digest_of(self.source_text(model_instance))
        setattr(model_instance, self.attname, value)
        return value
