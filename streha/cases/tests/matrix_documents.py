"""Authorization-matrix rows for case documents, merged into matrix.py."""

HTML: dict = {}
API: dict = {}


def extend_world(world: dict) -> None:
    """Add document objects to each scope of the matrix world (after matrix.extend_world)."""
