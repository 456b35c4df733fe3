"""Published figures counted by a job and stored, read by the pages, the API and downloads.

Why: at national scale a table page recounted hundreds of thousands of cases on every request.
The rule is now: **published figures are counted by a job and stored; pages read the stored
figures and always say when they were counted.**

- ``count_figures`` (the job ``statistics.count_figures``, and ``streha statistics count``)
  counts, for every statistics scope (the national coordinator's office: every record; each
  other agency with an analyst: its own records), every table of every year the pages offer,
  nationally and under every filter (each agency kind, region and municipality), and applies
  disclosure control exactly as a page does (``publication.publish``, with the differencing
  guard of ``filters.settle`` counted once per dimension). Only the published cells are kept:
  an exact count is never stored.
- The new figures replace the old in one transaction, so a counting stopped half-way leaves
  the previous figures in place, and counting again replaces them with equal ones.
- ``figures_for`` gives a page the stored table with the time it was counted, and whether the
  records feeding it changed since (``is_stale``: a look at the audit log, not a recount).
  A year or filter never counted is counted live when the reader's scope holds at most
  ``STREHA_STATS_LIVE_CASES`` victim cases (default 10,000), and said to be "counted just
  now"; above that the page says the figures have not been counted yet.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from streha.access import policy
from streha.errors import DomainError
from streha.statistics import figures, filters, selectors
from streha.statistics.definitions import DEFINITIONS
from streha.statistics.models import FigureSet, PublishedFigure
from streha.statistics.publication import (
    CONFIDENTIAL,
    PublishedTable,
    column_headings,
    first_heading,
    min_cell,
    publish,
    row_labels,
)


class FiguresNotCounted(DomainError):
    """A large scope's figures for a year or filter were never counted (the API's answer)."""

    status_code = 409
    code = "not_counted"


NATIONAL = "national"
# Tables per year for one scope (the tip tables too), in the order of their codes.
CODES = tuple(DEFINITIONS)
# Writes to these records change the tables (victims, persons, tips, criminal cases, links).
FEEDING = ("cases.", "people.", "tips.", "justice.", "linkage.")


def scope_of(user) -> str:
    """The stored figures a user reads: the national coordinator's analysts count every
    record (``policy.cases_for_statistics``), others their own agency's."""
    if policy.can_see_exact_statistics(user):
        return NATIONAL
    return f"agency-{user.agency_id}"


def may_count(user) -> bool:
    """Starting a count is national work (every scope is counted): the national coordinator's
    analysts only."""
    return policy.can_see_exact_statistics(user)


def live_limit() -> int:
    return int(getattr(settings, "STREHA_STATS_LIVE_CASES", 10_000))


def offered_years() -> list[int]:
    """The years the pages offer (this year and the nine before), newest first."""
    this = figures.default_year()
    return list(range(this, this - 10, -1))


@dataclass
class Sources:
    """What one scope counts from: the access policy's statistics querysets."""

    cases: object
    tips: object
    criminal_cases: object


def sources_of(user) -> Sources:
    return Sources(
        policy.cases_for_statistics(user),
        policy.tips_for_statistics(user),
        selectors.criminal_cases_for_statistics(user),
    )


def scopes_to_count() -> list[tuple[str, Sources]]:
    """The national scope, and each agency's whose analysts would otherwise recount (any of its
    analysts stands for all: the policy gives every analyst of an agency the same scope)."""
    from streha.accounts.models import Role, User

    found = [
        (
            NATIONAL,
            Sources(
                policy.cases_for_national_report(),
                policy.tips_for_national_report(),
                selectors.criminal_cases_for_national_report(),
            ),
        )
    ]
    seen = {NATIONAL}
    analysts = User.objects.filter(
        is_active=True,
        agency__isnull=False,
        role_grants__role=Role.ANALYST,
        role_grants__approved_at__isnull=False,
    ).order_by("agency_id", "pk")
    for user in analysts.select_related("agency"):
        scope = scope_of(user)
        if scope not in seen and policy.can_see_statistics(user):
            seen.add(scope)
            found.append((scope, sources_of(user)))
    return found


# --- Counting ------------------------------------------------------------------------------


def _labels(table) -> dict:
    """What a table's labels read in the active language (cells are the same in every one)."""
    return {
        "header": column_headings(table),
        "rows": [str(label) for label in row_labels(table)],
        "notes": [str(note) for note in table.notes],
    }


