"""Aggregates and pseudonymised records of persons for analysts: no identity ever leaves here.

Counts below ``SMALL_CELL`` are suppressed (shown as None) because a cell of one or two can
identify a person when combined with what a reader already knows.
"""

from django.db.models import Count
from django.db.models.functions import TruncMonth

from streha.access import policy
from streha.accounts.models import User
from streha.audit import services as audit
from streha.protection import crypto, keys

SMALL_CELL = 5
DIMENSIONS = {"gender": "gender", "citizenship": "citizenship", "birth_year": "birth_year"}
PSEUDONYM_FIELDS = ("gender", "birth_year", "citizenship", "owner_agency__kind", "month")


def suppress(count: int) -> int | None:
    return count if count >= SMALL_CELL else None


def person_counts(user: User, dimension: str) -> list[dict]:
    """Counts of persons by one non-identifying dimension, small cells suppressed."""
    if dimension not in DIMENSIONS:
        raise ValueError("Unknown dimension.")
    rows = (
        policy.persons_for_statistics(user)
        .values(DIMENSIONS[dimension])
        .annotate(count=Count("pk"))
        .order_by(DIMENSIONS[dimension])
    )
    return [{"value": row[DIMENSIONS[dimension]], "count": suppress(row["count"])} for row in rows]


def pseudonymised_persons(user: User, *, limit: int = 100, offset: int = 0, request=None) -> list:
    """Non-identifying fields with a keyed pseudonym instead of any identifier. Audited.

    Dates are coarsened to the month, and the order carries no finer time either: records are
    sorted by month, then by the random public id, never by registration order (the primary
    key), which would tell who was registered first within a month.
    """
    persons = list(
        policy.persons_for_statistics(user)
        .annotate(month=TruncMonth("created_at"))
        .order_by("month", "public_id")
        .values("public_id", *PSEUDONYM_FIELDS)[offset : offset + limit]
    )
    index_key = keys.keyring().index_key
    result = [
        {
            "pseudonym": crypto.pseudonym(index_key, "analysis", str(row["public_id"])),
            "gender": row["gender"],
            "birth_year": row["birth_year"],
            "citizenship": row["citizenship"],
            "agency_kind": row["owner_agency__kind"],
            "registered_month": row["month"].strftime("%Y-%m"),
        }
        for row in persons
    ]
    if result:
        audit.record(
            user,
            audit.Action.LIST,
            object_type="people.person",
            purpose="statistics (pseudonymised)",
            request=request,
            details={"count": len(result), "offset": offset},
        )
    return result
