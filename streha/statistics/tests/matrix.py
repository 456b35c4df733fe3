"""Statistics rows of the authorization matrix (see streha/testing/matrix.py)."""

from streha.accounts.models import Role
from streha.testing.matrix import P

HTML = {
    "statistics:index": P({Role.ANALYST}, path="/statistics/"),
    "statistics:table": P({Role.ANALYST}, path="/statistics/T01/"),
    "statistics:report_pdf": P({Role.ANALYST}, path="/statistics/report.pdf"),
}
API = {
    ("/api/v1/statistics/tables/{code}/", "get"): P(
        {Role.ANALYST}, path="/api/v1/statistics/tables/T01/"
    ),
}


def extend_world(world: dict) -> None:
    """Tables read the analyst's scope only: nothing to add to the world."""
