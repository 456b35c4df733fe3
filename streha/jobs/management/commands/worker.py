"""``streha worker``: run queued background jobs (imports, exports, reports, schedules).

A thin layer over django-tasks-db's worker: the same loop, on every queue, without the
development auto-reloader (a reload would kill a job half-way), and it marks failed the jobs of
workers that died before it starts taking new ones. On SIGTERM or SIGINT the running job stops
after its current batch and goes back to the queue, to be carried on by the next worker.
"""

from django.core.management.base import BaseCommand
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from streha.jobs.services import expire_stale_jobs, stop_between_batches


class StrehaWorker(Worker):
    def run_task(self, db_task_result) -> None:
        expire_stale_jobs()
        super().run_task(db_task_result)

    def shutdown(self, signum, frame) -> None:
        # The running job stops after its current batch and goes back to the queue.
        stop_between_batches()
        super().shutdown(signum, frame)


class Command(BaseCommand):
    help = "Run the background worker (queued jobs)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls.")
        parser.add_argument(
            "--batch", action="store_true", help="Run every waiting job, then exit."
        )
        parser.add_argument("--max-tasks", type=int, default=None)
        parser.add_argument("--queue", default="*", help="Queue names, comma-separated.")

    def handle(self, *, interval, batch, max_tasks, queue, **options) -> None:
        stop_between_batches(False)
        expire_stale_jobs()
        worker = StrehaWorker(
            queue_names=queue.split(","),
            interval=interval,
            batch=batch,
            backend_name="default",
            startup_delay=not batch,
            max_tasks=max_tasks,
            worker_id=get_random_string(32),
            excluded_queue_names=[],
        )
        worker.configure_signals()
        worker.run()
