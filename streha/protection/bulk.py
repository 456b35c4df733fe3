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

from django.db import connections, router, transaction
from django.db.models import Model

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
    with transaction.atomic(using=alias, savepoint=False), connection.cursor() as cursor:
        for start in range(0, len(objs), BATCH):
            rows = []
            for obj in objs[start : start + BATCH]:
                rows.append(
                    [
                        field.get_db_prep_save(field.pre_save(obj, True), connection)
                        for field in fields
                    ]
                )
                obj._state.adding = False
                obj._state.db = alias
            cursor.executemany(sql, rows)
    return len(objs)
