"""One synthetic "world" for tests: an agency of every kind, a user of every role in each.

Built lazily: ``world.user(Role.SUPERVISOR, AgencyKind.POLICE)`` creates that agency and that
user the first time it is asked for and returns the same objects afterwards, so a test pays
only for what it uses. The authorization matrix builds its own fixed world
(tests/test_authorization_matrix.py); app tests take this one through the ``world`` fixture
of the root conftest.py.
"""

from dataclasses import dataclass, field

from streha.accounts.models import Agency, AgencyKind, User
from streha.testing.factories import AgencyFactory, PersonFactory, UserFactory


@dataclass
class World:
    agencies: dict[str, Agency] = field(default_factory=dict)
    users: dict[tuple[str, str], User] = field(default_factory=dict)

    def agency(self, kind: str = AgencyKind.SHELTER) -> Agency:
        """The agency of ``kind`` (one per kind), named after it."""
        if kind not in self.agencies:
            self.agencies[kind] = AgencyFactory(code=f"world-{kind}", kind=kind)
        return self.agencies[kind]

    def user(self, role: str, kind: str = AgencyKind.SHELTER) -> User:
        """The user holding ``role`` alone, in the agency of ``kind``."""
        key = (kind, role)
        if key not in self.users:
            self.users[key] = UserFactory(
                agency=self.agency(kind), roles=[role], username=f"{role}.{kind}"
            )
        return self.users[key]

    def person(self, kind: str = AgencyKind.SHELTER, **fields):
        """A new synthetic person owned by the agency of ``kind``."""
        return PersonFactory(owner_agency=self.agency(kind), **fields)
