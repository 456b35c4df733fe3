"""Countries by ISO 3166-1 alpha-2 code, named in the interface languages.

The names come from Debian's iso-codes (data/countries.json says which release), plus Kosovo
under its user-assigned code XK, which ISO 3166-1 does not list. Kept as data so that a country
can be added or renamed without touching code, and nothing is looked up at run time.
"""

import json
from functools import cache
from pathlib import Path

from django.utils.translation import get_language

DATA = Path(__file__).resolve().parent / "data" / "countries.json"


@cache
def _table() -> dict[str, dict[str, str]]:
    return {row["code"]: row for row in json.loads(DATA.read_text("utf-8"))["countries"]}


def is_country(code: str) -> bool:
    return code in _table()


def name(code: str, language: str | None = None) -> str:
    """The country's name in ``language`` (default: the active one), English as fallback."""
    row = _table().get(code)
    if row is None:
        return code
    language = (language or get_language() or "en").lower()
    return row.get(language) or row.get(language.split("-")[0]) or row["en"]


@cache
def _choices(language: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(((code, name(code, language)) for code in _table()), key=lambda c: c[1]))


def choices() -> tuple[tuple[str, str], ...]:
    """(code, name) pairs sorted by name in the active language, for form fields."""
    return _choices((get_language() or "en").lower())
