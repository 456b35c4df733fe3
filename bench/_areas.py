"""Where a page's time goes, by area of code (issue 17's page goal): a profile, not a timing.

``pages.py --areas N`` runs each page under cProfile and adds up the time spent in each
function's own body (``tottime``) by the area of code it belongs to: the ORM (building
querysets, compiling them, making model instances), the database driver (which includes the
wait for the database's answer), templates, the protection of data (encryption, blind
indexes), the audit, the rest of Django and of Streha, and Python's builtins.

The point is one question the goal raises: how close to twice the audited shell could a page
come if the ORM cost nothing at all? ``without_orm_ms`` is the page's unprofiled median less
the ORM's share of its profile. That is an upper bound on what any rewrite of the ORM's work
could win: cProfile adds a fixed cost to every call, and the ORM makes many small calls, so its
share of a profile is larger than its share of the real time.
"""

import pstats

SITE = "site-packages/"

# (area, prefixes of the path after site-packages/ or of the project path), first match wins.
ORM = "ORM: querysets, compiling, model instances"
DRIVER = "database driver and the wait for the database"
RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (ORM, ("django/db/models/",)),
    (DRIVER, ("django/db/backends/", "psycopg/")),
    ("templates", ("django/template/", "django/templatetags/")),
    ("translation", ("django/utils/translation/",)),
    ("protection: encryption, blind indexes", ("streha/protection/", "cryptography/")),
    ("audit", ("streha/audit/",)),
    ("Streha, other", ("streha/",)),
    ("Django, other", ("django/",)),
)
BUILTINS = "Python builtins (called from every area)"
OTHER = "other libraries"


def area_of(filename: str, name: str = "") -> str:
    """The area of the function ``name`` at ``filename`` (as cProfile names them: a path, or
    ``~`` and ``<...>`` for builtins). SQLite runs a query inside a builtin method of its
    cursor: that time is the database's, not Python's."""
    if filename.startswith(("~", "<")):
        return DRIVER if "sqlite3." in name else BUILTINS
    if "sqlite3" in filename:
        return DRIVER
    if SITE in filename:
        path = filename.split(SITE, 1)[1]
    else:
        marker = filename.rfind("/streha/")
        if marker < 0:
            return OTHER
        path = filename[marker + 1 :]
    for area, prefixes in RULES:
        if path.startswith(prefixes):
            return area
    return OTHER


def areas_of(stats: pstats.Stats) -> dict[str, float]:
    """Each area's share (0 to 1) of the profiled time, largest first."""
    seconds: dict[str, float] = {}
    for (filename, _line, name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        area = area_of(filename, name)
        seconds[area] = seconds.get(area, 0.0) + tottime
    total = sum(seconds.values()) or 1.0
    return {
        area: round(spent / total, 4)
        for area, spent in sorted(seconds.items(), key=lambda item: -item[1])
    }


def without_orm(median_ms: float, shares: dict[str, float]) -> float:
    """The page's median if its ORM work took no time at all (see the module's doc)."""
    return round(median_ms * (1 - shares.get(ORM, 0.0)), 2)
