"""The page benchmarks read the whole database once before measuring (``bench/_common.py``,
``warm_database``), and say what they did beside the figures: the goal is about a server in its
steady state, and a figure taken on a cold cache must not pass for one."""

from pathlib import Path

import pytest
from django.db import connection

from streha.testing.bench import bench_modules
from streha.testing.factories import PersonFactory


@pytest.fixture
def common(monkeypatch):
    with bench_modules(monkeypatch, "_common") as (module,):
        yield module


@pytest.mark.django_db
def test_the_whole_database_is_read_and_the_figures_say_so(common, monkeypatch):
    # The settling itself is checked below on a table of its own: analysing the test
    # database's tables would change the plans that later tests on this worker pin.
    settled_with = []
    monkeypatch.setattr(
        common,
        "settle_postgresql",
        lambda cursor: settled_with.append(cursor) or "vacuumed and analysed",
    )
    PersonFactory.create_batch(3)
    said = common.warm_database()
    if connection.vendor == "postgresql":
        settled, _, said = said.partition("; ")
        assert settled == "vacuumed and analysed" and len(settled_with) == 1
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT coalesce(sum(pg_relation_size(c.oid) / current_setting('block_size')::int)"
                ", 0) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'i', 't', 'm')"
            )
            blocks = cursor.fetchone()[0]
        assert blocks > 0
        assert said == f"pg_prewarm read {blocks:,} blocks"
        # bench/load.py warms through a plain psycopg cursor (no Django in its process).
        with connection.connection.cursor() as raw:
            assert common.warm_postgresql(raw) == said
    else:
        assert settled_with == []
        size = Path(connection.settings_dict["NAME"]).stat().st_size
        assert said == f"file read once ({size >> 20:,} MB)"


@pytest.mark.django_db(transaction=True)  # VACUUM runs outside any transaction
def test_settling_vacuums_and_analyses_what_it_is_given(common):
    if connection.vendor != "postgresql":
        pytest.skip("VACUUM and planner statistics are PostgreSQL's (SQLite: not settled)")
    with connection.cursor() as cursor:
        # Autovacuum off for it: only the settling can have vacuumed it.
        cursor.execute(
            "CREATE TABLE bench_settle_probe (n integer) WITH (autovacuum_enabled = off)"
        )
        try:
            cursor.execute("INSERT INTO bench_settle_probe SELECT generate_series(1, 500)")
            before = _visibility(cursor)
            with connection.connection.cursor() as raw:
                assert common.settle_postgresql(raw, ("bench_settle_probe",)) == (
                    "vacuumed and analysed"
                )
            after = _visibility(cursor)
        finally:
            cursor.execute("DROP TABLE bench_settle_probe")
    # Vacuumed: its pages marked all-visible (an index answers alone); analysed: the
    # planner knows its rows.
    assert before == (0, -1.0)
    assert after[0] >= 1 and after[1] == 500


def _visibility(cursor) -> tuple[int, float]:
    cursor.execute(
        "SELECT relallvisible, reltuples FROM pg_class WHERE relname = 'bench_settle_probe'"
    )
    all_visible, tuples = cursor.fetchone()
    return all_visible, float(tuples)
