"""The case list of agencies receiving referrals, before and after the referred part is counted
by key from the agency's referrals (``policy.case_scope_parts(counting=True)``, index
``referral_shared_cases``).

Two copies of one data set: ``SCOPE_BEFORE_URL`` without the index (migration
``cases.0009_referral_shared_cases_index`` not applied), read with the old count (the page
parts' ``id IN (referrals)``); ``SCOPE_AFTER_URL`` with the index and the new count. Each
round runs one process per variant, alternately (``SCOPE_ROUNDS``, default 3), so both see the
same machine; each process times ``selectors.list_cases`` in-process (as the list page calls
it, with its columns, audit event included, rolled back) for each user, every stage filter
and pages 1 to 3, and the referred part's count query alone. Medians over the rounds go to
``var/bench/case_scope.json`` with the load average.

    SCOPE_BEFORE_URL=postgres://postgres@127.0.0.1:5433/streha_scope_before \\
    SCOPE_AFTER_URL=postgres://postgres@127.0.0.1:5433/streha_scope \\
    STREHA_MASTER_KEY_FILE=/work/data/master-keys.json .venv/bin/python bench/case_scope.py

The users are the demo's: a shelter and a social work case worker (agencies receiving
referrals) and a police investigator (own agency only); ``SCOPE_USERS`` names others.
"""

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "bench"
USERS = os.environ.get("SCOPE_USERS", "shelter.worker,social.worker,investigator").split(",")
PAGES = (1, 2, 3)


def measure(variant: str) -> dict:
    """One process: every (user, stage, page) once, after one warm-up pass."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "streha.settings")
    os.environ.setdefault("STREHA_LOG_LEVEL", "WARNING")
    os.environ.setdefault("STREHA_DEBUG", "0")
    import django

    django.setup()
    from django.db import connection, transaction

    from streha.access import policy
    from streha.accounts.models import User
    from streha.cases import selectors
    from streha.cases.models import Status

    if variant == "before":
        parts = policy.case_scope_parts
        # The code before: a count read the page parts (``id IN (referrals)``).
        policy.case_scope_parts = lambda user, counting=False: parts(user)

    def one(user, status, page):
        referred: list[float] = []

        def timed(execute, sql, params, many, context):
            start = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                if (
                    sql.startswith("SELECT COUNT(*)")
                    and '"cases_referral"' in sql
                    and "assigned_to_id" not in sql
                ):
                    referred.append((time.perf_counter() - start) * 1000)

        with transaction.atomic(), connection.execute_wrapper(timed):
            start = time.perf_counter()
            selectors.list_cases(user, status=status, page=page, columns=selectors.LIST_COLUMNS)
            total = (time.perf_counter() - start) * 1000
            transaction.set_rollback(True)
        return total, sum(referred)

    users = [User.objects.get(username=name) for name in USERS]
    stages = ["", *Status.values]
    for user in users:  # warm-up: the same caches for both variants
        one(user, "", 1)
    result = {}
    for user in users:
        for status in stages:
            for page in PAGES:
                total, count = one(user, status, page)
                result[f"{user.username}|{status or 'all'}|{page}"] = [total, count]
    return result


def main() -> None:
    urls = {
        "before": os.environ.get("SCOPE_BEFORE_URL", ""),
        "after": os.environ.get("SCOPE_AFTER_URL", ""),
    }
    if not all(urls.values()):
        # ``make bench`` runs every script: this one needs the two copies made by hand.
        print("case_scope: SCOPE_BEFORE_URL and SCOPE_AFTER_URL not set, skipped (see the doc)")
        return
    rounds = int(os.environ.get("SCOPE_ROUNDS", "3"))
    runs: dict[str, list[dict]] = {"before": [], "after": []}
    loads = [os.getloadavg()[0]]
    for _ in range(rounds):
        for variant in ("before", "after"):
            env = {**os.environ, "DATABASE_URL": urls[variant]}
            done = subprocess.run(
                [sys.executable, __file__, "--measure", variant],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            runs[variant].append(json.loads(done.stdout.strip().splitlines()[-1]))
            loads.append(os.getloadavg()[0])
    rows = []
    for key in runs["after"][0]:
        user, status, page = key.split("|")
        row = {"user": user, "stage": status, "page": int(page)}
        for variant in ("before", "after"):
            row[f"{variant}_list_ms"] = round(
                statistics.median(run[key][0] for run in runs[variant]), 1
            )
            row[f"{variant}_referred_count_ms"] = round(
                statistics.median(run[key][1] for run in runs[variant]), 1
            )
        rows.append(row)
    print(f"{'user':16} {'stage':22} page  list before → after ms   referred count before → after")
    for row in rows:
        print(
            f"{row['user']:16} {row['stage']:22} {row['page']:>4}  "
            f"{row['before_list_ms']:8.1f} → {row['after_list_ms']:8.1f}   "
            f"{row['before_referred_count_ms']:8.1f} → {row['after_referred_count_ms']:8.1f}"
        )
    summary = {}
    for user in USERS:
        mine = [row for row in rows if row["user"] == user]
        summary[user] = {
            f"{variant}_{what}": round(statistics.median(r[f"{variant}_{what}"] for r in mine), 1)
            for variant in ("before", "after")
            for what in ("list_ms", "referred_count_ms")
        } | {
            f"{variant}_list_max_ms": max(r[f"{variant}_list_ms"] for r in mine)
            for variant in ("before", "after")
        }
        print(user, summary[user])
    print(f"load average (1 min) during the run: {min(loads):.2f} to {max(loads):.2f}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "case_scope.json").write_text(
        json.dumps(
            {
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "database": urls["after"].split(":", 1)[0],
                "rounds": rounds,
                "load_average_1min": [round(x, 2) for x in loads],
                "summary": summary,
                "rows": rows,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--measure"]:
        print(json.dumps(measure(sys.argv[2])))
    else:
        main()
