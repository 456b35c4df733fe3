"""The HTCDS columns no other import test fills (issue 12's list): ``prs_IdentityNumber``,
``prs_MobilePhone``, ``vic_MethodOfRecruitment`` and ``hte_Type``, read into the record and
written back by the HTCDS row, in any column order."""

import pytest

from streha.audit import read_context
from streha.cases.models import Case
from streha.imports import htcds, services
from streha.imports.tests.conftest import HEADER, csv_bytes, row

pytestmark = pytest.mark.django_db

EXTRA = {
    "prs_IdentityNumber": "T00000001A",
    "prs_MobilePhone": "+38344000001",
    "vic_MethodOfRecruitment": "AtWork;ThroughOnlineSocialNetworks",
    "hte_Type": "Transit",
    "hte_Country": "MK;RS",
}


def test_identity_phone_recruitment_and_place_type_are_kept_and_written_back(owner):
    header = list(
        reversed(
            [
                *HEADER,
                "prs_IdentityNumber",
                "prs_MobilePhone",
                "vic_MethodOfRecruitment",
                "hte_Type",
            ]
        )
    )
    report = services.import_now(None, owner, csv_bytes([row("I1", **EXTRA)], header=header))
    assert (report.created, report.rejected, report.unknown_columns) == (1, 0, []), report.errors
    case = Case.objects.select_related("person", "owner_agency").get()
    assert case.transit_countries == ["MK", "RS"] and case.exploitation_countries == []
    assert case.recruitment_methods == ["AtWork", "ThroughOnlineSocialNetworks"]
    with read_context.testing_scope():
        assert case.person.personal_number == "T00000001A"
        assert case.person.phone == "+38344000001"
        written = htcds.row_of(case.person, case)
    assert {name: written[name] for name in EXTRA} == EXTRA


def test_an_unknown_place_type_rejects_the_row_by_column(owner):
    report = services.dry_run(
        None, owner, csv_bytes([row("I2", hte_Type="Holiday")], header=[*HEADER, "hte_Type"])
    )
    assert report.rejected == 1 and report.errors[0][:2] == [2, "hte_Type"]
    assert "Holiday" not in report.errors[0][2]
