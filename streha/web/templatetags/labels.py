from django import template

from streha.web.labels import choice_label

register = template.Library()


@register.filter
def label(obj, field_name: str) -> str:
    """``{{ case|label:"status" }}``: the choice's label, as ``get_status_display`` but cheap."""
    return choice_label(obj, field_name)
