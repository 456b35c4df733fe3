"""The demo generator's persons on PostgreSQL through COPY, not ``bulk_create``.

Profiling ``streha demo`` on PostgreSQL (py-spy, 1,000,000 persons) showed a fifth of its CPU in
psycopg quoting each batch's arrays as SQL text (Django binds parameters on the client) and
another tenth in compiling the insert. ``COPY ... FROM STDIN`` sends rows as they are, formatted
by psycopg's C code. Values are prepared exactly as ``bulk_create`` prepares them
(``field.pre_save`` then ``get_db_prep_save``: protected fields seal, blind indexes hash,
``auto_now_add`` stamps), so the stored rows are the same. Records must carry their ids
(``streha.protection.models.assign_ids``); no signals are sent.
"""

from django.db import connections, router, transaction
from django.db.models import Model


def insert(objs: list[Model], *, using: str | None = None) -> int:
    """COPY ``objs`` (all of one model, each with its primary key) into their table."""
    if not objs:
        return 0
    model = type(objs[0])
    alias = using or router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        raise ValueError("copy.insert: COPY is PostgreSQL's; use streha.protection.bulk elsewhere.")
    if any(obj.pk is None for obj in objs):
        raise ValueError("copy.insert: every record needs its id first (assign_ids).")
    fields = [field for field in model._meta.concrete_fields if not field.generated]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    with (
        transaction.atomic(using=alias, savepoint=False),
        connection.cursor() as cursor,
        cursor.cursor.copy(sql) as copy,
    ):
        for obj in objs:
            copy.write_row(
                [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
            )
            obj._state.adding = False
            obj._state.db = alias
    return len(objs)
