"""Faults during concurrent writes: nothing acknowledged may be lost, nothing half-written, and
while the database is away the answer is 503 (a clear page or JSON), never 500.

A throw-away PostgreSQL cluster on ``BENCH_FAULTS_PG_PORT`` (default 5450; fsync on; its data
directory on a small tmpfs when the machine allows mounting one, so the disk can be filled),
gunicorn with ``BENCH_FAULTS_WORKERS`` workers (default 4), and ``BENCH_FAULTS_THREADS`` writers
(default 24) creating persons through the API (2xx carries the person's id) and anonymous tips
through the public form (2xx carries the receipt code), until at least ``BENCH_FAULTS_WRITES``
(default 1,200) were acknowledged. Meanwhile, one after another: kill -9 of one gunicorn worker,
of every worker, of the master (then restarted, as systemd would); kill -9 of PostgreSQL and its
restart; the database unreachable for 20 s; the disk holding the database full for 15 s.
The same on the embedded SQLite default (``BENCH_FAULTS_DATABASES``, default
``sqlite,postgresql``): the gunicorn kills and its file's directory (a tmpfs of
``BENCH_FAULTS_SQLITE_TMPFS_MB``, default 200) full for 15 s; no server to kill or cut off.

Then a checker (a Django process) looks for every acknowledged person and tip, and for persons
without their creation audit event. The goal: 0 lost, 0 half-written, 0 responses 500, service
back within 30 s of the database returning. Writes var/bench/faults.json.
"""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _cluster
import _common
from _pow import solve

PORT = int(os.environ.get("BENCH_FAULTS_PG_PORT", "5450"))
WORKERS = int(os.environ.get("BENCH_FAULTS_WORKERS", "4"))
THREADS = int(os.environ.get("BENCH_FAULTS_THREADS", "24"))
WANTED = int(os.environ.get("BENCH_FAULTS_WRITES", "1200"))
TMPFS_MB = int(os.environ.get("BENCH_FAULTS_TMPFS_MB", "600"))
SQLITE_TMPFS_MB = int(os.environ.get("BENCH_FAULTS_SQLITE_TMPFS_MB", "200"))
RECEIPT = '<dd id="receipt-code">'

TOKENS_SCRIPT = """
import json
from streha.accounts.models import TokenScope, User
from streha.accounts.services import create_user, issue_api_token
admin = User.objects.get(username="admin")
secrets = []
# API tokens are for service accounts only: one per writing agency, with a writer's roles.
for name in ("investigator", "shelter.worker", "social.worker"):
    staff = User.objects.get(username=name)
    client = create_user(None, agency=staff.agency, username=f"faults.{name}",
                         email=f"faults.{name}@demo.streha.invalid", roles=staff.roles,
                         invite=False, service_account=True)
    _token, secret = issue_api_token(admin, user=client, name="faults",
                                     scopes=[TokenScope.READ, TokenScope.WRITE])
    secrets.append(secret)
print(json.dumps(secrets))
"""

CHECK_SCRIPT = """
import json, sys
from streha.audit.models import AuditEvent
from streha.people.models import Person
from streha.tips import services as tips
from streha.tips.models import Tip
acknowledged = json.load(open(sys.argv[1]))
persons = {str(p): pk for p, pk in Person.objects.filter(
    public_id__in=acknowledged["persons"]).values_list("public_id", "pk")}
lost_persons = [p for p in acknowledged["persons"] if p not in persons]
digests = set(Tip.objects.values_list("receipt_digest", flat=True))
lost_tips = [c for c in acknowledged["tips"] if tips._receipt_digest(c) not in digests]
made = Person.objects.filter(created_at__gte=acknowledged["started_at"])
audited = set(AuditEvent.objects.filter(action="create").values_list("object_id", flat=True))
half = [str(p.public_id) for p in made.only("pk", "public_id")
        if str(p.pk) not in audited and str(p.public_id) not in audited]
# For a lost person: how many audit events its request left (its creation event is written in the
# same transaction as the person, so a lost person with an event would be a half-written one).
events_of_lost = {p: AuditEvent.objects.filter(request_id=acknowledged["request_ids"].get(p) or "-")
                  .count() for p in lost_persons}
print(json.dumps({"persons_in_database": made.count(), "lost_persons": lost_persons,
                  "audit_events_of_lost_persons_requests": events_of_lost,
                  "lost_tips": lost_tips, "persons_without_audit_event": half}))
"""


