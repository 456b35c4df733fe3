"""Labels of choice fields, translated once per language.

``Model.get_FOO_display()`` rebuilds a dictionary of every choice on each call and hashes each
lazy label, which translates it: on a list page that cost more than all its queries. These
dictionaries are built once per model field and language instead.
"""

from functools import cache

from django.db import models
from django.utils.translation import get_language


@cache
def _labels(model: type[models.Model], field_name: str, language: str | None) -> dict:
    field = model._meta.get_field(field_name)
    return {value: str(label) for value, label in field.flatchoices}


def choice_label(obj: models.Model, field_name: str) -> str:
    """What ``obj.get_<field_name>_display()`` shows, in the active language."""
    value = getattr(obj, field_name)
    return _labels(type(obj), field_name, get_language()).get(value, value)


@cache
def _enum_labels(choices: type[models.Choices], language: str | None) -> dict:
    return {value: str(label) for value, label in choices.choices}


def enum_label(choices: type[models.Choices], value: str) -> str:
    """The label of ``value`` in a choices enumeration, in the active language."""
    return _enum_labels(choices, get_language()).get(value, value)
