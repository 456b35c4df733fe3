"""The reminder tasks a case is owed by the dates of its stage, one place per rule.

Registration (a child without a guardian), the presumption (the end of the recovery and
reflection period, the identification decision) and the import of records kept elsewhere all
take their tasks from here, so a rule changes in one place. Due dates come from the case's own
dates: a record brought in years after its first contact gets its true, past due date, so an
overdue duty (a child with no guardian recorded) surfaces at once instead of being hidden
behind a fresh "today". The tasks are returned unsaved; the caller writes them (one row each,
or in bulk).
"""

from datetime import date, timedelta

from streha.cases.models import Case, Status, Task, TaskKind
from streha.cases.services.base import IDENTIFICATION_DUE_DAYS

__all__ = ["GUARDIAN_DUE_DAYS", "guardian_reminder", "presumption_reminders", "reminders_owed"]

# A child without a guardian: the appointment is asked for the day after the first contact.
GUARDIAN_DUE_DAYS = 1


def guardian_reminder(case: Case, agency_id: int, opened_on: date) -> Task:
    """Appoint a guardian for a child registered on ``opened_on``."""
    return Task(
        case=case,
        agency_id=agency_id,
        kind=TaskKind.GUARDIAN,
        due_on=opened_on + timedelta(days=GUARDIAN_DUE_DAYS),
    )


def presumption_reminders(case: Case, presumed_on: date) -> list[Task]:
    """The end of the reflection period (``case.reflection_ends_on``, set with the presumption)
    and the identification decision, due ``IDENTIFICATION_DUE_DAYS`` after the presumption."""
    return [
        Task(
            case=case,
            agency_id=case.owner_agency_id,
            kind=TaskKind.REFLECTION_END,
            due_on=case.reflection_ends_on,
        ),
        Task(
            case=case,
            agency_id=case.owner_agency_id,
            kind=TaskKind.IDENTIFICATION,
            due_on=presumed_on + timedelta(days=IDENTIFICATION_DUE_DAYS),
        ),
    ]


def reminders_owed(case: Case) -> list[Task]:
    """What an existing record brought in (the import) is owed at its recorded stage and
    dates: what registration and the presumption would have created then. A closed case is
    owed nothing."""
    if case.status == Status.CLOSED:
        return []
    tasks = []
    if case.needs_guardian:
        tasks.append(guardian_reminder(case, case.owner_agency_id, case.first_contact_on))
    if case.status == Status.PRESUMED_VICTIM and case.presumed_on and case.reflection_ends_on:
        tasks.extend(presumption_reminders(case, case.presumed_on))
    return tasks