class Writers:
    """Threads writing until told to stop; every answer is recorded by the phase it fell in."""

    def __init__(self, base: str, tokens: list[str]):
        self.base, self.tokens = base, tokens
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.phase = "start"
        self.persons: list[str] = []
        self.tips: list[str] = []
        self.statuses: dict[str, Counter] = {}
        self.bad_bodies: list[str] = []
        self.last_success = 0.0
        self.counter = 0
        # Each acknowledged write: the phase its request began and ended in and the server's
        # request id, so that a lost one can be found in the server's log.
        self.receipts: dict[str, dict] = {}

    def note(self, outcome: str, body: str = "") -> None:
        with self.lock:
            self.statuses.setdefault(self.phase, Counter())[outcome] += 1
            if outcome in ("500", "502") or "Traceback" in body:
                self.bad_bodies.append(body[:300])

    def acknowledged(self) -> int:
        return len(self.persons) + len(self.tips)

    def receipt(self, key: str, began: str, response) -> None:
        self.receipts[key] = {
            "began_in": began,
            "acknowledged_in": self.phase,
            "request_id": response.headers.get("X-Request-ID", ""),
        }

    def person(self, session: requests.Session, token: str) -> None:
        with self.lock:
            self.counter += 1
            n = self.counter
        began = self.phase
        response = session.post(
            f"{self.base}/api/v1/persons/",
            json={"given_name": "Fault", "family_name": f"Writer{n}", "gender": "unknown"},
            headers={"Authorization": f"Token {token}"},
            timeout=30,
        )
        self.note(str(response.status_code), response.text)
        if response.status_code == 201:
            with self.lock:
                self.persons.append(response.json()["public_id"])
                self.receipt(self.persons[-1], began, response)
                self.last_success = time.monotonic()

    def tip(self, session: requests.Session) -> None:
        form = session.get(f"{self.base}/report/?lang=en", timeout=30)
        if form.status_code != 200:
            self.note(str(form.status_code), form.text)
            return
        text = form.text
        began = self.phase
        token = text.split('name="token" value="')[1].split('"')[0]
        challenge = text.split('data-challenge="')[1].split('"')[0]
        bits = int(text.split('data-bits="')[1].split('"')[0])
        response = session.post(
            f"{self.base}/report/?lang=en",
            data={
                "token": token,
                "nonce": solve(challenge, bits),
                "what_seen": "Workers are kept at a farm and not paid.",
                "where": "A farm by the river",
                "when": "Now",
            },
            timeout=30,
        )
        self.note(str(response.status_code), response.text)
        if response.status_code == 200 and RECEIPT in response.text:
            code = response.text.split(RECEIPT)[1].split("<")[0].strip()
            with self.lock:
                self.tips.append(code)
                self.receipt(code, began, response)
                self.last_success = time.monotonic()

    def run(self, index: int) -> None:
        token = self.tokens[index % len(self.tokens)]
        session = requests.Session()
        turn = 0
        while not self.stop.is_set():
            turn += 1
            try:
                if turn % 5 == 0:
                    session.cookies.clear()
                    self.tip(session)
                else:
                    self.person(session, token)
            except (requests.RequestException, ValueError, IndexError) as error:
                self.note(type(error).__name__)
                time.sleep(0.2)

    def start(self) -> list[threading.Thread]:
        threads = [
            threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        return threads


def wait_for_write(writers: Writers, since: float, limit: float = 120) -> float | None:
    """Seconds from ``since`` until the next acknowledged write (None if none within limit)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if writers.last_success > since:
            return round(writers.last_success - since, 1)
        time.sleep(0.1)
    return None


def mount_tmpfs(size_mb: int) -> Path | None:
    target = Path(tempfile.mkdtemp(prefix="streha-faults-disk-"))
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0755", "tmpfs", str(target)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        target.rmdir()
        return None
    return target


def unmount(target: Path) -> None:
    """Unmount the test tmpfs, waiting for the killed server's processes to let go of it."""
    for _ in range(20):
        if subprocess.run(["umount", str(target)], capture_output=True, check=False).returncode:
            time.sleep(0.5)
        else:
            target.rmdir()
            return
    subprocess.run(["umount", "-l", str(target)], check=False)


def fill(directory: Path) -> Path:
    filler = directory / "filler"
    with filler.open("wb") as handle:
        block = b"\0" * (1 << 20)
        try:
            while True:
                handle.write(block)
                handle.flush()
        except OSError:
            pass
    return filler


def run(env: dict, database: str, extra_phases, notes: dict) -> dict:
    """Writers against gunicorn on ``env``'s database through the gunicorn kills and
    ``extra_phases(phase)`` (the database's own faults), then the check; returns the figures."""
    server = None
    phases: list[dict] = []
    try:
        _cluster.streha("migrate", "-v0", env=env)
        _cluster.streha("demo", "--persons", "50", "--seed", "3", "-v0", env=env)
        tokens = json.loads(
            _cluster.streha("shell", "-c", TOKENS_SCRIPT, env=env).stdout.splitlines()[-1]
        )
        started_at = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
        server = _cluster.Server(env, WORKERS, log=_common.OUT / f"faults-gunicorn-{database}.log")
        server.start()
        writers = Writers(server.base, tokens)
        threads = writers.start()

        def phase(name: str, action, hold: float, database_back=None) -> None:
            writers.phase = name
            began = time.monotonic()
            detail = action() or {}
            time.sleep(hold)
            back = database_back() if database_back else None
            mark = time.monotonic() if back is None else back
            detail["seconds_to_next_acknowledged_write"] = wait_for_write(writers, mark)
            detail.update(name=name, seconds=round(time.monotonic() - began, 1))
            detail["answers"] = dict(writers.statuses.get(name, {}))
            phases.append(detail)
            print(f"{database}: {name}: {detail}")

        phase("baseline", lambda: None, 10)

        def kill(pid: int) -> None:
            # A worker gunicorn was already replacing may be gone.
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)

        def kill_one_worker():
            kill(server.worker_pids()[0])

        phase("kill -9 one gunicorn worker", kill_one_worker, 5)

        def kill_all_workers():
            for pid in server.worker_pids():
                kill(pid)

        phase("kill -9 every gunicorn worker", kill_all_workers, 5)

        def kill_master():
            os.killpg(server.process.pid, 9)
            server.process.wait()
            time.sleep(1)
            restarted = time.monotonic()
            server.start(wait=300)
            return {"seconds_to_restart": round(time.monotonic() - restarted, 1)}

        phase("kill -9 gunicorn master (restarted as systemd would)", kill_master, 5)
        extra_phases(phase)
        writers.phase = "until enough writes"
        while writers.acknowledged() < WANTED:
            time.sleep(0.5)
        writers.stop.set()
        for thread in threads:
            thread.join(timeout=60)

        acknowledged = {
            "persons": writers.persons,
            "tips": writers.tips,
            "started_at": started_at,
            "request_ids": {
                public_id: writers.receipts[public_id]["request_id"]
                for public_id in writers.persons
            },
        }
        ack_file = _common.OUT / f"faults-acknowledged-{database}.json"
        ack_file.write_text(json.dumps(acknowledged))
        checked = json.loads(
            _cluster.streha(
                "shell", "-c", CHECK_SCRIPT.replace("sys.argv[1]", repr(str(ack_file))), env=env
            ).stdout.splitlines()[-1]
        )
    finally:
        if server:
            server.stop()
    all_answers = Counter()
    for counts in writers.statuses.values():
        all_answers.update(counts)
    db_phases = [p for p in phases if p.get("database_fault")]
    figures = {
        "database": database,
        "gunicorn_workers": WORKERS,
        "writer_threads": THREADS,
        **notes,
        "acknowledged_writes": writers.acknowledged(),
        "acknowledged_persons": len(writers.persons),
        "acknowledged_tips": len(writers.tips),
        "lost": len(checked["lost_persons"]) + len(checked["lost_tips"]),
        # Where each lost write was acknowledged (never its id or receipt code: those name it).
        "lost_writes": [
            {
                "kind": "person",
                **writers.receipts.get(public_id, {}),
                "audit_events_of_its_request": checked["audit_events_of_lost_persons_requests"][
                    public_id
                ],
            }
            for public_id in checked["lost_persons"]
        ]
        + [{"kind": "tip", **writers.receipts.get(code, {})} for code in checked["lost_tips"]],
        "half_written": len(checked["persons_without_audit_event"]),
        "responses_500": all_answers.get("500", 0),
        "responses_503": all_answers.get("503", 0),
        "tracebacks_or_5xx_bodies": writers.bad_bodies[:5],
        "answers": dict(all_answers),
        "max_seconds_to_service_after_database_returns": max(
            # None (no write within the limit) counts as a failure; 0.0 is a success.
            (
                999
                if p["seconds_to_next_acknowledged_write"] is None
                else p["seconds_to_next_acknowledged_write"]
                for p in db_phases
            ),
            default=None,
        ),
        "phases": phases,
        "checker": {k: (v if isinstance(v, int) else len(v)) for k, v in checked.items()},
    }
    figures["goal_met"] = (
        figures["lost"] == 0
        and figures["half_written"] == 0
        and figures["responses_500"] == 0
        and (figures["max_seconds_to_service_after_database_returns"] or 0) <= 30
    )
    rows = [
        (key, figures[key])
        for key in (
            "acknowledged_writes",
            "lost",
            "half_written",
            "responses_500",
            "responses_503",
            "max_seconds_to_service_after_database_returns",
            "disk_full_tested",
            "goal_met",
        )
    ]
    print(f"== {database}")
    print(_common.table(rows, ("figure", "value")))
    return figures


