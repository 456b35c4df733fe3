"""The demo generator: deterministic per seed, idempotent, through the real services."""

import pytest
from django.core.management import call_command

from streha.accounts.models import Agency, User
from streha.audit.models import AuditEvent
from streha.demo import generator
from streha.people.models import Person


def identities(seed):
    persons = Person.objects.filter(reference__startswith=f"D{seed}-").order_by("reference")
    return [
        (p.reference, p.given_name, p.family_name, p.date_of_birth, p.personal_number, p.gender)
        for p in persons
    ]


@pytest.mark.django_db
def test_demo_is_idempotent_and_resumable(client):
    call_command("demo", persons=40, seed=3, verbosity=0)
    assert Agency.objects.count() == len(generator.AGENCIES)
    assert User.objects.count() == len(generator.STAFF)
    assert Person.objects.count() == 40
    events = AuditEvent.objects.filter(action="create", object_type="people.person").count()
    assert events == 40  # demo data goes through the audited services
    call_command("demo", persons=40, seed=3, verbosity=0)
    assert Person.objects.count() == 40 and User.objects.count() == len(generator.STAFF)
    call_command("demo", persons=65, seed=3, verbosity=0)
    assert Person.objects.count() == 65
    for username, _agency, roles, _first, _last in generator.STAFF:
        assert set(User.objects.get(username=username).roles) == set(roles)
    response = client.post(
        "/accounts/login/", {"login": "shelter.worker", "password": generator.DEMO_PASSWORD}
    )
    assert response.status_code == 302


@pytest.mark.django_db
def test_same_seed_same_people_other_seed_other_people():
    call_command("demo", persons=30, seed=5, verbosity=0)
    first = identities(5)
    from streha.cases.models import Case

    Case.objects.filter(person__reference__startswith="D5-").delete()
    Person.objects.filter(reference__startswith="D5-").delete()
    call_command("demo", persons=30, seed=5, verbosity=0)
    assert identities(5) == first
    call_command("demo", persons=30, seed=6, verbosity=0)
    assert [row[1:] for row in identities(6)] != [row[1:] for row in first]


@pytest.mark.django_db
def test_names_are_albanian_and_serbian():
    call_command("demo", persons=300, seed=8, verbosity=0)
    from streha.demo import names

    family = {p.family_name for p in Person.objects.all()}
    assert family & set(names.ALBANIAN_FAMILY)
    assert family & set(names.SERBIAN_FAMILY)
