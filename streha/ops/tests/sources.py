"""Stand-in readiness sources for the tests (the real ones live in streha/jobs and streha/audit)."""

from datetime import timedelta

from django.utils import timezone

AGE = {"seconds": 5}


def last_reported():
    return timezone.now() - timedelta(seconds=AGE["seconds"])


def never():
    return None


def not_installed():
    raise ImportError("no such app")
