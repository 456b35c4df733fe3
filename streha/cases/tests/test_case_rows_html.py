"""The case list's rows are built once per row in Python (``presentation.case_rows_html``)
instead of a template node per cell (issue 17: the list within 2x the audited shell). What a
user sees must not change: the markup is compared with the row template it replaced, for rows
with and without a person, an assignee, a due task (overdue or not) and flags, and with values
that need escaping."""

import uuid
from datetime import date

import pytest
from django.template import engines
from django.utils.html import format_html
from django.utils.translation import override

from streha.cases.models import Case, Task, TaskKind
from streha.cases.presentation import (
    CaseRow,
    Step,
    TaskRow,
    case_rows_html,
    steps_html,
    task_rows_html,
)

# The per-cell row template the list printed before (cases/_case_rows.html, until 1 Dec 2026).
PER_CELL_TEMPLATE = """{% for row in rows %}
  <tr>
    <td><a href="{{ row.url }}">{{ row.reference }}</a></td>
    <td class="person">{{ row.person|default:"—" }}</td>
    <td>{{ row.stage }}</td>
    <td>{{ row.source }}</td>
    <td>{{ row.first_contact_on }}</td>
    <td>{{ row.agency }}</td>
    <td>{{ row.assignee|default:"—" }}</td>
    <td class="due">{% if row.due_on %}{% if row.overdue_days %}<strong class="flag overdue">{{ row.due_text }}</strong>{% else %}{{ row.due_text }}{% endif %} <small class="muted">{{ row.due_on }}</small>{% else %}—{% endif %}</td>
    <td class="flags">{% for text, strong in row.flags %}{% if strong %}<strong class="flag">{{ text }}</strong>{% else %}<span class="badge">{{ text }}</span>{% endif %}{% if not forloop.last %} {% endif %}{% empty %}—{% endfor %}</td>
  </tr>{% endfor %}"""  # noqa: E501


def row(**changes) -> CaseRow:
    values = {
        "url": "/cases/00000000-0000-0000-0000-000000000001/",
        "reference": "C-2026-0001",
        "person": "Vjollca Testi",
        "stage": "First contact",
        "source": "NGO",
        "first_contact_on": "01.12.2026",
        "agency": "Shelter",
        "assignee": "Rina Osmani",
        "due_on": "",
        "overdue_days": 0,
        "due_text": "",
        "flags": [],
    }
    return CaseRow(**{**values, **changes})


ROWS = [
    row(),
    row(person="", assignee=""),
    row(due_on="03.12.2026", due_text="due in 2 days"),
    row(due_on="01.10.2024", overdue_days=800, due_text="2 years overdue"),
    row(flags=[("Child without guardian", True), ("Urgent shelter", False)]),
    row(flags=[("Child", False)]),
    row(
        reference='C-<b>&"x"',
        person="<script>alert(1)</script> O'Brien",
        stage="A & B",
        agency="<i>Agency</i>",
        assignee="Ana <Ana>",
        due_on="<d>",
        overdue_days=3,
        due_text="3 days & more",
        flags=[("<flag>", True), ("a&b", False)],
    ),
]


@pytest.mark.parametrize("index", range(len(ROWS)))
def test_a_row_is_the_markup_the_per_cell_template_printed(index):
    rows = [ROWS[index]]
    expected = engines["django"].from_string(PER_CELL_TEMPLATE).render({"rows": rows})
    assert str(case_rows_html(rows)) == expected


def test_rows_in_order_and_every_value_escaped():
    rows_html = str(case_rows_html(ROWS))
    expected = engines["django"].from_string(PER_CELL_TEMPLATE).render({"rows": ROWS})
    assert rows_html == expected
    assert "<script>" not in rows_html and "&lt;script&gt;" in rows_html
    assert rows_html.count("<tr>") == len(ROWS)


def test_no_rows_no_markup():
    assert str(case_rows_html([])) == ""


# The case page's "next step" buttons as the template printed them (cases/_case_body.html).
PER_STEP_TEMPLATE = """{% for step in steps %}{% if step.url %}<a class="button secondary" id="step-{{ step.action }}" href="{{ step.url }}">{{ step.label }}</a> {% else %}<a class="button{% if not forloop.first %} secondary{% endif %}" id="step-{{ step.action }}{% if step.query %}-{{ forloop.counter }}{% endif %}" href="{{ case_url }}{{ step.action }}/{{ step.query }}" hx-get="{{ case_url }}{{ step.action }}/{{ step.query }}" hx-target="#action-panel">{{ step.label }}</a> {% endif %}{% endfor %}"""  # noqa: E501

