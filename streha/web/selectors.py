"""What the "my work" page shows, chosen by the user's roles and agency."""

from dataclasses import dataclass, field
from importlib import import_module

from allauth.mfa.models import Authenticator
from django.urls import reverse
from django.utils.translation import gettext as _

from streha.access import policy
from streha.accounts.models import Role
from streha.web.navigation import APP_SELECTORS

# A figure on "my work" needs to say "many", not the exact size of a million-row table: counting
# stops here so that the page's cost is bounded whatever the data volume.
COUNT_CAP = 1000


def bounded(count: int) -> int | str:
    """A count of rows read up to ``COUNT_CAP + 1`` as the page says it: "1000+" past the cap."""
    return f"{COUNT_CAP}+" if count > COUNT_CAP else count


def bounded_count(queryset) -> int | str:
    """The number of rows, or "1000+" once past ``COUNT_CAP`` (one bounded query)."""
    return bounded(queryset[: COUNT_CAP + 1].count())


def bounded_counts(*querysets, shape: str | None = None) -> list[int | str]:
    """``bounded_count`` of each of ``querysets`` (of one database), all read in ONE query
    (``selectors_batch.read_together``: each count is the same bounded ``COUNT(*)`` of the
    queryset cut at ``COUNT_CAP + 1``). A panel's figures cost one round trip, not one each.
    ``shape``: names the call site so that its compiled SQL is reused between requests
    (``read_together``)."""
    from streha.cases.selectors_batch import counted, read_together

    found = read_together(
        *(counted(queryset[: COUNT_CAP + 1]) for queryset in querysets), shape=shape
    )
    return [bounded(count) for [count] in found]


@dataclass
class Panel:
    title: str
    # (label, value) or (label, value, url of the list the figure counts)
    figures: list[tuple] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)
    note: str = ""


def without_two_factor(staff):
    """The active accounts among ``staff`` with no TOTP device: the administrator's follow-up."""
    with_two_factor = Authenticator.objects.filter(
        type=Authenticator.Type.TOTP, user__in=staff
    ).values("user")
    return staff.filter(is_active=True).exclude(pk__in=with_two_factor)


def my_work(user) -> list[Panel]:
    panels: list[Panel] = []
    if policy.can_administer_users(user):
        staff = policy.users_visible_to(user)
        tokens = policy.api_tokens_visible_to(user).active()
        panels.append(
            Panel(
                title=_("Staff administration"),
                figures=[
                    (_("Active staff accounts"), staff.filter(is_active=True).count()),
                    # The figure links to the accounts it counts: the step is to follow them up.
                    (
                        _("Without two-factor authentication"),
                        without_two_factor(staff).count(),
                        reverse("accounts:user_list") + "?two_factor=missing",
                    ),
                    (_("Active API tokens"), tokens.count()),
                ],
                links=[
                    (_("Manage staff"), reverse("accounts:user_list")),
                    (_("Manage API tokens"), reverse("accounts:token_list")),
                ],
            )
        )
    for module in APP_SELECTORS:
        panels.extend(import_module(module).my_work_panels(user))
    role_labels = [str(Role(role).label) for role in sorted(user.roles)]
    panels.append(
        Panel(
            title=_("Your account"),
            note=", ".join(role_labels) if role_labels else _("No role assigned yet."),
            links=[(_("Security and two-factor authentication"), reverse("accounts:security"))],
        )
    )
    return panels
