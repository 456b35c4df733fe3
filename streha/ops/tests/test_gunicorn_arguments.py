"""`streha serve`'s gunicorn command line: threads per worker only when asked for."""

from streha.cli import gunicorn_arguments


def test_one_thread_keeps_the_sync_worker():
    arguments = gunicorn_arguments("127.0.0.1", "8000", "2")
    assert "--threads" not in arguments
    assert arguments[arguments.index("--workers") + 1] == "2"


def test_more_threads_make_gthread_workers():
    arguments = gunicorn_arguments("127.0.0.1", "8000", "2", "4")
    assert arguments[arguments.index("--threads") + 1] == "4"
    assert arguments[arguments.index("--workers") + 1] == "2"
