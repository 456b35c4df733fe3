"""Test helpers for the sealed tip line: a started unit with members, and unlocked clients."""

from dataclasses import dataclass, field

from streha.tips import sealing, services, unlock
from streha.tips.models import TipLineMember

# The cheapest Argon2id that libsodium allows: tests lock many keys; production never uses it.
QUICK = {"opslimit": sealing.ARGON.OPSLIMIT_MIN, "memlimit": sealing.ARGON.MEMLIMIT_MIN}
PASSWORD = "Tip-Line-Test-2026"  # noqa: S105 - a test secret


@dataclass
class OpenTipLine:
    supervisor: object
    keys: dict = field(default_factory=dict)  # user pk -> MemberKey

    def key(self, user) -> unlock.MemberKey:
        return self.keys[user.pk]


def enrol_quickly(user, secret: str = PASSWORD) -> unlock.MemberKey:
    private = sealing.new_key_pair()
    TipLineMember.objects.filter(user=user).delete()
    TipLineMember.objects.create(
        user=user,
        public_key=sealing.public_text(private),
        locked_private_key=sealing.lock(secret, bytes(private), **QUICK),
    )
    return unlock.MemberKey(user_id=user.pk, private=private)


def open_tip_line(*members, supervisor=None) -> OpenTipLine:
    """Start the tip line with ``supervisor`` (a new one at a national coordinator's office if
    not given) and add ``members`` to the unit, as the supervisor would."""
    from streha.accounts.models import AgencyKind, Role
    from streha.testing.factories import AgencyFactory, UserFactory

    if supervisor is None:
        supervisor = UserFactory(
            agency=AgencyFactory(kind=AgencyKind.NATIONAL_COORDINATOR), roles=[Role.SUPERVISOR]
        )
    line = OpenTipLine(supervisor=supervisor)
    line.keys[supervisor.pk] = enrol_quickly(supervisor)
    services.start_tip_line(supervisor, line.keys[supervisor.pk])
    for user in members:
        add(line, user)
    return line


def add(line: OpenTipLine, user) -> unlock.MemberKey:
    line.keys[user.pk] = enrol_quickly(user)
    member = TipLineMember.objects.get(user=user)
    services.add_member(line.supervisor, line.key(line.supervisor), member)
    return line.keys[user.pk]


def unlock_client(client, user, key: unlock.MemberKey) -> None:
    """Sign ``client`` in as ``user``, tip-line key unlocked, as a real sign-in leaves it."""
    client.force_login(user)
    cookie_key = sealing.random_key()
    box = sealing.session_box(cookie_key).encrypt(bytes(key.private))
    session = client.session
    session[unlock.SESSION_KEY] = {"user": user.pk, "box": sealing.b64(bytes(box))}
    session.save()
    client.cookies[unlock.COOKIE_NAME] = sealing.b64(cookie_key)


def read_report(user, tip):
    """What ``tip`` says, opened as member ``user`` would (their key from the open tip line)."""
    from streha.tips import selectors

    line = getattr(user, "tip_line", None)
    return selectors.open_report(user, line.key(user) if line else None, tip)
