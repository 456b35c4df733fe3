"""Case pages at scale: the case list (filtered, paged), the case page and case search (POST,
blind index), each beside the floor (an empty Django view) measured in the same run.

Scale: ``BENCH_PERSONS`` persons (default 1,000,000) and 0.3 × as many cases. Goal (issue 4):
every page's p95 within 3× the floor. Also measured: the "audited shell" (the base template and
one audit event, what every staff page must do), to show how much of a page's time is its own.
Requests go round robin over the floor, the shell and the pages. Writes var/bench/pages.json.
"""

import os
from itertools import count

import _common

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "300"))
SEED = int(os.environ.get("BENCH_SEED", "7"))


def main() -> None:
    _common.setup("pages")
    from django.conf import settings
    from django.db.models import Count
    from django.test import Client

    settings.ROOT_URLCONF = "_urls"
    from streha.accounts.models import Role, User
    from streha.cases.demo import generate_cases
    from streha.cases.models import Case, Status
    from streha.people.models import Person

    wanted = _common.persons_wanted()
    _common.ensure_demo(wanted, seed=SEED)
    staff = {
        u.agency_id: u for u in User.objects.filter(username__contains=".").exclude(agency=None)
    }
    generate_cases(SEED, Person.objects.filter(reference__startswith=f"D{SEED}-"), creators=staff)

    # The busiest agency that has a case worker or investigator among the demo staff.
    workers = User.objects.filter(role_grants__role__in=[Role.CASE_WORKER, Role.INVESTIGATOR])
    busiest = (
        Case.objects.filter(owner_agency__in=workers.values("agency"))
        .values("owner_agency")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    user = workers.filter(agency_id=busiest["owner_agency"]).first()
    cases = list(
        Case.objects.filter(owner_agency_id=user.agency_id)
        .select_related("person")
        .order_by("-pk")[:REQUESTS]
    )
    names = [f"{c.person.given_name} {c.person.family_name}" for c in cases[:REQUESTS]]
    client = Client()
    client.force_login(user)
    statuses = ["", *Status.values]
    ticks = count()

    def case_list():
        i = next(ticks)
        status = statuses[i % len(statuses)]
        response = client.get(f"/cases/?status={status}&page={1 + i % 5}")
        assert response.status_code == 200, response.status_code

    def case_detail():
        response = client.get(f"/cases/{cases[next(ticks) % len(cases)].public_id}/")
        assert response.status_code == 200, response.status_code

    def search():
        response = client.post("/cases/", {"q": names[next(ticks) % len(names)]})
        assert response.status_code == 200, response.status_code

    def floor():
        assert client.get("/_floor/").status_code == 200

    def audited_shell():
        assert client.get("/_audited_shell/").status_code == 200

    pages = {"case_list": case_list, "case_detail": case_detail, "search": search}
    references = {"floor": floor, "audited_shell": audited_shell}
    everything = {**references, **pages}
    for function in everything.values():  # warm caches and connections
        _common.timed(function, 20)
    # Round robin, so that the floor and every page see the same machine (a background job,
    # a WAL checkpoint) rather than one of them being measured in a quieter minute.
    samples = {name: [] for name in everything}
    for _ in range(REQUESTS):
        for name, function in everything.items():
            samples[name] += _common.timed(function, 1)
    floor_figures = _common.summary(samples["floor"])
    shell_figures = _common.summary(samples["audited_shell"])
    figures = {
        "persons": Person.objects.count(),
        "cases": Case.objects.count(),
        "requests": REQUESTS,
        "user_agency_cases": busiest["n"],
        "floor_median_ms": floor_figures["median_ms"],
        "floor_p95_ms": floor_figures["p95_ms"],
        "audited_shell_median_ms": shell_figures["median_ms"],
        "audited_shell_p95_ms": shell_figures["p95_ms"],
        "pages": {name: _common.summary(samples[name]) for name in pages},
    }
    rows = [
        ("floor", floor_figures["median_ms"], floor_figures["p95_ms"], "", ""),
        (
            "audited shell",
            shell_figures["median_ms"],
            shell_figures["p95_ms"],
            round(shell_figures["p95_ms"] / floor_figures["p95_ms"], 1),
            "",
        ),
    ]
    for name, result in figures["pages"].items():
        result["p95_vs_floor"] = round(result["p95_ms"] / floor_figures["p95_ms"], 1)
        result["p95_vs_audited_shell"] = round(result["p95_ms"] / shell_figures["p95_ms"], 1)
        rows.append(
            (
                name,
                result["median_ms"],
                result["p95_ms"],
                result["p95_vs_floor"],
                result["p95_vs_audited_shell"],
            )
        )
    headers = ("page", "median ms", "p95 ms", "p95 / floor (goal <= 3)", "p95 / audited shell")
    print(_common.table(rows, headers))
    print("written:", _common.write("pages", figures))


if __name__ == "__main__":
    main()