def server_env(database_url: str, name: str) -> dict:
    return {
        "DATABASE_URL": database_url,
        "STREHA_DEBUG": "0",
        "STREHA_LOG_LEVEL": "WARNING",
        "STREHA_TIP_MIN_SECONDS": "0",
        "STREHA_TIP_RATE_PER_HOUR": "100000000",
        # All the writers' tips come from this one machine: past the whole line's flood
        # threshold the proof of work grows toward 24 bits, and the writers' hashing (done here,
        # on the server's two cores) slowed the run to a few writes a second (as in bench/load.py).
        "STREHA_TIP_FLOOD_PER_10_MINUTES": "100000000",
        "STREHA_API_USER_RATE": "1000000/minute",
        "STREHA_VAR_DIR": str(_common.OUT / f"faults-var-{name}"),
        "STREHA_DB_CONN_MAX_AGE": "60",
    }


def postgresql() -> dict:
    disk = mount_tmpfs(TMPFS_MB) if os.geteuid() == 0 else None
    cluster = _cluster.Cluster(PORT, data_dir=(disk / "data") if disk else None).init()
    cluster.start()
    try:
        env = server_env(cluster.createdb(), "postgresql")

        def database_returns():
            cluster.start()
            return time.monotonic()

        def faults(phase):
            phase(
                "kill -9 PostgreSQL, restarted after 3 s",
                lambda: {"database_fault": True, **(cluster.kill9() or {})},
                3,
                database_returns,
            )
            phase(
                "database unreachable for 20 s (server stopped)",
                lambda: {"database_fault": True, **(cluster.stop("fast") or {})},
                20,
                database_returns,
            )
            if disk:
                state = {}

                def disk_full():
                    state["filler"] = fill(disk)
                    return {"database_fault": True}

                def disk_freed():
                    state["filler"].unlink()
                    if (
                        cluster.postmaster_pid() is None
                        or subprocess.run(
                            ["pg_isready", "-h", "127.0.0.1", "-p", str(PORT)], check=False
                        ).returncode
                    ):
                        cluster.stop("immediate")
                        cluster.start()
                    return time.monotonic()

                phase("disk holding the database full for 15 s", disk_full, 15, disk_freed)

        return run(env, "postgresql", faults, {"disk_full_tested": bool(disk)})
    finally:
        cluster.destroy()
        if disk:
            unmount(disk)


