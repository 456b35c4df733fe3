"""The NRM as people do it: an NGO worker registers a presumed victim, screens them and refers
them to a shelter; the shelter accepts and sees only what was shared; a police user of a third
agency cannot find the person."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from streha.testing.factories import TEST_PASSWORD
from tests.browser.conftest import check_page, new_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME = ("Vjollca", "Krasniqi")
PLACE = "Bar near the bus station"


@pytest.fixture
def staff(transactional_db):
    from streha.accounts.models import AgencyKind, Role
    from streha.cases.models import Questionnaire
    from streha.cases.questionnaires import seed
    from streha.testing.factories import AgencyFactory, UserFactory

    seed(Questionnaire)  # data from a migration: transactional tests before may have flushed it

    ngo = AgencyFactory(code="ngo", name="NGO Hope", kind=AgencyKind.SHELTER)
    shelter = AgencyFactory(code="shelter", name="Safe House", kind=AgencyKind.SHELTER)
    police = AgencyFactory(code="police", name="Police THB", kind=AgencyKind.POLICE)
    return {
        "ngo": UserFactory(username="ngo.worker", agency=ngo, roles=[Role.CASE_WORKER]),
        "shelter": UserFactory(username="shelter.worker", agency=shelter, roles=[Role.CASE_WORKER]),
        "police": UserFactory(username="police.user", agency=police, roles=[Role.INVESTIGATOR]),
    }


def sign_in(browser: Browser, base: str, username: str) -> Page:
    page = new_page(browser)
    page.goto(f"{base}/accounts/login/")
    check_page(page)
    page.locator("#id_login").fill(username)
    page.locator("#id_password").fill(TEST_PASSWORD)
    page.locator("form[action='/accounts/login/'] button[type=submit]").click()
    check_page(page)
    return page


def test_ngo_refers_presumed_victim_to_shelter(live_server, browser: Browser, staff):
    base = live_server.url
    # The NGO worker registers the person and opens the case.
    ngo = sign_in(browser, base, "ngo.worker")
    ngo.goto(f"{base}/persons/new/")
    check_page(ngo)
    ngo.locator("#id_given_name").fill(NAME[0])
    ngo.locator("#id_family_name").fill(NAME[1])
    ngo.locator("#main form button[type=submit]").first.click()
    expect(ngo).to_have_url(re.compile(r"/persons/[0-9a-f-]{36}/$"))
    check_page(ngo)
    person_id = ngo.url.rstrip("/").rsplit("/", 1)[1]
    ngo.goto(f"{base}/cases/new/{person_id}/")
    check_page(ngo)
    ngo.locator("#id_source").select_option("ngo")
    ngo.locator("#id_first_contact_on").fill("2026-01-10")
    ngo.locator("#id_first_contact_place").fill(PLACE)
    ngo.locator("input[name=exploitation_types][value=SexualExploitation]").check()
    ngo.locator("#open-case-submit").click()
    expect(ngo).to_have_url(re.compile(r"/cases/[0-9a-f-]{36}/$"))
    case_url = ngo.url
    check_page(ngo)

    # Screening against the UNODC sexual-exploitation indicators: the step opens its form in
    # place (htmx), and saving swaps the case body.
    ngo.locator("#next-steps a[href$='questionnaire=unodc-sexual-exploitation']").click()
    form = ngo.locator("#form-screen")
    form.locator("input[value=no_control_of_earnings]").check()
    form.locator("input[value=escorted]").check()
    check_page(ngo)
    form.locator("#submit-screen").click()
    expect(ngo.locator("#recommendation")).to_be_visible()
    check_page(ngo)
    ngo.locator("#step-confirm").click()
    ngo.locator("#form-confirm #id_presumed").select_option("yes")
    ngo.locator("#submit-confirm").click()
    expect(ngo.locator("#reflection-ends")).to_be_visible()
    check_page(ngo)

    # Refer to the shelter, sharing identity only. Sent without a receiving agency first: the
    # refusal (400) is shown in place, in the open form, and nothing is sent.
    ngo.locator("#step-refer").click()
    refer = ngo.locator("#form-refer")
    refer.locator("#submit-refer").click()
    expect(ngo.locator("#form-refer .field-error")).to_be_visible()
    # GOV.UK's pattern: the summary at the top of the form takes the focus, links to the field,
    # and the title says there is an error.
    expect(ngo.locator("#form-refer [data-error-summary]")).to_be_focused()
    expect(ngo.locator('#form-refer [data-error-summary] a[href="#id_to_agency"]')).to_be_visible()
    expect(ngo).to_have_title(re.compile(r"^Gabim: "))
    expect(ngo.locator("#referral-list")).not_to_contain_text("Safe House")
    check_page(ngo)
    refer.locator("#id_to_agency").select_option(label="Safe House")
    refer.locator("input[name=field_groups][value=identity]").check()
    refer.locator("#submit-refer").click()
    expect(ngo.locator("#referral-list")).to_contain_text("Safe House")
    check_page(ngo)

    # The shelter worker accepts and sees the name, not the narrative data.
    shelter = sign_in(browser, base, "shelter.worker")
    shelter.goto(f"{base}/cases/referrals/")
    check_page(shelter)
    shelter.locator(".referral-link").first.click()
    check_page(shelter)
    expect(shelter.locator("#id_status")).to_have_value("")  # a decision starts unanswered
    expect(shelter.locator("#shared-groups")).to_contain_text("Identiteti")  # in words, in Albanian
    shelter.locator("#id_status").select_option("accepted")
    shelter.locator("#answer-submit").click()
    check_page(shelter)
    shelter.locator("#open-case").click()
    expect(shelter.locator("#person-name")).to_contain_text(" ".join(NAME))
    expect(shelter.locator("body")).not_to_contain_text(PLACE)
    expect(shelter.locator("#stage-forms")).to_have_count(0)
    check_page(shelter)

    # The police user of a third agency finds nothing and cannot open the case.
    police = sign_in(browser, base, "police.user")
    police.goto(f"{base}/persons/")
    check_page(police)
    police.locator("#person-search").fill(" ".join(NAME))
    police.locator("#person-search").press("Enter")
    expect(police.locator("#person-rows")).not_to_contain_text(NAME[0])
    check_page(police)
    police.goto(f"{base}/cases/")
    check_page(police)
    police.locator("#case-search").fill(" ".join(NAME))
    police.locator("#case-search").press("Enter")
    expect(police.locator("#case-rows")).not_to_contain_text("C-")
    check_page(police)
    response = police.goto(case_url)
    assert response.status == 404
    assert NAME[0] not in police.content()
    check_page(police)
