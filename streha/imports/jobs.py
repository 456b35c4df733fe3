"""Declares the import job kind (found by streha.jobs when Django starts)."""

from streha.imports import services  # noqa: F401
