"""The application's URLs plus two reference views measured beside every page.

``_floor/`` is the floor of issue 4: an empty Django view behind the whole middleware stack.
``_audited_shell/`` is the least any staff page does: it renders the signed-in base template
and records one audit event (every read of protected data is audited), so a page's figure can
also be read against what it cannot avoid.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path

from streha.audit import services as audit
from streha.urls import handler404, handler500  # noqa: F401
from streha.urls import urlpatterns as app_urlpatterns


def empty(request):
    return HttpResponse(b"")


@login_required
def audited_shell(request):
    audit.record(request.user, audit.Action.READ, object_type="bench.shell", request=request)
    return render(request, "base.html", {})


urlpatterns = [
    path("_floor/", empty),
    path("_audited_shell/", audited_shell),
    *app_urlpatterns,
]
