"""Bulk inserts of many records (the demo generator, the import), without the ORM's per-value
SQL compilation on SQLite.

On SQLite ``Model.objects.bulk_create`` compiles a placeholder and an expression for every value
of every row; at a million persons that costs more CPU than sealing the data. ``insert``
prepares each value exactly as ``bulk_create`` does (``field.pre_save`` then
``get_db_prep_save``: protected fields seal through ``streha.protection``, blind indexes hash,
``auto_now_add`` stamps) and runs one parameterised row statement for all rows
(``executemany``, a loop inside the driver). It sends no signals and sets no auto-generated
primary keys: records whose ids are needed afterwards get them first (``assign_ids``).
On PostgreSQL Django 5.2's ``bulk_create`` already sends each batch as arrays (``UNNEST``),
which measured cheaper than any statement built here, so it is used as it is.
"""

import datetime
import uuid
from functools import cache

from django.db import connections, models, router, transaction
from django.db.models import Model
from django.utils import timezone

BATCH = 2000


def insert(objs: list[Model], *, using: str | None = None) -> int:
    """Insert ``objs`` (all of one model) and return how many rows were written."""
    if not objs:
        return 0
    model = type(objs[0])
    alias = using or router.db_for_write(model)
    connection = connections[alias]
    with_pk = objs[0].pk is not None
    if any((obj.pk is not None) != with_pk for obj in objs):
        raise ValueError("insert: either every object has its primary key or none has.")
    if connection.vendor != "sqlite":
        model._base_manager.using(alias).bulk_create(objs, batch_size=BATCH)
        return len(objs)
    fields = [
        field
        for field in model._meta.concrete_fields
        if with_pk or not field.primary_key
        if not field.generated
    ]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608
    now = timezone.now()
    preparers = [_preparer(field, connection, now) for field in fields]
    with transaction.atomic(using=alias, savepoint=False), connection.cursor() as cursor:
        for start in range(0, len(objs), BATCH):
            rows = []
            for obj in objs[start : start + BATCH]:
                rows.append([prepare(obj) for prepare in preparers])
                obj._state.adding = False
                obj._state.db = alias
            cursor.executemany(sql, rows)
    return len(objs)


# Field types whose value of the given Python type goes to SQLite as it is: for them
# ``pre_save`` reads the attribute and ``get_db_prep_save`` returns the value unchanged, so the
# two calls (most of the cost of a wide row such as a case's) are skipped. Exact types only:
# a subclass (protected fields, blind indexes) may seal or hash in ``pre_save``.
_AS_IS = {
    models.CharField: str,
    models.TextField: str,
    models.IntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveSmallIntegerField: int,
    models.SmallIntegerField: int,
    models.BigIntegerField: int,
    models.ForeignKey: int,
    models.OneToOneField: int,
    models.BooleanField: bool,
}
_EMPTY_JSON = {list: "[]", dict: "{}"}
_DAY = datetime.date(2000, 1, 31)


def _preparer(field, connection, now):
    """How one field's value is prepared for the statement: exactly ``bulk_create``'s
    ``field.get_db_prep_save(field.pre_save(obj, True), connection)``, with the common cases
    answered without the two calls (``test_bulk``: same rows as ``bulk_create``)."""
    attname = field.attname

    def general(obj):
        return field.get_db_prep_save(field.pre_save(obj, True), connection)

    kind = type(field)
    if kind in (models.DateTimeField, models.DateField) and (field.auto_now or field.auto_now_add):
        # One stamp for the statement's rows (as a database default would give).
        stamp = now if kind is models.DateTimeField else datetime.date.today()
        prepared = field.get_db_prep_save(stamp, connection)

        def stamped(obj):
            obj.__dict__[attname] = stamp
            return prepared

        return stamped
    plain = _AS_IS.get(kind)
    if plain is str:
        # Text choices (``Status.OPEN``) are str subclasses that ``CharField.to_python``
        # returns as they are; None stays None (both as ``get_db_prep_save`` gives them).

        def as_text(obj):
            value = obj.__dict__.get(attname, general)
            return value if value is None or isinstance(value, str) else general(obj)

        return as_text
    if plain is not None:

        def as_is(obj):
            value = obj.__dict__.get(attname, general)
            return value if value is None or type(value) is plain else general(obj)

        return as_is
    if kind is models.DateField and connection.ops.adapt_datefield_value(_DAY) == str(_DAY):
        # A date is sent as its ISO text (``adapt_datefield_value``), None as None.

        def as_day(obj):
            value = obj.__dict__.get(attname, general)
            if value is None:
                return None
            return str(value) if type(value) is datetime.date else general(obj)

        return as_day
    if kind is models.DateTimeField:

        def as_moment(obj):
            value = obj.__dict__.get(attname, general)
            return None if value is None else general(obj)

        return as_moment
    if kind is models.UUIDField and not connection.features.has_native_uuid_field:

        def as_uuid(obj):
            value = obj.__dict__.get(attname, general)
            if value is None:
                return None
            return value.hex if type(value) is uuid.UUID else general(obj)

        return as_uuid
    if kind is models.JSONField and field.encoder is None:

        def json(obj):
            value = obj.__dict__.get(attname)
            if not value and type(value) in _EMPTY_JSON:
                return _EMPTY_JSON[type(value)]
            return general(obj)

        return json
    return general


def build(model: type[Model], values: dict) -> Model:
    """An unsaved record: what ``model(**values)`` builds, through Django's positional
    constructor.

    Given keywords, ``Model.__init__`` looks every one of the model's fields up in them and asks
    each missing field for its default; for a wide model (a case has 60 columns) that costs a
    bulk import more than the row's own values. Here the constant defaults are computed once per
    model and the callable ones (ids, clocks, lists) called for each record, as Django calls
    them. ``values`` are keyed by field name or column attribute (``owner_agency`` with a record,
    or ``owner_agency_id``); ``test_bulk`` compares every attribute with the constructor's."""
    constants, callables, positions, relations = _construction_plan(model)
    args = list(constants)
    given = set()
    related = []
    for name, value in values.items():
        position = positions.get(name)
        if position is None:
            raise TypeError(f"{model.__name__}() got an unexpected keyword argument {name!r}")
        given.add(position)
        if name in relations:
            # A record for a relation: set through its descriptor below (its id and its
            # cache, as the constructor does).
            related.append((name, value))
        else:
            args[position] = value
    for position, default in callables:
        if position not in given:
            args[position] = default()
    obj = model(*args)
    for name, value in related:
        setattr(obj, name, value)
    return obj


@cache
def _construction_plan(model: type[Model]) -> tuple:
    """The constructor's positional arguments with every constant default in place; the
    callable defaults to call per record (``field.get_default``, which Django calls for every
    record); each field's position by name and by attribute; the relations' names."""
    constants, callables, positions, relations = [], [], {}, set()
    for position, field in enumerate(model._meta.concrete_fields):
        value = field.get_default()
        constant = value is None or isinstance(value, str | int | float | bool)
        if field.has_default() and callable(field.default) or not constant:
            callables.append((position, field.get_default))
            value = None
        constants.append(value)
        positions[field.attname] = positions[field.name] = position
        if field.attname != field.name:
            relations.add(field.name)
    return tuple(constants), tuple(callables), positions, frozenset(relations)
