"""Agency names are data in the three official languages: pages and drop-downs print the
reader's language, falling back to the registered name; system administrators edit them."""

import pytest
from django.utils import translation

from streha.accounts.data.agency_names import AGENCY_NAMES
from streha.accounts.models import Agency, AgencyKind, Role
from streha.audit.models import AuditEvent
from streha.testing.factories import AgencyFactory

pytestmark = pytest.mark.django_db


def _agency(**names):
    return AgencyFactory(code="csw-test", name="Centre for Social Work Test", **names)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("sq", "Qendra për Punë Sociale Test"),
        ("sr-latn", "Centar za socijalni rad Test"),
        ("en", "Centre for Social Work Test (en)"),
    ],
)
def test_an_agency_is_named_in_the_readers_language(language, expected):
    agency = _agency(
        name_sq="Qendra për Punë Sociale Test",
        name_sr="Centar za socijalni rad Test",
        name_en="Centre for Social Work Test (en)",
    )
    with translation.override(language):
        assert str(agency) == expected


def test_a_missing_translation_falls_back_to_the_registered_name_then_to_any_other():
    agency = _agency(name_sq="Qendra Test")
    with translation.override("sr-latn"):
        assert str(agency) == "Centre for Social Work Test"
    agency.name = ""
    with translation.override("sr-latn"):
        assert str(agency) == "Qendra Test"


def test_every_demo_agency_has_three_different_names():
    for code, (sq, sr, en) in AGENCY_NAMES.items():
        assert sq and sr and en, code
        assert sq != en and sr != en, code


def test_the_demo_loads_the_names(settings):
    from streha.demo.generator import ensure_agencies_and_staff

    agencies, _staff = ensure_agencies_and_staff()
    shelter = agencies["shelter-drita"]
    with translation.override("sq"):
        assert str(shelter) == "Strehimorja Drita (OJQ demo)"
    with translation.override("sr-latn"):
        assert str(shelter) == "Sklonište Drita (demo NVO)"


def test_the_migration_fills_existing_agencies(transactional_db):
    """Migrating back before the names and forward again fills a known agency's names."""
    from django.core.management import call_command

    Agency.objects.filter(code="police-thb").delete()
    agency = Agency.objects.create(code="police-thb", name="Police", kind=AgencyKind.POLICE)
    # One round trip (it is the suite's slowest test): back before the names, over an agency
    # without them, and forward for every app, not only accounts: going back also unapplied the
    # other apps' migrations that depend on accounts 0005, and later tests need their tables whole.
    call_command("migrate", "accounts", "0004", verbosity=0)
    call_command("migrate", verbosity=0)
    agency.refresh_from_db()
    assert agency.name_sq.startswith("Policia e Kosovës")
    assert agency.name_sr.startswith("Kosovska policija")
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []  # all applied


@pytest.mark.parametrize("language", ["sq", "sr-latn"])
def test_every_agency_drop_down_shows_translated_names(client, make_user, language, settings):
    """The pages with a choice of agency (staff, referral, service, justice filters, export)
    print the translated name, never the registered English one."""
    settings.LANGUAGE_CODE = language
    translated = AgencyFactory(
        code="shelter-x",
        name="English Only Shelter",
        name_sq="Strehimorja X",
        name_sr="Sklonište X",
        kind=AgencyKind.SHELTER,
    )
    admin = make_user(Role.SYSTEM_ADMIN, agency=translated)
    client.force_login(admin)
    expected = "Strehimorja X" if language == "sq" else "Sklonište X"
    for url in ("/staff/new/", "/agencies/"):
        body = client.get(url).content.decode()
        assert expected in body, url
        assert "English Only Shelter" not in body, url


def test_system_administrators_translate_names_through_the_api(api_client, make_user):
    agency = _agency()
    admin = make_user(Role.SYSTEM_ADMIN, agency=agency)
    api_client.force_authenticate(admin)
    response = api_client.patch(
        f"/api/v1/agencies/{agency.pk}/",
        {"name_sq": "Qendra Test", "name_sr": "Centar Test"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["name_sq"] == "Qendra Test"
    agency.refresh_from_db()
    assert (agency.name_sq, agency.name_sr) == ("Qendra Test", "Centar Test")
    assert AuditEvent.objects.filter(details__event="agency_renamed").exists()


def test_the_registered_name_may_not_be_emptied(api_client, make_user):
    agency = _agency()
    api_client.force_authenticate(make_user(Role.SYSTEM_ADMIN, agency=agency))
    response = api_client.patch(f"/api/v1/agencies/{agency.pk}/", {"name": ""}, format="json")
    assert response.status_code == 400
    agency.refresh_from_db()
    assert agency.name == "Centre for Social Work Test"


def test_others_may_not_rename_an_agency(api_client, make_user):
    agency = _agency()
    api_client.force_authenticate(make_user(Role.AGENCY_ADMIN, agency=agency))
    response = api_client.patch(f"/api/v1/agencies/{agency.pk}/", {"name_sq": "X"}, format="json")
    assert response.status_code == 403
    agency.refresh_from_db()
    assert agency.name_sq == ""


def _form_classes():
    """Every form class of the project (their modules imported first)."""
    import importlib
    import pkgutil

    from django import forms

    import streha

    for module in pkgutil.walk_packages(streha.__path__, "streha."):
        if module.name.endswith(".forms"):
            importlib.import_module(module.name)
    seen, queue = set(), [forms.Form]
    while queue:
        cls = queue.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.add(sub)
                queue.append(sub)
    return sorted(
        (cls for cls in seen if cls.__module__.startswith("streha.")),
        key=lambda cls: f"{cls.__module__}.{cls.__qualname__}",
    )


@pytest.mark.parametrize(
    ("language", "expected"), [("sq", "Strehimorja X"), ("sr-latn", "Sklonište X")]
)
def test_every_agency_choice_of_every_form_is_labelled_in_the_language(language, expected):
    """Every choice field of agencies in every form labels its options in the language."""
    from django import forms

    agency = AgencyFactory(
        code="shelter-x",
        name="English Only Shelter",
        name_sq="Strehimorja X",
        name_sr="Sklonište X",
        kind=AgencyKind.SHELTER,
    )
    checked = []
    for cls in _form_classes():
        for name, field in cls.base_fields.items():
            if not isinstance(field, forms.ModelChoiceField):
                continue
            queryset = field.queryset
            if queryset is None or queryset.model is not Agency:
                continue
            with translation.override(language):
                assert field.label_from_instance(agency) == expected, (cls, name)
            checked.append((cls.__name__, name))
    # The referral's receiving agency, the service provider, the staff member's agency and
    # the import's owning agency at least.
    assert {"to_agency", "provider", "agency"} <= {name for _form, name in checked}, checked
