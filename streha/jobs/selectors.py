"""Reading job records: each person sees the jobs they started (system administrators all)."""

from django.db.models import QuerySet
from django.http import Http404

from streha.access import policy
from streha.accounts.models import User
from streha.jobs.models import Job
from streha.jobs.services import expire_stale_jobs


def jobs_visible_to(user: User) -> QuerySet[Job]:
    if not user.is_authenticated:
        return Job.objects.none()
    if policy.is_system_admin(user):
        return Job.objects.all()
    return Job.objects.filter(started_by=user)


def job_for(user: User, public_id) -> Job:
    """The job, fresh: a lost worker's job reads as failed, never as running forever."""
    expire_stale_jobs()
    job = jobs_visible_to(user).filter(public_id=public_id).first()
    if job is None:
        raise Http404
    return job
