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


# Columns of table 1 (sex × age, then the total) that hold children: female, male, other.
_CHILD_COLUMNS = (1, 4, 7)


def key_figures_counted(user, year: int):
    """The year's headline counts for the analyst's home, and when they were counted (a
    ``stored.Figures``): read from table 1 as published. Counted live on a small scope, the
    national coordinator's office sees them exact (only ever inside the system, never stored)."""
    from streha.statistics import stored
    from streha.statistics.publication import CONFIDENTIAL

    found = stored.figures_for(user, "T01", year)
    if found.published is None:
        return [], found
    labels = [
        _("Registered victims"),
        _("Identified victims"),
        _("Presumed victims"),
        _("Children"),
    ]
    if found.live and policy.can_see_exact_statistics(user):
        grid = found.published.table.grid
        total_row = grid.n_rows
        values = [
            grid.value((total_row, grid.n_cols)),
            grid.value((0, grid.n_cols)),
            grid.value((1, grid.n_cols)),
            sum(grid.value((total_row, c - 1)) for c in _CHILD_COLUMNS),
        ]
        return list(zip(labels, values, strict=True)), found
    rows = found.published.rows
    children = [rows[-1][c] for c in _CHILD_COLUMNS]
    values = [
        rows[-1][-1],
        rows[0][-1],
        rows[1][-1],
        CONFIDENTIAL if CONFIDENTIAL in children else sum(children),
    ]
    return list(zip(labels, values, strict=True)), found


def my_work_panels(user) -> list:
    from streha.web.selectors import Panel

    if not policy.can_see_statistics(user):
        return []
    from streha.statistics.stored import as_of_text

    year = figures.default_year()
    counts, found = key_figures_counted(user, year)
    return [
        Panel(
            title=_("National statistics %(year)s") % {"year": year},
            figures=counts,
            note=as_of_text(found) if found.published is not None else _("Not counted yet."),
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
