"""Navigation and "my work" entries for analysts; the figures themselves are in ``figures``."""

from django.urls import reverse
from django.utils.translation import gettext as _

from streha.access import policy
from streha.statistics import figures
from streha.statistics.definitions import DEFINITIONS


def criminal_cases_for_statistics(user):
    """Criminal cases an analyst may count: the justice app's statistics scope, which asks the
    access policy (``policy.can_see_justice_statistics``). Clear fields only."""
    from streha.justice.selectors import statistics_scope

    return statistics_scope(user)


def criminal_cases_for_national_report():
    """Every criminal case, for ``streha report national`` (the command audits itself)."""
    from streha.justice.models import CriminalCase

    return CriminalCase.objects.all()


def navigation_entries(user) -> list[tuple[str, str]]:
    if not policy.can_see_statistics(user):
        return []
    return [(_("Statistics"), reverse("statistics:index"))]


def key_figures(user, year: int) -> list[tuple[str, int | str]]:
    """The year's headline counts for the analyst's home: exact for who may see exact counts,
    else suppressed as any published figure."""
    from streha.statistics.publication import CONFIDENTIAL, min_cell

    victims = figures.registered_victims(policy.cases_for_statistics(user), year)
    counts = [
        (_("Registered victims"), sum(v.n for v in victims)),
        (_("Identified victims"), sum(v.n for v in victims if v.status == "identified")),
        (_("Presumed victims"), sum(v.n for v in victims if v.status == "presumed")),
        (_("Children"), sum(v.n for v in victims if v.age == "child")),
    ]
    if policy.can_see_exact_statistics(user):
        return counts
    return [(label, CONFIDENTIAL if 0 < n < min_cell() else n) for label, n in counts]


def my_work_panels(user) -> list:
    from streha.web.selectors import Panel

    if not policy.can_see_statistics(user):
        return []
    year = figures.default_year()
    return [
        Panel(
            title=_("National statistics %(year)s") % {"year": year},
            figures=key_figures(user, year),
            links=[
                (_("All tables"), reverse("statistics:index")),
                *(
                    (
                        f"{code}: {definition.title}",
                        reverse("statistics:table", args=[code]) + f"?year={year}",
                    )
                    for code, definition in DEFINITIONS.items()
                ),
                (
                    _("National report (PDF)"),
                    reverse("statistics:report") + f"?year={year}",
                ),
            ],
        )
    ]
