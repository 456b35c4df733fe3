"""The main navigation, computed from what the signed-in user may do."""

from dataclasses import dataclass
from importlib import import_module

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from streha.access import policy

# Domain apps contribute navigation entries and "my work" panels through their selectors.
APP_SELECTORS = (
    "streha.people.selectors",
    "streha.cases.selectors",
    "streha.tips.selectors",
    "streha.statistics.selectors",
    "streha.imports.selectors",
    "streha.justice.selectors",
    "streha.linkage.selectors",
)


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    current: bool


def navigation_for(user, path: str) -> list[NavItem]:
    if not user.is_authenticated:
        return []
    entries = [(_("My work"), reverse("web:home"))]
    for module in APP_SELECTORS:
        entries.extend(import_module(module).navigation_entries(user))
    entries.append((_("Agencies"), reverse("accounts:agency_list")))
    if policy.can_audit(user):
        entries.append((_("Audit"), reverse("audit:index")))
    if policy.can_administer_users(user):
        entries.append((_("Staff"), reverse("accounts:user_list")))
        entries.append((_("API tokens"), reverse("accounts:token_list")))
    entries.append((_("Security"), reverse("accounts:security")))
    items = []
    for label, url in entries:
        current = path == url if url == "/" else path.startswith(url)
        items.append(NavItem(label=str(label), url=url, current=current))
    return items
