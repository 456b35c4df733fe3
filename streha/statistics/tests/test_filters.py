"""Filters by agency kind, region and municipality: counted by the same code, suppressed after
filtering, and protected against differencing (the national table minus one municipality)."""

import csv
import datetime
import io
import random

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from streha.accounts.models import AgencyKind
from streha.cases.models import ExploitationType, Status
from streha.cases.tests.factories import CaseFactory
from streha.people.models import Gender
from streha.places.models import Municipality, Region
from streha.statistics import figures, filters
from streha.statistics.publication import CONFIDENTIAL, publish
from streha.testing.auth import reauthenticate
from streha.testing.factories import AgencyFactory, PersonFactory

YEAR = 2025


def _region(code):
    return Region.objects.create(code=code, country="XK", name_sq=code, name_sr=code, name_en=code)


def _municipality(code, region):
    return Municipality.objects.create(
        code=code, region=region, name_sq=code, name_sr=code, name_en=code
    )


def _victim(agency, municipality, *, gender=Gender.FEMININE, age=30):
    person = PersonFactory(
        owner_agency=agency, gender=gender, birth_year=YEAR - age, citizenship="XK"
    )
    return CaseFactory(
        owner_agency=agency,
        person=person,
        status=Status.PRESUMED_VICTIM,
        presumed_on=datetime.date(YEAR, 3, 1),
        reflection_ends_on=datetime.date(YEAR, 3, 31),
        exploitation_types=[ExploitationType.SEXUAL.value],
        first_contact_municipality=municipality,
    )


@pytest.fixture
def places(db):
    north, south = _region("north"), _region("south")
    return {
        "north": north,
        "south": south,
        "a": _municipality("mun-a", north),
        "b": _municipality("mun-b", north),
        "c": _municipality("mun-c", south),
    }


@pytest.fixture
def six_women(places):
    """Six adult women presumed in the year: 5 registered by the police in municipality a, 1 by
    a shelter in municipality b. Nationally the women column is 6 (published); municipality a
    alone would show 5, and 6 − 5 would give away the one woman of b."""
    police, shelter = AgencyFactory(kind=AgencyKind.POLICE), AgencyFactory(kind=AgencyKind.SHELTER)
    for _ in range(5):
        _victim(police, places["a"])
    _victim(shelter, places["b"])
    return places


def _table(code, table_filter=None):
    from streha.cases.models import Case
    from streha.tips.models import Tip

    return figures.table(
        Case.objects.all(), code, YEAR, tips=Tip.objects.all(), table_filter=table_filter
    )


def _filter(dimension, value):
    with translation.override("en"):
        return filters.parse({dimension: value}, "T01")


def test_a_filtered_table_counts_only_the_filtered_rows_with_the_same_code(six_women):
    police = _table("T01", _filter("agency_kind", "police"))
    shelter = _table("T01", _filter("agency_kind", "shelter"))
    national = _table("T01")
    women_adults = 3 + 1  # SEXES × AGES: female/child, female/adult, ...
    assert national.grid.cells[1][women_adults - 3] == 6  # presumed, female adults
    assert police.grid.cells[1][1] == 5 and shelter.grid.cells[1][1] == 1
    assert police.grid.grand_total + shelter.grid.grand_total == national.grid.grand_total
    by_area = [
        _table("T01", _filter("municipality", m)).grid.grand_total for m in ("mun-a", "mun-b")
    ]
    assert by_area == [5, 1]
    assert _table("T01", _filter("region", "north")).grid.grand_total == 6
    assert _table("T01", _filter("region", "south")).grid.grand_total == 0


def test_small_cells_of_a_filtered_table_are_suppressed(six_women):
    shelter = publish(_table("T01", _filter("agency_kind", "shelter")))
    presumed = shelter.rows[1]
    assert presumed[2] == CONFIDENTIAL  # the one woman of the shelter
    # Secondary suppression still holds: the row total and grand total would give her away.
    assert presumed[-1] == CONFIDENTIAL


