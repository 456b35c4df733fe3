# ruff: noqa: F811 (the justice fixtures are imported by name, then used as arguments)
"""The justice (``jus_*``) import profile: the rows the HTCDS export writes, checked by the
justice rules, a criminal case all or nothing, idempotent on (agency, reference)."""

import csv
import io

import pytest
from django.core.management import call_command

from streha.audit.models import AuditEvent
from streha.imports import htcds_export, justice_rows, services
from streha.justice.models import Charge, CriminalCase, Defendant, ProceedingEvent
from streha.justice.tests.conftest import offences, reported, world  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(world, reported) -> list[dict]:
    """The reported case's rows as exported, then the case removed (its people stay)."""
    export = htcds_export.export_now(None, identities=True)
    CriminalCase.objects.all().delete()
    return list(csv.DictReader(io.StringIO(export.justice.decode())))


def as_csv(rows: list[dict]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=justice_rows.COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def second_case(rows: list[dict], reference: str) -> list[dict]:
    return [{**r, "jus_CaseReference": reference} for r in rows]


def test_a_valid_file_imports_every_record_audited_with_the_job(rows, world):
    kinds = [r["jus_Record"] for r in rows]
    assert kinds == ["CriminalCase", "Defendant", "Defendant", "Event", "Event", "Charge", "Charge"]
    dry = services.dry_run(None, world.police, as_csv(rows), profile="jus")
    assert (dry.created, dry.rejected) == (7, 0) and not CriminalCase.objects.exists()
    report = services.import_now(None, world.police, as_csv(rows), profile="jus")
    assert (report.created, report.rejected) == (7, 0), report.errors
    case = CriminalCase.objects.get()
    assert case.stage == "reported" and case.police_number == "PR-1/25"
    assert case.court == world.court and case.victim_cases.get() == world.victim_case
    assert Defendant.objects.filter(case=case).count() == 2
    assert {c.defendant.person.reference for c in Charge.objects.all()} == {
        "T-SUSP0001",
        "T-SUSP0002",
    }
    created = AuditEvent.objects.filter(
        action="create", object_type="justice.criminalcase", purpose="import"
    )
    assert created.count() == 1 and created.get().details["records"] == 7


def test_running_it_twice_creates_nothing_and_a_new_event_is_added(rows, world):
    services.import_now(None, world.police, as_csv(rows), profile="jus")
    again = services.import_now(None, world.police, as_csv(rows), profile="jus")
    assert (again.created, again.unchanged, again.updated) == (0, 7, 0)
    event = {
        **rows[3],
        "jus_Record": "Event",
        "jus_Number": "3",
        "jus_EventKind": "investigation_initiated",
        "jus_OccurredOn": "2025-04-01",
        "jus_EventAgency": "office",
    }
    changed = [{**rows[0], "jus_CourtNumber": "PKR 9/25"}, *rows[1:5], event, *rows[5:]]
    report = services.import_now(None, world.police, as_csv(changed), profile="jus")
    assert (report.created, report.updated, report.rejected) == (1, 1, 0), report.errors
    case = CriminalCase.objects.get()
    assert case.court_number == "PKR 9/25" and case.stage == "investigation"
    assert ProceedingEvent.objects.filter(case=case).count() == 3
    assert AuditEvent.objects.filter(action="update", object_type="justice.criminalcase").exists()


@pytest.mark.parametrize(
    ("record", "changes", "column"),
    [
        (3, {"jus_EventKind": "final"}, "jus_EventKind"),  # not at the case's stage
        (3, {"jus_EventKind": "sunrise"}, "jus_EventKind"),
        (4, {"jus_OccurredOn": "2999-01-01"}, "jus_OccurredOn"),
        (4, {"jus_OccurredOn": "2025-02-30"}, "jus_OccurredOn"),
        (4, {"jus_OccurredOn": "2024-01-01"}, "jus_OccurredOn"),  # before the case was opened
        (5, {"jus_Article": "999"}, "jus_Article"),
        (5, {"jus_Defendant": "7"}, "jus_Defendant"),
        (5, {"jus_Counts": "0"}, "jus_Counts"),
        (5, {"jus_Replaces": "1"}, "jus_Replaces"),  # its own first charge
        (1, {"per_RoleInProcess": "Wizard"}, "per_RoleInProcess"),
        (2, {"jus_Defendant": "1"}, "jus_Defendant"),  # the label twice
        (0, {"jus_PoliceAgency": "office"}, "jus_PoliceAgency"),  # an agency of another kind
        (0, {"jus_VictimReferences": "NOBODY"}, "jus_VictimReferences"),
        (0, {"jus_OpenedOn": "=cmd()"}, "jus_OpenedOn"),
    ],
)
def test_a_broken_row_rejects_its_case_only(rows, world, record, changes, column):
    broken = [dict(r) for r in rows]
    broken[record].update(changes)
    fine = second_case(rows, "CR-OTHER-1")
    for r in fine:
        r["jus_PoliceNumber"] = "PR-2/25" if r["jus_Record"] == "CriminalCase" else ""
    content = as_csv(broken + fine)
    report = services.import_now(None, world.police, content, profile="jus")
    assert report.rejected == 7 and report.created == 7
    lines = {line for line, _column, _reason in report.errors}
    assert record + 2 in lines
    columns = {c for line, c, _reason in report.errors if line == record + 2}
    assert column in columns or str(justice_rows.COLUMNS.index(column) + 1) in columns
    assert list(CriminalCase.objects.values_list("reference", flat=True)) == ["CR-OTHER-1"]
    for _line, _column, reason in report.errors:
        assert "2999" not in reason and "NOBODY" not in reason and "Wizard" not in reason


def test_judgment_rules_are_the_services_rules(world, reported):
    from streha.justice import services as justice

    liaison = world.users["liaison"]
    prosecutor = world.users["prosecutor"]
    justice.record_event(
        prosecutor, reported, kind="indictment_filed", occurred_on=reported.opened_on
    )
    defendant = reported.defendants.order_by("pk").first()
    justice.record_judgment(
        liaison,
        reported,
        defendant=defendant,
        instance="first",
        outcome="convicted",
        decided_on=reported.opened_on,
        sentence="fine",
        fine_eur="1500.00",
    )
    export = htcds_export.export_now(None, identities=True)
    CriminalCase.objects.all().delete()
    rows = list(csv.DictReader(io.StringIO(export.justice.decode())))
    judgment = next(i for i, r in enumerate(rows) if r["jus_Record"] == "Judgment")
    assert rows[judgment]["jus_FineEur"] == "1500.00"
    for changes, column in (
        ({"jus_Sentence": ""}, "jus_Sentence"),  # a conviction needs a sentence
        ({"jus_Outcome": "acquitted"}, "jus_Sentence"),  # only a conviction carries one
        ({"jus_FineEur": ""}, "jus_FineEur"),
        ({"jus_FineEur": "lots"}, "jus_FineEur"),
        ({"jus_Sentence": "imprisonment", "jus_FineEur": ""}, "jus_Months"),
    ):
        broken = [dict(r) for r in rows]
        broken[judgment].update(changes)
        report = services.dry_run(None, world.police, as_csv(broken), profile="jus")
        assert report.rejected == len(rows)
        assert (judgment + 2, column) in {(line, c) for line, c, _r in report.errors}
    assert services.dry_run(None, world.police, as_csv(rows), profile="jus").ok


def test_another_agency_cannot_take_over_a_reference(rows, world):
    services.import_now(None, world.police, as_csv(rows), profile="jus")
    moved = [{**r, "ext_Agency": "office"} for r in rows]
    moved[0]["jus_PoliceAgency"] = ""
    report = services.import_now(None, world.office, as_csv(moved), profile="jus")
    assert report.rejected == 7
    assert report.errors[0][1] == "jus_CaseReference"


def test_the_command_reads_the_justice_profile(rows, world, tmp_path, capsys):
    path = tmp_path / "justice.csv"
    broken = [dict(r) for r in rows]
    broken[3]["jus_EventKind"] = "sunrise"
    path.write_bytes(as_csv(broken))
    with pytest.raises(SystemExit) as exit_code:
        call_command("import", "htcds", str(path), "--agency", "police", "--profile", "jus")
    assert exit_code.value.code == 1
    assert "5\tjus_EventKind" in capsys.readouterr().out
    path.write_bytes(as_csv(rows))
    call_command("import", "htcds", str(path), "--agency", "police", "--profile", "jus")
    assert CriminalCase.objects.count() == 1
