"""Code lists named in the interface languages: countries (ISO 3166-1) and languages (ISO 639).

The names come from Debian's iso-codes (each data file says which release), kept as data so
that an entry can be added or renamed without touching code, and nothing is looked up at run
time. ``countries`` adds Kosovo under its user-assigned code XK, which ISO 3166-1 does not list.
"""

import json
from functools import cache
from pathlib import Path

from django.utils.translation import get_language

DATA = Path(__file__).resolve().parent / "data"


class Catalogue:
    def __init__(self, file_name: str, key: str):
        self.path, self.key = DATA / file_name, key

    @property
    def _table(self) -> dict[str, dict[str, str]]:
        return _load(self.path, self.key)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in self._table

    def name(self, code: str, language: str | None = None) -> str:
        """The entry's name in ``language`` (default: the active one), English as fallback."""
        row = self._table.get(code)
        if row is None:
            return code
        language = (language or get_language() or "en").lower()
        return row.get(language) or row.get(language.split("-")[0]) or row["en"]

    def choices(self) -> tuple[tuple[str, str], ...]:
        """(code, name) pairs sorted by name in the active language, for form fields."""
        return _choices(self, (get_language() or "en").lower())


@cache
def _load(path: Path, key: str) -> dict[str, dict[str, str]]:
    return {row["code"]: row for row in json.loads(path.read_text("utf-8"))[key]}


@cache
def _choices(catalogue: Catalogue, language: str) -> tuple[tuple[str, str], ...]:
    names = ((code, catalogue.name(code, language)) for code in catalogue._table)
    return tuple(sorted(names, key=lambda pair: pair[1].casefold()))


countries = Catalogue("countries.json", "countries")
languages = Catalogue("languages.json", "languages")
