"""Keeping the per-name blind index (``PersonNameKey``) equal to the persons' names.

Every write of a person's names goes through ``Person.save`` (protected fields refuse any other
write), so one ``post_save`` receiver keeps the entries of single saves; bulk registration
writes them in bulk (``write_for_new``); ``reindex_names`` rebuilds them for persons written
before the index existed, or after its key or its bits changed.

Each person carries a marker (``Person.name_keys_marker``): the configuration (key and bits)
under which their entries were written. Only the functions here set it, in the transaction
that writes the entries; every other write of a person leaves it NULL (a new row, a bulk
insert that did not come through here, raw SQL, a fixture) or clears it (``Person.save`` when
names change, ``PersonQuerySet.update`` of names). Search's whole-name fallback looks only at
holders whose marker is not the current configuration (``not_current``): an index probe that
reads nothing when every person is current, and finds whoever is not, however they were
written.
"""

from collections.abc import Callable, Iterable

from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_save
from django.dispatch import receiver

from streha.audit import read_context
from streha.people.models import Person, PersonNameKey

BULK_BATCH = 1000
# Persons read as a list from the index before the access scopes are applied to them: past
# this many, the intersection stays a subquery (still read from the index first).
HOLDERS_AS_LIST = 5000


def holders_of_all(digests: Iterable[str]):
    """The ids of the persons holding an entry for every one of ``digests`` (a search's
    ``search_digests``: pair entries), intersected in the index table itself (its (digest,
    person) index covers it): a list when there are at most ``HOLDERS_AS_LIST``, else the same
    intersection as a subquery.

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


def current_marker() -> str:
    """The marker of entries written now (``Person.NAME_TOKENS.configuration``)."""
    return Person.NAME_TOKENS.configuration()


def not_current(persons, marker: str | None = None):
    """``persons`` whose entries are not known to be current: no marker, or one of another
    key or bits."""
    marker = current_marker() if marker is None else marker
    return persons.filter(
        Q(name_keys_marker__isnull=True)
        | Q(name_keys_marker__lt=marker)
        | Q(name_keys_marker__gt=marker)
    )


def not_current_ids(persons, marker: str | None = None):
    """The ids of ``persons`` (narrowed by whole-name values) that are ``not_current``, as
    three parts each read by a seek of the (whole-name value, marker) index: marker NULL,
    below and above the current one. Neither database seeks an OR of them on the index's
    second column (they read every holder of the value); each part alone reads no entry when
    every holder is current."""
    marker = current_marker() if marker is None else marker
    persons = persons.order_by().values_list("pk", flat=True)
    return persons.filter(name_keys_marker__isnull=True).union(
        persons.filter(name_keys_marker__lt=marker),
        persons.filter(name_keys_marker__gt=marker),
        all=True,
    )


def _mark(person_ids: list[int], marker: str) -> None:
    for start in range(0, len(person_ids), BULK_BATCH):
        Person.objects.filter(pk__in=person_ids[start : start + BULK_BATCH]).update(
            name_keys_marker=marker
        )


def _entries(person: Person) -> list[PersonNameKey]:
    return [
        PersonNameKey(person_id=person.pk, digest=digest)
        for digest in sorted(Person.NAME_TOKENS.digests_of(person))
    ]


def insert_new(persons: list[Person], insert: Callable[[list[Person]], object]) -> int:
    """Insert new ``persons`` with ``insert`` (a bulk insert: ``bulk_create``,
    ``protection.bulk.insert``, a COPY) and write their entries, in one transaction: their
    rows go in already marked current, since their entries are written before it commits (and
    neither is, if either fails). Returns the number of entries."""
    marker = current_marker()
    with transaction.atomic():
        for person in persons:
            person.name_keys_marker = marker
        insert(persons)
        entries = [entry for person in persons for entry in _entries(person)]
        PersonNameKey.objects.bulk_create(entries, batch_size=BULK_BATCH)
    return len(entries)


def write_for_new(persons: Iterable[Person]) -> int:
    """Index entries of persons just inserted by the caller (``bulk_create`` sends no signal),
    and their markers, in one transaction (one insert, one update per thousand persons).
    ``insert_new`` saves the update by marking the rows as it inserts them."""
    persons = list(persons)
    marker = current_marker()
    entries = [entry for person in persons for entry in _entries(person)]
    with transaction.atomic():
        PersonNameKey.objects.bulk_create(entries, batch_size=BULK_BATCH)
        _mark([person.pk for person in persons], marker)
    for person in persons:
        person.name_keys_marker = marker
    return len(entries)


def rewrite(person: Person) -> None:
    """Make ``person``'s entries exactly those of their current names, and mark them current
    (in one transaction)."""
    wanted = {entry.digest for entry in _entries(person)}
    marker = current_marker()
    with transaction.atomic():
        held = set(
            PersonNameKey.objects.filter(person_id=person.pk).values_list("digest", flat=True)
        )
        if held - wanted:
            PersonNameKey.objects.filter(person_id=person.pk, digest__in=held - wanted).delete()
        PersonNameKey.objects.bulk_create(
            [PersonNameKey(person_id=person.pk, digest=d) for d in sorted(wanted - held)]
        )
        Person.objects.filter(pk=person.pk).update(name_keys_marker=marker)
    person.name_keys_marker = marker


@receiver(post_save, sender=Person, dispatch_uid="people.name_index")
def _names_saved(sender, instance: Person, created: bool, raw: bool = False, **kwargs) -> None:
    if raw:
        # Fixtures loading ciphertexts: ``reindex_names`` indexes them afterwards; until then
        # unmarked (whatever marker the fixture held), so search finds them by whole name.
        Person.objects.filter(pk=instance.pk).update(name_keys_marker=None)
        return
    if created or Person.NAME_TOKENS.source_changed(instance):
        rewrite(instance)


def reindex_names(
    batch_size: int = 500,
    *,
    only_missing: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, int]:
    """Rebuild every person's name entries, a batch of persons per transaction, inside one
    audited system read. Idempotent: entries already right are left alone; every person
    examined is marked current (``Person.name_keys_marker``) in the batch's transaction.
    ``only_missing`` looks only at persons whose entries are not known to be current (no
    marker, or one of another key or bits); nothing is read, nor audited, when there are none.
    Returns (persons examined, persons whose entries changed)."""
    examined = changed = 0
    marker = current_marker()
    names = [Person._meta.get_field(n).attname for n in Person.NAME_TOKENS.source]
    persons = Person._base_manager.exclude(data_key="")
    if only_missing:
        persons = not_current(persons, marker)
        if not persons.exists():
            return 0, 0
    with read_context.system("re-indexing person names for search"):
        last_pk = 0
        while True:
            with transaction.atomic():
                # Locked (PostgreSQL; SQLite has one writer): a change of names committed
                # between this read and the batch's marking would otherwise be marked current
                # with the entries of the names read here.
                batch = list(
                    persons.filter(pk__gt=last_pk)
                    .select_for_update()
                    .order_by("pk")
                    .only("pk", "data_key", "name_keys_marker", *names)[:batch_size]
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
                unmarked = [p.pk for p in batch if p.name_keys_marker != marker]
                if unmarked:
                    _mark(unmarked, marker)
                examined += len(batch)
                last_pk = ids[-1]
            if progress:
                progress(examined, changed)
    return examined, changed
