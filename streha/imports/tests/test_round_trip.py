"""The importer reads back what ``htcds.row_of`` writes: export → import into an empty system
→ export gives the same rows."""

import csv
import io

import pytest

from streha.cases.models import Case
from streha.imports import htcds, services
from streha.imports.models import ImportedRecord
from streha.imports.tests.conftest import HEADER, csv_bytes, row
from streha.people.models import Person

pytestmark = pytest.mark.django_db


def export(owner) -> bytes:
    cases = Case.objects.filter(owner_agency=owner).select_related("person", "owner_agency")
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=htcds.EXPORT_COLUMNS)
    writer.writeheader()
    for case in sorted(cases, key=lambda c: c.person.reference):
        writer.writerow(htcds.row_of(case.person, case))
    return out.getvalue().encode()


def test_export_import_export_gives_the_same_file(owner):
    source = csv_bytes(
        [
            row("R1"),
            row(
                "R2",
                vic_TraffickingStatus="ActualVictimOfTrafficking",
                ext_IdentifiedOn="2024-06-01",
            ),
            row("R3", cas_Status="Closed", prs_Birthdate="", vic_AgeWhenTrafficked="15"),
            row("R4", vic_TraffickingStatus="", hte_Country="DE;IT", prs_Gender="NonConforming"),
        ],
        header=[*HEADER, "vic_AgeWhenTrafficked"],
    )
    assert services.import_now(None, owner, source).created == 4
    first = export(owner)
    ImportedRecord.objects.all().delete()
    Case.objects.all().delete()
    Person.objects.all().delete()
    report = services.import_now(None, owner, first)
    assert (report.created, report.rejected) == (4, 0), report.errors
    assert export(owner) == first
    assert Case.objects.get(person__reference="R3").status == "closed"
    assert Case.objects.get(person__reference="R3").age_at_identification == 15
