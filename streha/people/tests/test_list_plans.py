"""The person list of an agency that others share persons with, at 1,000,000 persons on
PostgreSQL: the part "persons shared with us" read every shared person (9,525 for one
shelter) to sort them by registration, 126-212 ms a page. With ``person_created_idx`` the
planner walks persons newest first and probes the agency's grants, stopping at the page's
end (10 ms). The test reads the plan of the query the page runs; no timing.

SQLite's planner, without statistics, keeps reading the grants first whatever the indexes
(60-90 ms at 1,000,000 persons): its plan is not pinned here."""

import re

import pytest
from django.db import connection

from streha.access.models import AccessGrant
from streha.accounts.models import Role
from streha.testing.factories import AgencyFactory, PersonFactory
from streha.testing.plans import assert_walks_in_order, page_queries, union_members

pytestmark = pytest.mark.django_db


def test_the_shared_persons_part_is_read_newest_first_through_its_index(client, make_user):
    police, shelter = AgencyFactory(), AgencyFactory()
    worker = make_user(Role.CASE_WORKER, agency=shelter)
    for _ in range(3):
        person = PersonFactory(owner_agency=police)
        AccessGrant.objects.create(
            person=person, agency=shelter, field_groups=["identity"], reason="referral"
        )
    client.force_login(worker)
    executed = page_queries(client, "/persons/")
    # The parts are read together (``read_together``): the shared part is one member.
    shared = [
        (member, member_params)
        for sql, params in executed
        for member, member_params in union_members(sql, params)
        if 'FROM "people_person"' in member
        and '"access_accessgrant"' in member
        and "ORDER BY" in member
    ]
    assert shared, "the page did not read the shared persons' part"
    sql, params = shared[0]
    assert '"people_person"."created_at" AS' in sql and "DESC" in sql
    if connection.vendor != "postgresql":
        return  # SQLite's plan is not pinned (above)

    assert_walks_in_order(sql, params, table="people_person", index="person_created_idx")


def test_many_shared_persons_are_walked_newest_first_on_both_databases(
    client, make_user, monkeypatch
):
    """Past ``policy.MANY_SHARED`` grants the list's shared part probes the grants for each
    person, so that SQLite too walks ``person_created_idx`` and stops at the page's end
    (60-90 ms -> 6 ms at 1,000,000 persons) instead of sorting every shared person. The same
    persons, in the same order, either way."""
    from streha.access import policy

    police, shelter = AgencyFactory(), AgencyFactory()
    worker = make_user(Role.CASE_WORKER, agency=shelter)
    for _ in range(3):
        AccessGrant.objects.create(
            person=PersonFactory(owner_agency=police),
            agency=shelter,
            field_groups=["identity"],
            reason="referral",
        )
    client.force_login(worker)
    by_grant = client.get("/persons/").content.decode()
    monkeypatch.setattr(policy, "MANY_SHARED", 2)
    executed = page_queries(client, "/persons/")
    walked = client.get("/persons/").content.decode()
    listed = re.findall(r'href="/persons/([0-9a-f-]{36})/', walked)
    assert len(listed) == 3 and listed == re.findall(r'href="/persons/([0-9a-f-]{36})/', by_grant)
    (sql, params), *_ = [
        (member, member_params)
        for sql, params in executed
        for member, member_params in union_members(sql, params)
        if 'FROM "people_person"' in member
        and "EXISTS" in member
        and '"access_accessgrant"' in member
    ]

    assert_walks_in_order(sql, params, table="people_person", index="person_created_idx")
