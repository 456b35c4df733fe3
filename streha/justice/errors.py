"""The refusals of the proceedings' rules, as domain errors (``streha.errors``).

Bad input (a date in the future, a defendant of another case) stays a ``ValidationError``;
the access policy's refusals stay ``PermissionDenied`` (answered 404 in pages, so a page never
confirms a case to who may not see it). What is refused here is a step that the proceedings,
as they stand, do not allow: an event the stage does not lead to, a second reclassification,
the same defendant twice. Pages show the message beside the field it names; the API answers
with the status and code (``streha.api.errors``).
"""

from streha.errors import DomainError


class ProceedingsRefusal(DomainError):
    """The step conflicts with what the case already records: 409."""

    status_code = 409
    code = "refused"

    def __init__(self, message, *, field: str | None = None):
        super().__init__(message)
        self.field = field


class NotTheirStep(ProceedingsRefusal):
    """The user sees the case, but this step belongs to another office: 403."""

    status_code = 403
    code = "not_allowed"
