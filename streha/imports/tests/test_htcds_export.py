# ruff: noqa: F811 (the justice fixtures are imported by name, then used as arguments)
"""The HTCDS export: lossless with identities (export → import into an empty system → export
gives the same files, justice side included), pseudonymised otherwise, audited with its row
count, for the national coordinator only; and the justice (``jus_*``) import profile."""

import csv
import io
import zipfile
from datetime import date

import pytest
from django.core.management import call_command
from django.urls import reverse

from streha.accounts.models import Role
from streha.audit.models import AuditEvent
from streha.cases.models import Case
from streha.imports import htcds_export, services
from streha.imports.models import ExportFile, ImportedRecord
from streha.imports.tests.conftest import HEADER, csv_bytes, row
from streha.jobs.models import Job
from streha.jobs.services import execute_job
from streha.justice import services as justice
from streha.justice.models import ChargeStage, CriminalCase, Defendant, Judgment
from streha.justice.tests.conftest import DAY, offence, offences, reported, world  # noqa: F401
from streha.people.models import Person
from streha.testing.auth import reauthenticate
from streha.testing.factories import UserFactory

pytestmark = pytest.mark.django_db

LATER = date(2025, 6, 2)


@pytest.fixture
def history(world, reported):  # noqa: F811
    """Victims with multi-valued fields, unknowns and dates; a criminal case taken to a final
    judgment, with a reclassified charge and a corrected event."""
    users = world.users
    victims = csv_bytes(
        [
            row("V-1", ext_Agency="police", hte_Country="DE;IT"),
            row(
                "V-2",
                ext_Agency="police",
                vic_TraffickingStatus="ActualVictimOfTrafficking",
                ext_IdentifiedOn="2024-06-01",
                vic_MethodsOfControl="DebtBondage;WithholdsDocuments",
            ),
            row(
                "V-3",
                ext_Agency="police",
                prs_Birthdate="",
                prs_Gender="NonSpecifiedUnknown",
                prs_Citizenship="",
                vic_AgeWhenTrafficked="15",
                cas_Status="Closed",
                vic_TypeOfExploitation="",
                vic_MethodsOfControl="",
                ext_Municipality="",
                hte_Country="",
            ),
        ],
        header=[*HEADER, "vic_AgeWhenTrafficked"],
    )
    report = services.import_now(None, world.police, victims)
    assert (report.created, report.rejected) == (3, 0), report.errors
    case = reported
    justice.link_victim_case(
        users["investigator"], case, victim_case=Case.objects.get(person__reference="V-2")
    )
    prosecutor, liaison = users["prosecutor"], users["liaison"]
    filed = justice.record_event(prosecutor, case, kind="indictment_filed", occurred_on=DAY)
    justice.correct_event(
        prosecutor, case, event=filed, reason="Wrong date on file", occurred_on=LATER
    )
    first, second = Defendant.objects.filter(case=case).order_by("pk")
    charge = first.charges.get()
    justice.add_charge(
        prosecutor,
        case,
        defendant=first,
        offence=offence("trafficking"),
        stage=ChargeStage.INDICTMENT,
        recorded_on=LATER,
        counts=2,
        replaces=charge,
        victim_cases=list(case.victim_cases.all()),
    )
    justice.record_event(liaison, case, kind="main_trial", occurred_on=LATER)
    justice.record_judgment(
        liaison,
        case,
        defendant=first,
        instance="first",
        outcome="convicted",
        decided_on=LATER,
        final=True,
        sentence="imprisonment",
        months=30,
        document="PKR 1/25",
    )
    justice.record_judgment(
        liaison, case, defendant=second, instance="first", outcome="acquitted", decided_on=LATER
    )
    return case


def _wipe() -> None:
    """An empty system: no person, victim case or criminal case (agencies and catalogue stay)."""
    CriminalCase.objects.all().delete()
    ImportedRecord.objects.all().delete()
    Case.objects.all().delete()
    Person.objects.all().delete()


def test_export_import_export_gives_the_same_files(history, world):
    first = htcds_export.export_now(None, identities=True)
    stage = CriminalCase.objects.get().stage
    assert stage == "judged"
    assert first.victim_rows == 4  # the three imported and the justice world's victim
    records = [r["jus_Record"] for r in csv.DictReader(io.StringIO(first.justice.decode()))]
    assert records.count("Defendant") == 2 and records.count("Judgment") == 2
    assert records.count("Charge") == 3 and records.count("Event") >= 6
    _wipe()
    victims = services.import_now(None, world.police, first.victims, file_name="v.csv")
    assert (victims.created, victims.rejected) == (4, 0), victims.errors
    justice_report = services.import_now(
        None, world.police, first.justice, file_name="j.csv", profile="jus"
    )
    assert justice_report.rejected == 0, justice_report.errors
    assert justice_report.created == len(records)
    again = htcds_export.export_now(None, identities=True)
    assert again.victims == first.victims
    assert again.justice == first.justice
    case = CriminalCase.objects.get()
    assert case.stage == stage
    assert Judgment.objects.get(outcome="convicted").sentences.get().months == 30
    # Read twice, the justice file creates nothing new and says so.
    repeat = services.import_now(None, world.police, first.justice, profile="jus")
    assert (repeat.created, repeat.unchanged, repeat.rejected) == (0, len(records), 0)
    assert CriminalCase.objects.count() == 1 and Defendant.objects.count() == 2


