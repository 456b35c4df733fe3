"""Marking one's own case notifications read, from the "my work on cases" page.

POST only; without JavaScript the browser is redirected back to the page, with htmx the
page's notification panel is swapped in place (the same redirect, followed by htmx)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from streha.access import policy
from streha.cases import services
from streha.web.errors import requires


@login_required
@require_POST
@requires(policy.does_case_work)  # the same rule as the page these forms are on (my_work)
def notification_read(request, notification_id):
    """Mark one of the user's notifications read; anyone else's answers 404."""
    if not policy.notifications_visible_to(request.user).filter(pk=notification_id).exists():
        raise Http404
    services.mark_notifications_read(request.user, ids=[notification_id])
    if not request.htmx:
        messages.success(request, _("Notification marked as read."))
    return redirect("cases:my_work")


@login_required
@require_POST
@requires(policy.does_case_work)  # the same rule as the page these forms are on (my_work)
def notifications_read(request):
    """Mark all the user's unread notifications read."""
    marked = services.mark_notifications_read(request.user)
    if marked and not request.htmx:
        messages.success(request, _("All notifications marked as read."))
    return redirect("cases:my_work")
