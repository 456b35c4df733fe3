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
from streha.statistics.disclosure import protect, suppress
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
    # The smallest publishable count when the cells were suppressed (stored figures keep
    # theirs; None: the setting now).
    k: int | None = None
    # When the cells were counted, as the reader reads it ("Figures as of …"); files say it too.
    as_of: str = ""

    @property
    def code(self) -> str:
        return self.table.code

    @property
    def body(self) -> list[list[str | int]]:
        """The rows without the totals row (what a chart draws)."""
        return self.rows[:-1] if self.table.grid.margins else self.rows

    @property
    def chart_column(self) -> int:
        """Index of the cell a chart draws for each row: the row total, or the first column
        of a table without totals."""
        grid = self.table.grid
        return grid.n_cols + 1 if grid.margins else 1

    @property
    def rule(self) -> str:
        return str(SUPPRESSION_RULE) % {"limit": (self.k or min_cell()) - 1}


def publish(table: Table, *, exact: bool = False) -> PublishedTable:
    grid = table.grid
    exact = exact and not table.always_suppressed
    if exact:
        grid.hidden = set()
    else:
        suppress(grid, min_cell(), forced=table.forced_hidden)
    amounts = _amounts_hidden_with_their_counts(table, exact)

    def shown(cell):
        return CONFIDENTIAL if cell in grid.hidden else grid.value(cell)

    def amount_shown(cell):
        if cell in amounts.hidden:
            return CONFIDENTIAL
        value = amounts.value(cell)
        return "–" if value is None else value

    margins = grid.margins
    columns = range(grid.n_cols + 1) if margins else range(grid.n_cols)
    amount_columns = []
    if amounts is not None:
        amount_columns = range(amounts.n_cols + 1) if amounts.margins else range(amounts.n_cols)
    header = [first_heading(table.filter_label), *column_headings(table)]
    labels = row_labels(table)
    rows = []
    for r, label in enumerate(labels):
        row = [str(label), *(shown((r, c)) for c in columns)]
        if amounts is not None and (r < amounts.n_rows or amounts.margins):
            row += [amount_shown((r, c)) for c in amount_columns]
        elif amounts is not None:
            row += [""] * len(amount_columns)
        rows.append(row)
    hidden = len(grid.hidden) + (len(amounts.hidden) if amounts is not None else 0)
    return PublishedTable(table, header, rows, exact, hidden)


def first_heading(filter_label: str) -> str:
    """A filtered table says so in its header, so a file can never pass for the national one."""
    first = _("Category")
    return f"{first} ({filter_label})" if filter_label else first


def column_headings(table: Table) -> list[str]:
    """The headings after the first, in the active language."""
    headings = [str(label) for label in table.column_labels]
    if table.grid.margins:
        headings.append(_("Total"))
    headings += [str(label) for label in table.amount_labels]
    if table.amounts is not None and table.amounts.margins:
        headings.append(_("Euros in total"))
    return headings


def row_labels(table: Table) -> list:
    labels = list(table.row_labels)
    return [*labels, table.total_label] if table.grid.margins else labels


def _amounts_hidden_with_their_counts(table: Table, exact: bool):
    """Euros are hidden wherever the count of their cell is, then as many more as it takes
    that none can be worked out from the euro totals."""
    amounts = table.amounts
    if amounts is None:
        return None
    amounts.hidden = set()
    if exact:
        return amounts
    counts = table.grid
    for r, c in amounts.all_cells():
        count_row = counts.n_rows if r == amounts.n_rows else r
        count_column = counts.n_cols if c == amounts.n_cols else table.amount_of[c]
        if (count_row, count_column) in counts.hidden:
            amounts.hidden.add((r, c))
    return protect(amounts)


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
    if published.table.filter_label:
        sheet.append([published.table.filter_label])
    if published.as_of:
        sheet.append([published.as_of])
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
    header = list(published.header)
    if published.as_of:  # the first heading already names a filter the same way
        header[0] = f"{header[0]} ({published.as_of})"
    writer.writerow(header)
    for row in published.rows:
        writer.writerow(row)
    return out.getvalue()
