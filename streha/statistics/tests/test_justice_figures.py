"""Golden justice tables (T06–T14): records whose figures are known by hand, cell by cell,
before and after suppression; duplicate clusters counted once; witnesses never exact."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from streha.accounts.models import AgencyKind
from streha.cases.models import Case, CaseEvent, Status
from streha.cases.tests.factories import CaseFactory
from streha.justice.models import (
    Charge,
    ChargeStage,
    Confiscation,
    CriminalCase,
    Defendant,
    EventKind,
    InjuredParty,
    Instance,
    Judgment,
    Offence,
    Outcome,
    ProceedingEvent,
    ProtectionOrder,
    ResidencePermit,
    Sentence,
    SentenceKind,
    StateCompensation,
    Witness,
)
from streha.people.models import Gender
from streha.statistics import figures
from streha.statistics.publication import publish
from streha.testing.factories import AgencyFactory, PersonFactory

YEAR = 2025
D = datetime.date
F, M = Gender.FEMININE, Gender.MASCULINE


def _cells(table):
    grid = table.grid
    if not grid.margins:
        return [[grid.value((r, c)) for c in range(grid.n_cols)] for r in range(grid.n_rows)]
    return [[grid.value((r, c)) for c in range(grid.n_cols + 1)] for r in range(grid.n_rows + 1)]


def _offence(code, article):
    return Offence.objects.get(criminal_code__code=code, article=article)


@pytest.fixture
def justice_year(db):
    """Case A (2025): five defendants reported and indicted, four convicted at first instance,
    one of them finally; A5's trafficking charge reclassified at the indictment. Case B (2025):
    a report naming B1 only (B2 is not suspected by it). Case C (2024) links a third victim."""
    from streha.justice.catalogue import load_offences

    load_offences("XK")
    police = AgencyFactory(kind=AgencyKind.POLICE)
    core, sexual, prostitution = (
        _offence("06/L-074", "165"),
        _offence("06/L-074", "234"),
        _offence("06/L-074", "233"),
    )

    def person(gender, citizenship="XK"):
        return PersonFactory(owner_agency=police, gender=gender, citizenship=citizenship)

    def victim(gender, citizenship="XK"):
        case = CaseFactory(
            owner_agency=police,
            person=person(gender, citizenship),
            status=Status.IDENTIFIED,
            presumed_on=D(YEAR, 1, 10),
            decided_on=D(YEAR, 5, 1),
        )
        CaseEvent.objects.create(case=case, kind="identify", to_status=Status.IDENTIFIED)
        return case

    v1, v2, v3 = victim(F), victim(M, "AL"), victim(F)
    a = CriminalCase.objects.create(reference="CC-A", opened_on=D(YEAR, 2, 1))
    b = CriminalCase.objects.create(reference="CC-B", opened_on=D(YEAR, 3, 1))
    c = CriminalCase.objects.create(reference="CC-C", opened_on=D(YEAR - 1, 6, 1))
    a.victim_cases.add(v1, v2)
    c.victim_cases.add(v3)

    def event(case, kind, day, defendant=None):
        return ProceedingEvent.objects.create(
            case=case, kind=kind, occurred_on=day, defendant=defendant
        )

    event(a, EventKind.CRIMINAL_REPORT, D(YEAR, 2, 10))
    event(a, EventKind.INDICTMENT_FILED, D(YEAR, 6, 1))
    event(c, EventKind.CRIMINAL_REPORT, D(YEAR - 1, 6, 10))
    # A report of the year that was withdrawn by a correction is not counted.
    wrong = event(c, EventKind.INDICTMENT_FILED, D(YEAR, 1, 5))
    ProceedingEvent.objects.create(
        case=c, kind=EventKind.INDICTMENT_FILED, occurred_on=D(YEAR, 1, 6), corrects=wrong,
        withdrawn=True,
    )  # fmt: skip

    defendants = {}
    for label, gender, citizenship in (
        ("A1", M, "XK"), ("A2", M, "XK"), ("A3", M, "XK"), ("A4", F, "AL"), ("A5", M, "XK"),
    ):  # fmt: skip
        d = Defendant.objects.create(case=a, person=person(gender, citizenship), label=label)
        Charge.objects.create(
            defendant=d, offence=core, stage=ChargeStage.REPORT, recorded_on=D(YEAR, 2, 10)
        )
        defendants[label] = d
    first_a5 = Charge.objects.get(defendant=defendants["A5"])
    Charge.objects.create(
        defendant=defendants["A5"],
        offence=prostitution,
        stage=ChargeStage.INDICTMENT,
        replaces=first_a5,
        recorded_on=D(YEAR, 6, 1),
    )
    b1 = Defendant.objects.create(case=b, person=person(F), label="B1")
    Defendant.objects.create(case=b, person=person(M, ""), label="B2")
    Charge.objects.create(
        defendant=b1, offence=sexual, stage=ChargeStage.REPORT, recorded_on=D(YEAR, 3, 5)
    )
    event(b, EventKind.SPECIAL_REPORT, D(YEAR, 3, 5), defendant=b1)
    defendants["B1"] = b1

    def judgment(label, outcome, sentences=(), *, instance=Instance.FIRST, final=False, day=None):
        j = Judgment.objects.create(
            case=a,
            defendant=defendants[label],
            instance=instance,
            outcome=outcome,
            decided_on=day or D(YEAR, 10, 1),
            final=final,
        )
        for kind, months, below in sentences:
            Sentence.objects.create(judgment=j, kind=kind, months=months, below_minimum=below)

    prison, suspended, fine = SentenceKind.IMPRISONMENT, SentenceKind.SUSPENDED, SentenceKind.FINE
    judgment("A1", Outcome.CONVICTED, [(prison, 96, False)])
    judgment("A2", Outcome.CONVICTED, [(prison, 30, True)])
    judgment("A3", Outcome.PARTLY, [(suspended, 12, False)])
    judgment("A4", Outcome.ACQUITTED)
    judgment("A5", Outcome.CONVICTED, [(fine, None, False)])
    judgment(
        "A1",
        Outcome.CONVICTED,
        [(prison, 96, False)],
        instance=Instance.APPEAL,
        final=True,
        day=D(YEAR, 12, 1),
    )

    for case, stage, asset, value, day in (
        (a, "seized", "cash", "1000.40", D(YEAR, 4, 1)),
        (a, "confiscated", "cash", "1000.00", D(YEAR, 10, 1)),
        (a, "seized", "vehicle", "5000.00", D(YEAR, 4, 1)),
        (b, "seized", "cash", "200.00", D(YEAR, 4, 2)),
        (b, "seized", "cash", "999.00", D(YEAR - 1, 4, 2)),  # the year before
    ):
        Confiscation.objects.create(
            case=case, stage=stage, asset=asset, value_eur=Decimal(value), decided_on=day
        )

    p1 = InjuredParty.objects.create(
        case=a,
        victim_case=v1,
        label="V1",
        claim_filed=True,
        amount_claimed=Decimal("10000"),
        decision="granted",
        amount_awarded=Decimal("4000"),
        amount_paid=Decimal("1000"),
        decided_on=D(YEAR, 10, 1),
    )
    p2 = InjuredParty.objects.create(
        case=a, victim_case=v2, label="V2", claim_filed=True, decision="rejected",
        decided_on=D(YEAR, 10, 1),
    )  # fmt: skip
    StateCompensation.objects.create(injured_party=p1, applied_on=D(YEAR, 11, 1))
    ResidencePermit.objects.create(
        injured_party=p2, ground="cooperation", status="issued", decided_on=D(YEAR, 7, 1)
    )
    ResidencePermit.objects.create(
        injured_party=p2, ground="cooperation", status="renewed", decided_on=D(YEAR, 12, 1)
    )

    w1 = Witness.objects.create(case=a, pseudonym="W-1", kind="ordinary", added_on=D(YEAR, 4, 1))
    w2 = Witness.objects.create(case=a, pseudonym="W-2", kind="ordinary", added_on=D(YEAR, 4, 1))
    for witness, measures, status, day in (
        (w1, ["pseudonym", "distortion"], "in_force", D(YEAR, 5, 1)),
        (w2, ["pseudonym"], "refused", D(YEAR, 5, 2)),
        (w2, ["pseudonym"], "in_force", D(YEAR, 8, 1)),  # the latest order of the year decides
    ):
        ProtectionOrder.objects.create(
            witness=witness,
            measures=measures,
            judge="Judge",
            legal_basis="Law",
            ordered_on=day,
            status=status,
        )
    return defendants


@pytest.fixture
def tables(justice_year):
    found = figures.national_tables(
        Case.objects.all(), YEAR, criminal_cases=CriminalCase.objects.all()
    )
    return {t.code: t for t in found}


# T06 columns: female × (national, EU, non-EU, unknown), male × …, other/unknown × …, total.
def test_table_6_persons_by_stage_sex_and_citizenship(tables):
    z = [0] * 4
    assert _cells(tables["T06"]) == [
        [0, 0, 1, 0, 3, 0, 0, 0, *z, 4],  # trafficking · suspected: A1–A4
        [0, 0, 1, 0, 3, 0, 0, 0, *z, 4],  # · prosecuted
        [0, 0, 0, 0, 3, 0, 0, 0, *z, 3],  # · convicted first instance: A1, A2, A3
        [0, 0, 0, 0, 1, 0, 0, 0, *z, 1],  # · final: A1
        [1, 0, 0, 0, 1, 0, 0, 0, *z, 2],  # related · suspected: B1, A5 (reclassified)
        [0, 0, 0, 0, 1, 0, 0, 0, *z, 1],  # · prosecuted: A5
        [0, 0, 0, 0, 1, 0, 0, 0, *z, 1],  # · convicted: A5
        [0] * 13,
        *([[0] * 13] * 4),  # other offences: nobody
        [1, 0, 1, 0, 4, 0, 0, 0, *z, 6],  # persons at any stage (B2 at none)
    ]


def test_table_6_suppressed_hides_every_small_count_and_keeps_zeros(tables):
    rows = publish(tables["T06"]).rows
    # Every non-zero count is below 5 except the grand total of 6; the three hidden column
    # totals add up to 6 but cannot be told apart, so 6 may be shown.
    c = "c"
    assert rows[0][1:] == [0, 0, c, 0, c, 0, 0, 0, 0, 0, 0, 0, c]
    assert rows[-1][1:] == [c, 0, c, 0, c, 0, 0, 0, 0, 0, 0, 0, 6]
    assert all(cell in (0, c) for row in rows[:-1] for cell in row[1:])


def test_table_6_counts_a_linked_duplicate_once(tables, justice_year):
    from streha.linkage.models import PersonCluster

    # B1 and A5 are two records of one person (say the linkage review found so): one person.
    a5, b1 = justice_year["A5"].person_id, justice_year["B1"].person_id
    cluster = min(a5, b1)
    PersonCluster.objects.bulk_create(
        [PersonCluster(person_id=a5, cluster=cluster), PersonCluster(person_id=b1, cluster=cluster)]
    )
    t6 = figures.table(Case.objects.all(), "T06", YEAR, criminal_cases=CriminalCase.objects.all())
    assert _cells(t6)[4][-1] == 1  # related · suspected: one person, not two
    assert _cells(t6)[-1][-1] == 5


def test_every_definition_of_persons_says_a_cluster_counts_once():
    from django.utils import translation

    from streha.statistics.definitions import DEFINITIONS

    with translation.override("en"):
        for code, definition in DEFINITIONS.items():
            rule, unit = str(definition.rule), str(definition.unit)
            if "person" in unit:
                assert "cluster" in rule or "as in table 1" in rule, code
        assert "cluster" in str(DEFINITIONS["T01"].rule)


def test_table_7_attrition_by_year_and_cohort(tables):
    # By year: 3 identified; 2 in case A (opened this year; C was opened the year before);
    # reports A and B; indictment A (C's was withdrawn); convictions A. Cohort: the 3 victims
    # identified this year are in A and C, followed to date (C's report of the year before).
    assert _cells(tables["T07"]) == [[3, 3], [2, 3], [2, 2], [1, 1], [1, 1], [1, 1]]
    assert publish(tables["T07"]).rows[0][1:] == ["c", "c"]  # no totals, primary only


def test_table_8_offences_by_article_with_the_code_version(tables):
    t8 = tables["T08"]
    labels = [str(label) for label in t8.row_labels]
    by_label = dict(zip(labels, _cells(t8), strict=False))
    assert by_label[next(lb for lb in labels if "06/L-074 Art. 165" in lb)] == [5, 0, 0, 5]
    assert by_label[next(lb for lb in labels if "06/L-074 Art. 234" in lb)] == [1, 0, 0, 1]
    assert by_label[next(lb for lb in labels if "06/L-074 Art. 233" in lb)] == [0, 1, 0, 1]
    assert any("04/L-082 Art. 171" in lb for lb in labels)  # the older code's article too
    assert _cells(t8)[-1] == [6, 1, 0, 7]
    assert not t8.series_break  # 2025 is no break year


def test_series_break_year_is_flagged(justice_year):
    t8 = figures.table(Case.objects.all(), "T08", 2019, criminal_cases=CriminalCase.objects.all())
    assert t8.series_break
    assert any("06/L-074" in str(note) for note in t8.notes)


def test_table_9_sentence_bands_and_below_minimum(tables):
    cells = _cells(tables["T09"])
    # Rows: first instance × (acquitted, rejected, fine, suspended, <1, 1–5, 5–12, >12, other),
    # then final × the same; columns: at or above the minimum, below it; total.
    assert cells[:9] == [
        [1, 0, 1],  # A4 acquitted
        [0, 0, 0],
        [1, 0, 1],  # A5 fine
        [1, 0, 1],  # A3 suspended
        [0, 0, 0],
        [0, 1, 1],  # A2 30 months, below the minimum
        [1, 0, 1],  # A1 96 months
        [0, 0, 0],
        [0, 0, 0],
    ]
    assert cells[9:18] == [[0, 0, 0]] * 6 + [[1, 0, 1]] + [[0, 0, 0]] * 2  # A1 final
    assert cells[18] == [5, 1, 6]


def test_table_10_reclassified_charges(tables):
    t10 = tables["T10"]
    assert [str(label) for label in t10.row_labels] == [
        "06/L-074 Art. 165 → 06/L-074 Art. 233 "
        + Offence.objects.get(criminal_code__code="06/L-074", article="233").title
    ]
    assert _cells(t10) == [[1, 0, 1], [1, 0, 1]]


def test_table_11_confiscation_cases_and_euros(tables):
    t11 = tables["T11"]
    cells = _cells(t11)
    # Rows: cash, bank account, real estate, vehicle, business, other; total (cases, distinct).
    assert cells[0] == [2, 1, 2] and cells[3] == [1, 0, 1] and cells[-1] == [2, 1, 2]
    amounts = t11.amounts
    assert [amounts.value((0, c)) for c in range(3)] == [1200, 1000, 2200]
    assert [amounts.value((3, c)) for c in range(3)] == [5000, 0, 5000]
    assert amounts.grand_total == 7200
    rows = publish(t11).rows
    # Every count is under 5, so every amount is hidden with it; zeros stay.
    assert rows[0][1:] == ["c", "c", "c", "c", "c", "c"]
    assert rows[1][1:] == [0, 0, 0, 0, 0, 0]
    assert publish(t11, exact=True).rows[0][1:] == [2, 1, 2, 1200, 1000, 2200]


def test_table_12_compensation_court_and_state(tables):
    t12 = tables["T12"]
    assert _cells(t12) == [
        [1, 1, 0, 2],  # claims filed in cases opened in the year: V1, V2
        [1, 0, 0, 1],  # granted: V1
        [1, 0, 0, 1],  # paid: V1
        [1, 0, 0, 1],  # state application: V1
        [0, 0, 0, 0],
        [0, 0, 0, 0],
        [1, 1, 0, 2],
    ]
    exact = publish(t12, exact=True).rows
    assert [row[-1] for row in exact] == [10000, 4000, 1000, "–", 0, 0, ""]
    assert [row[-1] for row in publish(t12).rows] == ["c", "c", "c", "c", 0, 0, ""]


def test_table_13_residence_permits(tables):
    cells = _cells(tables["T13"])
    # Rows: personal situation × (issued, renewed, refused), cooperation × …; V2 twice.
    assert cells[3] == [0, 1, 0, 1] and cells[4] == [0, 1, 0, 1]
    assert cells[-1] == [0, 1, 0, 1]  # one person in both rows


def test_table_14_witnesses_by_measure_never_exact(tables):
    t14 = tables["T14"]
    cells = _cells(t14)
    # Columns: requested, in force, refused, ended; W2's refused order was replaced.
    assert cells[0] == [0, 2, 0, 0, 2]  # pseudonym
    assert cells[2] == [0, 1, 0, 0, 1]  # distortion
    assert cells[-1] == [0, 2, 0, 0, 2]
    exact = publish(t14, exact=True)
    assert not exact.exact and exact.rows[0][1:] == [0, "c", 0, 0, "c"]
    text = " ".join(str(cell) for row in exact.rows for cell in row)
    assert "W-1" not in text and "W-2" not in text and "CC-A" not in text


def test_report_command_writes_the_justice_tables(justice_year, tmp_path):
    call_command("report", "national", "--year", str(YEAR), "--out", str(tmp_path))
    lines = (tmp_path / "T09.csv").read_text().splitlines()
    assert lines[0] == (
        "Category,At or above the statutory minimum,Below the statutory minimum,Total"
    )
    assert lines[1] == "First instance · Acquitted,c,0,c"
    assert (tmp_path / "T14.csv").exists()


def test_justice_sdmx_flags_confidential_cells_and_the_2019_break(justice_year, tmp_path):
    import csv
    import io

    # Move one report into 2019, the year the new code came into force.
    case = CriminalCase.objects.get(reference="CC-B")
    ProceedingEvent.objects.create(
        case=case, kind=EventKind.CRIMINAL_REPORT, occurred_on=D(2019, 5, 1)
    )
    for year, flag in ((YEAR, "c"), (2019, "bc")):
        out = tmp_path / str(year)
        call_command(
            "report", "national", "--year", str(year), "--out", str(out), "--format", "sdmx"
        )
        rows = list(csv.DictReader(io.StringIO((out / "eurostat-justice.sdmx.csv").read_text())))
        assert len(rows) == 12 * 13  # every stage × offence row, every sex × citizenship column
        # Suspected of a related offence, female nationals: B1 (and, in 2025, no one else).
        cell = next(
            r
            for r in rows
            if (r["LEG_STAT"], r["OFFENCE"], r["SEX"], r["CITIZEN"])
            == ("PER_SUSP", "THB_REL", "F", "NAT")
        )
        assert (cell["OBS_VALUE"], cell["OBS_FLAG"]) == ("", flag)
        zero = next(
            r
            for r in rows
            if (r["LEG_STAT"], r["OFFENCE"], r["SEX"], r["CITIZEN"])
            == ("PER_SUSP", "OTH", "F", "NAT")
        )
        assert zero["OBS_VALUE"] == "0" and zero["OBS_FLAG"] == ("b" if year == 2019 else "")


def test_a_year_without_records_publishes_every_table_with_its_columns(db):
    # No reclassification, no country of citizenship: tables without rows keep their columns.
    found = figures.national_tables(
        Case.objects.all(), YEAR, criminal_cases=CriminalCase.objects.all()
    )
    for table in found:
        published = publish(table)
        assert all(len(row) == len(published.header) for row in published.rows), table.code


@pytest.mark.parametrize(
    ("months", "band"),
    [(11, "under_1"), (12, "1_5"), (59, "1_5"), (60, "5_12"), (144, "5_12"), (145, "over_12")],
)
def test_sentence_bands_follow_the_reference_tables_at_their_edges(months, band):
    """justice-stats.md §6.3 (T9): "<1y, 1–<5y, 5–12y, >12y": exactly five years is 5–12."""
    from streha.statistics.justice import sentence_band

    assert sentence_band("convicted", [("imprisonment", months)]) == band