def test_national_minus_one_municipality_cannot_reveal_a_hidden_cell(six_women):
    national = publish(_table("T01"))
    mun_a = publish(_table("T01", _filter("municipality", "mun-a")))
    assert national.rows[1][2] == 6  # presumed adult women: published nationally
    # Without the guard municipality a would publish 5 here, and 6 − 5 = 1 woman in b.
    assert mun_a.rows[1][2] == CONFIDENTIAL
    # The same holds for the agency kind (national minus the police) and the region
    # (region north minus municipality a).
    assert publish(_table("T01", _filter("agency_kind", "police"))).rows[1][2] == CONFIDENTIAL


def test_the_guard_hides_a_sibling_only_where_one_small_sibling_would_be_isolated():
    assert filters.hidden_among_siblings({"a": 5, "b": 1, "c": 0}, 5) == {"a", "b"}
    assert filters.hidden_among_siblings({"a": 7, "b": 1, "c": 2}, 5) == {"b", "c"}
    assert filters.hidden_among_siblings({"a": 7, "b": 6, "c": 9}, 5) == set()
    assert filters.hidden_among_siblings({"a": 7, "b": 6, "c": 1}, 5) == {"b", "c"}


def _published_cells(table):
    """(row label, column) -> published value ("c" when hidden), totals row included."""
    cells = {}
    for r, row in enumerate(table.rows):
        label = row[0] if r < len(table.table.row_labels) else "\x00total"
        for c, value in enumerate(row[1:]):
            cells[(label, c)] = value
    return cells


def _lone_hidden(parent, siblings, exact, key):
    """Siblings whose exact value at ``key`` is non-zero and not published, when the parent's
    cell is published: one alone would be the parent minus the published ones."""
    if parent.get(key, 0) == CONFIDENTIAL:
        return []
    return [v for v in siblings if siblings[v].get(key, 0) == CONFIDENTIAL and exact[v](key)]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_no_filter_differences_out_a_hidden_cell_on_random_data(places, seed):
    """Random victims over three municipalities in two regions and two agency kinds: at every
    cell position where the parent (the national table, or a region's) is published, the
    siblings (agency kinds, regions, municipalities) never hold exactly one hidden non-zero
    cell, which the parent minus the published siblings would give away."""
    rng = random.Random(seed)
    agencies = [AgencyFactory(kind=AgencyKind.POLICE), AgencyFactory(kind=AgencyKind.SHELTER)]
    for _ in range(rng.randint(12, 40)):
        _victim(
            rng.choice(agencies),
            rng.choice([places["a"], places["b"], places["c"]]),
            gender=rng.choice([Gender.FEMININE, Gender.MASCULINE]),
            age=rng.choice([12, 30]),
        )
    for code in ("T01", "T02", "T03"):
        national = _published_cells(publish(_table(code)))
        levels = [
            (national, "agency_kind", ["police", "shelter"]),
            (national, "region", ["north", "south"]),
            (national, "municipality", ["mun-a", "mun-b", "mun-c"]),
            (_published_cells(publish(_table(code, _filter("region", "north")))),
             "municipality", ["mun-a", "mun-b"]),
        ]  # fmt: skip
        for parent, dimension, values in levels:
            tables = {v: _table(code, _filter(dimension, v)) for v in values}
            exact = {v: (lambda key, t=t: _exact_at(t, key)) for v, t in tables.items()}
            shown = {
                v: _published_cells(publish(_table(code, _filter(dimension, v)))) for v in values
            }
            for key in parent:
                lone = _lone_hidden(parent, shown, exact, key)
                assert len(lone) != 1, (code, dimension, lone, key)
            # And the published figures of the siblings add up to the parent where all are shown.
            for key, total in parent.items():
                if total != CONFIDENTIAL and all(
                    shown[v].get(key, 0) != CONFIDENTIAL for v in values
                ):
                    assert sum(shown[v].get(key, 0) for v in values) == total


def test_persons_of_unknown_municipality_cannot_be_differenced_out(six_women):
    """One woman with no municipality: the national table minus every municipality's would be
    her, so another municipality's cell is hidden with hers."""
    _victim(AgencyFactory(kind=AgencyKind.POLICE), None)
    _victim(AgencyFactory(kind=AgencyKind.POLICE), six_women["c"])
    for _ in range(4):
        _victim(AgencyFactory(kind=AgencyKind.POLICE), six_women["c"])
    national = publish(_table("T01"))
    assert national.rows[1][2] == 12  # 5 in a, 1 in b, 5 in c, 1 unknown
    shown = [
        publish(_table("T01", _filter("municipality", m))).rows[1][2]
        for m in ("mun-a", "mun-b", "mun-c")
    ]
    assert shown.count(CONFIDENTIAL) >= 2  # b, and one more: the rest is never one person


