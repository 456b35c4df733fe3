"""Declares the import and export job kinds (found by streha.jobs when Django starts)."""

from streha.imports import exports, services  # noqa: F401
