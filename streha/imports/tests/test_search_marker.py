"""Imported persons are searchable at once, through their per-name entries: the importer
inserts them with ``name_index.insert_new`` (entries and markers in the batch's transaction),
so search needs no whole-name fallback for them (``people.name_keys_marker``)."""

import pytest

from streha.imports.tests.conftest import csv_bytes, row
from streha.imports.tests.test_import import run
from streha.jobs.models import JobState
from streha.people import name_index, selectors
from streha.people.models import Person, PersonNameKey

pytestmark = pytest.mark.django_db


def test_imported_persons_are_marked_current_and_found_without_the_fallback(
    importer, owner, fallback_opened
):
    job, report = run(importer, owner, csv_bytes([row("A1"), row("A2")]))
    assert job.state == JobState.SUCCEEDED and report.created == 2
    imported = Person.objects.filter(reference__in=["A1", "A2"])
    assert not name_index.not_current(imported).exists()
    assert PersonNameKey.objects.filter(person__in=imported).exists()
    fallback_opened.clear()  # what the import opened is not the search's
    person = imported.get(reference="A1")
    found = selectors.search_filter(
        Person.objects.all(), f"{person.given_name} {person.family_name}"
    )
    assert person in found
    assert fallback_opened == []