def _payload(make: Callable) -> dict | None:
    """Build the table once per language (labels of data rows such as countries are made
    when the table is), suppress it once, and keep the published cells only."""
    languages = [code for code, _name in settings.LANGUAGES]
    with translation.override(languages[0]):
        table = make()
        if table is None:
            return None
        published = publish(table)
        labels = {languages[0]: _labels(table)}
    for language in languages[1:]:
        with translation.override(language):
            labels[language] = _labels(make())
    return {
        "cells": [row[1:] for row in published.rows],
        "labels": labels,
        "margins": bool(table.grid.margins),
        "n_cols": table.grid.n_cols,
        "series_break": bool(table.series_break),
        "row_keys": [str(key) for key in table.row_keys],
        # A rate gives away the count it comes from: kept only when the count is published
        # (0.0 stands in for a withheld one, which ``rate_shown`` never shows).
        "rate": None
        if table.rate is None
        else (0.0 if published.rows[0][1] == CONFIDENTIAL else table.rate),
        "suppressed": published.suppressed,
    }


def _with_forced(build, year, rows, forced_keys):
    def make():
        table = build(year, rows)
        positions = filters._positions(table)
        table.forced_hidden = {positions[key] for key in forced_keys if key in positions}
        return table

    return make


def count_scope(
    sources: Sources,
    years: list[int],
    tick: Callable | None = None,
    heartbeat: Callable | None = None,
) -> list:
    """Every published table of ``years`` for one scope, as unsaved ``PublishedFigure`` rows.

    Counted in the first language: the differencing guard finds cells by their row labels,
    so the guard and the suppression it feeds must read the same language."""
    with translation.override(settings.LANGUAGES[0][0]):
        return _count_scope(sources, years, tick, heartbeat)


def _count_scope(sources: Sources, years: list[int], tick, heartbeat) -> list:
    k = min_cell()
    offered = filters.choices("T01") | filters.choices("TIP1")
    found: list[PublishedFigure] = []

    def add(year, code, dimension, value, make) -> None:
        payload = _payload(make)
        if payload is not None:
            found.append(
                PublishedFigure(
                    year=year, code=code, dimension=dimension, value=value, payload=payload
                )
            )

    for year in years:
        rows: dict[str, list] = {}
        for code in CODES:
            if heartbeat is not None:  # a year takes a minute at national scale
                heartbeat()
            if code not in figures.ROW_TABLES:
                from streha.statistics.justice import justice_table

                add(
                    year,
                    code,
                    "",
                    "",
                    lambda code=code, year=year: justice_table(
                        sources.cases, sources.criminal_cases, code, year
                    ),
                )
                continue
            kind, build = figures.ROW_TABLES[code]
            if kind not in rows:
                rows[kind] = figures.read_rows(kind, sources.cases, sources.tips, year)
            these = rows[kind]
            add(year, code, "", "", lambda build=build, year=year, these=these: build(year, these))
            for dimension in filters.DIMENSIONS:
                if not filters.applies(dimension, code):
                    continue
                # The guard against differencing, counted once for every sibling.
                forced = filters.settle(year, these, build, dimension, k)
                members: dict[str, list] = defaultdict(list)
                for row in these:
                    members[getattr(row, dimension)].append(row)
                for value, _label in offered.get(dimension, []):
                    add(
                        year,
                        code,
                        dimension,
                        value,
                        _with_forced(build, year, members.get(value, []), forced.get(value, ())),
                    )
        if tick is not None:
            tick()
    return found


def audit_position() -> int:
    from streha.audit.models import AuditEvent

    return AuditEvent.objects.aggregate(last=Max("seq"))["last"] or 0


def count_figures(
    years: list[int] | None = None,
    *,
    job=None,
    tick: Callable | None = None,
    heartbeat: Callable | None = None,
) -> dict:
    """Count and store the published figures of every scope; the new sets replace the old in
    one transaction (nothing is replaced if counting stops before)."""
    years = sorted(set(years or offered_years()), reverse=True)
    began, seq = timezone.now(), audit_position()
    scopes = scopes_to_count()
    counted: list[tuple[str, list]] = []
    for scope, sources in scopes:
        counted.append((scope, count_scope(sources, years, tick=tick, heartbeat=heartbeat)))
    store(counted, years=years, counted_at=began, audit_seq=seq, job=job)
    return {
        "scopes": len(counted),
        "years": years,
        "tables": sum(len(tables) for _scope, tables in counted),
    }


