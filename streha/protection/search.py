"""Exact search through blind indexes: candidates by index, true matches by decryption.

Blind indexes are deliberately short (``BlindIndexField.bits``), so one index value is shared by
several different values. ``exact`` fetches the candidates a query's index selects from the
queryset it is given (already scoped by the access policy), opens only the indexed fields of
each candidate inside this module and keeps the records whose value equals the query after
normalisation. Nothing of a non-matching candidate leaves this module.
"""

from django.db.models import QuerySet

from streha.protection.fields import BlindIndexField


def exact(records: QuerySet, index_name: str, text: str) -> QuerySet:
    """The records of ``records`` whose indexed value equals ``text`` (normalised), as a
    queryset (it composes with ``|``, ordering and pagination)."""
    field = records.model._meta.get_field(index_name)
    if not isinstance(field, BlindIndexField):
        raise TypeError(f"{index_name} is not a blind index.")
    lookups = field.lookups_of(text)
    if not lookups:
        return records.none()
    attnames = [records.model._meta.get_field(name).attname for name in field.source]
    selected = records.filter(**{f"{index_name}__in": lookups}).values("pk")
    candidates = records.model._base_manager.filter(pk__in=selected).only(
        "pk", "data_key", *attnames
    )
    matching = [record.pk for record in candidates.iterator() if field.matches(record, text)]
    return records.filter(pk__in=matching)
