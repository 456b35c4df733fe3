"""The ``streha`` console command.

Every Django management command is available (``streha migrate``, ``streha demo``,
``streha createsuperuser``...); ``streha serve`` starts the production-grade WSGI server so that
``make run`` serves the application the way a deployment does.
"""

import os
import sys


def serve(argv: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="streha serve", description="Serve Streha with gunicorn.")
    parser.add_argument("--host", default=os.environ.get("STREHA_HOST", "127.0.0.1"))
    parser.add_argument("--port", default=os.environ.get("STREHA_PORT", "8000"))
    parser.add_argument("--workers", default=os.environ.get("STREHA_WORKERS", "2"))
    args = parser.parse_args(argv)
    os.execv(sys.executable, gunicorn_arguments(args.host, args.port, args.workers))  # noqa: S606


def gunicorn_arguments(host: str, port: str, workers: str) -> list[str]:
    """The gunicorn command line of ``streha serve`` (our own interpreter, no shell)."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "streha.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
        # The access log must not carry query strings (search terms) or user agents.
        "--access-logformat",
        '%(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
        # No line at all for the tip line's pages (/report/...): see streha/web/logging.py.
        "--logger-class",
        "streha.web.logging.AccessLogWithoutTipLine",
    ]


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
