"""What the per-name index holds for some persons, and what it should hold: shared by the tests
of the index, which compare the two rather than a fixed count of entries per person."""

from streha.people.models import Person, PersonNameKey


def entries(persons) -> set:
    """The (person, digest) entries stored for ``persons``."""
    return set(PersonNameKey.objects.filter(person__in=persons).values_list("person_id", "digest"))


def due(persons) -> set:
    """The (person, digest) entries the index defines for ``persons``: one per name, fewer when
    two of a person's names share a truncated digest (10 bits, keyed by this run's master key:
    a fixed count would fail about once in a thousand runs)."""
    return {(p.pk, digest) for p in persons for digest in Person.NAME_TOKENS.digests_of(p)}
