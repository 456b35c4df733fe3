"""API routes of this app, registered on the shared /api/v1/ router by streha/api/urls.py."""


def register(router) -> None:
    """Add this app's viewsets to ``router``."""
