"""Converting a tip: a police report keeps a typed reference; a victim case is opened here, a
presumed person and a case in the operator's agency, all or nothing, linked both ways."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from streha.access import policy
from streha.accounts.models import AgencyKind, Role
from streha.audit.models import AuditEvent
from streha.cases.models import Case, Source
from streha.people.models import Person
from streha.testing.admin_fixtures import _english  # noqa: F401 - messages read in English
from streha.testing.factories import AgencyFactory, MunicipalityFactory
from streha.tips import services
from streha.tips.models import ConversionKind, Tip, TipStatus
from streha.tips.testing import open_tip_line, unlock_client

pytestmark = pytest.mark.django_db

CASE_FORM = {
    "action": "convert",
    "kind": "victim_case",
    "given_name": "Arta",
    "family_name": "Synthetic",
    "gender": "feminine",
    "birth_year": "2001",
    "citizenship": "al",
    "needs_urgent_shelter": "on",
}


@pytest.fixture
def operator(make_user):
    user = make_user(
        Role.HOTLINE_OPERATOR, agency=AgencyFactory(kind=AgencyKind.NATIONAL_COORDINATOR)
    )
    user.tip_line = open_tip_line(user)
    return user


@pytest.fixture
def tip(operator):
    tip = services.log_phone_call(
        operator,
        what_seen="Workers sleep on the building site; their passports were taken.",
        category="forced_labour",
        municipality=MunicipalityFactory(),
    )
    # Received some days ago: the case's first contact is the day the tip came in.
    Tip.objects.filter(pk=tip.pk).update(received_on=timezone.localdate() - timedelta(days=3))
    tip.refresh_from_db()
    return tip


@pytest.fixture
def no_case_rights(monkeypatch):
    """A policy in which hotline operators triage tips but may not open cases."""
    monkeypatch.setattr(policy, "CASE_OPENING_ROLES", frozenset(policy.EDITING_ROLES))


def nothing_written(tip: Tip) -> None:
    assert not Person.objects.exists()
    assert not Case.objects.exists()
    tip.refresh_from_db()
    assert tip.status != TipStatus.CONVERTED and tip.case is None and tip.converted_to == ""
    assert not AuditEvent.objects.filter(purpose="converted").exists()


class TestService:
    def test_opens_person_and_case_in_the_operators_agency(self, operator, tip):
        services.convert(
            operator,
            tip,
            kind=ConversionKind.VICTIM_CASE,
            person={"given_name": "Arta", "birth_year": 2001, "citizenship": "al"},
            needs_urgent_medical=True,
        )
        person = Person.objects.get()
        case = Case.objects.get()
        assert person.owner_agency == operator.agency and person.given_name == "Arta"
        assert person.citizenship == "AL" and person.birth_year == 2001
        assert case.person == person and case.owner_agency == operator.agency
        assert case.source == Source.HOTLINE
        assert case.first_contact_on == tip.received_on
        assert case.first_contact_municipality == tip.municipality
        assert case.exploitation_types == ["ForcedLabour"]
        assert case.needs_urgent_medical and not case.needs_urgent_shelter
        tip.refresh_from_db()
        assert tip.case == case and tip.converted_to == case.reference
        assert tip.status == TipStatus.CONVERTED and tip.converted_kind == "victim_case"

    def test_no_identity_at_all(self, operator, tip):
        Tip.objects.filter(pk=tip.pk).update(category="other", municipality=None)
        services.convert(operator, tip, kind=ConversionKind.VICTIM_CASE)
        person = Person.objects.get()
        assert person.given_name == services.UNKNOWN_GIVEN_NAME and person.family_name == ""
        case = Case.objects.get()
        assert case.exploitation_types == [] and case.first_contact_municipality is None

    def test_audit_links_tip_and_case_with_ids_only(self, operator, tip):
        services.convert(
            operator, tip, kind=ConversionKind.VICTIM_CASE, person={"given_name": "Arta"}
        )
        case, person = Case.objects.get(), Person.objects.get()
        event = AuditEvent.objects.get(purpose="converted")
        assert event.object_type == "tips.tip" and event.object_id == str(tip.public_id)
        assert event.details["case"] == str(case.public_id)
        assert event.details["person"] == str(person.public_id)
        assert event.details["converted_to"] == case.reference
        assert "Arta" not in repr(event.details)
        assert AuditEvent.objects.filter(
            object_type="people.person", object_id=str(person.public_id), action="create"
        ).exists()
        assert AuditEvent.objects.filter(
            object_type="cases.case", object_id=str(case.public_id), action="create"
        ).exists()

    def test_invalid_identity_writes_nothing(self, operator, tip):
        for person in (
            {"birth_year": 1800},
            {"citizenship": "1A"},
            {"gender": "robot"},
            {"given_name": "a\x00b"},
            {"given_name": "x" * 101},
            {"personal_number": "123"},  # not offered here
        ):
            with pytest.raises(ValidationError) as error:
                services.convert(operator, tip, kind=ConversionKind.VICTIM_CASE, person=person)
            for value in person.values():
                assert str(value) not in str(error.value.messages)
        with pytest.raises(ValidationError):
            services.convert(operator, tip, kind=ConversionKind.VICTIM_CASE, reference="C-1")
        nothing_written(tip)

    def test_case_that_cannot_open_leaves_no_person(self, operator, tip):
        # A first contact in the future is refused by the case service, after the person was
        # registered in the same transaction: the person must go too.
        Tip.objects.filter(pk=tip.pk).update(received_on=timezone.localdate() + timedelta(days=1))
        with pytest.raises(ValidationError):
            services.convert(
                operator, tip, kind=ConversionKind.VICTIM_CASE, person={"given_name": "Arta"}
            )
        nothing_written(tip)

    def test_role_without_case_rights_is_refused_clearly(self, operator, tip, no_case_rights):
        with pytest.raises(PermissionDenied, match="may not open victim cases"):
            services.convert(operator, tip, kind=ConversionKind.VICTIM_CASE)
        nothing_written(tip)
        # The police report still works for them.
        services.convert(operator, tip, reference="KP-2026-1")
        assert Tip.objects.get().converted_to == "KP-2026-1"

    def test_immediate_danger_goes_to_the_police_first(self, operator, tip):
        Tip.objects.filter(pk=tip.pk).update(immediate_danger=True)
        with pytest.raises(ValidationError, match="police"):
            services.convert(operator, tip, kind=ConversionKind.VICTIM_CASE)
        nothing_written(tip)
        police = AgencyFactory(kind=AgencyKind.POLICE)
        services.triage(
            operator, tip, category="forced_labour", status="assigned", assigned_agency=police
        )
        services.convert(operator, tip, kind=ConversionKind.VICTIM_CASE)
        case = Case.objects.get()
        assert case.owner_agency == operator.agency  # the converting user's agency
        assert Tip.objects.get().assigned_agency == police  # the police keep the tip

    def test_one_case_per_tip(self, operator, tip):
        services.convert(operator, tip, kind=ConversionKind.VICTIM_CASE)
        for kind, reference in (("victim_case", ""), ("police_report", "KP-1")):
            with pytest.raises(ValidationError):
                services.convert(operator, tip, kind=kind, reference=reference)
        assert Case.objects.count() == 1 and Person.objects.count() == 1

    def test_a_police_report_is_not_overwritten_by_a_second_conversion(self, operator, tip):
        services.convert(operator, tip, reference="KP-123")
        for kind, reference in (("victim_case", ""), ("police_report", "KP-999")):
            with pytest.raises(ValidationError):
                services.convert(operator, tip, kind=kind, reference=reference)
        tip.refresh_from_db()
        assert tip.converted_to == "KP-123" and not Case.objects.exists()

    def test_police_report_takes_no_case_fields(self, operator, tip):
        with pytest.raises(ValidationError):
            services.convert(operator, tip, reference="KP-1", needs_urgent_shelter=True)
        with pytest.raises(ValidationError):
            services.convert(operator, tip, reference="")
        nothing_written(tip)

    def test_only_the_hotline_converts(self, make_user, tip):
        case_worker = make_user(Role.CASE_WORKER)
        with pytest.raises(PermissionDenied):
            services.convert(case_worker, tip, kind=ConversionKind.VICTIM_CASE)
        nothing_written(tip)


class TestPages:
    def test_open_case_from_the_tip_page_and_follow_the_link(self, client, operator, tip):
        unlock_client(client, operator, operator.tip_line.key(operator))
        page = client.get(f"/tips/{tip.public_id}/").content.decode()
        assert 'id="convert-victim-case"' in page and 'id="convert-police-report"' in page
        response = client.post(f"/tips/{tip.public_id}/", CASE_FORM)
        assert response.status_code == 302, response.content.decode()
        case = Case.objects.get()
        assert case.needs_urgent_shelter and case.person.given_name == "Arta"
        assert case.owner_agency == operator.agency and case.source == Source.HOTLINE
        page = client.get(f"/tips/{tip.public_id}/").content.decode()
        assert f'<a href="/cases/{case.public_id}/" id="tip-case">{case.reference}</a>' in page
        assert 'id="convert-victim-case"' not in page  # one case per tip
        assert client.get(f"/cases/{case.public_id}/").status_code == 200

    def test_no_link_for_who_may_not_see_the_case(self, client, operator, tip, make_user):
        police = AgencyFactory(kind=AgencyKind.POLICE)
        services.triage(
            operator, tip, category="forced_labour", status="assigned", assigned_agency=police
        )
        services.convert(operator, tip, kind=ConversionKind.VICTIM_CASE)
        case = Case.objects.get()
        client.force_login(make_user(Role.INVESTIGATOR, agency=police))
        page = client.get(f"/tips/{tip.public_id}/")
        assert page.status_code == 200
        body = page.content.decode()
        assert case.reference in body and f"/cases/{case.public_id}/" not in body

    def test_invalid_input_shows_errors_and_writes_nothing(self, client, operator, tip):
        unlock_client(client, operator, operator.tip_line.key(operator))
        for bad in ({"birth_year": "1800"}, {"citizenship": "1A"}, {"gender": "robot"}):
            response = client.post(f"/tips/{tip.public_id}/", {**CASE_FORM, **bad})
            assert response.status_code == 400
            assert 'class="field-error"' in response.content.decode()
        nothing_written(tip)

    def test_role_without_case_rights_gets_a_clear_4xx(self, client, operator, tip, no_case_rights):
        unlock_client(client, operator, operator.tip_line.key(operator))
        page = client.get(f"/tips/{tip.public_id}/").content.decode()
        assert 'id="no-case-rights"' in page and 'id="convert-victim-case"' not in page
        response = client.post(f"/tips/{tip.public_id}/", CASE_FORM)
        assert response.status_code == 403
        assert "may not open victim cases" in response.content.decode()
        nothing_written(tip)

    def test_police_report_as_before(self, client, operator, tip):
        unlock_client(client, operator, operator.tip_line.key(operator))
        response = client.post(
            f"/tips/{tip.public_id}/",
            {"action": "convert", "kind": "police_report", "reference": "KP-2026-0042"},
        )
        assert response.status_code == 302
        tip.refresh_from_db()
        assert tip.converted_to == "KP-2026-0042" and tip.case is None
        assert not Case.objects.exists() and not Person.objects.exists()

    def test_case_roles_of_the_assigned_agency_cannot_convert(self, operator, tip, make_user):
        police = AgencyFactory(kind=AgencyKind.POLICE)
        services.triage(
            operator, tip, category="forced_labour", status="assigned", assigned_agency=police
        )
        viewer = Client()
        viewer.force_login(make_user(Role.INVESTIGATOR, agency=police))
        assert viewer.post(f"/tips/{tip.public_id}/", CASE_FORM).status_code == 404
        nothing_written(tip)


class TestApi:
    def test_open_case_through_the_api(self, api_client, operator, tip):
        api_client.force_authenticate(operator)
        response = api_client.post(
            f"/api/v1/tips/{tip.public_id}/convert/",
            {
                "converted_kind": "victim_case",
                "given_name": "Arta",
                "birth_year": 2001,
                "needs_urgent_shelter": True,
            },
            format="json",
        )
        assert response.status_code == 200, response.content
        case = Case.objects.get()
        body = response.json()
        assert body["case"] == str(case.public_id) and body["converted_to"] == case.reference
        assert body["status"] == "converted" and body["converted_kind"] == "victim_case"
        assert case.source == Source.HOTLINE and case.owner_agency == operator.agency
        assert case.needs_urgent_shelter and case.first_contact_on == tip.received_on
        assert case.person.birth_year == 2001
        detail = api_client.get(f"/api/v1/tips/{tip.public_id}/").json()
        assert detail["case"] == str(case.public_id)

    def test_api_names_the_case_only_to_who_may_see_it(self, api_client, operator, tip, make_user):
        police = AgencyFactory(kind=AgencyKind.POLICE)
        services.triage(
            operator, tip, category="forced_labour", status="assigned", assigned_agency=police
        )
        services.convert(operator, tip, kind=ConversionKind.VICTIM_CASE)
        api_client.force_authenticate(make_user(Role.INVESTIGATOR, agency=police))
        assert api_client.get(f"/api/v1/tips/{tip.public_id}/").json()["case"] is None
        listed = api_client.get("/api/v1/tips/").json()
        assert all(row["case"] is None for row in listed)

    def test_api_errors_do_not_echo_and_write_nothing(self, api_client, operator, tip):
        api_client.force_authenticate(operator)
        url = f"/api/v1/tips/{tip.public_id}/convert/"
        for data in (
            {"converted_kind": "victim_case", "gender": "Secret-Gender-Value"},
            {"converted_kind": "victim_case", "citizenship": "Q9"},
            {"converted_kind": "victim_case", "reference": "Secret-Ref-77"},
            {"converted_kind": "Secret-Kind"},
            {"converted_kind": "police_report"},
        ):
            response = api_client.post(url, data, format="json")
            assert response.status_code == 400, data
            text = response.content.decode()
            for value in data.values():
                if value not in ("victim_case", "police_report"):
                    assert value not in text
        nothing_written(tip)

    def test_api_role_without_case_rights(self, api_client, operator, tip, no_case_rights):
        api_client.force_authenticate(operator)
        response = api_client.post(
            f"/api/v1/tips/{tip.public_id}/convert/",
            {"converted_kind": "victim_case"},
            format="json",
        )
        assert response.status_code == 403
        assert "may not open victim cases" in response.json()["error"]["message"]
        nothing_written(tip)

    def test_schema_documents_the_case_fields(self, client, operator):
        import yaml

        unlock_client(client, operator, operator.tip_line.key(operator))
        schema = yaml.safe_load(client.get("/api/schema/").content)
        convert = schema["components"]["schemas"]["ConvertRequest"]["properties"]
        assert {"converted_kind", "reference", "given_name", "needs_urgent_shelter"} <= set(convert)
        assert "case" in schema["components"]["schemas"]["Tip"]["properties"]
