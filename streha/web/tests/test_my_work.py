import pytest

from streha.accounts.models import Role
from streha.testing.factories import PersonFactory
from streha.web import selectors


@pytest.mark.django_db
def test_my_work_counts_are_bounded(client, make_user, agency, monkeypatch):
    """Large numbers read "N+" so that the home page costs the same at any data volume."""
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    for _ in range(5):
        PersonFactory(owner_agency=agency)
    from streha.people.models import Person

    assert selectors.bounded_count(Person.objects.all()) == "3+"
    assert selectors.bounded_count(Person.objects.all()[:0]) == 0
    assert selectors.bounded_count(Person.objects.filter(pk__in=[])) == 0
    client.force_login(make_user(Role.CASE_WORKER, agency=agency))
    page = client.get("/").content.decode()
    assert "3+" in page


@pytest.mark.django_db
def test_without_two_factor_figure_links_to_those_accounts(client, make_user, agency):
    from allauth.mfa.models import Authenticator

    admin = make_user(Role.AGENCY_ADMIN, agency=agency, username="the.admin")
    make_user(Role.CASE_WORKER, agency=agency, username="has.totp")
    make_user(Role.CASE_WORKER, agency=agency, username="no.totp")
    for username in ("the.admin", "has.totp"):
        Authenticator.objects.create(
            user=type(admin).objects.get(username=username),
            type=Authenticator.Type.TOTP,
            data={},
        )
    client.force_login(admin)
    home = client.get("/").content.decode()
    assert '<a href="/staff/?two_factor=missing">1</a>' in home
    listed = client.get("/staff/?two_factor=missing").content.decode()
    assert "no.totp" in listed and "has.totp" not in listed
    assert "has.totp" in client.get("/staff/").content.decode()
