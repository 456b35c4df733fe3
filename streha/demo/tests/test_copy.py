"""``streha.demo.copy.insert`` (PostgreSQL's COPY) writes exactly the rows ``bulk_create``
writes: same columns, same sealing, same defaults and stamps."""

import pytest
from django.db import connection

from streha.audit import read_context
from streha.demo import copy
from streha.people.models import Person
from streha.protection.fields import ProtectedFieldMixin
from streha.protection.models import assign_ids
from streha.testing.factories import AgencyFactory
from streha.testing.rows import stored_person_row, unsaved_person

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="COPY is PostgreSQL's (SQLite uses protection.bulk)"
)


@postgresql_only
def test_copy_writes_what_bulk_create_writes():
    agency = AgencyFactory()
    fast, orm = unsaved_person(agency, "C-COPY"), unsaved_person(agency, "C-ORM")
    assign_ids([fast, orm])
    assert copy.insert([fast]) == 1
    assert not fast._state.adding
    Person.objects.bulk_create([orm])
    fast_row, orm_row = stored_person_row("C-COPY"), stored_person_row("C-ORM")
    sealed = {f.column for f in Person._meta.concrete_fields if isinstance(f, ProtectedFieldMixin)}
    per_record = {"reference", "public_id", "data_key", "created_at", "updated_at"}
    assert {c for c in fast_row if fast_row[c] != orm_row[c]} <= per_record | sealed
    assert fast_row["data_key"] and fast_row["created_at"]
    with read_context.testing_scope():
        stored = Person.objects.get(reference="C-COPY")
        assert (stored.given_name, stored.family_name) == ("Arbëresha", "Gashi")
        assert stored.personal_number == "1234567890"
        assert stored.phone == "+383 44 123 456"


@postgresql_only
def test_copy_refuses_records_without_ids():
    agency = AgencyFactory()
    with pytest.raises(ValueError, match="assign_ids"):
        copy.insert([unsaved_person(agency, "C-NOID")])
    assert not Person.objects.filter(reference="C-NOID").exists()


def test_copy_is_refused_outside_postgresql(monkeypatch):
    agency = AgencyFactory()
    person = unsaved_person(agency, "C-VENDOR")
    assign_ids([person])
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(ValueError, match="PostgreSQL"):
        copy.insert([person])