def _exact_at(table, key):
    label, c = key
    labels = [str(label) for label in table.row_labels]
    if label != "\x00total" and label not in labels:
        return 0
    r = len(labels) if label == "\x00total" else labels.index(label)
    return table.grid.value((r, c)) or 0


def test_a_filter_that_does_not_apply_is_refused_with_the_reason(places):
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        filters.parse({"agency_kind": "police"}, "T06")
    assert "no place of the offence" in " ".join(refused.value.messages)
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        filters.parse({"agency_kind": "police"}, "TIP1")
    assert "from the public" in " ".join(refused.value.messages)
    assert filters.parse({"municipality": "mun-a"}, "TIP2").value == "mun-a"


def test_one_filter_at_a_time_and_values_from_the_list(places):
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        filters.parse({"agency_kind": "police", "region": "north"}, "T01")
    assert "one filter at a time" in " ".join(refused.value.messages)
    for bad in ({"agency_kind": "army"}, {"region": "nowhere"}, {"municipality": "x"}):
        with pytest.raises(ValidationError):
            filters.parse(bad, "T01")


@pytest.fixture
def analyst(make_user, six_women):
    return make_user("analyst", agency=AgencyFactory(kind=AgencyKind.NATIONAL_COORDINATOR))


def test_the_page_and_its_downloads_state_the_filter(client, analyst):
    client.force_login(analyst)
    reauthenticate(client, analyst)
    client.cookies["django_language"] = "en"
    url = reverse("statistics:table", args=["T01"])
    page = client.get(url, {"year": YEAR, "municipality": "mun-a"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Municipality: mun-a" in html
    assert "municipality=mun-a&amp;format=csv" in html
    download = client.get(url, {"year": YEAR, "municipality": "mun-a", "format": "csv"})
    assert "T01-2025-municipality-mun-a.csv" in download["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    # The file names the filter and when its figures were counted (a small scope: now).
    assert rows[0][0].startswith("Category (Municipality: mun-a) (Figures counted just now, ")
    assert rows[1:] == [[str(cell) for cell in row] for row in page.context["published"].rows]
    xlsx = client.get(url, {"year": YEAR, "agency_kind": "police", "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert next(sheet.iter_rows(min_row=2, max_row=2, values_only=True))[0] == "Agency kind: Police"


def test_the_page_refuses_a_bad_filter_with_a_message(client, analyst):
    client.force_login(analyst)
    reauthenticate(client, analyst)
    client.cookies["django_language"] = "en"
    url = reverse("statistics:table", args=["T06"])
    page = client.get(url, {"year": YEAR, "region": "north"})
    assert page.status_code == 400
    assert "cannot be filtered that way" in page.content.decode()
    download = client.get(url, {"year": YEAR, "region": "north", "format": "csv"})
    assert download.status_code == 400 and "Content-Disposition" not in download


@pytest.mark.parametrize("code", ["T06", "T07", "T14", "T16"])
def test_the_page_says_why_a_filter_does_not_apply(client, analyst, code):
    client.force_login(analyst)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("statistics:table", args=[code]), {"year": YEAR})
    html = page.content.decode()
    assert "do not apply to this table" in html
    assert str(filters.NOT_APPLICABLE[code]) in html
    assert 'name="agency_kind"' not in html


def test_the_api_takes_the_same_filters(api_client, analyst):
    api_client.force_authenticate(analyst)
    url = "/api/v1/statistics/tables/T01/"
    response = api_client.get(
        url, {"year": YEAR, "agency_kind": "shelter"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    assert response.json()["filter"] == "Agency kind: Shelter / NGO"
    assert response.json()["rows"][-1][-1] == CONFIDENTIAL
    refused = api_client.get(url, {"year": YEAR, "agency_kind": "army"})
    assert refused.status_code == 400
