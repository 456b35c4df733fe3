"""Imported open victim cases get the reminder tasks registration creates (through
``cases.services.reminders``), due at the dates of the record, past or not; closed cases get
none; a rerun of the file creates no second task; the dry run and the result count them."""

from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from streha.cases.models import Case, Task, TaskKind
from streha.cases.services import IDENTIFICATION_DUE_DAYS, reflection_period_days
from streha.imports import services
from streha.imports.tests.conftest import csv_bytes, row

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 15)


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    return TODAY


def tasks_of(reference: str) -> list[tuple[str, date, int]]:
    case = Case.objects.get(person__reference=reference)
    return [
        (task.kind, task.due_on, task.agency_id)
        for task in Task.objects.filter(case=case).order_by("kind", "due_on")
    ]


FILE = csv_bytes(
    [
        # A presumed victim first met long ago: both presumption tasks long overdue.
        row("OLD", ext_RegisteredOn="2024-03-01"),
        # A presumed victim met ten days ago: both due in the future.
        row("NEW", ext_RegisteredOn=(TODAY - timedelta(days=10)).isoformat()),
        # A child (born 2015) identified, no guardian recorded: the guardian task, overdue.
        row(
            "CHILD",
            prs_Birthdate="2015-05-05",
            vic_TraffickingStatus="ActualVictimOfTrafficking",
            ext_RegisteredOn="2025-01-10",
            ext_IdentifiedOn="2025-02-01",
        ),
        # Closed: nothing, even for a child.
        row("SHUT", prs_Birthdate="2015-05-05", cas_Status="Closed"),
    ]
)


def test_imported_open_cases_get_the_registration_reminders_at_their_true_dates(owner):
    report = services.import_now(None, owner, FILE)
    assert (report.created, report.rejected) == (4, 0), report.errors
    reflection = timedelta(days=reflection_period_days())
    identification = timedelta(days=IDENTIFICATION_DUE_DAYS)
    old, new = date(2024, 3, 1), TODAY - timedelta(days=10)
    assert tasks_of("OLD") == [
        (TaskKind.IDENTIFICATION, old + identification, owner.pk),
        (TaskKind.REFLECTION_END, old + reflection, owner.pk),
    ]
    assert tasks_of("NEW") == [
        (TaskKind.IDENTIFICATION, new + identification, owner.pk),
        (TaskKind.REFLECTION_END, new + reflection, owner.pk),
    ]
    assert tasks_of("CHILD") == [(TaskKind.GUARDIAN, date(2025, 1, 11), owner.pk)]
    assert Case.objects.get(person__reference="CHILD").needs_guardian
    assert tasks_of("SHUT") == []
    assert (report.tasks, report.tasks_overdue) == (5, 3)


def test_the_dry_run_counts_the_same_tasks_and_creates_none(owner):
    report = services.dry_run(None, owner, FILE)
    assert (report.created, report.tasks, report.tasks_overdue) == (4, 5, 3)
    assert not Task.objects.exists()


def test_running_the_file_again_creates_no_second_task(owner):
    services.import_now(None, owner, FILE)
    again = services.import_now(None, owner, FILE)
    assert (again.unchanged, again.tasks, again.tasks_overdue) == (4, 0, 0)
    changed = csv_bytes([row("CHILD", prs_Birthdate="2015-05-05", prs_SecondName="Otherfamily")])
    updated = services.import_now(None, owner, changed)
    assert (updated.updated, updated.tasks) == (1, 0)
    assert Task.objects.count() == 5
    assert services.dry_run(None, owner, FILE).tasks == 0


def test_the_command_says_how_many_tasks_and_how_many_are_overdue(owner, tmp_path, capsys):
    path = tmp_path / "records.csv"
    path.write_bytes(FILE)
    with translation.override("en"):
        call_command("import", "htcds", str(path), "--agency", owner.code, "--dry-run")
    out = capsys.readouterr().out
    assert "Reminder tasks that would be created: 5, already overdue: 3." in out


def test_a_presumption_by_hand_still_dates_its_tasks_from_that_day(make_user, owner):
    """Registration and the presumption take their tasks from the same rules."""
    from streha.cases.services import presumption_reminders

    case = Case(owner_agency=owner, presumed_on=TODAY, reflection_ends_on=TODAY)
    kinds = {task.kind: task.due_on for task in presumption_reminders(case, TODAY)}
    assert kinds == {
        TaskKind.REFLECTION_END: TODAY,
        TaskKind.IDENTIFICATION: TODAY + timedelta(days=IDENTIFICATION_DUE_DAYS),
    }
