"""The justice side as people do it: an investigator opens a criminal case from a victim case and
sends a criminal report; the prosecutor indicts two defendants, one charge reclassified; the
court liaison records a first-instance judgment and a final one; a protected witness is added,
and another prosecutor, the analyst and the auditor cannot learn who the witness is."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from streha.testing.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WITNESS_NAME = "Dëshmitarja"


@pytest.fixture
def staff(transactional_db):
    from streha.access.models import AccessGrant
    from streha.accounts.models import AgencyKind, Role
    from streha.cases.tests.factories import CaseFactory
    from streha.justice.catalogue import load_offences
    from streha.testing.factories import AgencyFactory, PersonFactory, UserFactory

    load_offences("XK")
    police = AgencyFactory(code="police", name="Police THB", kind=AgencyKind.POLICE)
    office = AgencyFactory(code="office", name="State Prosecutor", kind=AgencyKind.PROSECUTION)
    court = AgencyFactory(code="court", name="Basic Court", kind=AgencyKind.COURT)
    nc = AgencyFactory(code="nc", name="Coordinator", kind=AgencyKind.NATIONAL_COORDINATOR)
    users = {
        "investigator": UserFactory(username="inv", agency=police, roles=[Role.INVESTIGATOR]),
        "prosecutor": UserFactory(username="pros", agency=office, roles=[Role.PROSECUTOR]),
        "other": UserFactory(username="pros2", agency=office, roles=[Role.PROSECUTOR]),
        "liaison": UserFactory(username="liaison", agency=court, roles=[Role.COURT_LIAISON]),
        "analyst": UserFactory(username="analyst", agency=nc, roles=[Role.ANALYST]),
        "auditor": UserFactory(username="auditor", agency=nc, roles=[Role.AUDITOR]),
    }
    victim_case = CaseFactory(owner_agency=police, person=PersonFactory(owner_agency=police))
    suspects = [
        PersonFactory(owner_agency=police, given_name=name, reference=f"T-SUSPECT{i}")
        for i, name in enumerate(("Arben", "Blerta"), start=1)
    ]
    witness = PersonFactory(owner_agency=police, given_name=WITNESS_NAME, reference="T-WITNESS1")
    # The police shared the cooperating witness's identity with the office.
    AccessGrant.objects.create(
        person=witness, agency=office, field_groups=["identity"], reason="witness"
    )
    return {"users": users, "victim_case": victim_case, "suspects": suspects, "witness": witness}


def sign_in(browser: Browser, base: str, username: str) -> Page:
    page = browser.new_context(locale="sq-AL").new_page()
    page.goto(f"{base}/accounts/login/")
    page.locator("#id_login").fill(username)
    page.locator("#id_password").fill(TEST_PASSWORD)
    page.locator("form[action='/accounts/login/'] button[type=submit]").click()
    page.wait_for_load_state()
    return page


def step(page: Page, name: str, fields: dict, *, query: str = "") -> None:
    """Open a step's form in the case page's panel, fill it, submit it, wait for the body."""
    page.locator(f"#next-steps a[data-step='{name}{query}']").click()
    form = page.locator(f"#form-{name}")
    expect(form).to_be_visible()
    for selector, value in fields.items():
        field = form.locator(selector)
        if isinstance(value, bool):
            field.check()
        elif field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    with page.expect_response(lambda r: f"/{name}/" in r.url and r.request.method == "POST"):
        page.locator(f"#submit-{name}").click()
    expect(page.locator("#action-form")).to_have_count(0)


def test_criminal_case_from_report_to_final_judgment(live_server, browser: Browser, staff):
    from streha.justice.models import Charge, CriminalCase, Defendant, Offence, VictimCaseShare

    base = live_server.url
    users = staff["users"]

    # The investigator, on the victim case page, shares the victim's identity with the
    # prosecution office, then opens the criminal case from there and reports it.
    police = sign_in(browser, base, "inv")
    victim_case = staff["victim_case"]
    police.goto(f"{base}/cases/{victim_case.public_id}/")
    police.locator("#step-share_with_prosecution").click()
    police.locator("#id_office").select_option("office")
    police.locator("#share-form input[value='identity']").check()
    police.locator("#submit-share").click()
    expect(police).to_have_url(f"{base}/cases/{victim_case.public_id}/")
    police.locator("#step-open_criminal_case").click()
    expect(police.locator("#id_victim_case")).to_have_count(0)  # it is the case we came from
    police.locator("#id_opened_on").fill("2025-03-03")
    police.locator("#id_prosecution_office").select_option("office")
    police.locator("#submit-open").click()
    expect(police).to_have_url(re.compile(r"/justice/[0-9a-f-]{36}/$"))
    case = CriminalCase.objects.get()
    assert list(case.victim_cases.all()) == [victim_case]
    assert VictimCaseShare.objects.get().field_groups == ["identity"]
    trafficking = Offence.objects.get(key="trafficking", criminal_code__code="06/L-074")
    for suspect in staff["suspects"]:
        step(
            police,
            "defendant",
            {
                "#id_person_reference": suspect.reference,
                "#id_roles_2": True,
                "#id_detention": "none",
            },
        )
    for defendant in Defendant.objects.filter(case=case).order_by("pk"):
        step(
            police,
            "charge",
            {
                "#id_defendant": str(defendant.public_id),
                "#id_offence": str(trafficking.pk),
                "#id_stage": "report",
                "#id_recorded_on": "2025-03-03",
            },
        )
    step(police, "event", {"#id_occurred_on": "2025-03-04"}, query="?kind=criminal_report")
    expect(police.locator("#case-stage")).to_have_text("Raportuar te prokurori")

    # The prosecutor takes the case, indicts, reclassifies one charge, adds a witness.
    prosecutor = sign_in(browser, base, "pros")
    prosecutor.goto(f"{base}/justice/tasks/")
    expect(prosecutor.locator("body")).to_contain_text(case.reference)
    prosecutor.goto(f"{base}/justice/{case.public_id}/")
    step(prosecutor, "assign", {"#id_prosecutor": "pros"})
    step(prosecutor, "numbers", {"#id_prosecution_number": "PP/I 12/25", "#id_court": "court"})
    step(prosecutor, "event", {"#id_occurred_on": "2025-04-01"}, query="?kind=indictment_filed")
    first_charge = Charge.objects.filter(defendant__case=case).order_by("pk").first()
    lesser = Offence.objects.get(key="facilitating_prostitution", criminal_code__code="06/L-074")
    step(
        prosecutor,
        "charge",
        {
            "#id_defendant": str(first_charge.defendant.public_id),
            "#id_offence": str(lesser.pk),
            "#id_stage": "indictment",
            "#id_recorded_on": "2025-04-01",
            "#id_replaces": str(first_charge.pk),
        },
    )
    expect(prosecutor.locator("#flag-downgraded")).to_be_visible()
    step(
        prosecutor,
        "witness",
        {
            "#id_kind": "cooperative",
            "#id_person_reference": "T-WITNESS1",
            "#id_added_on": "2025-04-02",
        },
    )
    expect(prosecutor.locator("#witness-list")).to_contain_text("Dëshmitari A")
    expect(prosecutor.locator("#case-body")).not_to_contain_text(WITNESS_NAME)

    # The court liaison records the trial, a first-instance judgment and a final one.
    court = sign_in(browser, base, "liaison")
    court.goto(f"{base}/justice/{case.public_id}/")
    step(court, "event", {"#id_occurred_on": "2025-05-01"}, query="?kind=indictment_confirmed")
    step(court, "event", {"#id_occurred_on": "2025-06-01"}, query="?kind=main_trial")
    defendants = list(Defendant.objects.filter(case=case).order_by("pk"))
    step(
        court,
        "judgment",
        {
            "#id_defendant": str(defendants[1].public_id),
            "#id_instance": "first",
            "#id_outcome": "convicted",
            "#id_decided_on": "2025-07-01",
            "#id_sentence": "imprisonment",
            "#id_months": "36",
        },
    )
    expect(court.locator("#flag-below-minimum")).to_be_visible()
    step(court, "event", {"#id_occurred_on": "2025-07-10"}, query="?kind=appeal_filed")
    step(
        court,
        "judgment",
        {
            "#id_defendant": str(defendants[1].public_id),
            "#id_instance": "appeal",
            "#id_outcome": "convicted",
            "#id_decided_on": "2025-09-01",
            "#id_final": True,
            "#id_sentence": "imprisonment",
            "#id_months": "60",
        },
    )
    expect(court.locator("#case-stage")).to_have_text("E formës së prerë")

    # The handling prosecutor resolves the pseudonym with a reason.
    prosecutor.goto(f"{base}/justice/{case.public_id}/")
    prosecutor.locator("#resolve-1").click()
    prosecutor.locator("#id_reason").fill("Summons for the main trial hearing.")
    prosecutor.locator("#submit-resolve").click()
    expect(prosecutor.locator("#resolved-name")).to_contain_text(WITNESS_NAME)

    # Another prosecutor, the analyst and the auditor cannot learn who the witness is.
    witness_id = case.witnesses.get().public_id
    other = sign_in(browser, base, "pros2")
    other.goto(f"{base}/justice/{case.public_id}/")
    expect(other.locator("#witness-list")).to_contain_text("Dëshmitari A")
    expect(other.locator("#resolve-1")).to_have_count(0)
    expect(other.locator("body")).not_to_contain_text(WITNESS_NAME)
    refused = other.goto(f"{base}/justice/witnesses/{witness_id}/resolve/")
    assert refused.status == 404
    for username, paths in (
        ("analyst", ["/justice/statistics/?year=2025", f"/justice/{case.public_id}/"]),
        ("auditor", ["/audit/", f"/justice/{case.public_id}/"]),
    ):
        page = sign_in(browser, base, username)
        for path in paths:
            page.goto(f"{base}{path}")
            expect(page.locator("body")).not_to_contain_text(WITNESS_NAME)
        assert page.goto(f"{base}/justice/witnesses/{witness_id}/resolve/").status == 404
    assert users["analyst"].pk and users["auditor"].pk
