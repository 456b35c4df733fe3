"""A deduplication run leaves no plaintext identity on disk, whether it ends or is killed.

The run happens in a separate process on its own SQLite database, with its temporary folder,
working folder and home inside the test's directory; afterwards every file under that
directory is searched for the persons' names in clear.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

# Printed by the process that generated the demo data, inside an audited system read.
SECRETS_SCRIPT = """
from streha.audit import read_context
from streha.people.models import Person
with read_context.system("test: what must never be found on disk"):
    for p in Person.objects.all():
        print(f"{p.given_name} {p.family_name}")
        if len(p.personal_number or "") >= 8:
            print(p.personal_number)
"""


def _env(root: Path) -> dict:
    for sub in ("var", "tmp", "home", "work"):
        (root / sub).mkdir(exist_ok=True)
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "STREHA_"))},
        "STREHA_VAR_DIR": str(root / "var"),
        "STREHA_LOG_LEVEL": "WARNING",
        "STREHA_LANGUAGE_CODE": "en",
        "DJANGO_SETTINGS_MODULE": "streha.settings",
        "TMPDIR": str(root / "tmp"),
        "HOME": str(root / "home"),
    }


def _streha(root: Path, *args, **kwargs):
    return subprocess.Popen(  # noqa: S603 - our own interpreter and command
        [sys.executable, "-m", "streha.cli", *args],
        env=_env(root),
        cwd=root / "work",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,
    )


def _files_with_plaintext(root: Path, secrets: list[bytes]) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if any(secret in data for secret in secrets):
                found.append(str(path.relative_to(root)))
    return found


def _system_reads(root: Path) -> int:
    with sqlite3.connect(root / "var" / "streha.sqlite3") as db:
        return db.execute("SELECT count(*) FROM audit_event WHERE action='system_read'").fetchone()[
            0
        ]


def test_no_plaintext_file_after_a_run_even_one_killed_half_way(tmp_path):
    root = tmp_path
    for args in (("migrate",), ("demo", "--persons", "150", "--seed", "3")):
        process = _streha(root, *args)
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err.decode()[-2000:]
    process = _streha(root, "shell", "-c", SECRETS_SCRIPT)
    out, err = process.communicate(timeout=600)
    secrets = [line.encode() for line in out.decode().splitlines() if line.strip()]
    assert len(secrets) >= 150, err.decode()[-2000:]
    reads_before = _system_reads(root)
    # Killed half-way: once the identities are read (the audited read is recorded first).
    process = _streha(root, "dedup", "run")
    deadline = time.monotonic() + 300
    while _system_reads(root) == reads_before and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(1.0)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert _files_with_plaintext(root, secrets) == []
    assert list((root / "tmp").iterdir()) == [] and list((root / "work").iterdir()) == []
    # And a run that finishes.
    process = _streha(root, "dedup", "run")
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err.decode()[-2000:]
    assert b"possible duplicates" in out
    assert _files_with_plaintext(root, secrets) == []
    assert list((root / "tmp").iterdir()) == [] and list((root / "work").iterdir()) == []
