"""The base for every model that holds identifying data."""

from django.db import models

from streha.protection import keys
from streha.protection.fields import DataKeyField, ProtectedFieldMixin


class ProtectedModel(models.Model):
    """A record with its own data key; its protected fields are sealed with that key."""

    data_key = DataKeyField()

    class Meta:
        abstract = True

    def protection_data_key(self) -> bytes:
        cached = self.__dict__.get("_protection_dek")
        if cached is None:
            if self.data_key:
                cached = keys.unwrap(self.data_key)
            else:
                cached = keys.new_key()
                self.data_key = keys.keyring().wrap(cached)
            self.__dict__["_protection_dek"] = cached
        return cached

    def refresh_from_db(self, *args, **kwargs):
        self.__dict__.pop("_protection_dek", None)
        super().refresh_from_db(*args, **kwargs)

    @classmethod
    def protected_field_names(cls) -> list[str]:
        return [f.name for f in cls._meta.concrete_fields if isinstance(f, ProtectedFieldMixin)]


def protected_models() -> list[type[ProtectedModel]]:
    from django.apps import apps

    return [m for m in apps.get_models() if issubclass(m, ProtectedModel)]
