import csv
import io

import pytest

from streha.accounts.models import Role
from streha.testing.factories import AgencyFactory, MunicipalityFactory

HEADER = [
    "ext_Reference",
    "ext_Agency",
    "prs_FirstName",
    "prs_SecondName",
    "prs_Birthdate",
    "prs_Gender",
    "prs_Citizenship",
    "vic_TraffickingStatus",
    "vic_TypeOfExploitation",
    "vic_MethodsOfControl",
    "ext_RegisteredOn",
    "ext_IdentifiedOn",
    "ext_Municipality",
    "hte_Country",
    "cas_Status",
]


def row(reference, **overrides):
    values = {
        "ext_Reference": reference,
        "ext_Agency": "",
        "prs_FirstName": f"Synthname{reference}",
        "prs_SecondName": "Testfamily",
        "prs_Birthdate": "1999-04-01",
        "prs_Gender": "Feminine",
        "prs_Citizenship": "AL",
        "vic_TraffickingStatus": "PossibleVictimOfTrafficking",
        "vic_TypeOfExploitation": "SexualExploitation;ForcedLabour",
        "vic_MethodsOfControl": "DebtBondage",
        "ext_RegisteredOn": "2024-03-01",
        "ext_IdentifiedOn": "",
        "ext_Municipality": "prishtina",
        "hte_Country": "XK",
        "cas_Status": "Active",
    }
    values.update(overrides)
    return values


def csv_bytes(rows, header=HEADER, encoding="utf-8") -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    for values in rows:
        writer.writerow([values.get(name, "") for name in header])
    return out.getvalue().encode(encoding)


@pytest.fixture
def owner(db):
    return AgencyFactory(code="shelter-one", municipality=MunicipalityFactory())


@pytest.fixture
def importer(make_user, owner):
    return make_user(Role.AGENCY_ADMIN, agency=owner)


@pytest.fixture
def run_jobs(monkeypatch):
    from django.core.management import call_command

    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )
    return lambda: call_command("worker", "--batch", "--interval", "0")
