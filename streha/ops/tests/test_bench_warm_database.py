"""The page benchmarks read the whole database once before measuring (``bench/_common.py``,
``warm_database``), and say what they did beside the figures: the goal is about a server in its
steady state, and a figure taken on a cold cache must not pass for one."""

import sys
from pathlib import Path

import pytest
from django.db import connection

from streha.testing.factories import PersonFactory

BENCH = Path(__file__).resolve().parents[3] / "bench"


@pytest.fixture
def common(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    import _common

    yield _common
    sys.modules.pop("_common", None)


@pytest.mark.django_db(transaction=True)  # VACUUM runs outside any transaction
def test_the_whole_database_is_read_and_the_figures_say_so(common):
    PersonFactory.create_batch(3)
    said = common.warm_database()
    if connection.vendor == "postgresql":
        settled, _, said = said.partition("; ")
        assert settled == "vacuumed and analysed"
        with connection.cursor() as cursor:
            # Vacuumed: the persons' page is marked all-visible (an index answers alone), and
            # analysed: the planner knows the table's rows.
            cursor.execute(
                "SELECT relallvisible, reltuples FROM pg_class WHERE relname = 'people_person'"
            )
            all_visible, tuples = cursor.fetchone()
        assert all_visible >= 1 and tuples >= 3
        # Every table and index of the schema, read block by block into the system's cache.
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
            assert common.settle_postgresql(raw) == settled
    else:
        size = Path(connection.settings_dict["NAME"]).stat().st_size
        assert said == f"file read once ({size >> 20:,} MB)"
