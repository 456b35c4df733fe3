"""Erasing the protected words of an anonymised person's cases."""

from streha.cases.models import (
    Case,
)
from streha.people.models import Person

__all__ = ["erase_cases_of_person"]


def erase_cases_of_person(person: Person) -> int:
    """Erase the protected words on the cases of an anonymised person: first-contact place,
    decision reasons, guardian, ethnicity, city of exploitation, relationship to the
    trafficker, the reasons of their events and referrals, their
    notes (their documents: ``document_services.erase_documents_of_person``). Stages, dates and
    categories stay for the statistics. Call inside the anonymising transaction
    (``people.services.anonymise_person``); returns the cases erased."""
    cases = list(Case.objects.filter(person=person))
    for case in cases:
        # Every protected field of the case (by field group): a field added later is erased too.
        for name in (name for names in Case.FIELD_GROUPS.values() for name in names):
            setattr(case, name, "")
        case.save()
        for event in case.events.all():
            if event.reason:
                event.reason = ""
                event.save()
        for referral in case.referrals.all():
            referral.purpose = referral.answer_reason = ""
            referral.save()
        case.notes.all().delete()
    return len(cases)
