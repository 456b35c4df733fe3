"""The national annual report at scale, beside hand-written SQL for the same kind of table.

Measures, on the pages benchmark's data (``BENCH_PERSONS`` persons, default 1,000,000, their
demo victim cases and the justice demo's criminal cases): the whole set of national tables for
one year as ``streha report national`` computes them (victim tables 1–5, 15, 16, the justice
tables 6–14 and the two tip tables), each table's own time, and the PDF of the report; one
hand-written SQL GROUP BY of table 1 (registered victims by status, sex and age, one person
counted once) as the reference; and the analyst's statistics page beside the
audited shell. Goal (issue 13): the whole report within 2× the time of computing its tables with
hand-written SQL (estimated as the table-1 query times the number of tables), the page's p95
within 2× the audited shell's. Writes var/bench/statistics.json.

Since session 6 the pages read figures counted by the job ``statistics.count_figures`` and
stored (``streha.statistics.stored``): the bench runs that job for the report's year (every
table, every filter, every scope; ``BENCH_COUNT_YEARS=10`` counts the ten years the pages offer,
as the nightly count does) and times it, then measures the table page and the analysts'
dashboard (``/statistics/``) p95 against the audited shell with the stored figures.
``BENCH_STORED_ONLY=1`` skips the live report figures above (minutes at 1,000,000 persons).
"""

import os
from datetime import date

import _common

REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "100"))
SEED = int(os.environ.get("BENCH_SEED", "7"))  # BENCH_YEAR: the report's year (default: last)

TABLE_1_SQL = """
WITH per_case AS (
  SELECT c.person_id,
         CASE WHEN c.decided_on >= %(start)s AND c.decided_on < %(end)s AND EXISTS (
                SELECT 1 FROM cases_caseevent e
                WHERE e.case_id = c.id AND e.to_status = 'identified')
              THEN 1 ELSE 0 END AS identified,
         c.age_at_identification AS age, CASE WHEN c.is_child THEN 1 ELSE 0 END AS is_child
  FROM cases_case c
  WHERE (c.presumed_on >= %(start)s AND c.presumed_on < %(end)s)
     OR (c.decided_on >= %(start)s AND c.decided_on < %(end)s)
), per_person AS (
  SELECT person_id, MAX(identified) AS identified, MIN(age) AS age, MAX(is_child) AS is_child
  FROM per_case GROUP BY person_id
)
SELECT pp.identified,
       CASE p.gender WHEN 'feminine' THEN 'female' WHEN 'masculine' THEN 'male' ELSE 'unknown' END,
       CASE WHEN COALESCE(pp.age, %(year)s - p.birth_year) IS NULL
                 THEN CASE WHEN pp.is_child = 1 THEN 'child' ELSE 'unknown' END
            WHEN COALESCE(pp.age, %(year)s - p.birth_year) < 18 THEN 'child' ELSE 'adult' END,
       COUNT(*)
FROM per_person pp JOIN people_person p ON p.id = pp.person_id
GROUP BY 1, 2, 3
"""


