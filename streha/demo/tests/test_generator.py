"""The ``demo`` command: agencies, staff with demo sign-ins and synthetic persons — complete,
idempotent, resumable and deterministic for a seed."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import Client

from streha.accounts.models import Agency, RoleGrant, User
from streha.cases.models import Case
from streha.demo import generator, names
from streha.people.models import Person
from streha.tips.models import Tip

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _demo_mode(settings):
    settings.DEMO_MODE = True


def demo(persons, seed):
    out = StringIO()
    call_command("demo", persons=persons, seed=seed, verbosity=0, stdout=out, stderr=StringIO())
    return out.getvalue()


def identities(seed):
    persons = Person.objects.filter(reference__startswith=f"D{seed}-").order_by("reference")
    return [
        (p.reference, p.given_name, p.family_name, p.date_of_birth, p.personal_number)
        for p in persons
    ]


def counts():
    return {
        "agencies": Agency.objects.count(),
        "users": User.objects.count(),
        "role_grants": RoleGrant.objects.count(),
        "persons": Person.objects.count(),
        "cases": Case.objects.count(),
        "tips": Tip.objects.count(),
    }


def test_creates_agencies_staff_with_roles_and_persons():
    output = demo(50, 3)
    assert "50 persons (50 new)" in output

    assert len(generator.AGENCIES) == 20
    assert Agency.objects.count() == 20
    assert set(Agency.objects.values_list("code", flat=True)) == {
        code for code, *_rest in generator.AGENCIES
    }
    for code, name, kind, municipality in generator.AGENCIES:
        agency = Agency.objects.get(code=code)
        assert (agency.name, agency.kind, agency.municipality.code) == (name, kind, municipality)

    assert User.objects.count() == len(generator.STAFF)
    for username, agency_code, roles, first, last in generator.STAFF:
        user = User.objects.get(username=username)
        assert user.agency.code == agency_code
        assert set(user.roles) == set(roles), username
        assert (user.first_name, user.last_name) == (first, last)
        assert user.is_active
        assert user.check_password(generator.DEMO_PASSWORD)

    assert Person.objects.count() == 50
    assert set(Person.objects.values_list("reference", flat=True)) == {
        generator.reference(3, i) for i in range(50)
    }
    registering = set(generator.REGISTERING)
    assert set(Person.objects.values_list("owner_agency__code", flat=True)) <= registering


def test_running_again_creates_nothing_new():
    demo(50, 3)
    first = counts()
    before = identities(3)
    output = demo(50, 3)
    assert "(0 new)" in output
    assert counts() == first
    assert identities(3) == before


def test_raising_the_count_adds_exactly_the_difference():
    demo(50, 3)
    first = identities(3)
    users = User.objects.count()
    output = demo(80, 3)
    assert "80 persons (30 new)" in output
    assert Person.objects.count() == 80
    assert User.objects.count() == users
    after = identities(3)
    assert after[:50] == first  # the first fifty are untouched
    assert [row[0] for row in after[50:]] == [generator.reference(3, i) for i in range(50, 80)]


def test_resumed_run_equals_a_run_in_one_go():
    """Persons 50..79 made by a second run are the same as those made in a single run of 80."""
    demo(50, 3)
    demo(80, 3)
    resumed = identities(3)
    fresh = in_a_fresh_database(lambda: demo(80, 3), lambda: identities(3), clear=True)
    assert fresh == resumed


def in_a_fresh_database(action, collect, clear=False):
    """Run ``action`` inside a transaction that is rolled back afterwards; return ``collect()``.

    With ``clear`` the demo data present is removed first (inside the same transaction), so the
    action sees a database without any of it, exactly as on a fresh install.
    """
    with transaction.atomic():
        if clear:
            wipe_demo_data()
        action()
        result = collect()
        transaction.set_rollback(True)
    return result


def wipe_demo_data():
    from streha.justice.models import CriminalCase

    CriminalCase.objects.all().delete()
    Case.objects.all().delete()
    Tip.objects.all().delete()
    Person.objects.all().delete()


def test_same_seed_gives_identical_persons_in_a_fresh_database():
    first = in_a_fresh_database(lambda: demo(50, 3), lambda: identities(3))
    assert Person.objects.count() == 0  # the first run really was rolled back
    second = in_a_fresh_database(lambda: demo(50, 3), lambda: identities(3))
    assert len(first) == 50
    assert first == second


def test_different_seeds_give_different_persons():
    demo(50, 3)
    demo(50, 4)
    assert Person.objects.count() == 100
    three = [row[1:] for row in identities(3)]
    four = [row[1:] for row in identities(4)]
    assert len(three) == len(four) == 50
    assert three != four
    # Not merely reordered: most generated identities differ.
    assert len(set(three) & set(four)) < 5


def test_demo_users_sign_in_with_the_demo_password():
    demo(0, 3)
    for username in ("admin", "shelter.worker", "investigator"):
        client = Client()
        response = client.post(
            "/accounts/login/", {"login": username, "password": generator.DEMO_PASSWORD}
        )
        assert response.status_code == 302, username
        assert response["Location"] == "/"
        assert int(client.session["_auth_user_id"]) == User.objects.get(username=username).pk
        assert client.get("/").status_code == 200
    refused = Client().post("/accounts/login/", {"login": "admin", "password": "wrong-password-1"})
    assert refused.status_code == 200


def test_names_are_albanian_and_serbian():
    assert not set(names.ALBANIAN_FAMILY) & set(names.SERBIAN_FAMILY)
    demo(400, 5)
    kosovars = [p for p in Person.objects.filter(citizenship="XK")]
    assert len(kosovars) > 250
    albanian = [p for p in kosovars if p.family_name in names.ALBANIAN_FAMILY]
    serbian = [p for p in kosovars if p.family_name in names.SERBIAN_FAMILY]
    assert len(albanian) + len(serbian) == len(kosovars)
    assert len(albanian) > len(serbian) >= 10
    assert {p.given_name for p in albanian} <= set(names.ALBANIAN_FEMALE + names.ALBANIAN_MALE)
    assert {p.given_name for p in serbian} <= set(names.SERBIAN_FEMALE + names.SERBIAN_MALE)
    assert {p.citizenship for p in Person.objects.all()} - {"XK"}  # some foreign victims too


def test_refused_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="demo mode"):
        demo(10, 3)
    assert Person.objects.count() == 0
    assert not User.objects.filter(username="admin").exists()


def test_negative_count_is_refused():
    with pytest.raises(CommandError):
        demo(-1, 3)
