"""Declares the import and export job kinds (found by streha.jobs when Django starts)."""

from streha.imports import exports, htcds_export, services  # noqa: F401
