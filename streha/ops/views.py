"""Probes and the metrics endpoint: outside sessions, languages and the audit trail.

None of these reads personal data. ``/healthz`` and ``/readyz`` are open (the proxy keeps them
from the internet); ``/metrics`` needs ``Authorization: Bearer <STREHA_METRICS_TOKEN>`` and
answers 404 to anyone else, and when no token is configured, so its existence is not revealed.
"""

import hmac

from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from streha.ops import health, metrics


@never_cache
@require_GET
@transaction.non_atomic_requests
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
@transaction.non_atomic_requests
def readyz(request):
    state, results = health.readiness(strict=request.GET.get("strict") == "1")
    return JsonResponse(
        {
            "status": state,
            "checks": {name: result.as_dict() for name, result in results.items()},
        },
        status=503 if state == "not ready" else 200,
    )


def _authorised(request) -> bool:
    token = settings.STREHA_METRICS_TOKEN
    if not token:
        return False
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode())


@never_cache
@require_GET
@transaction.non_atomic_requests
def metrics_view(request):
    if not _authorised(request):
        raise Http404
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)
