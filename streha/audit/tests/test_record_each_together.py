"""``record_each_together``: several ``record_each`` calls appended as one (one lock, one pass
over the chain) store the very events, order and hashes the calls store one after another."""

from datetime import UTC, datetime

import pytest
from django.db import transaction
from django.utils import timezone

from streha.audit import services
from streha.audit.models import AuditChainHead, AuditEvent, AuditSubject
from streha.testing.factories import AgencyFactory, PersonFactory

pytestmark = pytest.mark.django_db

INSTANT = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def stored() -> list[tuple]:
    return list(
        AuditEvent.objects.order_by("seq").values_list(
            "seq", "prev_hash", "hash", "action", "object_type", "object_id", "field_groups"
        )
    )


def test_together_stores_the_same_chain_as_one_call_after_another(monkeypatch, make_user):
    monkeypatch.setattr(timezone, "now", lambda: INSTANT)
    agency = AgencyFactory()
    actor = make_user(agency=agency)
    persons = [PersonFactory(owner_agency=agency) for _ in range(3)]
    agencies = [AgencyFactory() for _ in range(2)]
    services.record(actor, services.Action.READ, obj=agency)  # something already chained
    before = AuditEvent.objects.count()
    details = {"import_job": "j-1"}

    with transaction.atomic():
        point = transaction.savepoint()
        services.record_each(
            services.Action.CREATE, persons, actor=actor, field_groups=["identity"], details=details
        )
        services.record_each(services.Action.UPDATE, agencies, actor=None, details=details)
        one_by_one = stored()
        subjects_one_by_one = sorted(AuditSubject.objects.values_list("event_seq", "person_id"))
        transaction.savepoint_rollback(point)

    assert AuditEvent.objects.count() == before
    written = services.record_each_together(
        [
            services.Each(
                services.Action.CREATE,
                persons,
                actor=actor,
                field_groups=["identity"],
                details=details,
            ),
            services.Each(services.Action.UPDATE, agencies, actor=None, details=details),
        ]
    )
    assert written == 5
    assert stored() == one_by_one
    assert sorted(AuditSubject.objects.values_list("event_seq", "person_id")) == (
        subjects_one_by_one
    )
    head = AuditChainHead.objects.get()
    assert (head.last_seq, head.last_hash) == one_by_one[-1][:1] + one_by_one[-1][2:3]
    report = services.verify_chain()
    assert report.ok and report.checked == before + 5


def test_together_with_nothing_appends_nothing():
    assert services.record_each_together([services.Each(services.Action.CREATE, [])]) == 0
    assert not AuditEvent.objects.exists()
