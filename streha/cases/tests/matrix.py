"""This app's rows of the authorization matrix (see streha/testing/matrix.py)."""

from streha.testing.matrix import P  # noqa: F401

HTML: dict = {}
API: dict = {}


def extend_world(world: dict) -> None:
    """Add this app's objects: world["in"][name] / world["out"][name] URL placeholders."""
