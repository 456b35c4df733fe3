"""``streha.protection.bulk.insert`` writes exactly the rows ``bulk_create`` writes: same columns,
same sealing (the stored values open with the record's key), same defaults and stamps."""

from datetime import UTC, date

import pytest
from django.db import connection

from streha.access.models import AccessGrant
from streha.audit import read_context
from streha.people.models import Person
from streha.protection import bulk
from streha.protection.fields import ProtectedFieldMixin
from streha.protection.models import assign_ids
from streha.testing.factories import AgencyFactory, PersonFactory
from streha.testing.rows import stored_person_row, unsaved_person

pytestmark = pytest.mark.django_db


def test_insert_writes_what_bulk_create_writes():
    agency = AgencyFactory()
    fast, orm = unsaved_person(agency, "B-FAST"), unsaved_person(agency, "B-ORM")
    assign_ids([fast, orm])
    assert bulk.insert([fast]) == 1
    Person.objects.bulk_create([orm])
    fast_row, orm_row = stored_person_row("B-FAST"), stored_person_row("B-ORM")
    sealed = {f.column for f in Person._meta.concrete_fields if isinstance(f, ProtectedFieldMixin)}
    per_record = {"reference", "public_id", "data_key", "created_at", "updated_at"}
    # Only what is unique per record differs (its key, ciphertexts, ids and stamps); every
    # other column, blind indexes included, is the same.
    assert {c for c in fast_row if fast_row[c] != orm_row[c]} <= per_record | sealed
    assert fast_row["data_key"] and fast_row["created_at"]
    assert fast_row["owner_agency_id"] == agency.pk
    with read_context.testing_scope():
        stored = Person.objects.get(reference="B-FAST")
        assert (stored.given_name, stored.family_name) == ("Arbëresha", "Gashi")
        assert stored.date_of_birth == date(2001, 5, 17)
        assert stored.personal_number == "1234567890"
        assert stored.created_at is not None


def test_insert_without_ids_lets_the_database_number_rows():
    person = PersonFactory()
    agencies = AgencyFactory.create_batch(3)
    grants = [
        AccessGrant(person=person, agency=agency, field_groups=["identity"], reason="referral")
        for agency in agencies
    ]
    assert bulk.insert(grants) == 3
    stored = AccessGrant.objects.filter(person=person).order_by("pk")
    assert [grant.agency_id for grant in stored] == [agency.pk for agency in agencies]


def test_mixing_records_with_and_without_ids_is_refused():
    agency = AgencyFactory()
    first, second = unsaved_person(agency, "B-1"), unsaved_person(agency, "B-2")
    assign_ids([first])
    with pytest.raises(ValueError):
        bulk.insert([first, second])
    assert not Person.objects.filter(reference__in=["B-1", "B-2"]).exists()


def _stored_row(model, pk) -> dict:
    from django.db import connection

    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)} FROM {model._meta.db_table} WHERE id = %s",  # noqa: S608
            [pk],
        )
        return dict(zip(columns, cursor.fetchone(), strict=True))


def test_insert_writes_what_bulk_create_writes_for_wide_records_too():
    """A case (57 columns: text, numbers, keys, flags, lists, dates, stamps) and its timeline
    entry: the values prepared without the ORM's calls are the ones the ORM prepares."""
    from streha.cases.models import Case, CaseEvent, Status

    agency = AgencyFactory()
    person = PersonFactory(owner_agency=agency)

    def case(reference):
        return Case(
            person=person,
            owner_agency=agency,
            reference=reference,
            status=Status.PRESUMED_VICTIM,
            presumed_on=date(2024, 3, 1),
            first_contact_on=date(2024, 2, 1),
            exploitation_types=["ForcedLabour"],
            exploitation_countries=[],
            transnational=True,
            interview_consent=False,
            citizenship="AL",
        )

    fast, orm = case("C-FAST"), case("C-ORM")
    assign_ids([fast, orm])
    bulk.insert([fast])
    Case.objects.bulk_create([orm])
    fast_row, orm_row = _stored_row(Case, fast.pk), _stored_row(Case, orm.pk)
    sealed = {f.column for f in Case._meta.concrete_fields if isinstance(f, ProtectedFieldMixin)}
    per_record = {"reference", "public_id", "data_key", "opened_at", "updated_at"}
    assert {c for c in fast_row if fast_row[c] != orm_row[c]} <= per_record | sealed
    assert fast_row["exploitation_types"] == '["ForcedLabour"]'
    assert fast_row["exploitation_countries"] == "[]" and fast_row["opened_at"]
    assert fast.opened_at is not None and fast.updated_at is not None
    if connection.vendor == "sqlite":  # the prepared statement stamps auto_now once per statement
        assert fast.opened_at == fast.updated_at
    events = [
        CaseEvent(case=fast, kind="import", to_status="x", details={"import_job": "j"}),
        CaseEvent(case=orm, kind="import", to_status="x", details={}),
    ]
    assign_ids(events)
    bulk.insert(events[:1])
    CaseEvent.objects.bulk_create(events[1:])
    stored = {e.case_id: e.details for e in CaseEvent.objects.filter(kind="import")}
    assert stored == {fast.pk: {"import_job": "j"}, orm.pk: {}}


