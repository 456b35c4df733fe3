"""The chain's hash is indexed once (unique, looked up whole): no pattern index beside it on
PostgreSQL, which every append would have to update too (migration audit 0005)."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_the_hash_has_its_unique_index_and_no_pattern_index():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "audit_event")
    on_hash = [c for c in constraints.values() if c["columns"] == ["hash"]]
    assert [c["unique"] for c in on_hash] == [True]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_indexes WHERE tablename = 'audit_event'"
                " AND indexdef LIKE %s",
                ["%varchar_pattern_ops%"],
            )
            assert cursor.fetchone()[0] == 0
