"""Filters of the national tables: by agency kind, region or municipality, one at a time.

A filter selects among the rows the tables are counted from (``figures.ROW_TABLES``: the
registered victims, the reflection periods, the tips), so a filtered table is counted by the
same code as the national one, and then published through the same suppression.

Where a filter applies:

- agency kind (the kind of agency that registered the victim case): the victim tables 1–5 and
  15;
- region and municipality (of first contact for victims, as the reporter gave it for tips):
  the victim tables 1–5 and 15 and the tip tables.

Where it does not, and why, is said on the page (``NOT_APPLICABLE``): criminal cases record no
place of the offence and pass through several agencies (police, prosecution, court), table 7
mixes victims and criminal cases, witnesses are never placed, and the population of table 16
is kept for the whole country only.

Disclosure control after filtering. What is guaranteed (tested in
``tests/test_filters.py``):

1. A filtered table is suppressed like any table: counts 1…k−1 hidden, then secondary
   suppression so that no hidden cell follows from the filtered table's own margins.
2. No cell can be worked out by differencing filtered tables against their parent at the same
   position: the national table minus one agency kind, region or municipality (the "total
   minus one municipality" attack), a region minus one of its municipalities, or the national
   table minus every municipality (which leaves the persons of unknown municipality). Every
   sibling's table is counted (every agency kind, region or municipality, and "unknown"), and
   suppressed (primary and secondary); wherever, at one cell position of one group of
   siblings that adds up to a published parent (all of them: the national table; the
   municipalities of one region: the region's table), only one non-zero sibling is hidden,
   the smallest other non-zero sibling of the group is hidden too, before its own secondary
   suppression, and all is suppressed again until nothing changes (``settle``). So the
   parent minus the published siblings is always 0 or a sum of at least two hidden cells.
   The result depends on the data only, not on which sibling is asked for first.

Not guaranteed: derivations that combine, in one system of equations, the margins inside
filtered tables with the equations across siblings (each is checked on its own), and filters
combined (only one filter at a time is accepted, so those tables are never published).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from streha.statistics.disclosure import Cell

AGENCY_KIND, REGION, MUNICIPALITY = "agency_kind", "region", "municipality"
DIMENSIONS = (AGENCY_KIND, REGION, MUNICIPALITY)
_VICTIM_CODES = frozenset({"T01", "T02", "T03", "T04", "T05", "T15"})
APPLIES = {
    AGENCY_KIND: _VICTIM_CODES,
    REGION: _VICTIM_CODES | {"TIP1", "TIP2"},
    MUNICIPALITY: _VICTIM_CODES | {"TIP1", "TIP2"},
}
_JUSTICE = gettext_lazy(
    "Criminal cases record no place of the offence and pass through several agencies (police, "
    "prosecution, court): neither an agency kind nor a municipality places them."
)
NOT_APPLICABLE = {
    **dict.fromkeys(("T06", "T08", "T09", "T10", "T11", "T12", "T13"), _JUSTICE),
    "T07": gettext_lazy(
        "The funnel follows victims into criminal cases, which no agency kind or place "
        "divides: it is published for the whole country only."
    ),
    "T14": gettext_lazy(
        "Protected witnesses are never placed or tied to an agency: the table is published "
        "for the whole country only."
    ),
    "T16": gettext_lazy(
        "The population is kept for the whole country only, so the rate cannot be divided."
    ),
}
TIPS_NO_AGENCY = gettext_lazy("Tips come from the public, not from an agency.")


@dataclass(frozen=True)
class TableFilter:
    dimension: str  # agency_kind | region | municipality
    value: str  # the agency kind, or the region's or municipality's code
    label: str  # as stated on the page and in files ("Municipality: Prizren")
    region: str = ""  # a municipality's region (its code)

    def matches(self, row) -> bool:
        return getattr(row, self.dimension) == self.value

    @property
    def query(self) -> str:
        return urlencode({self.dimension: self.value})


def applies(dimension: str, code: str) -> bool:
    return code in APPLIES[dimension]


def choices(code: str) -> dict[str, list[tuple[str, str]]]:
    """The values each applicable filter offers on the page of table ``code``."""
    from streha.accounts.models import AgencyKind
    from streha.places.models import Municipality, Region

    offered: dict[str, list[tuple[str, str]]] = {}
    if applies(AGENCY_KIND, code):
        offered[AGENCY_KIND] = [(value, str(label)) for value, label in AgencyKind.choices]
    if applies(REGION, code):
        regions = sorted(Region.objects.all(), key=lambda r: r.name)
        offered[REGION] = [(r.code, r.name) for r in regions]
    if applies(MUNICIPALITY, code):
        municipalities = sorted(Municipality.objects.all(), key=lambda m: m.name)
        offered[MUNICIPALITY] = [(m.code, m.name) for m in municipalities]
    return offered


def parse(params, code: str) -> TableFilter | None:
    """The filter asked for in ``params`` (a query string), checked: one at a time, a value
    from the list, and a filter that applies to the table. Raises ``ValidationError`` with a
    message for the reader."""
    from streha.accounts.models import AgencyKind
    from streha.places.models import Municipality, Region

    asked = {d: str(params.get(d, "")).strip() for d in DIMENSIONS if params.get(d)}
    if not asked:
        return None
    if len(asked) > 1:
        raise ValidationError(
            _("Choose one filter at a time: an agency kind, a region or a municipality.")
        )
    ((dimension, value),) = asked.items()
    if not applies(dimension, code):
        reason = NOT_APPLICABLE.get(code) or TIPS_NO_AGENCY
        raise ValidationError(
            _("This table cannot be filtered that way. %(reason)s") % {"reason": reason}
        )
    if dimension == AGENCY_KIND:
        if value not in AgencyKind.values:
            raise ValidationError(_("Choose a value from the list."))
        label = _("Agency kind: %(value)s") % {"value": AgencyKind(value).label}
        return TableFilter(dimension, value, label)
    if dimension == REGION:
        region = Region.objects.filter(code=value).first()
        if region is None:
            raise ValidationError(_("Choose a value from the list."))
        return TableFilter(dimension, value, _("Region: %(value)s") % {"value": region.name})
    municipality = Municipality.objects.select_related("region").filter(code=value).first()
    if municipality is None:
        raise ValidationError(_("Choose a value from the list."))
    label = _("Municipality: %(value)s") % {"value": municipality.name}
    return TableFilter(dimension, value, label, region=municipality.region.code)


def filtered(code: str, year: int, rows: list, build: Callable, table_filter: TableFilter):
    """Table ``code`` counted among the rows the filter selects, with the cells that
    differencing against sibling tables could reveal marked to be hidden (see above)."""
    from streha.statistics.publication import min_cell

    table = build(year, [row for row in rows if table_filter.matches(row)])
    table.forced_hidden = guarded_cells(year, rows, build, table_filter, table, min_cell())
    table.filter_label = table_filter.label
    return table


def _positions(table) -> dict[tuple[str, int], Cell]:
    """Each cell of ``table`` by a key that is the same in every sibling's table: the row's
    label (rows such as countries or municipalities differ between siblings) and the column."""
    grid = table.grid
    labels = [str(label) for label in table.row_labels]
    keys = {}
    for r, c in grid.all_cells():
        keys[(labels[r] if r < grid.n_rows else "\x00total", c)] = (r, c)
    return keys


def _values(table) -> dict[tuple[str, int], int]:
    return {key: table.grid.value(cell) or 0 for key, cell in _positions(table).items()}


def hidden_among_siblings(values: dict[str, int], k: int) -> set[str]:
    """At one cell position, the siblings (agency kinds, regions, municipalities) whose value
    is hidden by the first rule: every 1…k−1, and when that is only one sibling, also the
    smallest other non-zero one (ties by the sibling's code)."""
    hidden = {sibling for sibling, value in values.items() if 0 < value < k}
    return hidden | _complement(values, hidden)


def _complement(values: dict[str, int], hidden: set[str]) -> set[str]:
    """When one non-zero sibling alone is hidden at a position, the parent's total minus the
    published siblings is that sibling: hide the smallest other non-zero one with it."""
    if len([s for s in hidden if values.get(s, 0) > 0]) != 1:
        return set()
    others = sorted((v, s) for s, v in values.items() if v > 0 and s not in hidden)
    return {others[0][1]} if others else set()


def _groups(rows, dimension: str) -> tuple[dict[str, list], list[list[str]]]:
    """The siblings of ``dimension`` (each value, "" for unknown) with their rows, and the
    sets of siblings that add up to a published parent: every sibling (the national table),
    and for municipalities also those of each region (the region's table)."""
    members: dict[str, list] = defaultdict(list)
    region_of: dict[str, str] = {}
    for row in rows:
        value = getattr(row, dimension)
        members[value].append(row)
        region_of[value] = row.region
    groups = [sorted(members)]
    if dimension == MUNICIPALITY:
        by_region: dict[str, list[str]] = defaultdict(list)
        for value in sorted(members):
            by_region[region_of[value]].append(value)
        groups += [siblings for _region, siblings in sorted(by_region.items())]
    return members, groups


def settle(year, rows, build, dimension: str, k: int) -> dict[str, set]:
    """For every sibling of ``dimension``, the cell positions to hide before its own
    suppression, so that after every sibling's suppression (primary and secondary) no position
    of any group holds one non-zero hidden sibling alone. Computed the same way whichever
    sibling is asked for: the answer depends on the data only."""
    from streha.statistics.disclosure import suppress

    members, groups = _groups(rows, dimension)
    tables = {sibling: build(year, members[sibling]) for sibling in members}
    positions = {sibling: _positions(table) for sibling, table in tables.items()}
    values = {sibling: _values(table) for sibling, table in tables.items()}
    forced: dict[str, set] = {sibling: set() for sibling in tables}
    keys = sorted(set().union(*(v.keys() for v in values.values()))) if values else []
    for _round in range(100):
        hidden: dict[str, set] = {}
        for sibling, table in tables.items():
            where = positions[sibling]
            suppress(table.grid, k, forced=[where[key] for key in forced[sibling]])
            cell_key = {cell: key for key, cell in where.items()}
            hidden[sibling] = {cell_key[cell] for cell in table.grid.hidden}
        changed = False
        for group in groups:
            for key in keys:
                at = {sibling: values[sibling].get(key, 0) for sibling in group}
                lone = {sibling for sibling in group if key in hidden[sibling]}
                for sibling in _complement(at, lone):
                    if key in positions[sibling] and key not in forced[sibling]:
                        forced[sibling].add(key)
                        changed = True
        if not changed:
            return forced
    # Not settled (never seen): hide every non-zero cell of every sibling rather than guess.
    return {s: {key for key, v in values[s].items() if v} for s in tables}


def guarded_cells(year, rows, build, table_filter: TableFilter, table, k: int) -> set[Cell]:
    """Cells of the filtered ``table`` to hide before its own suppression (see ``settle``)."""
    forced = settle(year, rows, build, table_filter.dimension, k).get(table_filter.value, set())
    positions = _positions(table)
    return {positions[key] for key in forced if key in positions}
