"""SQL building blocks the selectors share."""

import json
from collections.abc import Iterable

from django.db.models import Aggregate, BooleanField, F, Func, TextField


class AmongIds(Func):
    """``field IN ids`` for a list of integer keys known in Python, with the list sent as ONE
    parameter: ``field = ANY(%s)`` (an array) on PostgreSQL, ``field IN (SELECT value FROM
    json_each(%s))`` on SQLite. The same rows as ``Q(field__in=ids)``.

    Why: a search hands hundreds of candidate keys from one query to the next. As ``__in``,
    each key is prepared one by one by the ORM, the query grows by one placeholder per key (so
    the database driver parses it anew each time, and PostgreSQL plans a long literal list), and
    a search page paid several milliseconds of CPU per such list."""

    output_field = BooleanField()

    def __init__(self, field: str, ids: Iterable[int]):
        super().__init__(F(field))
        self.ids = [int(key) for key in ids]

    def _column(self, compiler):
        [column] = self.get_source_expressions()
        return compiler.compile(column)

    def as_sql(self, compiler, connection, **extra_context):
        column, params = self._column(compiler)
        sql = f"{column} IN (SELECT value FROM json_each(%s))"  # noqa: S608 - a compiled column
        return sql, (*params, json.dumps(self.ids))

    def as_postgresql(self, compiler, connection, **extra_context):
        column, params = self._column(compiler)
        return f"{column} = ANY(%s::bigint[])", (*params, self.ids)


class JoinedCodes(Aggregate):
    """The codes of a group (``Role`` values, never free text) joined by commas, in no given
    order: ``STRING_AGG`` on PostgreSQL, ``GROUP_CONCAT`` on SQLite. NULL for an empty group.

    Why: a request reads its user's roles on every page; as a subquery of the user's own read
    they cost no round trip of their own."""

    output_field = TextField()

    def as_sql(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler, connection, function="GROUP_CONCAT", template="%(function)s(%(expressions)s)"
        )

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            function="STRING_AGG",
            template="%(function)s(%(expressions)s, ',')",
        )


def split_codes(joined: str | None) -> frozenset[str]:
    """The codes ``JoinedCodes`` joined."""
    return frozenset(joined.split(",")) if joined else frozenset()
