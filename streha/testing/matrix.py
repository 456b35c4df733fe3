"""Building blocks of the authorization matrix (tests/test_authorization_matrix.py).

Each domain app lists its own endpoints in ``streha/<app>/tests/matrix.py`` with ``HTML`` and
``API`` dicts of ``Spec`` rows and an ``extend_world(world)`` that adds its objects inside and
outside the test user's scope (``world["in"]``/``world["out"]`` placeholders).
"""

from dataclasses import dataclass, field

from streha.accounts.models import Role

ANON = "anonymous"
ROLES = [*Role.values, ANON]
CASE = {
    Role.CASE_WORKER,
    Role.SUPERVISOR,
    Role.INVESTIGATOR,
    Role.PROSECUTOR,
    Role.HOTLINE_OPERATOR,
}
REGISTER = {Role.CASE_WORKER, Role.SUPERVISOR, Role.INVESTIGATOR, Role.HOTLINE_OPERATOR}
EDIT = {Role.CASE_WORKER, Role.SUPERVISOR, Role.INVESTIGATOR}
ADMINS = {Role.AGENCY_ADMIN, Role.SYSTEM_ADMIN}
EVERYONE = set(Role.values)
OK = {200, 201, 204, 302, 400}  # allowed: served, created, redirected after success, or invalid
OUT_NAME = "Outsiderina"


@dataclass
class Spec:
    """Who may use an endpoint. ``inside``/``outside``: roles allowed on an object in or out of
    their scope (``outside`` None: the endpoint has no object). ``refused``: the status a
    signed-in user without the right gets (404 hides existence; 403 where nothing is revealed)."""

    inside: set
    outside: set | None = None
    method: str = "get"
    path: str = ""  # with {person}, {user}, {token}, {grant} placeholders
    data: dict = field(default_factory=dict)
    refused: int = 404
    refused_inside: dict = field(default_factory=dict)  # role -> status, where it differs
    auth_page: bool = False  # sign-in machinery: open to anonymous users, no protected data


def P(inside, outside=None, **kwargs):
    return Spec(inside=set(inside), outside=None if outside is None else set(outside), **kwargs)
