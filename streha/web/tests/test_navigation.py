"""The menu's addresses are reversed once per process (issue 17: every page renders the menu, and
a dozen ``reverse`` calls were part of every request's CPU). They must stay the addresses
``reverse`` gives, for each URL configuration and script prefix."""

import pytest
from django.urls import reverse, set_script_prefix

from streha.accounts.models import Role
from streha.web import navigation

NAMES = ["web:home", "cases:list", "cases:inbox", "people:list", "accounts:security"]


@pytest.fixture(autouse=True)
def _empty_cache():
    navigation._URLS.clear()
    yield
    navigation._URLS.clear()


def test_each_address_is_what_reverse_gives():
    assert [navigation.url(name) for name in NAMES] == [reverse(name) for name in NAMES]


def test_the_menu_reverses_each_address_once(monkeypatch, make_user, agency):
    user = make_user(Role.CASE_WORKER, agency=agency)
    first = navigation.navigation_for(user, "/cases/")
    calls = []
    monkeypatch.setattr(navigation, "reverse", lambda *a, **k: calls.append(a) or "/x/")
    again = navigation.navigation_for(user, "/cases/")
    assert again == first and calls == []
    assert [item.url for item in first if item.current] == [reverse("cases:list")]


def test_another_script_prefix_has_its_own_addresses():
    plain = navigation.url("cases:list")
    try:
        set_script_prefix("/streha/")
        prefixed = navigation.url("cases:list")
    finally:
        set_script_prefix("/")
    assert plain == "/cases/" and prefixed == "/streha/cases/"
    assert navigation.url("cases:list") == plain


def test_another_url_configuration_has_its_own_addresses(settings):
    plain = navigation.url("cases:list")
    settings.ROOT_URLCONF = "streha.web.tests.urls_prefixed"
    assert navigation.url("cases:list") == "/prefixed/cases/"
    settings.ROOT_URLCONF = "streha.urls"
    assert navigation.url("cases:list") == plain
