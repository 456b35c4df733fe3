"""Search's whole-name fallback read alone, at ``BENCH_PERSONS`` on ``pages-<N>``: the read of
session 7 (every holder of the whole-name value) against the marker's probe (holders not
marked current, ``people.name_index.not_current_ids``), interleaved in one process, for the
full names of 20 persons of the busiest case worker's agency, three times each.

Usage: ``cd bench && BENCH_PERSONS=1000000 ../.venv/bin/python search_fallback.py`` (migrates
first, as ``pages.py`` does; run ``streha reindex_names`` on the set before)."""

import statistics
import time

import _common


def main() -> None:
    _common.setup(f"pages-{_common.persons_wanted()}")
    from streha.accounts.models import Role
    from streha.audit import read_context
    from streha.people.models import Person
    from streha.people.name_index import not_current_ids

    _user, _count, cases = _common.busiest_case_worker([Role.CASE_WORKER, Role.INVESTIGATOR])
    cases = list(cases.select_related("person")[:20])
    with read_context.system("benchmark: search terms"):
        names = [f"{c.person.given_name} {c.person.family_name}" for c in cases]
    field = Person._meta.get_field("name_index")
    old, new, held, unmarked = [], [], [], []
    for _ in range(3):
        for name in names:
            bucket = Person.objects.filter(name_index__in=field.lookups_of(name))
            started = time.perf_counter()
            ids = list(bucket.order_by().values_list("pk", flat=True))
            old.append((time.perf_counter() - started) * 1000)
            held.append(len(ids))
            started = time.perf_counter()
            ids = list(not_current_ids(bucket))
            new.append((time.perf_counter() - started) * 1000)
            unmarked.append(len(ids))
    print(
        f"holders read per search: every holder median {statistics.median(held):.0f}"
        f" (max {max(held)}); not current {max(unmarked)}"
    )
    print(
        f"fallback read ms: every holder median {statistics.median(old):.2f} (max"
        f" {max(old):.1f}); not current median {statistics.median(new):.2f} (max {max(new):.1f})"
    )


if __name__ == "__main__":
    main()
