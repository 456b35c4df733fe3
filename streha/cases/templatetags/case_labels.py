from django import template

from streha.cases.models import Status
from streha.cases.presentation import EVENT_LABELS
from streha.web.labels import enum_label

register = template.Library()


@register.filter
def event_label(kind: str) -> str:
    """What a timeline event was, in words (the kind itself for one without a label)."""
    label = EVENT_LABELS.get(kind)
    return str(label) if label is not None else kind


@register.filter
def stage_label(status: str) -> str:
    return enum_label(Status, status) if status else ""
