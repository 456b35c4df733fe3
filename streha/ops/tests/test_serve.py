import json
import os

from streha import cli


def test_serve_preloads_logs_json_without_queries_or_addresses_and_sums_metrics(
    monkeypatch, tmp_path
):
    captured = {}
    monkeypatch.setattr(os, "execv", lambda path, args: captured.update(args=args))
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "prometheus"))
    (tmp_path / "prometheus").mkdir()
    (tmp_path / "prometheus" / "counter_1.db").write_bytes(b"old")
    monkeypatch.delenv("STREHA_PRELOAD", raising=False)
    cli.serve(["--port", "8123", "--workers", "3", "--no-worker"])
    args = captured["args"]
    assert args[args.index("--bind") + 1] == "127.0.0.1:8123"
    assert args[args.index("--workers") + 1] == "3"
    assert "--preload" in args
    log_format = args[args.index("--access-logformat") + 1]
    for leaky in ("%(q)s", "%(h)s", "%(a)s", "%(r)s", "%(f)s"):
        assert leaky not in log_format
    sample = log_format % {
        "t": "[now]", "m": "GET", "U": "/cases/", "s": 200, "b": "10", "M": 5,
        "{x-request-id}o": "abc",
    }  # fmt: skip
    assert json.loads(sample)["request_id"] == "abc"
    # The metrics directory is emptied before the workers start (no counts of a previous run).
    assert list((tmp_path / "prometheus").iterdir()) == []
