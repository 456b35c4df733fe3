import pytest

from streha.accounts.models import Role
from streha.testing.factories import PersonFactory
from streha.web import selectors


@pytest.mark.django_db
def test_my_work_counts_are_bounded(client, make_user, agency, monkeypatch):
    """Large numbers read "N+" so that the home page costs the same at any data volume."""
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    for _ in range(5):
        PersonFactory(owner_agency=agency)
    from streha.people.models import Person

    assert selectors.bounded_count(Person.objects.all()) == "3+"
    assert selectors.bounded_count(Person.objects.all()[:0]) == 0
    assert selectors.bounded_count(Person.objects.filter(pk__in=[])) == 0
    client.force_login(make_user(Role.CASE_WORKER, agency=agency))
    page = client.get("/").content.decode()
    assert "3+" in page


@pytest.mark.django_db
def test_without_two_factor_figure_links_to_those_accounts(client, make_user, agency):
    from allauth.mfa.models import Authenticator

    admin = make_user(Role.AGENCY_ADMIN, agency=agency, username="the.admin")
    make_user(Role.CASE_WORKER, agency=agency, username="has.totp")
    make_user(Role.CASE_WORKER, agency=agency, username="no.totp")
    for username in ("the.admin", "has.totp"):
        Authenticator.objects.create(
            user=type(admin).objects.get(username=username),
            type=Authenticator.Type.TOTP,
            data={},
        )
    client.force_login(admin)
    home = client.get("/").content.decode()
    assert '<a href="/staff/?two_factor=missing">1</a>' in home
    listed = client.get("/staff/?two_factor=missing").content.decode()
    assert "no.totp" in listed and "has.totp" not in listed
    assert "has.totp" in client.get("/staff/").content.decode()


@pytest.mark.django_db
def test_bounded_counts_read_every_figure_in_one_query(agency, monkeypatch):
    """A panel's figures in one round trip, each the same as its own ``bounded_count``."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from streha.people.models import Person

    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    for _ in range(5):
        PersonFactory(owner_agency=agency)
    querysets = [
        Person.objects.all(),
        Person.objects.filter(owner_agency=agency)[:2],
        Person.objects.filter(pk__in=[]),
        Person.objects.filter(pk=Person.objects.order_by("pk").first().pk),
    ]
    with CaptureQueriesContext(connection) as queries:
        counts = selectors.bounded_counts(*querysets)
    assert len(queries) == 1
    assert counts == [selectors.bounded_count(queryset) for queryset in querysets]
    assert counts == ["3+", 2, 0, 1]


@pytest.mark.django_db
def test_the_case_and_person_panels_read_their_figures_in_one_query_each(
    make_user, agency, monkeypatch
):
    """The home page's "Victim cases" panel (four counts) and "Persons" panel (two) each cost
    one query, with the figures the separate counts gave."""
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from streha.access import policy
    from streha.access.models import BreakGlassGrant
    from streha.cases import selectors as case_selectors
    from streha.cases.models import ReferralStatus, Task, TaskKind
    from streha.cases.tests.factories import CaseFactory
    from streha.people import selectors as people_selectors
    from streha.people.models import Person

    worker = make_user(Role.CASE_WORKER, agency=agency)
    today = timezone.localdate()
    case = CaseFactory(owner_agency=agency)
    for days in (-3, -1, 0, 2, 30):
        Task.objects.create(
            case=case, agency=agency, kind=TaskKind.FOLLOW_UP, due_on=today + timedelta(days=days)
        )
    with CaptureQueriesContext(connection) as queries:
        [cases_panel] = case_selectors.my_work_panels(worker)
    counting = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert len(counting) == 1, counting
    tasks = case_selectors.tasks_for(worker)
    expected = [
        selectors.bounded_count(tasks.filter(due_on__lt=today)),
        selectors.bounded_count(
            tasks.filter(due_on__gte=today, due_on__lte=today + timedelta(days=7))
        ),
        selectors.bounded_count(
            policy.referrals_visible_to(worker).filter(
                to_agency_id=worker.agency_id, status=ReferralStatus.SENT
            )
        ),
        selectors.bounded_count(
            policy.notifications_visible_to(worker).filter(read_at__isnull=True)
        ),
    ]
    assert [figure[1] for figure in cases_panel.figures] == expected
    assert expected[:2] == [2, 2]

    for _ in range(4):
        PersonFactory(owner_agency=agency)
    with CaptureQueriesContext(connection) as queries:
        [persons_panel] = people_selectors.my_work_panels(worker)
    counting = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert len(counting) == 1, counting
    held = selectors.bounded_count(Person.objects.filter(owner_agency_id=agency.pk))
    figures = [figure[1] for figure in persons_panel.figures]
    if policy.can_break_glass(worker):
        assert figures == [held, BreakGlassGrant.objects.active().filter(user=worker).count()]
    else:
        assert figures == [held]
