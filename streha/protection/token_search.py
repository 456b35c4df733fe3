"""Search by single names through a per-token blind index, filtered after decryption.

A model that wants it declares a ``NameTokenIndex`` (which protected fields hold names, and the
index's purpose, from which its key is derived) and a table of entries, one row per record and
name key holding ``name_token_digest(purpose, key)``, and one per pair of those (``with_pairs``).
Entries are truncated to ``name_token_bits`` bits, so each is shared by several different names:
the caller selects the records holding every entry of ``search_digests`` among those the user
may see (the candidates), and ``confirmed`` opens their name fields inside this module and keeps
those whose names really have every key of the query. Nothing of a non-matching candidate leaves
this module.

The candidates are taken only from the queryset the caller passes, which the access policy has
already limited to the records the user may see with the names' field group; a search that
names more candidates than ``limit`` raises ``SearchTooBroad`` (counting only those), so no
answer ever depends on records outside the user's scope.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from streha.errors import DomainError
from streha.protection.fields import Sealed
from streha.protection.name_keys import (
    name_keys,
    name_token_configuration,
    name_token_digest,
)


class SearchTooBroad(DomainError):
    """A search names more candidates than are opened for one request: the user narrows it."""

    status_code = 400
    code = "search_too_broad"

    def __init__(self):
        super().__init__(
            _(
                "This search matches too many persons. Add another name, the year of birth, "
                "or search by personal or passport number."
            )
        )


# Between the two entries of a pair entry: never in an entry (``crypto.truncated_index``).
PAIR = "&"


def pair(first: str, second: str) -> str:
    return f"{first}{PAIR}{second}" if first < second else f"{second}{PAIR}{first}"


def with_pairs(singles: set[str]) -> set[str]:
    """``singles`` and an entry for each pair of them.

    Every name's entry is shared by thousands of records at national scale (10 bits), so
    intersecting the holders of two names reads thousands of index rows to find a few hundred
    (7 ms at 1,000,000 persons). A pair entry names those few hundred directly. It tells
    nothing the single entries do not: a record holds the pair entry exactly when it holds
    both entries, which the table already says (each entry names its record)."""
    ordered = sorted(singles)
    return set(singles) | {pair(a, b) for i, a in enumerate(ordered) for b in ordered[i + 1 :]}


@dataclass(frozen=True)
class NameTokenIndex:
    """Which protected fields of a model are searched by single names, under which purpose."""

    purpose: str
    source: tuple[str, ...]

    def plaintext_names(self, record: models.Model) -> str:
        """The record's names, opened here only (indexing and matching)."""
        parts = []
        for name in self.source:
            field = record._meta.get_field(name)
            value = record.__dict__.get(field.attname)
            if isinstance(value, Sealed):
                value = field.plaintext(record, value)
            parts.append(str(value or ""))
        return " ".join(parts)

    def keys_of(self, record: models.Model) -> set[str]:
        envelope = record.protection_envelope()
        if envelope is not None and envelope.shredded:
            return set()
        return name_keys(self.plaintext_names(record))

    def digests_of(self, record: models.Model) -> set[str]:
        """The index entries ``record`` must have (none for a shredded record): one per name,
        and one per pair of them (``with_pairs``)."""
        return with_pairs({name_token_digest(self.purpose, key) for key in self.keys_of(record)})

    def search_digests(self, text: str) -> set[str]:
        """The entries a record must hold to hold every name of ``text``: its one entry, or the
        pairs of the first name's entry with each other's (a record holding all the pairs holds
        every name's entry, and the other way round)."""
        singles = sorted({self.digest(key) for key in name_keys(text)})
        return {pair(singles[0], other) for other in singles[1:]} or set(singles)

    def digest(self, key: str) -> str:
        return name_token_digest(self.purpose, key)

    def configuration(self) -> str:
        """The key and bits entries are written under now (``name_token_configuration``): what
        a record's marker must equal for its entries to be current."""
        return name_token_configuration(self.purpose)

    def source_changed(self, record: models.Model) -> bool:
        """Was a name assigned since the record was loaded (so its entries must be rewritten)?"""
        attnames = [record._meta.get_field(name).attname for name in self.source]
        # A deferred name was not loaded, so not assigned either.
        return any(
            a in record.__dict__ and not isinstance(record.__dict__[a], Sealed) for a in attnames
        )

    def confirmed(self, model, ids: Iterable[int], text: str, *, equal: dict | None = None) -> set:
        """Those of ``ids`` (candidates) whose names really include every name of ``text``:
        only these records are opened, so a caller bounds the decryption by what it asks."""
        ids = list(ids)
        if not ids:
            return set()
        return set(self._true_matches(model, ids, name_keys(text), equal or {}))

    def _true_matches(self, model, ids: Iterable[int], wanted: set[str], equal: dict) -> list:
        names = [*self.source, *equal]
        attnames = [model._meta.get_field(name).attname for name in names]
        candidates = model._base_manager.filter(pk__in=list(ids)).only("pk", "data_key", *attnames)
        return [
            record.pk
            for record in candidates.iterator()
            if wanted <= self.keys_of(record) and self._holds(record, equal)
        ]

    @staticmethod
    def _holds(record: models.Model, equal: dict) -> bool:
        for name, expected in equal.items():
            field = record._meta.get_field(name)
            value = record.__dict__.get(field.attname)
            if isinstance(value, Sealed):
                value = field.plaintext(record, value)
            if value != expected:
                return False
        return True


def equal_after_opening(records: QuerySet, equal: dict, *, limit: int) -> QuerySet:
    """The records of ``records`` whose protected fields hold the values of ``equal`` (a date
    of birth with only a year to narrow by), opened here; ``SearchTooBroad`` past ``limit``."""
    ids = list(records.order_by().values_list("pk", flat=True)[: limit + 1])
    if len(ids) > limit:
        raise SearchTooBroad
    attnames = [records.model._meta.get_field(name).attname for name in equal]
    candidates = records.model._base_manager.filter(pk__in=ids).only("pk", "data_key", *attnames)
    keep = [r.pk for r in candidates.iterator() if NameTokenIndex._holds(r, equal)]
    return records.filter(pk__in=keep)
