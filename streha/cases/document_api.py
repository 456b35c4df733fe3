"""API for case documents (filled in by the case-documents work)."""


def register(router) -> None:
    """Add the case-document viewsets to ``router``."""
