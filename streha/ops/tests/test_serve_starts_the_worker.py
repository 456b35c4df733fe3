"""``make run`` runs ``streha serve``, which starts ``streha worker`` beside gunicorn unless told
not to (issue 12: "a worker started by ``streha worker`` and by ``make run``")."""

import re
import sys
from pathlib import Path

import pytest

from streha import cli


class _Ended:
    """A child process that has already ended with status 0."""

    returncode = 0

    def poll(self):
        return 0

    def terminate(self):
        pass

    def wait(self, timeout=None):
        return 0


def test_make_run_serves_with_streha_serve():
    makefile = (Path(cli.__file__).resolve().parent.parent / "Makefile").read_text()
    recipe = re.search(r"^run:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE).group(1)
    assert "streha serve" in recipe and "--no-worker" not in recipe


def test_serve_starts_the_worker_command_beside_the_server(monkeypatch, tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    monkeypatch.delenv("STREHA_SERVE_WORKER", raising=False)
    started = []

    def popen(args):
        started.append(list(args))
        return _Ended()

    monkeypatch.setattr("subprocess.Popen", popen)
    with pytest.raises(SystemExit) as ended:
        cli.serve(["--port", "8999"])
    assert ended.value.code == 0
    server, worker = started
    assert "gunicorn" in " ".join(server)
    assert worker == [sys.executable, "-m", "streha.cli", "worker"]


def test_no_worker_leaves_it_out(monkeypatch, tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    calls = []
    monkeypatch.setattr(cli.os, "execv", lambda path, args: calls.append(args))
    monkeypatch.setattr(cli, "serve_with_worker", lambda *a, **k: calls.append("with worker"))
    cli.serve(["--no-worker"])
    assert len(calls) == 1 and calls[0] != "with worker"