def main() -> None:
    _common.setup("pages")  # the same data as bench/pages.py
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from streha.access import policy
    from streha.accounts.models import Agency, AgencyKind, Role, RoleGrant, User
    from streha.cases.demo import generate_cases
    from streha.cases.models import Case
    from streha.jobs.services import execute_job, start_job
    from streha.justice.catalogue import load_offences
    from streha.justice.demo import generate_criminal_cases
    from streha.people.models import Person
    from streha.statistics import figures, selectors, stored
    from streha.statistics.definitions import DEFINITIONS
    from streha.statistics.jobs import COUNT_KIND
    from streha.statistics.pdf import annual_report
    from streha.statistics.publication import publish

    # BENCH_SKIP_GENERATE=1: measure a database made earlier as it is (e.g. a copy of the
    # 1,000,000-person pages database, with DATABASE_URL pointing at it).
    if not os.environ.get("BENCH_SKIP_GENERATE"):
        _common.ensure_demo(_common.persons_wanted(), seed=SEED)
        staff = {
            u.agency_id: u for u in User.objects.filter(username__contains=".").exclude(agency=None)
        }
        people = Person.objects.filter(reference__startswith=f"D{SEED}-")
        generate_cases(SEED, people, creators=staff)
        load_offences("XK")
        generate_criminal_cases(SEED)  # idempotent: none are added when the demo made them
    # Last year by default: the demo's records (victim and justice) lie in the past, so this
    # year's tables would be nearly empty and measure only fixed costs.
    year = int(os.environ.get("BENCH_YEAR", timezone.localdate().year - 1))
    cases = policy.cases_for_national_report()
    criminal_cases = selectors.criminal_cases_for_national_report()
    tips = policy.tips_for_national_report()

    def report():
        return figures.national_tables(cases, year, tips=tips, criminal_cases=criminal_cases)

    def each_table() -> dict[str, float]:
        return {
            code: _common.summary(
                _common.timed(
                    lambda code=code: figures.table(
                        cases, code, year, tips=tips, criminal_cases=criminal_cases
                    ),
                    1,
                )
            )["median_ms"]
            for code in [t.code for t in report()]
        }

    def pdf():
        published = [publish(table) for table in report()]
        annual_report(published, year, made_on=timezone.localdate())

    params = {"start": date(year, 1, 1), "end": date(year + 1, 1, 1), "year": year}

    def table_1_sql():
        with connection.cursor() as cursor:
            cursor.execute(TABLE_1_SQL, params)
            cursor.fetchall()

    stored_only = bool(os.environ.get("BENCH_STORED_ONLY"))
    report_ms = sql_ms = pdf_ms = {"median_ms": None}
    per_table_ms: dict = {}
    filtered_ms = None
    tables = len(DEFINITIONS)
    if not stored_only:
        report_ms = _common.summary(_common.timed(report, REPEAT))
        sql_ms = _common.summary(_common.timed(table_1_sql, REPEAT))
        tables = len(report())
        per_table_ms = each_table()
        pdf_ms = _common.summary(_common.timed(pdf, 1))
        # One filtered table: the filter counts every sibling (each municipality) to guard against
        # differencing, so it costs more than the national table.
        from streha.places.models import Municipality
        from streha.statistics import filters

        municipality = Municipality.objects.order_by("code").first()
        filtered_ms = None
        if municipality is not None:
            municipality_filter = filters.parse({"municipality": municipality.code}, "T01")

            def filtered():
                table = figures.table(cases, "T01", year, table_filter=municipality_filter)
                publish(table)

            filtered_ms = _common.summary(_common.timed(filtered, REPEAT))["median_ms"]

    coordinator = Agency.objects.filter(kind=AgencyKind.NATIONAL_COORDINATOR).first()
    analyst, _created = User.objects.get_or_create(
        username="bench.analyst", defaults={"agency": coordinator, "email": "bench@invalid"}
    )
    # In effect at once, as a second administrator's approval would make it.
    grant, _new = RoleGrant.objects.get_or_create(user=analyst, role=Role.ANALYST)
    if grant.approved_at is None:  # a grant left by an earlier run, before approvals existed
        grant.approved_at = timezone.now()
        grant.save(update_fields=["approved_at"])
    client = Client()
    client.force_login(analyst)

    # The job the pages read from, timed as the worker runs it (for the year measured, or the
    # ten years the pages offer with BENCH_COUNT_YEARS=10).
    years = [year - i for i in range(int(os.environ.get("BENCH_COUNT_YEARS", "1")))]
    _common.say(f"counting the published figures of {years} (every table, filter and scope)")
    job = start_job(COUNT_KIND, None, {"years": years, "scheduled": True})
    count_ms = _common.timed(lambda: execute_job(str(job.public_id)), 1)[0]
    job.refresh_from_db()
    assert job.state == "succeeded", job.error
    _common.say(f"counted in {count_ms / 1000:.1f} s: {job.result}")

    # The pages read the stored figures (not a live count).
    assert stored.figures_for(analyst, "T01", year).live is False

    def page():
        response = client.get(f"/statistics/T01/?year={year}")
        assert response.status_code == 200, response.status_code

    def dashboard():
        response = client.get(f"/statistics/?year={year}")
        assert response.status_code == 200, response.status_code

    def audited_shell():
        assert client.get("/_audited_shell/").status_code == 200

    settings.ROOT_URLCONF = "_urls"
    samples = _common.round_robin(
        {"page": page, "dashboard": dashboard, "audited_shell": audited_shell}, REQUESTS, 5
    )
    page_ms, shell_ms = _common.summary(samples["page"]), _common.summary(samples["audited_shell"])
    dashboard_ms = _common.summary(samples["dashboard"])
    figures_out = {
        "database": connection.vendor,
        "persons": Person.objects.count(),
        "cases": Case.objects.count(),
        "year": year,
        "tables": tables,
        "criminal_cases": criminal_cases.count(),
        "per_table_ms": per_table_ms,
        "report_pdf_ms": pdf_ms["median_ms"],
        "table_1_filtered_by_municipality_ms": filtered_ms,
        "report_median_ms": report_ms["median_ms"],
        "table_1_sql_median_ms": sql_ms["median_ms"],
        "report_vs_hand_written_sql": None
        if stored_only
        else round(report_ms["median_ms"] / (sql_ms["median_ms"] * tables), 2),
        "count_job_years": years,
        "count_job_s": round(count_ms / 1000, 1),
        "count_job_result": job.result,
        "table_page_reads": "stored figures",
        "table_page_p95_ms": page_ms["p95_ms"],
        "audited_shell_p95_ms": shell_ms["p95_ms"],
        "table_page_p95_vs_audited_shell": round(page_ms["p95_ms"] / shell_ms["p95_ms"], 2),
        "dashboard_p95_ms": dashboard_ms["p95_ms"],
        "dashboard_p95_vs_audited_shell": round(dashboard_ms["p95_ms"] / shell_ms["p95_ms"], 2),
    }
    rows = [
        ("whole report", report_ms["median_ms"], ""),
        ("table 1, hand-written SQL", sql_ms["median_ms"], ""),
        ("report / (SQL × tables) (goal <= 2)", figures_out["report_vs_hand_written_sql"], ""),
        ("report PDF (one language)", pdf_ms["median_ms"], ""),
        ("table 1 filtered by a municipality", filtered_ms, ""),
        *((f"  {code}", ms, "") for code, ms in per_table_ms.items()),
        ("count job (wall time, s)", figures_out["count_job_s"], ""),
        ("table page p95", page_ms["p95_ms"], figures_out["table_page_p95_vs_audited_shell"]),
        ("dashboard p95", dashboard_ms["p95_ms"], figures_out["dashboard_p95_vs_audited_shell"]),
        ("audited shell p95", shell_ms["p95_ms"], 1.0),
    ]
    rows = [(what, "-" if value is None else value, ratio) for what, value, ratio in rows]
    print(_common.table(rows, ("what", "ms or ratio", "vs audited shell (goal <= 2)")))
    print("written:", _common.write("statistics", figures_out))


if __name__ == "__main__":
    main()
