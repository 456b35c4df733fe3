"""Small-cell suppression: primary cells, zeros, and no hidden cell derivable from the margins."""

import itertools
import random

import pytest

from streha.statistics.disclosure import Grid, derivable_cells, suppress

K = 5


def test_counts_below_the_limit_are_hidden_and_zeros_are_shown():
    grid = suppress(Grid.from_cells([[0, 7, 9], [8, 6, 10]]), K)
    assert grid.hidden == set()
    grid = suppress(Grid.from_cells([[0, 3, 9], [8, 6, 10]]), K)
    assert (0, 1) in grid.hidden
    assert (0, 0) not in grid.hidden  # zero is a count, published as 0


def test_a_lone_hidden_cell_in_a_row_gets_a_complement():
    # Row 0 is 3, 9, 9 = 21: the 3 alone would be 21 - 9 - 9.
    grid = suppress(Grid.from_cells([[3, 9, 9], [8, 6, 10], [7, 7, 7]]), K)
    assert (0, 0) in grid.hidden
    assert len({cell for cell in grid.hidden if cell[0] == 0}) >= 2
    assert len({cell for cell in grid.hidden if cell[1] == 0}) >= 2
    assert derivable_cells(grid) == set()


def test_a_row_whose_only_other_cells_are_zero_hides_its_total():
    grid = suppress(Grid.from_cells([[3, 0, 0], [8, 6, 10], [7, 7, 7]]), K)
    assert {(0, 0), (0, 3)} <= grid.hidden
    assert derivable_cells(grid) == set()


def _alternatives(grid: Grid) -> set:
    """Hidden cells that can take another value: found by trying every shift of -1, 0 or +1 on
    the hidden cells that keeps every published equation and leaves no count negative. (For
    these tables every undetermined cell lies on such a shift, so this is an independent check.)"""
    hidden = sorted(grid.hidden)
    equations = grid.equations()
    movable = set()
    for shift in itertools.product((-1, 0, 1), repeat=len(hidden)):
        if not any(shift):
            continue
        delta = dict(zip(hidden, shift, strict=True))
        if any(grid.value(cell) + d < 0 for cell, d in delta.items()):
            continue
        if all(sum(c * delta.get(cell, 0) for cell, c in eq) == 0 for eq in equations):
            movable |= {cell for cell, d in delta.items() if d}
    return movable


@pytest.mark.parametrize("seed", range(80))
def test_random_tables_leave_no_hidden_cell_derivable(seed):
    rng = random.Random(seed)  # fixed seeds: the same 120 tables on every run
    shape = rng.choice([(2, 2), (2, 3), (3, 3), (3, 2), (2, 4)])
    cells = [
        [rng.choice([0, 0, 1, 2, 3, 4, 5, 6, 9, 14]) for _ in range(shape[1])]
        for _ in range(shape[0])
    ]
    grid = suppress(Grid.from_cells(cells), K)
    for cell in grid.all_cells():
        value = grid.value(cell)
        if cell in grid.hidden:
            assert value > 0, "zeros are published"
        else:
            assert value == 0 or value >= K, "no small count is published"
    assert derivable_cells(grid) == set()
    if len(grid.hidden) <= 9:  # 3^9 shifts at most: keeps the independent check quick
        assert _alternatives(grid) == grid.hidden


def test_rows_that_do_not_add_up_give_only_row_equations():
    # Forms of exploitation: a victim in two forms is in two rows; column totals are persons.
    grid = Grid.from_cells([[6, 3], [7, 8]], column_totals=[10, 9])
    assert grid.grand_total == 19
    suppress(grid, K)
    assert (0, 1) in grid.hidden
    assert derivable_cells(grid) == set()
    assert _alternatives(grid) == grid.hidden


def test_given_row_totals_leave_only_the_column_equations():
    # Assets of criminal cases: a case with cash and a car is in two columns, so row totals and
    # the grand total are counts of cases, not sums; the columns still add up.
    grid = Grid.from_cells([[6, 3], [7, 8]], row_totals=[8, 12], grand_total=17)
    assert grid.equations() == [
        [((0, 0), 1), ((1, 0), 1), ((2, 0), -1)],
        [((0, 1), 1), ((1, 1), 1), ((2, 1), -1)],
    ]
    suppress(grid, K)
    assert {(0, 1), (1, 1)} <= grid.hidden  # the 3 alone would be 11 − 8 from its column
    assert derivable_cells(grid) == set()
    assert _alternatives(grid) == grid.hidden


def test_totals_of_persons_in_several_columns_give_no_equation_for_the_grand_total():
    # Witnesses: one witness may be in two columns (two measures with different states).
    grid = Grid.from_cells([[6, 0], [0, 6]], column_totals=[6, 6], grand_total=6)
    assert all(((2, 2), -1) not in equation for equation in grid.equations())


def test_a_table_without_margins_publishes_only_its_cells_and_hides_only_small_ones():
    grid = suppress(Grid.from_cells([[3, 7], [0, 12]], margins=False), K)
    assert grid.all_cells() == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert grid.equations() == []
    assert grid.hidden == {(0, 0)}


def test_amounts_hidden_with_their_counts_get_complements_of_their_own():
    from streha.statistics.disclosure import protect

    # Euros by row: hiding only the first (its count was small) would leave it as total − rest.
    amounts = Grid.from_cells([[1200, 5000], [800, 9000]])
    amounts.hidden = {(0, 0)}
    protect(amounts)
    assert len(amounts.hidden) > 1
    assert derivable_cells(amounts) == set()
