"""The ``streha`` console command.

Every Django management command is available (``streha migrate``, ``streha demo``,
``streha createsuperuser``...); ``streha serve`` starts the production-grade WSGI server so that
``make run`` serves the application the way a deployment does. ``streha serve`` also starts the
background worker beside the server (``--no-worker`` to leave it out, e.g. under systemd, where
``streha worker`` runs as its own unit).
"""

import os
import sys


def serve(argv: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="streha serve", description="Serve Streha with gunicorn.")
    parser.add_argument("--host", default=os.environ.get("STREHA_HOST", "127.0.0.1"))
    parser.add_argument("--port", default=os.environ.get("STREHA_PORT", "8000"))
    parser.add_argument("--workers", default=os.environ.get("STREHA_WORKERS", "2"))
    parser.add_argument(
        "--threads",
        default=os.environ.get("STREHA_THREADS", "1"),
        help="Threads per worker (more than 1: gunicorn's gthread workers).",
    )
    parser.add_argument(
        "--no-worker",
        action="store_true",
        default=os.environ.get("STREHA_SERVE_WORKER", "1") == "0",
        help="Do not start the background worker beside the server.",
    )
    args = parser.parse_args(argv)
    _prepare_metrics_directory()
    gunicorn_args = gunicorn_arguments(args.host, args.port, args.workers, args.threads)
    if args.no_worker:
        os.execv(sys.executable, gunicorn_args)  # noqa: S606 - our own interpreter, no shell
    else:
        serve_with_worker(gunicorn_args)


def gunicorn_arguments(host: str, port: str, workers: str, threads: str = "1") -> list[str]:
    """The gunicorn command line of ``streha serve`` (our own interpreter, no shell).

    With ``threads`` above 1 each worker is a gthread worker: a thread waiting on the database
    (a synced commit of an audit event) leaves the worker's CPU to another request, at the cost
    of one database connection per thread.
    """
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "streha.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        *(["--threads", str(threads)] if int(threads) > 1 else []),
        # The application is loaded once in the master and forked: a worker that dies (even by
        # kill -9) is replaced in milliseconds instead of importing Django again (make faults).
        # No database connection is opened while loading. Deploy new code with a restart.
        *(["--preload"] if os.environ.get("STREHA_PRELOAD", "1") != "0" else []),
        "--access-logfile",
        "-",
        # The access log must not carry query strings (search terms), addresses or user agents;
        # one JSON object per line, with the request id the application logs under.
        "--access-logformat",
        '{"time": "%(t)s", "method": "%(m)s", "path": "%(U)s", "status": %(s)s, '
        '"bytes": "%(b)s", "ms": %(M)s, "request_id": "%({x-request-id}o)s"}',
        # No line at all for the tip line's pages (/report/...): see streha/web/logging.py.
        "--logger-class",
        "streha.web.logging.AccessLogWithoutTipLine",
    ]


def serve_with_worker(
    gunicorn_args: list[str], worker_args: list[str] | None = None, restart_delay: float = 1.0
) -> None:
    """Run gunicorn and ``streha worker`` side by side. When gunicorn ends, stop the worker;
    when the worker ends while gunicorn serves (a database error it did not survive, such as
    SQLite's "database is locked" under many writers), start it again after ``restart_delay``
    seconds rather than take the web server down with it."""
    import signal
    import subprocess
    import time

    worker_args = worker_args or [sys.executable, "-m", "streha.cli", "worker"]
    server = subprocess.Popen(gunicorn_args)  # noqa: S603 - our own interpreter, fixed arguments
    children = [server, subprocess.Popen(worker_args)]  # noqa: S603
    stopping = []

    def stop(signum=None, frame=None) -> None:
        stopping.append(True)
        for child in children:
            if child.poll() is None:
                child.terminate()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while server.poll() is None:
            if children[1].poll() is not None and not stopping:
                time.sleep(restart_delay)
                if server.poll() is None and not stopping:
                    sys.stderr.write("streha: the background worker ended; starting it again\n")
                    children[1] = subprocess.Popen(worker_args)  # noqa: S603
            time.sleep(0.5)
    finally:
        stop()
        for child in children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    sys.exit(server.returncode or 0)


def _prepare_metrics_directory() -> None:
    """Metrics summed over every worker process: prometheus_client's multiprocess mode wants an
    empty directory shared by the workers, named before any of them starts."""
    import shutil
    from pathlib import Path

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    else:
        var = Path(os.environ.get("STREHA_VAR_DIR", Path(__file__).resolve().parent.parent / "var"))
        directory = var / "prometheus"
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "streha.settings")
    argv = sys.argv[1:]
    if argv[:1] == ["serve"]:
        serve(argv[1:])
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line(["streha", *argv])


if __name__ == "__main__":
    main()
