"""Exports of the referral inbox and the tip queue (issue 12): the filter applied, what the
list may show and no more, audited with the row count. The case list, task list and audit log
are in test_exports.py."""

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from streha.accounts.models import Role
from streha.audit.models import AuditEvent
from streha.cases import services as case_services
from streha.cases.models import Case
from streha.imports import exports, services
from streha.imports.tests.conftest import csv_bytes, row
from streha.testing.factories import AgencyFactory
from streha.tips.models import Tip, TipStatus

pytestmark = pytest.mark.django_db


def parse_csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def export_event(list_name: str) -> AuditEvent:
    return AuditEvent.objects.filter(action="export", object_id=list_name).latest("pk")


def test_the_referral_inbox_exports_with_its_filter_and_the_case_only_once_accepted(
    make_user, owner
):
    report = services.import_now(None, owner, csv_bytes([row("F1"), row("F2")]))
    assert report.created == 2
    sender = make_user(Role.CASE_WORKER, agency=owner)
    shelter = AgencyFactory(code="shelter-inbox")
    receiver = make_user(Role.CASE_WORKER, agency=shelter)
    first, second = (
        case_services.send_referral(
            sender,
            Case.objects.get(person__reference=reference),
            to_agency=shelter,
            field_groups=["narrative"],
            purpose="Shelter place",
        )
        for reference in ("F1", "F2")
    )
    case_services.answer_referral(receiver, first, status="accepted")

    content, name, _type, count = exports.export_now(
        receiver, "referrals", "csv", {"status": "sent"}
    )
    rows = parse_csv(content)
    assert name.endswith(".csv") and count == 1 and len(rows) == 2
    assert rows[1][3] != "" and rows[1][2] == ""  # not accepted: the case is not named
    event = export_event("referrals")
    assert event.details["rows"] == 1 and event.details["filters"] == {"status": "sent"}

    content, _name, _type, count = exports.export_now(
        receiver, "referrals", "xlsx", {"status": "accepted"}
    )
    values = list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    assert count == 1 and len(values) == 2
    assert values[1][2] == first.case.reference  # accepted: the case may be opened
    assert export_event("referrals").details["rows"] == 1

    # The sending agency's inbox holds none of these referrals.
    _content, _name, _type, count = exports.export_now(sender, "referrals", "csv", {})
    assert count == 0 and second.status == "sent"


def test_the_tip_queue_exports_with_its_filter_for_whom_it_was_assigned_only(make_user, owner):
    other = AgencyFactory(code="police-tips")
    for status, agency in (
        (TipStatus.NEW, owner),
        (TipStatus.ASSIGNED, owner),
        (TipStatus.CLOSED, owner),
        (TipStatus.ASSIGNED, other),
    ):
        Tip.objects.create(
            channel="web", received_on=date(2026, 1, 5), status=status, assigned_agency=agency
        )
    supervisor = make_user(Role.SUPERVISOR, agency=owner)
    assert "tips" in [item.name for item in exports.lists_for(supervisor)]

    _content, _name, _type, count = exports.export_now(supervisor, "tips", "csv", {})
    assert count == 2  # the open tips assigned to this agency, not the other agency's
    assert export_event("tips").details == {
        "list": "tips",
        "format": "csv",
        "rows": 2,
        "filters": {},
    }
    content, _name, _type, count = exports.export_now(
        supervisor, "tips", "csv", {"status": TipStatus.CLOSED}
    )
    rows = parse_csv(content)
    assert count == 1 and len(rows) == 2 and rows[1][0] == "2026-01-05"
    assert export_event("tips").details["rows"] == 1

    outsider = make_user(Role.AUDITOR, agency=owner)
    assert "tips" not in [item.name for item in exports.lists_for(outsider)]
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        exports.export_now(outsider, "tips", "csv", {})
