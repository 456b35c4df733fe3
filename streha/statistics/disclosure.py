"""Small-cell suppression for every table that leaves the system.

A count of one to ``k - 1`` persons can identify someone when read beside what a reader already
knows (a village, a month, a nationality), so such cells are hidden: *primary* suppression. Hiding
them is not enough when the row and column totals are published: a hidden cell alone in its row is
the total minus the others. *Secondary* suppression hides further cells until no hidden cell can be
computed from what is published. Zero is published as zero: it is a count, and hiding it would
make true zeros indistinguishable from small numbers without protecting anybody.

The rule used to decide "can be computed": the published cells and totals give linear equations
(each row's cells add up to its total, each column's to its total, the totals to the grand total);
a hidden cell is derivable exactly when its unit vector lies in the row space of those equations
restricted to the hidden cells. Because every hidden cell is at least one, a derivable-free table
also leaves each hidden cell at least two possible values once non-negativity is taken into account
(the test checks this independently, by enumeration).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

Cell = tuple[int, int]  # (row, column); row == n_rows is the totals row, column == n_cols totals


@dataclass
class Grid:
    """A two-way table with its margins, and which of its cells are hidden.

    ``cells[r][c]`` are the interior counts. ``column_totals_add_up`` is false for tables whose
    rows are not exclusive (a victim with two forms of exploitation is in two rows): their column
    totals are counts of persons, not sums, so they give no equation.
    """

    cells: list[list[int]]
    row_totals: list[int]
    column_totals: list[int]
    grand_total: int
    column_totals_add_up: bool = True
    hidden: set[Cell] = field(default_factory=set)
    # False when the columns are not exclusive either (a person in two columns): row totals
    # and the grand total are then counts given, not sums, and give no equation.
    row_totals_add_up: bool = True
    # False for a table published without totals (a funnel whose rows are different units):
    # no equation at all, and only the interior cells are shown.
    margins: bool = True

    @classmethod
    def from_cells(
        cls,
        cells: list[list[int]],
        *,
        column_totals: list[int] | None = None,
        row_totals: list[int] | None = None,
        grand_total: int | None = None,
        margins: bool = True,
        width: int | None = None,
    ) -> Grid:
        # ``width``: the number of columns, needed when there are no rows (nothing to count).
        n_cols = len(cells[0]) if cells else (width or 0)
        if not margins:  # nothing but the cells is published (they may be None: unknown)
            row_totals, column_totals, grand_total = [0] * len(cells), [0] * n_cols, 0
        rows_add_up = row_totals is None
        if row_totals is None:
            row_totals = [sum(row) for row in cells]
        add_up = column_totals is None
        if column_totals is None:
            column_totals = [sum(row[c] for row in cells) for c in range(n_cols)]
        if grand_total is None:
            grand_total = sum(row_totals) if add_up else sum(column_totals)
        return cls(
            [list(row) for row in cells],
            list(row_totals),
            list(column_totals),
            grand_total,
            column_totals_add_up=add_up,
            row_totals_add_up=rows_add_up,
            margins=margins,
        )

    @property
    def n_rows(self) -> int:
        return len(self.cells)

    @property
    def n_cols(self) -> int:
        return len(self.column_totals)

    def value(self, cell: Cell) -> int:
        r, c = cell
        if r == self.n_rows and c == self.n_cols:
            return self.grand_total
        if r == self.n_rows:
            return self.column_totals[c]
        if c == self.n_cols:
            return self.row_totals[r]
        return self.cells[r][c]

    def all_cells(self) -> list[Cell]:
        if not self.margins:
            return [(r, c) for r in range(self.n_rows) for c in range(self.n_cols)]
        return [(r, c) for r in range(self.n_rows + 1) for c in range(self.n_cols + 1)]

    def equations(self) -> list[list[tuple[Cell, int]]]:
        """Each published relation as a list of (cell, coefficient) summing to zero."""
        rows, cols = self.n_rows, self.n_cols
        if not self.margins:
            return []
        if not self.row_totals_add_up:
            # Row totals and grand total are given: only the columns may add up.
            if not self.column_totals_add_up:
                return []
            return [[*(((r, c), 1) for r in range(rows)), ((rows, c), -1)] for c in range(cols)]
        equations = [[*(((r, c), 1) for c in range(cols)), ((r, cols), -1)] for r in range(rows)]
        if sum(self.column_totals) == self.grand_total:  # the columns are exclusive
            equations.append([*(((rows, c), 1) for c in range(cols)), ((rows, cols), -1)])
        if self.column_totals_add_up:
            for c in range(cols):
                equations.append([*(((r, c), 1) for r in range(rows)), ((rows, c), -1)])
            equations.append([*(((r, cols), 1) for r in range(rows)), ((rows, cols), -1)])
        return equations


def derivable_cells(grid: Grid) -> set[Cell]:
    """Hidden cells whose value follows from the published cells and the table's equations."""
    hidden = sorted(grid.hidden)
    if not hidden:
        return set()
    position = {cell: i for i, cell in enumerate(hidden)}
    matrix = []
    for equation in grid.equations():
        row = [Fraction(0)] * len(hidden)
        touched = False
        for cell, coefficient in equation:
            if cell in position:
                row[position[cell]] += coefficient
                touched = True
        if touched:
            matrix.append(row)
    # In reduced row echelon form a vector of the row space is the sum of the basis rows
    # weighted by its own values at their pivots; for the unit vector of cell i that is the
    # one row whose pivot is i, alone. So cell i is derivable exactly when a row of the
    # basis has no non-zero entry but at i: one elimination for all cells, not one per cell.
    derivable = set()
    for row in _row_echelon(matrix):
        nonzero = [i for i, value in enumerate(row) if value != 0]
        if len(nonzero) == 1:
            derivable.add(hidden[nonzero[0]])
    return derivable


