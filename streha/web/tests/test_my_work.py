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
