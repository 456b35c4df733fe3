"""Refused reads are audited after the request's transaction.

``policy.visible_or_404`` answers 404 for an object outside the user's scope; the 404 rolls the
request's transaction back (``ATOMIC_REQUESTS``), and an audit event written inside it with
it. So the helper notes the refusal on the request and this middleware, outside the view's
transaction, records it (``policy.record_refused_read``, rate limited).
"""

from streha.access import policy


class RefusedReadsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        for model, lookup in getattr(request, "streha_refused_reads", ()):
            policy.record_refused_read(request.user, model, lookup, request=request)
        return response
