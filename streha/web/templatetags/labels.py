from django import template

from streha.web.labels import choice_label, enum_label

register = template.Library()


@register.filter
def label(obj, field_name: str) -> str:
    """``{{ case|label:"status" }}``: the choice's label, as ``get_status_display`` but cheap."""
    return choice_label(obj, field_name)


@register.filter
def group_labels(groups) -> str:
    """``{{ referral.field_groups|group_labels }}``: the shared field groups, in words."""
    from streha.access.models import FieldGroup

    return ", ".join(enum_label(FieldGroup, group) for group in groups or ())


@register.filter
def gender_label(value: str) -> str:
    """A person's gender (HTCDS code, as copied onto the case) in words."""
    from streha.people.models import Gender

    return enum_label(Gender, value) if value else ""


@register.filter
def purpose_label(purpose: str) -> str:
    """Why an audited read or write happened, in words: a case step's label, an audit action's,
    or the purpose's own translation (the fixed purposes are in the catalogues)."""
    from django.utils.translation import gettext

    from streha.audit.models import Action
    from streha.cases.presentation import EVENT_LABELS

    if not purpose:
        return ""
    if purpose in EVENT_LABELS:
        return str(EVENT_LABELS[purpose])
    if purpose in Action.values:
        return enum_label(Action, purpose)
    if "code:" in purpose:  # a consultation reason (streha.audit.reasons), in words
        import re

        from streha.audit.reasons import ReasonCode

        labels = dict(ReasonCode.choices)
        return re.sub(
            r"code:(\w+)", lambda found: str(labels.get(found[1], found[0])), gettext(purpose)
        )
    return gettext(purpose)
