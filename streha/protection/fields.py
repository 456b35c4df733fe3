"""Model fields for identifying data: encrypted at rest, plaintext on the instance.

Use them on a model that inherits ``ProtectedModel`` (which holds the record's wrapped data key)::

    class Person(ProtectedModel):
        given_name = ProtectedCharField(max_length=100)
        name_index = BlindIndexField(purpose="person.name", source=("given_name", "family_name"),
                                     normaliser=normalise_name)

Reading ``person.given_name`` decrypts transparently (forms, serializers and the shell work
unchanged). Only ``save()`` and ``bulk_create()`` can write these columns, because only they
pass through ``pre_save`` where the value is sealed; ``QuerySet.update()``, ``bulk_update()`` or
a filter with a plaintext value raise ``ProtectedFieldMisuse`` instead of writing or sending
plaintext to the database. Exact search goes through the blind index field.
"""

import base64
import datetime
from collections.abc import Callable

from django.db import models
from django.db.models.query_utils import DeferredAttribute

from streha.audit import read_context
from streha.protection import crypto, keys


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
        return f"{self.model._meta.label_lower}.{self.name}"

    # Text form of a Python value before encryption, and back.
    def serialise(self, value) -> str:
        return str(value)

    def deserialise(self, text: str):
        return text

    def open(self, instance, sealed: Sealed):
        read_context.check(instance)  # refuses outside an audited read (streha.audit)
        data_key = instance.protection_data_key()
        plaintext = crypto.open_sealed(data_key, sealed.token, self.associated_data())
        return self.deserialise(plaintext.decode())

    def from_db_value(self, value, expression, connection):
        return None if value is None else Sealed(value)

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if value is None:
            return None
        data_key = model_instance.protection_data_key()
        token = crypto.seal(data_key, self.serialise(value).encode(), self.associated_data())
        return Sealed(token)

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

    def value_to_string(self, obj):
        # Serialisers (dumpdata) get the ciphertext, never the plaintext.
        value = obj.__dict__.get(self.attname)
        if isinstance(value, Sealed):
            return value.token
        sealed = self.pre_save(obj, add=False)
        return None if sealed is None else sealed.token


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

    def to_python(self, value):
        if isinstance(value, Sealed):
            return value
        return super().to_python(value)


class DataKeyField(models.CharField):
    """The record's data key, wrapped by a master key (``<master key id>:<base64>``)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 120)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def pre_save(self, model_instance, add):
        model_instance.protection_data_key()
        return getattr(model_instance, self.attname)


class BlindIndexField(models.CharField):
    """Keyed HMAC of normalised plaintext, kept up to date on every save, for exact search."""

    def __init__(
        self,
        *args,
        purpose: str = "",
        source: tuple[str, ...] = (),
        normaliser: Callable[[str], str] = crypto.normalise_text,
        **kwargs,
    ):
        self.purpose = purpose
        self.source = tuple(source)
        self.normaliser = normaliser
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
        return name, path, args, kwargs

    def digest_of(self, text: str) -> str:
        normalised = self.normaliser(text)
        if not normalised:
            return ""
        return crypto.blind_index(keys.keyring().index_key, self.purpose, normalised)

    def pre_save(self, model_instance, add):
        parts = [getattr(model_instance, name) or "" for name in self.source]
        value = self.digest_of(" ".join(str(part) for part in parts))
        setattr(model_instance, self.attname, value)
        return value
