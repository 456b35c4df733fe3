"""Reading the plan of the query a page really runs, for tests that pin an index (issue 17: the
lists flat from 3,000 to 1,000,000 persons). No timing: the plan is the regression.

A test's tables hold a handful of rows, where reading all of them is the cheapest plan and says
nothing of a national register. So on PostgreSQL the test names the indexes that a handful of
rows makes as cheap as the one meant for the query (at scale: a walk and a sort of an agency's
rows); they are dropped inside the test's transaction (rolled back after it), the plans it
must not take are priced out, and the plan shows the shape the query allows. SQLite's
planner does not cost by rows this way: its plan is read as it is."""

from collections.abc import Callable, Iterable

from django.db import connection


def queries_of(action: Callable[[], object]) -> list[tuple[str, tuple]]:
    """Every (sql, params) the database was asked while ``action()`` ran."""
    executed: list[tuple[str, tuple]] = []

    def capture(execute, sql, params, many, context):
        executed.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        action()
    return executed


def page_queries(client, path: str) -> list[tuple[str, tuple]]:
    """The queries of one page, which must answer 200."""

    def get():
        assert client.get(path).status_code == 200

    return queries_of(get)


def union_members(sql: str, params) -> list[tuple[str, tuple]]:
    """The members of a ``UNION ALL`` statement (``cases.selectors_batch.read_together`` reads
    several queries in one), each a query alone with its own parameters; a plain query is its
    only member."""
    params = tuple(params or ())
    members = []
    for member in sql.split(" UNION ALL "):
        taken = member.count("%s")
        members.append((member, params[:taken]))
        params = params[taken:]
    return members


def indexes_where(condition: str, params: Iterable = ()) -> list[str]:
    """Names of PostgreSQL's indexes for which ``condition`` (SQL over ``pg_indexes``) holds."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT indexname FROM pg_indexes WHERE {condition}", list(params))  # noqa: S608
        return [name for (name,) in cursor.fetchall()]


def other_indexes(table: str, keep: str) -> Callable[[], list[str]]:
    """For ``explain(drop=...)``: the indexes of ``table`` other than ``keep`` (unique ones
    kept), which a handful of rows makes as cheap as the one the query is meant to walk."""

    def names() -> list[str]:
        return indexes_where(
            "tablename = %s AND indexname <> %s AND indexdef NOT LIKE 'CREATE UNIQUE INDEX %%'",
            [table, keep],
        )

    return names


def explain(
    sql: str,
    params,
    *,
    drop: Callable[[], Iterable[str]] = tuple,
    off: Iterable[str] = ("seqscan",),
) -> str:
    """The plan of one query as text. On PostgreSQL the indexes ``drop()`` names are dropped
    first and each planner method in ``off`` (``seqscan``, ``sort``, ``bitmapscan``) is priced
    out, for the test's transaction only."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for name in drop():
                cursor.execute(f'DROP INDEX "{name}"')
            for method in off:
                cursor.execute(f"SET LOCAL enable_{method} = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            return "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


def assert_walks_in_order(sql: str, params, *, table: str, index: str) -> None:
    """Fail unless ``sql`` reads ``table`` in its order through ``index``, with no sort: the
    table's other indexes dropped and sequential scans, sorts and hash joins priced out on
    PostgreSQL (``explain``); SQLite's plan read as it is."""
    plan = explain(
        sql, params, drop=other_indexes(table, index), off=("seqscan", "sort", "hashjoin")
    )
    assert index in plan, plan
    assert "Sort Key" not in plan and "TEMP B-TREE" not in plan, plan
