"""The work lists people live in: the case list (person, assignee, due, flags, sort, one
form, export), the task list (case, person, days overdue) and the referral inbox (labelled
rows, late answers)."""

from datetime import date, timedelta

import pytest
from django.utils import timezone, translation

from streha.accounts.models import AgencyKind, Role
from streha.cases import presentation, services
from streha.cases.models import Case, Referral, ReferralStatus, Status, Task, TaskKind
from streha.testing.factories import AgencyFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    """The tests read the English source messages (the default language is Albanian)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def _open(worker, ngo, given_name, **case_fields):
    person = PersonFactory(owner_agency=ngo, given_name=given_name, family_name="Testi")
    case = services.open_case(worker, person, source="ngo", first_contact_on=timezone.localdate())
    if case_fields:
        Case.objects.filter(pk=case.pk).update(**case_fields)
    return case


def _row_of(body: str, reference: str) -> str:
    return body.split(f">{reference}</a>")[1].split("</tr>")[0]


def test_case_rows_show_the_person_only_where_the_identity_may_be_seen(
    client, worker, ngo, make_user
):
    own = _open(worker, ngo, "Vjollca")
    # A case of another agency referred to this one without the identity group, accepted.
    other = AgencyFactory(kind=AgencyKind.SOCIAL_WORK)
    sender = make_user(Role.CASE_WORKER, agency=other)
    stranger = PersonFactory(owner_agency=other, given_name="Hidden", family_name="Name")
    shared = services.open_case(
        sender, stranger, source="ngo", first_contact_on=timezone.localdate()
    )
    referral = services.send_referral(sender, shared, to_agency=ngo, field_groups=["narrative"])
    services.answer_referral(worker, referral, status=ReferralStatus.ACCEPTED)
    client.force_login(worker)
    body = client.get("/cases/").content.decode()
    assert "Vjollca Testi" in _row_of(body, own.reference)
    row = _row_of(body, shared.reference)  # listed, by reference only
    assert 'class="person">—<' in row
    assert "Hidden" not in body and "Name" not in row


def test_case_rows_show_assignee_due_and_flags(client, worker, ngo, make_user):
    today = timezone.localdate()
    colleague = make_user(Role.CASE_WORKER, agency=ngo, first_name="Rina", last_name="Osmani")
    case = _open(
        worker,
        ngo,
        "Flagged",
        assigned_to=colleague,
        is_child=True,
        status=Status.PRESUMED_VICTIM,
        reflection_ends_on=today + timedelta(days=3),
        needs_urgent_shelter=True,
    )
    Task.objects.create(
        case=case, agency=ngo, kind=TaskKind.PLAN_REVIEW, due_on=today - timedelta(days=800)
    )
    client.force_login(worker)
    row = _row_of(client.get("/cases/").content.decode(), case.reference)
    assert "Rina Osmani" in row
    assert "2 years overdue" in row
    for flag in (
        "Child without guardian",
        "Reflection period ending",
        "Overdue task",
        "Urgent shelter",
    ):
        assert flag in row, flag


def test_a_quiet_case_has_no_flags(client, worker, ngo):
    case = _open(worker, ngo, "Quiet")
    client.force_login(worker)
    row = _row_of(client.get("/cases/").content.decode(), case.reference)
    assert 'class="flags">—<' in row


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("reference", ["C-A", "C-B", "C-C"]),
        ("-reference", ["C-C", "C-B", "C-A"]),
        ("first_contact", ["C-B", "C-C", "C-A"]),
        ("due", ["C-C", "C-A", "C-B"]),
        ("stage", ["C-A", "C-C", "C-B"]),
    ],
)
def test_the_case_list_sorts_on_the_server(client, worker, ngo, sort, expected):
    today = timezone.localdate()
    plan = {
        "C-A": (today - timedelta(days=1), Status.FIRST_CONTACT, today + timedelta(days=5)),
        "C-B": (today - timedelta(days=9), Status.IDENTIFIED, None),
        "C-C": (today - timedelta(days=5), Status.SCREENED, today - timedelta(days=2)),
    }
    for reference, (first_contact, status, due) in plan.items():
        case = _open(worker, ngo, reference)
        Case.objects.filter(pk=case.pk).update(
            reference=reference, first_contact_on=first_contact, status=status
        )
        if due:
            Task.objects.create(case=case, agency=ngo, kind=TaskKind.PLAN_REVIEW, due_on=due)
    client.force_login(worker)
    for response in (client.get(f"/cases/?sort={sort}"), client.post("/cases/", {"sort_by": sort})):
        body = response.content.decode()
        found = sorted(expected, key=body.index)
        assert found == expected


def test_an_unknown_sort_key_is_the_default_order(client, worker, ngo):
    client.force_login(worker)
    response = client.get("/cases/?sort=person__given_name")
    assert response.status_code == 200


def test_equal_sort_values_keep_one_order_across_pages(client, worker, ngo):
    """Thirty cases with the same first-contact date: the two pages hold every case once."""
    for number in range(30):
        _open(worker, ngo, f"Same{number}")
    client.force_login(worker)
    seen = []
    for page in (1, 2):
        body = client.post("/cases/", {"sort": "first_contact", "page": page}).content.decode()
        seen += [part.split("<")[0] for part in body.split('<td><a href="/cases/')[1:]]
    assert len(seen) == 30 and len(set(seen)) == 30


def test_filters_and_search_are_one_form_and_the_export_link_keeps_the_filters(client, worker, ngo):
    client.force_login(worker)
    body = client.get("/cases/?status=screened&sort=-due").content.decode()
    form = body.split('id="case-list-form"')[1].split("</form>")[0]
    assert 'name="q"' in form and 'name="status"' in form and 'name="source"' in form
    assert 'name="sort" value="-due"' in form
    assert body.count("<form") - body.count('class="inline"') >= 1
    assert 'method="get"' not in form
    assert "work_list=cases&amp;status=screened" in body
    export = client.get("/imports/exports/?work_list=cases&status=screened").content.decode()
    assert 'value="screened"' in export


def test_the_api_orders_by_a_whitelisted_key_and_refuses_others(api_client, worker, ngo):
    for reference in ("C-B", "C-A"):
        case = _open(worker, ngo, reference)
        Case.objects.filter(pk=case.pk).update(reference=reference)
    api_client.force_authenticate(worker)
    body = api_client.get("/api/v1/cases/?ordering=reference").json()
    assert [row["reference"] for row in body["results"]] == ["C-A", "C-B"]
    body = api_client.get("/api/v1/cases/?ordering=-reference").json()
    assert [row["reference"] for row in body["results"]] == ["C-B", "C-A"]
    refused = api_client.get("/api/v1/cases/?ordering=person")
    assert refused.status_code == 400 and "ordering" in refused.json()["error"]["fields"]


def test_the_task_list_shows_case_person_and_how_long_overdue(client, worker, ngo):
    today = timezone.localdate()
    case = _open(worker, ngo, "Tasked")
    Task.objects.create(
        case=case, agency=ngo, kind=TaskKind.PLAN_REVIEW, due_on=today - timedelta(days=3 * 365)
    )
    Task.objects.create(case=case, agency=ngo, kind=TaskKind.FOLLOW_UP, due_on=today)
    client.force_login(worker)
    body = client.get("/cases/tasks/").content.decode()
    overdue = body.split('id="overdue-heading"')[1].split('id="soon-heading"')[0]
    assert "3 years overdue" in overdue and "overdue-long" in overdue
    assert case.reference in overdue and "Tasked Testi" in overdue
    soon = body.split('id="soon-heading"')[1]
    assert "due today" in soon and "overdue-long" not in soon
    assert "work_list=tasks" in body


def test_the_inbox_labels_rows_by_agency_until_accepted_and_marks_late_answers(
    client, worker, ngo, make_user
):
    today = timezone.localdate()
    receiving = AgencyFactory(kind=AgencyKind.SOCIAL_WORK, name="Receiving CSW")
    receiver = make_user(Role.CASE_WORKER, agency=receiving)
    case = _open(worker, ngo, "Referred")
    referral = services.send_referral(worker, case, to_agency=receiving, field_groups=["identity"])
    Referral.objects.filter(pk=referral.pk).update(answer_due_on=today - timedelta(days=400))
    client.force_login(receiver)
    body = client.get("/cases/referrals/").content.decode()
    row = body.split('id="inbox"')[1].split("</tr>")[1]
    assert "Referral from" in row and str(ngo) in row
    assert case.reference not in row and "Referred" not in row
    assert "1 year overdue" in row
    referral.refresh_from_db()
    services.answer_referral(receiver, referral, status=ReferralStatus.ACCEPTED)
    row = client.get("/cases/referrals/").content.decode().split('id="inbox"')[1].split("</tr>")[1]
    assert case.reference in row and "Referred Testi" in row
    assert "overdue" not in row  # answered: the deadline no longer counts


@pytest.mark.parametrize(
    ("days", "words"),
    [
        (0, "due today"),
        (-3, "due in 3 days"),
        (1, "1 day overdue"),
        (45, "45 days overdue"),
        (90, "3 months overdue"),
        (400, "1 year overdue"),
        (3 * 365 + 2, "3 years overdue"),
    ],
)
def test_due_dates_in_words(days, words):
    today = date(2026, 11, 30)
    overdue, text = presentation.due_words(today - timedelta(days=days), today)
    assert text == words
    assert overdue == max(days, 0)


def test_the_task_list_reads_tasks_counts_and_notifications_in_one_query(worker, ngo):
    """``selectors.my_work``: both lists, both bounded counts and the unread notifications in
    ONE query, the same rows as the separate queries; of each task's case only its ids,
    reference and person are read (no JSON list decoded per row)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from streha.cases import selectors
    from streha.cases.models import Notification
    from streha.web.selectors import bounded_count

    today = timezone.localdate()
    case = _open(worker, ngo, "Tasked")
    for days in (-40, -3, 0, 1, 6, 9):
        Task.objects.create(
            case=case, agency=ngo, kind=TaskKind.FOLLOW_UP, due_on=today + timedelta(days=days)
        )
    Notification.objects.create(user=worker, message="A referral was answered.")
    selectors.my_work(worker)  # the user's roles, read once
    with CaptureQueriesContext(connection) as queries:
        work = selectors.my_work(worker, limit=2)
    reads = [q["sql"] for q in queries if q["sql"].startswith("SELECT")]
    assert len(reads) == 1, reads
    assert '"cases_case"."reference"' in reads[0]
    assert '"cases_case"."exploitation_types"' not in reads[0]
    tasks = selectors.tasks_for(worker)
    overdue = tasks.filter(due_on__lt=today)
    soon = tasks.filter(due_on__gte=today, due_on__lte=today + timedelta(days=7))
    assert work.overdue == list(overdue[:2]) and work.due_soon == list(soon[:2])
    assert work.overdue_count == bounded_count(overdue)
    assert work.due_soon_count == bounded_count(soon)
    assert work.overdue_count >= 2 and work.due_soon_count >= 3
    assert [n.message for n in work.notifications] == ["A referral was answered."]
    with CaptureQueriesContext(connection) as queries:
        assert [t.case.reference for t in work.overdue + work.due_soon] == [case.reference] * 4
        assert {t.case.person_id for t in work.overdue} == {case.person_id}
    assert len(queries) == 0


