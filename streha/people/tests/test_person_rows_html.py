"""The person list's rows are built once per row in Python (``people.presentation``) instead of
a template node per cell, and the page reads only the person's columns it shows (issue 17:
every ms of CPU per request counts under load). What a user sees must not change: the markup
is compared with the row template it replaced, in the three languages, for named, unshared and
anonymised persons and values that need escaping."""

import uuid

import pytest
from django.db import connection
from django.template import engines
from django.utils import timezone
from django.utils.translation import override

from streha.accounts.models import Agency, Role
from streha.people.models import Person
from streha.people.presentation import person_rows_html
from streha.people.selectors import PersonRow
from streha.testing.factories import PersonFactory

# The per-cell rows as people/_person_rows.html printed them (until 1 Dec 2026).
PER_CELL_TEMPLATE = """{% load i18n %}  {% for row in page %}{% with person=row.person %}
  <tr>
    <td><a href="{% url 'people:detail' person.public_id %}">{{ person.reference }}</a></td>
    <td>{% if person.anonymised_at %}<em>{% translate "anonymised" %}</em>{% elif row.shows_identity %}{{ person.given_name }} {{ person.family_name }}{% else %}<span class="muted">{% translate "not shared with your agency" %}</span>{% endif %}</td>
    <td>{{ person.birth_year|default:"—" }}</td>
    <td>{{ person.owner_agency }}</td>
  </tr>
  {% endwith %}{% endfor %}"""  # noqa: E501


def person_row(pk, *, shows_identity=True, **values) -> PersonRow:
    # Rows of one agency share its name (the page formats each agency once).
    name = values.pop("agency", "Shelter")
    agency = Agency(pk=1 if name == "Shelter" else pk, code=f"A{pk}", name=name)
    fields = {
        "reference": f"P-2026-{pk:04d}",
        "given_name": "Vjollca",
        "family_name": "Testi",
        "birth_year": 1999,
        **values,
    }
    person = Person(pk=pk, public_id=uuid.UUID(int=pk), owner_agency=agency, **fields)
    return PersonRow(person=person, shows_identity=shows_identity)


ROWS = [
    person_row(1),
    person_row(2, shows_identity=False),
    person_row(3, anonymised_at=timezone.now()),
    person_row(4, birth_year=None),
    person_row(
        5,
        reference='P-<b>&"x"',
        given_name="<script>alert(1)</script>",
        family_name="O'Brien & Co",
        agency="<i>Agency</i> & co",
    ),
]


@pytest.mark.parametrize("language", ["en", "sq", "sr-latn"])
def test_person_rows_are_the_markup_the_per_cell_template_printed(language):
    template = engines["django"].from_string(PER_CELL_TEMPLATE)
    with override(language):
        for count in range(len(ROWS) + 1):
            rows = ROWS[:count]
            assert "  " + str(person_rows_html(rows)) == template.render({"page": rows})
    html = str(person_rows_html(ROWS))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.count("<tr>") == len(ROWS)


def _list_queries(client) -> list[str]:
    executed: list[str] = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get("/persons/")
    assert response.status_code == 200
    return executed


@pytest.mark.django_db
def test_the_list_page_reads_only_what_it_shows_and_no_query_per_row(client, make_user, agency):
    worker = make_user(Role.CASE_WORKER, agency=agency)
    client.force_login(worker)
    PersonFactory(owner_agency=agency, given_name="Drita")
    client.get("/persons/")  # the session's first renewal is not the page's
    one = _list_queries(client)
    for _ in range(6):
        PersonFactory(owner_agency=agency)
    seven = _list_queries(client)
    assert len(seven) == len(one), "\n".join(seven)
    [read] = [sql for sql in seven if 'FROM "people_person" INNER JOIN' in sql]
    for column in ("narrative", "health_notes", "personal_number", "address", "name_index"):
        assert f'"people_person"."{column}"' not in read
    for column in ("data_key", "given_name", "family_name", "birth_year", "anonymised_at"):
        assert f'"people_person"."{column}"' in read
    assert "Drita" in client.get("/persons/").content.decode()
