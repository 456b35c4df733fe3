"""Several querysets read in ONE SQL statement (issue 17: a page's cost is mostly the Python and
the round trip of each ORM query, so a page that shows eight short record lists reads them
together).

``read_together(qs1, qs2, ...)`` compiles each queryset exactly as Django would (its filters,
order, slice, ``select_related`` joins and annotations), runs them as the members of one
``UNION ALL``, each member in columns of its own (the other members' columns are NULL, so no
column has to hold two types), and turns each member's rows into what the queryset would have
returned: model instances (with their ``select_related`` objects, annotations and the related
manager's known objects) or ``values_list`` tuples (``flat`` too). Nothing is read that the
querysets would not have read, and field conversion (dates, encrypted fields) is Django's own.

Each member keeps its own ``ORDER BY`` and ``LIMIT`` inside a derived table; SQLite and
PostgreSQL return a ``UNION ALL``'s members one after the other, in their own order (tested).

``read_together(..., shape="name")`` reuses each member's compiled SQL between requests: a page
reads querysets of the same shape on every request (the case page: the same nine lists, only
the case differs), and compiling one (Django's compiler over every selected column) costs more
than running it. Only the member's WHERE clause is compiled each time (so every value is this
request's own); the rest of its SQL is taken from the first compilation of the same shape, WHERE
clause and structure (``_structure``: joins, selected columns, annotations, grouping, order
and slice), and only when that compilation had no parameter outside its WHERE clause (a value
in an annotation, a join or the select list is never reused).
"""

import copy
import operator
import threading

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    QuerySet,
    ValuesListIterable,
    get_related_populators,
)
from django.db.models.sql.where import WhereNode

_PART = "streha_part"


class Counted:
    """A member of ``read_together`` that reads the number of rows of ``queryset`` (after its
    slice: ``counted(qs[:1001])`` stops counting at 1,001), as ``len(qs)`` would, not its rows:
    ``SELECT COUNT(*) FROM (<the queryset's query>)``, Django's own form for a sliced count."""

    def __init__(self, queryset: QuerySet):
        if not queryset.query.is_sliced:  # a sliced one keeps its order: it says which rows
            queryset = queryset.order_by()
        self.queryset = queryset.values("pk")

    @property
    def db(self) -> str:
        return self.queryset.db


def counted(queryset: QuerySet) -> Counted:
    return Counted(queryset)


_COUNTER = object()  # the compiler of a ``Counted`` member: its one column is a bigint


def _nulls(compiler, width: int, connection) -> list[str]:
    """A member's columns as NULLs for the other members' rows. PostgreSQL types a UNION's
    columns member by member from the left, and an untyped NULL beside another NULL is text:
    there each NULL says its column's type."""
    if connection.vendor != "postgresql":
        return ["NULL"] * width
    if compiler is _COUNTER:
        return ["NULL::bigint"]
    types = [
        expression.output_field.cast_db_type(connection)
        for expression, _sql, _alias in compiler.select[:width]
    ]
    if not all(types):
        raise TypeError("read_together needs each column's database type on PostgreSQL")
    return [f"NULL::{db_type}" for db_type in types]


def _compiled(queryset):
    """(compiler, sql, params, width) of ``queryset``, or None if it can match nothing."""
    if isinstance(queryset, Counted):
        compiler = queryset.queryset.query.get_compiler(using=queryset.db)
        try:
            sql, params = compiler.as_sql(with_col_aliases=True)
        except EmptyResultSet:
            return None
        return _COUNTER, f"SELECT COUNT(*) FROM ({sql}) {_PART}_counted", params, 1  # noqa: S608
    if queryset._prefetch_related_lookups or queryset._iterable_class not in (
        ModelIterable,
        ValuesListIterable,
        FlatValuesListIterable,
    ):
        raise TypeError("read_together reads plain model, values_list or flat querysets")
    compiler = queryset.query.get_compiler(using=queryset.db)
    try:
        sql, params = compiler.as_sql(with_col_aliases=True)
    except EmptyResultSet:
        return None
    if compiler.has_extra_select:
        raise TypeError("read_together cannot read a queryset with extra ordering columns")
    return compiler, sql, params, compiler.col_count