def store(counted, *, years, counted_at: datetime, audit_seq: int, job=None) -> None:
    """Swap the new figure sets in, all in one transaction."""
    with transaction.atomic():
        FigureSet.objects.filter(scope__in=[scope for scope, _tables in counted]).delete()
        for scope, tables in counted:
            figure_set = FigureSet.objects.create(
                scope=scope,
                counted_at=counted_at,
                audit_seq=audit_seq,
                job=job,
                years=list(years),
                min_cell=min_cell(),
            )
            for table in tables:
                table.figure_set = figure_set
            PublishedFigure.objects.bulk_create(tables, batch_size=500)


# --- Reading -------------------------------------------------------------------------------


def is_stale(figure_set: FigureSet) -> bool:
    """Whether records feeding the tables were written since counting began: one look along
    the audit log's (action, position) index, never a recount."""
    from streha.audit.models import Action, AuditEvent

    feeding = Q()
    for prefix in FEEDING:
        feeding |= Q(object_type__startswith=prefix)
    writes = [Action.CREATE, Action.UPDATE, Action.DELETE, Action.ANONYMISE, Action.REVIEW]
    return (
        AuditEvent.objects.filter(seq__gt=figure_set.audit_seq, action__in=writes)
        .filter(feeding)
        .exists()
    )


@dataclass
class StoredTable:
    """What the templates, downloads and SDMX files read of a table, restored from storage."""

    definition: object
    year: int
    notes: list[str]
    series_break: bool
    row_keys: list[str]
    rate: float | None
    grid: SimpleNamespace
    filter_label: str = ""

    @property
    def code(self) -> str:
        return self.definition.code


def restore(payload: dict, code: str, year: int, k: int, filter_label: str = "") -> PublishedTable:
    """A stored table as a ``PublishedTable``, labels in the active language."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    labels = payload["labels"].get(language) or payload["labels"][settings.LANGUAGE_CODE]
    table = StoredTable(
        definition=DEFINITIONS[code],
        year=year,
        notes=labels["notes"],
        series_break=payload["series_break"],
        row_keys=payload["row_keys"],
        rate=payload["rate"],
        grid=SimpleNamespace(margins=payload["margins"], n_cols=payload["n_cols"]),
        filter_label=filter_label,
    )
    header = [first_heading(filter_label), *labels["header"]]
    rows = [[label, *cells] for label, cells in zip(labels["rows"], payload["cells"], strict=True)]
    return PublishedTable(table, header, rows, False, payload["suppressed"], k=k)


@dataclass
class Figures:
    """A published table and when it was counted; ``live``: counted for this request."""

    published: PublishedTable | None
    counted_at: datetime | None = None
    live: bool = False
    stale: bool = False
    figure_set: FigureSet | None = field(default=None, repr=False)

    @property
    def counted(self) -> bool:
        return self.published is not None


def as_of_text(found: Figures) -> str:
    """ "Figures as of <date and time>", in the reader's language, format and time zone."""
    when = date_format(timezone.localtime(found.counted_at), "SHORT_DATETIME_FORMAT")
    if found.live:
        return _("Figures counted just now, %(when)s") % {"when": when}
    return _("Figures as of %(when)s") % {"when": when}


def current_set(user) -> FigureSet | None:
    return FigureSet.objects.filter(scope=scope_of(user)).first()


def figures_for(user, code: str, year: int, table_filter=None) -> Figures:
    """Table ``code`` of ``year`` as ``user`` may see it published: stored, or counted live
    on a small scope, or not counted (``published`` None) on a large one."""
    figure_set = current_set(user)
    dimension = table_filter.dimension if table_filter is not None else ""
    value = table_filter.value if table_filter is not None else ""
    if figure_set is not None:
        stored = (
            PublishedFigure.objects.filter(
                figure_set=figure_set, year=year, code=code, dimension=dimension, value=value
            )
            .values_list("payload", flat=True)
            .first()
        )
        if stored is not None:
            label = table_filter.label if table_filter is not None else ""
            return Figures(
                restore(stored, code, year, figure_set.min_cell, label),
                counted_at=figure_set.counted_at,
                stale=is_stale(figure_set),
                figure_set=figure_set,
            )
    sources = sources_of(user)
    # Only whether the scope is above the limit matters: count no further than one past it.
    limit = live_limit()
    if sources.cases[: limit + 1].count() > limit:
        return Figures(None, figure_set=figure_set)
    found = figures.table(
        sources.cases,
        code,
        year,
        tips=sources.tips,
        criminal_cases=sources.criminal_cases,
        table_filter=table_filter,
    )
    if found is None:
        return Figures(None, figure_set=figure_set)
    return Figures(publish(found), counted_at=timezone.now(), live=True, figure_set=figure_set)
