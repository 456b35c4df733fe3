"""Decryption only inside an audited read, and service code inside an audited system context.

These tests run without the suite's free test scope (``strict_reads``): what they do is what a
command, the worker or the shell would do.
"""

from io import StringIO

import pytest
from django.core.management import call_command

from streha.accounts.models import Role
from streha.audit import read_context, services
from streha.audit.models import Action, AuditEvent
from streha.people import services as people_services
from streha.people.models import Person
from streha.testing.factories import PersonFactory

pytestmark = [pytest.mark.django_db, pytest.mark.strict_reads]


def stored(person) -> Person:
    return Person.objects.get(pk=person.pk)  # fields sealed again, as loaded from the database


def test_nothing_decrypts_outside_an_audited_read(agency):
    person = PersonFactory(owner_agency=agency, given_name="Arbnora")
    with pytest.raises(read_context.UnauditedDecryption) as refused:
        stored(person).given_name  # noqa: B018
    assert "Arbnora" not in str(refused.value)  # the refusal names no personal data


def test_a_request_decrypts_only_what_its_events_named(agency, make_user):
    worker = make_user(Role.CASE_WORKER, agency=agency)
    named, other = PersonFactory(owner_agency=agency), PersonFactory(owner_agency=agency)
    with read_context.request_scope():
        first, second = stored(named), stored(other)
        services.record(worker, Action.READ, obj=first)
        assert first.given_name == named.given_name
        with pytest.raises(read_context.UnauditedDecryption):
            second.given_name  # noqa: B018


def test_a_system_context_is_audited_and_ends_with_its_block(agency):
    person = PersonFactory(owner_agency=agency)
    with read_context.system("key maintenance", obj=person):
        assert stored(person).given_name == person.given_name
    event = AuditEvent.objects.get(action=Action.SYSTEM_READ)
    assert (event.purpose, event.object_id) == ("key maintenance", str(person.public_id))
    with pytest.raises(read_context.UnauditedDecryption):
        stored(person).given_name  # noqa: B018


def test_anonymisation_decrypts_inside_its_own_system_context(agency, make_user):
    import datetime

    from streha.cases import services as case_services
    from streha.cases.models import Case

    person = PersonFactory(owner_agency=agency)
    worker = make_user(Role.CASE_WORKER, agency=agency)
    with read_context.system("test set-up"):
        case_services.open_case(
            worker,
            stored(person),
            source=Case._meta.get_field("source").choices[0][0],
            first_contact_on=datetime.date(2026, 3, 1),
            first_contact_place="Near the bus station",
        )
    people_services.anonymise_person(stored(person), reason="retention period ended")
    assert AuditEvent.objects.filter(action=Action.SYSTEM_READ, purpose="anonymisation").exists()
    with read_context.testing_scope():
        assert Case.objects.get(person=person).first_contact_place == ""
    assert AuditEvent.objects.filter(action=Action.SYSTEM_READ, purpose="anonymisation").exists()
    assert AuditEvent.objects.filter(action=Action.ANONYMISE).exists()


def test_the_demo_generator_and_key_rotation_run_outside_requests(db):
    from streha.demo import generator

    generator.run(seed=5, persons=4)
    call_command("keys", "rotate", stdout=StringIO())
    assert services.verify_chain().ok
