"""Case notifications: listed for their owner only, marked read one by one or all at once,
through the API and the "my work on cases" page (plain forms, no JavaScript needed). Nobody
marks, or learns of, anyone else's."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from streha.accounts.models import Role
from streha.cases import services
from streha.cases.models import Notification
from streha.testing.admin_fixtures import _english  # noqa: F401 - messages read in English

pytestmark = pytest.mark.django_db


@pytest.fixture
def worker(make_user, agency):
    return make_user(Role.CASE_WORKER, agency=agency)


@pytest.fixture
def colleague(make_user, agency):
    return make_user(Role.SUPERVISOR, agency=agency)


def _notice(user, message="Your agency has received a new referral.", read=False, **kwargs):
    return Notification.objects.create(
        user=user, message=message, read_at=timezone.now() if read else None, **kwargs
    )


def _unread(user):
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


# --- The service ------------------------------------------------------------------------------


def test_service_marks_only_the_users_own_unread(worker, colleague):
    mine = [_notice(worker), _notice(worker)]
    earlier = timezone.now() - timedelta(days=3)
    already = _notice(worker)
    Notification.objects.filter(pk=already.pk).update(read_at=earlier)
    theirs = _notice(colleague)

    assert services.mark_notifications_read(worker, ids=[mine[0].pk, theirs.pk]) == 1
    assert _unread(worker) == 1 and _unread(colleague) == 1
    assert services.mark_notifications_read(worker) == 1
    assert _unread(worker) == 0 and _unread(colleague) == 1
    already.refresh_from_db()
    assert already.read_at == earlier  # read once, not stamped again
    assert services.mark_notifications_read(worker, ids=[]) == 0


# --- The API --------------------------------------------------------------------------------


def test_api_lists_own_notifications_unread_first_and_bounded(api_client, worker, colleague):
    read = _notice(worker, message="A referral your agency sent has been answered.", read=True)
    unread = _notice(worker)
    _notice(colleague, message="Tasks on victim cases are due today.")
    api_client.force_authenticate(worker)
    listed = api_client.get("/api/v1/case-notifications/")
    assert listed.status_code == 200
    assert [n["id"] for n in listed.json()] == [unread.pk, read.pk]
    assert listed.json()[0]["read_at"] is None and listed.json()[1]["read_at"]
    assert "due today" not in listed.content.decode()
    Notification.objects.bulk_create(Notification(user=worker, message="m") for _ in range(110))
    assert len(api_client.get("/api/v1/case-notifications/").json()) == 100


def test_api_marks_one_notification_read(api_client, worker, colleague):
    mine, other = _notice(worker), _notice(worker)
    theirs = _notice(colleague)
    api_client.force_authenticate(worker)
    response = api_client.post(f"/api/v1/case-notifications/{mine.pk}/read/")
    assert response.status_code == 200 and response.json()["read_at"]
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert api_client.post(f"/api/v1/case-notifications/{mine.pk}/read/").status_code == 200
    # Someone else's, or none at all: the same 404, and nothing changes.
    refused = api_client.post(f"/api/v1/case-notifications/{theirs.pk}/read/")
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
    assert api_client.post("/api/v1/case-notifications/999999/read/").status_code == 404
    theirs.refresh_from_db()
    other.refresh_from_db()
    assert theirs.read_at is None and other.read_at is None


def test_api_marks_all_own_read(api_client, worker, colleague):
    for read in (False, False, True):
        _notice(worker, read=read)
    _notice(colleague)
    api_client.force_authenticate(worker)
    response = api_client.post("/api/v1/case-notifications/read-all/")
    assert response.status_code == 200 and response.json() == {"marked": 2}
    assert _unread(worker) == 0 and _unread(colleague) == 1
    assert api_client.post("/api/v1/case-notifications/read-all/").json() == {"marked": 0}


def test_api_needs_a_signed_in_user(api_client, worker):
    notice = _notice(worker)
    assert api_client.get("/api/v1/case-notifications/").status_code in (401, 403)
    assert api_client.post(f"/api/v1/case-notifications/{notice.pk}/read/").status_code in (
        401,
        403,
    )
    assert _unread(worker) == 1


# --- The page -------------------------------------------------------------------------------


def _csrf(body: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)


def test_my_work_page_marks_one_and_all_without_javascript(worker, colleague):
    first, second, third = _notice(worker), _notice(worker), _notice(worker)
    theirs = _notice(colleague)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(worker)
    page = browser.get("/cases/tasks/").content.decode()
    assert f'action="/cases/notifications/{first.pk}/read/"' in page
    assert 'action="/cases/notifications/read/"' in page
    assert "Mark as read" in page and "Mark all as read" in page
    assert f'action="/cases/notifications/{theirs.pk}/read/"' not in page
    token = _csrf(page)
    # Without the CSRF token nothing happens.
    assert browser.post(f"/cases/notifications/{first.pk}/read/").status_code == 403
    response = browser.post(
        f"/cases/notifications/{first.pk}/read/", {"csrfmiddlewaretoken": token}, follow=True
    )
    assert response.redirect_chain[-1] == ("/cases/tasks/", 302)
    body = response.content.decode()
    assert "Notification marked as read." in body
    assert f"/cases/notifications/{first.pk}/read/" not in body
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None and second.read_at is None
    response = browser.post(
        "/cases/notifications/read/", {"csrfmiddlewaretoken": token}, follow=True
    )
    assert "All notifications marked as read." in response.content.decode()
    assert 'action="/cases/notifications/read/"' not in response.content.decode()
    third.refresh_from_db()
    assert third.read_at is not None and _unread(worker) == 0
    assert _unread(colleague) == 1


def test_page_refuses_someone_elses_notification(client, worker, colleague, make_user, agency):
    theirs = _notice(colleague)
    client.force_login(worker)
    assert client.post(f"/cases/notifications/{theirs.pk}/read/").status_code == 404
    assert client.post("/cases/notifications/999999/read/").status_code == 404
    assert client.get(f"/cases/notifications/{theirs.pk}/read/").status_code == 405
    client.post("/cases/notifications/read/")
    assert _unread(colleague) == 1
    # Roles without case work have no such page.
    client.force_login(make_user(Role.ANALYST, agency=agency))
    assert client.post("/cases/notifications/read/").status_code == 404
    client.logout()
    response = client.post(f"/cases/notifications/{theirs.pk}/read/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert _unread(colleague) == 1


def test_page_with_htmx_swaps_the_notification_panel(client, worker):
    notice = _notice(worker)
    client.force_login(worker)
    page = client.get("/cases/tasks/").content.decode()
    assert 'id="notifications"' in page and 'hx-select="#notifications"' in page
    response = client.post(
        f"/cases/notifications/{notice.pk}/read/", HTTP_HX_REQUEST="true", follow=True
    )
    assert response.status_code == 200 and 'id="notifications"' in response.content.decode()
    notice.refresh_from_db()
    assert notice.read_at is not None
