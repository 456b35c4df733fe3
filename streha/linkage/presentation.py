"""How pairs are shown: labels of the comparisons and what a weight means in words."""

from django.utils.translation import gettext_lazy as _

COMPARISON_LABELS = {
    "name": _("Name"),
    "birth": _("Date or year of birth"),
    "sex": _("Sex"),
    "citizenship": _("Citizenship"),
    "personal_number": _("Personal number"),
    "passport": _("Passport number"),
    "phone": _("Phone"),
}


def strength(weight: float) -> str:
    if weight >= 5:
        return str(_("agrees strongly"))
    if weight > 0.5:
        return str(_("agrees"))
    if weight >= -0.5:
        return str(_("missing or neutral"))
    return str(_("disagrees"))


def comparison_rows(pair) -> list[tuple[str, float, str]]:
    return [
        (str(COMPARISON_LABELS.get(name, name)), weight, strength(weight))
        for name, weight in pair.comparison.items()
    ]
