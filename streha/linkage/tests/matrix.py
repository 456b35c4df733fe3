"""Linkage rows of the authorization matrix (see streha/testing/matrix.py).

Inside: a possible duplicate of two persons of the inside agency; outside: one of two persons
of the outside agency. Reviewers hold the identity group of both persons (editing roles);
everyone else gets 404 for a pair, and an empty queue from the API.
"""

from streha.testing.factories import PersonFactory
from streha.testing.matrix import CASE, EDIT, EVERYONE, P

NONE: set = set()
HTML = {
    "linkage:queue": P(CASE, path="/duplicates/"),
    # Only the national coordinator's office starts a run (the world's agencies are not it).
    "linkage:run": P(NONE, method="post", path="/duplicates/run/"),
    "linkage:pair": P(EDIT, NONE, path="/duplicates/{pair}/"),
    "linkage:undo": P(EDIT, NONE, method="post", path="/duplicates/{pair}/undo/"),
}
API = {
    ("/api/v1/duplicate-pairs/", "get"): P(EVERYONE),
    ("/api/v1/duplicate-pairs/run/", "post"): P(NONE),
    ("/api/v1/duplicate-pairs/{public_id}/", "get"): P(
        EDIT, NONE, path="/api/v1/duplicate-pairs/{pair}/"
    ),
    ("/api/v1/duplicate-pairs/{public_id}/decide/", "post"): P(
        EDIT,
        NONE,
        path="/api/v1/duplicate-pairs/{pair}/decide/",
        data={"decision": "unsure", "reason": "Checked both files."},
    ),
    ("/api/v1/duplicate-pairs/{public_id}/undo/", "post"): P(
        EDIT, NONE, path="/api/v1/duplicate-pairs/{pair}/undo/"
    ),
}


def extend_world(world: dict) -> None:
    from streha.linkage.tests.helpers import make_pair

    for scope in ("in", "out"):
        person = world["persons"][scope]
        twin = PersonFactory(owner_agency=world["agencies"][scope], given_name="Twin")
        world[scope]["pair"] = make_pair(person, twin).public_id