STEPS = [
    Step("screen", "Screen <again>", "?questionnaire=adult&x=1"),
    Step("screen", "Screen (child)", "?questionnaire=child"),
    Step("decide", "Decide & record"),
    Step("note", "Add a note"),
    Step("open_criminal_case", "Open a criminal case", url="/justice/new/?case=1&x=<2>"),
]


@pytest.mark.parametrize("count", range(len(STEPS) + 1))
def test_step_buttons_are_the_markup_the_template_printed(count):
    steps, case_url = STEPS[:count], "/cases/00000000-0000-0000-0000-000000000001/"
    expected = engines["django"].from_string(PER_STEP_TEMPLATE)
    context = {"steps": steps, "case_url": case_url}
    assert str(steps_html(steps, case_url)) == expected.render(context)


def test_the_first_own_step_is_the_primary_button_whatever_follows():
    html = str(steps_html([STEPS[2], STEPS[3]], "/c/"))
    assert html.startswith('<a class="button" id="step-decide"')
    assert '<a class="button secondary" id="step-note"' in html


# The task list's per-cell rows as cases/_task_list.html printed them (until 1 Dec 2026).
PER_CELL_TASK_TEMPLATE = """{% load i18n labels %}  {% for row in rows %}{% with task=row.task %}
  <tr{% if row.long_overdue %} class="overdue-long"{% endif %}>
    <td>{% if row.overdue_days %}<strong class="flag overdue">{{ row.due_text }}</strong>{% else %}{{ row.due_text }}{% endif %} <small class="muted">{{ task.due_on|date:"SHORT_DATE_FORMAT" }}</small></td>
    <td>{{ task|label:"kind" }}</td>
    <td>{% if task.kind == "referral_answer" %}<a href="{% url "cases:inbox" %}">{{ task.case.reference }}</a>{% else %}<a href="{% url "cases:detail" task.case.public_id %}">{{ task.case.reference }}</a>{% endif %}</td>
    <td class="person">{{ row.person|default:"—" }}</td>
    <td><form method="post" action="{% url 'cases:task_done' task.pk %}" class="inline">{% csrf_token %}<button class="secondary" aria-label="{% blocktranslate with task=task|label:'kind' case=task.case.reference %}Done: {{ task }}, {{ case }}{% endblocktranslate %}">{% translate "Done" %}</button></form></td>
  </tr>
  {% endwith %}{% endfor %}"""  # noqa: E501


def task_row(pk, kind, due_on, *, reference="C-2026-0007", person="", overdue_days=0, text=""):
    case = Case(reference=reference, public_id=uuid.UUID(int=pk))
    task = Task(pk=pk, kind=kind, due_on=due_on, case=case)
    return TaskRow(
        task=task,
        person=person,
        overdue_days=overdue_days,
        due_text=text,
        long_overdue=overdue_days >= 30,
    )


TASK_ROWS = [
    task_row(1, TaskKind.FOLLOW_UP, date(2026, 12, 3), person="Vjollca Testi", text="in 2 days"),
    task_row(2, TaskKind.REFERRAL_ANSWER, date(2026, 11, 28), overdue_days=3, text="3 days"),
    task_row(3, TaskKind.IDENTIFICATION, date(2024, 1, 1), overdue_days=700, text="1 year"),
    task_row(
        4,
        TaskKind.GUARDIAN,
        date(2026, 12, 1),
        reference='C-<b>&"x"',
        person="<script>alert(1)</script> O'Brien",
        text="due <today> & now",
    ),
]


@pytest.mark.parametrize("language", ["en", "sq", "sr-latn"])
def test_task_rows_are_the_markup_the_per_cell_template_printed(language):
    token = 'tok&en"<1>'
    with override(language):
        for count in range(len(TASK_ROWS) + 1):
            rows = TASK_ROWS[:count]
            expected = (
                engines["django"]
                .from_string(PER_CELL_TASK_TEMPLATE)
                .render({"rows": rows, "csrf_token": token})
            )
            csrf = format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)
            assert "  " + str(task_rows_html(rows, csrf)) == expected
    html = str(task_rows_html(TASK_ROWS, csrf))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.count("<tr") == len(TASK_ROWS)
