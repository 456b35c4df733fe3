"""Issue 10: a notice reaches only staff who hold the role now. A pending grant (not yet
approved by a second administrator), a revoked grant and a service account holding the role
are no reason to send work, e-mail or a break-glass alert."""

import pytest
from django.utils import timezone

from streha.access import policy
from streha.accounts.models import Role, RoleGrant
from streha.cases.models import Notification
from streha.cases.services.base import notify_agency

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(make_user, agency):
    live = make_user(Role.CASE_WORKER, agency=agency, username="live.worker")
    pending = make_user(agency=agency, username="pending.worker")
    RoleGrant.objects.create(user=pending, role=Role.CASE_WORKER)
    revoked = make_user(agency=agency, username="revoked.worker")
    RoleGrant.objects.create(
        user=revoked, role=Role.CASE_WORKER, approved_at=timezone.now(), revoked_at=timezone.now()
    )
    service = make_user(
        Role.CASE_WORKER, agency=agency, username="sync.client", is_service_account=True
    )
    return {"live": live, "pending": pending, "revoked": revoked, "service": service}


def test_notify_agency_reaches_only_approved_live_grants_of_people(agency, staff, mailoutbox):
    sent = notify_agency(agency.pk, "A referral arrived.", "/")
    notified = set(Notification.objects.values_list("user__username", flat=True))
    assert sent == 1
    assert notified == {"live.worker"}


def test_staff_holding_counts_each_holder_once(agency, staff):
    RoleGrant.objects.create(user=staff["live"], role=Role.SUPERVISOR, approved_at=timezone.now())
    holders = policy.staff_holding(agency.pk, [Role.CASE_WORKER, Role.SUPERVISOR])
    assert list(holders.values_list("username", flat=True)) == ["live.worker"]
