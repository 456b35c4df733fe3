"""Blind indexes: per-field keys from the index root, truncated so values share index entries,
and exact search that still returns exactly the right records."""

import pytest
from django.test import override_settings

from streha.people.models import Person
from streha.people.selectors import search_filter
from streha.protection import crypto, keys, services
from streha.protection.search import exact
from streha.testing.factories import PersonFactory
from streha.testing.search import NAMES


@pytest.mark.django_db
@override_settings(STREHA_BLIND_INDEX_BITS=2)
def test_exact_search_filters_out_the_false_positives_of_a_short_index(key_file, named_persons):
    """With 2 bits, a quarter of all names share each index value: the search must still
    return exactly the person searched for, and nobody else."""
    persons = named_persons()
    name_index = Person._meta.get_field("name_index")
    number_index = Person._meta.get_field("personal_number_index")
    shared = 0
    for person, (given, family) in zip(persons, NAMES, strict=True):
        candidates = Person.objects.filter(
            name_index__in=name_index.lookups_of(f"{family} {given}")
        )
        shared += candidates.count() - 1
        assert list(search_filter(Person.objects.all(), f"{family} {given}")) == [person]
        assert list(search_filter(Person.objects.all(), person.personal_number)) == [person]
        assert list(exact(Person.objects.all(), "personal_number_index", "nobody")) == []
    assert shared >= len(NAMES)  # every name had company on average: the index alone is ambiguous
    assert {p.name_index for p in Person.objects.all()} <= {"t2:0", "t2:1", "t2:2", "t2:3"}
    assert number_index.digest_of("1000000000").startswith("t2:")


@pytest.mark.django_db
def test_each_field_has_its_own_key_derived_from_the_index_root(key_file):
    person = PersonFactory(personal_number="AB123456", passport_number="AB123456")
    number = Person._meta.get_field("personal_number_index")
    passport = Person._meta.get_field("passport_number_index")
    ring = keys.keyring()
    assert person.personal_number_index == crypto.truncated_index(
        crypto.field_index_key(ring.index_key, "person.personal_number"), "AB123456", 12
    )
    assert person.personal_number_index != person.passport_number_index
    assert number.digest_of("ab-123 456") == person.personal_number_index
    assert passport.digest_of("AB123456") == person.passport_number_index
    assert len(person.personal_number_index) == len("t12:") + 3  # 12 bits, never the full HMAC
    # The index root is not a master key: rotating the master key leaves every index as it is.
    services.add_master_key()
    services.rewrap_all()
    fresh = Person.objects.get(pk=person.pk)
    assert fresh.personal_number_index == person.personal_number_index
    assert list(search_filter(Person.objects.all(), "AB123456")) == [person]


@pytest.mark.django_db
def test_reindex_recomputes_indexes_after_the_bits_change(key_file):
    person = PersonFactory(given_name="Rina", family_name="Sylaj")
    with override_settings(STREHA_BLIND_INDEX_BITS=10):
        assert list(exact(Person.objects.all(), "name_index", "Rina Sylaj")) == []
        assert services.reindex_all() >= 1
        assert Person.objects.get(pk=person.pk).name_index.startswith("t10:")
        assert list(exact(Person.objects.all(), "name_index", "Rina Sylaj")) == [person]