def _row_echelon(matrix: list[list[Fraction]]) -> list[list[Fraction]]:
    """The non-zero rows of ``matrix`` in reduced row echelon form (exact arithmetic)."""
    rows = [list(row) for row in matrix]
    if not rows:
        return []
    width = len(rows[0])
    pivot_row = 0
    for column in range(width):
        pivot = next((i for i in range(pivot_row, len(rows)) if rows[i][column] != 0), None)
        if pivot is None:
            continue
        rows[pivot_row], rows[pivot] = rows[pivot], rows[pivot_row]
        lead = rows[pivot_row][column]
        rows[pivot_row] = [value / lead for value in rows[pivot_row]]
        for i in range(len(rows)):
            if i != pivot_row and rows[i][column] != 0:
                factor = rows[i][column]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[pivot_row], strict=True)]
        pivot_row += 1
        if pivot_row == len(rows):
            break
    return rows[:pivot_row]


def suppress(grid: Grid, min_cell: int, forced=()) -> Grid:
    """Hide every count from 1 to ``min_cell - 1`` and the ``forced`` cells (those a filter
    could difference out: ``streha.statistics.filters``), then enough others that none can
    be derived.

    Complementary cells are chosen among the published non-zero cells sharing a row or column with
    a derivable cell, smallest first (the least information lost); failing that, the smallest
    published non-zero cell anywhere. Deterministic: ties are broken by position.
    """
    grid.hidden = {cell for cell in grid.all_cells() if 0 < grid.value(cell) < min_cell}
    grid.hidden |= set(forced)
    return protect(grid)


def protect(grid: Grid) -> Grid:
    """Secondary suppression: hide further cells of ``grid`` (beyond ``grid.hidden``) until no
    hidden cell can be derived. Used on its own for amounts (euros) that must stay hidden
    wherever the count of the same cell is, and must not be worked out from their totals."""
    while True:
        derivable = derivable_cells(grid)
        if not derivable:
            return grid
        target = min(derivable)
        candidates = [
            cell
            for cell in grid.all_cells()
            if cell not in grid.hidden
            and (grid.value(cell) or 0) > 0
            and (cell[0] == target[0] or cell[1] == target[1])
        ]
        if not candidates:
            candidates = [
                cell
                for cell in grid.all_cells()
                if cell not in grid.hidden and (grid.value(cell) or 0) > 0
            ]
        if not candidates:
            return grid  # everything non-zero is hidden already: nothing more can be derived
        grid.hidden.add(min(candidates, key=lambda cell: (grid.value(cell) or 0, cell)))