# Compiled members by (shape, database, structure, WHERE clause): per thread, since a compiler
# belongs to its thread's connection. Bounded: a shape has a few forms (an IN list of 1 to 25).
_REUSED = threading.local()
REUSED_LIMIT = 256


def _structure(queryset) -> tuple | None:
    """What, beside the WHERE clause, decides a member's SQL; None when it cannot be reused
    (combinations, raw extras, an order by an expression, prefetching or an iterable
    ``read_together`` does not read: each member compiled in full).

    Annotations and grouping (a count by stage, the earliest due date by case) are part of
    the structure by their expressions; one that compiles to a value of its own (``Value``, a
    filtered aggregate) is still never reused, since ``_compiled_reused`` keeps only SQL
    whose every parameter is its WHERE clause's."""
    query = queryset.query
    if (
        query.combinator
        or query.extra
        or query.extra_tables
        or not all(isinstance(term, str) for term in query.order_by)
        or queryset._prefetch_related_lookups
        or query._filtered_relations
    ):
        return None
    return (
        query.model,
        queryset._iterable_class,
        tuple(
            (
                alias,
                join.identity,
                join.join_type,
                getattr(join, "nullable", None),
                query.alias_refcount.get(alias),
            )
            for alias, join in query.alias_map.items()
        ),
        repr(query.select_related),
        (frozenset(query.deferred_loading[0]), query.deferred_loading[1]),
        query.order_by,
        query.standard_ordering,
        query.default_ordering,
        query.low_mark,
        query.high_mark,
        query.values_select,
        query.distinct,
        query.distinct_fields,
        query.select_for_update,
        tuple(map(repr, query.select)),
        tuple((name, repr(annotation)) for name, annotation in query.annotations.items()),
        None if query.annotation_select_mask is None else tuple(query.annotation_select_mask),
        query.group_by if query.group_by in (None, True) else tuple(map(repr, query.group_by)),
    )


def _where(queryset):
    """(SQL, params) of the WHERE clause of ``queryset``'s query alone, None when the
    query has HAVING or QUALIFY parts; raises ``EmptyResultSet`` when it matches nothing."""
    query = queryset.query
    where, having, qualify = query.where.split_having_qualify(must_group_by=False)
    if having is not None or qualify is not None:
        return None
    compiler = query.get_compiler(using=queryset.db)
    try:
        return compiler.compile(where)
    except FullResultSet:
        return "", []


def _compiled_reused(queryset, shape: str):
    """``_compiled(queryset)``, compiling only its WHERE clause when a member of the same shape,
    structure and WHERE clause was compiled before in this thread (see the module's doc)."""
    inner = queryset.queryset if isinstance(queryset, Counted) else queryset
    structure = _structure(inner)
    where = _where(inner) if structure is not None else None  # EmptyResultSet: see _compiled
    if where is None:
        return _compiled(queryset)
    where_sql, where_params = where
    cache = getattr(_REUSED, "members", None)
    if cache is None:
        cache = _REUSED.members = {}
    key = (shape, queryset.db, isinstance(queryset, Counted), structure, where_sql)
    found = cache.get(key)
    if found is not None:
        compiler, sql, width = found
        return compiler, sql, tuple(where_params), width
    compiled = _compiled(queryset)
    if (
        compiled is not None
        and tuple(compiled[2]) == tuple(where_params)
        and (not where_sql or where_sql in compiled[1])
    ):
        if len(cache) >= REUSED_LIMIT:
            cache.clear()
        compiler = compiled[0] if compiled[0] is _COUNTER else _without_values(compiled[0])
        cache[key] = (compiler, compiled[1], compiled[3])
    return compiled


def _without_values(compiler):
    """A copy of ``compiler`` that still turns rows into objects (its select list, joined
    models and converters) but holds none of the values its query was filtered with: a
    related manager's filter holds the request's model instance (a case, perhaps with its
    opened fields), which a kept compiler would otherwise keep alive for the thread's life."""
    kept = copy.copy(compiler)
    query = compiler.query.chain()
    query.where = WhereNode()
    kept.query = query
    kept.where = kept.having = kept.qualify = None
    return kept


