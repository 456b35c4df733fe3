"""Justice pages at scale: the criminal case list (filtered, paged), the criminal case page and
the attrition funnel (the analyst's statistics API), each beside the floor (an empty Django
view) and the audited shell measured in the same run, as bench/pages.py does.

Scale: ``BENCH_PERSONS`` persons (default 1,000,000), 0.3 × as many victim cases and, from the
demo generator, about one criminal case per ten victim cases (30,000 at the default scale).
The data set is bench/pages.py's (var/bench/pages-<N>.sqlite3, or the PostgreSQL database
``<base>_pages_<N>`` with ``BENCH_DATABASE_URL``), so the two share one generation.
Requests go round robin over the floor, the shell and the pages. Writes var/bench/justice.json.
"""

import os
from itertools import count

import _common

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "300"))
SEED = int(os.environ.get("BENCH_SEED", "7"))


def main() -> None:
    wanted = _common.persons_wanted()
    _common.setup(f"pages-{wanted}")
    from django.conf import settings
    from django.test import Client

    settings.ROOT_URLCONF = "_urls"
    from streha.accounts.models import Role, User
    from streha.cases.models import Case
    from streha.justice import services
    from streha.justice.demo import generate_criminal_cases
    from streha.justice.models import CriminalCase, Stage
    from streha.people.models import Person

    if Person.objects.count() < wanted:  # else the data set is there: skip the idempotent pass
        _common.ensure_demo(wanted, seed=SEED)
        generate_criminal_cases(SEED)  # already done by the demo; idempotent
    services.count_uncounted()  # a data set made before the funnel kept its figures

    # The prosecutor of the office with the most criminal cases, and a national analyst.
    prosecutors = User.objects.filter(role_grants__role=Role.PROSECUTOR)
    prosecutor, office_cases = _common.busiest(
        prosecutors, CriminalCase.objects.all(), "prosecution_office"
    )
    analyst = User.objects.filter(
        role_grants__role=Role.ANALYST, agency__kind="national_coordinator"
    ).first()
    cases = list(
        CriminalCase.objects.filter(prosecution_office_id=prosecutor.agency_id).order_by("-pk")[
            :REQUESTS
        ]
    )
    years = sorted({c.opened_on.year for c in cases})
    client = Client()
    client.force_login(prosecutor)
    statistics = Client()
    statistics.force_login(analyst)
    filters = [
        "",
        *(f"stage={stage}" for stage in Stage.values),
        "offence=trafficking",
        "reclassified=on",
        "below_minimum=on",
        *(f"year={year}" for year in years[-3:]),
    ]
    ticks = count()

    def case_list():
        i = next(ticks)
        response = client.get(f"/justice/?{filters[i % len(filters)]}&page={1 + i % 3}")
        assert response.status_code == 200, response.status_code

    def case_detail():
        response = client.get(f"/justice/{cases[next(ticks) % len(cases)].public_id}/")
        assert response.status_code == 200, response.status_code

    def funnel():
        year = years[next(ticks) % len(years)]
        response = statistics.get(f"/api/v1/statistics/justice-funnel/?year={year}")
        assert response.status_code == 200, response.status_code

    def floor():
        assert client.get("/_floor/").status_code == 200

    def audited_shell():
        assert client.get("/_audited_shell/").status_code == 200

    pages = {"criminal_case_list": case_list, "criminal_case_detail": case_detail, "funnel": funnel}
    references = {"floor": floor, "audited_shell": audited_shell}
    everything = {**references, **pages}
    _common.say("warming the database")
    warmed = _common.warm_database()
    _common.say(warmed)
    samples = _common.round_robin(everything, REQUESTS)
    floor_figures = _common.summary(samples["floor"])
    shell_figures = _common.summary(samples["audited_shell"])
    from django.db import connection

    figures = {
        "database": connection.vendor,
        "database_warmed": warmed,
        "persons": Person.objects.count(),
        "victim_cases": Case.objects.count(),
        "criminal_cases": CriminalCase.objects.count(),
        "office_criminal_cases": office_cases,
        "requests": REQUESTS,
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
    headers = ("page", "median ms", "p95 ms", "p95 / floor", "p95 / audited shell")
    print(_common.table(rows, headers))
    print("written:", _common.write("justice", figures))
    print("written:", _common.write(f"justice-{wanted}-{connection.vendor}", figures))


if __name__ == "__main__":
    main()
