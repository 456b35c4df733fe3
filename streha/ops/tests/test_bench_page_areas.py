"""``bench/pages.py --areas`` says where a page's time goes by area of code, and what the page
would cost if the ORM cost nothing (``bench/_areas.py``): the evidence behind issue 17's page
goal. A wrong area would move time between the ORM and the rest, and the bound with it."""

import cProfile
import pstats
from types import SimpleNamespace

import pytest

from streha.testing.bench import bench_modules
from streha.testing.factories import PersonFactory


@pytest.fixture
def areas(monkeypatch):
    with bench_modules(monkeypatch, "_areas") as (module,):
        yield module


def test_each_kind_of_code_falls_in_its_area(areas):
    site = "/srv/app/.venv/lib/python3.11/site-packages/"
    assert areas.area_of(site + "django/db/models/sql/query.py") == areas.ORM
    assert areas.area_of(site + "django/db/models/base.py") == areas.ORM
    assert areas.area_of(site + "django/db/backends/utils.py") == areas.DRIVER
    assert areas.area_of(site + "psycopg/cursor.py") == areas.DRIVER
    assert areas.area_of("/usr/lib/python3.11/sqlite3/dbapi2.py") == areas.DRIVER
    assert areas.area_of(site + "django/template/base.py") == "templates"
    assert areas.area_of(site + "django/utils/translation/trans_real.py") == "translation"
    assert areas.area_of(site + "cryptography/fernet.py").startswith("protection")
    assert areas.area_of("/srv/app/streha/protection/fields.py").startswith("protection")
    assert areas.area_of("/srv/app/streha/audit/services.py") == "audit"
    assert areas.area_of("/srv/app/streha/cases/selectors.py") == "Streha, other"
    assert areas.area_of(site + "django/middleware/csrf.py") == "Django, other"
    assert areas.area_of("~", "<built-in method builtins.isinstance>") == areas.BUILTINS
    assert areas.area_of("~", "<method 'execute' of 'sqlite3.Cursor' objects>") == areas.DRIVER
    assert areas.area_of("<frozen importlib._bootstrap>") == areas.BUILTINS
    assert areas.area_of(site + "asgiref/local.py") == areas.OTHER


@pytest.mark.django_db
def test_the_shares_of_a_real_profile_add_up_and_bound_the_orm(areas):
    PersonFactory.create_batch(3)
    from streha.people.models import Person

    profile = cProfile.Profile()
    profile.enable()
    for _ in range(5):
        list(Person.objects.filter(birth_year__gte=1900).order_by("pk")[:3])
    profile.disable()
    shares = areas.areas_of(pstats.Stats(profile))
    assert sum(shares.values()) == pytest.approx(1.0, abs=0.01)
    assert list(shares.values()) == sorted(shares.values(), reverse=True)
    assert shares[areas.ORM] > 0  # building and compiling a queryset, making instances


def test_time_is_added_up_by_area_and_the_bound_takes_the_orm_away(areas):
    site = "/v/site-packages/"
    stats = SimpleNamespace(
        stats={
            (site + "django/db/models/sql/query.py", 1, "add_q"): (1, 1, 0.004, 0.0, {}),
            (site + "django/db/models/base.py", 2, "from_db"): (1, 1, 0.002, 0.0, {}),
            (site + "psycopg/connection.py", 3, "wait"): (1, 1, 0.003, 0.0, {}),
            ("~", 0, "<built-in method builtins.len>"): (1, 1, 0.001, 0.0, {}),
            ("~", 0, "<method 'fetchmany' of 'sqlite3.Cursor' objects>"): (1, 1, 0.0, 0.0, {}),
        }
    )
    shares = areas.areas_of(stats)
    assert shares == {areas.ORM: 0.6, areas.DRIVER: 0.3, areas.BUILTINS: 0.1}
    assert areas.without_orm(40.0, shares) == 16.0
    assert areas.without_orm(40.0, {}) == 40.0
