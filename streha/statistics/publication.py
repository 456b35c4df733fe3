"""What a table looks like once it may leave the system: suppressed cells, in rows of text.

The HTML page, the API, the CSV and XLSX downloads and ``streha report national`` all take their
cells from ``published_rows``, so a file holds exactly what the page shows. ``exact=True`` is for
the national coordinator's own work inside the system; its use is audited by the callers.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from streha.statistics.definitions import SUPPRESSION_RULE
from streha.statistics.disclosure import suppress
from streha.statistics.figures import Table

CONFIDENTIAL = "c"


def min_cell() -> int:
    """Smallest count that may be published (``STREHA_STATS_MIN_CELL``; never below 2)."""
    return max(2, int(getattr(settings, "STREHA_STATS_MIN_CELL", 5)))


@dataclass
class PublishedTable:
    table: Table
    header: list[str]
    rows: list[list[str | int]]  # first item the row label, last the row total
    exact: bool
    suppressed: int  # how many cells are hidden

    @property
    def code(self) -> str:
        return self.table.code

    @property
    def rule(self) -> str:
        return str(SUPPRESSION_RULE) % {"limit": min_cell() - 1}


def publish(table: Table, *, exact: bool = False) -> PublishedTable:
    grid = table.grid
    if exact:
        grid.hidden = set()
    else:
        suppress(grid, min_cell())

    def shown(cell):
        return CONFIDENTIAL if cell in grid.hidden else grid.value(cell)

    header = [_("Category"), *(str(label) for label in table.column_labels), _("Total")]
    rows = [
        [str(label), *(shown((r, c)) for c in range(grid.n_cols + 1))]
        for r, label in enumerate(table.row_labels)
    ]
    rows.append(
        [str(table.total_label), *(shown((grid.n_rows, c)) for c in range(grid.n_cols + 1))]
    )
    return PublishedTable(table, header, rows, exact, len(grid.hidden))


def rate_shown(published: PublishedTable) -> str:
    """Table 16's rate, withheld when its count is (a rate reveals the count it comes from)."""
    if published.table.rate is None:
        return "–"
    if published.rows[0][1] == CONFIDENTIAL:
        return CONFIDENTIAL
    return f"{published.table.rate:.1f}"


def as_xlsx(published: PublishedTable) -> bytes:
    """The table as an XLSX workbook: the same cells as the CSV, the definition underneath."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(published.code)
    sheet.append([str(published.table.definition.title)])
    sheet.append(published.header)
    for row in published.rows:
        sheet.append(row)
    sheet.append([])
    sheet.append([str(published.table.definition.rule)])
    sheet.append([published.rule])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def as_csv(published: PublishedTable) -> str:
    """The table as CSV: a header line, then one line per row, cells as shown on the page."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(published.header)
    for row in published.rows:
        writer.writerow(row)
    return out.getvalue()