def test_the_command_writes_both_files_and_is_audited(history, tmp_path):
    call_command("export", "htcds", "--out", str(tmp_path / "victims.csv"), "--identities")
    victims = (tmp_path / "victims.csv").read_text()
    justice_file = (tmp_path / "victims-justice.csv").read_text()
    assert victims.startswith("ext_Reference,ext_Agency,prs_FirstName")
    assert "SynthnameV-1" in victims and "Suspectus" in justice_file
    event = AuditEvent.objects.get(action="export", object_id="htcds")
    assert event.details["identities"] is True
    assert event.details["rows"] == event.details["victims"] + event.details["justice"]
    assert event.details["victims"] == 4
    named = AuditEvent.objects.get(action="export", object_type="people.person")
    assert named.details["count"] == 6  # four victims and two defendants


def test_a_pseudonymised_export_names_no_one_and_links_the_same_person(history):
    export = htcds_export.export_now(None, identities=False)
    victims = list(csv.DictReader(io.StringIO(export.victims.decode())))
    justice_rows = list(csv.DictReader(io.StringIO(export.justice.decode())))
    text = export.victims.decode() + export.justice.decode()
    secrets = ("SynthnameV-1", "Testfamily", "Suspectus", "1999-04-01", "V-1", "T-VICTIM01")
    for secret in (*secrets, "PR-1/25", "PP/I 1/25", "PKR 1/25"):  # names, dates, file numbers
        assert secret not in text
    v2 = Person.objects.get(reference="V-2")
    pseudonym = htcds_export.pseudonym(v2)
    assert pseudonym in {r["ext_Reference"] for r in victims}
    case_row = next(r for r in justice_rows if r["jus_Record"] == "CriminalCase")
    assert pseudonym in case_row["jus_VictimReferences"].split(";")
    # A victim with a birth date keeps the age, not the date.
    assert {r["vic_AgeWhenTrafficked"] for r in victims} >= {"15", "25"}
    assert not AuditEvent.objects.filter(action="export", object_type="people.person").exists()
    assert AuditEvent.objects.get(action="export", object_id="htcds").details["identities"] is False


def test_the_national_coordinator_downloads_it_through_a_job(client, history, world):
    admin = UserFactory(agency=world.coordinator, roles=[Role.AGENCY_ADMIN])
    client.force_login(admin)
    url = reverse("imports:htcds_export")
    assert client.get(url).status_code == 200
    # Without a fresh password and second factor, the POST is held for re-authentication.
    response = client.post(url, {"identities": "on"})
    assert response.status_code == 302 and "reauthenticate" in response["Location"]
    assert not Job.objects.filter(kind=htcds_export.JOB_KIND).exists()
    reauthenticate(client, admin)
    response = client.post(url, {"identities": "on"})
    job = Job.objects.get(kind=htcds_export.JOB_KIND)
    assert response.status_code == 302 and str(job.public_id) in response["Location"]
    assert execute_job(str(job.public_id)) == "succeeded"
    job.refresh_from_db()
    assert job.result["victims"] == 4
    download = client.get(reverse("imports:export_download", args=[job.public_id]))
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    assert sorted(archive.namelist()) == ["htcds-justice.csv", "htcds-victims.csv"]
    assert b"SynthnameV-1" in archive.read("htcds-victims.csv")
    assert not ExportFile.objects.exists()  # handed over once
    event = AuditEvent.objects.get(action="export", object_id="htcds")
    assert event.details["job"] == str(job.public_id) and event.details["identities"] is True


def test_an_analyst_exports_pseudonymised_only(client, world):
    analyst = world.users["analyst"]
    client.force_login(analyst)
    reauthenticate(client, analyst)
    url = reverse("imports:htcds_export")
    response = client.post(url, {"identities": "on"})
    assert response.status_code == 400
    # In the user's language (Albanian by default).
    assert "mbikëqyrësit dhe administratorët" in response.content.decode()
    assert not Job.objects.exists()
    assert client.post(url, {}).status_code == 302
    assert Job.objects.get(kind=htcds_export.JOB_KIND).params == {"identities": False}


def test_others_cannot_reach_the_export(client, world):
    for user in (world.users["investigator"], world.users["auditor"]):
        client.force_login(user)
        assert client.get(reverse("imports:htcds_export")).status_code == 404


def test_a_pseudonymised_export_leaves_out_the_city_and_keeps_the_codes(db):
    from streha.imports.tests.conftest import row as victim_row
    from streha.testing.factories import AgencyFactory, MunicipalityFactory

    owner = AgencyFactory(code="shelter-one", municipality=MunicipalityFactory())
    columns = {
        "hte_City": "Synthcity",
        "vic_RelationshipToTrafficker": "Acquainted",
        "vic_TypeOfSexExploitation": "Pornography",
        "hte_Date": "2023-11-20",
    }
    source = csv_bytes([victim_row("C-1", **columns)], header=[*HEADER, *columns])
    assert services.import_now(None, owner, source).created == 1
    export = htcds_export.export_now(None, identities=False)
    (victim,) = csv.DictReader(io.StringIO(export.victims.decode()))
    assert "Synthcity" not in export.victims.decode()
    assert victim["hte_City"] == ""
    assert victim["vic_RelationshipToTrafficker"] == "Acquainted"
    assert (victim["vic_TypeOfSexExploitation"], victim["hte_Date"]) == (
        "Pornography",
        "2023-11-20",
    )
    with_identities = htcds_export.export_now(None, identities=True)
    assert "Synthcity" in with_identities.victims.decode()
