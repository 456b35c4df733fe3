"""The one task on the queue: run a job record. Everything else goes through ``Job``."""

from django_tasks import task


@task()
def run_job(job_id: str) -> str:
    from streha.jobs.services import execute_job

    return execute_job(job_id)