def model_instances(queryset: QuerySet, compiler, rows) -> list:
    """What ``ModelIterable`` makes of ``rows`` (Django 5.2's, without executing anything)."""
    db = queryset.db
    select, klass_info, annotation_col_map = (
        compiler.select,
        compiler.klass_info,
        compiler.annotation_col_map,
    )
    model_cls = klass_info["model"]
    select_fields = klass_info["select_fields"]
    start, end = select_fields[0], select_fields[-1] + 1
    init_list = [f[0].target.attname for f in select[start:end]]
    related_populators = get_related_populators(klass_info, select, db)
    known_related_objects = [
        (
            field,
            related_objs,
            operator.attrgetter(
                *[
                    (
                        field.attname
                        if from_field == "self"
                        else queryset.model._meta.get_field(from_field).attname
                    )
                    for from_field in field.from_fields
                ]
            ),
        )
        for field, related_objs in queryset._known_related_objects.items()
    ]
    result = []
    for row in compiler.results_iter([rows]):
        obj = model_cls.from_db(db, init_list, row[start:end])
        for populator in related_populators:
            populator.populate(row, obj)
        for attr_name, col_pos in (annotation_col_map or {}).items():
            setattr(obj, attr_name, row[col_pos])
        for field, rel_objs, rel_getter in known_related_objects:
            if field.is_cached(obj):
                continue
            rel_obj = rel_objs.get(rel_getter(obj))
            if rel_obj is not None:
                setattr(obj, field.name, rel_obj)
        result.append(obj)
    return result


def _values(queryset: QuerySet, compiler, rows) -> list:
    values = compiler.results_iter([rows], tuple_expected=True)
    if queryset._iterable_class is FlatValuesListIterable:
        return [row[0] for row in values]
    return list(values)


def read_together(*querysets: QuerySet | Counted, shape: str | None = None) -> list[list]:
    """The result of each of ``querysets`` as a list, in their order, read in one query
    (none if every queryset is empty by construction). All on one database. A ``counted``
    member's result is ``[its count]``. ``shape``: a name for this call site, whose members'
    compiled SQL is reused between calls (see the module's doc)."""
    if not querysets:
        return []
    using = querysets[0].db
    if any(queryset.db != using for queryset in querysets):
        raise ValueError("read_together reads querysets of one database")
    if shape is None:
        compiled = [_compiled(queryset) for queryset in querysets]
    else:
        compiled = []
        for queryset in querysets:
            try:
                compiled.append(_compiled_reused(queryset, shape))
            except EmptyResultSet:  # its WHERE clause can match nothing
                compiled.append(None)
    members = [(i, part) for i, part in enumerate(compiled) if part is not None]
    found: dict[int, list] = {i: [] for i in range(len(querysets))}
    if members:
        connection = connections[using]
        quote = connection.ops.quote_name
        nulls = [_nulls(compiler, width, connection) for _i, (compiler, _s, _p, width) in members]
        selects, params = [], []
        for position, (index, (_compiler, sql, member_params, _width)) in enumerate(members):
            before = [null for other in nulls[:position] for null in other]
            after = [null for other in nulls[position + 1 :] for null in other]
            alias = quote(f"{_PART}_{index}")
            columns = ", ".join([str(index), *before, f"{alias}.*", *after])
            # Django-compiled SQL (its values stay parameters); only integers and aliases added.
            selects.append(f"SELECT {columns} FROM ({sql}) {alias}")  # noqa: S608
            params.extend(member_params)
        statement = " UNION ALL ".join(selects)
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            rows = cursor.fetchall()
        offsets, offset = {}, 1
        for index, (_compiler, _sql, _params, width) in members:
            offsets[index] = (offset, offset + width)
            offset += width
        by_member: dict[int, list] = {index: [] for index, _part in members}
        for row in rows:
            start, end = offsets[row[0]]
            by_member[row[0]].append(row[start:end])
        for index, (compiler, _sql, _params, _width) in members:
            queryset = querysets[index]
            if isinstance(queryset, Counted):
                found[index] = [int(row[0]) for row in by_member[index]]
                continue
            make = model_instances if queryset._iterable_class is ModelIterable else _values
            found[index] = make(queryset, compiler, by_member[index])
    for i, queryset in enumerate(querysets):
        if isinstance(queryset, Counted) and not found[i]:
            found[i] = [0]  # empty by construction: nothing asked
    return [found[i] for i in range(len(querysets))]
