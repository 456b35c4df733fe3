"""``streha serve`` keeps the web server up when its background worker dies, and stops the
worker when the web server ends."""

import sys

import pytest

from streha.cli import serve_with_worker


def test_a_dead_worker_is_started_again_and_the_server_decides_the_end(tmp_path):
    starts = tmp_path / "starts"
    worker = [
        sys.executable,
        "-c",
        f"open({str(starts)!r}, 'a').write('x'); raise SystemExit(1)",
    ]
    server = [sys.executable, "-c", "import time; time.sleep(4)"]
    with pytest.raises(SystemExit) as ended:
        serve_with_worker(server, worker, restart_delay=0.2)
    assert ended.value.code == 0  # the server's own exit status, not the worker's failure
    assert len(starts.read_text()) >= 2  # the worker died and was started again


def test_the_worker_is_stopped_when_the_server_ends(tmp_path):
    stopped = tmp_path / "stopped"
    worker = [
        sys.executable,
        "-c",
        "import signal, sys, time\n"
        f"signal.signal(signal.SIGTERM, lambda *a: (open({str(stopped)!r}, 'w').write('1'), "
        "sys.exit(0)))\n"
        "time.sleep(60)",
    ]
    server = [sys.executable, "-c", "import time; time.sleep(1.5); raise SystemExit(3)"]
    with pytest.raises(SystemExit) as ended:
        serve_with_worker(server, worker, restart_delay=0.2)
    assert ended.value.code == 3
    assert stopped.read_text() == "1"
