"""The domain's errors, and the HTTP answer each means.

Services raise Django's ``ValidationError`` (bad input: 400), ``PermissionDenied`` (the policy
refuses: 403 in the API, 404 in pages, which never confirm what exists) or a ``DomainError``,
which carries its own status and code (``CaseConflict``: 409). They are answered in one place
per channel: ``streha.api.errors.exception_handler`` for the API, ``streha.web.errors`` for
pages, so no view picks a status for a domain error itself. Messages never repeat submitted
values: they reach logs and API clients.
"""


class DomainError(Exception):
    """A request the domain's rules refuse, answered with ``status_code`` and ``code``."""

    status_code = 400
    code = "invalid"


class Conflict(DomainError):
    """The object changed since the caller read it (optimistic locking): reload, try again."""

    status_code = 409
    code = "conflict"