def sqlite() -> dict:
    """The embedded default: the database file on a small tmpfs (when one can be mounted), so
    its directory can be filled; PostgreSQL's own faults (kill, unreachable) do not apply."""
    disk = mount_tmpfs(SQLITE_TMPFS_MB) if os.geteuid() == 0 else None
    directory = disk or Path(tempfile.mkdtemp(prefix="streha-faults-sqlite-"))
    try:
        env = server_env(f"sqlite:///{directory / 'streha.sqlite3'}", "sqlite")

        def faults(phase):
            if not disk:
                return
            state = {}

            def disk_full():
                state["filler"] = fill(disk)
                return {"database_fault": True}

            def disk_freed():
                state["filler"].unlink()
                return time.monotonic()

            phase("disk holding the database file full for 15 s", disk_full, 15, disk_freed)

        return run(env, "sqlite", faults, {"disk_full_tested": bool(disk)})
    finally:
        if disk:
            unmount(disk)
        else:
            shutil.rmtree(directory, ignore_errors=True)


def main() -> None:
    """Runs ``BENCH_FAULTS_DATABASES`` (default both); faults.json keeps PostgreSQL's figures
    at its top level (as before) and SQLite's under ``"sqlite"``; a database not run this time
    keeps its figures from the last run."""
    wanted = os.environ.get("BENCH_FAULTS_DATABASES", "sqlite,postgresql").split(",")
    path = _common.OUT / "faults.json"
    figures = json.loads(path.read_text()) if path.exists() else {}
    if "sqlite" in wanted:
        figures["sqlite"] = sqlite()
        _common.write("faults", figures)
    if "postgresql" in wanted:
        figures = {**postgresql(), "sqlite": figures.get("sqlite")}
    figures["goal_met_everywhere"] = bool(
        figures.get("goal_met") and (figures.get("sqlite") or {}).get("goal_met")
    )
    print("written:", _common.write("faults", figures))


if __name__ == "__main__":
    main()
