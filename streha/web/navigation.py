"""The main navigation, computed from what the signed-in user may do."""

from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
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


_URLS: dict[tuple, str] = {}


def url(name: str) -> str:
    """``reverse(name)`` of a URL without arguments, looked up once per process for each URL
    configuration and script prefix (the menu reverses a dozen names on every page). The
    same string as ``reverse``: nothing in it depends on the user or the request but these."""
    key = (settings.ROOT_URLCONF, get_urlconf(), get_script_prefix(), name)
    found = _URLS.get(key)
    if found is None:
        found = _URLS[key] = reverse(name)
    return found


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    current: bool


def navigation_for(user, path: str) -> list[NavItem]:
    if not user.is_authenticated:
        return []
    entries = [(_("My work"), url("web:home"))]
    for module in APP_SELECTORS:
        entries.extend(import_module(module).navigation_entries(user))
    entries.append((_("Agencies"), url("accounts:agency_list")))
    if policy.can_audit(user):
        entries.append((_("Audit"), url("audit:index")))
    if policy.can_administer_users(user):
        entries.append((_("Staff"), url("accounts:user_list")))
        entries.append((_("API tokens"), url("accounts:token_list")))
    entries.append((_("Security"), url("accounts:security")))
    items = []
    for label, address in entries:
        current = path == address if address == "/" else path.startswith(address)
        items.append(NavItem(label=str(label), url=address, current=current))
    return items
