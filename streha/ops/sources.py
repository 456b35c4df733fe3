"""Readiness sources that adapt other apps' records to ``health.recent`` (time or None).

Raising ``ImportError`` means the source is not part of this deployment: the check is skipped.
"""

from datetime import datetime


def last_audit_checkpoint() -> datetime | None:
    """When the last signed audit checkpoint was written (streha/audit/checkpoints.py)."""
    from streha.audit import checkpoints  # ImportError: checkpoints are not installed

    found = checkpoints.read_checkpoints()
    return found[-1].moment if found else None
