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


KEPT_SINCE_SESSION_6 = {
    "vic_TraffickingStatusDecisionMakingOrg": "CourtOrProsecution",
    "vic_ForcedLabourIndustry": "A_AgricultureForestryAndFishing;F_Construction",
    "vic_TypeOfSexExploitation": "Pornography;Prostitution",
    "vic_RelationshipToTrafficker": "Familial",
    "hte_City": "Synthcity",
    "hte_Date": "2023-11-20",
    "con_Consent": "TRUE",
}


def test_the_seven_htcds_columns_once_not_kept_are_kept_and_written_back(owner):
    """``vic_ForcedLabourIndustry``, ``vic_TypeOfSexExploitation``,
    ``vic_RelationshipToTrafficker``, ``hte_City``, ``hte_Date``, ``con_Consent`` and
    ``vic_TraffickingStatusDecisionMakingOrg`` go into the case and come out of the export."""
    from streha.audit.read_context import testing_scope

    header = [*HEADER, *KEPT_SINCE_SESSION_6]
    source = csv_bytes(
        [
            row("R1", **KEPT_SINCE_SESSION_6),
            row("R2", con_Consent="false", vic_ForcedLabourIndustry="P_Education"),
            row("R3"),
        ],
        header=header,
    )
    report = services.import_now(None, owner, source)
    assert (report.created, report.rejected, report.ignored_columns) == (3, 0, []), report.errors
    with testing_scope():
        first = export(owner)
        case = Case.objects.get(person__reference="R1")
        assert case.exploitation_city == "Synthcity"
        assert case.relationship_to_trafficker == "Familial"
    assert case.decision_organisation == "CourtOrProsecution"
    assert case.forced_labour_industries == ["A_AgricultureForestryAndFishing", "F_Construction"]
    assert case.sex_exploitation_types == ["Pornography", "Prostitution"]
    assert case.trafficked_on.isoformat() == "2023-11-20"
    assert case.interview_consent is True
    rows = {r["ext_Reference"]: r for r in csv.DictReader(io.StringIO(first.decode()))}
    assert {name: rows["R1"][name] for name in KEPT_SINCE_SESSION_6} == KEPT_SINCE_SESSION_6
    assert (rows["R2"]["con_Consent"], rows["R3"]["con_Consent"]) == ("FALSE", "")
    assert rows["R2"]["vic_ForcedLabourIndustry"] == "P_Education"

    ImportedRecord.objects.all().delete()
    Case.objects.all().delete()
    Person.objects.all().delete()
    report = services.import_now(None, owner, first)
    assert (report.created, report.rejected) == (3, 0), report.errors
    with testing_scope():
        assert export(owner) == first


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("vic_ForcedLabourIndustry", "Fishing"),
        ("vic_TypeOfSexExploitation", "Prostitution;Dancing"),
        ("vic_RelationshipToTrafficker", "Familial;Acquainted"),
        ("vic_RelationshipToTrafficker", "Cousin"),
        ("vic_TraffickingStatusDecisionMakingOrg", "Army"),
        ("hte_Date", "20/11/2023"),
        ("hte_City", "x" * 101),
        ("con_Consent", "maybe"),
    ],
)
def test_a_bad_value_in_the_seven_columns_rejects_the_row_by_column(owner, column, value):
    source = csv_bytes([row("R1", **{column: value}), row("R2")], header=[*HEADER, column])
    report = services.import_now(None, owner, source)
    assert (report.created, report.rejected) == (1, 1)
    assert [error[:2] for error in report.errors] == [[2, column]]
    assert value not in report.errors[0][2]


def test_the_case_page_shows_the_seven_columns_in_words(client, make_user, owner):
    from django.utils import translation

    from streha.accounts.models import Role

    header = [*HEADER, *KEPT_SINCE_SESSION_6]
    services.import_now(None, owner, csv_bytes([row("R1", **KEPT_SINCE_SESSION_6)], header=header))
    case = Case.objects.get(person__reference="R1")
    worker = make_user(Role.CASE_WORKER, agency=owner)
    hotline = make_user(Role.HOTLINE_OPERATOR, agency=owner)
    client.force_login(worker)
    with translation.override("en"):
        page = client.get(f"/cases/{case.public_id}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for words in (
        "Court or prosecution",
        "Agriculture, forestry and fishing, Construction",
        "Pornography, Prostitution",
        "Family member",
        "Synthcity",
        "Consented to the interview and the use of the data",
    ):
        assert words in page, words
    assert 'id="exploitation-city"' in page and 'id="relationship-to-trafficker"' in page
    client.force_login(hotline)
    other = client.get(f"/cases/{case.public_id}/")
    # Who sees the case without the narrative and protection groups gets the codes only.
    assert other.status_code == 200, other.status_code
    assert "Synthcity" not in other.content.decode()
    assert 'id="relationship-to-trafficker"' not in other.content.decode()