def test_the_inbox_and_outbox_read_only_the_cases_reference_and_no_query_per_row(
    client, worker, ngo, make_user
):
    """Of each referral's case the inbox and outbox read its ids, reference and person, never
    its other columns (JSON lists decoded per row), and none of them later (a query per row)."""
    from django.db import connection

    receiving = AgencyFactory(kind=AgencyKind.SOCIAL_WORK)
    receiver = make_user(Role.CASE_WORKER, agency=receiving)

    def page_reads(user) -> list[str]:
        executed: list[str] = []

        def count(execute, sql, params, many, context):
            executed.append(sql)
            return execute(sql, params, many, context)

        client.force_login(user)
        client.get("/cases/referrals/")  # the session's first renewal is not the page's
        with connection.execute_wrapper(count):
            assert client.get("/cases/referrals/").status_code == 200
        return executed

    def refer(name):
        case = _open(worker, ngo, name)
        referral = services.send_referral(worker, case, to_agency=receiving, field_groups=[])
        services.answer_referral(receiver, referral, status=ReferralStatus.ACCEPTED)

    refer("First")
    sender_one, receiver_one = page_reads(worker), page_reads(receiver)
    for name in ("Second", "Third", "Fourth"):
        refer(name)
    sender_four, receiver_four = page_reads(worker), page_reads(receiver)
    assert len(sender_four) == len(sender_one) and len(receiver_four) == len(receiver_one)
    joined = [sql for sql in sender_four + receiver_four if 'JOIN "cases_case"' in sql]
    assert joined
    for sql in joined:
        assert '"cases_case"."reference"' in sql
        assert '"cases_case"."exploitation_types"' not in sql
