"""Single search requests on an existing data set (no generation): the case search (POST
/cases/) and the person search (POST /persons/) of the busiest case worker, for the full
names of ``BENCH_SEARCH_NAMES`` of that agency's persons, taken in turn after one warm round.

Usage: ``cd bench && BENCH_PERSONS=1000000 ../.venv/bin/python search_once.py`` on the data set
``var/bench/pages-<BENCH_PERSONS>.sqlite3`` (or ``BENCH_DATABASE_URL``); prints median and max
milliseconds per page and how many whole-name fallback queries ran. Migrates first (as
``pages.py`` does)."""

import os
import statistics
import time

import _common

NAMES = int(os.environ.get("BENCH_SEARCH_NAMES", "20"))


def main() -> None:
    persons = _common.persons_wanted()
    _common.setup(f"pages-{persons}")
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    settings.ROOT_URLCONF = "_urls"
    from streha.accounts.models import Role
    from streha.audit import read_context

    user, agency_cases, cases = _common.busiest_case_worker([Role.CASE_WORKER, Role.INVESTIGATOR])
    cases = list(cases.select_related("person")[:NAMES])
    with read_context.system("benchmark: search terms"):
        names = [f"{c.person.given_name} {c.person.family_name}" for c in cases]
    client = Client()
    client.force_login(user)

    def case_search(name):
        assert client.post("/cases/", {"q": name}).status_code == 200

    def person_search(name):
        assert client.post("/persons/", {"q": name}).status_code == 200

    pages = {"case_search": case_search, "person_search": person_search}
    for page in pages.values():  # warm
        page(names[0])
    samples = {name: [] for name in pages}
    fallback_queries = {name: 0 for name in pages}
    for name in names:
        for page_name, page in pages.items():
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                page(name)
                samples[page_name].append((time.perf_counter() - started) * 1000)
            fallback_queries[page_name] += sum('"name_index" IN' in q["sql"] for q in queries)
    print(f"{connection.vendor}, {persons:,} persons, agency cases {agency_cases:,}, {NAMES} names")
    for page_name, values in samples.items():
        print(
            f"{page_name}: median {statistics.median(values):.0f} ms, max {max(values):.0f} ms,"
            f" whole-name queries {fallback_queries[page_name]}"
        )


if __name__ == "__main__":
    main()
