"""The persons an audited object is about, so a person's trail shows reads through any object.

A case, a referral, a case note or a document is *about* a person: reading it shows that
person's protected data (the name on a case, the purpose of a referral). Each event therefore
carries the ids of the persons its objects concern (``details["subjects"]``, under the hash)
and one ``AuditSubject`` row per person, the index "who saw this person" queries.

The relation is found from the models themselves, not a list to maintain: a foreign key to
``people.Person`` names the subject directly; otherwise a foreign key to a model that has one
(a referral's case, a tip message's tip) names it through one query per relation.
"""

from collections import defaultdict
from collections.abc import Iterable
from functools import cache

from django.db import models

PERSON_LABEL = "people.person"


def _is_person(model) -> bool:
    return model._meta.label_lower == PERSON_LABEL


def _foreign_keys(model) -> list[models.ForeignKey]:
    return [
        field
        for field in model._meta.concrete_fields
        if isinstance(field, models.ForeignKey) and field.related_model is not model
    ]


@cache
def paths(model) -> tuple[tuple[str, str | None], ...]:
    """``(field name, inner attname)`` pairs leading from ``model`` to a person id.

    ``("person", None)``: the column itself is the person. ``("case", "person_id")``:
    the column names a case whose ``person_id`` is the person. Direct relations win; one step
    further is looked at only when there is none.
    """
    direct = tuple(
        (field.name, None) for field in _foreign_keys(model) if _is_person(field.related_model)
    )
    if direct:
        return direct
    found = []
    for field in _foreign_keys(model):
        for inner in _foreign_keys(field.related_model):
            if _is_person(inner.related_model):
                found.append((field.name, inner.attname))
    return tuple(found)


def subjects_of(objs: Iterable[models.Model]) -> list[list[int]]:
    """For each object, the sorted ids of the persons it is about (one query per relation)."""
    objs = list(objs)
    result: list[set[int]] = [set() for _ in objs]
    # (model, inner attname) -> {related pk -> [object indexes]}
    pending: dict[tuple, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for index, obj in enumerate(objs):
        model = obj.__class__  # not type(): a lazy request.user proxies its class
        if _is_person(model):
            if obj.pk is not None:
                result[index].add(obj.pk)
            continue
        for name, inner in paths(model):
            field = model._meta.get_field(name)
            value = getattr(obj, field.attname, None)
            if value is None:
                continue
            if inner is None:
                result[index].add(value)
            else:
                pending[(field.related_model, inner)][value].append(index)
    for (related, inner), by_pk in pending.items():
        rows = related._base_manager.filter(pk__in=list(by_pk)).values_list("pk", inner)
        for pk, person_id in rows:
            if person_id is not None:
                for index in by_pk[pk]:
                    result[index].add(person_id)
    return [sorted(subjects) for subjects in result]