def test_each_prepared_value_is_the_orms():
    """Every shortcut of ``bulk._preparer`` (text, text choices, numbers, keys, flags, dates,
    None, UUIDs, lists) gives exactly ``get_db_prep_save(pre_save(...))``, value by value (the
    row comparison above cannot see ids and random keys)."""
    if connection.vendor != "sqlite":
        pytest.skip("the prepared statement is SQLite's; on PostgreSQL insert is bulk_create")
    from datetime import datetime

    from streha.cases.models import Case, Source, Status, Task, TaskKind
    from streha.people.models import Gender

    agency = AgencyFactory()
    person = PersonFactory(owner_agency=agency)
    case = Case(
        person=person,
        owner_agency=agency,
        reference="C-PREP",
        status=Status.PRESUMED_VICTIM,
        source=Source.POLICE,
        sex=Gender.FEMININE,
        presumed_on=date(2024, 3, 1),
        first_contact_on=date(2024, 2, 1),
        decided_on=None,
        exploitation_types=["ForcedLabour"],
        transnational=True,
        interview_consent=None,
        citizenship="AL",
    )
    task = Task(case=case, agency_id=agency.pk, kind=TaskKind.GUARDIAN, due_on=date(2024, 2, 2))
    assign_ids([case])
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    checked = 0
    for obj in (case, task, person):
        for field in type(obj)._meta.concrete_fields:
            if isinstance(field, ProtectedFieldMixin) or getattr(field, "auto_now", False):
                continue  # sealing is random; stamps are tested above
            if getattr(field, "auto_now_add", False) or field.name == "data_key":
                continue
            fast = bulk._preparer(field, connection, now)(obj)
            orm = field.get_db_prep_save(field.pre_save(obj, True), connection)
            assert (fast, type(fast)) == (orm, type(orm)), field.name
            checked += 1
    assert checked > 60


def _attributes(obj) -> dict:
    return {name: value for name, value in obj.__dict__.items() if name != "_state"}


@pytest.mark.parametrize("by", ["record", "id"])
def test_build_makes_what_the_constructor_makes(by):
    """``bulk.build`` (the import's constructor) gives every attribute ``Model(**values)``
    gives: the values passed, the constant defaults, fresh results of callable defaults, the
    relation set by record or by id."""
    from streha.cases.models import Case

    agency = AgencyFactory()
    person = unsaved_person(agency, "B-BUILD")
    owner = {"owner_agency": agency} if by == "record" else {"owner_agency_id": agency.pk}
    values = {
        **owner,
        "person": person,
        "reference": "C-IMPORT",
        "sex": "feminine",
        "citizenship": "XK",
        "first_contact_on": date(2026, 11, 2),
        "exploitation_types": ["SexualExploitation"],
    }
    built, made = bulk.build(Case, dict(values)), Case(**values)
    built_values, made_values = _attributes(built), _attributes(made)
    # Callable defaults (the public id) are called for each record, as the constructor does.
    fresh = {f.attname for f in Case._meta.concrete_fields if callable(f.default)}
    assert fresh  # the public id at least
    for name in fresh:
        assert type(built_values.pop(name)) is type(made_values.pop(name))
    assert built_values == made_values
    assert (built._state.adding, built._state.db) == (made._state.adding, made._state.db)
    assert built.owner_agency == agency and built.person is person
    # Mutable defaults are not shared between records.
    other = bulk.build(Case, dict(values))
    mutable = [
        n for n, v in _attributes(other).items() if isinstance(v, list | dict) and n not in values
    ]
    assert mutable
    assert all(getattr(other, n) is not getattr(built, n) for n in mutable)
    assert built.public_id != other.public_id


def test_build_refuses_what_the_model_does_not_have():
    with pytest.raises(TypeError):
        bulk.build(Person, {"nickname_of_the_day": "x"})
