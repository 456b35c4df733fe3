"""Demo persons get their name-search entries as they are inserted, exactly those a full
re-index would write, so ``streha demo`` needs no second pass decrypting every person."""

import pytest

from streha.demo import generator
from streha.people.models import Person, PersonNameKey
from streha.people.name_index import reindex_names

pytestmark = pytest.mark.django_db


def test_inserted_persons_carry_the_entries_a_reindex_would_write(settings):
    settings.DEMO_MODE = True
    agencies, staff = generator.ensure_agencies_and_staff()
    created, _total = generator.generate_persons(5, 30, agencies, staff)
    assert created == 30
    persons = Person.objects.filter(reference__startswith="D5-")
    assert not persons.exclude(pk__in=PersonNameKey.objects.values("person_id")).exists()
    before = sorted(PersonNameKey.objects.values_list("person_id", "digest"))
    assert reindex_names(only_missing=True) == (0, 0)
    examined, changed = reindex_names()
    assert (examined, changed) == (Person.objects.exclude(data_key="").count(), 0)
    assert sorted(PersonNameKey.objects.values_list("person_id", "digest")) == before
