"""One date format per language on every page (streha/web/formats/), the timeline included."""

import datetime
import re

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from streha.accounts.models import Role
from streha.cases import services
from streha.testing.factories import PersonFactory

MOMENT = datetime.datetime(2026, 11, 30, 15, 4, tzinfo=datetime.UTC)
EXPECTED = {
    "sq": ("30.11.2026", "30.11.2026 16:04"),
    "sr-latn": ("30.11.2026.", "30.11.2026. 16:04"),
    "en": ("30/11/2026", "30/11/2026 16:04"),
}
# Every way a template can show a date gives the language's one format.
TEMPLATE = Template(
    '{{ day }}|{{ day|date:"SHORT_DATE_FORMAT" }}|{{ day|date:"DATE_FORMAT" }}|'
    '{{ moment }}|{{ moment|date:"SHORT_DATETIME_FORMAT" }}|{{ moment|date:"DATETIME_FORMAT" }}'
)


@pytest.mark.parametrize("language", sorted(EXPECTED))
def test_one_date_and_one_date_time_format_per_language(language, settings):
    settings.TIME_ZONE = "Europe/Belgrade"
    with translation.override(language), timezone.override("Europe/Belgrade"):
        shown = TEMPLATE.render(Context({"day": MOMENT.date(), "moment": MOMENT})).split("|")
    day, moment = EXPECTED[language]
    assert shown == [day, day, day, moment, moment, moment]


@pytest.mark.parametrize("language", ["sq", "sr-latn"])
def test_date_inputs_keep_iso_values_for_the_browsers_date_picker(language):
    from django import forms

    field = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    with translation.override(language):
        html = field.widget.render("on", MOMENT.date())
        assert 'value="2026-11-30"' in html
        assert field.clean("2026-11-30") == MOMENT.date()
        assert field.clean(EXPECTED[language][0]) == MOMENT.date()


@pytest.mark.django_db
def test_case_page_timeline_uses_the_language_format(client, make_user, agency):
    worker = make_user(Role.CASE_WORKER, agency=agency)
    person = PersonFactory(owner_agency=agency)
    first = datetime.date(2026, 1, 10)
    case = services.open_case(worker, person, source="ngo", first_contact_on=first)
    client.force_login(worker)
    for language, pattern in (
        ("sq", r"\d\d\.\d\d\.\d{4} \d\d:\d\d —"),
        ("sr-latn", r"\d\d\.\d\d\.\d{4}\. \d\d:\d\d —"),
    ):
        client.cookies["django_language"] = language
        body = client.get(f"/cases/{case.public_id}/").content.decode()
        timeline = body.split('id="timeline"', 1)[1].split("</ol>", 1)[0]
        assert re.search(pattern, timeline), timeline[:300]
        assert not re.search(r"\d{4}-\d\d-\d\d|[ap]\.m\.", timeline)
