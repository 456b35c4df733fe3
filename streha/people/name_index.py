"""Keeping the per-name blind index (``PersonNameKey``) equal to the persons' names.

Every write of a person's names goes through ``Person.save`` (protected fields refuse any other
write), so one ``post_save`` receiver keeps the entries of single saves; bulk registration
writes them in bulk (``write_for_new``); ``reindex_names`` rebuilds them for persons written
before the index existed, or after its key or its bits changed.
"""

from collections.abc import Callable, Iterable

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.db.models.signals import post_save
from django.dispatch import receiver

from streha.audit import read_context
from streha.people.models import Person, PersonNameKey

BULK_BATCH = 1000
# Persons read as a list from the index before the access scopes are applied to them: past
# this many, the intersection stays a subquery (still read from the index first).
HOLDERS_AS_LIST = 5000


def holders_of_all(digests: Iterable[str]):
    """The ids of the persons holding an entry for every one of ``digests``, intersected in
    the index table itself (its (digest, person) index covers it): a list when there are at
    most ``HOLDERS_AS_LIST``, else the same intersection as a subquery.

    An entry is shared by thousands of persons at national scale, so the access scopes (an OR
    over the persons table) must be applied to the few holders of *all* the names, never to
    the holders of one: that read each holder's row and cost the search its flatness."""
    holders = None
    for digest in sorted(set(digests)):
        entries = PersonNameKey.objects.filter(digest=digest)
        if holders is not None:
            entries = entries.filter(person_id__in=holders)
        holders = entries.values("person_id")
    if holders is None:
        return []
    ids = list(holders.order_by().values_list("person_id", flat=True)[: HOLDERS_AS_LIST + 1])
    return ids if len(ids) <= HOLDERS_AS_LIST else holders


def _entries(person: Person) -> list[PersonNameKey]:
    return [
        PersonNameKey(person_id=person.pk, digest=digest)
        for digest in sorted(Person.NAME_TOKENS.digests_of(person))
    ]


def write_for_new(persons: Iterable[Person]) -> int:
    """Index entries of persons just inserted (``bulk_create`` sends no signal): one insert."""
    entries = [entry for person in persons for entry in _entries(person)]
    PersonNameKey.objects.bulk_create(entries, batch_size=BULK_BATCH)
    return len(entries)


def rewrite(person: Person) -> None:
    """Make ``person``'s entries exactly those of their current names."""
    wanted = {entry.digest for entry in _entries(person)}
    held = set(PersonNameKey.objects.filter(person_id=person.pk).values_list("digest", flat=True))
    if held - wanted:
        PersonNameKey.objects.filter(person_id=person.pk, digest__in=held - wanted).delete()
    PersonNameKey.objects.bulk_create(
        [PersonNameKey(person_id=person.pk, digest=d) for d in sorted(wanted - held)]
    )


@receiver(post_save, sender=Person, dispatch_uid="people.name_index")
def _names_saved(sender, instance: Person, created: bool, raw: bool = False, **kwargs) -> None:
    if raw:
        return  # fixtures loading ciphertexts: ``reindex_names`` indexes them afterwards
    if created or Person.NAME_TOKENS.source_changed(instance):
        rewrite(instance)


def reindex_names(
    batch_size: int = 500,
    *,
    only_missing: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, int]:
    """Rebuild every person's name entries, a batch of persons per transaction, inside one
    audited system read. Idempotent: entries already right are left alone. ``only_missing``
    looks only at persons with no entry at all (written before the index existed); nothing
    is read, nor audited, when there are none.
    Returns (persons examined, persons whose entries changed)."""
    examined = changed = 0
    names = [Person._meta.get_field(n).attname for n in Person.NAME_TOKENS.source]
    persons = Person._base_manager.exclude(data_key="")
    if only_missing:
        # NOT EXISTS, not NOT IN: PostgreSQL cannot turn a NOT IN over a large subquery into
        # an anti-join, and the check ran for more than 20 minutes at 200,000 persons.
        persons = persons.filter(anonymised_at__isnull=True).exclude(
            Exists(PersonNameKey.objects.filter(person_id=OuterRef("pk")))
        )
        if not persons.exists():
            return 0, 0
    with read_context.system("re-indexing person names for search"):
        last_pk = 0
        while True:
            with transaction.atomic():
                batch = list(
                    persons.filter(pk__gt=last_pk)
                    .order_by("pk")
                    .only("pk", "data_key", *names)[:batch_size]
                )
                if not batch:
                    break
                ids = [person.pk for person in batch]
                held: dict[int, set[str]] = {pk: set() for pk in ids}
                for person_id, digest in PersonNameKey.objects.filter(
                    person_id__in=ids
                ).values_list("person_id", "digest"):
                    held[person_id].add(digest)
                stale, missing = [], []
                for person in batch:
                    wanted = Person.NAME_TOKENS.digests_of(person)
                    if wanted != held[person.pk]:
                        changed += 1
                        stale.append(person.pk)
                        missing += [PersonNameKey(person_id=person.pk, digest=d) for d in wanted]
                if stale:
                    PersonNameKey.objects.filter(person_id__in=stale).delete()
                    PersonNameKey.objects.bulk_create(missing, batch_size=BULK_BATCH)
                examined += len(batch)
                last_pk = ids[-1]
            if progress:
                progress(examined, changed)
    return examined, changed
